#!/usr/bin/python3
# The table of bench/peers/run.sh: reads OUT/rnnfast.R.json (`rnnfast bench --format json`) and OUT/ENGINE.R.jsonl (the
# peers' JSON lines, same field names) of every round R, and prints markdown: GFLOP/s per problem and engine (the best of
# the rounds' medians; "wrong" when the engine's correctness check failed, "-" when it has no such problem), cpu's
# ratio to the best peer (onednn, onnxruntime, torchsharp) and the worst ratio; then the engines that could not run.
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

    def add(x):
        k = key(x)
        if k not in rows:
            rows[k] = {}
            order.append(k)
        cell = rows[k].setdefault(x["backend"], {"gflops": [], "wrong": None})
        if x.get("correct") is False:
            cell["wrong"] = x.get("error") or x.get("check_failure") or x.get("check") or "check failed"
        elif x.get("gflops") is not None:
            cell["gflops"].append(float(x["gflops"]))

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
    print("| problem (cell dir L T N I H phase) | " + " | ".join(LABEL[e] for e in ENGINES) + " | best peer | cpu / best peer |")
    print("|---|" + "---:|" * (len(ENGINES) + 2))
    worst = None
    for k in order:
        best = {}
        cells = []
        for e in ENGINES:
            c = rows[k].get(e)
            if c is None:
                cells.append("-")
            elif c["wrong"] is not None:
                cells.append("wrong")
            elif c["gflops"]:
                best[e] = max(c["gflops"])
                cells.append(f"{best[e]:.1f}")
            else:
                cells.append("not timed")
        peers = {e: g for e, g in best.items() if e in PEERS}
        if peers and "cpu" in best:
            top = max(peers, key=peers.get)
            ratio = best["cpu"] / peers[top]
            if worst is None or ratio < worst[0]:
                worst = (ratio, k, top)
            tail = f"{LABEL[top]} | {ratio:.2f}"
        else:
            tail = "- | -"
        print(f"| {k} | " + " | ".join(cells) + f" | {tail} |")
    print()
    if worst:
        print(f"Worst cpu / best peer ratio: {worst[0]:.2f} ({worst[1]}, against {LABEL[worst[2]]})")
    else:
        print("Worst cpu / best peer ratio: none (no problem has both cpu and a peer timed)")
    for e in ENGINES:
        if e in cannot:
            print(f"{LABEL[e]}: cannot run ({cannot[e]})")
    for k in order:
        for e in ENGINES:
            c = rows[k].get(e)
            if c and c["wrong"] is not None:
                print(f"{LABEL[e]} on {k}: wrong ({c['wrong']})")


if __name__ == "__main__":
    main()
