#!/usr/bin/env bash
# redis-benchmark's own tests beside redis-server, as the README's tables: each server alone on CPU 0 (one reactor),
# redis-benchmark on CPU 1, the tests one at a time in the order given (the list tests share `mylist`, sadd fills
# `myset` for spop), at pipeline 16 then 1 on a fresh server each; server CPU per request from /proc/PID/stat.
#   perf/side-by-side.sh [TESTS] [P16_REQUESTS] [P1_REQUESTS]
#   perf/side-by-side.sh lpush,rpop,zadd,zpopmin,lrange_100,hset,sadd,spop 1000000 200000   (the defaults)
# Prints one Markdown row a test: NativeKv P16 (us/req, req/s) | Redis P16 | NativeKv P1 | Redis P1.
# The machine should be quiet: on a shared one, CPU per request is the steadier of the two numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=${1:-lpush,rpop,zadd,zpopmin,lrange_100,hset,sadd,spop}
p16=${2:-1000000}
p1=${3:-200000}
bin=artifacts/nativekv
[ -x "$bin" ] || { echo "no $bin (./build.sh publish)" >&2; exit 2; }
tick=$(getconf CLK_TCK)
dir=$(mktemp -d)
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; rm -rf "$dir"' EXIT

start() {  # start SERVER PORT
  rm -rf "$dir/data"; mkdir -p "$dir/data"
  if [ "$1" = nativekv ]; then
    taskset -c 0 "$bin" --port "$2" --bind 127.0.0.1 --io-threads 1 --save "" --appendonly no --dir "$dir/data" >"$dir/log" 2>&1 &
  else
    taskset -c 0 redis-server --port "$2" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir/data" >"$dir/log" 2>&1 &
  fi
  pid=$!
  for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$1 did not start: $(tail -3 "$dir/log")" >&2; exit 1
}

cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

declare -A cell
for server in nativekv redis; do
  for p in 16 1; do
    n=$([ "$p" = 16 ] && echo "$p16" || echo "$p1")
    port=$(( 17000 + RANDOM % 20000 ))
    start "$server" "$port"
    for t in ${tests//,/ }; do
      before=$(cpu)
      rps=$(taskset -c 1 redis-benchmark -p "$port" -t "$t" -n "$n" -c 50 -P "$p" --csv | awk -F'"' 'NR==2 {print $4}')
      after=$(cpu)
      cell[$server,$p,$t]=$(awk -v c=$((after - before)) -v n="$n" -v tk="$tick" -v r="$rps" \
        'BEGIN { printf "%.2f, %dk", c * 1e6 / tk / n, r / 1000 + 0.5 }')
    done
    stop
  done
done
echo "| test | NativeKv P16 (us/req, req/s) | Redis P16 | NativeKv P1 | Redis P1 |"
echo "|---|---:|---:|---:|---:|"
for t in ${tests//,/ }; do
  echo "| $t | ${cell[nativekv,16,$t]} | ${cell[redis,16,$t]} | ${cell[nativekv,1,$t]} | ${cell[redis,1,$t]} |"
done
