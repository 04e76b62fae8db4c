#!/usr/bin/env bash
# Side-by-side load harness: NativeKv vs redis-server vs garnet-server under redis-benchmark.
#   ./build.sh bench [--quick] [options]     (this script; --help lists the options)
#   ./build.sh bench --ltm [--ltm-keys N]    only the larger-than-memory scenario (NativeKv vs Garnet, 64 MB)
# Makes sure everything is there, then runs perf/NativeKv.LoadHarness:
#   - artifacts/nativekv: published with ./build.sh publish when missing or older than src/
#   - redis-server, redis-benchmark, redis-cli: Debian packages, through apt (as root or with sudo)
#   - garnet-server: .NET tool installed into perf/.tools/garnet (gitignored); not for --backends, nor
#     when --servers leaves it out
#   - with --backends (NativeKv's epoll vs io_uring reactor backends): perf (linux-perf) and strace,
#     through apt, to count the server's system calls
# Results: Markdown on stdout; Markdown + CSV in perf/results/<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
GARNET_VERSION=2.2.8
GARNET_DIR=perf/.tools/garnet
HARNESS=perf/NativeKv.LoadHarness

BACKENDS=""
NO_GARNET=""   # --servers without garnet: nothing to install for it
prev=""
for a in "$@"; do
  case "$a" in
    -h|--help) exec dotnet run -c Release --project "$HARNESS" -- --help ;;
    --backends) BACKENDS=1 ;;
    --servers=*) [[ "${a#--servers=}" == *garnet* ]] || NO_GARNET=1 ;;
  esac
  [ "$prev" = --servers ] && { [[ "$a" == *garnet* ]] || NO_GARNET=1; }
  prev=$a
done

apt_get() {
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  if [ -z "${APT_UPDATED:-}" ]; then $sudo apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

apt_install() {
  # apt_install <command> <package...>: installs the packages when the command is missing.
  command -v "$1" >/dev/null 2>&1 && return 0
  local cmd=$1; shift
  echo "==> installing $* (for $cmd)" >&2
  apt_get "$@"
}

# 1. The NativeKv AOT binary, rebuilt when any source is newer than it.
if [ ! -x artifacts/nativekv ] || [ -n "$(find src Directory.Build.props -newer artifacts/nativekv \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' \) -not -path '*/obj/*' -not -path '*/bin/*' 2>/dev/null | head -1)" ]; then
  echo "==> artifacts/nativekv is missing or stale: publishing" >&2
  if ! ./build.sh publish >&2; then
    [ -x artifacts/nativekv ] || exit 1
    echo "==> publish failed: benchmarking the existing (stale) artifacts/nativekv" >&2
    export NKV_BENCH_STALE_BINARY=1
  fi
fi

# 2. Redis server and tools (redis-benchmark, redis-cli); taskset and setpriv come with util-linux.
[ -n "$BACKENDS" ] || apt_install redis-server redis-server
apt_install redis-benchmark redis-tools
apt_install taskset util-linux

# 3. --backends: system-call counters (perf stat on the raw_syscalls tracepoint; strace when perf
#    cannot count it here). Garnet is not needed. A failed install only costs the syscall column.
if [ -n "$BACKENDS" ]; then
  apt_install perf linux-perf || echo "==> could not install linux-perf" >&2
  apt_install strace strace || echo "==> could not install strace" >&2
# Otherwise Garnet, as a local .NET tool (unless --servers leaves it out).
elif [ -z "$NO_GARNET" ] && [ ! -x "$GARNET_DIR/garnet-server" ]; then
  echo "==> installing garnet-server $GARNET_VERSION into $GARNET_DIR" >&2
  dotnet tool install garnet-server --version "$GARNET_VERSION" --tool-path "$GARNET_DIR" >&2
fi

# 4. The harness. NKV_BENCH_COMMAND is the command line the report quotes.
export NKV_BENCH_COMMAND="./build.sh bench${*:+ $*}"
dotnet build "$HARNESS" -c Release -nologo -v quiet >&2
exec dotnet run -c Release --no-build --project "$HARNESS" -- "$@"
