#!/usr/bin/env python3
"""Records the transcripts of BlockingTranscriptTests from a real redis-server: what BLPOP, BRPOP, BLMOVE,
BRPOPLPUSH and BLMPOP answer without blocking (data there, argument errors, WRONGTYPE, short timeouts).

    redis-server --port 7301 --save "" --appendonly no &
    python3 record-blocking-transcripts.py record 7301 > BlockingTranscripts.cs
    python3 record-blocking-transcripts.py compare 7301 7302

Each family runs on a fresh connection after FLUSHALL, in RESP2 and after HELLO 3. The timeouts that
block here are 0.01 s (they answer the null array). Where 7.0.15 and 7.2 differ, 7.2's reply (the
reference): 7.2 reads the timeout as a long double (timeout.c) and calls one past LLONG_MAX milliseconds
"out of range" where 7.0 cast it and said "negative"; 7.0 blocked on 9223372036854775.807 s, 7.2 refuses it."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "Immediate": [
        "rpush l a b c d", "blpop l 0", "brpop l 0", "blpop nosuch l 0", "brpop nosuch l 1.5", "llen l", "exists l",
        "rpush l x y", "blmove l d left right 0", "blmove l d right left 0", "lrange d 0 -1", "exists l",
        "rpush l p q", "brpoplpush l d 0", "lrange d 0 -1", "blmpop 0 2 nosuch l left", "rpush l r", "blmpop 0 1 l right",
        "exists l", "rpush l 1 2 3 4 5", "blmpop 0 1 l left count 2", "blmpop 0 1 l right count 10", "exists l",
        "rpush l 1", "blmpop 0.5 1 l left count 1", "rpush l 2", "blpop l l 0", "rpush m v", "blmove m m left left 0",
        "lrange m 0 -1", "blmove m m left right 0", "rpush n a b", "brpoplpush n n 0", "lrange n 0 -1",
    ],
    "Timeouts": [
        "blpop nosuch 0.01", "brpop nosuch 0.01", "blmove nosuch d left left 0.01", "brpoplpush nosuch d 0.01",
        "blmpop 0.01 1 nosuch left", "blmpop 0.01 2 a b right count 3", "exists d", "blpop nosuch -1",
        "blpop nosuch -0.5", "blpop nosuch abc", "blpop nosuch \"\"", "blpop nosuch \" 1\"", "blpop nosuch \"1 \"",
        "blpop nosuch nan", "blpop nosuch -inf", "blpop nosuch 1e5000", "blpop nosuch 1e-5000", "blpop nosuch 0x",
        "blpop nosuch 0xg", "blpop nosuch 1,5", "blpop nosuch inf", "blpop nosuch 1e400",
        "blpop nosuch 9223372036854775807", "brpop nosuch 1e308", "brpop nosuch -1", "blmove nosuch d left left -1",
        "blmove nosuch d left left x", "brpoplpush nosuch d -2", "brpoplpush nosuch d x", "blmpop -1 1 l left",
        "blmpop x 1 l left", "blpop nosuch 0x1p-20", "blpop nosuch 0.00001",
        "rpush l v", "blpop l -1", "blpop l x", "blpop l 0x10", "rpush l w", "blpop l 1e15", "rpush l z", "blpop l +0.5",
    ],
    "Errors": [
        "set s str", "blpop s 0", "brpop s 0", "blpop nosuch s 0", "blmove s d left left 0", "brpoplpush s d 0",
        "blmpop 0 1 s left", "rpush l a", "blmove l s left left 0", "lrange l 0 -1", "brpoplpush l s 0",
        "blpop l s 0", "rpush l b", "hset h f v", "blmpop 0 2 nosuch h left", "blpop", "blpop l", "brpop l", "blmove l d left left",
        "blmove l d up left 0", "blmove l d left down 0", "blmove l d left left 0 x", "brpoplpush l d",
        "brpoplpush l d 0 x", "blmpop 0", "blmpop 0 1", "blmpop 0 1 l", "blmpop 0 0 l left", "blmpop 0 -1 l left",
        "blmpop 0 x l left", "blmpop 0 2 l left", "blmpop 0 1 l middle", "blmpop 0 1 l left count",
        "blmpop 0 1 l left count 0", "blmpop 0 1 l left count -1", "blmpop 0 1 l left count x",
        "blmpop 0 1 l left count 1 count 2", "blmpop 0 1 l left foo", "blmpop 0 1 l left count 1 x",
        "blmpop 0 9223372036854775807 l left", "blmpop 0 2147483648 l left", "lrange l 0 -1",
    ],
}

PREAMBLE = ["flushall"]

# 7.2 where 7.0.15 differs (see the docstring).
OVERRIDES_72 = {
    b"blpop nosuch inf": b"-ERR timeout is out of range\r\n",
    b"blpop nosuch 1e400": b"-ERR timeout is out of range\r\n",
    b"blpop nosuch 9223372036854775807": b"-ERR timeout is out of range\r\n",
    b"brpop nosuch 1e308": b"-ERR timeout is out of range\r\n",
}


def fix72(args, reply):
    return OVERRIDES_72.get(b" ".join(args), reply)


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, PREAMBLE)


def record(port):
    record_class(port, "record-blocking-transcripts.py", "BlockingTranscripts", FAMILIES, run, fix72)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix72)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
