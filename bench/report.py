#!/usr/bin/env python3
"""report.py RUNDIR: the Markdown report of a bench/run.sh run (results.tsv, meta)."""
import statistics, sys
from collections import defaultdict

run = sys.argv[1]
TOOLS = ["strata", "strata-l1", "docker", "podman", "buildah", "skopeo", "runc", "runc-seccomp"]
NAMES = {
    "W1": "W1 cached rebuild, 12 instructions",
    "W2": "W2 cold build `COPY . /src`",
    "W3": "W3 cold build, RUN writing random + zeros",
    "W4": "W4 pull 4 layers into an empty store",
    "W5": "W5 push to an empty registry",
    "W6": "W6 `run --rm IMAGE /bin/true` (per run)",
    "W7": "W7 disk, two images sharing a base",
}
times, rss, notes, fails = defaultdict(list), defaultdict(list), {}, defaultdict(int)
for line in open(f"{run}/results.tsv"):
    w, tool, rnd, val, extra = (line.rstrip("\n").split("\t") + [""])[:5]
    if val == "FAIL":
        fails[w, tool] += 1
        notes[w, tool] = extra
    elif val == "SKIP":
        notes[w, tool] = "skipped: " + extra
    else:
        times[w, tool].append(float(val))
        if w == "W7":
            notes[w, tool] = extra
        elif extra and w in ("W2", "W3", "W4", "W5"):
            rss[w, tool].append(int(extra))

def fmt(w, v):
    if w == "W7":
        return f"{v / 1024:.0f} MiB"
    if w in ("W1", "W6") or v < 1:
        return f"{v * 1000:.0f} ms" if v >= 0.01 else f"{v * 1000:.1f} ms"
    return f"{v:.2f} s"

meta = open(f"{run}/meta").read().splitlines()
print("# strata benchmark report\n")
print("\n".join(f"- {m}" for m in meta))
print("\nMedians over rounds (W1: 5 rebuilds per round); a peer's cell also gives **strata/peer**"
      " (below 1: strata is faster / smaller); strata-l1 is strata with `--compression-level 1`"
      " (ISA-L), its cell gives strata-l1/fastest peer. FAIL k/n: k of n rounds failed.\n")
ws = [w for w in NAMES if any(k[0] == w for k in list(times) + list(notes))]
used = [t for t in TOOLS if any(k[1] == t for k in list(times) + list(notes) + list(fails))]
print("| workload | " + " | ".join(used) + " |")
print("| --- |" + " --- |" * len(used))
for w in ws:
    s = times.get((w, "strata"))
    sm = statistics.median(s) if s else None
    cells = []
    for t in used:
        v = times.get((w, t))
        if fails.get((w, t)):
            n = fails[w, t] + len(v or [])
            cells.append(f"FAIL {fails[w, t]}/{n}" + (f", ok: {fmt(w, statistics.median(v))}" if v else ""))
        elif v:
            m = statistics.median(v)
            c = fmt(w, m)
            peers = [statistics.median(times[w, p]) for p in used
                     if not p.startswith("strata") and times.get((w, p))]
            if t == "strata-l1" and peers:
                c += f" (**{m / min(peers):.2f}** of the fastest peer)"
            elif not t.startswith("strata") and sm is not None and m > 0:
                c += f" (**{sm / m:.2f}**)"
            cells.append(c)
        elif (w, t) in notes:
            cells.append("skipped")
        else:
            cells.append("–")
    print(f"| {NAMES[w]} | " + " | ".join(cells) + " |")
if rss:
    print("\nPeak RSS, MiB, median over rounds (docker: the dockerd daemon, which does the work;"
          " others: the command and its children, as /usr/bin/time -v reports it).\n")
    print("| workload | " + " | ".join(used) + " |")
    print("| --- |" + " --- |" * len(used))
    for w in ("W2", "W3", "W4", "W5"):
        if not any((w, t) in rss for t in used):
            continue
        cells = [f"{statistics.median(rss[w, t]) / 1024:.0f}" if (w, t) in rss else "–" for t in used]
        print(f"| {w} | " + " | ".join(cells) + " |")
extra = [(k, v) for k, v in notes.items() if v]
if extra:
    print("\nNotes:\n")
    for (w, t), v in sorted(extra):
        print(f"- {w} {t}: {v}")
