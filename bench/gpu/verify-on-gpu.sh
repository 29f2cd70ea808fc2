#!/usr/bin/env bash
# Proves the cuda backend on a GPU machine that has no .NET, in one call: runs the self-contained `rnnfast` from the
# bundle that bench/gpu/pack.sh builds (this script sits in it, beside rnnfast/, goldens/ and the Python helpers).
#   info    rnnfast info                                                  -> $OUT/info.txt
#   verify  rnnfast verify --backend cuda --goldens goldens/ (+ sweep)     -> $OUT/verify.txt
#   check   rnnfast check --backend cuda goldens/                         -> $OUT/check.txt
#   bench   rnnfast bench --shapes deepbench-inference --backends cpu,onednn,cuda --format json -> $OUT/bench.json
#   torch   PyTorch's cuDNN LSTM/GRU/RNN on the same shapes, fp32, TF32 off -> $OUT/torch.json
#   table   cuda vs PyTorch (and cpu, onednn) as markdown                 -> $OUT/table.md
#   ab      not in `all`: ab-shapes.txt (small batches, training, tiny H) on cuda with its defaults and with the first
#           settings (RNNFAST_CUDA_ALGO=standard RNNFAST_CUDA_PADDED_IO=always), and PyTorch -> $OUT/ab-{new,old,torch}.json, ab-{new,old}.md
# usage: bash verify-on-gpu.sh [all | info verify check bench torch table ab ...]     (default: all; log in $OUT/log.txt)
# Finds libcudnn.so.9 under /opt/torch/.venv (PyTorch's nvidia-cudnn wheel) with find, exports RNNFAST_CUDNN_PATH, and
# puts every nvidia/*/lib folder of that venv on LD_LIBRARY_PATH (cuDNN's sub-libraries and cuBLAS are found by name).
# If the bundle has debs/*.deb (libdnnl2 and its OpenCL loader), they are unpacked for the onednn backend.
# Environment: OUT (default ./gpu-results), BENCH_SECONDS (per problem and backend, default 0.5), SHAPES (default
# deepbench-inference), TORCH_PYTHON (default /opt/torch/.venv/bin/python), BENCH_TIMEOUT (seconds, default 480).
# Exit status: the number of stages that failed (0 = everything passed).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:-$PWD/gpu-results}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
RNNFAST=$HERE/rnnfast/rnnfast
GOLDENS=${RNNFAST_GOLDENS:-$HERE/goldens}
SHAPES=${SHAPES:-deepbench-inference}
BENCH_SECONDS=${BENCH_SECONDS:-0.5}
PY=${TORCH_PYTHON:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
STAGES=("$@")
[ ${#STAGES[@]} -eq 0 ] || [ "${STAGES[0]}" = all ] && STAGES=(info verify check bench torch table)
failed=0

echo "== $(date -u +%FT%TZ) verify-on-gpu.sh ${STAGES[*]} (bundle $HERE, results $OUT)"
[ -x "$RNNFAST" ] || { echo "error: $RNNFAST missing (build the bundle with bench/gpu/pack.sh)"; exit 100; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi not available"

# ---- cuDNN from PyTorch's wheels, and the folders its sub-libraries and cuBLAS live in
if [ -z "${RNNFAST_CUDNN_PATH:-}" ]; then
  RNNFAST_CUDNN_PATH=$(find /opt/torch/.venv /opt /usr/local/lib /usr/lib -name 'libcudnn.so.9' 2>/dev/null | head -1)
fi
export RNNFAST_CUDNN_PATH
echo "cuDNN: ${RNNFAST_CUDNN_PATH:-not found}"
LIBDIRS=$(find /opt/torch/.venv -type d -path '*/site-packages/nvidia/*/lib' 2>/dev/null | sort -u | paste -sd: -)
[ -n "$RNNFAST_CUDNN_PATH" ] && LIBDIRS="$(dirname "$RNNFAST_CUDNN_PATH")${LIBDIRS:+:$LIBDIRS}"
export LD_LIBRARY_PATH="${LIBDIRS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# ---- oneDNN from carried Debian packages, when the bundle has them
if ls "$HERE"/debs/*.deb >/dev/null 2>&1; then
  mkdir -p "$HERE/debs/root"
  for d in "$HERE"/debs/*.deb; do dpkg-deb -x "$d" "$HERE/debs/root" || echo "cannot unpack $d"; done
  DNNL=$(find "$HERE/debs/root" -name 'libdnnl.so.2' | head -1)
  if [ -n "$DNNL" ]; then
    export RNNFAST_DNNL_PATH=$DNNL
    export LD_LIBRARY_PATH="$(dirname "$DNNL"):$LD_LIBRARY_PATH"
    echo "oneDNN: $DNNL"
  fi
fi

run_stage() {
  local name=$1; shift
  echo "== stage $name: $*"
  local t0=$SECONDS
  "$@"
  local rc=$?
  echo "== stage $name: exit $rc in $((SECONDS - t0)) s"
  [ $rc -eq 0 ] || failed=$((failed + 1))
}

for s in "${STAGES[@]}"; do
  case $s in
    info)   run_stage info bash -o pipefail -c "'$RNNFAST' info | tee '$OUT/info.txt'" ;;
    verify) run_stage verify bash -c "'$RNNFAST' verify --backend cuda --goldens '$GOLDENS' > '$OUT/verify.txt'; rc=\$?; tail -3 '$OUT/verify.txt'; grep '^FAIL' '$OUT/verify.txt' | head -20; exit \$rc" ;;
    check)  run_stage check bash -c "'$RNNFAST' check --backend cuda '$GOLDENS' > '$OUT/check.txt'; rc=\$?; tail -1 '$OUT/check.txt'; grep -B1 FAIL '$OUT/check.txt' | head -20; exit \$rc" ;;
    bench)  run_stage bench timeout "${BENCH_TIMEOUT:-480}" "$RNNFAST" bench --shapes "$SHAPES" --backends cpu,onednn,cuda --format json \
              --max-seconds "$BENCH_SECONDS" --out "$OUT/bench.json" ;;
    torch)  run_stage torch "$PY" "$HERE/torch_cudnn_bench.py" "$HERE/rnnfast/shapes/$SHAPES.txt" --max-seconds "$BENCH_SECONDS" --out "$OUT/torch.json" ;;
    table)  run_stage table bash -o pipefail -c "'$PY' '$HERE/compare_cuda_torch.py' '$OUT/bench.json' '$OUT/torch.json' > '$OUT/table.md' && cat '$OUT/table.md'" ;;
    ab)     run_stage ab bash -o pipefail -c "timeout 120 '$RNNFAST' bench --shapes '$HERE/ab-shapes.txt' --backends cuda --format json --max-seconds '$BENCH_SECONDS' --out '$OUT/ab-new.json' &&
              RNNFAST_CUDA_ALGO=standard RNNFAST_CUDA_PADDED_IO=always timeout 120 '$RNNFAST' bench --shapes '$HERE/ab-shapes.txt' --backends cuda --format json --max-seconds '$BENCH_SECONDS' --out '$OUT/ab-old.json' &&
              '$PY' '$HERE/torch_cudnn_bench.py' '$HERE/ab-shapes.txt' --max-seconds '$BENCH_SECONDS' --out '$OUT/ab-torch.json' &&
              '$PY' '$HERE/compare_cuda_torch.py' '$OUT/ab-old.json' '$OUT/ab-torch.json' > '$OUT/ab-old.md' &&
              '$PY' '$HERE/compare_cuda_torch.py' '$OUT/ab-new.json' '$OUT/ab-torch.json' > '$OUT/ab-new.md' && cat '$OUT/ab-new.md' && tail -2 '$OUT/ab-old.md'" ;;
    *)      echo "unknown stage '$s' (info verify check bench torch table ab all)"; failed=$((failed + 1)) ;;
  esac
done
echo "== done: $failed stage(s) failed; files in $OUT: $(ls "$OUT" | paste -sd' ' -)"
sleep 1 # let tee finish writing log.txt
exit $failed
