#!/usr/bin/env python3
"""Records the struct and cmsgpack transcripts of LuaModuleTranscriptTests from a real redis-server.

    redis-server --port 38101 --save "" --appendonly no &
    python3 record-luamod-transcripts.py record 38101 > LuaModuleTranscripts.cs   # the expected bytes
    python3 record-luamod-transcripts.py compare 38101 38102                       # redis vs nativekv, diffs only

Each family runs on a fresh connection after FLUSHALL and SCRIPT FLUSH, once in RESP2 and once after HELLO 3.
lua_struct.c and lua_cmsgpack.c are the same in 7.0.15 and 7.2.4. Scripts are quoted for shlex; a packed string
is shown as its bytes ({string.byte(s, 1, -1)}) or returned as it is. Not here, as the sandbox is emulated
(docs/scripting.md): packing a library table (cmsgpack:pack()) sees the read-only proxy, an empty table."""
import sys

from resp_transcripts import compare_servers, record_class, run_commands


def ev(body):
    return "eval \"" + body + "\" 0"


def bytes_of(expr):
    return ev("local s = " + expr + " return {string.byte(s, 1, -1)}")


STRUCT = [
    bytes_of("struct.pack('b', -1)"), bytes_of("struct.pack('B', 255)"), bytes_of("struct.pack('B', 256)"),
    bytes_of("struct.pack('<h', -2)"), bytes_of("struct.pack('>h', -2)"), bytes_of("struct.pack('H', 65535)"),
    bytes_of("struct.pack('>l', -3)"), bytes_of("struct.pack('<L', 2^53)"), bytes_of("struct.pack('T', 7)"),
    bytes_of("struct.pack('i', 1)"), bytes_of("struct.pack('>i3', 0x123456)"), bytes_of("struct.pack('<I5', 2^40 - 1)"),
    bytes_of("struct.pack('>i16', -1)"), bytes_of("struct.pack('<i32', 1)"), bytes_of("struct.pack('i0', 5)"),
    bytes_of("struct.pack('>L', 0/0)"), bytes_of("struct.pack('>L', 1/0)"), bytes_of("struct.pack('>L', 2^64)"),
    bytes_of("struct.pack('>l', -1/0)"), bytes_of("struct.pack('>L', 2^63 + 2^12)"), bytes_of("struct.pack('>l', -2^63)"),
    bytes_of("struct.pack('>B', 1.9)"), bytes_of("struct.pack('>b', -1.9)"), bytes_of("struct.pack('>i', '12')"),
    bytes_of("struct.pack('<f', 1.5)"), bytes_of("struct.pack('>f', 0.1)"), bytes_of("struct.pack('<d', 0.1)"),
    bytes_of("struct.pack('>d', -1/0)"), bytes_of("struct.pack('>f', 1e300)"),
    ev("return struct.pack('c3', 'abcdef')"), ev("return struct.pack('c0', 'whole')"), ev("return struct.pack('s', 'zt')"),
    bytes_of("struct.pack('sB', 'a', 1)"), ev("return struct.pack('c0', 123)"), bytes_of("struct.pack('xBxxB', 1, 2)"),
    bytes_of("struct.pack('!4 B i', 1, 2)"), bytes_of("struct.pack('!B d', 1, 2)"), bytes_of("struct.pack('!2 B i B h', 1, 2, 3, 4)"),
    bytes_of("struct.pack('!8 B i3', 1, 2)"), bytes_of("struct.pack('!8 B c2 i', 1, 'xy', 2)"), bytes_of("struct.pack('<i>i<i', 1, 2, 3)"),
    bytes_of("struct.pack('i\\0i', 1, 2)"), bytes_of("struct.pack('  B  ', 9)"), ev("return struct.pack('')"),
    ev("return struct.pack('i17', 1)"), ev("return struct.pack('i33', 1)"), ev("return struct.pack('i99999999999', 1)"),
    ev("return struct.pack('c2147483648', 'x')"), ev("return struct.pack('!3', 1)"), ev("return struct.pack('!0', 1)"),
    ev("return struct.pack('!99999999999', 1)"), ev("return struct.pack('y', 1)"), ev("return struct.pack('=i', 1)"),
    ev("return struct.pack('#', 1)"), ev("return struct.pack('\\xe9', 1)"), ev("return struct.pack('i', 'x')"),
    ev("return struct.pack('i')"), ev("return struct.pack('ii', 1)"), ev("return struct.pack('c5', 'abc')"),
    ev("return struct.pack('s')"), ev("return struct.pack('c', {})"), ev("return struct.pack()"), ev("return struct.pack({})"),
    ev("return struct.pack(5)"), ev("return struct.pack('d', nil)"),
    ev("return {pcall(struct.pack, 'y', 1)}"), ev("return {pcall(struct.pack, 'i33', 1)}"),
    ev("local s = struct return s.pack('y', 1)"), ev("return struct:pack('i')"),
    ev("local ok, e = pcall(function() return struct.pack('i', {}) end) return e"),
    ev("\\n\\nreturn struct.pack('i', {})"),
    # The reply names the line of the call, not the next instruction's, where the raise is deferred to.
    ev("local x = struct.pack('y')\\nlocal y = 1\\nreturn x"), ev("local x = redis.call('nosuch')\\nreturn x"),
    ev("local function f() local x = cmsgpack.unpack(string.char(0xc1)) return x end\\nlocal y = 1\\nreturn {f()}"),
    ev("return {struct.unpack('<i', struct.pack('<i', -5))}"), ev("return {struct.unpack('>I', struct.pack('>I', 4000000000))}"),
    ev("return {struct.unpack('bBhHlLT', struct.pack('bBhHlLT', -1, 255, -300, 60000, -2^40, 2^40, 77))}"),
    ev("return {struct.unpack('<i9', string.char(0x80,0,0,0,0,0,0,0,0))}"),
    ev("return {struct.unpack('<i9', string.char(1,2,3,4,5,6,7,8,9))}"),
    ev("return {struct.unpack('>i12', string.rep(string.char(255), 12))}"),
    ev("return {struct.unpack('<I16', string.rep(string.char(255), 16))}"),
    ev("return {struct.unpack('<i0', 'x')}"), ev("return {struct.unpack('>L', string.rep(string.char(255), 8))}"),
    ev("return {struct.unpack('>l', string.char(128,0,0,0,0,0,0,1))}"),
    ev("return {tostring(struct.unpack('<f', struct.pack('<f', 0.1)))}"), ev("return {tostring(struct.unpack('>d', struct.pack('>d', 0.1)))}"),
    ev("return {struct.unpack('c2c3', 'abcdefg')}"), ev("return {struct.unpack('Bc0', string.char(3) .. 'xyzw')}"),
    ev("return {struct.unpack('c1c0', '3abcd')}"), ev("return {struct.unpack('c0', 'abc')}"), ev("return {struct.unpack('sc0', 'ab' .. string.char(0) .. 'c')}"),
    ev("return {struct.unpack('zs', 'ab' .. string.char(0))}"),
    ev("return {struct.unpack('ss', 'ab' .. string.char(0) .. 'c' .. string.char(0) .. 'rest')}"), ev("return {struct.unpack('s', 'abc')}"),
    ev("return {struct.unpack('xBxB', string.char(1,2,3,4))}"), ev("return {struct.unpack('!4 B i', struct.pack('!4 B i', 7, 8))}"),
    ev("return {struct.unpack('i', 'abc')}"), ev("return {struct.unpack('i', 'abcdefgh', 5)}"), ev("return {struct.unpack('i', 'abcdefgh', 6)}"),
    ev("return {struct.unpack('i', 'abcd', 0)}"), ev("return {struct.unpack('i', 'abcd', -1)}"), ev("return {struct.unpack('', 'abcd', -1)}"),
    ev("return {struct.unpack('i', 'abcd', 1.9)}"), ev("return {struct.unpack('i', 'abcd', '1')}"), ev("return {struct.unpack('i', 'abcd', 'x')}"),
    ev("return {struct.unpack('', 'abcd')}"), ev("return {struct.unpack('B', 'abcd', 4)}"), ev("return {struct.unpack('B', 'abcd', 5)}"),
    ev("return {struct.unpack('B')}"), ev("return {struct.unpack()}"), ev("return {struct.unpack('y', 'abcd')}"),
    ev("return {struct.unpack('#', 'abcd')}"), ev("return {struct.unpack('i', 1234)}"),
    ev("return #{struct.unpack(string.rep('B', 7990), string.rep('a', 7990))}"),
    ev("return #{struct.unpack(string.rep('B', 8100), string.rep('a', 8100))}"),
    ev("return struct.size('bhilfdT')"), ev("return struct.size('!bhilfd')"), ev("return struct.size('!4 B d')"), ev("return struct.size('c10x')"),
    ev("return struct.size('i17')"), ev("return struct.size('yz')"), ev("return struct.size('s')"), ev("return struct.size('c0')"),
    ev("return struct.size('#')"), ev("return struct.size('i33')"), ev("return struct.size('!3')"), ev("return struct.size('')"),
    ev("return struct.size()"), ev("return struct.size('<>= ')"),
    ev("struct.x = 1"), ev("struct.pack = nil"), ev("return type(struct)"),
    ev("return {type(struct.pack), type(struct.unpack), type(struct.size)}"),
]

def packed(expr):
    return bytes_of("cmsgpack.pack(" + expr + ")")


def rt(expr):
    # a round trip, shown through cjson (nested tables, integers and doubles as Lua has them)
    return ev("return cjson.encode({cmsgpack.unpack(cmsgpack.pack(" + expr + "))})")


def hexs(*bs):
    return "string.char(" + ", ".join(str(b) for b in bs) + ")"


MSGPACK = [
    packed("0"), packed("1"), packed("127"), packed("128"), packed("255"), packed("256"), packed("65535"), packed("65536"),
    packed("2^32 - 1"), packed("2^32"), packed("2^53"), packed("2^63"), packed("-2^63"), packed("-1"), packed("-32"),
    packed("-33"), packed("-128"), packed("-129"), packed("-32768"), packed("-32769"), packed("-2^31"), packed("-2^31 - 1"),
    packed("-0.0"), packed("0.5"), packed("0.1"), packed("-1.5"), packed("1e300"), packed("1/0"), packed("-1/0"), packed("0/0"),
    packed("3.4028234663852886e38"), packed("1e-45"),
    packed("''"), packed("'abc'"), packed("string.rep('x', 31)"), packed("string.rep('x', 32)"), packed("string.rep('x', 255)"),
    packed("string.rep('x', 256)")[:0] or ev("return #cmsgpack.pack(string.rep('x', 256))"),
    ev("return string.byte(cmsgpack.pack(string.rep('x', 256)), 1, 3)"), ev("return string.byte(cmsgpack.pack(string.rep('x', 65536)), 1, 5)"),
    packed("true"), packed("false"), packed("nil"), packed("print or type"), packed("coroutine.create(type)"),
    packed("{}"), packed("{1, 2, 3}"), packed("{'a', {true, false}}"), packed("{[1] = 1, [3] = 3}"), packed("{[0] = 1}"),
    packed("{[1.5] = 1}"), packed("{[-1] = 'x'}"), packed("{a = 1}"), packed("{[true] = false}"), packed("{[{}] = 1}"),
    packed("{1, 2, nil, 4}"), packed("{nil, nil, 3}"), packed("{[2^31] = 1}"),
    ev("local t = {} for i = 1, 16 do t[i] = i end return {string.byte(cmsgpack.pack(t), 1, 4)}"),
    ev("local t = {} for i = 1, 70000 do t[i] = 1 end return {string.byte(cmsgpack.pack(t), 1, 6)}"),
    ev("local t = {} for i = 1, 16 do t['k' .. i] = i end return {string.byte(cmsgpack.pack(t), 1, 4)}"),
    ev("local t = {} for i = 1, 70000 do t['k' .. i] = i end return {string.byte(cmsgpack.pack(t), 1, 6)}"),
    packed("{a = 1, b = 2, c = 3, d = 4, e = {x = 1, y = 2}, f = 'zz', g = true}"),
    packed("{1, 2, x = 'y'}"),
    ev("local t = {} t[1] = t return {string.byte(cmsgpack.pack(t), 1, -1)}"),
    ev("local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return {string.byte(cmsgpack.pack(t), 1, -1)}"),
    ev("local t = {} t.self = t return #cmsgpack.pack(t)"),
    packed("1, 'a', {2}"), ev("return cmsgpack.pack()"), ev("return {pcall(cmsgpack.pack)}"),
    ev("return cmsgpack.pack(unpack((function() local t = {} for i = 1, 4001 do t[i] = i end return t end)()))"),
    ev("return #cmsgpack.pack(unpack((function() local t = {} for i = 1, 4000 do t[i] = i end return t end)()))"),
    rt("1, -1, 0.5, 0.1, 'str', true, false"), rt("{1, {2, {3}}}"), rt("{a = {b = 'c'}}"), rt("2^53, -2^53, 2^63"),
    rt("''"), rt("{}"), ev("return cmsgpack.unpack(cmsgpack.pack(nil))"), ev("return {cmsgpack.unpack(cmsgpack.pack(1, nil, 2))}"),
    ev("return cjson.encode({cmsgpack.unpack(" + hexs(0xcc, 200, 0xd0, 0x80, 0xcd, 1, 2, 0xd1, 0xff, 0x01, 0xce, 255, 255, 255, 255, 0xd2, 128, 0, 0, 0) + ")})"),
    ev("return tostring(cmsgpack.unpack(" + hexs(0xcf, 255, 255, 255, 255, 255, 255, 255, 255) + "))"),
    ev("return tostring(cmsgpack.unpack(" + hexs(0xcf, 0, 0, 0, 1, 0, 0, 0, 0) + "))"),
    ev("return tostring(cmsgpack.unpack(" + hexs(0xd3, 128, 0, 0, 0, 0, 0, 0, 0) + "))"),
    ev("return tostring(cmsgpack.unpack(" + hexs(0xca, 0x3d, 0xcc, 0xcc, 0xcd) + "))"),
    ev("return tostring(cmsgpack.unpack(" + hexs(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0) + "))"),
    ev("return cmsgpack.unpack(" + hexs(0xd9, 3, 97, 98, 99) + ")"), ev("return cmsgpack.unpack(" + hexs(0xda, 0, 2, 97, 98) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0xdb, 0, 0, 0, 1, 97) + ")"), ev("return cmsgpack.unpack(" + hexs(0xc4, 1, 97) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0xc1) + ")"), ev("return cmsgpack.unpack(" + hexs(0xd4, 1, 1) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0x92, 1) + ")"), ev("return cmsgpack.unpack(" + hexs(0xdb, 0, 0, 0, 9, 97) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0xcd, 1) + ")"), ev("return cmsgpack.unpack(" + hexs(0xdc, 0) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0xdd, 255, 255, 255, 255) + ")"), ev("return cmsgpack.unpack(" + hexs(0x81, 0xc0, 1) + ")"),
    ev("return cmsgpack.unpack(" + hexs(0x81, 0xca, 0x7f, 0xc0, 0, 0, 1) + ")"), ev("return {pcall(cmsgpack.unpack, " + hexs(0x81, 0xc0, 1) + ")}"),
    ev("return cjson.encode(cmsgpack.unpack(" + hexs(0x82, 0xa1, 97, 1, 0xa1, 98, 0xc0) + "))"),
    ev("return cjson.encode(cmsgpack.unpack(" + hexs(0x82, 1, 1, 1, 2) + "))"),
    ev("return cjson.encode({cmsgpack.unpack(" + hexs(0xde, 0, 1, 1, 0x90, 0xdc, 0, 1, 7) + ")})"),
    ev("return cmsgpack.unpack('')"), ev("return {cmsgpack.unpack('')}"), ev("return cmsgpack.unpack(5)"), ev("return cmsgpack.unpack()"),
    ev("return cmsgpack.unpack({})"),
    ev("return #{cmsgpack.unpack(string.rep(string.char(1), 7990))}"),
    ev("return #{cmsgpack.unpack(string.rep(string.char(1), 8100))}"),
    ev("return type(cmsgpack.unpack(string.rep(string.char(0x91), 3000) .. string.char(1)))"),
    ev("return type(cmsgpack.unpack(string.rep(string.char(0x91), 5000) .. string.char(1)))"),
    ev("return type(cmsgpack.unpack(string.rep(string.char(0x81, 1), 5000) .. string.char(1)))"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}"), ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1)}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}"), ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 3)}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 4)}"), ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), -1)}"),
    ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 1.9)}"), ev("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 'x')}"),
    ev("return {cmsgpack.unpack_one('')}"), ev("return {cmsgpack.unpack_one()}"), ev("return {cmsgpack.unpack_one(nil, 1)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}"), ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 2)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0)}"), ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 0, 1)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 9)}"), ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), -1)}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3))}"), ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 'x')}"),
    ev("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 1, 99)}"), ev("return {cmsgpack.unpack_limit(" + hexs(0x92, 1) + ", 1)}"),
    ev("local s, n = cmsgpack.pack({1, 'a'}, {b = 2}), 0 local off, v = cmsgpack.unpack_one(s) while off ~= -1 do n = n + 1 off, v = cmsgpack.unpack_one(s, off) end return n"),
    ev("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}"),
    ev("cmsgpack.x = 1"), ev("cmsgpack.pack = nil"), ev("return type(cmsgpack_safe)"),
    ev("return cmsgpack:unpack()"), ev("return cmsgpack:unpack_limit()"),
    ev("local ok, e = pcall(cmsgpack.unpack, string.char(0xc1)) return {tostring(ok), e}"),
    ev("local ok, e = pcall(function() return cmsgpack.unpack(string.char(0xc1)) end) return {tostring(ok), e}"),
    ev("return cmsgpack.unpack(cmsgpack.pack(KEYS[1]))").replace(" 0", " 1 key"),
    ev("return redis.call('set', 'm', cmsgpack.pack({1, 2})) and cmsgpack.unpack(redis.call('get', 'm'))"),
]

FAMILIES = {
    "Struct": STRUCT,
    "Msgpack": MSGPACK,
}


def run(port, family, proto):
    return run_commands(port, FAMILIES[family], proto, ["flushall", "script flush"])


def record(port):
    record_class(port, "record-luamod-transcripts.py", "LuaModuleTranscripts", FAMILIES, run)


def compare(a, b):
    compare_servers(a, b, FAMILIES, run)


if __name__ == "__main__":
    if sys.argv[1] == "record":
        record(int(sys.argv[2]))
    else:
        compare(int(sys.argv[2]), int(sys.argv[3]))
