#!/usr/bin/env python3
"""Records the MULTI/EXEC/WATCH transcripts of TransactionCommandTests from a real redis-server.

    redis-server --port 38101 --save "" --appendonly no &
    python3 record-multi-transcripts.py record 38101 > MultiTranscripts.cs   # the expected bytes
    python3 record-multi-transcripts.py compare 38101 38102                  # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL, once in RESP2 and once after HELLO 3. Replies are kept
byte for byte (one RESP value each). A client touching its own watched keys is here; other clients' writes
and expiry are in Integration/TransactionTests."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "Queue": [
        "multi", "set k v", "get k", "incr k", "lpush k x", "rpush l a b", "lrange l 0 -1", "exec",
        "multi", "exec", "exec", "discard", "multi", "multi", "set k 1", "discard", "get k", "discard",
        "multi", "set k", "get k", "exec", "get k",
        "multi", "nosuchcommand a b", "ping", "exec",
        "multi", "ping", "watch k", "exec", "multi x", "multi", "unwatch", "exec",
        "multi", "select 1", "set k one", "select 0", "get k", "exec", "select 1", "get k", "select 0",
        "multi", "blpop nolist 0", "brpop nolist 0", "blmove nolist dst left left 0", "brpoplpush nolist dst 0",
        "blmpop 0 1 nolist left", "rpush ready x", "blpop ready 0", "bzpopmin z 0", "bzmpop 0 1 z min", "zadd z 1 a", "bzpopmax z 0", "exec",
        "multi", "blpop l -1", "blpop l x", "exec",
        "multi", "set n 10", "incrby n 5", "hset h f v", "hget h f", "sadd s a b", "scard s", "del n h s", "exists n h s", "exec",
        "multi", "set a 1", "reset", "exec", "get a",
        "multi", "echo", "exec",
        "multi", "ping", "discard", "exec",
    ],
    "Watch": [
        "set k 1", "watch k", "set k 2", "multi", "get k", "exec", "get k",
        "watch k", "multi", "get k", "exec",
        "watch k", "unwatch", "set k 3", "multi", "get k", "exec",
        "watch k", "multi", "discard", "set k 4", "multi", "get k", "exec",
        "watch nokey", "multi", "get nokey", "exec",
        "watch nokey", "set nokey 1", "multi", "get nokey", "exec",
        "watch k", "get k", "exists k", "multi", "get k", "exec",
        "watch k", "expire k 1000", "multi", "ttl k", "exec",
        "watch k", "persist k", "multi", "ttl k", "exec",
        "watch k", "persist k", "multi", "ttl k", "exec",
        "watch absent", "del absent", "multi", "ping", "exec",
        "watch k", "del k", "multi", "ping", "exec",
        "set k 1", "watch k", "set k 1", "multi", "ping", "exec",
        "watch gone", "flushdb", "multi", "ping", "exec",
        "set k 1", "watch k", "flushdb", "multi", "ping", "exec",
        "set k 1", "watch k", "flushall", "multi", "ping", "exec",
        "set k 1", "watch k", "swapdb 0 1", "multi", "ping", "exec", "swapdb 0 1",
        "set k 1", "watch k x y", "set y 1", "multi", "ping", "exec",
        "watch", "multi", "watch k", "exec",
        "set k 1", "watch k", "watch k", "incr k", "multi", "get k", "exec",
        "hset h f 1", "watch h", "hset h g 2", "multi", "hgetall h", "exec",
        "sadd s a", "watch s", "sadd s a", "multi", "sismember s a", "exec",
        "sadd s a", "watch s", "sadd s b", "multi", "scard s", "exec",
        "rpush q a", "watch q", "lpop q", "multi", "llen q", "exec",
    ],
}


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, ["flushall"])


def record(port):
    record_class(port, "record-multi-transcripts.py", "MultiTranscripts", FAMILIES, run)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
