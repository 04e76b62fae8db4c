#!/usr/bin/env python3
"""Records the introspection transcripts of IntrospectionTranscriptTests from a real redis-server: the parts of
SLOWLOG, LATENCY, CLIENT PAUSE / UNPAUSE, WAIT and MONITOR whose replies do not depend on time.

    redis-server --port 6402 --save "" --appendonly no &
    python3 record-intro-transcripts.py record 6402 > IntroTranscripts.cs   # the expected bytes
    python3 record-intro-transcripts.py compare 6402 38102                  # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL, once in RESP2 and once after HELLO 3. WAITAOF is 7.2's
(the recording 7.0.15 has none): its replies are in Integration/IntrospectionTests, from 7.2's source."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "Slowlog": [
        # Off while the replies must not depend on the machine (a command past 10 ms on a loaded one is logged).
        "config set slowlog-log-slower-than -1", "slowlog reset", "slowlog len", "slowlog help", "slowlog get", "slowlog get 0", "slowlog get -1",
        "slowlog get 1 2", "slowlog get -2", "slowlog get x", "slowlog len x", "slowlog reset x", "slowlog help x",
        "slowlog foo", "slowlog",
        # -1 turns it off; 0 logs everything, the CONFIG SET that said so first; a shorter max-len trims.
        "config set slowlog-log-slower-than -1", "set a b", "slowlog len",
        "config set slowlog-log-slower-than 0", "slowlog len", "get a", "slowlog len", "slowlog get 0",
        "config set slowlog-max-len 2", "slowlog len", "ping", "slowlog len", "config set slowlog-max-len 0",
        "slowlog len", "config set slowlog-max-len 128", "config set slowlog-log-slower-than -1", "slowlog reset", "slowlog len",
        "config set slowlog-log-slower-than 10000",
    ],
    "Latency": [
        "latency help", "latency latest", "latency history command", "latency reset", "latency reset command x",
        "latency graph command", "latency doctor", "latency nosuch", "latency", "latency history",
        "latency latest x", "latency graph", "latency doctor x",
    ],
    "Pause": [
        "client pause x", "client pause -1", "client pause 10 foo", "client pause 10 all x", "client pause",
        "client pause 1 write x", "client unpause x", "client unpause", "client pause 0", "client pause 0 write",
        "client pause 0 all", "client pause 99999999999999999999", "client pause 9223372036854775807",
        "client pause 9223372036854775807 foo", "client unpause", "set k v", "get k",
    ],
    "Wait": [
        "wait 0 0", "wait -1 0", "wait x 0", "wait 1 x", "wait 1 -1", "wait 0 9223372036854775807", "wait",
        "wait 1", "wait 1 2 3", "set k v", "wait 0 0",
        "multi", "wait 1 0", "wait 5 100", "exec",
        "multi", "monitor", "exec", "monitor x",
    ],
}


def fix(args, reply):
    # 7.2's texts where the recording 7.0.15 differs: addReplyHelp's last line, and getTimeoutFromObjectOrReply's
    # overflow check (timeout.c: "timeout is out of range" when timeout + now would pass LLONG_MAX).
    if b"9223372036854775807" in args and reply == b"+OK\r\n" or args[:1] == [b"wait"] and b"9223372036854775807" in args:
        return b"-ERR timeout is out of range\r\n"
    return reply.replace(b"+    Prints this help.", b"+    Print this help.")


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, ["flushall"])


def record(port):
    record_class(port, "record-intro-transcripts.py", "IntroTranscripts", FAMILIES, run, fix)


def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
