using System.Text;
using NativeKv.Server.Protocol;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// Redis's two conversions (script_lua.c): a command's RESP reply into Lua values (redisProtocolToLuaType)
/// and the script's Lua result into the caller's reply (luaReplyToRedisReply). Only raw table access, so
/// nothing here can raise.
/// </summary>
internal static unsafe class LuaReplies
{
    /// <summary>Pushes the reply at <paramref name="resp"/>[pos..] as Lua values; returns where it ends.</summary>
    public static int Push(nint L, ReadOnlySpan<byte> resp, int pos)
    {
        lua_checkstack(L, 5);
        byte type = resp[pos];
        int lineEnd = resp[pos..].IndexOf("\r\n"u8) + pos;
        var line = resp[(pos + 1)..lineEnd];
        int next = lineEnd + 2;
        switch (type)
        {
            case (byte)':':
                RespNumber.TryParseInt64(line, out long n);
                lua_pushnumber(L, n);
                return next;
            case (byte)'$':
            {
                RespNumber.TryParseInt64(line, out long len);
                if (len < 0) { lua_pushboolean(L, 0); return next; }
                LuaEngine.PushString(L, resp.Slice(next, (int)len));
                return next + (int)len + 2;
            }
            case (byte)'+':
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "ok"u8);
                LuaEngine.PushString(L, line);
                lua_rawset(L, -3);
                return next;
            case (byte)'-':
                PushError(L, line, ignoreStats: true);
                return next;
            case (byte)'*':
            {
                RespNumber.TryParseInt64(line, out long count);
                if (count < 0) { lua_pushboolean(L, 0); return next; }
                lua_createtable(L, (int)count, 0);
                for (int j = 0; j < count; j++)
                {
                    next = Push(L, resp, next);
                    lua_rawseti(L, -2, j + 1);
                }
                return next;
            }
            case (byte)'%':
            {
                RespNumber.TryParseInt64(line, out long count);
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "map"u8);
                lua_createtable(L, 0, (int)count);
                for (int j = 0; j < count; j++)
                {
                    next = Push(L, resp, next);
                    next = Push(L, resp, next);
                    lua_rawset(L, -3);
                }
                lua_rawset(L, -3);
                return next;
            }
            case (byte)'~':
            {
                RespNumber.TryParseInt64(line, out long count);
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "set"u8);
                lua_createtable(L, 0, (int)count);
                for (int j = 0; j < count; j++)
                {
                    next = Push(L, resp, next);
                    lua_pushboolean(L, 1);
                    lua_rawset(L, -3);
                }
                lua_rawset(L, -3);
                return next;
            }
            case (byte)'_':
                lua_pushnil(L);
                return next;
            case (byte)'#':
                lua_pushboolean(L, line.Length > 0 && line[0] == 't' ? 1 : 0);
                return next;
            case (byte)',':
            {
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "double"u8);
                lua_pushnumber(L, ParseDouble(line));
                lua_rawset(L, -3);
                return next;
            }
            case (byte)'(':
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "big_number"u8);
                LuaEngine.PushString(L, line);
                lua_rawset(L, -3);
                return next;
            case (byte)'=':
            {
                RespNumber.TryParseInt64(line, out long len);
                var body = resp.Slice(next, (int)len);
                lua_createtable(L, 0, 1);
                LuaEngine.PushString(L, "verbatim_string"u8);
                lua_createtable(L, 0, 2);
                LuaEngine.PushString(L, "string"u8);
                LuaEngine.PushString(L, body[4..]);
                lua_rawset(L, -3);
                LuaEngine.PushString(L, "format"u8);
                LuaEngine.PushString(L, body[..3]);
                lua_rawset(L, -3);
                lua_rawset(L, -3);
                return next + (int)len + 2;
            }
            case (byte)'|':
            {
                // Attributes are skipped (not shown to scripts); the reply follows.
                RespNumber.TryParseInt64(line, out long count);
                int top = lua_gettop(L);
                for (int j = 0; j < 2 * count; j++) next = Push(L, resp, next);
                lua_settop(L, top);
                return Push(L, resp, next);
            }
            default:
                lua_pushnil(L);
                return resp.Length;
        }
    }

    private static double ParseDouble(ReadOnlySpan<byte> s)
    {
        if (s.SequenceEqual("inf"u8)) return double.PositiveInfinity;
        if (s.SequenceEqual("-inf"u8)) return double.NegativeInfinity;
        if (s.SequenceEqual("nan"u8)) return double.NaN;
        return double.Parse(Encoding.ASCII.GetString(s), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>luaPushErrorBuff of "-" + <paramref name="message"/>: {err="CODE msg"} (and ignore_error_stats_update).</summary>
    public static void PushError(nint L, ReadOnlySpan<byte> message, bool ignoreStats)
    {
        int space = message.IndexOf((byte)' ');
        ReadOnlySpan<byte> code = space < 0 ? "ERR"u8 : message[..space];
        var msg = space < 0 ? message : message[(space + 1)..];
        msg = msg.Trim("\r\n"u8);
        var text = new byte[code.Length + 1 + msg.Length];
        code.CopyTo(text);
        text[code.Length] = (byte)' ';
        msg.CopyTo(text.AsSpan(code.Length + 1));
        lua_createtable(L, 0, 2);
        LuaEngine.PushString(L, "err"u8);
        LuaEngine.PushString(L, text);
        lua_rawset(L, -3);
        if (ignoreStats)
        {
            LuaEngine.PushString(L, "ignore_error_stats_update"u8);
            lua_pushboolean(L, 1);
            lua_rawset(L, -3);
        }
    }

    /// <summary>luaPushError: a message without a code gets ERR.</summary>
    public static void PushError(nint L, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message);
        if (bytes.Length > 0 && bytes[0] == '-') PushError(L, bytes.AsSpan(1), ignoreStats: false);
        else
        {
            var withCode = new byte[bytes.Length + 4];
            "ERR "u8.CopyTo(withCode);
            bytes.CopyTo(withCode, 4);
            PushError(L, withCode, ignoreStats: false);
        }
    }

    private static bool RawField(nint L, ReadOnlySpan<byte> name, int type)
    {
        LuaEngine.PushString(L, name);
        lua_rawget(L, -2);
        if (lua_type(L, -1) == type) return true;
        lua_settop(L, -2);
        return false;
    }

    private static ReadOnlySpan<byte> Bytes(nint L, int idx)
    {
        nuint len;
        byte* s = lua_tolstring(L, idx, &len);
        return s == null ? default : new ReadOnlySpan<byte>(s, (int)len);
    }

    /// <summary>luaReplyToRedisReply: the value on top becomes the reply (and is popped).</summary>
    public static void Reply(nint L, RespWriter w, int scriptResp)
    {
        if (lua_checkstack(L, 4) == 0)
        {
            w.Error("ERR reached lua stack limit");
            lua_settop(L, -2);
            return;
        }
        switch (lua_type(L, -1))
        {
            case LUA_TSTRING:
                w.Bulk(Bytes(L, -1));
                break;
            case LUA_TBOOLEAN:
                if (scriptResp == 2)
                {
                    if (lua_toboolean(L, -1) != 0) w.Integer(1);
                    else w.NullBulk();
                }
                else w.Boolean(lua_toboolean(L, -1) != 0);
                break;
            case LUA_TNUMBER:
                w.Integer(ToLongLong(lua_tonumber(L, -1)));
                break;
            case LUA_TTABLE:
                TableReply(L, w, scriptResp);
                return; // popped there
            default:
                w.NullBulk();
                break;
        }
        lua_settop(L, -2);
    }

    /// <summary>(long long) of a double as C casts it on x86-64 (out of range: LLONG_MIN).</summary>
    private static long ToLongLong(double d) => double.IsNaN(d) || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18 ? long.MinValue : (long)d;

    private static void TableReply(nint L, RespWriter w, int scriptResp)
    {
        if (RawField(L, "err"u8, LUA_TSTRING))
        {
            // addReplyErrorFormatEx("-%s"): the message as the script gave it.
            w.Error(Bytes(L, -1)); // "-%s": a '-' of the script's is kept
            lua_settop(L, -3);
            return;
        }
        if (RawField(L, "ok"u8, LUA_TSTRING))
        {
            var ok = Bytes(L, -1).ToArray();
            for (int i = 0; i < ok.Length; i++) if (ok[i] == '\r' || ok[i] == '\n') ok[i] = (byte)' ';
            w.SimpleString(ok);
            lua_settop(L, -3);
            return;
        }
        if (RawField(L, "double"u8, LUA_TNUMBER))
        {
            w.Double(lua_tonumber(L, -1));
            lua_settop(L, -3);
            return;
        }
        if (RawField(L, "big_number"u8, LUA_TSTRING))
        {
            var big = Bytes(L, -1).ToArray();
            for (int i = 0; i < big.Length; i++) if (big[i] == '\r' || big[i] == '\n') big[i] = (byte)' ';
            if (w.Protocol >= 3)
            {
                w.Raw("("u8);
                w.Raw(big);
                w.Raw("\r\n"u8);
            }
            else w.Bulk(big);
            lua_settop(L, -3);
            return;
        }
        if (RawField(L, "verbatim_string"u8, LUA_TTABLE))
        {
            if (RawField(L, "format"u8, LUA_TSTRING))
            {
                string format = Encoding.UTF8.GetString(Bytes(L, -1));
                LuaEngine.PushString(L, "string"u8);
                lua_rawget(L, -3);
                if (lua_type(L, -1) == LUA_TSTRING)
                {
                    w.Verbatim(Bytes(L, -1), format.Length >= 3 ? format[..3] : format.PadRight(3));
                    lua_settop(L, -5);
                    return;
                }
                lua_settop(L, -2);
                lua_settop(L, -2);
            }
            lua_settop(L, -2);
        }
        if (RawField(L, "map"u8, LUA_TTABLE))
        {
            int count = 0;
            lua_pushnil(L);
            while (lua_next(L, -2) != 0) { count++; lua_settop(L, -2); }
            w.MapHeader(count);
            lua_pushnil(L);
            while (lua_next(L, -2) != 0)
            {
                lua_pushvalue(L, -2);   // the key, copied before it is converted
                Reply(L, w, scriptResp); // key
                Reply(L, w, scriptResp); // value
            }
            lua_settop(L, -3);
            return;
        }
        if (RawField(L, "set"u8, LUA_TTABLE))
        {
            int count = 0;
            lua_pushnil(L);
            while (lua_next(L, -2) != 0) { count++; lua_settop(L, -2); }
            w.SetHeader(count);
            lua_pushnil(L);
            while (lua_next(L, -2) != 0)
            {
                lua_settop(L, -2);
                lua_pushvalue(L, -1);
                Reply(L, w, scriptResp);
            }
            lua_settop(L, -3);
            return;
        }
        // An array: 1, 2, ... up to the first nil.
        int n = 0;
        while (true)
        {
            lua_rawgeti(L, -1, n + 1);
            bool nil = lua_type(L, -1) == LUA_TNIL;
            lua_settop(L, -2);
            if (nil) break;
            n++;
        }
        w.ArrayHeader(n);
        for (int j = 1; j <= n; j++)
        {
            lua_rawgeti(L, -1, j);
            Reply(L, w, scriptResp);
        }
        lua_settop(L, -2);
    }
}
