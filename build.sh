#!/usr/bin/env bash
# Entry point for every build task: restores the local tools (Cake) and runs build.cake.
#   ./build.sh --target=Demo | Test | Build | Publish
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
