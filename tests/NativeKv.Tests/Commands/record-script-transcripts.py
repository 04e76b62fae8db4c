#!/usr/bin/env python3
"""Records the EVAL / EVALSHA / SCRIPT transcripts of ScriptTranscriptTests from a real redis-server.

    redis-server --port 38101 --save "" --appendonly no &
    python3 record-script-transcripts.py record 38101 > ScriptTranscripts.cs   # the expected bytes
    python3 record-script-transcripts.py compare 38101 38102                    # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL and SCRIPT FLUSH, once in RESP2 and once after HELLO 3.
Not here, as the sandbox is emulated
(docs/scripting.md): setmetatable/rawset on a protected table answer Lua's own texts. Scripts are quoted for shlex; \\n in them is a newline. 7.2 wins where 7.0.15 differs: redis.REDIS_VERSION and
REDIS_VERSION_NUM are 7.2.4's (fix below)."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands

FAMILIES = {
    "Eval": [
        "eval \"return 1\" 0", "eval \"return 1\" -1", "eval \"return 1\" 2 a", "eval \"return 1\" x",
        "eval \"return 1\" 99999999999999999999", "eval \"return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}\" 2 k1 k2 a1 a2",
        "eval \"return #KEYS + #ARGV * 10\" 0 a b c", "eval", "eval \"return 1\"",
        "evalsha abc 0", "evalsha aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa 0", "evalsha e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0",
        "eval \"return 1\" 0", "evalsha e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", "evalsha E0E1F9FABFC9D4800C877A703B823AC0578FF8DB 0",
        "evalsha_ro e0e1f9fabfc9d4800c877a703b823ac0578ff8db 0", "eval_ro \"return 2\" 0",
        "script load \"return 'loaded'\"", "evalsha 6cdc2d7b8e1ae11d0f8d24d5d36e5f7a05a4bfd9 0",
        "script exists 6cdc2d7b8e1ae11d0f8d24d5d36e5f7a05a4bfd9 ffffffffffffffffffffffffffffffffffffffff e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        "script exists", "script load \"return +\"", "script load", "script flush",
        "script exists 6cdc2d7b8e1ae11d0f8d24d5d36e5f7a05a4bfd9", "evalsha 6cdc2d7b8e1ae11d0f8d24d5d36e5f7a05a4bfd9 0",
        "script flush async", "script flush sync", "script flush bad", "script flush sync async", "script kill", "script help",
        "script nosuch", "eval \"return redis.sha1hex('')\" 0", "eval \"return redis.sha1hex('return 1')\" 0",
        "eval \"return redis.sha1hex()\" 0", "eval \"return redis.sha1hex(1, 2)\" 0",
    ],
    "Replies": [
        "eval \"return 'str'\" 0", "eval \"return 42\" 0", "eval \"return 3.99\" 0", "eval \"return -3.99\" 0",
        "eval \"return 1e20\" 0", "eval \"return true\" 0", "eval \"return false\" 0", "eval \"return nil\" 0",
        "eval \"return {}\" 0", "eval \"return {1, 2, {3, 'x', {}}, 'y'}\" 0", "eval \"return {1, nil, 3}\" 0",
        "eval \"return {1, 2, false, 4}\" 0", "eval \"return {1, true, 3}\" 0", "eval \"return {a = 1, 2}\" 0",
        "eval \"return {err = 'MYERR custom'}\" 0", "eval \"return {err = 'noprefix'}\" 0", "eval \"return {err = '-DASH x'}\" 0",
        "eval \"return {ok = 'FINE'}\" 0", "eval \"return {ok = 'a\\r\\nb'}\" 0", "eval \"return redis.status_reply('STATUS')\" 0",
        "eval \"return redis.error_reply('MY err')\" 0", "eval \"return redis.error_reply('-X y')\" 0",
        "eval \"return redis.error_reply('plain')\" 0", "eval \"return redis.error_reply(1)\" 0",
        "eval \"return redis.status_reply()\" 0", "eval \"return {1, {err = 'inner'}, 3}\" 0",
        "eval \"return {double = 3.5}\" 0", "eval \"return {big_number = '123456789012345678901234567890'}\" 0",
        "eval \"return {map = {a = 1}}\" 0", "eval \"return {set = {x = true}}\" 0",
        "eval \"return {verbatim_string = {format = 'txt', string = 'hello'}}\" 0",
        "eval \"return {ok = 'x', err = 'ERR both'}\" 0",
    ],
    "Calls": [
        "eval \"return redis.call('set', KEYS[1], ARGV[1])\" 1 k v", "eval \"return redis.call('get', KEYS[1])\" 1 k",
        "eval \"return redis.call('get', 'nokey')\" 0", "eval \"return redis.call('incr', 'n')\" 0",
        "eval \"return redis.call('incrbyfloat', 'f', 1.5)\" 0", "eval \"return redis.call('set', 'num', 3.25)\" 0", "get num",
        "eval \"return redis.call('set', 'num', 10/3)\" 0", "get num", "eval \"return redis.call('set', 'num', 1e100)\" 0", "get num",
        "eval \"return redis.call('rpush', 'l', 'a', 'b', 'c')\" 0", "eval \"return redis.call('lrange', 'l', 0, -1)\" 0",
        "eval \"return redis.call('hset', 'h', 'f', 'v', 'g', 'w')\" 0", "eval \"return redis.call('hgetall', 'h')\" 0",
        "eval \"return redis.call('hgetall', 'nohash')\" 0", "eval \"return redis.call('ping')\" 0",
        "eval \"return redis.call('type', 'h')\" 0", "eval \"return redis.call('exists', 'h', 'l', 'zz')\" 0",
        "eval \"return redis.call('zadd', 'z', 1, 'a', 2.5, 'b')\" 0", "eval \"return redis.call('zrange', 'z', 0, -1, 'withscores')\" 0",
        "eval \"return redis.call('zscore', 'z', 'b')\" 0", "eval \"return redis.call('smembers', 'noset')\" 0",
        "eval \"return redis.call('incr', 'l')\" 0", "eval \"return redis.pcall('incr', 'l')\" 0",
        "eval \"local r = redis.pcall('incr', 'l') return r.err\" 0", "eval \"return type(redis.pcall('incr', 'l'))\" 0",
        "eval \"return redis.call('nosuch')\" 0", "eval \"return redis.pcall('nosuch')\" 0", "eval \"return redis.call('get')\" 0",
        "eval \"return redis.pcall('get')\" 0", "eval \"return redis.call()\" 0", "eval \"return redis.pcall()\" 0",
        "eval \"return redis.call({})\" 0", "eval \"return redis.call('get', {})\" 0", "eval \"return redis.call('get', nil)\" 0",
        "eval \"return redis.call('multi')\" 0", "eval \"return redis.call('exec')\" 0", "eval \"return redis.call('watch', 'k')\" 0",
        "eval \"return redis.call('eval', 'return 1', 0)\" 0", "eval \"return redis.call('script', 'load', 'return 1')\" 0",
        "eval \"return redis.call('blpop', 'nolist', 0)\" 0", "eval \"return redis.call('brpoplpush', 'nolist', 'd', 0)\" 0",
        "eval \"return redis.call('blmove', 'nolist', 'd', 'left', 'left', 0)\" 0", "eval \"return redis.call('bzpopmin', 'noz', 0)\" 0",
        "eval \"redis.call('select', 1) redis.call('set', 'in1', 'yes') return redis.call('get', 'in1')\" 0",
        "get in1", "select 1", "get in1", "select 0",
        "eval \"local t = {} for i = 1, 5 do t[i] = redis.call('incr', 'cnt') end return t\" 0",
        "eval \"return pcall(function() redis.call('incr', 'l') end)\" 0",
        "eval \"local ok, e = pcall(function() redis.call('incr', 'l') end) return e\" 0",
        "eval \"local ok, e = pcall(redis.call, 'incr', 'l') return {tostring(ok), e}\" 0",
        "eval \"local ok, e = pcall(redis.call, 'get', 'k') return {tostring(ok), e}\" 0",
        "eval \"local ok, e = pcall(error, 'msg') return {tostring(ok), e}\" 0",
        "eval \"local ok, e = pcall(error, {err = 'TBL x'}) return {tostring(ok), e}\" 0",
        "eval \"local ok, e = xpcall(function() redis.call('incr', 'l') end, function(x) return type(x) end) return e\" 0",
        "eval \"return redis.call('incr', 'l') + 1\" 0",
        "eval \"local function f() return redis.call('incr', 'l') end\\nlocal x = 1\\nreturn f()\" 0",
        "eval \"\\n\\nredis.call('incr', 'l')\" 0",
    ],
    "Sandbox": [
        "eval \"return rawget(_G, 'bit') ~= nil\" 0", "eval \"return rawget(math, 'pi')\" 0", "eval \"return rawget(_G, 'nosuch')\" 0",
        "eval \"return type(rawget(redis, 'call'))\" 0", "eval \"return rawget(_G, 'KEYS')[1]\" 1 kk", "eval \"return rawget({5}, 1)\" 0",
        "eval \"return rawget(1, 2)\" 0", "eval \"return rawget(string)\" 0", "eval \"return rawget()\" 0",
        "eval \"return {pcall(rawget, 1, 2)}\" 0", "eval \"return {#string, #_G, #math}\" 0",
        "eval \"local n = 0 for i in ipairs(_G) do n = n + 1 end for i in ipairs(string) do n = n + 1 end return n\" 0",
        "eval \"return x\" 0", "eval \"x = 5\" 0", "eval \"local x = 5 return x\" 0", "eval \"string.foo = 1\" 0",
        "eval \"redis = 1\" 0", "eval \"redis.call = 1\" 0", "eval \"rawset(_G, 'x', 1)\" 0", "eval \"_G.x = 1\" 0",
        "eval \"return print\" 0", "eval \"return os\" 0", "eval \"return io\" 0", "eval \"return loadfile\" 0",
        "eval \"return dofile\" 0", "eval \"return require\" 0", "eval \"return debug\" 0", "eval \"return package\" 0",
        "eval \"return module\" 0", "eval \"return newproxy\" 0", "eval \"return getfenv\" 0", "eval \"return setfenv\" 0",
        "eval \"local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t\" 0",
        "eval \"local n = 0 for k, v in pairs(string) do n = n + 1 end return n\" 0",
        "eval \"local k, v = next(math) return type(k)\" 0",
        "eval \"return {type(cjson), type(bit), type(string), type(math), type(table), type(unpack), type(loadstring)}\" 0",
        "eval \"return cjson.encode({1, 2, 3})\" 0", "eval \"return cjson.decode('[1,2,3]')\" 0", "eval \"return cjson.decode('{\\\"a\\\":5}').a\" 0",
        "eval \"return bit.band(15, 6)\" 0", "eval \"return bit.bxor(5, 3)\" 0", "eval \"return bit.tohex(255)\" 0",
        "eval \"return tostring(10 / 2)\" 0", "eval \"return tostring(1 / 3)\" 0", "eval \"return string.format('%5.2f', 3.14159)\" 0",
        "eval \"return loadstring('return 7')()\" 0", "eval \"return {unpack({1, 2, 3})}\" 0", "eval \"return _VERSION\" 0",
"eval \"error('boom')\" 0", "eval \"error({err = 'X y'})\" 0",
        "eval \"error()\" 0", "eval \"error(5)\" 0", "eval \"error('nopos', 0)\" 0", "eval \"local t = nil return t.x\" 0",
        "eval \"return 1 +\" 0", "eval \"return 'unfinished\" 0", "eval \"\\n\\nreturn +\" 0",
        "eval \"return redis.REDIS_VERSION\" 0", "eval \"return redis.REDIS_VERSION_NUM\" 0",
        "eval \"return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}\" 0",
        "eval \"return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}\" 0",
        "eval \"redis.log(redis.LOG_NOTICE, 'from a script')\" 0", "eval \"redis.log()\" 0", "eval \"redis.log(1)\" 0",
        "eval \"redis.log('x', 'y')\" 0", "eval \"redis.log(9, 'y')\" 0", "eval \"return redis.log(redis.LOG_DEBUG, 'a', 1, {})\" 0",
        "eval \"redis.set_repl(redis.REPL_ALL) return 1\" 0", "eval \"redis.set_repl(7)\" 0", "eval \"redis.set_repl()\" 0",
        "eval \"return redis.replicate_commands()\" 0", "eval \"return redis.setresp(4)\" 0", "eval \"return redis.setresp()\" 0",
        "eval \"return redis.acl_check_cmd('get', 'k')\" 0", "eval \"return redis.acl_check_cmd('nosuch')\" 0",
        "eval \"return redis.breakpoint()\" 0", "eval \"return redis.debug('x')\" 0",
    ],
    "Resp3": [
        "hset h f v", "sadd s m", "zadd z 1.5 a", "set k v",
        "eval \"redis.setresp(3) return redis.call('hgetall', 'h')\" 0", "eval \"redis.setresp(3) return redis.call('smembers', 's')\" 0",
        "eval \"redis.setresp(3) return redis.call('zscore', 'z', 'a')\" 0", "eval \"redis.setresp(3) return redis.call('get', 'nokey')\" 0",
        "eval \"redis.setresp(3) return type(redis.call('get', 'nokey'))\" 0",
        "eval \"redis.setresp(3) local m = redis.call('hgetall', 'h') return m.map.f\" 0",
        "eval \"redis.setresp(3) local d = redis.call('zscore', 'z', 'a') return tostring(d.double)\" 0",
        "eval \"redis.setresp(3) return redis.call('hgetall', 'nohash')\" 0",
        "eval \"redis.setresp(2) return redis.call('hgetall', 'h')\" 0", "eval \"return redis.call('zscore', 'z', 'a')\" 0",
        "eval \"redis.setresp(3) return true\" 0", "eval \"redis.setresp(3) return false\" 0",
        "eval \"redis.setresp(3) return {double = 0.5}\" 0", "eval \"redis.setresp(3) return {1, {map = {x = 'y'}}}\" 0",
        "eval \"redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')\" 0",
    ],
    "Flags": [
        "eval \"#!lua\\nreturn redis.call('get', KEYS[1])\" 1 k", "eval \"#!lua flags=no-writes\\nreturn redis.call('set', 'a', 'b')\" 0",
        "eval \"#!lua flags=no-writes\\nreturn redis.call('get', 'a')\" 0", "eval \"#!lua flags=bad\\nreturn 1\" 0",
        "eval \"#!lua flags=no-writes,allow-oom\\nreturn 1\" 0", "eval \"#!lua flags=\\nreturn 1\" 0",
        "eval \"#!lua other=1\\nreturn 1\" 0", "eval \"#!python\\nreturn 1\" 0", "eval \"#!lua\" 0", "eval \"#!\\nreturn 1\" 0",
        "eval \"#!lua\\nreturn +\" 0", "eval \"#!lua\\n\\nerror('line three')\" 0",
        "eval_ro \"return redis.call('set', 'a', 'b')\" 0", "eval_ro \"return redis.call('get', 'a')\" 0",
        "eval_ro \"#!lua\\nreturn 1\" 0", "eval_ro \"#!lua flags=no-writes\\nreturn redis.call('get', 'a')\" 0",
        "eval_ro \"return redis.call('del', 'a')\" 0", "eval \"#!lua flags=no-writes\\nreturn redis.call('incr', 'a')\" 0",
        "eval \"#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\\nreturn 'ok'\" 0",
    ],
    "Patterns": [
        # A Redlock-style lock: SET NX PX with a token, released only by its owner.
        "eval \"return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\" 1 lock tok1 30000",
        "eval \"return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])\" 1 lock tok2 30000",
        "eval \"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end\" 1 lock tok2",
        "eval \"if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end\" 1 lock tok1",
        "exists lock",
        # A sliding-window rate limiter over a sorted set.
        "eval \"redis.call('zremrangebyscore', KEYS[1], 0, ARGV[1] - ARGV[2]) local n = redis.call('zcard', KEYS[1]) if n < tonumber(ARGV[3]) then redis.call('zadd', KEYS[1], ARGV[1], ARGV[4]) return 1 end return 0\" 1 rl 1000 100 2 r1",
        "eval \"redis.call('zremrangebyscore', KEYS[1], 0, ARGV[1] - ARGV[2]) local n = redis.call('zcard', KEYS[1]) if n < tonumber(ARGV[3]) then redis.call('zadd', KEYS[1], ARGV[1], ARGV[4]) return 1 end return 0\" 1 rl 1010 100 2 r2",
        "eval \"redis.call('zremrangebyscore', KEYS[1], 0, ARGV[1] - ARGV[2]) local n = redis.call('zcard', KEYS[1]) if n < tonumber(ARGV[3]) then redis.call('zadd', KEYS[1], ARGV[1], ARGV[4]) return 1 end return 0\" 1 rl 1020 100 2 r3",
        "eval \"redis.call('zremrangebyscore', KEYS[1], 0, ARGV[1] - ARGV[2]) local n = redis.call('zcard', KEYS[1]) if n < tonumber(ARGV[3]) then redis.call('zadd', KEYS[1], ARGV[1], ARGV[4]) return 1 end return 0\" 1 rl 1150 100 2 r4",
        "zrange rl 0 -1 withscores",
        # A reliable queue: LMOVE into a processing list, then acknowledged.
        "rpush jobs j1 j2 j3",
        "eval \"local j = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') if j then redis.call('hset', KEYS[3], j, ARGV[1]) end return j\" 3 jobs processing started 100",
        "eval \"local j = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') if j then redis.call('hset', KEYS[3], j, ARGV[1]) end return j\" 3 jobs processing started 101",
        "eval \"redis.call('lrem', KEYS[1], 1, ARGV[1]) return redis.call('hdel', KEYS[2], ARGV[1])\" 2 processing started j1",
        "lrange processing 0 -1", "hgetall started", "lrange jobs 0 -1",
        "eval \"local j = redis.call('lmove', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') return j\" 2 empty processing",
    ],
    # math.random and math.randomseed are Redis's (redisLrand48, one sequence for the server): each case seeds first, as
    # the sequence runs on across scripts and connections.
    "Random": [
        "eval \"math.randomseed(5) return math.random(1000000)\" 0",
        "eval \"math.randomseed(5) return {math.random(1000000), math.random(10, 20), tostring(math.random()), math.random(-3, -1)}\" 0",
        "eval \"math.randomseed(0) local t = {} for i = 1, 12 do t[i] = math.random(6) end return t\" 0",
        "eval \"math.randomseed(-7) return {math.random(100), math.random(10, 20), tostring(math.random())}\" 0",
        "eval \"math.randomseed(1.5e10) return math.random(100)\" 0",
        "eval \"math.randomseed(2147483647) return {math.random(2147483647), math.random(-2147483647, 2147483647)}\" 0",
        "eval \"math.randomseed('12') return math.random('1000')\" 0",
        "eval \"math.randomseed(42) return math.random(1000)\" 0", "eval \"return math.random(1000)\" 0",
        "eval \"math.randomseed(3) local a = math.random(50) math.randomseed(3) return a == math.random(50)\" 0",
        "eval \"math.randomseed(9) return {math.random(2.9), math.random(4294967297), math.random(1, 1)}\" 0",
        "eval \"return math.random(0)\" 0", "eval \"return math.random(5, 1)\" 0", "eval \"return math.random('x')\" 0",
        "eval \"return math.random(1, 'y')\" 0", "eval \"return math.random(1, 2, 3)\" 0", "eval \"return math.randomseed('x')\" 0",
        "eval \"return math.randomseed()\" 0", "eval \"return {pcall(math.random, 0)}\" 0",
        "eval \"return {pcall(math.randomseed, {})}\" 0",
    ],
    # Each script sees only its own KEYS and ARGV, whatever the one before did to its tables (NativeKv refills two kept tables).
    "KeysArgv": [
        "eval \"return {#KEYS, #ARGV, KEYS[1], KEYS[3], ARGV[2]}\" 3 a b c x y",
        "eval \"return {#KEYS, #ARGV, KEYS[1], tostring(KEYS[2]), tostring(ARGV[1])}\" 1 only",
        "eval \"KEYS[1] = 'changed' KEYS[5] = 'five' ARGV.x = 1 return #KEYS\" 2 a b v",
        "eval \"return {#KEYS, KEYS[1], KEYS[2], tostring(KEYS[5]), tostring(ARGV.x), #ARGV}\" 2 c d",
        "eval \"table.insert(ARGV, 'extra') return #ARGV\" 0 p q",
        "eval \"return {#ARGV, ARGV[1], tostring(ARGV[3])}\" 0 r",
        "eval \"setmetatable(KEYS, {__index = function() return 'meta' end}) return KEYS[9]\" 1 k",
        "eval \"return {tostring(KEYS[9]), tostring(getmetatable(KEYS))}\" 1 k",
        "eval \"KEYS[2] = nil KEYS[1] = nil KEYS.s = 's' KEYS[3] = nil return #KEYS\" 3 a b c",
        "eval \"local n = 0 for k in pairs(KEYS) do n = n + 1 end return {n, #KEYS, KEYS[3]}\" 3 e f g",
        "eval \"return {#KEYS, #ARGV}\" 0",
        "eval \"local n = 0 for k in pairs(ARGV) do n = n + 1 end return {n, ARGV[1], ARGV[100]}\" 0 "
        + " ".join("v%d" % i for i in range(1, 101)),
        "eval \"local n = 0 for k in pairs(ARGV) do n = n + 1 end return {n, #ARGV, ARGV[1], tostring(ARGV[2])}\" 0 w",
        "eval \"local t = KEYS for i = 1, 40 do t[i] = i end return #KEYS\" 1 a",
        "eval \"return {#KEYS, KEYS[1], tostring(KEYS[40])}\" 1 z",
        "eval \"return {#KEYS, KEYS[5], #ARGV, ARGV[6]}\" 5 a b c d e 1 2 3 4 5 6",
        "eval \"return {#KEYS, KEYS[9], #ARGV, ARGV[9]}\" 9 a b c d e f g h i 1 2 3 4 5 6 7 8 9",
        "eval \"return {#KEYS, tostring(KEYS[3]), #ARGV, tostring(ARGV[2])}\" 2 x y z",
        "eval \"return redis.call('set', KEYS[1], ARGV[1])\" 1 k1 v1", "evalsha 55b22c0d0cedf3866879ce7c854970626dcef0c3 1 k2 v2",
        "eval \"return {redis.call('get', KEYS[1]), #KEYS, #ARGV}\" 1 k2",
    ],
}


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, ["flushall", "script flush"])


def fix(args, reply):
    # 7.2.4's version where the recording server is 7.0.15, and 7.2's texts (addReplyHelp, luaRedisSetReplCommand).
    return (reply.replace(b"$6\r\n7.0.15\r\n", b"$5\r\n7.2.4\r\n").replace(b":458767\r\n", b":459268\r\n")
            .replace(b"+    Prints this help.", b"+    Print this help.")
            .replace(b"redis.set_repl() requires two arguments.", b"redis.set_repl() requires one argument."))


def record(port):
    record_class(port, "record-script-transcripts.py", "ScriptTranscripts", FAMILIES, run, fix)


def compare(a, b):
    compare_servers(a, b, FAMILIES, run, fix)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
