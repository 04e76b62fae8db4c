#!/usr/bin/env bash
# NativeKv build entry point. Usage:
#   ./build.sh run [nativekv options]   build (if needed) and start the server on 127.0.0.1:6379
#   ./build.sh test                     install test tools, build, run every test suite
#   ./build.sh publish                  Native AOT single binary -> artifacts/nativekv
#   ./build.sh build                    build everything (Release)
#   ./build.sh bench [args]             side-by-side load harness (perf/bench.sh)
#   ./build.sh micro [filter]           BenchmarkDotNet micro-benchmarks
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

need_apt() {
  # Installs Debian packages when their command is missing (as root, or through sudo).
  local cmd=$1; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "==> installing $* (for $cmd)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

need_lua() {
  # Lua 5.1 with cjson and bit (Redis's scripting): the static libraries for the AOT link, the shared
  # ones for the JIT build and tests. Checked by file: the packages install no command.
  local d=/usr/lib/x86_64-linux-gnu
  [ -f $d/liblua5.1.a ] && [ -f $d/liblua5.1-cjson.a ] && [ -f $d/liblua5.1-bitop.a ] && return 0
  need_apt lua-none-present liblua5.1-0-dev lua-cjson-dev lua-bitop-dev
}

publish() {
  need_lua
  # The AOT linker step needs clang (preferred) or gcc.
  command -v clang >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || need_apt clang clang
  dotnet publish src/Server/NativeKv.Server.csproj -c Release -r linux-x64 -o artifacts/publish -nologo -v quiet
  mkdir -p artifacts
  # Replace by rename: a running copy of the old binary keeps working.
  cp artifacts/publish/nativekv artifacts/nativekv.tmp && mv -f artifacts/nativekv.tmp artifacts/nativekv
  echo "==> artifacts/nativekv ($(du -h artifacts/nativekv | cut -f1))"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
  deps)
    need_lua
    ;;
  build)
    need_lua
    dotnet build NativeKv.sln -c Release -nologo -v quiet
    ;;
  run)
    if [ ! -x artifacts/nativekv ] || [ -n "$(find src -newer artifacts/nativekv -name '*.cs' -o -newer artifacts/nativekv -name '*.csproj' | head -1)" ]; then
      publish
    fi
    exec artifacts/nativekv "$@"
    ;;
  publish)
    publish
    ;;
  test)
    need_apt redis-cli redis-tools
    need_lua
    dotnet build NativeKv.sln -c Release -nologo -v quiet
    # Each test project is a Microsoft.Testing.Platform executable (TUnit); run them all.
    dotnet test --solution NativeKv.sln -c Release --no-build "$@"
    ;;
  bench)
    exec perf/bench.sh "$@"
    ;;
  micro)
    dotnet run -c Release --project perf/NativeKv.Perf -- --filter "${1:-*}"
    ;;
  *)
    echo "unknown command '$cmd' (use run, test, publish, build, bench, micro)" >&2
    exit 2
    ;;
esac
