#!/bin/bash
# Server CPU per request of one redis-benchmark test at pipeline 16, the server pinned to CPU 0 with one
# reactor and the benchmark on CPU 1 (the steadier number on a shared 2-core machine than requests/s).
#   perf/cpu-per-request.sh LABEL BINARY PORT TEST     e.g. perf/cpu-per-request.sh new artifacts/nativekv 7613 get
# Run two binaries interleaved, several rounds, and compare the best and the median.
set -euo pipefail
label=$1; bin=$2; port=$3; test=$4
dir=$(mktemp -d)
taskset -c 0 "$bin" --port "$port" --io-threads 1 --save "" --appendonly no --dir "$dir" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
taskset -c 1 redis-benchmark -p "$port" -t "$test" -P 16 -n 200000 -c 50 -q >/dev/null 2>&1   # warm-up
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
out=$(taskset -c 1 redis-benchmark -p "$port" -t "$test" -P 16 -n 2000000 -c 50 -q 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -1)
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$pid/stat)
us=$(echo "scale=3; (($u2 + $s2) - ($u1 + $s1)) * 1000000 / $(getconf CLK_TCK) / 2000000" | bc)
echo "$label $test cpu_us/req=$us  $out"
