#!/usr/bin/env python3
# wikitext_ref.py: the WikiText rules edgebench implements, in plain Python, for check_datasets.
#
# Written for edgebench from the documented behaviour of the Hugging Face `wikitext` loader
# (rows), GPTQ's "\n\n".join, lm-eval's `wikitext_document_level` page split, its
# wikitext_detokenizer and its word count. Prints what check_datasets rebuilds in C.
import re
import sys


def rows(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for row in f:
            out.append(row if row.strip() else "")
    return out


def pages(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    found, cur = [], []
    for line in lines:
        r = line.replace("= = =", "===").replace("= =", "==").strip()
        if r.startswith("= ") and r.strip().endswith(" ="):
            page = "\n".join(cur)
            if page.strip():
                found.append(page)
            cur = []
        cur.append(line)
    found.append("\n".join(cur))
    return found


def detok(s):
    s = s.replace("s '", "s'")
    s = re.sub(r"/' [0-9]/", r"/'[0-9]/", s)
    for a, b in ((" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" : ", ": "),
                 (" ; ", "; "), (" . ", ". "), (" ! ", "! "), (" ? ", "? "), (" , ", ", ")):
        s = s.replace(a, b)
    s = re.sub(r"\(\s*([^\)]*?)\s*\)", r"(\1)", s)
    s = re.sub(r"\[\s*([^\]]*?)\s*\]", r"[\1]", s)
    s = re.sub(r"{\s*([^}]*?)\s*}", r"{\1}", s)
    s = re.sub(r"\"\s*([^\"]*?)\s*\"", r'"\1"', s)
    s = re.sub(r"'\s*([^']*?)\s*'", r"'\1'", s)
    for a, b in (("= = = =", "===="), ("= = =", "==="), ("= =", "=="),
                 (" " + chr(176) + " ", chr(176)), (" \n", "\n"), ("\n ", "\n"),
                 (" N ", " 1 "), (" 's", "'s")):
        s = s.replace(a, b)
    return s


def main():
    path = sys.argv[1]
    out = sys.stdout
    ps = pages(path)
    out.write("pages %d\n" % len(ps))
    for i, p in enumerate(ps):
        d = detok(p)
        out.write("page %d words %d bytes %d\n" % (i, len(re.split(r"\s+", p)),
                                                    len(p.encode("utf-8"))))
        out.write(d + "\n<<<end>>>\n")
    g = "\n\n".join(rows(path))
    out.write("gptq %d\n" % len(g.encode("utf-8")))
    out.write(g + "\n<<<end>>>\n")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--detok":
        sys.stdout.write(detok(sys.argv[2]))
    else:
        main()
