#!/usr/bin/env python3
"""Joins `rnnfast bench --format json` (cpu, onednn, cuda, ...) with torch_cudnn_bench.py's JSON on the same problem
list and prints a markdown table: per problem the ms of every rnnfast backend, PyTorch's ms (host clock with a
synchronize per call, as rnnfast bench measures a GPU backend; and CUDA-event GPU time), and cuda's speed relative to
PyTorch (torch ms / cuda ms: above 1 is faster than PyTorch). 'within 10%' means cuda takes at most 1.10x PyTorch's
time. A summary line gives the geometric mean and the count within 10%.

usage: compare_cuda_torch.py BENCH.json TORCH.json
"""
import json
import math
import sys


def key(r):
    return (r["cell"], r["dir"], r["L"], r["T"], r["N"], r["I"], r["H"], r["phase"])


def fmt(v):
    if v is None:
        return "-"
    return f"{v:.3g}" if v < 100 else f"{v:.0f}"


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    bench = json.load(open(sys.argv[1]))
    torch = json.load(open(sys.argv[2]))
    backends = []
    rows = {}
    for r in bench["results"]:
        if r["backend"] not in backends:
            backends.append(r["backend"])
        rows.setdefault(key(r), {})[r["backend"]] = r
    tor = {key(r): r for r in torch["results"]}

    dev = ", ".join(f"{d['name']} ({d['backend']})" for d in bench["machine"].get("devices", [])) or "?"
    print(f"GPU: {dev}; PyTorch {torch['torch']} (CUDA {torch['cuda']}, cuDNN {torch['cudnn']}, TF32 off: {not torch['allow_tf32']['cudnn']}) "
          f"on {torch['device']}; CPU: {bench['machine']['cpu']} x {bench['machine']['cores']}")
    for u in bench.get("unavailable", []):
        print(f"unavailable: {u['backend']}: {u['reason']}")
    print()
    head = ["problem", "phase"] + [f"{b} ms" for b in backends] + ["torch ms (wall)", "torch ms (GPU)", "cuda vs torch", "within 10%"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---", "---"] + ["---:"] * (len(head) - 3) + ["---"]) + " |")
    ratios, within, compared = [], 0, 0
    for k, per in rows.items():
        first = next(iter(per.values()))
        cells = [first["problem"], first["phase"]]
        for b in backends:
            r = per.get(b)
            if r is None:
                cells.append("-")
            elif r.get("error"):
                cells.append("error")
            elif not r.get("correct", False):
                cells.append(f"WRONG {fmt(r.get('ms_median'))}")
            elif r.get("ms_median") is None:
                cells.append("not timed")
            else:
                cells.append(fmt(r["ms_median"]) + ("†" if r.get("cut") else ""))
        t = tor.get(k)
        tw = t.get("ms_median_wall") if t else None
        tg = t.get("ms_median_gpu") if t else None
        cells += [fmt(tw), fmt(tg)]
        c = per.get("cuda")
        cm = c.get("ms_median") if c and c.get("correct") and not c.get("error") else None
        if cm and tw:
            ratio = tw / cm
            ratios.append(ratio)
            compared += 1
            ok = cm <= 1.10 * tw
            within += ok
            cells += [f"{ratio:.2f}x", "yes" if ok else "no"]
        else:
            cells += ["-", "-"]
        print("| " + " | ".join(cells) + " |")
    print()
    if ratios:
        g = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
        print(f"cuda vs PyTorch (torch ms / cuda ms, host clock both): geometric mean {g:.2f}x over {compared} problems; "
              f"{within}/{compared} within 10% (cuda at most 1.10x PyTorch's time); min {min(ratios):.2f}x, max {max(ratios):.2f}x")
    print("† timed at a shorter T and scaled to the full T (rnnfast bench's budget cut)")


if __name__ == "__main__":
    main()
