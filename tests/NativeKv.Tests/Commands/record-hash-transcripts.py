#!/usr/bin/env python3
"""Records the hash/OBJECT transcripts of HashCommandTests from a real redis-server.

    redis-server --port 7301 --save "" --appendonly no &
    python3 record-hash-transcripts.py record 7301 hashes > HashTranscripts.Hashes.cs   # the expected bytes
    python3 record-hash-transcripts.py record 7301 keys > HashTranscripts.Keys.cs
    python3 record-hash-transcripts.py compare 7301 7302                   # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL and the default hash thresholds, once in
RESP2 and once after HELLO 3. Replies are kept byte for byte (one RESP value each)."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "SetGet": [
        "hset h a 1", "hset h a 2 b 3", "hset h a 2 a 4", "hget h a", "hget h b", "hget h nosuch", "hget nosuch a",
        "hmget h a b nosuch", "hmget nosuch a b", "hsetnx h a 9", "hsetnx h c 9", "hsetnx new f v", "hget new f",
        "hmset h d 5 e 6", "hlen h", "hlen nosuch", "hstrlen h a", "hstrlen h nosuch", "hstrlen nosuch a",
        'hset h "" ""', 'hget h ""', 'hstrlen h ""', "hset bin \\xff\\x00\\r\\n \\x00\\x01", "hget bin \\xff\\x00\\r\\n",
        "hgetall bin", "hset h a 12345678901234567890123", "hget h a", "hlen h",
    ],
    "DeleteExists": [
        "hset h a 1 b 2 c 3 d 4", "hexists h a", "hexists h z", "hexists nosuch a", "hdel h a", "hdel h a",
        "hdel h b b c", "hdel h z", "hgetall h", "hdel nosuch a", "hdel h d", "exists h", "hlen h", "type h",
        "hset h x 1", "hdel h y x", "exists h",
    ],
    "Incr": [
        "hincrby h n 5", "hincrby h n -7", "hincrby h n 0", "hget h n", "hincrby h n x", "hincrby h n 1.5",
        "hset h s abc", "hincrby h s 1", "hset h big 9223372036854775807", "hincrby h big 1",
        "hset h small -9223372036854775808", "hincrby h small -1", "hincrby h small 0", "hset h pad 01", "hincrby h pad 1",
        "hset h sp \" 1\"", "hincrby h sp 1", "hincrby h fresh -9223372036854775808",
        "hincrbyfloat h f 10.5", "hincrbyfloat h f 0.25", "hincrbyfloat h f -5", "hincrbyfloat h f 5.0e3",
        "hincrbyfloat h g 1.5e-5", "hincrbyfloat h n 1", "hget h n", "hincrbyfloat h f abc", "hincrbyfloat h f inf",
        "hincrbyfloat h f -inf", "hincrbyfloat h f nan", "hincrbyfloat h s 1", "hset h i inf", "hincrbyfloat h i 1",
        "hincrbyfloat h f \"\"", "hincrbyfloat h f \" 1\"", "hincrbyfloat h e 3", "hincrbyfloat h e -3", "hget h e",
        "hincrby nosuch2 a 3", "hincrbyfloat nosuch3 a 2.5", "hgetall nosuch2",
    ],
    "Enumerate": [
        "hkeys nosuch", "hvals nosuch", "hgetall nosuch", "hset h z 1 y 2 x 3", "hkeys h", "hvals h", "hgetall h",
        "hdel h y", "hset h y 4 w 5", "hgetall h", "hset h z 9", "hgetall h", "hkeys h", "hvals h",
    ],
    "RandomDeterministic": [
        "hrandfield nosuch", "hrandfield nosuch 5", "hrandfield nosuch -5 withvalues", "hset h a 1 b 2 c 3",
        "hrandfield h 0", "hrandfield h 0 withvalues", "hrandfield h 3", "hrandfield h 3 withvalues", "hrandfield h 10",
        "hrandfield h 9223372036854775807", "hrandfield h 4611686018427387903 withvalues",
        "hrandfield h 4611686018427387904 withvalues", "hrandfield h -4611686018427387904 withvalues",
        "hrandfield h -9223372036854775808", "hrandfield h -9223372036854775807 withvalues", "hrandfield h x",
        "hrandfield h 1 foo", "hrandfield h 1 withvalues x", "hrandfield h 1.5", "hset one f v", "hrandfield one",
        "hrandfield one 1", "hrandfield one -3", "hrandfield one -2 withvalues", "hrandfield one 5 withvalues",
    ],
    "Scan": [
        "hscan nosuch 0", "hscan nosuch 0 count 0", "hscan nosuch x", "hset h a 1 b 2 ab 3", "hscan h 0", "hscan h 7",
        "hscan h 0 match a*", "hscan h 0 match *b count 1", "hscan h 0 match zz", "hscan h 0 count 0", "hscan h 0 count -1",
        "hscan h 0 count x", "hscan h 0 match", "hscan h 0 type hash", "hscan h 0 novalues", "hscan h x", "hscan h -1",
        "hscan h 18446744073709551615", "hscan h 18446744073709551616", "hscan h \" 1\"", "hscan h +1", "hscan h \"\"",
        "hscan h -", "hscan h 1x", "hscan h -18446744073709551615",
    ],
    "Errors": [
        "set s v", "hset s a 1", "hsetnx s a 1", "hmset s a 1", "hget s a", "hmget s a", "hdel s a", "hexists s a", "hlen s",
        "hstrlen s a", "hkeys s", "hvals s", "hgetall s", "hincrby s a 1", "hincrbyfloat s a 1", "hrandfield s",
        "hrandfield s 2", "hscan s 0", "hset h a 1", "get h", "incr h", "append h x", "strlen h", "getrange h 0 1",
        "set h v", "type h", "hset h", "hset h a", "hset h a 1 b", "hmset h a", "hget h", "hmget h", "hdel h",
        "hsetnx h a", "hincrby h a", "hincrbyfloat h a", "hrandfield", "hscan h", "hlen", "hkeys h x",
    ],
    "Encoding": [
        "hset h a 1", "object encoding h", "config set hash-max-listpack-entries 2", "hset h b 2", "object encoding h",
        "hset h c 3", "object encoding h", "hdel h b c", "object encoding h", "hlen h", "hgetall h",
        "config set hash-max-listpack-entries 512", "hset v f " + "x" * 64, "object encoding v", "hset v g " + "y" * 65,
        "object encoding v", "hset w " + "f" * 65 + " 1", "object encoding w", "hsetnx x " + "f" * 65 + " 1",
        "object encoding x", "hincrby y " + "f" * 65 + " 1", "object encoding y", "hincrbyfloat z " + "f" * 65 + " 1",
        "object encoding z", "hset u a 1", "hset u a " + "v" * 65, "object encoding u", "hset u a 1", "object encoding u",
        "hset t a 1", "hsetnx t a " + "v" * 65, "object encoding t", "config set hash-max-listpack-value 0",
        "hset q a \"\"", "object encoding q", "hset q b 1", "object encoding q", "config set hash-max-listpack-value 64",
        "config set hash-max-listpack-entries 0", "hset p a 1", "object encoding p", "config set hash-max-listpack-entries 512",
        "hset m a 1 a 2 a 3", "object encoding m",
    ],
    "Object": [
        "set a 123", "set b 0123", "set c \" 12\"", "set d -0", "set e 9223372036854775808", "set f " + "x" * 44,
        "set g " + "x" * 45, "set i 12345678901234567890", "set j -9223372036854775808", "set k \"\"", "set l 10000",
        "set m 9999", "set n -1", "set o +1", "set p 1.5", "set q " + "1" * 21,
        "object encoding a", "object encoding b", "object encoding c", "object encoding d", "object encoding e",
        "object encoding f", "object encoding g", "object encoding i", "object encoding j", "object encoding k",
        "object encoding l", "object encoding m", "object encoding n", "object encoding o", "object encoding p",
        "object encoding q", "object refcount a", "object refcount b", "object refcount l", "object refcount m",
        "object refcount n", "object refcount g", "incr m", "object encoding m", "object refcount m",
        "hset h f v", "object encoding h", "object refcount h", "object idletime g", "object idletime h",
        "object freq a", "object encoding nosuch", "object refcount nosuch", "object idletime nosuch", "object freq nosuch",
        "object foo", "object foo bar", "object", "object encoding", "object encoding a b", "object help", "object help x",
        "config set maxmemory-policy allkeys-lfu", "set z v", "object freq z", "object idletime z", "object refcount a",
        "config set maxmemory-policy volatile-lfu", "object freq z", "config set maxmemory-policy noeviction",
        "config set maxmemory 1gb", "set y 5", "object refcount y", "object refcount a",
        "config set maxmemory-policy allkeys-lru", "set x 5", "object refcount x",
        "object idletime x", "config set maxmemory-policy volatile-lfu", "object refcount x", "set w v", "object freq w",
        "config set maxmemory-policy noeviction", "config set maxmemory 0",
    ],
    "KeysWithHashes": [
        "hset h a 1 b 2", "type h", "set s v", "scan 0 type hash count 1000", "scan 0 type string count 1000", "scan 0 type set count 1000", "dbsize", "rename h h2",
        "exists h", "hgetall h2", "type h2", "copy h2 h3", "hgetall h3", "hset h3 c 3", "hlen h2", "hlen h3",
        "copy h2 h3", "copy h2 h3 replace", "hlen h3", "move h3 1", "exists h3", "select 1", "hgetall h3", "type h3",
        "object encoding h3", "select 0", "expire h2 100", "ttl h2", "hset h2 c 3", "ttl h2", "hdel h2 a", "ttl h2",
        "persist h2", "ttl h2", "del h2 s", "exists h2", "dbsize", "hset only f v", "keys *", "randomkey",
        "renamenx only s", "hgetall s", "del s", "keys *", "randomkey",
    ],
}

PREAMBLE = ["flushall", "config set hash-max-listpack-entries 512", "config set hash-max-listpack-value 64",
            "config set maxmemory-policy noeviction", "config set maxmemory 0"]


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, PREAMBLE)


def fix72(args, reply):
    # 7.0.15 says "Prints this help."; 7.2 (the reference where they differ) "Print this help."
    return reply.replace(b"+    Prints this help.", b"+    Print this help.")


def record(port, part):
    # Two files (HashTranscripts.Hashes.cs, HashTranscripts.Keys.cs) keep each under 800 lines.
    names = list(FAMILIES)
    names = names[:5] if part == "hashes" else names[5:]
    record_class(port, "record-hash-transcripts.py", "HashTranscripts", names, run, fix72, partial=True)

def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix72)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]), sys.argv[3])
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
