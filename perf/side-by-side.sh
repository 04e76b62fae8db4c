#!/usr/bin/env bash
# redis-benchmark's own tests beside redis-server, as the README's tables: each server alone on CPU 0 (one reactor),
# redis-benchmark on CPU 1, the tests one at a time in the order given (the list tests share `mylist`, sadd fills
# `myset` for spop), at pipeline 16 then 1 on a fresh server each; server CPU per request from /proc/PID/stat.
# lrange_N is `LRANGE mylist 0 N-1` on a list of at least 10,000 elements LPUSHed first, outside the measurement.
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
    port=$(( 17000 + RANDOM % 15000 )) # below the ephemeral range (32768 up): a live connection's port cannot be listened on
    start "$server" "$port"
    for t in ${tests//,/ }; do
      bench=(-t "$t")
      if [[ $t == lrange_* ]]; then
        # -t lrange_N first LPUSHes as many elements as it then reads, inside the run: fill unmeasured,
        # then time the LRANGE alone (its first N elements, as -t lrange_N reads them).
        taskset -c 1 redis-benchmark -p "$port" -t lpush -n 10000 -c 50 -q >/dev/null
        bench=(lrange mylist 0 $(( ${t#lrange_} - 1 )))
      fi
      before=$(cpu)
      # The test's own row is the last one (-t lrange_N alone would print its LPUSH first).
      rps=$(taskset -c 1 redis-benchmark -p "$port" -n "$n" -c 50 -P "$p" --csv "${bench[@]}" | awk -F'"' 'NF > 3 && $2 != "test" {r = $4} END {print r}')
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
