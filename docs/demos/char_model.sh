#!/usr/bin/env bash
# Demo (issue 19): a character LSTM trained for a few minutes on the Python standard library found on this machine,
# then `rnnfast visualize` over the first VIS_CHARS characters of each held-out module (source it never saw): one page
# per module (cells-NAME.html) and the three strongest cells per text feature, read back from the page's data.
# Needs: bash, python3 (Debian's), the built CLI (RNNFAST, default: the Release build of this checkout).
# Time: about MAX_SECONDS (default 600) of training plus ~1 min; uses one thread (--threads 1) at nice 5.
# usage: docs/demos/char_model.sh [OUTDIR]   (default /tmp/rnnfast-demo-chars); settings via the variables below.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
RNNFAST=${RNNFAST:-$here/../../src/RnnFast.Cli/bin/Release/net10.0/rnnfast}
out=${1:-/tmp/rnnfast-demo-chars}
MAX_SECONDS=${MAX_SECONDS:-600}
MODEL=${MODEL:-lstm} LAYERS=${LAYERS:-2} HIDDEN=${HIDDEN:-128} SEQ_LEN=${SEQ_LEN:-128} BATCH=${BATCH:-32} LR=${LR:-0.003}
HELD_OUT=${HELD_OUT:-"shlex.py textwrap.py argparse.py"}   # never trained on
VIS_CHARS=${VIS_CHARS:-20000}
mkdir -p "$out"
lib=$(ls -d /usr/lib/python3.* | sort -V | tail -1)

# The corpus: every top-level module of the standard library but the held-out ones, in name order.
( cd "$lib" && for f in $(ls *.py | LC_ALL=C sort); do
    case " $HELD_OUT " in *" $f "*) continue ;; esac
    cat "$f"; echo
  done ) > "$out/python.txt"
echo "corpus: $(wc -c < "$out/python.txt") bytes from $lib; held out: $HELD_OUT"

nice -n 5 "$RNNFAST" train --data "$out/python.txt" --model "$MODEL" --layers "$LAYERS" --hidden "$HIDDEN" --seq-len "$SEQ_LEN" \
  --batch "$BATCH" --lr "$LR" --steps 1000000 --max-seconds "$MAX_SECONDS" --eval-every 200 --checkpoint-every 200 \
  --threads 1 --out "$out/python.safetensors" --plot "$out/python-loss.svg" | tee "$out/train.log"

# The ranking as the page shows it, read from its embedded data: the three strongest cells per feature.
rank() {
python3 - "$1" <<'PY'
import json, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S).group(1))
for name, row in zip(data["features"], data["r"]):
    top = sorted(range(len(row)), key=lambda c: -abs(row[c]))[:3]
    print(f"  {name:17s} " + ", ".join(f"cell {c} r = {row[c]:+.3f}" for c in top))
PY
}
for f in $HELD_OUT; do
  name=${f%.py}
  head -c "$VIS_CHARS" "$lib/$f" > "$out/$name.txt"
  "$RNNFAST" visualize --model "$out/python.safetensors" --text "$out/$name.txt" --out "$out/cells-$name.html" --top 5
  rank "$out/cells-$name.html"
done
