#!/usr/bin/env bash
# Demo (issue 19): a classifier that overfits real data, and early stopping that keeps the best model.
# Data: code lines in three languages from this machine (make_code_lines.py: Python standard library, C headers in
# /usr/include, Perl modules), 200 per language. A bidirectional GRU trains many steps on the 480 training lines:
#   run 1 (--keep last, no early stopping): the held-out loss falls, then rises while the training loss goes to ~0;
#   run 2 (--early-stopping 5 --keep best): stops, keeps the parameters of the best check and saves them.
# Then `rnnfast eval` and `rnnfast predict` score the kept model on exactly the held-out lines: heldout_split.py
# writes the split classify makes (same seed and fraction), and the script checks that eval's result on that file is
# classify's own final evaluation of the kept model: the same confusion matrix, cell for cell.
# Needs: bash, python3 (Debian's), the built CLI (RNNFAST). Time: ~3-4 min on one loaded core (--threads 1, nice 5).
# usage: docs/demos/overfit.sh [OUTDIR]   (default /tmp/rnnfast-demo-overfit)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RNNFAST=${RNNFAST:-$here/../../src/RnnFast.Cli/bin/Release/net10.0/rnnfast}
out=${1:-/tmp/rnnfast-demo-overfit}
PER_CLASS=${PER_CLASS:-200} SEED=${SEED:-1} FRACTION=${FRACTION:-0.2}
STEPS=${STEPS:-1500} EVERY=${EVERY:-50} PATIENCE=${PATIENCE:-5} LR=${LR:-0.003}
mkdir -p "$out"
python3 "$here/make_code_lines.py" "$out/lines.tsv" "$PER_CLASS" "$SEED"
python3 "$here/heldout_split.py" "$out/lines.tsv" "$FRACTION" "$SEED" "$out/heldout.tsv" "$out/train.tsv"
common=(--data "$out/lines.tsv" --model gru --bidirectional --hidden 64 --embed 16 --batch 32 --lr "$LR"
        --steps "$STEPS" --eval-every "$EVERY" --test-fraction "$FRACTION" --seed "$SEED" --threads 1)

echo "== run 1: no early stopping, the last model kept"
nice -n 5 "$RNNFAST" classify "${common[@]}" --keep last --plot "$out/last.svg" | tee "$out/last.log"
echo "== run 2: --early-stopping $PATIENCE, the best model kept"
nice -n 5 "$RNNFAST" classify "${common[@]}" --early-stopping "$PATIENCE" --keep best --out "$out/best.safetensors" \
  --plot "$out/best.svg" | tee "$out/best.log"

echo "== the kept model on the held-out lines"
"$RNNFAST" eval --model "$out/best.safetensors" --data "$out/heldout.tsv" | tee "$out/eval.log"
cut -f2- "$out/heldout.tsv" > "$out/heldout.txt"
"$RNNFAST" predict --model "$out/best.safetensors" --data "$out/heldout.txt" --out "$out/predictions.tsv"

python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def checks(log):
    return [(int(s), float(l), float(a)) for s, l, a in re.findall(r"\[step (\d+)\] val_loss ([\d.]+)\s+accuracy ([\d.]+) %", open(log).read())]
last, best = checks(f"{out}/last.log"), checks(f"{out}/best.log")
low = min(last, key=lambda c: c[1])
print(f"run 1: best check step {low[0]}: held-out loss {low[1]:.4f}, accuracy {low[2]:.1f} %; "
      f"last step {last[-1][0]}: loss {last[-1][1]:.4f}, accuracy {last[-1][2]:.1f} %; "
      f"highest accuracy at any check {max(c[2] for c in last):.1f} %")
log = open(f"{out}/best.log").read()
print("run 2: " + "; ".join(l.strip() for l in log.splitlines() if l.startswith(("early stopping", "kept "))))
def matrix(text):
    """The last confusion matrix printed: {(true, predicted): count}."""
    block = text[text.rindex("confusion matrix"):].splitlines()[1:]
    labels = block[0].split()
    return {(row.split()[0], labels[j]): int(v) for row in block[1:1 + len(labels)] for j, v in enumerate(row.split()[1:])}
reported_acc = float(re.findall(r"^accuracy=([\d.]+)", log, re.M)[-1])
ev = open(f"{out}/eval.log").read()
eval_acc = float(re.findall(r"^accuracy=([\d.]+)", ev, re.M)[-1])
truth = [l.split("\t", 1)[0] for l in open(f"{out}/heldout.tsv", encoding="utf-8").read().splitlines()]
guess = [l.split("\t", 1)[0] for l in open(f"{out}/predictions.tsv", encoding="utf-8").read().splitlines()]
assert len(truth) == len(guess), (len(truth), len(guess))
acc = sum(t == g for t, g in zip(truth, guess)) / len(truth)
print(f"classify's final evaluation of the kept model: accuracy {reported_acc:.4f}")
print(f"eval on heldout.tsv: accuracy {eval_acc:.4f}; predict on heldout.txt: accuracy {acc:.4f} ({len(truth)} lines)")
if matrix(ev) != matrix(log):
    sys.exit("eval's confusion matrix differs from classify's: heldout.tsv is not the split classify held out")
print("same held-out split: yes (eval's confusion matrix on heldout.tsv is classify's, cell for cell)")
PY
