#!/usr/bin/env bash
# A cold whole-collection read (HGETALL, or SMEMBERS for --type set) of one big paged collection:
# load it, push its pages out of memory with 1 KB SETs, then time the read while a probe PINGs on
# another connection of the same reactor.
#   perf/cold-read.sh [--binary PATH] [--type hash|set] [--fields N] [--maxmemory SIZE] [--churn N]
# Prints: read seconds, elements replied, INFO store_disk_reads over the read, server CPU seconds
# over the read (utime+stime), VmRSS before and the highest VmRSS sampled every 20 ms during it, and
# the probe's worst / p99 PING. Server on CPU 0 (taskset), clients on CPU 1, loopback, --io-threads 1,
# persistence off; everything stopped and the temp folder deleted on exit. Bounded: --timeout (600 s).
set -euo pipefail
cd "$(dirname "$0")/.."
binary=artifacts/nativekv; type=hash; fields=1000000; maxmemory=32mb; churn=40000; timeout_s=600
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2;; --type) type=$2; shift 2;; --fields) fields=$2; shift 2;;
    --maxmemory) maxmemory=$2; shift 2;; --churn) churn=$2; shift 2;; --timeout) timeout_s=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
tmp=$(mktemp -d); pid=""; probe=""
cleanup() { [ -n "$probe" ] && kill "$probe" 2>/dev/null || true; [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
key=big; cmd=HGETALL; [ "$type" = set ] && cmd=SMEMBERS
python3 perf/big_collection.py gen --type "$type" --key "$key" --fields "$fields" --batch 100 > "$tmp/load.resp"
python3 - "$churn" > "$tmp/churn.resp" <<'EOF'
import sys
v = b"x" * 1000
for i in range(int(sys.argv[1])):
    k = b"k%d" % i
    sys.stdout.buffer.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1000\r\n%s\r\n" % (len(k), k, v))
EOF
mkdir "$tmp/data"
taskset -c 0 "$binary" --port "$port" --bind 127.0.0.1 --dir "$tmp/data" --io-threads 1 --maxmemory "$maxmemory" \
  --save "" --appendonly no > "$tmp/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
cli() { timeout "$timeout_s" taskset -c 1 redis-cli -p "$port" "$@"; }
cli --pipe --pipe-timeout 0 < "$tmp/load.resp" | tail -1
cli --pipe --pipe-timeout 0 < "$tmp/churn.resp" | tail -1
info() { cli info | tr -d '\r' | awk -F: -v f="$1" '$1==f {print $2}'; }
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; }
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
reads0=$(info store_disk_reads); cpu0=$(cpu); rss0=$(rss)
taskset -c 1 python3 perf/big_collection.py probe --port "$port" --interval-ms 10 --out "$tmp/probe" &
probe=$!
for _ in $(seq 100); do [ -f "$tmp/probe.ready" ] && break; sleep 0.05; done
( peak=0; while kill -0 "$pid" 2>/dev/null && [ ! -f "$tmp/done" ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r && echo "$peak" > "$tmp/peak"; sleep 0.02; done ) &
sampler=$!
t0=$(date +%s.%N)
lines=$(cli "$cmd" "$key" | wc -l)
t1=$(date +%s.%N)
touch "$tmp/done"; wait "$sampler" 2>/dev/null || true
kill "$probe"; wait "$probe" 2>/dev/null || true; probe=""
reads1=$(info store_disk_reads); cpu1=$(cpu)
hz=$(getconf CLK_TCK)
echo "read: $cmd of $fields ($type) under --maxmemory $maxmemory"
echo "read_seconds: $(echo "$t1 - $t0" | bc)"
echo "reply_lines: $lines"
echo "store_disk_reads: $((reads1 - reads0))"
echo "server_cpu_seconds: $(echo "scale=2; ($cpu1 - $cpu0) / $hz" | bc)"
echo "rss_before_kb: $rss0"
echo "rss_peak_during_kb: $(cat "$tmp/peak" 2>/dev/null || echo "$rss0")"
cat "$tmp/probe"
