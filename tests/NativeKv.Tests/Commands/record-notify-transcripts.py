#!/usr/bin/env python3
"""Records the keyspace notification transcripts of NotifyTranscriptTests from a real redis-server.

    redis-server --port 6423 --save "" --appendonly no &
    python3 record-notify-transcripts.py record 6423 keys > NotifyTranscripts.Keys.cs     # the expected bytes
    python3 record-notify-transcripts.py record 6423 types > NotifyTranscripts.Types.cs
    python3 record-notify-transcripts.py compare 6423 38102                   # redis vs nativekv, diffs only
    python3 record-notify-transcripts.py random 6423 38102 0 100              # random command streams, compared

Two connections: S PSUBSCRIBEs __key*__:* (every keyspace and keyevent channel), A runs a family's commands
(fresh, after FLUSHALL, both RESP2 or both after HELLO 3). After each step A, then S, are sent PING <marker>
and read up to the marker's reply: what came before it is that connection's part of the step, so S's part is
every notification the step's command fired, in the order published. "SLEEP n" waits n seconds and settles
nobody: what expires meanwhile (Redis's active cycle, or the lazy expire of the next command) lands in the next
step either way."""
import random
import sys
import time

from resp_transcripts import Conn, encode, parse, cs, until_marker

PREP = ["S: psubscribe __key*__:*", "A: config set notify-keyspace-events KEA"]
L = "x" * 70  # a member longer than set-max-listpack-value

FAMILIES = {
    "Config": [
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events KEA",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events g$lshzxetdK",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events Kgx",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events EmnK",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events AnmKE",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events KEq",
        "A: config get notify-keyspace-events", "A: config set notify-keyspace-events \"\"",
        "A: config get notify-keyspace-events", "A: set k v", "A: config set notify-keyspace-events K",
        "A: set k v", "A: config set notify-keyspace-events E", "A: set k v", "A: config set notify-keyspace-events KE",
        "A: set k v", "A: config set notify-keyspace-events KE$", "A: set k v", "A: lpush l a",
        "A: config set notify-keyspace-events El", "A: set k v", "A: lpush l a",
        "A: config set notify-keyspace-events AKE", "A: select 3", "A: set k v", "A: set \"a key with spaces\" 1",
        "A: set \"\" empty", "A: select 0", "A: config set notify-keyspace-events a b",
    ],
    "Generic": PREP + [
        "A: set a 1", "A: set b 2", "A: del a b c", "A: unlink b", "A: set a 1", "A: unlink a", "A: set k v",
        "A: expire k 100", "A: expire k 100 NX", "A: expire k 50 GT", "A: pexpire k 200000", "A: ttl k",
        "A: persist k", "A: persist k", "A: expireat k 1", "A: exists k", "A: set k v", "A: pexpireat k 1",
        "A: set k v", "A: expire k -1", "A: expire nokey 10", "A: set src v", "A: rename src dst", "A: rename dst dst",
        "A: set src2 x", "A: rename src2 dst", "A: renamenx dst dst2", "A: set src3 y", "A: renamenx src3 dst2",
        "A: rename nokey x", "A: move dst2 1", "A: set dst2 again", "A: move dst 1", "A: move dst2 1",
        "A: copy dst2 copied", "A: copy dst2 copied", "A: copy dst2 copied replace", "A: copy dst2 other db 2",
        "A: copy nokey x", "A: set s v ex 100", "A: getdel s", "A: getdel s", "A: lpush lst a b",
        "A: rename lst lst2", "A: flushdb", "A: swapdb 0 1", "A: swapdb 0 1",
    ],
    "Strings": PREP + [
        "A: set k v", "A: set k v2 xx", "A: set k v3 nx", "A: set n v nx", "A: set k v ex 100", "A: set k v px 100000 get",
        "A: set k v keepttl", "A: set miss v xx", "A: setnx k v", "A: setnx k2 v", "A: setex k3 100 v", "A: psetex k4 100000 v",
        "A: getset k new", "A: getset k5 new", "A: mset m1 a m2 b", "A: msetnx m1 a m3 c", "A: msetnx m3 c m4 d",
        "A: append k tail", "A: append k6 head", "A: setrange k 1 XY", "A: setrange k7 2 ab", "A: setrange k 0 \"\"",
        "A: setrange k8 0 \"\"", "A: incr c", "A: incrby c 10", "A: decr c", "A: decrby c 3", "A: incr k",
        "A: incrbyfloat f 1.5", "A: incrbyfloat f 2", "A: getex k", "A: getex k ex 100", "A: getex k persist",
        "A: getex k persist", "A: getex nokey ex 10", "A: getex k pxat 1", "A: get k", "A: lpush l x", "A: set l str",
        "A: getdel k5", "A: append l more", "A: incr l",
    ],
    "Lists": PREP + [
        "A: lpush l a b", "A: rpush l c", "A: lpushx l d", "A: lpushx nolist d", "A: rpushx l e", "A: linsert l before c x",
        "A: linsert l after nopivot y", "A: lset l 0 z", "A: lset l 100 z", "A: lpop l", "A: rpop l 2", "A: lpop l 0",
        "A: ltrim l 0 0", "A: lrange l 0 -1", "A: ltrim l 5 10", "A: exists l", "A: rpush l a b a c a", "A: lrem l 2 a",
        "A: lrem l 0 zz", "A: lrem l 0 a", "A: ltrim l 0 -1", "A: lrem l 0 b", "A: lrem l 0 c", "A: rpush src 1 2",
        "A: lmove src dst left right", "A: lmove src dst right left", "A: lmove dst dst left left", "A: rpoplpush dst src",
        "A: rpoplpush nosrc dst", "A: lmpop 2 nolist dst right count 5", "A: rpush b1 x", "A: blpop nolist b1 0",
        "A: rpush b2 x y", "A: brpop b2 0", "A: blmove b2 b3 left left 0", "A: blmpop 0 1 b3 left", "A: rpush s 3 1 2",
        "A: sort s store sorted", "A: sort s desc store sorted", "A: sort nosuch store sorted", "A: sort s limit 5 5 store sorted",
        "A: rpop s 10",
    ],
    "Hashes": PREP + [
        "A: hset h f v", "A: hset h f v", "A: hset h f2 v2 f3 v3", "A: hmset h f4 v4", "A: hsetnx h f v", "A: hsetnx h f9 v",
        "A: hsetnx h2 f v", "A: hincrby h n 5", "A: hincrby h3 n 5", "A: hincrbyfloat h x 1.5", "A: hincrbyfloat h4 x 1.5",
        "A: hincrby h f 1", "A: hdel h nosuch", "A: hdel h f f2 nosuch", "A: hdel h f3 f4 f9 n x", "A: exists h",
        "A: hdel nohash f", "A: hset h2 big 0123456789012345678901234567890123456789012345678901234567890123456789",
        "A: hdel h2 f big", "A: hget nohash f", "A: hgetall h3",
    ],
    "Sets": PREP + [
        "A: sadd s a b c", "A: sadd s a", "A: sadd s d", "A: srem s nosuch", "A: srem s a b", "A: srem s c", "A: spop s",
        "A: sadd s x", "A: spop s 0", "A: spop s 10", "A: exists s", "A: srem noset a", "A: sadd s1 a b c", "A: sadd s2 b c d",
        "A: smove s1 s2 a", "A: smove s1 s3 b", "A: smove s1 s2 nosuch", "A: smove s1 s1 c", "A: smove s1 s2 c",
        "A: sinterstore dst s2 s3", "A: sinterstore dst s2 nosuch", "A: sinterstore dst s2 nosuch", "A: sunionstore dst s2 s3",
        "A: sunionstore dst s2 s3", "A: sdiffstore dst s2 s2", "A: sdiffstore dst2 s2 s3", "A: sadd i 1", "A: spop i 1",
    ],
    "SortedSets": PREP + [
        "A: zadd z 1 a 2 b", "A: zadd z 1 a", "A: zadd z xx 5 nosuch", "A: zadd nz xx 1 a", "A: zadd z nx 3 c",
        "A: zadd z gt 0 a", "A: zadd z ch 10 a", "A: zincrby z 1 a", "A: zadd z incr 1 b", "A: zadd z incr nx 1 b",
        "A: zincrby z2 1 m", "A: zrem z nosuch", "A: zrem z a", "A: zadd z 4 d 5 e 6 f", "A: zremrangebyscore z 100 200",
        "A: zremrangebyscore z 4 4", "A: zremrangebyrank z 0 0", "A: zadd lex 0 a 0 b 0 c", "A: zremrangebylex lex [a [b",
        "A: zremrangebylex lex - +", "A: zpopmin z", "A: zpopmax z 1", "A: zpopmin z 0", "A: zadd z 1 a 2 b",
        "A: zpopmax z 5", "A: zadd z 1 a 2 b", "A: zmpop 2 nosuch z min count 1", "A: bzpopmax z 0", "A: zadd z 1 a 2 b",
        "A: bzmpop 0 1 z max count 10", "A: zadd z1 1 a 2 b", "A: zadd z2 2 b 3 c", "A: zunionstore u 2 z1 z2",
        "A: zunionstore u 2 z1 z2", "A: zinterstore u 2 z1 z2", "A: zinterstore u 2 z1 nosuch", "A: zinterstore u 2 z1 nosuch",
        "A: zdiffstore d 2 z1 z2", "A: zdiffstore d 2 z1 z1", "A: zrangestore r z1 0 -1", "A: zrangestore r z1 5 10",
        "A: zrangestore r z1 5 10", "A: zrangestore r nosuch 0 -1", "A: zadd s 1 a", "A: sadd set a", "A: zunionstore u 2 set s",
    ],
    # Past the listpack thresholds: NativeKv's paged collections (Redis's hashtable, skiplist, quicklist).
    "Paged": PREP + [
        "A: config set notify-keyspace-events AKEnm", "A: config set hash-max-listpack-entries 2", "A: config set set-max-intset-entries 2",
        "A: config set zset-max-listpack-entries 2", "A: config set list-max-listpack-size 2",
        "A: hset h a 1 b 2 c 3", "A: hset h d 4", "A: hsetnx h d 5", "A: hsetnx h e 5", "A: hincrby h n 1",
        "A: hincrbyfloat h x 1.5", "A: hdel h a b nosuch", "A: hdel h c d e n x", "A: exists h",
        # Members past set-max-listpack-value (64): a hashtable in both (7.0.15 has no set-max-listpack-entries).
        "A: sadd s {L}a {L}b {L}c", "A: sadd s {L}d", "A: sadd s {L}d", "A: srem s {L}a nosuch", "A: smove s s2 {L}b",
        "A: smove s s2 {L}c", "A: srem s {L}d", "A: exists s", "A: sadd s {L}x", "A: spop s 5", "A: sadd i 1 2 3 4",
        "A: srem i 1 2 3 4", "A: sadd a1 {L}a {L}b {L}c {L}d", "A: sadd a2 {L}c {L}d {L}e {L}f", "A: sinterstore dst a1 a2",
        "A: sunionstore dst a1 a2", "A: sdiffstore dst a1 a1",
        "A: zadd z 1 a 2 b 3 c", "A: zadd z 4 d", "A: zincrby z 1 a", "A: zadd z xx 10 nosuch", "A: zrem z a nosuch",
        "A: zremrangebyrank z 0 0", "A: zremrangebyscore z 3 3", "A: zadd z 5 e 6 f 7 g", "A: zpopmin z", "A: zpopmax z 2",
        "A: zremrangebyscore z -inf +inf", "A: exists z", "A: zadd z 1 a 2 b 3 c", "A: zpopmax z 10", "A: zadd z1 1 a 2 b 3 c",
        "A: zrangestore r z1 0 -1", "A: zunionstore u 2 z1 r", "A: zadd zl 0 a 0 b 0 c 0 d", "A: zremrangebylex zl [a [b",
        "A: zremrangebylex zl - +", "A: rpush l a b c d e", "A: lpush l z", "A: lpushx l y", "A: linsert l after c x",
        "A: lset l 1 q", "A: lpop l", "A: rpop l 2", "A: lrem l 1 q", "A: ltrim l 0 1", "A: lrange l 0 -1",
        "A: lmove l l2 left right", "A: lmove l l2 left right", "A: exists l", "A: rpush m 1 2 3 4 5", "A: lmpop 1 m right count 10",
        "A: rpush so 3 1 2 4 5", "A: sort so store sorted", "A: copy sorted sorted2", "A: rename sorted2 sorted3", "A: del sorted3 a1",
    ],
    "Expiry": PREP + [
        "A: set k v px 100", "A: SLEEP 0.3", "A: get k", "A: set k2 v px 100", "A: SLEEP 0.3", "A: set k2 again",
        "A: set k3 v px 100", "A: SLEEP 0.3", "A: exists k3", "A: hset h f v", "A: pexpire h 100", "A: SLEEP 0.3",
        "A: hset h f v", "A: rpush l a", "A: pexpire l 100", "A: SLEEP 0.3", "A: llen l", "A: set c 1 px 100",
        "A: SLEEP 0.3", "A: incr c", "A: set g v px 100", "A: SLEEP 0.3", "A: getex g persist", "A: sadd s a",
        "A: pexpire s 100", "A: SLEEP 0.3", "A: sadd s b", "A: set r v px 100", "A: SLEEP 0.3", "A: rename r r2",
        "A: config set notify-keyspace-events Kg", "A: set q v px 100", "A: SLEEP 0.3", "A: get q", "A: set q v",
        "A: config set notify-keyspace-events Ex", "A: set w v px 100", "A: SLEEP 0.3", "A: get w",
    ],
    "NewAndMiss": PREP + [
        "A: config set notify-keyspace-events KEnm", "A: set k v", "A: set k v2", "A: get k", "A: get nokey",
        "A: mget k nokey nokey2", "A: exists nokey k", "A: object encoding nokey", "A: object freq nokey", "A: type nokey", "A: ttl nokey", "A: strlen nokey",
        "A: lpush l a", "A: lpush l b", "A: lrange nolist 0 -1", "A: hset h f v", "A: hget nohash f", "A: sadd s a",
        "A: smembers noset", "A: sinter s noset", "A: zadd z 1 a", "A: zscore noz a", "A: zunionstore u 2 z noz", "A: zrangestore r noz 0 -1",
        "A: incr c", "A: append a x", "A: setrange sr 0 x", "A: rename k k2", "A: set k3 v", "A: rename k2 k3",
        "A: copy k3 k4", "A: copy nokey k5", "A: move k4 1", "A: getdel nokey", "A: getex nokey", "A: set x v get",
        "A: getset y v", "A: sort nolist", "A: sort nolist store st", "A: lmove l dst left left", "A: smove s s2 a",
        "A: del k3", "A: config set notify-keyspace-events AKEnm", "A: set z2 v", "A: get nokey",
    ],
    "Transactions": PREP + [
        "A: multi", "A: set k v", "A: lpush l a", "A: incr k", "A: del l", "A: exec", "A: multi", "A: set k2 v",
        "A: discard", "A: eval \"redis.call('set', 'e', '1'); redis.call('hset', 'eh', 'f', 'v'); return redis.call('del', 'e')\" 0",
        "A: eval \"return redis.call('get', 'nosuch')\" 0",
    ],
}

CONNS = "AS"


class Session:
    def __init__(self, port, proto):
        self.port = port
        self.conns = {}
        for name in CONNS:
            c = Conn(port)
            if proto == 3:
                c.call([b"hello", b"3"])
            self.conns[name] = c
        self.marker = 0
        self.multi = set()

    def settle(self, name):
        """Everything the connection got before its PING marker's reply."""
        self.marker += 1
        return until_marker(self.conns[name], b"m%d" % self.marker)

    def step(self, line):
        name, cmd = line.split(": ", 1)
        args = parse(cmd)
        if args[0] == b"SLEEP":
            time.sleep(float(args[1]))
            return name, args, b""
        self.conns[name].s.sendall(encode(args))
        out = b""
        word = args[0].lower()
        if name in self.multi or word == b"multi":
            # Inside MULTI a PING marker would only be queued: the step's one reply is read instead.
            r = self.conns[name].reply()
            if word == b"multi" and r == b"+OK\r\n":
                self.multi.add(name)
            elif word in (b"exec", b"discard"):
                self.multi.discard(name)
            out = b"[" + name.encode() + b"]" + r
        for n in [name] + [x for x in CONNS if x != name]:
            if n == name and out:
                continue
            if name in self.multi and n != name:
                continue
            got = self.settle(n)
            if got:
                out += b"[" + n.encode() + b"]" + got
        return name, args, out


def run(port, family, proto):
    admin = Conn(port)
    admin.call([b"config", b"set", b"hash-max-listpack-entries", b"128"])
    admin.call([b"config", b"set", b"set-max-intset-entries", b"512"])
    admin.call([b"config", b"set", b"zset-max-listpack-entries", b"128"])
    admin.call([b"config", b"set", b"list-max-listpack-size", b"-2"])
    admin.call([b"config", b"set", b"notify-keyspace-events", b""])
    admin.call([b"flushall"])
    s = Session(port, proto)
    steps = [s.step(line.replace("{L}", L)) for line in FAMILIES[family]]
    admin.call([b"config", b"set", b"notify-keyspace-events", b""])
    return steps


TYPES = ["Lists", "Hashes", "Sets", "SortedSets", "Paged"]


def record(port, part):
    # Two files (NotifyTranscripts.Keys.cs, NotifyTranscripts.Types.cs) keep each under 800 lines.
    print("// Generated by record-notify-transcripts.py from redis-server 7.0.15: do not edit by hand.")
    print("namespace NativeKv.Tests.Commands;\n")
    print("internal static partial class NotifyTranscripts\n{")
    for family in [f for f in FAMILIES if (f in TYPES) == (part == "types")]:
        for proto in (2, 3):
            print(f"    public static readonly (char Conn, string[] Args, string Reply)[] {family}Resp{proto} =\n    [")
            for name, args, reply in run(port, family, proto):
                print(f"        ('{name}', [" + ", ".join(cs(a) for a in args) + "], " + cs(reply) + "),")
            print("    ];\n")
    print("}")


def compare(a, b, only=None):
    bad = 0
    for family in FAMILIES:
        if only and family != only:
            continue
        for proto in (2, 3):
            for (n, args, ra), (_, _, rb) in zip(run(a, family, proto), run(b, family, proto)):
                if ra != rb:
                    bad += 1
                    print(f"{family} RESP{proto} {n}: {b' '.join(args)[:80]!r}\n  redis: {ra[:400]!r}\n  other: {rb[:400]!r}")
    print(f"{bad} differences")


# ------------------------------------------------------------ random command streams
# python3 record-notify-transcripts.py random 6423 38102 SEED COUNT: COUNT seeds of 150 random writes and reads over
# four keys of every type, each step's reply and notifications compared between the two servers (commands whose
# reply is random, SPOP with a count, SRANDMEMBER, SMEMBERS of a hashtable..., are left out).
K=["a","b","c","d"]; V=["1","x","2.5","yy",""]
def cmd(r):
    k=lambda: r.choice(K); v=lambda: r.choice(V); n=lambda: str(r.randint(-3,3))
    c=r.choice([
     lambda:["set",k(),v()], lambda:["set",k(),v(),"nx"], lambda:["set",k(),v(),"xx","get"], lambda:["set",k(),v(),"px","100000"],
     lambda:["del",k(),k()], lambda:["incr",k()], lambda:["incrbyfloat",k(),"1.5"], lambda:["append",k(),v()], lambda:["setrange",k(),"1",v()],
     lambda:["getdel",k()], lambda:["getex",k(),"persist"], lambda:["getex",k(),"ex","100"], lambda:["expire",k(),"100"], lambda:["expire",k(),"0"],
     lambda:["persist",k()], lambda:["rename",k(),k()], lambda:["renamenx",k(),k()], lambda:["copy",k(),k()], lambda:["copy",k(),k(),"replace"],
     lambda:["move",k(),"1"], lambda:["lpush",k(),v()], lambda:["rpush",k(),v(),v()], lambda:["lpop",k()], lambda:["rpop",k(),"2"], lambda:["lrem",k(),n(),v()],
     lambda:["ltrim",k(),n(),n()], lambda:["lset",k(),n(),v()], lambda:["linsert",k(),"before",v(),v()], lambda:["lmove",k(),k(),"left","right"],
     lambda:["lmpop","2",k(),k(),"left","count","2"], lambda:["hset",k(),v(),v()], lambda:["hdel",k(),v(),v()], lambda:["hincrby",k(),v(),"2"],
     lambda:["hsetnx",k(),v(),v()], lambda:["sadd",k(),v(),v()], lambda:["srem",k(),v()], lambda:["smove",k(),k(),v()], lambda:["sinterstore",k(),k(),k()],
     lambda:["sunionstore",k(),k(),k()], lambda:["sdiffstore",k(),k(),k()], lambda:["zadd",k(),n(),v()], lambda:["zincrby",k(),"1",v()], lambda:["zrem",k(),v()],
     lambda:["zremrangebyrank",k(),n(),n()], lambda:["zpopmin",k()], lambda:["zpopmax",k(),"2"], lambda:["zunionstore",k(),"2",k(),k()],
     lambda:["zinterstore",k(),"2",k(),k()], lambda:["zdiffstore",k(),"2",k(),k()], lambda:["zrangestore",k(),k(),"0","-1"], lambda:["sort",k(),"alpha","store",k()],
     lambda:["get",k()], lambda:["exists",k()], lambda:["type",k()], lambda:["hgetall",k()], lambda:["scard",k()], lambda:["lrange",k(),"0","-1"],
     lambda:["zrange",k(),"0","-1"], lambda:["mset",k(),v(),k(),v()], lambda:["msetnx",k(),v(),k(),v()], lambda:["getset",k(),v()],
    ])()
    return [x.encode() for x in c]
def random_session(port, seed, steps, flags):
    r=random.Random(seed)
    adm=Conn(port); adm.call([b"flushall"]); adm.call([b"config",b"set",b"notify-keyspace-events",flags])
    s=Conn(port); s.call([b"psubscribe",b"__key*__:*"]); a=Conn(port)
    out=[]
    for i in range(steps):
        c=cmd(r); rep=a.call(c)
        s.s.sendall(encode([b"ping",b"m%d"%i])); got=b""
        while True:
            x=s.reply()
            if b"m%d\r\n"%i in x and b"pong" in x: break
            got+=x
        out.append((c,rep,got))
    adm.call([b"config",b"set",b"notify-keyspace-events",b""])
    return out


def random_compare(a, b, first, count):
    bad = 0
    for seed in range(first, first + count):
        flags = [b"KEA", b"KEAnm", b"Elshz$g", b"Kn"][seed % 4]
        for (c, ra, ga), (_, rb, gb) in zip(random_session(a, seed, 150, flags), random_session(b, seed, 150, flags)):
            if ra != rb or ga != gb:
                bad += 1
                print("seed", seed, flags, b" ".join(c))
                print("  redis", ra[:200], ga[:600])
                print("  other", rb[:200], gb[:600])
                break
    print(f"{bad} seeds differ")


if __name__ == "__main__":
    if sys.argv[1] == "random":
        random_compare(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        sys.exit(0)
    if sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3])
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None)
