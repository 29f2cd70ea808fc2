#!/usr/bin/env python3
"""Labelled code lines from a Debian machine, for `rnnfast classify`: `python`, `c` and `perl` lines taken from
/usr/lib/python3.*/*.py, /usr/include/*.h and /usr/share/perl/5.*/**/*.pm.

A line is kept when, stripped, it is 25 to 100 characters long, holds no tab, does not start with a quote (an
unquoted LABEL<TAB>TEXT row), is not a comment-only line (#, //, /*, *) and is not Perl POD documentation; duplicates
are dropped. PER_CLASS lines are drawn per language with Python's random.Random(SEED) from the sorted candidates, and
the rows are written in a shuffled order (one unquoted row per line).

usage: make_code_lines.py OUT.tsv PER_CLASS SEED
"""
import glob
import random
import sys

SOURCES = {
    "python": sorted(glob.glob("/usr/lib/python3.*/*.py")),
    "c": sorted(glob.glob("/usr/include/*.h")),
    "perl": sorted(glob.glob("/usr/share/perl/5.*/**/*.pm", recursive=True)),
}


def lines_of(path):
    pod = False
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            if path.endswith(".pm"):
                if raw.startswith("=cut"):
                    pod = False
                    continue
                if raw[:1] == "=" and raw[1:2].isalpha():
                    pod = True
                if pod or raw.startswith("__END__"):
                    continue
            yield raw.strip()


def keep(line):
    return (25 <= len(line) <= 100 and "\t" not in line and "\ufffd" not in line and not line.startswith(('"', "#", "//", "/*", "*")))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out, per_class, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    rows = []
    for label, files in SOURCES.items():
        if not files:
            sys.exit(f"no {label} files found on this machine")
        candidates = sorted({line for path in files for line in lines_of(path) if keep(line)})
        if len(candidates) < per_class:
            sys.exit(f"{label}: only {len(candidates)} usable lines, asked for {per_class}")
        rows += [(label, line) for line in rng.sample(candidates, per_class)]
        print(f"{label}: {len(files)} files, {len(candidates)} usable lines, {per_class} drawn")
    rng.shuffle(rows)
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write("".join(f"{label}\t{line}\n" for label, line in rows))
    print(f"{len(rows)} rows -> {out}")


if __name__ == "__main__":
    main()
