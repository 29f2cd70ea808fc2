#!/usr/bin/python3
"""PyTorch reference cases for the sequence training paths (issue 14, item 6).

    /usr/bin/python3 tests/goldens/make_sequence_goldens.py OUT_DIR        # write the cases into OUT_DIR
    /usr/bin/python3 tests/goldens/make_sequence_goldens.py --verify [DIR]  # re-read and check them (default:
                                                                           # tests/goldens/sequence beside this script)

Writing needs PyTorch (Debian's python3-torch, 1.13) and numpy; it is a tool, never a dependency of the product.
Weights, inputs and targets are drawn in float32 with fixed seeds, the modules are then cast to float64 with
`.double()`, everything is computed in float64 and the stored results are rounded to float32. Integer tensors
are I64. The output is deterministic: the same PyTorch build writes the same bytes.

`--verify` needs numpy only and shares no code with the writer beyond the file names: it parses each file
with its own safetensors reader, recomputes the models' forward pass in float64 numpy from the stored weights
and inputs (the LSTM/GRU cells written out, the packed bidirectional run done per sequence length), compares
the step-0 loss, checks every stored step-0 gradient against central finite differences of that numpy
forward, and, for the Adam cases, replays all the steps (finite-difference gradients + a numpy Adam) and
compares every step's loss and the final weights. See README.md in this folder for the format of each kind.
"""

import json
import os
import struct
import sys

import numpy as np

IGNORE_INDEX = -100
HUBER_DELTA = 1.0
LR = 1e-2
BETA1, BETA2, ADAM_EPS = 0.9, 0.999, 1e-8

# The reference cases: (file stem, settings).
REGRESSION_CASES = [
    ("regression_lstm_mse_adam", dict(mode="LSTM", F=3, H=8, L=2, O=2, T=6, N=4, loss="mse", steps=3, seed=1401)),
    ("regression_gru_mse_adam", dict(mode="GRU", F=3, H=8, L=2, O=1, T=6, N=4, loss="mse", steps=3, seed=1402)),
    ("loss_lstm_l1", dict(mode="LSTM", F=3, H=8, L=1, O=2, T=6, N=4, loss="l1", steps=1, seed=1403)),
    ("loss_gru_huber", dict(mode="GRU", F=3, H=8, L=1, O=2, T=6, N=4, loss="huber", steps=1, seed=1404)),
    ("loss_lstm_bce_with_logits", dict(mode="LSTM", F=3, H=8, L=1, O=3, T=6, N=4, loss="bce_with_logits", steps=1,
                                       seed=1405)),
]
TAGGER_CASES = [
    ("tagger_bilstm_adam", dict(V=11, E=5, H=8, C=4, T=7, N=4, lengths=[5, 7, 2, 6], steps=3, seed=1406)),
]


# --------------------------------------------------------------------------------------------------------
# safetensors writer (F32 and I64 only)
# --------------------------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, numpy array of float32 or int64), written in this order."""
    header = {"__metadata__": {k: str(v) for k, v in metadata.items()}}
    blobs, offset = [], 0
    for name, arr in tensors:
        if arr.dtype == np.float32:
            dtype, data = "F32", arr.astype("<f4").tobytes(order="C")
        elif arr.dtype == np.int64:
            dtype, data = "I64", arr.astype("<i8").tobytes(order="C")
        else:
            raise TypeError(f"{name}: unsupported dtype {arr.dtype}")
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)  # pad the header with spaces to a multiple of 8, as safetensors does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


# --------------------------------------------------------------------------------------------------------
# Writer (PyTorch)
# --------------------------------------------------------------------------------------------------------

def generate(out_dir):
    import copy

    import torch
    import torch.nn as nn
    import torch.nn.functional as Fn

    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)

    def f32(t):
        return t.detach().to(torch.float32).contiguous().numpy().copy()

    def i64(t):
        return t.detach().to(torch.int64).contiguous().numpy().copy()

    def adam_meta(optimizer):
        if optimizer == "none":
            return {"optimizer": "none"}
        return {"optimizer": "adam", "lr": repr(LR), "beta1": repr(BETA1), "beta2": repr(BETA2),
                "eps": repr(ADAM_EPS), "weight_decay": "0.0", "clip_global_norm": "none"}

    def train(model, steps, optimizer, step_loss, dtype):
        """Runs the case on a copy of `model` in `dtype`: per-step losses, step-0 gradients (parameters and,
        when step_loss takes one, the input), final state."""
        model = copy.deepcopy(model).to(dtype)
        opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(BETA1, BETA2), eps=ADAM_EPS) \
            if optimizer == "adam" else None
        losses, grad0, grad_input0 = [], None, None
        for s in range(steps):
            model.zero_grad(set_to_none=True)
            loss, x = step_loss(model, s, dtype)
            loss.backward()
            losses.append(float(loss))
            if s == 0:
                grad0 = [(n, f32(p.grad)) for n, p in model.named_parameters()]
                grad_input0 = None if x is None else f32(x.grad)
            if opt is not None:
                opt.step()
        final = [(k, f32(v)) for k, v in model.state_dict().items()]
        return np.array(losses, dtype=np.float32), grad0, grad_input0, final

    def float32_margin(stem, ref, alt):
        """How much of the goldens' tolerance (1e-4 + 1e-3|b|) a float32 PyTorch run of the same case uses on
        the losses, the step-0 gradients and the final weights. Adam's first update is about lr*sign(g), so a
        case whose result hinges on a gradient of order eps would be unfair to float32 code: refuse it."""
        pairs = [(ref[0], alt[0])] + [(a[1], b[1]) for a, b in zip(ref[1], alt[1])]
        if ref[2] is not None:
            pairs.append((ref[2], alt[2]))
        pairs += [(a[1], b[1]) for a, b in zip(ref[3], alt[3])]
        worst = max(float(np.max(np.abs(b - a) / (1e-4 + 1e-3 * np.abs(a)))) for a, b in pairs)
        if worst > 0.25:
            raise SystemExit(f"{stem}: a float32 run uses {worst:.2f} of the tolerance; change the seed")
        return worst

    # ---- train_regression -------------------------------------------------------------------------------
    class Regressor(nn.Module):
        def __init__(self, mode, F, H, L, O):
            super().__init__()
            self.rnn = (nn.LSTM if mode == "LSTM" else nn.GRU)(F, H, L)
            self.head = nn.Linear(H, O)

        def forward(self, x):
            y, _ = self.rnn(x)
            return self.head(y)

    def regression_loss(kind, pred, target):
        if kind == "mse":
            return Fn.mse_loss(pred, target)
        if kind == "l1":
            return Fn.l1_loss(pred, target)
        if kind == "huber":
            return Fn.huber_loss(pred, target, delta=HUBER_DELTA)
        if kind == "bce_with_logits":
            return Fn.binary_cross_entropy_with_logits(pred, target)
        raise ValueError(kind)

    for stem, c in REGRESSION_CASES:
        torch.manual_seed(c["seed"])
        model = Regressor(c["mode"], c["F"], c["H"], c["L"], c["O"])  # float32, PyTorch's default init
        inputs = torch.randn(c["steps"], c["T"], c["N"], c["F"])
        if c["loss"] == "bce_with_logits":
            targets = torch.randint(0, 2, (c["steps"], c["T"], c["N"], c["O"])).to(torch.float32)
        elif c["loss"] == "huber":
            targets = 1.5 * torch.randn(c["steps"], c["T"], c["N"], c["O"])  # residuals on both sides of delta
        else:
            targets = torch.randn(c["steps"], c["T"], c["N"], c["O"])
        optimizer = "adam" if c["steps"] > 1 else "none"

        def step_loss(m, s, dtype, c=c, inputs=inputs, targets=targets):
            x = inputs[s].to(dtype).requires_grad_(True)
            return regression_loss(c["loss"], m(x), targets[s].to(dtype)), x

        with torch.no_grad():
            r = model.double()(inputs[0].double()) - targets[0].double()
            model.float()
        if c["loss"] == "l1" and float(r.abs().min()) < 1e-3:
            raise SystemExit(f"{stem}: a residual sits on L1's kink; change the seed")
        if c["loss"] == "huber":
            inside = int((r.abs() < HUBER_DELTA).sum())
            if inside == 0 or inside == r.numel() or float((r.abs() - HUBER_DELTA).abs().min()) < 1e-3:
                raise SystemExit(f"{stem}: Huber residuals must fall on both sides of delta, away from it")

        ref = train(model, c["steps"], optimizer, step_loss, torch.float64)
        margin = float32_margin(stem, ref, train(model, c["steps"], optimizer, step_loss, torch.float32))
        losses, grad0, grad_input0, final = ref
        meta = {"kind": "train_regression", "mode": c["mode"], "input_size": c["F"], "hidden_size": c["H"],
                "num_layers": c["L"], "output_size": c["O"], "bidirectional": "false", "batch_first": "false",
                "seq_len": c["T"], "batch": c["N"], "steps": c["steps"], "loss": c["loss"]}
        if c["loss"] == "huber":
            meta["huber_delta"] = repr(HUBER_DELTA)
        meta["reduction"] = "mean"
        meta.update(adam_meta(optimizer))
        meta.update({"torch_version": torch.__version__, "computed_in": "float64", "seed": c["seed"],
                     "float32_torch_tolerance_used": f"{margin:.2e}"})
        tensors = [(k, f32(v)) for k, v in model.state_dict().items()]
        tensors += [("inputs", f32(inputs)), ("targets", f32(targets)), ("loss", losses)]
        tensors += [("grad." + n, g) for n, g in grad0] + [("grad_input", grad_input0)]
        if optimizer == "adam":
            tensors += [("final." + k, v) for k, v in final]
        path = os.path.join(out_dir, stem + ".safetensors")
        write_safetensors(path, tensors, meta)
        print(f"wrote {path}: loss {', '.join(f'{l:.6f}' for l in losses)}; float32 run uses {margin:.2e} of the tolerance")

    # ---- train_tagger ----------------------------------------------------------------------------------
    class Tagger(nn.Module):
        def __init__(self, V, E, H, C):
            super().__init__()
            self.embedding = nn.Embedding(V, E)
            self.rnn = nn.LSTM(E, H, 1, bidirectional=True)
            self.head = nn.Linear(2 * H, C)

        def forward(self, tokens, lengths):
            e = self.embedding(tokens)
            packed = nn.utils.rnn.pack_padded_sequence(e, lengths, enforce_sorted=False)
            y, _ = self.rnn(packed)
            y, _ = nn.utils.rnn.pad_packed_sequence(y, total_length=tokens.shape[0])  # zero at padded steps
            return self.head(y)

    for stem, c in TAGGER_CASES:
        torch.manual_seed(c["seed"])
        T, N, C = c["T"], c["N"], c["C"]
        model = Tagger(c["V"], c["E"], c["H"], C)
        lengths = torch.tensor(c["lengths"], dtype=torch.int64)
        assert int(lengths.max()) == T and lengths.numel() == N
        # Tokens at padded steps are arbitrary valid ids: they must not affect anything. Valid steps use ids
        # 0..V-2 only, so id V-1 (present at padded steps) must get an exactly zero gradient and stay unchanged.
        pad = torch.arange(T).unsqueeze(1) >= lengths.unsqueeze(0)  # (T, N)
        tokens = torch.where(pad, torch.randint(0, c["V"], (c["steps"], T, N)),
                             torch.randint(0, c["V"] - 1, (c["steps"], T, N)))
        tokens[:, T - 1, int(lengths.argmin())] = c["V"] - 1  # make sure id V-1 occurs at every step
        targets = torch.randint(0, C, (c["steps"], T, N))
        targets[:, pad] = IGNORE_INDEX
        targets[:, 1, 0] = IGNORE_INDEX  # one ignored target at a valid step: the rule comes from targets

        def step_loss(m, s, dtype, T=T, N=N, C=C, tokens=tokens, targets=targets, lengths=lengths):
            logits = m(tokens[s], lengths)
            return Fn.cross_entropy(logits.reshape(T * N, C), targets[s].reshape(T * N),
                                    ignore_index=IGNORE_INDEX), None

        ref = train(model, c["steps"], "adam", step_loss, torch.float64)
        margin = float32_margin(stem, ref, train(model, c["steps"], "adam", step_loss, torch.float32))
        losses, grad0, _, final = ref
        meta = {"kind": "train_tagger", "mode": "LSTM", "vocab_size": c["V"], "embed_size": c["E"],
                "hidden_size": c["H"], "num_layers": 1, "bidirectional": "true", "num_classes": C,
                "batch_first": "false", "seq_len": T, "batch": N, "steps": c["steps"], "loss": "cross_entropy",
                "ignore_index": IGNORE_INDEX, "reduction": "mean over non-ignored targets"}
        meta.update(adam_meta("adam"))
        meta.update({"torch_version": torch.__version__, "computed_in": "float64", "seed": c["seed"],
                     "float32_torch_tolerance_used": f"{margin:.2e}"})
        tensors = [(k, f32(v)) for k, v in model.state_dict().items()]
        tensors += [("tokens", i64(tokens)), ("targets", i64(targets)), ("lengths", i64(lengths)), ("loss", losses)]
        tensors += [("grad." + n, g) for n, g in grad0]
        tensors += [("final." + k, v) for k, v in final]
        path = os.path.join(out_dir, stem + ".safetensors")
        write_safetensors(path, tensors, meta)
        print(f"wrote {path}: loss {', '.join(f'{l:.6f}' for l in losses)}; float32 run uses {margin:.2e} of the tolerance")


# --------------------------------------------------------------------------------------------------------
# Verifier (numpy only, independent of PyTorch)
# --------------------------------------------------------------------------------------------------------

def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()), "metadata must be strings"
    data = raw[8 + n:]
    sizes = {"F32": (4, "<f4"), "I64": (8, "<i8")}
    spans, out = [], {}
    for name, info in header.items():
        width, dt = sizes[info["dtype"]]
        a, b = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert b - a == count * width, f"{name}: data_offsets do not match the shape"
        spans.append((a, b))
        arr = np.frombuffer(data[a:b], dtype=dt).reshape(info["shape"])
        out[name] = arr.astype(np.float64) if info["dtype"] == "F32" else arr.astype(np.int64)
    spans.sort()
    pos = 0
    for a, b in spans:
        assert a == pos, "tensor data must be contiguous"
        pos = b
    assert pos == len(data), "trailing bytes after the tensor data"
    return out, meta


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_cell(mode, p, sfx, x, h, c):
    """One LSTM (gates i,f,g,o) or GRU (gates r,z,n) step; x (N, I), h/c (N, H)."""
    Wi, Wh, bi, bh = p["weight_ih" + sfx], p["weight_hh" + sfx], p["bias_ih" + sfx], p["bias_hh" + sfx]
    H = Wh.shape[1]
    gi, gh = x @ Wi.T + bi, h @ Wh.T + bh
    if mode == "LSTM":
        g = gi + gh
        i, f, gg, o = sigmoid(g[:, :H]), sigmoid(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), sigmoid(g[:, 3 * H:])
        c = f * c + i * gg
        return o * np.tanh(c), c
    r = sigmoid(gi[:, :H] + gh[:, :H])
    z = sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1 - z) * n + z * h, c


def np_rnn(mode, p, x, num_layers, bidirectional, lengths=None):
    """Multi-layer (bi)RNN from zero states; x (T, N, I). With lengths, each sequence stops at its own length
    (the reverse direction starts at its last valid step) and the output is zero at padded steps."""
    T, N, _ = x.shape
    H = p["weight_hh_l0"].shape[1]
    valid = np.ones((T, N, 1), dtype=bool) if lengths is None else (np.arange(T)[:, None] < lengths[None, :])[..., None]
    layer_in = x
    for k in range(num_layers):
        outs = []
        for sfx, order in [(f"_l{k}", range(T))] + ([(f"_l{k}_reverse", range(T - 1, -1, -1))] if bidirectional else []):
            h, c = np.zeros((N, H)), np.zeros((N, H))
            y = np.zeros((T, N, H))
            for t in order:
                hn, cn = np_cell(mode, p, sfx, layer_in[t], h, c)
                h, c = np.where(valid[t], hn, h), np.where(valid[t], cn, c)
                y[t] = np.where(valid[t], h, 0.0)
            outs.append(y)
        layer_in = np.concatenate(outs, axis=2)
    return layer_in


def np_regression_loss(kind, pred, target):
    r = pred - target
    if kind == "mse":
        return np.mean(r * r)
    if kind == "l1":
        return np.mean(np.abs(r))
    if kind == "huber":
        a = np.abs(r)
        return np.mean(np.where(a < HUBER_DELTA, 0.5 * r * r, HUBER_DELTA * (a - 0.5 * HUBER_DELTA)))
    if kind == "bce_with_logits":
        # max(x,0) - x*y + log(1 + exp(-|x|))
        return np.mean(np.maximum(pred, 0) - pred * target + np.log1p(np.exp(-np.abs(pred))))
    raise ValueError(kind)


def np_regression(meta, p, x, target):
    rp = {k[4:]: v for k, v in p.items() if k.startswith("rnn.")}
    y = np_rnn(meta["mode"], rp, x, int(meta["num_layers"]), False)
    pred = y @ p["head.weight"].T + p["head.bias"]
    return np_regression_loss(meta["loss"], pred, target)


def np_tagger(meta, p, tokens, target, lengths):
    rp = {k[4:]: v for k, v in p.items() if k.startswith("rnn.")}
    e = p["embedding.weight"][tokens]  # (T, N, E)
    y = np_rnn("LSTM", rp, e, 1, True, lengths)
    logits = y @ p["head.weight"].T + p["head.bias"]  # (T, N, C)
    keep = target != int(meta["ignore_index"])
    z = logits[keep]
    m = z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(z - m).sum(axis=1, keepdims=True)))[:, 0]
    return np.mean(lse - z[np.arange(z.shape[0]), target[keep]])


def fd_grad(f, arrays, h=1e-6):
    """Central differences of f() with respect to every entry of each array (changed in place, restored)."""
    out = {}
    for name, a in arrays.items():
        g = np.zeros_like(a)
        flat, gflat = a.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            w = flat[i]
            flat[i] = w + h
            fp = f()
            flat[i] = w - h
            fm = f()
            flat[i] = w
            gflat[i] = (fp - fm) / (2 * h)
        out[name] = g
    return out


def verify(directory):
    files = sorted(f for f in os.listdir(directory) if f.endswith(".safetensors"))
    if not files:
        raise SystemExit(f"no .safetensors files in {directory}")
    failures = 0

    def report(label, got, ref, atol, rtol):
        nonlocal failures
        err = np.abs(got - ref)
        ok = bool(np.all(err <= atol + rtol * np.abs(ref)))
        worst = float(np.max(err / (atol + rtol * np.abs(ref)))) if err.size else 0.0
        if not ok:
            failures += 1
        return ok, worst

    for fname in files:
        t, meta = read_safetensors(os.path.join(directory, fname))
        kind = meta["kind"]
        steps = int(meta["steps"])
        params = {k: v.copy() for k, v in t.items() if k.split(".")[0] in ("rnn", "head", "embedding")}
        assert set("grad." + k for k in params) <= set(t), f"{fname}: missing gradients"
        if kind == "train_regression":
            xs, ys = t["inputs"], t["targets"]
            x0 = xs[0].copy()
            loss_at = lambda s, x=None: np_regression(meta, params, xs[s] if x is None else x, ys[s])
        elif kind == "train_tagger":
            lengths = t["lengths"]
            loss_at = lambda s, x=None: np_tagger(meta, params, t["tokens"][s], t["targets"][s], lengths)
            # padded steps must carry ignore_index
            pad = np.arange(t["targets"].shape[1])[:, None] >= lengths[None, :]
            assert np.all(t["targets"][:, pad] == int(meta["ignore_index"])), f"{fname}: padded targets"
        else:
            raise SystemExit(f"{fname}: unknown kind {kind}")

        lines = []
        adam = meta.get("optimizer") == "adam"
        m = {k: np.zeros_like(v) for k, v in params.items()}
        v2 = {k: np.zeros_like(v) for k, v in params.items()}
        losses = []
        for s in range(steps):
            losses.append(loss_at(s))
            if s == 0:
                ok, w = report("loss0", np.array([losses[0]]), t["loss"][:1], 0, 1e-6)
                lines.append(f"step-0 loss {losses[0]:.7f} vs {t['loss'][0]:.7f} {'ok' if ok else 'FAIL'}")
            if s > 0 and not adam:
                break
            g = fd_grad(lambda: loss_at(s), params)
            if s == 0:
                worst_all, bad = 0.0, []
                for k in params:
                    ok, w = report("grad." + k, g[k], t["grad." + k], 1e-9, 1e-5)
                    worst_all = max(worst_all, w)
                    if not ok:
                        bad.append(k)
                if kind == "train_regression":
                    gi = fd_grad(lambda: loss_at(0, x0), {"x": x0})["x"]
                    ok, w = report("grad_input", gi, t["grad_input"], 1e-9, 1e-5)
                    worst_all = max(worst_all, w)
                    if not ok:
                        bad.append("grad_input")
                lines.append(f"step-0 gradients vs finite differences: worst {worst_all:.3f} of tolerance "
                             f"{'ok' if not bad else 'FAIL ' + ', '.join(bad)}")
            if adam:
                lr, b1, b2, eps = (float(meta[k]) for k in ("lr", "beta1", "beta2", "eps"))
                for k in params:
                    m[k] = b1 * m[k] + (1 - b1) * g[k]
                    v2[k] = b2 * v2[k] + (1 - b2) * g[k] * g[k]
                    mhat, vhat = m[k] / (1 - b1 ** (s + 1)), v2[k] / (1 - b2 ** (s + 1))
                    params[k] -= lr * mhat / (np.sqrt(vhat) + eps)
        if adam:
            ok, w = report("loss", np.array(losses), t["loss"], 0, 1e-5)
            lines.append(f"losses of all {steps} steps (numpy Adam replay): worst {w:.3f} of tolerance "
                         f"{'ok' if ok else 'FAIL'}")
            worst_all, bad = 0.0, []
            for k in params:
                ok, w = report("final." + k, params[k], t["final." + k], 1e-6, 1e-5)
                worst_all = max(worst_all, w)
                if not ok:
                    bad.append(k)
            lines.append(f"final weights: worst {worst_all:.3f} of tolerance {'ok' if not bad else 'FAIL ' + ', '.join(bad)}")
        print(f"{fname} ({kind}, {meta.get('mode', '')} {meta['loss']}, steps {steps}):")
        for line in lines:
            print("  " + line)
    print("PASS" if failures == 0 else f"FAIL ({failures} checks)")
    return failures == 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "--verify":
        d = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "sequence")
        sys.exit(0 if verify(d) else 1)
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.strip().splitlines()[0])
        print("usage: make_sequence_goldens.py OUT_DIR | --verify [DIR]")
        sys.exit(2)
    generate(argv[1])


if __name__ == "__main__":
    main(sys.argv)
