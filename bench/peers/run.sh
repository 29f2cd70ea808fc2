#!/usr/bin/env bash
# rnnfast against the engines a C# user could pick instead, on one problem list:
#   rnnfast bench's cpu and onednn backends, ONNX Runtime 1.31 (inference lines only) and TorchSharp 0.107 (libtorch 2.10).
# Rounds in alternating order (round 1: rnnfast, ONNX Runtime, TorchSharp; round 2 the reverse; ...), each engine with
# its default threads (one per logical core), then a markdown table of GFLOP/s per engine (the best of the rounds'
# medians), cpu's ratio to the best peer, and the worst such ratio. An engine that cannot run is named with the reason.
#   bash bench/peers/run.sh RNNFAST SHAPES [seconds_per_problem] [rounds]
# RNNFAST: the rnnfast program (an executable, or rnnfast.dll to run with dotnet). SHAPES: a bench/shapes file or name.
# Builds the peers first (prepare.sh; WORK=$RNNFAST_PEERS_DIR or /tmp/rnnfast-peers-build); raw results in WORK/out.
# RNNFAST_PEER_BACKENDS: rnnfast's backends to time (default cpu,onednn); e.g. cpu,cpu:bf16,cpu:int8,onednn adds the
# reduced-precision variants as columns of their own, each with its measured error.
# RNNFAST_PEER_PAIRED: the rnnfast backend each peer program also times in windows alternating with its own, for paired
# ratios (default cpu; "none" turns it off); rnnfast bench itself runs with --interleave (cpu and onednn paired).
# Benchmark-only: the peers are not dependencies of the product.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { echo "usage: run.sh RNNFAST SHAPES [seconds_per_problem] [rounds]" >&2; exit 2; }
RF=$1; SHAPES=$2; SEC=${3:-2}; ROUNDS=${4:-2}
W=${RNNFAST_PEERS_DIR:-/tmp/rnnfast-peers-build}; OUT=$W/out; MODELS=$W/models
if [ ! -f "$SHAPES" ] && [ -f "$here/../shapes/$SHAPES.txt" ]; then SHAPES=$here/../shapes/$SHAPES.txt; fi
[ -f "$SHAPES" ] || { echo "run.sh: shapes file '$SHAPES' not found" >&2; exit 2; }
SHAPES=$(readlink -f "$SHAPES")
case "$RF" in *.dll) RFCMD=(dotnet "$RF");; *) RFCMD=("$RF");; esac
mkdir -p "$OUT" "$MODELS"; rm -f "$OUT"/*.jsonl "$OUT"/*.json "$OUT"/*.err

bash "$here/prepare.sh" "$W" || echo "run.sh: some peers could not be prepared (the table says which)" >&2
if ! /usr/bin/python3 "$here/make_onnx.py" "$SHAPES" "$MODELS" > "$OUT/make_onnx.log" 2>&1; then
  echo "run.sh: make_onnx.py failed (see $OUT/make_onnx.log): ONNX Runtime has no models and nothing is checked against PyTorch" >&2
fi

BACKENDS=${RNNFAST_PEER_BACKENDS:-cpu,onednn}
PAIRED=${RNNFAST_PEER_PAIRED:-cpu}
PAIR=(); [ "$PAIRED" = none ] || PAIR=(--paired-with "$PAIRED")
rnnfast() { timeout 3600 "${RFCMD[@]}" bench --shapes "$SHAPES" --backends "$BACKENDS" --format json --interleave --out "$OUT/rnnfast.$1.json" \
              --max-seconds "$SEC" > /dev/null 2> "$OUT/rnnfast.$1.err"; }
ort() {
  if [ -f "$W/ort/RnnFast.Peers.OnnxRuntime.dll" ]; then
    timeout 3600 dotnet "$W/ort/RnnFast.Peers.OnnxRuntime.dll" "$SHAPES" --models "$MODELS" --seconds "$SEC" "${PAIR[@]}" > "$OUT/onnxruntime.$1.jsonl" 2> "$OUT/onnxruntime.$1.err"
  else echo '{"backend":"onnxruntime","unavailable":"not built (see '"$W"'/ort.build.log)"}' > "$OUT/onnxruntime.$1.jsonl"; fi
}
torchsharp() {
  if [ ! -f "$W/ts/RnnFast.Peers.TorchSharp.dll" ]; then
    echo '{"backend":"torchsharp","unavailable":"not built (see '"$W"'/ts.build.log)"}' > "$OUT/torchsharp.$1.jsonl"
  elif [ ! -x "$W/host13/dotnet" ]; then # without the newer libstdc++ it says itself why libtorch does not load
    timeout 3600 dotnet "$W/ts/RnnFast.Peers.TorchSharp.dll" "$SHAPES" --models "$MODELS" --seconds "$SEC" "${PAIR[@]}" > "$OUT/torchsharp.$1.jsonl" 2> "$OUT/torchsharp.$1.err"
  else
    LD_LIBRARY_PATH= timeout 3600 "$W/host13/dotnet" "$W/ts/RnnFast.Peers.TorchSharp.dll" "$SHAPES" --models "$MODELS" --seconds "$SEC" \
      "${PAIR[@]}" > "$OUT/torchsharp.$1.jsonl" 2> "$OUT/torchsharp.$1.err"
  fi
}
for ((r = 1; r <= ROUNDS; r++)); do
  echo "run.sh: round $r of $ROUNDS" >&2
  if (( r % 2 == 1 )); then rnnfast $r; ort $r; torchsharp $r; else torchsharp $r; ort $r; rnnfast $r; fi
done
/usr/bin/python3 "$here/summarize.py" "$OUT" "$SHAPES" "$SEC" "$ROUNDS"
