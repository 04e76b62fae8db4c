#!/usr/bin/env python3
"""Records the client-side caching transcripts of TrackingTranscriptTests from a real redis-server.

    redis-server --port 6423 --save "" --appendonly no &
    python3 record-tracking-transcripts.py record 6423 > TrackingTranscripts.cs   # the expected bytes
    python3 record-tracking-transcripts.py compare 6423 38102                    # redis vs nativekv, diffs only

As record-pubsub-transcripts.py: "X: command" steps over connections A, B and C, each step followed by a PING
marker on every connection, the reply kept as "[A]...[B]...". C is subscribed to __redis__:invalidate before
the first step. In RESP2 the tracking client A redirects to C (`{REDIR}` in a step is "redirect <C's id>"), so
its invalidations are messages on C; in RESP3 (every connection after HELLO 3) `{REDIR}` is nothing and A gets
push frames itself. `{A}`, `{B}`, `{C}` stand for the connections' ids, in steps and where a reply shows one
(CLIENT GETREDIR, TRACKINGINFO's redirect, tracking-redir-broken); CLIENT INFO is kept as its flags and redir."""
import re
import sys

from resp_transcripts import Conn, encode, parse, cs, until_marker

FAMILIES = {
    "Commands": [
        "A: client trackinginfo", "A: client getredir", "A: client caching yes", "A: client tracking",
        "A: client tracking maybe", "A: client tracking on foo", "A: client tracking on redirect",
        "A: client tracking on redirect abc", "A: client tracking on redirect 987654321",
        "A: client tracking on redirect {C} redirect {C}", "A: client tracking on redirect {C} redirect abc",
        "A: client tracking on redirect 0", "A: client tracking on redirect -1", "A: client tracking on prefix a",
        "A: client tracking on bcast optin", "A: client tracking on bcast optout", "A: client tracking on optin optout",
        "A: client tracking on bcast prefix a prefix ab", "A: client tracking on bcast prefix a prefix a",
        "A: client tracking on bcast prefix a prefix b prefix bc", "A: client trackinginfo", "A: client tracking off",
        "A: client tracking on bcast prefix b prefix a", "A: client trackinginfo", "A: client tracking on bcast prefix ab",
        "A: client tracking on bcast prefix c", "A: client trackinginfo", "A: client tracking on", "A: client info",
        "A: client tracking off", "A: client tracking off", "A: client trackinginfo",
        "A: client tracking on bcast", "A: client tracking on bcast", "A: client tracking on bcast prefix x",
        "A: client trackinginfo", "A: client tracking off", "A: client tracking on", "A: client caching yes",
        "A: client caching no", "A: client tracking off", "A: CLIENT TRACKING ON BCAST PREFIX Ab OPTIN",
        "A: Client Tracking On NoLoop BCast", "A: client trackinginfo", "A: client tracking off",
        "A: client tracking on optin {REDIR}", "A: client tracking on optout", "A: client caching no",
        "A: client caching maybe", "A: client caching", "A: client caching yes", "A: client trackinginfo", "A: ping",
        "A: client trackinginfo", "A: client getredir", "A: client info", "A: client tracking off",
        "A: client tracking on optout noloop {REDIR}", "A: client caching no", "A: client trackinginfo",
        "A: client caching yes", "A: client tracking on noloop", "A: client trackinginfo",
        "A: client tracking off", "A: client trackinginfo", "A: client getredir", "A: client info",
        "C: unsubscribe", "A: client tracking on redirect {B}", "A: client getredir", "A: get k", "B: quit", "C: set k 1",
        "A: client trackinginfo", "A: client info", "C: set k 2", "A: get k", "C: set k 3",
        "A: client tracking on redirect {A}", "A: get k", "C: set k 4", "A: reset", "A: client trackinginfo",
    ],
    "Default": [
        "A: client tracking on {REDIR}", "A: get k1", "A: mget k2 k3", "B: set k1 v", "B: set k1 v2", "A: get k1",
        "A: set k1 mine", "B: del k2 k3", "B: mset k2 a k3 b", "A: hgetall h", "A: exists e", "A: strlen s",
        "B: hset h f v", "B: set e 1", "B: append s x", "A: multi", "A: get m1", "A: type m2", "A: exec",
        "B: mset m1 x m2 y", "A: eval \"return redis.call('get', 's1')\" 0", "B: set s1 x", "A: get x1", "B: multi",
        "B: set x1 1", "B: set x1 2", "B: exec", "A: get ra", "A: get rb", "B: set ra 1", "A: get ra",
        "B: rename ra rb", "A: get k9", "B: select 1", "B: set k9 x", "B: select 0", "A: setnx n1 v", "A: get n1",
        "B: setnx n1 w", "B: incr cnt", "A: get cnt", "B: incr cnt", "A: get z1", "B: expire z1 100",
        "B: set z1 v", "A: get z1", "B: expire z1 100", "A: ttl z1", "B: persist z1", "A: get l1", "B: rpush l1 a",
        "A: lrange l1 0 -1", "B: lpop l1", "A: get k1", "A: client tracking off", "B: set k1 z",
        "A: client tracking on {REDIR}", "B: set k1 zz",
    ],
    "Bcast": [
        "A: client tracking on bcast prefix user: prefix obj {REDIR}", "B: set user:1 a",
        "B: mset user:2 a obj:1 b other c", "B: set other x", "B: multi", "B: set user:3 a", "B: set user:1 b",
        "B: del obj:1", "B: exec", "A: set user:9 me", "A: get user:9", "B: set user:9 you",
        "B: del nosuch:1 user:9", "A: client tracking on bcast prefix o {REDIR}", "A: client tracking on bcast prefix ob {REDIR}",
        "A: client tracking on bcast prefix u {REDIR}", "B: set obj:2 x", "A: client trackinginfo", "A: client tracking off",
        "A: client tracking on bcast noloop {REDIR}", "A: client trackinginfo", "A: set x 1", "B: set x 2",
        "A: multi", "A: set y 1", "B: set z 1", "A: set z 2", "A: exec", "B: set y 2", "A: flushall",
        "A: client tracking off", "B: set x 3",
    ],
    "OptInOut": [
        "A: client tracking on optin {REDIR}", "A: get a", "B: set a 1", "A: client caching yes", "A: get a",
        "B: set a 2", "A: client caching yes", "A: client id", "A: get b", "B: set b 1", "A: client caching yes",
        "A: multi", "A: get c", "A: get d", "A: exec", "A: get e", "B: mset c 1 d 2 e 3",
        "A: client caching yes", "A: eval \"return redis.call('get', 'f')\" 0", "A: get g", "B: mset f 1 g 2",
        "A: client tracking off", "A: client tracking on optout {REDIR}", "A: get f", "B: set f 2",
        "A: client caching no", "A: get g", "B: set g 3", "A: get g", "B: set g 4", "A: client caching no",
        "A: multi", "A: get h", "A: exec", "A: get i", "B: mset h 1 i 2",
    ],
    "NoLoop": [
        "A: client tracking on noloop {REDIR}", "A: get n1", "A: set n1 x", "A: get n1", "B: set n1 y", "A: get n2",
        "A: multi", "A: set n2 a", "A: exec", "B: set n2 b", "A: get n3", "A: get n4", "A: mset n3 a n4 b",
        "B: mset n3 c n4 d", "A: client tracking on {REDIR}", "A: get n5", "A: set n5 self", "B: set n5 other",
    ],
    "Flush": [
        "A: client tracking on {REDIR}", "B: client tracking on bcast", "A: get f1", "B: flushall", "A: get f1",
        "A: flushdb", "B: set f1 x", "A: get f2", "B: select 2", "B: flushdb", "B: select 0", "A: get f3",
        "B: flushall async", "A: get f4", "A: multi", "A: flushall", "A: get f4", "A: exec", "B: set f4 x",
        "B: client tracking off", "A: get f5", "B: flushall",
    ],
}

CONNS = "ABC"

# Redis 7.2 remembers the keys a script's commands read for the client running it (call() takes the keys of the
# command executed); 7.0.15 took the keys of the EVAL itself (none here). The invalidation 7.2 sends on the step.
SCRIPT_READS_7_2 = {("Default", "B: set s1 x"): b"s1", ("OptInOut", "B: mset f 1 g 2"): b"f"}


def fix(family, proto, line, out):
    key = SCRIPT_READS_7_2.get((family, line))
    if key is None:
        return out
    keys = b"*1\r\n$%d\r\n%s\r\n" % (len(key), key)
    if proto == 3:
        return out + b"[A]>2\r\n$10\r\ninvalidate\r\n" + keys
    return out + b"[C]*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n" + keys


class Session:
    def __init__(self, port, proto):
        self.proto = proto
        self.conns = {}
        self.ids = {}
        for name in CONNS:
            c = Conn(port)
            if proto == 3:
                c.call([b"hello", b"3"])
            self.ids[name] = int(c.call([b"client", b"id"])[1:-2])
            self.conns[name] = c
        self.conns["C"].call([b"subscribe", b"__redis__:invalidate"])
        self.marker = 0
        self.multi = set()

    def expand(self, cmd):
        cmd = cmd.replace("{REDIR}", "redirect {C}" if self.proto == 2 else "").strip()
        for n, i in self.ids.items():
            cmd = cmd.replace("{%s}" % n, str(i))
        return cmd

    def normalize(self, word, sub, got):
        names = {i: n for n, i in self.ids.items()}

        def name(m):
            i = int(m.group(2))
            return m.group(1) + (b"{" + names[i].encode() + b"}" if i in names else m.group(2)) + b"\r\n"
        if word == b"client" and sub == b"info":
            m = re.search(rb"flags=(\S*) .* redir=(-?\d+)", got)
            r = int(m.group(2))
            got = b"flags=" + m.group(1) + b" redir=" + (b"{" + names[r].encode() + b"}" if r in names else m.group(2))
        if word == b"client" and sub in (b"getredir", b"id"):
            got = re.sub(rb"^(:)(-?\d+)\r\n", name, got)
        return re.sub(rb"(redirect\r\n:|tracking-redir-broken\r\n:)(\d+)\r\n", name, got)

    def settle(self, name):
        """Everything the connection got before its PING marker's reply."""
        self.marker += 1
        return until_marker(self.conns[name], b"m%d" % self.marker)

    def step(self, line):
        name, cmd = line.split(": ", 1)
        args = parse(self.expand(cmd))
        shown = parse(cmd.replace("{REDIR}", "{REDIR}"))
        own = self.conns[name]
        own.s.sendall(encode(args))
        out = b""
        word = args[0].lower()
        sub = args[1].lower() if len(args) > 1 else b""
        # The step's reply is read before its marker is sent: the marker in the same read would be answered
        # before what the end of that read sends (BCAST invalidations), in Redis as here.
        r = own.reply()
        if word == b"multi" and r == b"+OK\r\n":
            self.multi.add(name)
        elif word in (b"exec", b"discard", b"reset"):
            self.multi.discard(name)
        if word == b"quit":
            own.s.close()
            del self.conns[name]
        # Inside MULTI a marker would be queued, after QUIT there is none, and after CLIENT CACHING it would be
        # the next command CACHING is for: the reply alone is kept.
        elif not (name in self.multi or (word == b"client" and sub == b"caching")):
            r += self.settle(name)
        out = b"[" + name.encode() + b"]" + self.normalize(word, sub, r)
        for n in [x for x in CONNS if x != name]:
            # A connection inside MULTI would only queue its marker: it is asked after its EXEC.
            if n not in self.conns or n in self.multi:
                continue
            got = self.settle(n)
            if got:
                out += b"[" + n.encode() + b"]" + self.normalize(b"", sub, got)
        return name, shown, out


def run(port, family, proto, fixed=True):
    Conn(port).call([b"flushall"])
    s = Session(port, proto)
    out = []
    for line in FAMILIES[family]:
        name, args, reply = s.step(line)
        out.append((name, args, fix(family, proto, line, reply) if fixed else reply))
    return out


def record(port):
    print("// Generated by record-tracking-transcripts.py from redis-server 7.0.15 (7.2's where scripts read): do not edit by hand.")
    print("namespace NativeKv.Tests.Commands;\n")
    print("internal static class TrackingTranscripts\n{")
    for family in FAMILIES:
        for proto in (2, 3):
            print(f"    public static readonly (char Conn, string[] Args, string Reply)[] {family}Resp{proto} =\n    [")
            for name, args, reply in run(port, family, proto):
                print(f"        ('{name}', [" + ", ".join(cs(a) for a in args) + "], " + cs(reply) + "),")
            print("    ];\n")
    print("}")


def compare(a, b):
    bad = 0
    for family in FAMILIES:
        for proto in (2, 3):
            for (n, args, ra), (_, _, rb) in zip(run(a, family, proto), run(b, family, proto, fixed=False)):
                if ra != rb:
                    bad += 1
                    print(f"{family} RESP{proto} {n}: {b' '.join(args)[:80]!r}\n  redis: {ra[:300]!r}\n  other: {rb[:300]!r}")
    print(f"{bad} differences")


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
