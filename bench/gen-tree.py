#!/usr/bin/env python3
"""gen-tree.py DIR NFILES MB SEED: a source-like tree of NFILES files, MB megabytes in all,
about half of the bytes incompressible (random), half text that compresses well. Directories of
100 files; sizes skewed (many small files, a few large ones) like a real source tree."""
import os, random, sys

d, nfiles, mb, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
total = int(mb * 1024 * 1024)
# skewed sizes: lognormal weights, scaled to the total
w = [rng.lognormvariate(0, 1.5) for _ in range(nfiles)]
s = sum(w)
sizes = [max(1, int(x / s * total)) for x in w]
words = b"static int const char void return struct unsigned long size_t buffer layer digest\n".split(b" ")
text = b" ".join(rng.choice(words) for _ in range(200000))
for i, n in enumerate(sizes):
    sub = os.path.join(d, "d%03d" % (i // 100 // 100), "e%03d" % (i // 100 % 100))
    if i % 100 == 0:
        os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, "f%05d.%s" % (i, "bin" if i % 2 else "txt")), "wb") as f:
        if i % 2:
            f.write(os.urandom(n))
        else:
            off = rng.randrange(len(text) - 1)
            while n > 0:
                chunk = text[off:off + n]
                f.write(chunk)
                n -= len(chunk)
                off = 0
