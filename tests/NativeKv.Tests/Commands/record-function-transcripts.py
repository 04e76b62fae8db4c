#!/usr/bin/env python3
"""Records the FUNCTION / FCALL transcripts of FunctionTranscriptTests from a real redis-server.

    redis-server --port 38101 --save "" --appendonly no &
    python3 record-function-transcripts.py record 38101 > FunctionTranscripts.cs   # the expected bytes
    python3 record-function-transcripts.py compare 38101 38102                      # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL and FUNCTION FLUSH, once in RESP2 and once after HELLO 3.
FUNCTION LIST shows one library of one function at a time (Redis lists its dictionaries in hash order), and
FUNCTION DUMP of libraries is not here (redis-server LZF-compresses the code, NativeKv writes it plain; both
read both: FunctionTests restores a redis-server payload). Library code is quoted for shlex; \\n is a newline."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands


def load(code, replace=False):
    return "function load " + ("replace " if replace else "") + '"' + code + '"'


FAMILIES = {
    "Load": [
        load("#!lua name=mylib\\nredis.register_function('f1', function(keys, args) return keys[1] end)"),
        load("#!lua name=mylib\\nredis.register_function('f1', function(keys, args) return 1 end)"),
        load("#!lua name=other\\nredis.register_function('f1', function(keys, args) return 1 end)"),
        load("#!lua name=other\\nredis.register_function('F1', function(keys, args) return 1 end)"),
        load("#!lua name=mylib\\nredis.register_function('f2', function(keys, args) return 2 end)", replace=True),
        "fcall f1 0", "fcall f2 0",
        load("#!lua name=lib3\\nredis.call('ping')"),
        load("#!lua name=lib3\\nreturn 1"),
        load("#!lua name=lib3\\nlocal x = string.len('a')"),
        load("#!lua name=lib3\\nredis.register_function('bad-name', function() end)"),
        load("#!lua name=lib3\\nredis.register_function('', function() end)"),
        load("#!lua name=lib3\\nredis.register_function('f', function() end, 3)"),
        load("#!lua name=lib3\\nredis.register_function()"),
        load("#!lua name=lib3\\nredis.register_function(1)"),
        load("#!lua name=lib3\\nredis.register_function({}, function() end)"),
        load("#!lua name=lib3\\nredis.register_function('f', 'notfn')"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f', callback=function() end, flags={'bad'}}"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f', callback=function() end, flags='no-writes'}"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f', callback=function() end, foo=1}"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f'}"),
        load("#!lua name=lib3\\nredis.register_function{callback=function() end}"),
        load("#!lua name=lib3\\nredis.register_function{function_name={}, callback=function() end}"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f', callback=1}"),
        load("#!lua name=lib3\\nredis.register_function{function_name='f', callback=function() end, description={}}"),
        load("#!lua name=lib3\\nredis.register_function{[1]='f'}"),
        load("#!lua name=lib3\\nredis.register_function('f', function() end)\\nredis.register_function('f', function() end)"),
        load("#!lua name=lib3\\nx = 1"),
        load("#!lua name=lib3\\nredis.register_function('f', function() end"),
        load("#!lua name=lib3\\nerror('at load')"), load("#!lua name=lib3\\nwhile true do end"),
        load("#!lua name=lib3\\nlocal ok = pcall(function() end)"),
        load("#!lua name=lib3\\nredis.setresp(3)"),
        load("#!lua name=lib3\\nredis.log(redis.LOG_NOTICE, 'loading')\\nredis.register_function('vers', function() return redis.REDIS_VERSION_NUM > 0 end)"),
        "fcall vers 0",
        load("#!lua"), load("#!lua name=a-b\\n"), load("#!lua name=x foo=bar\\n"), load("#!lua name=x name=y\\n"),
        load("#!luax name=x\\n"), load("#!LUA name=upper\\nredis.register_function('up', function() return 'up' end)"),
        load("lib3\\n"), load("#!lua name=lib3"), load('#!lua name=\\"unbalanced\\n'),
        "function load", "function load replace", "function load foo bar", "function load replace replace x",
        "function list libraryname upper", "function delete upper",
    ],
    "Fcall": [
        load("#!lua name=mylib\\nlocal function helper() return 'h' end\\n"
             "redis.register_function('echo', function(keys, args) return {keys[1], args[1], helper(), #keys, #args} end)\\n"
             "redis.register_function('ferr', function(keys, args) return redis.call('nosuch') end)\\n"
             "redis.register_function('fglob', function(keys, args) return KEYS end)\\n"
             "redis.register_function('freg', function(keys, args) return redis.register_function('x', function() end) end)\\n"
             "redis.register_function('fstr', function(keys, args) return string.upper(args[1]) end)\\n"
             "redis.register_function('fset', function(keys, args) x = 5 end)\\n"
             "redis.register_function('fE', function(keys, args) error('boom') end)\\n"
             "redis.register_function('fT', function(keys, args) return {err = 'MY custom'} end)\\n"
             "redis.register_function('fw', function(keys, args) return redis.call('set', keys[1], args[1]) end)\\n"
             "redis.register_function('fincr', function(keys, args) return redis.call('incr', keys[1]) end)\\n"
             "redis.register_function{function_name='fro', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'no-writes'}}\\n"
             "redis.register_function{function_name='frow', callback=function(keys, args) return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}\\n"
             "redis.register_function{function_name='fall', callback=function(keys, args) return redis.call('get', keys[1]) end, flags={'NO-WRITES', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'}}\\n"
             "redis.register_function{function_name='fresp', callback=function(keys, args) redis.setresp(3) return redis.call('hgetall', keys[1]) end}\\n"
             "redis.register_function('fpcall', function(keys, args) local ok, e = pcall(redis.call, 'incr', keys[1]) return {tostring(ok), e} end)"),
        "fcall echo 1 k a", "fcall ECHO 2 k1 k2 a", "fcall echo 0", "fcall ferr 0", "fcall fglob 0", "fcall freg 0",
        "fcall fstr 0 abc", "fcall fset 0", "fcall fE 0", "fcall fT 0", "fcall fw 1 k v", "get k", "fcall fincr 1 n", "fcall fincr 1 n",
        "fcall_ro fro 1 k", "fcall_ro fw 1 k v", "fcall_ro echo 0", "fcall frow 1 k", "fcall_ro frow 1 k", "fcall fall 1 k", "fcall_ro fall 1 k",
        "hset h a 1", "fcall fresp 1 h", "fcall fpcall 1 k",
        "fcall nope 0", "fcall_ro nope 0", "fcall echo -1", "fcall echo 5 a", "fcall echo x", "fcall nope x", "fcall echo",
        "eval \"return redis.call('fcall', 'echo', 0)\" 0", "fcall", "fcall_ro echo",
    ],
    "Manage": [
        load("#!lua name=alib\\nredis.register_function{function_name='only', description='the one', flags={'no-writes', 'allow-stale'}, callback=function() return 1 end}"),
        "function list", "function list withcode", "function list libraryname al*", "function list libraryname AL*", "function list libraryname x*",
        "function list withcode libraryname alib", "function list libraryname", "function list foo", "function list withcode withcode",
        "function list libraryname a libraryname b",
        load("#!lua name=blib\\nredis.register_function('two', function() return 2 end)"),
        "function list libraryname blib", "function stats", "function delete nosuch", "function delete blib", "function delete blib",
        "fcall two 0", "function delete", "function delete a b", "function stats",
        "function restore abc", "function restore abc foo", "function restore abc append", "function restore a b c",
        "function restore \"\\x0b\\x00\\x34\\x44\\xe1\\x33\\xf2\\xe0\\x4b\\x53\"", "function restore \"\\x0c\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\"",
        "function flush foo", "function flush sync async", "function flush async", "function list", "function flush sync", "function flush",
        "function kill", "function help", "function nosuch", "function", "fcall only 0",
        "script kill",
    ],
}


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, ["flushall", "function flush"])


EMPTY_72 = b"\x0b\x00\x34\x44\xe1\x33\xf2\xe0\x4b\x53"  # 7.2's empty FUNCTION DUMP (RDB version 11)


def fix(args, reply):
    # 7.2's help text (addReplyHelp); 7.2 restores its own RDB version, which 7.0.15 refuses as too new.
    if args[:2] == [b"function", b"restore"] and len(args) == 3 and args[2] == EMPTY_72:
        return b"+OK\r\n"
    return reply.replace(b"+    Prints this help.", b"+    Print this help.")


def record(port):
    record_class(port, "record-function-transcripts.py", "FunctionTranscripts", FAMILIES, run, fix)


def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
