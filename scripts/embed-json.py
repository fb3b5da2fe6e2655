#!/usr/bin/env python3
"""Turn a JSON data file into a C source defining `const char NAME[]` (its compact text,
NUL-terminated), so that the binary needs no data file at run time. Fails on invalid JSON."""
import json
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: embed-json.py INPUT.json OUTPUT.c SYMBOL")
    src, out, sym = sys.argv[1:]
    with open(src, encoding="utf-8") as f:
        data = json.load(f)
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode() + b"\0"
    lines = [f"/* Generated from {src.split('/')[-1]} by scripts/embed-json.py; do not edit. */",
             f"extern const char {sym}[];", f"const char {sym}[] = {{"]
    for i in range(0, len(text), 16):
        lines.append("        " + ", ".join(f"0x{b:02x}" for b in text[i:i + 16]) + ",")
    lines.append("};")
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
