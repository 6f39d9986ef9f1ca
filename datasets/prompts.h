/* prompts.h: the built-in English text that latency prompts are cut from. */
#ifndef EB_PROMPTS_H
#define EB_PROMPTS_H

/*
 * Plain prose written for edgebench (no external source), about 900 words. Latency
 * prompts are its first N tokens under the model's own tokenizer, the text repeated
 * (separated by a blank line) when N is longer. Static storage; never freed.
 */
const char *eb_prompt_corpus(void);

#endif
