#!/usr/bin/python3
# Inputs of the peer benchmarks: an ONNX model per *inference* line of a shapes file (bench/shapes format: cell dir
# layers T N I H phase; extra fields after the eighth are ignored, '#' starts a comment; ONNX Runtime has no training,
# so training lines get no model) and, for every line, PyTorch's numbers for the peers' correctness checks.
#   /usr/bin/python3 bench/peers/make_onnx.py SHAPES OUT_DIR
# Needs Debian's python3-torch and python3-onnx. For a line "lstm uni 1 50 64 512 512 inference" it writes
#   OUT_DIR/lstm_uni_1_50_64_512_512.onnx   torch.nn.LSTM/GRU/RNN (time-major, biases, zero initial state) exported
#                                           with opset 14; input "x" (T, N, I) and output "y" (T, N, D*H), T and N dynamic
#   OUT_DIR/lstm_uni_1_50_64_512_512.check  PyTorch's forward of a short input, for the peers' correctness checks
#                                           (the first min(T, 4) steps), little-endian: int32 Tc, N, I, DH; float32
#                                           x (Tc, N, I); float32 y (Tc, N, DH); int32 P; then P parameters, each
#                                           int32 name length, the UTF-8 name (weight_ih_l0, ...), int32 count, float32s
# Files that exist already are kept (the weights are seeded, so a rerun would write the same ones).
import os
import struct
import sys

import torch

CHECK_T = 4  # as rnnfast bench's check: the first min(T, 4) steps


def build(cell, bi, layers, i, h):
    if cell == "lstm":
        return torch.nn.LSTM(i, h, layers, bidirectional=bi)
    if cell == "gru":
        return torch.nn.GRU(i, h, layers, bidirectional=bi)
    if cell in ("rnn_tanh", "rnn_relu"):
        return torch.nn.RNN(i, h, layers, nonlinearity=cell[4:], bidirectional=bi)
    raise ValueError(f"unknown cell '{cell}'")


class OutputOnly(torch.nn.Module):
    """The RNN's output sequence only (ONNX Runtime still computes h_n; nobody reads it)."""

    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_onnx.py SHAPES OUT_DIR")
    shapes, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for number, raw in enumerate(open(shapes), 1):
        fields = raw.split("#", 1)[0].split()
        if not fields:
            continue
        if len(fields) < 8:
            sys.exit(f"{shapes}:{number}: expected cell dir layers T N I H phase, found '{raw.strip()}'")
        cell, d, layers, t, n, i, h, phase = fields[:8]
        if phase not in ("inference", "training"):
            sys.exit(f"{shapes}:{number}: phase must be inference or training, found '{phase}'")
        layers, t, n, i, h = map(int, (layers, t, n, i, h))
        name = f"{cell}_{d}_{layers}_{t}_{n}_{i}_{h}"
        model_path = os.path.join(out, name + ".onnx")
        check_path = os.path.join(out, name + ".check")
        want_model = phase == "inference"
        if os.path.exists(check_path) and (os.path.exists(model_path) or not want_model):
            print(name)
            continue
        torch.manual_seed(1)
        model = OutputOnly(build(cell, d == "bi", layers, i, h)).eval()
        tc = min(t, CHECK_T)
        x = torch.rand(tc, n, i) * 2 - 1
        with torch.no_grad():
            y = model(x)
        if want_model:
            tmp = model_path + ".tmp"
            torch.onnx.export(model, x, tmp, opset_version=14, input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "T", 1: "N"}, "y": {0: "T", 1: "N"}})
            os.replace(tmp, model_path)
        with open(check_path + ".tmp", "wb") as f:
            f.write(struct.pack("<4i", tc, n, i, y.shape[2]))
            f.write(x.contiguous().numpy().astype("<f4").tobytes())
            f.write(y.contiguous().numpy().astype("<f4").tobytes())
            params = list(model.rnn.named_parameters())
            f.write(struct.pack("<i", len(params)))
            for pname, value in params:
                raw_name = pname.encode("utf-8")
                f.write(struct.pack("<i", len(raw_name)) + raw_name + struct.pack("<i", value.numel()))
                f.write(value.detach().contiguous().numpy().astype("<f4").tobytes())
        os.replace(check_path + ".tmp", check_path)
        print(name)


if __name__ == "__main__":
    main()
