#!/usr/bin/env bash
# Prepares the peer benchmarks in WORK (default: $RNNFAST_PEERS_DIR or /tmp/rnnfast-peers-build):
#   WORK/ort/      RnnFast.Peers.OnnxRuntime built (Release)
#   WORK/ts/       RnnFast.Peers.TorchSharp built (Release)
#   WORK/host13/   a dotnet host for TorchSharp: libtorch 2.10 wants GLIBCXX_3.4.32, which Debian 12's libstdc++ lacks.
#                  Debian 13 (trixie)'s libc6, libstdc++6 and libgcc-s1 are downloaded (`apt-get download`, with a
#                  sources list and apt state of our own under WORK; nothing of the system changes) and unpacked under
#                  WORK/trixie; a copy of the dotnet executable gets that loader as its ELF interpreter and that
#                  library directory as its rpath (patchelf). The SDK's host/shared folders are linked, not copied.
# The builds are incremental; the host is made once; a step that fails says so and the others still run (run.sh reports
# the engine as "cannot run" with the reason). Benchmark-only: none of this is a dependency of the product.
#   bash bench/peers/prepare.sh [WORK]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
W=${1:-${RNNFAST_PEERS_DIR:-/tmp/rnnfast-peers-build}}; mkdir -p "$W"
status=0

build() { # build NAME PROJECT_DIR
  local out=$W/$1 proj=$2   # incremental: quick when nothing changed
  if ! dotnet build "$here/$proj" -c Release -o "$out" -nologo -v q > "$W/$1.build.log" 2>&1; then
    echo "prepare: building $(basename "$proj") failed (log: $W/$1.build.log)" >&2; rm -f "$out/$(basename "$proj").dll"; status=1
  fi
}
build ort RnnFast.Peers.OnnxRuntime
build ts RnnFast.Peers.TorchSharp

if [ ! -x "$W/host13/dotnet" ]; then
  echo "prepare: fetching Debian 13's libc6/libstdc++6/libgcc-s1 for TorchSharp's host" >&2
  (
    set -e
    command -v patchelf >/dev/null || { echo "prepare: patchelf is missing (apt-get install patchelf)" >&2; exit 1; }
    A=$W/trixie; mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/debs"
    echo "deb http://deb.debian.org/debian trixie main" > "$A/sources.list"
    opts=(-o Dir::Etc::SourceList="$A/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$A/lists"
          -o Dir::Cache="$A" -o Debug::NoLocking=1)
    apt-get "${opts[@]}" update -qq > "$A/apt.log" 2>&1
    (cd "$A/debs" && apt-get "${opts[@]}" download libc6 libstdc++6 libgcc-s1 >> "$A/apt.log" 2>&1)
    rm -rf "$A/root"; for d in "$A"/debs/*.deb; do dpkg-deb -x "$d" "$A/root"; done
    lib=$A/root/usr/lib/x86_64-linux-gnu
    [ -e "$lib/ld-linux-x86-64.so.2" ] || { echo "prepare: no loader in the unpacked libc6" >&2; exit 1; }
    sdk=$(dirname "$(readlink -f "$(command -v dotnet)")")
    mkdir -p "$W/host13"; for x in host shared sdk packs; do [ -e "$sdk/$x" ] && ln -sfn "$sdk/$x" "$W/host13/$x"; done
    cp "$sdk/dotnet" "$W/host13/dotnet.tmp"
    patchelf --set-interpreter "$lib/ld-linux-x86-64.so.2" --set-rpath "$lib" "$W/host13/dotnet.tmp"
    mv "$W/host13/dotnet.tmp" "$W/host13/dotnet"
  ) || { echo "prepare: TorchSharp's host could not be made (see $W/trixie/apt.log)" >&2; status=1; }
fi
exit $status
