#!/usr/bin/env python3
"""Writes the held-out and training rows `rnnfast classify` uses, so that `predict`/`eval` can score exactly the
examples training held out.

classify shuffles the example indices with .NET's seeded System.Random (new Random(seed).Shuffle) and holds out the
first max(1, round(count x test_fraction)) (SequenceTrainingLoop.Split). This file re-implements that generator (the
subtractive generator .NET uses for a seeded Random) and the shuffle. A wrong port cannot go unnoticed: the demo
checks that `rnnfast eval` of the kept model on the written held-out file prints the same loss as classify's own
final evaluation.

usage: heldout_split.py DATA.tsv TEST_FRACTION SEED HELD_OUT.tsv TRAIN.tsv
DATA.tsv must hold one unquoted LABEL<TAB>TEXT row per line (as make_code_lines.py writes): rows are copied verbatim.
"""
import sys

INT_MAX = 2**31 - 1
MSEED = 161803398


class DotNetRandom:
    """new System.Random(seed): Knuth's subtractive generator as .NET implements it for an explicit seed."""

    def __init__(self, seed):
        sub = INT_MAX if seed == -2**31 else abs(seed)
        mj = MSEED - sub
        a = [0] * 56
        a[55] = mj
        mk = 1
        ii = 0
        for i in range(1, 55):
            ii += 21
            if ii >= 55:
                ii -= 55
            a[ii] = mk
            mk = mj - mk
            if mk < 0:
                mk += INT_MAX
            mj = a[ii]
        for _ in range(4):
            for i in range(1, 56):
                n = i + 30
                if n >= 55:
                    n -= 55
                a[i] -= a[1 + n]
                if a[i] < 0:
                    a[i] += INT_MAX
        self.a, self.inext, self.inextp = a, 0, 21

    def _internal_sample(self):
        i = self.inext + 1
        if i >= 56:
            i = 1
        p = self.inextp + 1
        if p >= 56:
            p = 1
        r = self.a[i] - self.a[p]
        if r == INT_MAX:
            r -= 1
        if r < 0:
            r += INT_MAX
        self.a[i] = r
        self.inext, self.inextp = i, p
        return r

    def next_range(self, lo, hi):
        """Random.Next(lo, hi) for hi - lo <= int.MaxValue."""
        return int(self._internal_sample() * (1.0 / INT_MAX) * (hi - lo)) + lo

    def shuffle(self, items):
        """Random.Shuffle: for i in 0..n-2, swap i with Next(i, n)."""
        n = len(items)
        for i in range(n - 1):
            j = self.next_range(i, n)
            if j != i:
                items[i], items[j] = items[j], items[i]


def split(count, test_fraction, seed):
    order = list(range(count))
    DotNetRandom(seed).shuffle(order)
    test = max(1, round(count * test_fraction))  # Math.Round: halves to even, as Python's round
    return order[:test], order[test:]


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    data, fraction, seed, held_path, train_path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
    with open(data, encoding="utf-8", newline="") as f:
        rows = [line for line in f.read().split("\n") if line.strip()]
    for k, row in enumerate(rows):
        if row.count("\t") != 1 or row.split("\t", 1)[1].startswith('"'):
            sys.exit(f"{data}: row {k + 1} is not one unquoted LABEL<TAB>TEXT")
    test, train = split(len(rows), fraction, seed)
    for path, ids in ((held_path, test), (train_path, train)):
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("".join(rows[i] + "\n" for i in ids))
    print(f"{len(rows)} rows: {len(test)} held out -> {held_path}, {len(train)} for training -> {train_path}")


if __name__ == "__main__":
    main()
