#!/usr/bin/env python3
"""Records the pub/sub transcripts of PubSubTranscriptTests from a real redis-server.

    redis-server --port 6423 --save "" --appendonly no &
    python3 record-pubsub-transcripts.py record 6423 > PubSubTranscripts.cs   # the expected bytes
    python3 record-pubsub-transcripts.py compare 6423 38102                   # redis vs nativekv, diffs only

A family is a list of "X: command" steps over connections A, B and C (fresh, after FLUSHALL, all RESP2 or all
after HELLO 3). After each step every open connection is sent PING <marker> and read up to the marker's reply:
what came before it is that connection's part of the step (replies, notifications, messages). The reply kept
is "[A]...[B]..." for the connections that got something. A connection's PING marker answers in pub/sub form
(["pong", marker]) while it is subscribed in RESP2."""
import sys

from resp_transcripts import Conn, encode, parse, cs

FAMILIES = {
    "Basics": [
        "A: subscribe ch1 ch2", "B: publish ch1 hello", "B: publish ch2 world", "B: publish nobody x",
        "A: subscribe ch1", "B: pubsub numsub ch1 ch2 ch3", "B: pubsub channels ch1", "B: pubsub channels *2",
        "B: pubsub channels nomatch*", "A: unsubscribe ch1", "B: publish ch1 gone", "B: publish ch2 still",
        "A: unsubscribe", "A: unsubscribe", "A: unsubscribe nosuch", "B: publish ch2 none", "A: get k",
        "A: subscribe ch3", "A: get k", "A: set k v", "A: ping", "A: ping hi", "A: client id x", "A: echo x", "A: pubsub channels",
        "A: punsubscribe", "A: sunsubscribe", "A: reset", "A: get k", "A: publish ch3 after-reset",
        "B: subscribe ch3", "C: subscribe ch3", "A: publish ch3 two", "A: pubsub numsub ch3", "C: quit",
        "A: publish ch3 one", "A: pubsub numsub ch3",
    ],
    "Patterns": [
        "A: psubscribe news.* h?llo", "B: publish news.sport goal", "B: publish hello x", "B: publish hallo y",
        "B: publish heello z", "B: pubsub numpat", "C: psubscribe news.*", "B: pubsub numpat",
        "A: subscribe news.sport", "B: publish news.sport both", "C: punsubscribe news.*", "B: pubsub numpat",
        "A: punsubscribe news.* nosuch", "B: publish news.sport once", "A: punsubscribe", "A: punsubscribe",
        "A: psubscribe [a-c]x \\\\*", "B: publish bx 1", "B: publish dx 2", "B: publish * 3", "A: punsubscribe",
        "A: unsubscribe", "B: pubsub numpat", "A: psubscribe", "A: subscribe",
    ],
    "Shard": [
        "A: ssubscribe s1 s2", "B: spublish s1 hi", "B: publish s1 plain", "B: pubsub shardchannels s1",
        "B: pubsub shardnumsub s1 s2 s3", "C: psubscribe *", "B: spublish s2 nopattern", "A: subscribe c1",
        "B: publish c1 mixed", "A: sunsubscribe s1", "A: unsubscribe", "A: sunsubscribe", "A: sunsubscribe",
        "A: get k", "C: punsubscribe", "B: pubsub shardnumsub s1", "B: pubsub shardchannels",
    ],
    "Introspection": [
        "A: pubsub help", "A: pubsub numsub", "A: pubsub shardnumsub", "A: pubsub channels a b",
        "A: pubsub nosuch", "A: pubsub numpat x", "A: publish", "A: publish a", "A: subscribe",
        "A: spublish a", "A: ssubscribe", "A: multi", "A: subscribe m1", "A: ssubscribe m2", "A: exec",
        "B: publish m1 inexec", "A: unsubscribe", "A: multi", "A: psubscribe p*", "A: exec",
        "B: publish pz x", "A: punsubscribe", "A: ping",
        "A: eval \"return redis.call('publish', 'ev', 'x')\" 0", "B: subscribe ev",
        "A: eval \"return redis.call('publish', 'ev', 'x')\" 0",
        "A: eval \"return redis.call('subscribe', 'ev')\" 0", "B: ping",
    ],
    "SelfPublish": [
        "A: subscribe me", "A: publish me x", "A: psubscribe m*", "A: publish me y", "A: unsubscribe",
        "A: publish me z", "A: punsubscribe", "A: publish me none",
        # Subscribing after a PUBLISH in the same EXEC: the message counted C alone and goes to C alone.
        "C: subscribe x1", "A: multi", "A: publish x1 m", "A: subscribe x1", "A: exec", "A: publish x1 n",
    ],
}

CONNS = "ABC"


def reply_first(got):
    """7.2 (pending_push_messages): a client publishing to itself gets PUBLISH's reply before its pushes;
    7.0.15 sent the pushes first."""
    if got.startswith(b">") and got.endswith(b"\r\n"):
        i = got.rfind(b"\r\n:", 0, len(got) - 2)
        if i >= 0:
            return got[i + 2:] + got[:i + 2]
    return got


class Session:
    def __init__(self, port, proto):
        self.conns = {}
        for name in CONNS:
            c = Conn(port)
            if proto == 3:
                c.call([b"hello", b"3"])
            self.conns[name] = c
        self.marker = 0
        self.multi = set()

    def settle(self, name):
        """Everything the connection got before its PING marker's reply (None: it closed)."""
        c = self.conns[name]
        self.marker += 1
        m = b"m%d" % self.marker
        c.s.sendall(encode([b"ping", m]))
        got = b""
        try:
            while True:
                r = c.reply()
                if r in (b"$%d\r\n%s\r\n" % (len(m), m), b"*2\r\n$4\r\npong\r\n$%d\r\n%s\r\n" % (len(m), m)):
                    return got
                got += r
        except (OSError, ValueError):
            return None

    def step(self, line):
        name, cmd = line.split(": ", 1)
        args = parse(cmd)
        self.conns[name].s.sendall(encode(args))
        out = b""
        word = args[0].lower()
        if name in self.multi or word == b"multi":
            # Inside MULTI a PING marker would only be queued: the step's one reply is read instead.
            r = self.conns[name].reply()
            if word == b"multi" and r == b"+OK\r\n":
                self.multi.add(name)
            elif word in (b"exec", b"discard", b"reset"):
                self.multi.discard(name)
            out = b"[" + name.encode() + b"]" + r
        # The step's own connection first: its reply is in before anyone else is asked (what it published is
        # then delivered, whichever thread serves the others).
        for n in [name] + [x for x in CONNS if x != name]:
            if n == name and out:
                continue
            if n not in self.conns:
                continue
            got = self.settle(n) if not (n == name and args[0].lower() == b"quit") else self.closing(n)
            if got is None:
                del self.conns[n]
                continue
            if got:
                if n == name and word in (b"publish", b"spublish"):
                    got = reply_first(got)
                # 7.2's addReplyHelp ends with "Print this help." (7.0.15: "Prints").
                got = got.replace(b"+    Prints this help.\r\n", b"+    Print this help.\r\n")
                out += b"[" + n.encode() + b"]" + got
        return name, args, out

    def closing(self, name):
        c = self.conns[name]
        got = c.reply()
        c.s.close()
        del self.conns[name]
        return got




def run(port, family, proto):
    Conn(port).call([b"flushall"])
    s = Session(port, proto)
    return [s.step(line) for line in FAMILIES[family]]


def record(port):
    print("// Generated by record-pubsub-transcripts.py from redis-server 7.0.15 (7.2's order where a client publishes to itself): do not edit by hand.")
    print("namespace NativeKv.Tests.Commands;\n")
    print("internal static class PubSubTranscripts\n{")
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
            for (n, args, ra), (_, _, rb) in zip(run(a, family, proto), run(b, family, proto)):
                if ra != rb:
                    bad += 1
                    print(f"{family} RESP{proto} {n}: {b' '.join(args)[:80]!r}\n  redis: {ra[:300]!r}\n  other: {rb[:300]!r}")
    print(f"{bad} differences")


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
