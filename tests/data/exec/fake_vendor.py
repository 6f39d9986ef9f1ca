#!/usr/bin/env python3
# fake_vendor.py: a vendor CLI printing N tokens 10 ms apart. Arguments: N MODE, MODE one of
# "block" (a token per line into an 8 KiB block buffer never flushed: all of it is written
# at exit, as C stdio and Python do on a pipe by default), "lines" (a token per line,
# flushed) or "nonl" (tokens separated by spaces, flushed, no newline ever).
import io
import os
import sys
import time

n = int(sys.argv[1])
mode = sys.argv[2]
out = sys.stdout
if mode == "block":
    out = io.TextIOWrapper(io.BufferedWriter(io.FileIO(os.dup(1), "w"), 8192))
for k in range(n):
    time.sleep(0.01)
    if mode == "nonl":
        out.write("tok%d " % k)
    else:
        out.write("tok%d\n" % k)
    if mode != "block":
        out.flush()
out.flush()
