#!/usr/bin/env python3
"""Records the list transcripts of ListCommandTests from a real redis-server.

    redis-server --port 38101 --save "" --appendonly no &
    python3 record-list-transcripts.py record 38101 > ListTranscripts.cs   # the expected bytes
    python3 record-list-transcripts.py compare 38101 38102                 # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL, once in RESP2 and once after HELLO 3. Replies
are kept byte for byte (one RESP value each). OBJECT ENCODING is left out: 7.0 answers quicklist for
every list, 7.2 (the reference) listpack for small ones; ListCommandTests checks 7.2's rules on its own."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "PushPop": [
        "lpush l a b c", "rpush l d e", "lrange l 0 -1", "llen l", "lpushx nosuch a", "rpushx nosuch a", "exists nosuch",
        "lpushx l x", "rpushx l y z", "lrange l 0 -1", "lpop l", "rpop l", "lpop l 2", "rpop l 2", "lpop l 0", "rpop l 0",
        "lpop nosuch", "rpop nosuch", "lpop nosuch 2", "rpop nosuch 2", "lpop nosuch 0", "lpop l -1", "rpop l x", "lpop nosuch -1",
        "lpop l 1 2", "lrange l 0 -1", "rpop l 100", "exists l", "rpush l \"\" 1 -1 9223372036854775807 01",
        "lrange l 0 -1", "lpop l 100", "exists l", "rpush bin \\xff\\x00\\r\\n \\x00", "lindex bin 0", "rpop bin", "lpush",
        "lpush l", "rpushx l", "llen", "llen nosuch", "llen bin", "rpop", "rpush l 1 2 3", "lpop l 9223372036854775807",
        "rpush l 1 2 3", "rpop l 1", "rpop l 5", "lpush big " + " ".join(str(i) for i in range(300)), "llen big",
        "lrange big 0 3", "lrange big -3 -1", "rpop big 3", "lpop big",
    ],
    "IndexSetRange": [
        "rpush l a b c d e", "lindex l 0", "lindex l -1", "lindex l 4", "lindex l 5", "lindex l -5", "lindex l -6",
        "lindex l x", "lindex nosuch x", "lindex nosuch 0", "lindex l 9223372036854775807", "lindex l -9223372036854775808",
        "lindex l 1.5", "lset l 0 A", "lset l -1 E", "lset l 5 x", "lset l -6 x", "lset l x y", "lset nosuch 0 x",
        "lset nosuch x x", "lrange l 0 -1", "lrange l 1 2", "lrange l -2 -1", "lrange l -100 100", "lrange l 3 1",
        "lrange l 5 10", "lrange l -1 -2", "lrange l 0 0", "lrange nosuch 0 -1", "lrange nosuch x 1", "lrange l 0 x",
        "lrange l -9223372036854775808 9223372036854775807", "lset l 2 \"\"", "lrange l 0 -1", "lset l 1 " + "v" * 100,
        "lindex l 1", "lset l 1 short", "lrange l 0 -1",
    ],
    "TrimRem": [
        "rpush l a b c d e f", "ltrim l 1 -2", "lrange l 0 -1", "ltrim l 0 100", "lrange l 0 -1", "ltrim l -2 -1",
        "lrange l 0 -1", "ltrim l 5 1", "exists l", "ltrim nosuch 0 1", "ltrim l x 1", "ltrim nosuch x 1",
        "rpush l a b c", "ltrim l -100 -3", "lrange l 0 -1", "ltrim l 0 -9223372036854775808", "exists l",
        "rpush l a b a c a b a", "lrem l 2 a", "lrange l 0 -1", "lrem l -1 a", "lrange l 0 -1", "lrem l 0 b",
        "lrange l 0 -1", "lrem l 0 zz", "lrem l 1 c", "lrem l 0 a", "exists l", "lrem nosuch 1 a", "lrem l x a",
        "lrem nosuch x a", "rpush l a a a", "lrem l -9223372036854775808 a", "exists l", "rpush l 1 01 1 \"\"",
        "lrem l 0 1", "lrange l 0 -1", "lrem l 1 \"\"", "lrange l 0 -1", "rpush l x y x y x", "lrem l -2 x",
        "lrange l 0 -1", "lrem l 9223372036854775807 y", "lrange l 0 -1",
    ],
    "InsertPos": [
        "rpush l a b c", "linsert l before b x", "linsert l after c y", "linsert l after a z", "linsert l BEFORE a h",
        "lrange l 0 -1", "linsert l before nope q", "linsert l middle b q", "linsert nosuch before a b",
        "linsert nosuch middle a b", "lrange l 0 -1", "del l", "rpush l a b c 1 2 3 c c", "lpos l c", "lpos l c rank 2",
        "lpos l c rank -1", "lpos l c rank -2", "lpos l c count 0", "lpos l c count 2", "lpos l c rank -1 count 0",
        "lpos l c rank 2 count 0", "lpos l c rank 5", "lpos l c count 0 rank 10", "lpos l c maxlen 3",
        "lpos l c maxlen 3 count 0", "lpos l c count 0 maxlen 7", "lpos l c rank -1 maxlen 2", "lpos l c rank -1 maxlen 1",
        "lpos l c rank 0", "lpos l c rank x", "lpos l c rank -9223372036854775808", "lpos l c rank 9223372036854775807",
        "lpos l c rank -9223372036854775807", "lpos l c count -1", "lpos l c maxlen -1", "lpos l c count x",
        "lpos l c count", "lpos l c foo", "lpos l c foo bar", "lpos l zz", "lpos l zz count 0", "lpos nosuch a",
        "lpos nosuch a count 1", "lpos nosuch a rank 0", "lpos nosuch a foo", "lpos l 1", "lpos l c RANK 1 COUNT 1 MAXLEN 0",
        "lpos l c count 2 count 0", "lpos l c rank 2 rank -1 count 0",
    ],
    "MoveMpop": [
        "rpush a 1 2 3", "rpush b x y", "lmove a b left right", "lrange a 0 -1", "lrange b 0 -1", "lmove a b right left",
        "lmove a a left right", "lrange a 0 -1", "rpoplpush a b", "lrange b 0 -1", "exists a", "lmove a b left left",
        "rpoplpush nosuch b", "lmove b new left right", "lrange new 0 -1", "lmove b b up left", "lmove b b left down",
        "lmove nosuch b up left", "lmove b b LEFT RIGHT", "lrange b 0 -1", "set s v", "lmove s b left left",
        "lmove b s left left", "lrange b 0 -1", "rpoplpush b s", "rpoplpush s b", "rpush one x", "rpoplpush one one",
        "lrange one 0 -1", "lmove one one right right", "lmove nosuch s left left", "lmove one other right right",
        "exists one", "lrange other 0 -1",
        "rpush l1 a b c d", "rpush l2 x y", "lmpop 2 nosuch l1 left", "lmpop 2 nosuch l1 right count 2",
        "lmpop 2 l1 l2 left count 10", "exists l1", "lmpop 1 l2 right count 1", "lmpop 1 l2 right",
        "lmpop 2 nosuch l2 left", "lmpop 0 l1 left", "lmpop -1 l1 left", "lmpop x l1 left", "lmpop 3 l1 l2 left",
        "rpush l1 a b", "lmpop 1 l1 middle", "lmpop 1 l1 left count 0", "lmpop 1 l1 left count -1", "lmpop 1 l1 left count x",
        "lmpop 1 l1 left count 1 count 2", "lmpop 1 l1 left foo", "lmpop 1 l1 left count", "lmpop 2 nosuch s left",
        "lmpop 2 s nosuch left", "rpush l3 a", "lmpop 2 l3 s left", "lmpop 2 s l3 left", "lmpop 9223372036854775807 l1 left",
        "lmpop 1", "lmpop 1 l1", "lmpop 1 l1 LEFT COUNT 1", "lmpop 2 l1 l1 right count 5", "exists l1",
    ],
    "Errors": [
        "set s v", "lpush s a", "rpush s a", "lpushx s a", "rpushx s a", "lpop s", "rpop s", "lpop s 2", "lpop s -2",
        "llen s", "lindex s 0", "lindex s x", "lset s 0 a", "lset s x a", "lrange s 0 1", "lrange s x 1", "ltrim s 0 1",
        "lrem s 0 a", "lrem s x a", "linsert s before a b", "linsert s middle a b", "lpos s a", "lpos s a rank 0",
        "lmove s x left left", "lmpop 1 s left", "rpoplpush s x", "lpush l a", "get l", "type l", "sadd l a", "hset l a b",
        "incr l", "append l x", "lindex", "lset l 0", "lrange l 0", "ltrim l 0", "lrem l 0", "linsert l before a", "lpos l",
        "lmove a b left", "rpoplpush a", "lpushx l", "rpop l 1 2", "lpop", "lmpop", "lindex l 0 1", "llen l x",
    ],
    "Keys": [
        "rpush l a b c", "type l", "set s v", "scan 0 type list count 1000", "scan 0 type string count 1000", "rename l l2",
        "exists l", "lrange l2 0 -1", "type l2", "copy l2 l3", "rpush l3 d", "llen l2", "llen l3", "copy l2 l3",
        "copy l2 l3 replace", "llen l3", "move l3 1", "exists l3", "select 1", "lrange l3 0 -1", "type l3", "select 0",
        "expire l2 100", "ttl l2", "rpush l2 x", "ttl l2", "lpop l2", "ttl l2", "lset l2 0 z", "ttl l2", "ltrim l2 0 1",
        "ttl l2", "linsert l2 before z q", "ttl l2", "lmove l2 l2 left right", "ttl l2", "persist l2", "ttl l2",
        "del l2 s", "exists l2", "dbsize", "rpush only v", "keys *", "randomkey", "renamenx only s", "lrange s 0 -1",
        "object encoding nosuch", "object refcount s", "del s", "rpush e a", "lpop e", "exists e", "type e",
    ],
}

PREAMBLE = ["flushall", "config set maxmemory-policy noeviction", "config set maxmemory 0"]


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, PREAMBLE)


# Where 7.0.15 and 7.2 differ, 7.2's reply (the reference): 7.2 bounds LPOS RANK to +-LONG_MAX
# (getRangeLongFromObjectOrReply), 7.0 negated LONG_MIN and answered a match.
OVERRIDES_72 = {
    b"lpos l c rank -9223372036854775808":
        b"-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n",
}


def fix72(args, reply):
    return OVERRIDES_72.get(b" ".join(args), reply)


def record(port):
    record_class(port, "record-list-transcripts.py", "ListTranscripts", FAMILIES, run, fix72)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix72)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
