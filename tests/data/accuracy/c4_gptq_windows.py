#!/usr/bin/env python3
# c4_gptq_windows.py: GPTQ's c4 validation sampling in CPython, for check_accuracy.
#
# usage: c4_gptq_windows.py SHARD.json.gz SEQLEN N_WINDOWS
# The tokenizer is replaced by a stand-in (the number of whitespace-separated words),
# which check_accuracy uses too, so the test checks the sampling logic exactly:
# random.seed(0); per window draw documents with randint until one is longer than
# SEQLEN, then a start with randint(0, len - SEQLEN - 1). Prints "doc start" lines.
import gzip
import json
import random
import sys


def main():
    path, seqlen, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with gzip.open(path, "rt", encoding="utf-8") as f:
        docs = [json.loads(line)["text"] for line in f if line.strip()]
    random.seed(0)
    for _ in range(n):
        while True:
            i = random.randint(0, len(docs) - 1)
            ntok = len(docs[i].split())
            if ntok > seqlen:
                break
        j = random.randint(0, ntok - seqlen - 1)
        print(i, j)


if __name__ == "__main__":
    main()
