#!/usr/bin/env python3
# gen.py: prints CPython `random` sequences as a script check_pyrandom replays in C.
# Stored output: expected.txt (python3 gen.py > expected.txt); check_pyrandom_live
# re-runs this file and compares. One operation per line, all on one generator:
#   seed <int>             random.seed(int) (decimal, any size, may be negative)
#   u32 <v>                getrandbits(32)
#   skip <count> <v>       count x getrandbits(32); v is the last one
#   bits <k> <hex>         getrandbits(k), hex without 0x
#   randbelow <n> <v>      _randbelow_with_getrandbits(n)
#   randint <a> <b> <v>    randint(a, b)
#   random <repr>          random()
#   end <count>            number of lines before this one
import random
import sys

out = []
rng = random.Random()


def emit(*fields):
    out.append(" ".join(str(f) for f in fields))


def seed(a):
    rng.seed(a)
    emit("seed", a)


def u32(n=1):
    for _ in range(n):
        emit("u32", rng.getrandbits(32))


def bits(k):
    emit("bits", k, format(rng.getrandbits(k), "x"))


def randbelow(n):
    emit("randbelow", n, rng._randbelow_with_getrandbits(n))


def randint(a, b, n=1):
    for _ in range(n):
        emit("randint", a, b, rng.randint(a, b))


def rand(n=1):
    for _ in range(n):
        emit("random", repr(rng.random()))


def skip(count):
    v = None
    for _ in range(count):
        v = rng.getrandbits(32)
    emit("skip", count, v)


# --- seed 0: what c4-gptq uses ---------------------------------------------
seed(0)
u32(20)
for k in (64, 64, 64, 100, 100, 100, 1, 2, 31, 33, 63, 65, 96, 127, 128, 200, 0):
    bits(k)
randint(0, 10, 5)
randint(1, 6, 3)
randint(-5, 5, 3)
randint(7, 7)
randint(0, 2**40, 5)
randint(0, 2**62, 5)
randint(0, 2**63 - 1, 3)
randint(2**62, 2**63 - 1, 2)
randint(-2**63, 2**63 - 1, 3)
randint(-2**63, -2**63 + 2, 3)
randint(-2**62, 2**62, 3)
for n in (1, 2, 3, 5, 2**31, 2**32, 2**32 + 1, 2**33 - 1, 2**63, 2**64 - 1, 10**18):
    randbelow(n)
rand(10)
randint(0, 45575, 20)  # document index draws, as over the c4 validation shard
skip(1000)             # several twists
bits(100)
rand(3)

# --- seed 12345 --------------------------------------------------------------
seed(12345)
u32(5)
bits(64)
bits(100)
randint(0, 2**40, 3)
randint(0, 2**62, 3)
rand(3)

# --- other seeds: negative (|a| is used), multi-word, large -------------------
seed(-12345)
u32(3)
seed(1)
u32(3)
seed(2**32 - 1)
u32(2)
seed(2**32)
u32(2)
seed(2**63)
u32(2)
seed(2**64 - 1)
u32(2)
seed(2**64)
u32(2)
seed(2**100 + 12345)
u32(5)
bits(100)
randint(0, 2**62, 2)
rand(2)
seed(31415926535897932384626433832795028841971693993751)
u32(3)
rand(1)

for line in out:
    print(line)
print("end", len(out))
sys.stdout.flush()
