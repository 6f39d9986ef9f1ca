/* wikitext.h: WikiText-2 raw as GPTQ and lm-eval read it: rows, pages, the detokenizer. */
#ifndef EB_WIKITEXT_H
#define EB_WIKITEXT_H

#include <stddef.h>

#include "eb_err.h"
#include "corpus.h"

/*
 * Text given to these functions is the file's bytes as eb_corpus_read returns them; each
 * applies Python's universal-newline translation first (as open(..., encoding="utf-8")
 * does), so "\r\n" files read like "\n" files. Returned strings are malloc'd,
 * NUL-terminated, and the caller frees them.
 */

/*
 * GPTQ's wikitext2 test text: "\n\n".join(rows), where rows are what the Hugging Face
 * `wikitext` loader yields for wikitext-2-raw-v1's test split: every line of the file
 * with its "\n", and "" for a line that is blank (not line.strip()).
 */
char *eb_wikitext_gptq_text(const char *raw, size_t len, size_t *out_len);

/*
 * lm-eval's `EleutherAI/wikitext_document_level` pages: the text split at "\n"; a line
 * whose line.replace("= = =", "===").replace("= =", "==").strip() starts with "= " and
 * ends with " =" (a top-level heading) starts a new page; pages are "\n".join(lines);
 * a finished page is kept only when not blank, the last one always. Line numbers of
 * the pages' first lines are recorded. wiki.test.raw gives 62 pages.
 */
void eb_wikitext_pages(const char *raw, size_t len, struct eb_docs *pages);

/*
 * lm-eval's wikitext_detokenizer(page), step for step (Python str.replace is one pass,
 * left to right, non-overlapping; the bracket and quote rules are the regexes
 * r"\(\s*([^\)]*?)\s*\)" -> "(\1)" and friends, \s being Python's Unicode whitespace):
 * "s '"->"s'", r"/' [0-9]/"->"/'[0-9]/" (lm-eval's literal replacement), " @-@ "->"-",
 * " @,@ "->",", " @.@ "->".", " : "->": ", " ; "->"; ", " . "->". ", " ! "->"! ",
 * " ? "->"? ", " , "->", ", the (), [], {}, "" and '' pairs stripped inside, "= = = ="->"====",
 * "= = ="->"===", "= ="->"==", " ° "->"°", " \n"->"\n", "\n "->"\n", " N "->" 1 ",
 * " 's"->"'s".
 */
char *eb_wikitext_detokenize(const char *page, size_t len, size_t *out_len);

/* len(re.split(r"\s+", s)): maximal runs of Python whitespace plus one. */
size_t eb_py_split_ws_count(const char *s, size_t len);

#endif
