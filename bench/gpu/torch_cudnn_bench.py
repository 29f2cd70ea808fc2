#!/usr/bin/env python3
"""PyTorch's cuDNN RNNs (nn.LSTM / nn.GRU / nn.RNN) timed on the problems of an rnnfast problem list: the yardstick for
rnnfast's cuda backend, since both call cuDNN. FP32 with TF32 off (torch.backends.cudnn.allow_tf32 = False and
torch.backends.cuda.matmul.allow_tf32 = False), the same shapes, warm-up first, long sequences never shortened.

Each call is timed two ways: CUDA events around the call (GPU time), and the host clock around the call plus a
synchronize (call to result, which is what `rnnfast bench` reports for a GPU backend). Inference runs module.eval()
under torch.no_grad() (cuDNN's inference mode); training runs forward + backward of sum(output * dy).

usage: torch_cudnn_bench.py SHAPES.txt [--out FILE.json] [--max-seconds 0.5] [--max-reps 50] [--seed 1]
SHAPES.txt: one problem a line, `cell dir layers T N I H phase` (cell lstm|gru|rnn_tanh|rnn_relu, dir uni|bi,
phase inference|training), '#' starts a comment: the format of bench/shapes/*.txt.
"""
import argparse
import json
import statistics
import sys
import time

import torch


def parse(path):
    problems = []
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if len(fields) != 8:
                sys.exit(f"{path}:{number}: expected 8 fields (cell dir layers T N I H phase), found {len(fields)}")
            cell, direction, layers, T, N, I, H, phase = fields
            if cell not in ("lstm", "gru", "rnn_tanh", "rnn_relu") or direction not in ("uni", "bi") or phase not in ("inference", "training"):
                sys.exit(f"{path}:{number}: cannot read '{line}'")
            problems.append(dict(cell=cell, dir=direction, L=int(layers), T=int(T), N=int(N), I=int(I), H=int(H), phase=phase))
    return problems


def module(p):
    kw = dict(num_layers=p["L"], bidirectional=p["dir"] == "bi")
    if p["cell"] == "lstm":
        return torch.nn.LSTM(p["I"], p["H"], **kw)
    if p["cell"] == "gru":
        return torch.nn.GRU(p["I"], p["H"], **kw)
    return torch.nn.RNN(p["I"], p["H"], nonlinearity="tanh" if p["cell"] == "rnn_tanh" else "relu", **kw)


def run(p, max_seconds, max_reps, seed):
    torch.manual_seed(seed)
    dev = torch.device("cuda")
    m = module(p).to(dev).float()
    x = torch.randn(p["T"], p["N"], p["I"], device=dev)
    D = 2 if p["dir"] == "bi" else 1
    training = p["phase"] == "training"
    if training:
        m.train()
        dy = torch.randn(p["T"], p["N"], D * p["H"], device=dev)

        def call():
            m.zero_grad(set_to_none=True)
            out, _ = m(x)
            out.backward(dy)
    else:
        m.eval()

        def call():
            with torch.no_grad():
                m(x)

    # warm-up: at least 3 calls and 0.1 s (cuDNN picks and caches its kernels on the first calls)
    start = time.perf_counter()
    n = 0
    while n < 3 or time.perf_counter() - start < 0.1:
        call()
        torch.cuda.synchronize()
        n += 1
        if n >= 200:
            break

    wall, gpu = [], []
    begin = time.perf_counter()
    while len(wall) < max_reps and (len(wall) < 3 or time.perf_counter() - begin < max_seconds):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        e0.record()
        call()
        e1.record()
        torch.cuda.synchronize()
        wall.append((time.perf_counter() - t0) * 1e3)
        gpu.append(e0.elapsed_time(e1))
    r = dict(p)
    r.update(
        problem=f"{p['cell']} T={p['T']} N={p['N']} I={p['I']} H={p['H']} L={p['L']} D={D}",
        warmup_runs=n,
        reps=len(wall),
        ms_median_wall=statistics.median(wall),
        ms_min_wall=min(wall),
        ms_max_wall=max(wall),
        ms_median_gpu=statistics.median(gpu),
        ms_min_gpu=min(gpu),
    )
    return r


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shapes")
    ap.add_argument("--out")
    ap.add_argument("--max-seconds", type=float, default=0.5)
    ap.add_argument("--max-reps", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch.cuda.is_available() is False: no GPU for PyTorch here")
    torch.backends.cudnn.enabled = True
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    problems = parse(a.shapes)
    results = []
    for i, p in enumerate(problems, 1):
        try:
            r = run(p, a.max_seconds, a.max_reps, a.seed)
            print(f"[{i}/{len(problems)}] {r['problem']} {p['phase']}: {r['ms_median_wall']:.3f} ms wall, {r['ms_median_gpu']:.3f} ms GPU",
                  file=sys.stderr, flush=True)
        except RuntimeError as e:  # out of memory or a cuDNN refusal: say so and go on
            r = dict(p, error=str(e).splitlines()[0])
            print(f"[{i}/{len(problems)}] {p}: {r['error']}", file=sys.stderr, flush=True)
        results.append(r)
    report = dict(
        device=torch.cuda.get_device_name(0),
        torch=torch.__version__,
        cuda=torch.version.cuda,
        cudnn=torch.backends.cudnn.version(),
        allow_tf32=dict(cudnn=torch.backends.cudnn.allow_tf32, matmul=torch.backends.cuda.matmul.allow_tf32),
        shapes=a.shapes,
        max_seconds=a.max_seconds,
        results=results,
    )
    text = json.dumps(report, indent=2)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
