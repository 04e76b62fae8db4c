#!/bin/bash
# Server CPU per request of one redis-benchmark test at pipeline 16, the server pinned to CPU 0 with one
# reactor and the benchmark on CPU 1 (the steadier number on a shared 2-core machine than requests/s).
#   perf/cpu-per-request.sh LABEL BINARY PORT TEST [KEYSPACE]   e.g. perf/cpu-per-request.sh new artifacts/nativekv 7613 get
# TEST is any redis-benchmark -t test (get, set, incr, ...; one key, no -r, as before), or one of the
# hash and set tests, which take -r KEYSPACE (default 100000):
#   hset  HSET myhash element:__rand_int__ xxx (redis-benchmark's): a hash of up to KEYSPACE fields
#   sadd  SADD myset element:__rand_int__:   a set of up to KEYSPACE members
#   zadd  ZADD myzset __rand_int__ element:__rand_int__ (redis-benchmark's with -r): a sorted set of up to KEYSPACE
#         members, paged past zset-max-listpack-entries (without -r it is one member, inline, and measures no tree)
#   spop  SPOP myset: myset is first filled with the members the warm-up and the run pop, plus 1,000 (every SPOP
#         hits; redis-benchmark's own -t spop pops an empty set unless sadd ran just before)
#   hget  HGET myhash element:__rand_int__: myhash is first filled with all KEYSPACE fields (every HGET hits)
#   hmget HMGET myhash of three random fields, after the same fill
#   hdel, srem  HDEL myhash / SREM myset element:__rand_int__ after the same fill (a field's first draw hits, its later
#         ones miss: with KEYSPACE 1000000 and REQUESTS 300000 three in four hit)
#   zscore, zrank  ZSCORE/ZRANK myzset element:__rand_int__; zrange  ZRANGE myzset 1000 1009 WITHSCORES; zrangebyscore
#         ZRANGEBYSCORE myzset __rand_int__ +inf LIMIT 0 10: myzset is first filled by 3 x KEYSPACE of zadd's ZADDs
#         (~95% of the KEYSPACE members, scores random in [0, KEYSPACE))
#   zpopmin ZPOPMIN myzset: myzset is first filled (as spop's set) with the members the warm-up and the run pop, plus 1,000
#   evalsha EVALSHA of a script of three INCRs (KEYS a b c), loaded first with SCRIPT LOAD
#   rpop  RPOP mylist: mylist is first filled (as spop's set) with the elements the warm-up and the run pop, plus 1,000
#         (every RPOP hits one large paged list; redis-benchmark's own -t rpop after lpush pops what lpush left)
# PIPELINE (environment, default 16) is redis-benchmark's -P; DATA (environment, default 3) its -d, the value size
# of SET, LPUSH and the other tests that send one (DATA=2048 lpush: a list of long elements, out of line once paged).
# REQUESTS (environment, default 2000000) is the measured run; the warm-up is a tenth of it.
# BINARY may be redis-server as well (it takes the same options here).
# Run two binaries interleaved, several rounds, and compare the best and the median.
set -euo pipefail
label=$1; bin=$2; port=$3; test=$4; keyspace=${5:-100000}
requests=${REQUESTS:-2000000}; warmup=$((requests / 10)); pipeline=${PIPELINE:-16}; data=${DATA:-3}
here=$(dirname "$0")
dir=$(mktemp -d)
taskset -c 0 "$bin" --port "$port" --io-threads 1 --save "" --appendonly no --dir "$dir" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
fill() {  # fill TYPE KEY COUNT FORMAT: COUNT fields/members through redis-cli --pipe, 100 per command
  taskset -c 1 python3 "$here/big_collection.py" gen --type "$1" --key "$2" --fields "$3" --format "$4" --batch 100 \
    | taskset -c 1 redis-cli -p "$port" --pipe --pipe-timeout 0 >/dev/null
}
# Options first: redis-benchmark takes everything after a command's name as its arguments.
case "$test" in
  hset|sadd|zadd) bench=(-r "$keyspace" -t "$test") ;;
  # 1,000 spare members: with 50 clients x 16 in flight redis-benchmark may send a few past -n.
  spop) bench=(-t spop); fill set myset $((warmup + requests + 1000)) 'm:%014d' ;;
  rpop) bench=(-t rpop); fill list mylist $((warmup + requests + 1000)) 'e:%014d' ;;
  hget) bench=(-r "$keyspace" HGET myhash element:__rand_int__); fill hash myhash "$keyspace" 'element:%012d' ;;
  hmget) bench=(-r "$keyspace" HMGET myhash element:__rand_int__ element:__rand_int__ element:__rand_int__)
    fill hash myhash "$keyspace" 'element:%012d' ;;
  hdel) bench=(-r "$keyspace" HDEL myhash element:__rand_int__); fill hash myhash "$keyspace" 'element:%012d' ;;
  srem) bench=(-r "$keyspace" SREM myset element:__rand_int__); fill set myset "$keyspace" 'element:%012d' ;;
  zscore|zrank|zrange|zrangebyscore)
    taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -n $((keyspace * 3)) -c 50 -q -r "$keyspace" -t zadd >/dev/null 2>&1
    case "$test" in
      zscore) bench=(-r "$keyspace" ZSCORE myzset element:__rand_int__) ;;
      zrank) bench=(-r "$keyspace" ZRANK myzset element:__rand_int__) ;;
      zrange) bench=(ZRANGE myzset 1000 1009 WITHSCORES) ;;
      zrangebyscore) bench=(-r "$keyspace" ZRANGEBYSCORE myzset __rand_int__ +inf LIMIT 0 10) ;;
    esac ;;
  zpopmin) bench=(-t zpopmin); fill zset myzset $((warmup + requests + 1000)) '' ;;
  evalsha) sha=$(redis-cli -p "$port" SCRIPT LOAD "redis.call('INCR', KEYS[1]); redis.call('INCR', KEYS[2]); return redis.call('INCR', KEYS[3])")
    bench=(EVALSHA "$sha" 3 a b c) ;;
  *) bench=(-t "$test") ;;
esac
taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -n "$warmup" -c 50 -d "$data" -q "${bench[@]}" >/dev/null 2>&1   # warm-up
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$pid/stat)
out=$(taskset -c 1 redis-benchmark -p "$port" -P "$pipeline" -n "$requests" -c 50 -d "$data" -q "${bench[@]}" 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -1)
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$pid/stat)
us=$(echo "scale=3; (($u2 + $s2) - ($u1 + $s1)) * 1000000 / $(getconf CLK_TCK) / $requests" | bc)
case "$test" in
  hset|hget|hmget|hdel) extra="  (HLEN myhash $(redis-cli -p "$port" hlen myhash))" ;;
  sadd|spop|srem) extra="  (SCARD myset $(redis-cli -p "$port" scard myset))" ;;
  lpush|rpop) extra="  (LLEN mylist $(redis-cli -p "$port" llen mylist))" ;;
  zadd|zpopmin|zscore|zrank|zrange|zrangebyscore) extra="  (ZCARD myzset $(redis-cli -p "$port" zcard myzset), $(redis-cli -p "$port" object encoding myzset))" ;;
  *) extra="" ;;
esac
echo "$label $test cpu_us/req=$us  $out$extra"
