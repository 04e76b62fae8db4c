#!/usr/bin/env bash
# redis-benchmark's own tests, NativeKv and redis-server alternated round by round on fresh servers, at pipeline 16
# and 1: the steadier comparison on a shared machine than one run of each (perf/side-by-side.sh), as each round's
# ratio is taken between neighbours in time. Each server alone `taskset -c 0 ... --io-threads 1 --save ""
# --appendonly no`, `taskset -c 1 redis-benchmark -c 50 -t TEST` after a warm-up of a tenth of the requests;
# server CPU per request from /proc/PID/stat (every thread of the process).
#   perf/interleaved.sh [TESTS] [ROUNDS] [BINARY]    e.g. perf/interleaved.sh hset,sadd,spop 5
# Prints a line per round, then per test and pipeline the median of the rounds' ratios (NativeKv / Redis) of
# CPU per request (lower is better) and of requests/s (higher is better).
set -euo pipefail
cd "$(dirname "$0")/.."
tests=${1:-hset,sadd,spop}
rounds=${2:-5}
bin=${3:-artifacts/nativekv}
[ -x "$bin" ] || { echo "no $bin (./build.sh publish)" >&2; exit 2; }
tick=$(getconf CLK_TCK)
dir=$(mktemp -d)
pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
trap 'stop; rm -rf "$dir"' EXIT

measure() {  # measure SERVER TEST PIPELINE REQUESTS -> "cpu_us rps"
  # Below the ephemeral range (32768 up here): a port a live connection holds cannot be listened on.
  local port=$(( 17000 + RANDOM % 15000 ))
  rm -rf "$dir/data"; mkdir -p "$dir/data"
  if [ "$1" = nativekv ]; then
    taskset -c 0 "$bin" --port "$port" --bind 127.0.0.1 --io-threads 1 --save "" --appendonly no --dir "$dir/data" >"$dir/log" 2>&1 &
  else
    taskset -c 0 redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir/data" >"$dir/log" 2>&1 &
  fi
  pid=$!
  local up=
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && { up=1; break; }; sleep 0.1; done
  [ -n "$up" ] || { echo "$1 did not start on port $port: $(tail -3 "$dir/log")" >&2; exit 1; }
  timeout 300 taskset -c 1 redis-benchmark -p "$port" -n $(($4 / 10)) -c 50 -P "$3" -q -t "$2" >/dev/null 2>&1
  local before after rps
  before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rps=$(timeout 300 taskset -c 1 redis-benchmark -p "$port" -n "$4" -c 50 -P "$3" --csv -t "$2" | awk -F'"' 'NF > 3 && $2 != "test" {r = $4} END {print r}')
  after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  stop
  awk -v c=$((after - before)) -v n="$4" -v tk="$tick" -v r="$rps" 'BEGIN { printf "%.3f %.0f", c * 1e6 / tk / n, r }'
}

results=$dir/results
: > "$results"
for t in ${tests//,/ }; do
  for p in 16 1; do
    n=$([ "$p" = 16 ] && echo 1000000 || echo 200000)
    for r in $(seq "$rounds"); do
      a=$(measure nativekv "$t" "$p" "$n")
      b=$(measure redis "$t" "$p" "$n")
      echo "$t P$p round $r: NativeKv $a, Redis $b (us/req, req/s)"
      echo "$t P$p $a $b" >> "$results"
    done
  done
done
echo "| test | CPU/request NativeKv / Redis (median of rounds) | requests/s NativeKv / Redis (median) |"
echo "|---|---:|---:|"
awk '{ key = $1 " " $2; c[key] = c[key] " " $3 / $5; q[key] = q[key] " " $4 / $6; order[key] = NR }
  function median(s,   a, n, i, j, t) { n = split(s, a, " "); for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
  END { for (k in order) printf "| %s | %.2fx | %.2fx |\n", k, median(c[k]), median(q[k]) }' "$results" | sort
