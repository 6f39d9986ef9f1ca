#!/usr/bin/env python3
# gen.py: expectations for check_hellaswag, computed by CPython with lm-eval's functions.
# Run from this directory: python3 gen.py. Writes
#   preprocess_cases.jsonl  {"fn": "preprocess"|"capitalize"|"len", "in": s, "out": ...}
#                           {"fn": "query", "activity_label", "ctx_a", "ctx_b", "out"}
#   sample_expected.jsonl   per item of datasets/samples/hellaswag_sample.jsonl:
#                           {"line", "query", "cont": [4], "choice_len": [4], "label"}
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "..", "datasets", "samples", "hellaswag_sample.jsonl")


# lm_eval/tasks/hellaswag/utils.py (lm-evaluation-harness 0.4), the same steps:
def preprocess(text):
    text = text.strip()
    # NOTE: Brackets are artifacts of the WikiHow dataset portion of HellaSwag.
    text = text.replace(" [title]", ". ")
    text = re.sub("\\[.*?\\]", "", text)
    text = text.replace("  ", " ")
    return text


def process_doc(doc):
    ctx = doc["ctx_a"] + " " + doc["ctx_b"].capitalize()
    return {
        "query": preprocess(doc["activity_label"] + ": " + ctx),
        "choices": [preprocess(ending) for ending in doc["endings"]],
        "gold": int(doc["label"]),
    }


WS = [chr(c) for c in range(0x110000) if chr(c).isspace()]

PREPROCESS = [
    "",
    " ",
    "plain text",
    "  leading and trailing  ",
    "\t\n tabs and newlines \r\n",
    "".join(WS) + "every whitespace" + "".join(WS),
    "\u200bzero width space is not whitespace\u200b",
    "\ufeffbyte order mark is not whitespace\ufeff",
    "x\u00a0",
    "\u3000ideographic space\u3000",
    "How to do it [title] Step one.",
    "[title] at the very start",
    " [title] after a space that strip removes",
    "end [title]",
    "a [title][title] b",
    "a  [title] b",
    "[header] How to fly a kite [title] Pick a windy day. [step] Look at the trees.",
    "keep [no close",
    "[a] and [b] and [c]",
    "nested [a [b] c] d",
    "[[double]]",
    "]stray close[",
    "across [line\nbreak] stays",
    "across [line\rreturn] goes",
    "[one\n[two] three",
    "empty [] pair",
    "a  b",
    "a   b",
    "a    b",
    "a     b",
    "x [y] z",
    "x  [y]  z",
    "  [lead] text",
    "text [trail]  ",
    "tab\t\ttab",
    "caf\u00e9 [\u00e9t\u00e9] cr\u00e8me  br\u00fbl\u00e9e",
    "emoji \U0001f600  [\U0001f600] end",
    "[title]",
    " [title] ",
    "a [title]  [x]   b",
]

CAPITALIZE = [
    "", "a", "A", "hello World", "HELLO WORLD", "the MAN", "\"quoted\" TEXT", "1ST PLACE",
    " leading space", "\u00e9LODIE", "\u00c9LODIE \u00d6ZT\u00dcRK", "\u00dfTRASSE",
    "\u0149TEST", "\u00b5M", "\u00ffA\u0178", "I\u0130I", "\u0131X", "\u017fS",
    "x\U0001f600Y", "\u00e0\u00c0",
]
# every code point of the range the C side maps (U+0001..U+017F), first and later
for c in range(1, 0x180):
    ch = chr(c)
    CAPITALIZE.append(ch + ch + "Q" + ch)

LENGTHS = ["", "a", " abc", "caf\u00e9", "\u2014 dash", "\U0001f600", "\u0149x", "a\u0307"]

QUERIES = [
    ("Kayaking", "A man paddles a kayak.", "he"),
    ("Kayaking", "A man paddles a kayak.", ""),
    ("Kayaking", "", "THE MAN"),
    ("", "", ""),
    ("Home and Garden", "[header] How to X [title] Do Y. [step] Z.", ""),
    (" Label ", " ctx a ", " CTX B "),
    ("A", "b  ", " c"),
    ("Caf\u00e9", "cr\u00e8me", "\u00c9CLAIR"),
]


def main():
    with open(os.path.join(HERE, "preprocess_cases.jsonl"), "w", encoding="utf-8") as f:
        for s in PREPROCESS:
            f.write(json.dumps({"fn": "preprocess", "in": s, "out": preprocess(s)}) + "\n")
        for s in CAPITALIZE:
            f.write(json.dumps({"fn": "capitalize", "in": s, "out": s.capitalize()}) + "\n")
        for s in LENGTHS:
            f.write(json.dumps({"fn": "len", "in": s, "out": len(s)}) + "\n")
        for a, b, c in QUERIES:
            doc = {"activity_label": a, "ctx_a": b, "ctx_b": c, "endings": [], "label": 0}
            f.write(json.dumps({"fn": "query", "activity_label": a, "ctx_a": b, "ctx_b": c,
                                "out": process_doc(doc)["query"]}) + "\n")
    with open(SAMPLE, encoding="utf-8") as src, \
            open(os.path.join(HERE, "sample_expected.jsonl"), "w", encoding="utf-8") as f:
        for lineno, line in enumerate(src, 1):
            if not line.strip():
                continue
            d = process_doc(json.loads(line))
            f.write(json.dumps({
                "line": lineno,
                "query": d["query"],
                # lm-eval's request is (query, target_delimiter + choice), delimiter " "
                "cont": [" " + c for c in d["choices"]],
                # acc_norm divides by len(choice): doc_to_choice, no delimiter
                "choice_len": [len(c) for c in d["choices"]],
                "label": d["gold"],
            }) + "\n")


main()
