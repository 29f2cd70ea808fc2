#!/usr/bin/env bash
# Builds the bundle a GPU machine without .NET needs for bench/gpu/verify-on-gpu.sh: the self-contained trimmed
# `rnnfast` (./build.sh --target=Publish, without .pdb/.xml), the PyTorch reference cases, the scripts, and with
# --with-onednn the Debian packages of the onednn backend (apt-get download libdnnl2 ocl-icd-libopencl1).
# usage: bash bench/gpu/pack.sh [DEST] [--with-onednn]     DEST defaults to gpu-carry/ at the repository root.
# SKIP_PUBLISH=1 reuses publish/linux-x64 as it is.
# DEST is added to the .git/info/exclude of the checkout it lies in, so the device tool can carry it
# (run(..., carry=["gpu-carry"]) from that checkout's root); the bundle is about 30 MB (64 MiB may travel).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DEST=""
ONEDNN=0
for a in "$@"; do
  case $a in
    --with-onednn) ONEDNN=1 ;;
    *) DEST=$a ;;
  esac
done
DEST=${DEST:-$ROOT/gpu-carry}
GOLDENS=${RNNFAST_GOLDENS:-$ROOT/../shared/goldens}
[ -d "$GOLDENS" ] || { echo "error: goldens not found at $GOLDENS (set RNNFAST_GOLDENS)"; exit 2; }

[ "${SKIP_PUBLISH:-0}" = 1 ] || (cd "$ROOT" && ./build.sh --target=Publish)
[ -x "$ROOT/publish/linux-x64/rnnfast" ] || { echo "error: $ROOT/publish/linux-x64/rnnfast missing"; exit 2; }
rm -rf "$DEST"
mkdir -p "$DEST"
cp -r "$ROOT/publish/linux-x64" "$DEST/rnnfast"
rm -f "$DEST"/rnnfast/*.pdb "$DEST"/rnnfast/*.xml
cp -r "$GOLDENS" "$DEST/goldens"
cp "$ROOT"/bench/gpu/verify-on-gpu.sh "$ROOT"/bench/gpu/torch_cudnn_bench.py "$ROOT"/bench/gpu/compare_cuda_torch.py "$ROOT"/bench/gpu/ab-shapes.txt "$DEST/"
if [ $ONEDNN -eq 1 ]; then
  mkdir -p "$DEST/debs"
  (cd "$DEST/debs" && apt-get download libdnnl2 ocl-icd-libopencl1)
fi

# Let the device tool carry DEST: ignore it in the checkout that holds it.
PARENT=$(cd "$(dirname "$DEST")" && pwd)
if git -C "$PARENT" rev-parse --show-toplevel >/dev/null 2>&1; then
  TOP=$(git -C "$PARENT" rev-parse --show-toplevel)
  REL=${DEST#"$TOP"/}
  EXCLUDE=$(git -C "$TOP" rev-parse --git-path info/exclude)
  case $EXCLUDE in /*) ;; *) EXCLUDE=$TOP/$EXCLUDE ;; esac
  mkdir -p "$(dirname "$EXCLUDE")"
  grep -qxF "/$REL/" "$EXCLUDE" 2>/dev/null || echo "/$REL/" >> "$EXCLUDE"
  echo "ignored in $TOP via $EXCLUDE: /$REL/ (carry it as \"$REL\")"
fi
du -sh "$DEST"
echo "bundle ready: on the GPU machine run: bash $(basename "$DEST")/verify-on-gpu.sh [all|info verify check bench torch table]"
