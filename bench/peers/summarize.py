#!/usr/bin/python3
# The table of bench/peers/run.sh: reads OUT/rnnfast.R.json (`rnnfast bench --format json`) and OUT/ENGINE.R.jsonl (the
# peers' JSON lines, same field names) of every round R, and prints markdown: GFLOP/s per problem and engine (the best of
# the rounds' medians; "wrong" when the engine's correctness check failed, "-" when it has no such problem), cpu's
# ratio to the best peer (onednn, onnxruntime, torchsharp) and the worst ratio; then the engines that could not run.
# Reduced-precision cpu variants in the rnnfast results (cpu:bf16, cpu:int8: run.sh's RNNFAST_PEER_BACKENDS) get their
# own columns beside cpu, each with its ratio to the best peer and its largest error against the reference
# ("38.2 e1.1E-03": checked at the backend's own tolerance; "wrong" when that check failed).
# Paired ratios (run.sh's default): rnnfast bench --interleave times cpu and onednn in alternating windows, and each peer
# program times rnnfast's cpu in windows alternating with its own (--paired-with cpu); each gives cpu's speed over that
# engine round by round. The column "cpu / best peer, paired" is the smallest over the peers of the median of every
# round of every run pooled (older files without the rounds: their medians), the ratio that a shared machine's slow
# stretches disturb least.
#   summarize.py OUT SHAPES SECONDS ROUNDS
import glob
import json
import os
import sys

ENGINES = ["cpu", "onednn", "onnxruntime", "torchsharp"]
PEERS = ENGINES[1:]
LABEL = {"cpu": "cpu", "onednn": "onednn", "onnxruntime": "ONNX Runtime", "torchsharp": "TorchSharp"}


def key(x):
    return f'{x["cell"]} {x["dir"]} {x["L"]} {x["T"]} {x["N"]} {x["I"]} {x["H"]} {x["phase"]}'


def main():
    out, shapes, seconds, rounds = sys.argv[1:5]
    rows, order, problems = {}, [], {}
    cannot = {}  # engine -> reason
    variants = []  # rnnfast backends other than cpu / onednn (cpu:bf16, cpu:int8), in order of appearance
    paired = {}  # problem key -> peer engine -> [cpu's speedup over it, one per round of every run (pooled)]

    def add_paired(k, engine, ratio):
        if ratio is not None:
            paired.setdefault(k, {}).setdefault(engine, []).append(float(ratio))

    def add(x):
        k = key(x)
        if k not in rows:
            rows[k] = {}
            order.append(k)
        if x["backend"] not in ENGINES and x["backend"] not in variants:
            variants.append(x["backend"])
        cell = rows[k].setdefault(x["backend"], {"gflops": [], "wrong": None, "err": None})
        if x.get("max_abs_err") is not None:
            cell["err"] = max(cell["err"] or 0.0, float(x["max_abs_err"]))
        if x.get("correct") is False:
            cell["wrong"] = x.get("error") or x.get("check_failure") or x.get("check") or "check failed"
        elif x.get("gflops") is not None:
            cell["gflops"].append(float(x["gflops"]))
        if x["backend"] == "cpu":  # rnnfast bench --interleave: cpu against onednn, round by round
            for other, pr in (x.get("paired_speedup_vs") or {}).items():
                if other in PEERS and isinstance(pr, dict):
                    for r in pr.get("ratios") or [pr.get("median")]:
                        add_paired(k, other, r)
        elif x["backend"] in PEERS and x.get("paired_with") == "cpu" and x.get("paired_correct") and isinstance(x.get("paired_speedup"), dict):
            for r in x["paired_speedup"].get("ratios") or [x["paired_speedup"].get("median")]:
                add_paired(k, x["backend"], r)

    for path in sorted(glob.glob(os.path.join(out, "rnnfast.*.json"))):
        try:
            report = json.load(open(path))
        except (OSError, ValueError):
            continue
        for u in report.get("unavailable", []):
            cannot[u["backend"]] = u["reason"]
        for x in report.get("results", []):
            add(x)
    if not glob.glob(os.path.join(out, "rnnfast.*.json")):
        err = "".join(open(p).read() for p in glob.glob(os.path.join(out, "rnnfast.*.err"))).strip().splitlines()
        cannot["cpu"] = cannot["onednn"] = "rnnfast bench wrote nothing" + (f": {err[-1]}" if err else "")
    for engine in ("onnxruntime", "torchsharp"):
        files = sorted(glob.glob(os.path.join(out, f"{engine}.*.jsonl")))
        seen = False
        for path in files:
            for line in open(path, errors="replace"):
                if not line.startswith("{"):
                    continue  # libtorch's and ONNX Runtime's own chatter
                x = json.loads(line)
                if "unavailable" in x:
                    cannot[engine] = x["unavailable"]
                else:
                    seen = True
                    add(x)
        if not seen and engine not in cannot:
            errs = [p.replace(".jsonl", ".err") for p in files]
            last = [l for p in errs if os.path.exists(p) for l in open(p, errors="replace").read().splitlines() if l.strip()]
            cannot[engine] = "no results" + (f": {last[-1]}" if last else "")

    print(f"Problems: {shapes}; {seconds} s of timed calls per problem and engine after a warm-up until the timings "
          f"settle; best of {rounds} rounds in alternating order; GFLOP/s by rnnfast bench's FLOP count.\n")
    variants.sort(key=lambda v: v)
    engines = ["cpu"] + variants + ENGINES[1:]
    label = dict(LABEL, **{v: v for v in variants})
    print("| problem (cell dir L T N I H phase) | " + " | ".join(label[e] for e in engines) + " | best peer | cpu / best peer |"
          + " cpu / best peer, paired |" + "".join(f" {v} / best peer |" for v in variants))
    print("|---|" + "---:|" * (len(engines) + 3 + len(variants)))
    worst = None
    worst_paired = None
    worst_variant = {}
    for k in order:
        best = {}
        cells = []
        for e in engines:
            c = rows[k].get(e)
            if c is None:
                cells.append("-")
            elif c["wrong"] is not None:
                cells.append("wrong")
            elif c["gflops"]:
                best[e] = max(c["gflops"])
                cells.append(f"{best[e]:.1f}" + (f" e{c['err']:.1E}" if e in variants and c["err"] is not None else ""))
            else:
                cells.append("not timed")
        peers = {e: g for e, g in best.items() if e in PEERS}
        extra = ""
        if peers and "cpu" in best:
            top = max(peers, key=peers.get)
            ratio = best["cpu"] / peers[top]
            if worst is None or ratio < worst[0]:
                worst = (ratio, k, top)
            tail = f"{LABEL[top]} | {ratio:.2f}"
        else:
            tail = "- | -"
        pr = {e: sorted(v)[(len(v) - 1) // 2] for e, v in paired.get(k, {}).items()}  # median (the lower) of the pooled rounds
        if pr:
            low = min(pr, key=pr.get)
            tail += f" | {pr[low]:.2f} ({LABEL[low]})"
            if worst_paired is None or pr[low] < worst_paired[0]:
                worst_paired = (pr[low], k, low)
        else:
            tail += " | -"
        for v in variants:
            if peers and v in best:
                top = max(peers, key=peers.get)
                r = best[v] / peers[top]
                if v not in worst_variant or r < worst_variant[v][0]:
                    worst_variant[v] = (r, k, top)
                extra += f" {r:.2f} |"
            else:
                extra += " - |"
        print(f"| {k} | " + " | ".join(cells) + f" | {tail} |" + extra)
    print()
    if worst:
        print(f"Worst cpu / best peer ratio: {worst[0]:.2f} ({worst[1]}, against {LABEL[worst[2]]})")
    else:
        print("Worst cpu / best peer ratio: none (no problem has both cpu and a peer timed)")
    if worst_paired:
        print(f"Worst paired cpu / peer ratio: {worst_paired[0]:.2f} ({worst_paired[1]}, against {LABEL[worst_paired[2]]})")
    for v in variants:
        if v in worst_variant:
            r, k, top = worst_variant[v]
            print(f"Worst {v} / best peer ratio: {r:.2f} ({k}, against {LABEL[top]})")
    for e in engines:
        if e in cannot:
            print(f"{label[e]}: cannot run ({cannot[e]})")
    for k in order:
        for e in engines:
            c = rows[k].get(e)
            if c and c["wrong"] is not None:
                print(f"{label[e]} on {k}: wrong ({c['wrong']})")


if __name__ == "__main__":
    main()
