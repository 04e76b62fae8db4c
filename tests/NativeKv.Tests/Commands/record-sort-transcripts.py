#!/usr/bin/env python3
"""Records the SORT / SORT_RO transcripts of SortCommandTests from a real redis-server.

    redis-server --port 7301 --save "" --appendonly no &
    python3 record-sort-transcripts.py record 7301 > SortTranscripts.cs   # the expected bytes
    python3 record-sort-transcripts.py compare 7301 7302                  # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL, once in RESP2 and once after HELLO 3. Replies are
kept byte for byte. Ties in a BY sort with LIMIT are left out: Redis sorts those with pqsort, whose order
among equal weights is not the merge sort's. OBJECT ENCODING of a stored list is left out too: 7.0 has
no listpack lists (7.2 converts a small result, t_list.c listTypeTryConversion; SortCommandTests checks it),
and BY nosort over a small set of strings: 7.0 keeps it in a hashtable (its order is the hash's), 7.2 in a
listpack (insertion order, as NativeKv). Weights that overflow or underflow (1e400, 1e-400) are checked in
SortCommandTests: sortCommandGeneric tests errno after strtod without clearing it, so in redis-server one
ERANGE makes every later numeric SORT fail ("One or more scores...") until errno is overwritten."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "Numeric": [
        "sort nosuch", "sort nosuch desc", "rpush l 3 1 2 10 -5 1.5 1e2 0x10", "sort l", "sort l desc", "sort l asc",
        "sort l limit 1 2", "sort l limit -1 2", "sort l limit 2 -1", "sort l limit 10 2", "sort l limit 0 0",
        "sort l limit 0 9223372036854775807", "sort l limit -9223372036854775808 2", "sort l limit 1 -100",
        "sort l desc limit 2 3", "sort l asc desc", "sort l desc asc", "sort l limit 0 1 limit 2 2",
        "rpush e \"\" 1 -1", "sort e", "rpush sp \" 1\" \"2 \" 3", "sort sp", "rpush w abc 1", "sort w", "sort w alpha",
        "rpush inf inf -inf 0 -infinity", "sort inf", "rpush big 9223372036854775807 9223372036854775806 -9223372036854775808 1e308",
        "sort big", "sort big desc", "rpush nan nan",
        "sort nan", "rpush dup 2 1 2 1 01 1.0", "sort dup", "sort dup desc", "rpush spaces \"  \"", "sort spaces",
        "rpush hex 0x1p3 0X10 -0x8", "sort hex", "sadd s 5 3 -1 20", "sort s", "sort s desc limit 1 2",
        "sadd t b 2 a", "sort t",
    ],
    "Alpha": [
        "rpush l b a c a B 10 9 \"\" ab", "sort l alpha", "sort l alpha desc", "sort l alpha limit 2 3",
        "sort l alpha desc limit 0 1", "sadd s z x y", "sort s alpha", "sort s alpha desc", "sadd i 3 1 2",
        "sort i alpha", "rpush bin \"\\xff\" \"\\x00\" \"\\x01a\" a", "sort bin alpha",
    ],
    "By": [
        "rpush l 3 1 2 10", "mset w_3 30 w_1 10 w_2 20 w_10 5", "sort l by w_*", "sort l by w_* desc",
        "sort l by w_* limit 1 2", "sort l by w_* alpha", "sort l by nosuch_*", "sort l by nosuch_* desc",
        "sort l by nosuch_* alpha", "sort l by nosuch_* alpha desc", "set w_2 x", "sort l by w_*", "sort l by w_* alpha",
        "set w_2 20", "sort l by nosort", "sort l by nosort desc", "sort l by nosort limit 1 2",
        "sort l by nosort desc limit 1 2", "sort l by nosort limit 5 2", "sort l by nosort desc limit 0 100",
        "sort l by nosort alpha", "sort l by \"#\"", "sort l by w_*_x", "mset w_3_x 1 w_1_x 3 w_2_x 2 w_10_x 4",
        "sort l by w_*_x", "sort l by *", "rpush m w_1 w_2", "sort m by *", "rpush lr b a", "lpush h:a x",
        "hset hw_3 f 3 hw_1 f 1", "hset hw_1 f 9", "hset hw_2 g 2", "hset hw_10 f 0", "sort l by hw_*->f",
        "sort l by hw_*->f desc", "sort l by hw_*->g", "sort l by hw_*->f alpha", "sort l by hw_*->", "set hw_*-> 1",
        "set \"hw_3->\" 5", "sort l by hw_*->", "sort l by w_*->f", "sadd s 3 1 2", "sort s by w_*", "sort s by nosort",
        "sort s by nosort limit 1 1", "sort s by nosort desc",
    ],
    "Get": [
        "rpush l 3 1 2", "mset o_1 one o_2 two", "hset h_1 name a h_3 name c", "hset h_2 other x", "sort l get o_*",
        "sort l get \"#\" get o_*", "sort l get o_* get \"#\" get h_*->name get nosuch_* get fixed",
        "sort l desc get h_*->name", "sort l by o_* alpha get o_*", "sort l by nosort get o_* limit 1 1",
        "sort l get \"#\" limit 0 0", "sort l get \"#\" limit 5 1", "set fixed v", "sort l get fixed",
        "sort l get o_*->x", "hset hh_1 x 1", "sort l get hh_*->x", "rpush hl_1 x", "sort l get hl_*",
        "sort l get hl_*->x", "sort nosuch get o_*", "sort l get h_*->", "sort l get *", "rpush k o_1 o_2",
        "sort k alpha get *", "sort k alpha get *->name", "hset o_9 name nine", "rpush k o_9", "sort k alpha get *->name",
        "sort_ro l get o_* get \"#\"", "sort_ro l by nosort get h_*->name",
    ],
    "Store": [
        "rpush l 3 1 2", "sort l store dst", "lrange dst 0 -1", "type dst", "sort l desc store dst", "lrange dst 0 -1",
        "mset o_1 one o_2 two", "sort l get o_* get \"#\" store dst", "lrange dst 0 -1", "llen dst",
        "sort l limit 0 0 store dst", "exists dst", "set dst x", "sort nosuch store dst", "exists dst",
        "setex dst 100 x", "sort l store dst", "ttl dst", "type dst", "sadd s b c a", "sort s by nosort store dst",
        "lrange dst 0 -1", "sort s by nosuch_* store dst", "lrange dst 0 -1", "sort l store a store b", "exists a",
        "lrange b 0 -1", "sort l store l", "lrange l 0 -1", "sort l by nosort desc limit 1 1 store one", "lrange one 0 -1",
        "sort_ro l store x", "exists x", "sadd t 1", "sort l store t", "type t", "hset h f v", "sort l store h", "type h",
    ],
    "SortedSets": [
        "zadd z 3 c 1 a 2 b 10 d 5 e", "mset w_a 9 w_b 8 w_c 7 w_d 6 w_e 5", "sort z", "sort z alpha", "sort z by nosort",
        "sort z by nosort desc", "sort z by nosort limit 1 2", "sort z by nosort desc limit 1 2", "sort z by nosort limit 4 10",
        "sort z by nosort limit 9 1", "sort z alpha desc limit 0 3", "sort z by w_*", "sort z by w_* desc get # get w_*",
        "sort z by nosort store dst", "lrange dst 0 -1", "sort_ro z alpha", "sort_ro z by nosort desc",
        "zadd n 1 30 2 10 3 20", "sort n", "sort n desc limit 1 1", "sort n by nosort", "hset h_30 f x", "sort n by nosort get h_*->f",
    ],
    "Errors": [
        "rpush l 1 2", "sort l foo", "sort l limit", "sort l limit 1", "sort l limit a 1", "sort l limit 1 b",
        "sort l limit 1.5 1", "sort l by", "sort l get", "sort l store", "sort l asc limit 0 1 foo", "sort l alpha x",
        "sort_ro l store d", "sort_ro l store", "sort_ro l foo", "set str x", "sort str", "sort_ro str",
        "sort str by nosort", "hset h f v", "sort h", "sort", "sort_ro", "sort str limit a b", "sort l limit a b",
        "rpush bad a", "sort bad", "sort bad by nosort", "sort bad limit 0 0", "sort_ro bad",
        "command getkeys sort a store b", "command getkeys sort a by x limit 0 1 store c get d store e",
        "command getkeys sort_ro a", "command getkeys sort a limit store b", "command getkeys sort a get store",
    ],
}

PREAMBLE = ["flushall"]


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, PREAMBLE)


def record(port):
    record_class(port, "record-sort-transcripts.py", "SortTranscripts", FAMILIES, run)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
