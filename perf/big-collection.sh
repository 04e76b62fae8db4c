#!/usr/bin/env bash
# One big hash (or set, list, sorted set) in one key: load, memory, a PING probe's worst reply during the load, read-back,
# and the reply time of HLEN / HGET / HSCAN 1000 / DEL on it. NativeKv or redis-server, started here.
#   perf/big-collection.sh [--server nativekv|redis] [--type hash|set|list] [--fields N] [options]    (--help)
#   perf/big-collection.sh --fields 20000 --server redis      # a quick look (seconds)
#   perf/big-collection.sh --type set --timeout 600           # 5M members into NativeKv, --maxmemory 32mb
#
# What it does (numbers printed as "name: value" lines):
#  1. Writes the load's RESP input into its own temp folder first (perf/big_collection.py gen, about 0.5 s
#     per million fields), so the load is not paced by the generator: HSET KEY f v ... with --batch fields
#     per command (default 100; --batch 1 = one HSET per field). Field i is f:%014d (16 bytes), its value
#     v:%030d (32 bytes); member i of a set is m:%014d (16 bytes); element i of a list is e:%014d (16 bytes,
#     RPUSH: it lands at index i). Everything is derived from i, so the
#     read-back knows each expected reply without holding any.
#  2. Starts the server with `taskset -c 0` (--server-cpu), loopback, an empty data folder, persistence off:
#     NativeKv `--io-threads 1 --save "" --appendonly no --maxmemory 32mb`; redis-server `--save ""
#     --appendonly no` and no maxmemory (it cannot spill: a budget would only evict or refuse).
#  3. Load: `redis-cli --pipe --pipe-timeout 0` of the whole input with `taskset -c 1` (--client-cpu),
#     timed: seconds, fields/s, its replies and errors, the server's utime+stime over it (/proc/PID/stat).
#     Meanwhile a probe PINGs on its own connection every 10 ms (big_collection.py probe, also on CPU 1;
#     its first PING is not counted): worst, p99, p50, how many took over 50 ms, and a PING still
#     unanswered when the load ended (it waited at least that long). With one reactor the probe shares
#     the loader's event loop, so a long command shows as a long PING.
#  4. VmRSS and VmHWM from /proc/PID/status 200 ms after the load, INFO memory's used_memory (and
#     used_memory_rss where the server has it), HLEN/SCARD (must be N).
#  5. Read-back: HMGET (set: SMISMEMBER; list: LRANGE of --batch elements) of every field, --batch per command, pipelined 16 commands at a
#     time from one connection; counts missing fields, wrong values, error replies, and fields from one
#     batch past the end (never written) that are found. A read-back mismatch sets the exit code.
#  6. One connection, each command timed from send to its whole reply: HLEN, HGET of the middle field,
#     HSCAN KEY 0 COUNT 1000 (cursor and fields returned), DEL KEY, EXISTS KEY (set: SCARD, SISMEMBER,
#     SSCAN; list: LLEN, LINDEX of the middle, a quarter and -3, LRANGE of 100 at the middle, LSET, LPUSH,
#     RPOP); then VmRSS after the DEL, the server's total CPU seconds, and the wall-clock time.
# Bounded: --timeout (default 1800 s) caps the whole run: the load gets at most 3/4 of it, each later step
# what is left; a load cut short says so, skips the read-back and still reports memory and the timed
# commands (which may then wait behind the commands the server had already received).
# Exit code 0 only when the load finished, every field read back right and the timed replies were right. The server and the probe
# are stopped and the temp folder deleted on any exit (SIGTERM, then SIGKILL after 10 s).
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=perf

server=nativekv; binary=""; port=""; fields=5000000; type=hash; batch=100; maxmemory=""; timeout_s=1800
server_cpu=0; client_cpu=1; key=""
usage() {
  cat <<'EOF'
Usage: perf/big-collection.sh [options]
  --server nativekv|redis   server to start (default nativekv)
  --binary PATH             its executable (default artifacts/nativekv, or redis-server on PATH)
  --port N                  loopback port (default: a free one)
  --type hash|set|list      one hash of N fields (f:%014d = 16 bytes, values v:%030d = 32 bytes), one set
                            of N members (m:%014d = 16 bytes) or one list of N elements (e:%014d = 16 bytes,
                            RPUSH; read back with LRANGE, timed LINDEX at the middle cold), or one sorted set
                            of N members (z:%014d, member i scored i*P mod N, a permutation: read back with
                            ZMSCORE, timed ZSCORE/ZRANK/ZRANGE/ZRANGEBYSCORE/ZCOUNT cold) (default hash)
  --fields N                fields or members (default 5000000)
  --batch B                 fields per HSET / members per SADD in the load, and per HMGET / SMISMEMBER in
                            the read-back (default 100; 1 = one command per field)
  --key NAME                the key (default bighash / bigset)
  --maxmemory SIZE          NativeKv's --maxmemory (default 32mb; 0 = none). redis-server always runs
                            without one: it cannot spill, so a budget would only evict or refuse.
  --timeout S               bound on the whole run in seconds (default 1800); a load cut short is reported
                            with how far it got
  --server-cpu N / --client-cpu N   taskset CPUs (default 0 / 1)
EOF
}
while [ $# -gt 0 ]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --type) type=$2; shift 2 ;;
    --fields) fields=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --maxmemory) maxmemory=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --server-cpu) server_cpu=$2; shift 2 ;;
    --client-cpu) client_cpu=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
case "$server" in nativekv|redis) ;; *) echo "--server: nativekv or redis" >&2; exit 2 ;; esac
case "$type" in hash|set|list|zset) ;; *) echo "--type: hash, set, list or zset" >&2; exit 2 ;; esac
verb() { case "$type" in hash) echo HSET ;; set) echo SADD ;; list) echo RPUSH ;; zset) echo ZADD ;; esac; }
count_cmd() { case "$type" in hash) echo HLEN ;; set) echo SCARD ;; list) echo LLEN ;; zset) echo ZCARD ;; esac; }
for n in "$fields" "$batch" "$timeout_s"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "--fields, --batch and --timeout take positive integers" >&2; exit 2; }
done
[ -n "$key" ] || key=big$type
if [ "$server" = nativekv ]; then binary=${binary:-artifacts/nativekv}; maxmemory=${maxmemory:-32mb}
else binary=${binary:-$(command -v redis-server || true)}; fi
[ -x "$binary" ] || { echo "no executable '$binary' (NativeKv: ./build.sh publish)" >&2; exit 2; }
for tool in redis-cli python3 taskset; do command -v $tool >/dev/null || { echo "'$tool' not found" >&2; exit 2; }; done
[ -n "$port" ] || port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

started=$(date +%s.%N)
deadline=$(( $(date +%s) + timeout_s ))
left() { local l=$(( deadline - $(date +%s) )); [ $l -gt 0 ] && echo $l || echo 1; }
clk=$(getconf CLK_TCK)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/big-collection.XXXXXX")
pid=""; probe_pid=""
cleanup() {
  [ -n "$probe_pid" ] && kill "$probe_pid" 2>/dev/null || true
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%-28s %s\n' "$1:" "$2"; }
cpu_s() { awk -v clk="$clk" '{printf "%.2f", ($14 + $15) / clk}' "/proc/$pid/stat"; }
rss_mb() { awk -v f="$1" '$1 == f":" {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }
cli() { timeout "$(left)" taskset -c "$client_cpu" redis-cli -h 127.0.0.1 -p "$port" "$@"; }
info_mb() { cli info memory | tr -d '\r' | awk -F: -v f="$1" '$1 == f {printf "%.1f", $2 / 1048576; found = 1} END {if (!found) printf "n/a"}'; }
helper() { timeout "$(left)" taskset -c "$client_cpu" python3 "$HERE/big_collection.py" "$@" --type "$type" --key "$key" --fields "$fields"; }
calc() { awk "BEGIN {printf \"$1\", $2}"; }   # calc FORMAT EXPRESSION

# 1. The RESP input, written before the server starts so the load is not paced by the generator.
t0=$(date +%s.%N)
helper gen --batch "$batch" > "$scratch/load.resp"
say "input" "$(du -m "$scratch/load.resp" | cut -f1) MB of $(verb) $key with $batch per command, written in $(calc %.1f "$(date +%s.%N) - $t0") s"

# 2. The server, alone on its CPU, persistence off.
mkdir -p "$scratch/data"
if [ "$server" = nativekv ]; then
  args=(--port "$port" --bind 127.0.0.1 --dir "$scratch/data" --io-threads 1 --save "" --appendonly no)
  [ "$maxmemory" != 0 ] && args+=(--maxmemory "$maxmemory")
else
  args=(--port "$port" --bind 127.0.0.1 --dir "$scratch/data" --save "" --appendonly no)
fi
taskset -c "$server_cpu" "$binary" "${args[@]}" > "$scratch/server.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ] && break
  kill -0 "$pid" 2>/dev/null || { echo "server exited at start:" >&2; tail -5 "$scratch/server.log" >&2; exit 1; }
  sleep 0.1
done
say "server" "$server ($("$binary" --version 2>/dev/null | head -1)) pid $pid port $port, CPU $server_cpu, $([ "$server" = nativekv ] && echo "--io-threads 1 --maxmemory $maxmemory" || echo "no maxmemory")"
say "fields" "$fields $type $(case "$type" in hash) echo "fields (16 B) with 32 B values" ;; set) echo "members (16 B)" ;; list) echo "elements (16 B)" ;; zset) echo "members (16 B), scores a permutation of 0..N-1" ;; esac)"
say "rss fresh (MB)" "$(rss_mb VmRSS)"

# 3. The load, with a probe PINGing every 10 ms on its own connection (with one reactor it shares the loader's).
taskset -c "$client_cpu" python3 "$HERE/big_collection.py" probe --port "$port" --out "$scratch/probe.txt" &
probe_pid=$!
for _ in $(seq 100); do [ -e "$scratch/probe.txt.ready" ] && break; sleep 0.05; done
cpu0=$(cpu_s)
t0=$(date +%s.%N)
set +e
# The load gets at most three quarters of what is left: a cut-short load still leaves time to report on it.
load_budget=$(( $(left) * 3 / 4 )); [ "$load_budget" -ge 1 ] || load_budget=1
timeout "$load_budget" taskset -c "$client_cpu" redis-cli -h 127.0.0.1 -p "$port" --pipe --pipe-timeout 0 < "$scratch/load.resp" > "$scratch/pipe.txt" 2>&1
load_rc=$?
set -e
load_s=$(calc %.3f "$(date +%s.%N) - $t0")
cpu1=$(cpu_s)
kill -TERM "$probe_pid" 2>/dev/null || true
wait "$probe_pid" 2>/dev/null || true
probe_pid=""
kill -0 "$pid" 2>/dev/null || { echo "server exited during the load:" >&2; tail -5 "$scratch/server.log" >&2; exit 1; }
replies=$(grep -o 'errors: [0-9]*, replies: [0-9]*' "$scratch/pipe.txt" || true)
# Finished = every reply came back (redis-cli --pipe prints the count); error replies are reported, and counted by the read-back.
load_done=0; [ "$load_rc" -ne 124 ] && [ -n "$replies" ] && load_done=1
if [ "$load_rc" -eq 124 ]; then say "load" "NOT FINISHED: cut after $(printf '%.1f' "$load_s") s (3/4 of --timeout $timeout_s)"
else say "load" "$(printf '%.2f' "$load_s") s, $(calc %.0f "$fields / $load_s") fields/s (redis-cli --pipe: ${replies:-$(tail -1 "$scratch/pipe.txt")})"; fi
grep -v -e '^All data transferred' -e '^Last reply received' -e '^errors: ' "$scratch/pipe.txt" | head -1 | sed 's/^/  first other line (an error?): /' || true
say "server cpu during load (s)" "$(calc %.2f "$cpu1 - $cpu0") ($(calc %.2f "($cpu1 - $cpu0) * 1000000 / $fields") us/field; 10 ms ticks)"
sed 's/^/  /' "$scratch/probe.txt"

# 4. Memory after the load.
sleep 0.2
say "rss after load (MB)" "$(rss_mb VmRSS) (peak VmHWM $(rss_mb VmHWM))"
say "info used_memory (MiB)" "$(info_mb used_memory) (used_memory_rss $(info_mb used_memory_rss))"
count=$(cli "$(count_cmd)" "$key" 2>&1 | tr -d '\r')
say "$(count_cmd) after load" "$count$([ "$count" = "$fields" ] && echo "" || echo "   (expected $fields)")"
# NativeKv's log and compaction counters over the load (what the log wrote, what compaction looked at and read).
[ "$server" = nativekv ] && say "store after load" "$(cli info memory | tr -d '\r' | grep -E '^store_(log_appended|log_compaction_copy_bytes|compactions|compaction_records|compaction_disk_checks|compaction_superseded|superseded_marks_bytes|disk_reads|disk_writes):' | tr '\n' ' ')"

# 5. Every field read back, then the single commands (each timed from send to whole reply).
if [ "$load_done" -eq 1 ] && [ "$(left)" -gt 1 ]; then
  set +e
  helper verify --batch "$batch" --port "$port" | sed 's/^/  /'
  verify_rc=${PIPESTATUS[0]}
  set -e
  say "read-back" "$([ "$verify_rc" -eq 0 ] && echo "every field matches" || echo "MISMATCHES (above)")"
else
  say "read-back" "skipped (the load did not finish)"
  verify_rc=1
fi
set +e
helper timed --port "$port" | sed 's/^/  /'
timed_rc=${PIPESTATUS[0]}
set -e
sleep 0.2
say "rss after DEL (MB)" "$(rss_mb VmRSS)"
say "server cpu total (s)" "$(cpu_s)"
say "took (s)" "$(calc %.1f "$(date +%s.%N) - $started")"
# Exit code: 0 only when the load finished, every field read back right, and the timed replies were as expected.
[ "$load_done" -eq 1 ] && [ "$verify_rc" -eq 0 ] && [ "$timed_rc" -eq 0 ]
