#!/usr/bin/env python3
"""Helpers of perf/big-collection.sh (one big hash, set or list): RESP input, PING probe, read-back, timed commands.

  big_collection.py gen    --type hash|set|list|zset --key K --fields N --batch B      RESP on stdout (for redis-cli --pipe)
  big_collection.py probe  --port P --out FILE [--interval-ms 10]           PINGs until SIGTERM, then a summary
  big_collection.py verify --type hash|set --key K --fields N --batch B --port P   HMGET / SMISMEMBER everything
  big_collection.py timed  --type hash|set --key K --fields N --port P      HLEN, HGET, HSCAN 1000, DEL (reply times)

Field i of a hash is f:%014d (16 bytes) with value v:%030d (32 bytes); member i of a set is m:%014d (16 bytes),
element i of a list (RPUSH: its index is i) is e:%014d (16 bytes); a list reads back with LRANGE, a batch at a time,
so the read-back knows every expected reply without keeping anything. Output lines are "name: value".
"""
import argparse
import math
import signal
import socket
import sys
import threading
import time

FIELD = b"f:%014d"
VALUE = b"v:%030d"
MEMBER = b"m:%014d"
ELEMENT = b"e:%014d"
ZMEMBER = b"z:%014d"


def zscore(i, n):
    """Member i's score in a sorted set of n: a permutation of 0 .. n-1 (i * P mod n), so scores are its ranks but
    the load does not arrive in rank order (a rising load would only ever split the last leaf)."""
    return i * zstep(n) % n


def zstep(n):
    p = 1_000_003
    while math.gcd(p, n) != 1:
        p += 2
    return p


def zmember_at(rank, n):
    """The member whose score (and rank) is <rank>."""
    return ZMEMBER % (rank * pow(zstep(n), -1, n) % n)


def bulk(b):
    return b"$%d\r\n%s\r\n" % (len(b), b)


def command(*parts):
    return b"*%d\r\n" % len(parts) + b"".join(bulk(p) for p in parts)


def batches(n, size):
    for first in range(0, n, size):
        yield first, min(size, n - first)


# ---------------------------------------------------------------- gen

def gen(args):
    key = args.key.encode()
    out = sys.stdout.buffer
    hash_ = args.type == "hash"
    list_ = args.type == "list"
    if args.type == "zset":
        n = args.fields
        for first, count in batches(n, args.batch):
            out.write(b"*%d\r\n" % (2 + 2 * count) + bulk(b"ZADD") + bulk(key)
                      + b"".join(bulk(b"%d" % zscore(i, n)) + bulk(ZMEMBER % i) for i in range(first, first + count)))
        out.flush()
        return
    name = (args.format or ("f:%014d" if hash_ else "e:%014d" if list_ else "m:%014d")).encode()
    if len(name % 0) == len(name % (args.fields - 1)):
        # Fixed width (the default): one template per field, formatted once.
        width = len(name % 0)
        item = b"$%d\r\n" % width + name + (b"\r\n$32\r\nv:%030d\r\n" if hash_ else b"\r\n")
        render = (lambda i: item % (i, i)) if hash_ else (lambda i: item % i)
    else:
        render = (lambda i: bulk(name % i) + bulk(VALUE % i)) if hash_ else (lambda i: bulk(name % i))
    verb = b"HSET" if hash_ else b"RPUSH" if list_ else b"SADD"
    per = 2 if hash_ else 1
    for first, count in batches(args.fields, args.batch):
        head = b"*%d\r\n" % (2 + per * count) + bulk(verb) + bulk(key)
        out.write(head + b"".join(render(i) for i in range(first, first + count)))
    out.flush()


# ---------------------------------------------------------------- RESP reading

class Reader:
    """Buffered RESP reader over a socket (replies as bytes, ints, None, lists; errors as RespError)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0

    def _fill(self):
        if self.pos > 1 << 20:
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def line(self):
        while True:
            end = self.buf.find(b"\r\n", self.pos)
            if end >= 0:
                text = bytes(self.buf[self.pos:end])
                self.pos = end + 2
                return text
            self._fill()

    def exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return data

    def starts_with(self, expected):
        """True (and consumed) when the next bytes are exactly `expected`; False leaves them unread."""
        while len(self.buf) - self.pos < len(expected):
            # A shorter reply than expected may be all there is: stop filling once it cannot match.
            have = bytes(self.buf[self.pos:])
            if not expected.startswith(have):
                return False
            self._fill()
        if self.buf[self.pos:self.pos + len(expected)] == expected:
            self.pos += len(expected)
            return True
        return False

    def reply(self):
        head = self.line()
        kind, rest = head[:1], head[1:]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RespError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n)
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise ValueError("unexpected RESP: %r" % head[:60])


class RespError(str):
    pass


def connect(port, timeout=None):
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(timeout)
    return sock


# ---------------------------------------------------------------- probe

class Stop(Exception):
    pass


def probe(args):
    """PING every interval on its own connection, timing each reply, until SIGTERM; the first PING is not counted."""
    stop = {"now": False}

    def on_term(signum, frame):
        stop["now"] = True
        raise Stop()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    times = []
    failure = None
    in_flight = None
    ping = b"*1\r\n$4\r\nPING\r\n"
    try:
        sock = connect(args.port)
        reader = Reader(sock)
        sock.sendall(ping)
        reader.line()
        with open(args.out + ".ready", "w"):
            pass
        while not stop["now"]:
            in_flight = time.perf_counter()
            sock.sendall(ping)
            answer = reader.line()
            times.append((time.perf_counter() - in_flight) * 1000)
            in_flight = None
            if answer != b"+PONG":
                failure = "PING answered %r" % answer[:80]
                break
            time.sleep(args.interval_ms / 1000)
    except Stop:
        pass
    except (OSError, ConnectionError, ValueError) as e:
        failure = "probe: %s" % e
    # A PING still unanswered when the probe is stopped has waited at least this long: worth a line when it is the worst.
    pending = (time.perf_counter() - in_flight) * 1000 if in_flight is not None else None
    ordered = sorted(times)

    def pct(p):
        return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))] if ordered else float("nan")

    with open(args.out, "w") as f:
        f.write("probe_pings: %d\n" % len(times))
        f.write("probe_worst_ms: %.1f\n" % (max(ordered) if ordered else float("nan")))
        f.write("probe_p99_ms: %.1f\n" % pct(99))
        f.write("probe_p50_ms: %.2f\n" % pct(50))
        f.write("probe_over_50ms: %d\n" % sum(1 for t in times if t > 50))
        if pending is not None and (not ordered or pending > max(ordered)):
            f.write("probe_unanswered_ping_waited_ms: %.1f\n" % pending)
        if failure:
            f.write("probe_failure: %s\n" % failure)


# ---------------------------------------------------------------- verify

def verify(args):
    """Reads every field (HMGET) or member (SMISMEMBER) back in batches, pipelined, and counts mismatches."""
    key = args.key.encode()
    hash_ = args.type == "hash"
    sock = connect(args.port, timeout=args.reply_timeout)
    reader = Reader(sock)
    list_ = args.type == "list"
    zset_ = args.type == "zset"
    name = b"HMGET" if hash_ else b"ZMSCORE" if zset_ else b"SMISMEMBER"
    item = FIELD if hash_ else ZMEMBER if zset_ else MEMBER

    def request(first, count):
        if list_:
            return command(b"LRANGE", key, b"%d" % first, b"%d" % (first + count - 1))
        return command(name, key, *[item % i for i in range(first, first + count)])
    # Plus one batch past the end: fields that were never written must read as nil / 0.
    plan = list(batches(args.fields, args.batch)) + [(args.fields, min(args.batch, 100))]
    failure = []

    def send():
        try:
            pending = []
            for first, count in plan:
                pending.append(request(first, count))
                if len(pending) >= 16:
                    sock.sendall(b"".join(pending))
                    pending = []
            if pending:
                sock.sendall(b"".join(pending))
        except OSError as e:
            failure.append(str(e))

    started = time.perf_counter()
    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    missing = wrong = errors = ghosts = 0
    first_problem = None
    # --out FILE: the index of every missing field, one a line (to tell a lost field from one a read missed).
    lost = open(args.out, "w") if args.out else None
    for index, (first, count) in enumerate(plan):
        past_end = index == len(plan) - 1
        if list_:
            expected = b"*0\r\n" if past_end else \
                b"*%d\r\n" % count + b"".join(b"$16\r\n" + ELEMENT % i + b"\r\n" for i in range(first, first + count))
        elif hash_:
            expected = b"*%d\r\n" % count + (b"$-1\r\n" * count if past_end else
                                             b"".join(b"$32\r\n" + VALUE % i + b"\r\n" for i in range(first, first + count)))
        elif zset_:
            expected = b"*%d\r\n" % count + (b"$-1\r\n" * count if past_end else
                                             b"".join(bulk(b"%d" % zscore(i, args.fields)) for i in range(first, first + count)))
        else:
            expected = b"*%d\r\n" % count + (b":0\r\n" if past_end else b":1\r\n") * count
        if reader.starts_with(expected):
            continue
        reply = reader.reply()
        if list_ and past_end and isinstance(reply, list):
            ghosts += len(reply)
            continue
        if list_ and isinstance(reply, list) and len(reply) < count:
            # An LRANGE short of the batch: the elements past what it returned are missing.
            missing += count - len(reply)
            reply = reply + [None] * (count - len(reply))
        if isinstance(reply, RespError) or not isinstance(reply, list) or len(reply) != count:
            errors += 1
            first_problem = first_problem or "batch at %d answered %r" % (first, str(reply)[:100])
            continue
        for offset, got in enumerate(reply):
            i = first + offset
            want = ELEMENT % i if list_ else None if past_end and (hash_ or zset_) else 0 if past_end \
                else (VALUE % i if hash_ else b"%d" % zscore(i, args.fields) if zset_ else 1)
            if got == want:
                continue
            if past_end:
                ghosts += 1
            elif got is None or got == 0:
                missing += 1
                if lost is not None: lost.write("%d\n" % i)
            else:
                wrong += 1
            first_problem = first_problem or "%s %s: got %r" % (args.type, (item % i).decode(), got)
    took = time.perf_counter() - started
    sender.join(5)
    if lost is not None: lost.close()
    print("verify_seconds: %.2f" % took)
    print("verify_fields_per_s: %.0f" % (args.fields / took if took > 0 else 0))
    print("verify_missing: %d" % missing)
    print("verify_wrong_value: %d" % wrong)
    print("verify_error_replies: %d" % errors)
    print("verify_unwritten_found: %d   (of %d never written, must be 0)" % (ghosts, plan[-1][1]))
    if first_problem:
        print("verify_first_problem: %s" % first_problem)
    if failure:
        print("verify_send_failure: %s" % failure[0])
    return 0 if missing + wrong + errors + ghosts == 0 and not failure else 1


# ---------------------------------------------------------------- timed

def timed(args):
    """One connection; each command's time from send to its whole reply."""
    key = args.key.encode()
    hash_ = args.type == "hash"
    sock = connect(args.port, timeout=args.reply_timeout)
    reader = Reader(sock)
    ok = True

    def run(*parts):
        started = time.perf_counter()
        sock.sendall(command(*parts))
        reply = reader.reply()
        ms = (time.perf_counter() - started) * 1000
        return ms, reply

    middle = args.fields // 2
    if args.type == "list":
        quarter = args.fields // 4
        steps = [("LLEN", [b"LLEN", key], lambda r: r == args.fields),
                 ("LINDEX middle", [b"LINDEX", key, b"%d" % middle], lambda r: r == ELEMENT % middle),
                 ("LINDEX quarter", [b"LINDEX", key, b"%d" % quarter], lambda r: r == ELEMENT % quarter),
                 ("LINDEX -3", [b"LINDEX", key, b"-3"], lambda r: r == ELEMENT % (args.fields - 3)),
                 ("LRANGE middle 100", [b"LRANGE", key, b"%d" % middle, b"%d" % (middle + 99)],
                  lambda r: r == [ELEMENT % i for i in range(middle, middle + 100)]),
                 ("LSET middle", [b"LSET", key, b"%d" % middle, b"x"], lambda r: r == b"OK"),
                 ("LPUSH", [b"LPUSH", key, b"h"], lambda r: r == args.fields + 1),
                 ("RPOP", [b"RPOP", key], lambda r: r == ELEMENT % (args.fields - 1))]
    elif args.type == "zset":
        n = args.fields
        r = n * 2 // 3
        steps = [("ZCARD", [b"ZCARD", key], lambda r_: r_ == n),
                 ("ZSCORE middle", [b"ZSCORE", key, ZMEMBER % middle], lambda r_: r_ == b"%d" % zscore(middle, n)),
                 ("ZRANK middle", [b"ZRANK", key, ZMEMBER % middle], lambda r_: r_ == zscore(middle, n)),
                 ("ZRANGE 10 at two thirds", [b"ZRANGE", key, b"%d" % r, b"%d" % (r + 9)],
                  lambda r_: r_ == [zmember_at(k, n) for k in range(r, min(n, r + 10))]),
                 ("ZRANGEBYSCORE 10 at a quarter", [b"ZRANGEBYSCORE", key, b"%d" % (n // 4), b"+inf", b"LIMIT", b"0", b"10"],
                  lambda r_: r_ == [zmember_at(k, n) for k in range(n // 4, min(n, n // 4 + 10))]),
                 ("ZCOUNT first half", [b"ZCOUNT", key, b"-inf", b"(%d" % (n // 2)], lambda r_: r_ == n // 2),
                 ("ZADD", [b"ZADD", key, b"-1", b"new"], lambda r_: r_ == 1),
                 ("ZPOPMIN", [b"ZPOPMIN", key], lambda r_: r_ == [b"new", b"-1"])]
    elif hash_:
        steps = [("HLEN", [b"HLEN", key], lambda r: r == args.fields),
                 ("HGET", [b"HGET", key, FIELD % middle], lambda r: r == VALUE % middle),
                 ("HSCAN 0 COUNT 1000", [b"HSCAN", key, b"0", b"COUNT", b"1000"], None)]
    else:
        steps = [("SCARD", [b"SCARD", key], lambda r: r == args.fields),
                 ("SISMEMBER", [b"SISMEMBER", key, MEMBER % middle], lambda r: r == 1),
                 ("SSCAN 0 COUNT 1000", [b"SSCAN", key, b"0", b"COUNT", b"1000"], None)]
    steps.append(("DEL", [b"DEL", key], lambda r: r == 1))
    steps.append(("EXISTS after DEL", [b"EXISTS", key], lambda r: r == 0))
    for label, parts, check in steps:
        ms, reply = run(*parts)
        if label.endswith("COUNT 1000"):
            detail = ("error %s" % reply) if isinstance(reply, RespError) else \
                "cursor %s, %d %s" % (reply[0].decode(), len(reply[1]) // (2 if hash_ else 1), "fields" if hash_ else "members")
            good = not isinstance(reply, RespError)
        else:
            good = check(reply)
            detail = "%r" % (reply if not isinstance(reply, bytes) else reply.decode(errors="replace"))
        ok = ok and good
        print("time_%s_ms: %.3f   (%s%s)" % (label.replace(" ", "_").lower(), ms, detail, "" if good else ", UNEXPECTED"))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["gen", "probe", "verify", "timed"])
    p.add_argument("--type", choices=["hash", "set", "list", "zset"], default="hash")
    p.add_argument("--key", default="bighash")
    p.add_argument("--format", help="gen: printf format of field / member i (default f:%%014d / m:%%014d; "
                                     "verify and timed expect the default)")
    p.add_argument("--fields", type=int, default=5_000_000)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--port", type=int)
    p.add_argument("--out")
    p.add_argument("--interval-ms", type=float, default=10)
    p.add_argument("--reply-timeout", type=float, default=600, help="seconds a reply may take (verify, timed)")
    args = p.parse_args()
    if args.fields < 1 or args.batch < 1:
        p.error("--fields and --batch must be at least 1")
    if args.mode == "gen":
        return gen(args) or 0
    if args.port is None:
        p.error("--port is needed")
    if args.mode == "probe":
        if not args.out:
            p.error("probe needs --out")
        return probe(args) or 0
    try:
        return verify(args) if args.mode == "verify" else timed(args)
    except (OSError, ConnectionError, ValueError) as e:
        print("%s_failure: %s" % (args.mode, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
