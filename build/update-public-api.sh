#!/usr/bin/env bash
# Regenerates PublicAPI.Unshipped.txt of every shipped library after a deliberate public API change (or a merge):
# runs the PublicApiAnalyzers code fixes (RS0016 adds each new public symbol, RS0017 removes each one gone, RS0036/
# RS0037 fix nullable annotations) through `dotnet format analyzers`, project by project, then builds them to check.
# Usage, from anywhere in the clone: build/update-public-api.sh
# The shipped set is the one Directory.Build.targets tracks (RnnFastTrackPublicApi); keep the two in step.
set -euo pipefail
cd "$(dirname "$0")/.."
projects=(
  src/RnnFast.Core/RnnFast.Core.csproj
  bindings/RnnFast.Bindings.OneDnn/RnnFast.Bindings.OneDnn.csproj
  bindings/RnnFast.Bindings.OpenCL/RnnFast.Bindings.OpenCL.csproj
  bindings/RnnFast.Bindings.Cuda/RnnFast.Bindings.Cuda.csproj
  src/RnnFast.Backends.OneDnn/RnnFast.Backends.OneDnn.csproj
  src/RnnFast.Backends.OpenCL/RnnFast.Backends.OpenCL.csproj
  src/RnnFast.Backends.Cuda/RnnFast.Backends.Cuda.csproj
  src/RnnFast/RnnFast.csproj
)
for p in "${projects[@]}"; do
  dir=$(dirname "$p")
  for f in PublicAPI.Shipped.txt PublicAPI.Unshipped.txt; do
    [ -f "$dir/$f" ] || printf '#nullable enable\n' > "$dir/$f"
  done
  echo "== $p"
  dotnet restore "$p" >/dev/null
  dotnet format analyzers "$p" --no-restore --diagnostics RS0016 RS0017 RS0036 RS0037 --severity info
done
# Every shipped project must now build clean (RS0016/RS0017/RS0036/RS0037 and CS1591 are errors there); the umbrella
# project references all the others.
# The code fix misses some members (a record's compiler-made ones after the record changed): a second pass adds or
# removes exactly what the analyzers still report, until the build is clean.
for pass in 1 2 3; do
  log=$(dotnet build src/RnnFast/RnnFast.csproj -c Release --no-restore 2>&1 || true)
  grep -qE "error RS001[67]" <<<"$log" || break
  python3 build/fix-public-api-from-build.py <<<"$log"
done
grep -E " error |rror\(s\)" <<<"$log" || true
git status --short -- '*PublicAPI.*.txt'
