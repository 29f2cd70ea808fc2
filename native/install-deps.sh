#!/usr/bin/env bash
# Installs the Debian packages that RnnFast's native backends load at run time. Every backend also runs without its
# package (it reports itself unavailable with the reason), so a machine without root or apt-get skips this step.
set -euo pipefail
# One package per native backend as it lands: oneDNN (libdnnl2), OpenCL (ocl-icd-libopencl1, pocl-opencl-icd); Open MPI for
# data-parallel `rnnfast train` under mpirun (openmpi-bin: mpirun and the runtime; libopenmpi-dev: libmpi.so headers and the 2-rank tests).
PACKAGES=(libdnnl2 ocl-icd-libopencl1 pocl-opencl-icd openmpi-bin libopenmpi-dev ${RNNFAST_EXTRA_PACKAGES:-})

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: nothing to install (${#PACKAGES[@]} native packages already present)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found; skipping ${missing[*]} (those backends will report themselves unavailable)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and no sudo; skipping ${missing[*]}"; exit 0; fi
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
