#!/usr/bin/env python3
"""Records the sorted set transcripts of SortedSetCommandTests from a real redis-server.

    redis-server --port 7301 --save "" --appendonly no &
    python3 record-zset-transcripts.py record 7301 ranges > ZSetTranscripts.cs         # the expected bytes
    python3 record-zset-transcripts.py record 7301 others > ZSetTranscripts.Others.cs
    python3 record-zset-transcripts.py compare 7301 7302                    # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL and the default zset thresholds, once in RESP2
and once after HELLO 3. Replies are kept byte for byte (one RESP value each).
The installed server is 7.0.15; 7.2 (the reference) prints scores with fpconv's shortest digits where
7.0 used %.17g, so the scores here are ones both print alike (integers, halves, quarters, inf). What
only 7.2 has (ZRANK WITHSCORE, its encoding hints) is in SortedSetEncodingTests."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "AddIncr": [
        "zadd z 1 a", "zadd z 2 b 3 c", "zadd z 1 a", "zadd z 5 a", "zscore z a", "zadd z ch 6 a 7 b 8 d", "zcard z",
        "zadd z nx 100 a 9 e", "zscore z a", "zadd z xx 100 a 9 f", "zscore z a", "zscore z f",
        "zadd z gt 50 a", "zscore z a", "zadd z gt ch 150 a", "zadd z lt ch 1 a 2 b", "zrange z 0 -1 withscores",
        "zadd z xx gt 0 c", "zadd z xx lt 0 c", "zscore z c", "zadd z nx xx 1 a", "zadd z nx gt 1 a", "zadd z gt lt 1 a",
        "zadd z lt nx 1 a", "zadd z incr 1 a 2 b", "zadd z incr 2.5 a", "zadd z incr nx 1 a", "zadd z incr nx 1 new",
        "zadd z incr xx 1 nosuch", "zadd z incr gt -1000 a", "zadd z incr lt -1000 a", "zadd z 1", "zadd z 1 a 2",
        "zadd z abc a", "zadd z nan a", "zadd z 1 a nan b", "zadd z \"\" a", "zadd z \" 1\" a", "zadd z 0x10 hex", "zadd z 1e400 big", "zadd z 1e-400 tiny",
        "zadd z 0x1p-2 hx", "zadd z 0x zz", "zadd z 1x zz", "zadd z \"1 \" zz", "zadd z infinity zz", "zrem z zz",
        "zadd z inf pinf -inf minf +inf plus", "zrange z 0 -1 withscores", "zadd z incr -inf pinf",
        "zincrby z 1 a", "zincrby z -0.5 a", "zincrby z 3 fresh", "zincrby z abc a", "zincrby z inf minf",
        "zincrby z 1 a b", "zincrby z nx a", "zincrby nokey 2.25 m", "zrange nokey 0 -1 withscores",
        "zadd xx xx 1 a", "exists xx", "zadd z 1e3 sci 2.5e-1 q -0 negz", "zrange z 0 -1 withscores",
        "zadd e \"\" 1", "zadd e 1 \"\"", "zscore e \"\"", "zadd bin 1 \\xff\\x00 2 \\x00", "zrange bin 0 -1",
    ],
    "RemCardScore": [
        "zadd z 1 a 2 b 3 c 4 d", "zrem z a x", "zrem z b b c", "zcard z", "zrem z d", "exists z", "zrem z d", "zcard z",
        "zrem nokey a", "zadd z 1 a 2 b 3 c 3 cc", "zscore z a", "zscore z x", "zscore nokey a", "zmscore z a x c",
        "zmscore nokey a b", "zrank z a", "zrank z cc", "zrank z x", "zrank nokey a", "zrevrank z a", "zrevrank z cc",
        "zrevrank z x", "zrank z", "zrank z a b c", "zmscore z", "zscore z", "zcard", "zcard z x",
    ],
    "RangeByRank": [
        "zadd z 1 a 2 b 3 c 4 d 5 e", "zrange z 0 -1", "zrange z 0 -1 withscores", "zrange z 1 2", "zrange z -2 -1",
        "zrange z -100 100", "zrange z 3 1", "zrange z 5 10", "zrange z 0 0 rev", "zrange z 0 -1 rev withscores",
        "zrange z 0 1 limit 0 1", "zrange z x 1", "zrange z 0 1.5", "zrange z 0 1 foo", "zrange nokey 0 -1",
        "zrevrange z 0 -1", "zrevrange z 0 1 withscores", "zrevrange z -1 -1", "zrevrange z 0 1 rev",
        "zrange z 0 -1 withscores withscores", "zrange z 0 -1 rev rev", "zrange z 0 -1 byscore byscore",
    ],
    "RangeByScore": [
        "zadd z 1 a 2 b 3 c 4 d 5 e -inf m inf p", "zrange z 2 4 byscore", "zrange z (2 4 byscore withscores",
        "zrange z 2 (4 byscore", "zrange z (2 (4 byscore", "zrange z -inf +inf byscore", "zrange z 4 2 byscore rev",
        "zrange z 4 2 byscore", "zrange z (4 (4 byscore", "zrange z 4 4 byscore", "zrange z -inf +inf byscore limit 1 2",
        "zrange z -inf +inf byscore limit 1 -1", "zrange z -inf +inf byscore limit -1 2", "zrange z -inf +inf byscore limit 0 0",
        "zrange z +inf -inf byscore rev limit 2 3 withscores", "zrange z a b byscore", "zrange z ( 1 byscore",
        "zrange z 1 nan byscore", "zrange z \"\" 1 byscore", "zrange z \" 1\" 2 byscore", "zrange z \"1 \" 2 byscore",
        "zrange z 1e400 inf byscore", "zrange z 0x1 0x2 byscore", "zrange z \" \" 2 byscore", "zrange z 1 2 byscore limit x 1", "zrange z 1 2 byscore limit 1",
        "zrangebyscore z 2 4", "zrangebyscore z 2 4 withscores limit 1 1", "zrangebyscore z -inf inf",
        "zrangebyscore z 1 2 rev", "zrevrangebyscore z 4 2", "zrevrangebyscore z 4 2 withscores", "zrevrangebyscore z 2 4",
        "zrevrangebyscore z +inf -inf limit 0 2", "zrangebyscore nokey 1 2", "zcount z 2 4", "zcount z (2 (4",
        "zcount z -inf +inf", "zcount z 4 2", "zcount z x 2", "zcount nokey 1 2", "zrangebyscore z 1 2 byscore",
    ],
    "RangeByLex": [
        "zadd z 0 a 0 b 0 c 0 d 0 e 0 ee", "zrange z [b [d bylex", "zrange z (b (d bylex", "zrange z - + bylex",
        "zrange z + - bylex rev", "zrange z [d [b bylex rev", "zrange z - [c bylex", "zrange z (c + bylex",
        "zrange z - + bylex limit 1 2", "zrange z - + bylex limit 2 -1", "zrange z - + bylex withscores",
        "zrange z b d bylex", "zrange z [b +x bylex", "zrange z [e [e bylex", "zrange z (e [e bylex",
        "zrange z + + bylex", "zrange z - - bylex", "zrange z [ [ bylex", "zrange z ( + bylex",
        "zrangebylex z [b [e", "zrangebylex z - + limit 2 2", "zrevrangebylex z [e [b", "zrevrangebylex z + - limit 1 1",
        "zrangebylex z [b [e withscores", "zrangebylex nokey - +", "zlexcount z - +", "zlexcount z [b (e",
        "zlexcount z (e [b", "zlexcount z x y", "zlexcount nokey - +", "zadd m 1 a 2 b 0 c", "zrangebylex m - +",
        "zrangebylex m [b +", "zlexcount m [b +",
    ],
    "RemRange": [
        "zadd z 1 a 2 b 3 c 4 d 5 e", "zremrangebyrank z 0 0", "zrange z 0 -1", "zremrangebyrank z -2 -1",
        "zrange z 0 -1", "zremrangebyrank z 5 10", "zremrangebyrank z x 1", "zremrangebyrank z 0 -1", "exists z",
        "zadd z 1 a 2 b 3 c 4 d 5 e", "zremrangebyscore z (1 3", "zrange z 0 -1", "zremrangebyscore z 10 20",
        "zremrangebyscore z x 1", "zremrangebyscore z -inf +inf", "exists z", "zadd z 0 a 0 b 0 c 0 d",
        "zremrangebylex z [b (d", "zrange z 0 -1", "zremrangebylex z x y", "zremrangebylex z - +", "exists z",
        "zremrangebyrank nokey 0 -1", "zremrangebyscore nokey 0 1", "zremrangebylex nokey - +",
    ],
    "RangeStore": [
        "zadd src 1 a 2 b 3 c 4 d", "zrangestore dst src 0 1", "zrange dst 0 -1 withscores", "zrangestore dst src 2 3 byscore",
        "zrange dst 0 -1 withscores", "zrangestore dst src (1 +inf byscore limit 1 1", "zrange dst 0 -1 withscores",
        "zrangestore dst src [b [c bylex", "zrange dst 0 -1", "zrangestore dst src 0 -1 rev", "zrange dst 0 -1",
        "zrangestore dst src 10 20", "exists dst", "zrangestore dst src 0 -1", "zrangestore dst nokey 0 -1",
        "exists dst", "zrangestore dst src 0 -1 withscores", "zrangestore dst src", "set str x",
        "zrangestore str src 0 0", "type str", "zrangestore dst str 0 0", "zrangestore src src 1 2", "zrange src 0 -1",
    ],
    "Pop": [
        "zadd z 1 a 2 b 3 c 4 d 5 e", "zpopmin z", "zpopmax z", "zpopmin z 2", "zpopmax z 0", "zpopmin z -1",
        "zpopmin z x", "zpopmin z 1 2", "zpopmin z 10", "exists z", "zpopmin z", "zpopmin z 3", "zpopmax nokey",
        "zadd z 1 a 2 b 3 c", "zmpop 1 z min", "zmpop 1 z max count 5", "zmpop 1 z min", "zadd y 1 a 2 b",
        "zmpop 2 z y max count 1", "zmpop 2 z y min count 10", "zmpop 0 z min", "zmpop 1 z", "zmpop 1 z mid",
        "zmpop 1 z min count 0", "zmpop 1 z min count x", "zmpop 1 z min count 1 count 1", "zmpop 5 z min", "zmpop x z min",
        "zadd b 1 a 2 b", "bzpopmin b 0", "bzpopmax b 0", "exists b", "bzpopmin b 0.01", "bzpopmin b -1",
        "bzpopmin b x", "zadd b 1 a 2 b 3 c", "bzmpop 0 1 b max count 2", "bzmpop 0.01 1 nokey min",
        "bzmpop 0 0 b min", "bzmpop x 1 b min", "set str v", "zpopmin str", "zmpop 1 str min", "bzpopmin str 0",
        "zmpop 2 nokey str min",
    ],
    "Algebra": [
        "zadd a 1 x 2 y 3 z", "zadd b 10 y 20 z 30 w", "sadd s x w q", "zunion 2 a b", "zunion 2 a b withscores",
        "zinter 2 a b withscores", "zdiff 2 a b withscores", "zunion 2 a b weights 2 0.5 withscores",
        "zunion 2 a b aggregate min withscores", "zunion 2 a b aggregate max withscores",
        "zinter 2 a b weights 1 -1 aggregate max withscores", "zunion 3 a b s withscores", "zinter 2 a s withscores",
        "zdiff 2 s a withscores", "zunion 3 a b nokey withscores", "zinter 2 a nokey", "zdiff 2 nokey a",
        "zunionstore dst 2 a b", "zrange dst 0 -1 withscores", "zinterstore dst 2 a b weights 2 3",
        "zrange dst 0 -1 withscores", "zdiffstore dst 2 a b", "zrange dst 0 -1 withscores", "zinterstore dst 2 a nokey",
        "exists dst", "zintercard 2 a b", "zintercard 2 a b limit 1", "zintercard 2 a b limit 0", "zintercard 1 a limit -1",
        "zintercard 0 a", "zunion 0 a", "zunion 3 a b", "zunion x a", "zunion 2 a b weights 1", "zunion 2 a b weights 1 x",
        "zunion 2 a b aggregate avg", "zunion 2 a b foo", "zdiff 2 a b weights 1 2", "zunionstore dst 2 a b withscores",
        "zintercard 2 a b withscores", "zinter 2 a a withscores", "zdiff 2 a a", "zunion 2 a a withscores",
        "zadd inf 1 x", "zadd ninf -1 x", "zunion 2 inf ninf weights inf inf withscores",
        "zinter 2 inf ninf weights 0 inf withscores", "set str v", "zunion 2 a str", "zunionstore a 2 a b",
        "zrange a 0 -1 withscores", "zunionstore str 1 a", "type str",
    ],
    "RandomDeterministic": [
        "zrandmember nokey", "zrandmember nokey 5", "zrandmember nokey -5 withscores", "zadd z 1 a 2 b 3 c",
        "zrandmember z 0", "zrandmember z 0 withscores", "zrandmember z 3", "zrandmember z 3 withscores",
        "zrandmember z 10 withscores", "zrandmember z 9223372036854775807", "zrandmember z 4611686018427387903 withscores",
        "zrandmember z 4611686018427387904 withscores", "zrandmember z -9223372036854775808",
        "zrandmember z x", "zrandmember z 1 foo", "zrandmember z 1 withscores x", "zadd one 2.5 m", "zrandmember one",
        "zrandmember one 1 withscores", "zrandmember one -3 withscores", "zrandmember one -2",
    ],
    "Scan": [
        "zscan nokey 0", "zadd z 1 a 2.5 b 3 ab", "zscan z 0", "zscan z 0 match a*", "zscan z 0 count 1",
        "zscan z 0 match zz", "zscan z x", "zscan z 0 count 0", "zscan z 0 novalues",
    ],
    "Encoding": [
        "zadd z 1 a", "object encoding z", "config set zset-max-listpack-entries 2", "zadd z 2 b", "object encoding z",
        "zadd z 3 c", "object encoding z", "zrem z b c", "object encoding z", "zrange z 0 -1 withscores",
        "config set zset-max-listpack-entries 128", "zadd v 1 " + "x" * 64, "object encoding v", "zadd v 2 " + "y" * 65,
        "object encoding v", "zadd w 1 " + "f" * 65, "object encoding w", "zincrby x 1 " + "f" * 65, "object encoding x",
        "zadd u 1 a", "zadd u xx 1 " + "f" * 65, "object encoding u", "config set zset-max-listpack-value 0",
        "zadd q 1 \"\"", "object encoding q", "zadd q 1 b", "object encoding q", "config set zset-max-listpack-value 64",
        "config set zset-max-listpack-entries 0", "zadd p 1 a", "object encoding p", "config set zset-max-listpack-entries 128",
        "zadd sk 1 a -0 negz", "zscore sk negz", "config set zset-max-listpack-entries 1", "zadd sk2 1 a 2 b -0 negz",
        "zscore sk2 negz", "zrange sk2 0 -1 withscores", "config set zset-max-listpack-entries 2",
        "zadd s1 1 a 2 b 3 c", "zadd s2 1 a", "zunionstore d 2 s1 s2", "object encoding d", "zinterstore d 2 s1 s2",
        "object encoding d", "zrangestore d s1 0 0", "object encoding d", "zrangestore d s1 0 -1", "object encoding d",
        "config set zset-max-listpack-entries 128", "config get zset-max-listpack-entries", "config get zset-max-ziplist-value",
    ],
    "KeysWithZsets": [
        "zadd z 1 a 2 b", "type z", "set s v", "scan 0 type zset count 1000", "scan 0 type string count 1000", "dbsize",
        "rename z z2", "exists z", "zrange z2 0 -1 withscores", "type z2", "copy z2 z3", "zadd z3 3 c", "zcard z2",
        "zcard z3", "copy z2 z3", "copy z2 z3 replace", "zcard z3", "move z3 1", "exists z3", "select 1",
        "zrange z3 0 -1", "object encoding z3", "select 0", "expire z2 100", "ttl z2", "zadd z2 3 c", "ttl z2",
        "zrem z2 a", "ttl z2", "zincrby z2 1 b", "ttl z2", "persist z2", "ttl z2", "del z2 s", "exists z2", "dbsize",
        "set str v", "zadd str 1 a", "zincrby str 1 a", "zrem str a", "zcard str", "zscore str a", "zmscore str a",
        "zrank str a", "zrange str 0 -1", "zrangebyscore str 0 1", "zrangebylex str - +", "zcount str 0 1",
        "zlexcount str - +", "zremrangebyrank str 0 1", "zrandmember str", "zscan str 0", "zadd h 1 a", "get h",
        "lpush h x", "sadd h x", "hset h f v",
    ],
}

PREAMBLE = ["flushall", "config set hash-max-listpack-entries 512", "config set hash-max-listpack-value 64",
            "config set maxmemory-policy noeviction", "config set zset-max-listpack-entries 128",
            "config set zset-max-listpack-value 64"]


def run(port, family, proto):
    # The test's replay sends HashCommandTests' preamble; the zset thresholds are reset by the first lines here.
    commands = ["config set zset-max-listpack-entries 128", "config set zset-max-listpack-value 64"] + FAMILIES[family]
    return run_commands(port, commands, proto, PREAMBLE)


def record(port, part):
    # Two files keep each under 800 lines.
    names = list(FAMILIES)
    names = names[:7] if part == "ranges" else names[7:]
    record_class(port, "record-zset-transcripts.py", "ZSetTranscripts", names, run, partial=True)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run, shown=300)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3])
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
