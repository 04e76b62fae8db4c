using System.Runtime.InteropServices;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// The <c>cmsgpack</c> library Redis gives scripts (deps/lua/src/lua_cmsgpack.c, 0.4.0): pack, unpack,
/// unpack_one, unpack_limit over <see cref="Msgpack"/>. Its Lua stack use is the C's, push for push (so its
/// "stack overflow (...)" errors come at the same depths); the strings the C pushes per packed argument are only
/// counted, the packed bytes going to one buffer.
/// </summary>
internal static unsafe class LuaMsgpack
{
    /// <summary>LUACMSGPACK_MAX_NESTING: a table this deep is packed as nil (survives cycles).</summary>
    public const int MaxNesting = 16;

    public static void Push(nint L)
    {
        lua_createtable(L, 0, 8);
        Set(L, "pack"u8, &Pack);
        Set(L, "unpack"u8, &Unpack);
        Set(L, "unpack_one"u8, &UnpackOne);
        Set(L, "unpack_limit"u8, &UnpackLimit);
        Field(L, "_NAME"u8, "cmsgpack"u8);
        Field(L, "_VERSION"u8, "lua-cmsgpack 0.4.0"u8);
        Field(L, "_COPYRIGHT"u8, "Copyright (C) 2012, Salvatore Sanfilippo"u8);
        Field(L, "_DESCRIPTION"u8, "MessagePack C implementation for Lua"u8);
    }

    private static void Set(nint L, ReadOnlySpan<byte> name, delegate* unmanaged<nint, int> fn)
    {
        LuaEngine.PushString(L, name);
        lua_pushcclosure(L, fn, 0);
        lua_rawset(L, -3);
    }

    private static void Field(nint L, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        LuaEngine.PushString(L, name);
        LuaEngine.PushString(L, value);
        lua_rawset(L, -3);
    }

    [UnmanagedCallersOnly] private static int Pack(nint L) => Guarded(L, 0);
    [UnmanagedCallersOnly] private static int Unpack(nint L) => Guarded(L, 1);
    [UnmanagedCallersOnly] private static int UnpackOne(nint L) => Guarded(L, 2);
    [UnmanagedCallersOnly] private static int UnpackLimit(nint L) => Guarded(L, 3);

    private static int Guarded(nint L, int which)
    {
        var e = LuaEngine.Current;
        e.AllowAllocations = true;
        try
        {
            switch (which)
            {
                case 0:
                {
                    var o = LuaOutput.Start();
                    int bias = _bias;
                    try { return PackCore(L, o); }
                    finally { o.Release(); _bias = bias; }
                }
                case 1: return UnpackFull(L, 0, 0);
                case 2:
                {
                    if (!OptInteger(L, 2, out long offset)) return 0;
                    lua_settop(L, lua_gettop(L) == 0 ? 0 : 1);
                    return UnpackFull(L, 1, offset);
                }
                default:
                {
                    if (lua_type(L, 2) is LUA_TNONE or LUA_TNIL || !LuaErrors.ToNumber(L, 2, out double l))
                        return LuaErrors.TypeError(L, 2, LUA_TNUMBER, lua_type(L, 2));
                    if (!OptInteger(L, 3, out long offset)) return 0;
                    lua_settop(L, lua_gettop(L) == 0 ? 0 : 1);
                    return UnpackFull(L, CConvert.ToInt64(l), offset);
                }
            }
        }
        catch (Exception ex)
        {
            return LuaErrors.Raw(L, ex.Message);
        }
        finally { e.AllowAllocations = false; }
    }

    /// <summary>luaL_optinteger(L, idx, 0); false once the error is raised.</summary>
    private static bool OptInteger(nint L, int idx, out long value)
    {
        value = 0;
        if (lua_type(L, idx) is LUA_TNONE or LUA_TNIL) return true;
        if (!LuaErrors.ToNumber(L, idx, out double d))
        {
            LuaErrors.TypeError(L, idx, LUA_TNUMBER, lua_type(L, idx));
            return false;
        }
        value = CConvert.ToInt64(d);
        return true;
    }

    // ------------------------------------------------------------------ pack

    /// <summary>Stack slots the C would hold beyond ours: the packed string of each argument already done.</summary>
    [ThreadStatic] private static int _bias;

    /// <summary>luaL_checkstack with the C's extra slots counted; false once "stack overflow (msg)" is raised.</summary>
    private static bool CheckStack(nint L, int space, string msg)
    {
        if (lua_checkstack(L, space + _bias) != 0) return true;
        LuaErrors.Error(L, "stack overflow (" + msg + ")");
        return false;
    }

    /// <summary>mp_pack: every argument packed, one after the other, into one string.</summary>
    private static int PackCore(nint L, LuaOutput o)
    {
        int nargs = lua_gettop(L);
        if (nargs == 0) return LuaErrors.ArgError(L, 0, "MessagePack pack needs input.");
        if (lua_checkstack(L, nargs) == 0) return LuaErrors.ArgError(L, 0, "Too many arguments for MessagePack pack.");
        for (int i = 1; i <= nargs; i++)
        {
            _bias = i - 1;
            if (!CheckStack(L, 1, "in function mp_check")) return 0;
            lua_pushvalue(L, i);
            if (!Encode(L, o, 0)) return 0;
            if (o.Failed) return LuaErrors.Raw(L, "not enough memory");
        }
        _bias = 0;
        o.Push(L);
        return 1;
    }

    /// <summary>mp_encode_lua_type: the value on top, popped. False once an error is raised.</summary>
    private static bool Encode(nint L, LuaOutput o, int level)
    {
        int t = lua_type(L, -1);
        if (t == LUA_TTABLE && level == MaxNesting) t = LUA_TNIL;
        switch (t)
        {
            case LUA_TSTRING:
            {
                nuint len;
                byte* s = lua_tolstring(L, -1, &len);
                Msgpack.WriteString(o, new ReadOnlySpan<byte>(s, (int)len));
                break;
            }
            case LUA_TBOOLEAN: o.Put(lua_toboolean(L, -1) != 0 ? (byte)0xc3 : (byte)0xc2); break;
            case LUA_TNUMBER:
            {
                // IS_INT64_EQUIVALENT: integral and in int64's range, as (int64_t)n == n on x86-64.
                double n = lua_tonumber(L, -1);
                long i = CConvert.ToInt64(n);
                if (!double.IsInfinity(n) && i == n) Msgpack.WriteInt(o, i);
                else Msgpack.WriteDouble(o, n);
                break;
            }
            case LUA_TTABLE:
                if (!(IsArray(L, out bool array) && (array ? EncodeArray(L, o, level) : EncodeMap(L, o, level)))) return false;
                break;
            default: o.Put(0xc0); break;
        }
        lua_settop(L, -2);
        return true;
    }

    /// <summary>table_is_an_array: the keys are exactly 1..N (an empty table is an array).</summary>
    private static bool IsArray(nint L, out bool array)
    {
        array = false;
        int top = lua_gettop(L);
        if (!CheckStack(L, 2, "in function table_is_an_array")) return false;
        int count = 0, max = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0)
        {
            lua_settop(L, -2);
            double n;
            if (lua_type(L, -1) != LUA_TNUMBER || (n = lua_tonumber(L, -1)) <= 0 || double.IsInfinity(n) || CConvert.ToInt32(n) != n)
            {
                lua_settop(L, top);
                return true;
            }
            if (n > max) max = (int)n;
            count++;
        }
        lua_settop(L, top);
        array = max == count;
        return true;
    }

    private static bool EncodeArray(nint L, LuaOutput o, int level)
    {
        int len = (int)lua_objlen(L, -1);
        Msgpack.WriteArrayHeader(o, (ulong)len);
        if (!CheckStack(L, 1, "in function mp_encode_lua_table_as_array")) return false;
        for (int j = 1; j <= len && !o.Failed; j++)
        {
            lua_rawgeti(L, -1, j); // every key 1..len is there: lua_gettable would find it without metamethods
            if (!Encode(L, o, level + 1)) return false;
        }
        return true;
    }

    private static bool EncodeMap(nint L, LuaOutput o, int level)
    {
        if (!CheckStack(L, 3, "in function mp_encode_lua_table_as_map")) return false;
        ulong len = 0;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0)
        {
            lua_settop(L, -2);
            len++;
        }
        Msgpack.WriteMapHeader(o, len);
        lua_pushnil(L);
        while (lua_next(L, -2) != 0)
        {
            lua_pushvalue(L, -2);
            if (!Encode(L, o, level + 1) || !Encode(L, o, level + 1)) return false;
            if (o.Failed)
            {
                lua_settop(L, -2);
                return true;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ unpack

    /// <summary>A container being filled: its elements still to read, and for a map whether a key is on the stack.</summary>
    private struct Frame
    {
        public bool Map;
        public bool HaveKey;
        public uint Left;
        public int Index;
    }

    [ThreadStatic] private static Frame[]? _frames;

    private enum Outcome { Ok, Eof, BadFormat, Raised }

    /// <summary>mp_unpack_full: up to <paramref name="limit"/> values from <paramref name="offset"/>; with either, the next offset (-1 at the end) first.</summary>
    private static int UnpackFull(nint L, long limit, long offset)
    {
        byte* s = LuaErrors.ToLString(L, 1, out nuint len);
        if (s == null) return LuaErrors.TypeError(L, 1, LUA_TSTRING, lua_type(L, 1));
        if (offset < 0 || limit < 0)
            return LuaErrors.Error(L, $"Invalid request to unpack with offset of {unchecked((int)offset)} and limit of {unchecked((int)len)}.");
        if ((ulong)offset > len)
            return LuaErrors.Error(L, $"Start offset {unchecked((int)offset)} greater than input length {unchecked((int)len)}.");
        bool all = limit == 0 && offset == 0;
        if (all) limit = int.MaxValue;
        var data = new ReadOnlySpan<byte>(s, (int)len);
        int pos = (int)offset;
        int cnt;
        for (cnt = 0; pos < data.Length && cnt < limit; cnt++)
        {
            switch (DecodeOne(L, data, ref pos))
            {
                case Outcome.Raised: return 0;
                case Outcome.Eof: return LuaErrors.Error(L, "Missing bytes in input.");
                case Outcome.BadFormat: return LuaErrors.Error(L, "Bad data format in input.");
            }
        }
        if (!all)
        {
            if (lua_checkstack(L, 1) == 0) return LuaErrors.Error(L, "stack overflow (in function mp_unpack_full)");
            lua_pushnumber(L, pos == data.Length ? -1 : pos);
            lua_insert(L, 2);
            cnt++;
        }
        return cnt;
    }

    /// <summary>
    /// mp_decode_to_lua_type for one top-level value, its recursion into arrays and maps kept in
    /// <see cref="_frames"/> (the nesting is only bounded by Lua's stack): the same pushes, checks and order.
    /// </summary>
    private static Outcome DecodeOne(nint L, ReadOnlySpan<byte> data, ref int pos)
    {
        // Owned for the call (a finalizer run by a GC step in a push may unpack too: it gets its own).
        var frames = _frames ?? new Frame[32];
        _frames = null;
        try { return Decode(L, data, ref pos, ref frames); }
        finally { _frames = frames; }
    }

    private static Outcome Decode(nint L, ReadOnlySpan<byte> data, ref int pos, ref Frame[] frames)
    {
        int depth = 0;
        while (true)
        {
            // A value.
            if (pos >= data.Length) return Outcome.Eof;
            if (lua_checkstack(L, 1) == 0)
            {
                LuaErrors.Error(L, "stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)");
                return Outcome.Raised;
            }
            var st = Msgpack.Read(data, ref pos, out var item);
            if (st == Msgpack.Status.Eof) return Outcome.Eof;
            if (st == Msgpack.Status.BadFormat) return Outcome.BadFormat;
            bool complete = true;
            switch (item.Kind)
            {
                case Msgpack.Kind.Number: lua_pushnumber(L, item.Number); break;
                case Msgpack.Kind.Nil: lua_pushnil(L); break;
                case Msgpack.Kind.True: lua_pushboolean(L, 1); break;
                case Msgpack.Kind.False: lua_pushboolean(L, 0); break;
                case Msgpack.Kind.String:
                    fixed (byte* p = data) lua_pushlstring(L, p + item.Start, (nuint)item.Length);
                    break;
                default:
                    lua_createtable(L, 0, 0);
                    if (item.Kind == Msgpack.Kind.Array && lua_checkstack(L, 1) == 0)
                    {
                        LuaErrors.Error(L, "stack overflow (in function mp_decode_to_lua_array)");
                        return Outcome.Raised;
                    }
                    if (depth == frames.Length) Array.Resize(ref frames, depth * 2);
                    frames[depth++] = new Frame { Map = item.Kind == Msgpack.Kind.Map, Left = item.Count, Index = 1 };
                    complete = false;
                    break;
            }
            // Values complete containers; the innermost open one asks for its next element.
            while (true)
            {
                if (complete)
                {
                    if (depth == 0) return Outcome.Ok;
                    ref var f = ref frames[depth - 1];
                    if (f.Map && !f.HaveKey)
                    {
                        f.HaveKey = true;
                        break; // its value next
                    }
                    if (f.Map)
                    {
                        f.HaveKey = false;
                        // lua_settable's own errors (luaG_runerror from a C function: no position).
                        int kt = lua_type(L, -2);
                        if (kt == LUA_TNIL) { LuaErrors.Raw(L, "table index is nil"); return Outcome.Raised; }
                        if (kt == LUA_TNUMBER && double.IsNaN(lua_tonumber(L, -2))) { LuaErrors.Raw(L, "table index is NaN"); return Outcome.Raised; }
                    }
                    lua_rawset(L, -3);
                }
                ref var top = ref frames[depth - 1];
                if (top.Left == 0)
                {
                    depth--;
                    complete = true;
                    continue;
                }
                top.Left--;
                if (!top.Map) lua_pushnumber(L, top.Index++);
                break;
            }
        }
    }
}
