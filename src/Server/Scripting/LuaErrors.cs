using System.Runtime.InteropServices;
using System.Text;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// lauxlib's errors for the C# libraries (struct, cmsgpack): luaL_error, luaL_argerror and the check
/// functions, with their texts, raised after the C# function returns (<see cref="LuaEngine.RaiseLater"/>).
/// Each returns the C function's result count, 0: <c>return LuaErrors.Error(L, ...)</c>.
/// </summary>
internal static unsafe class LuaErrors
{
    /// <summary>Lua's stack limit (LUAI_MAXCSTACK): lua_checkstack answers 0 past it.</summary>
    public const int MaxCStack = 8000;

    private static readonly string[] TypeNames = ["no value", "nil", "boolean", "userdata", "number", "string", "table", "function", "userdata", "thread"];

    public static string TypeName(int type) => TypeNames[type + 1];

    /// <summary>luaL_error: luaL_where(L, 1) (the calling Lua line, if the caller is Lua code), then the message (Latin-1: a char a byte).</summary>
    public static int Error(nint L, string message)
    {
        lua_Debug ar;
        string where = "";
        if (lua_getstack(L, 1, &ar) != 0)
        {
            fixed (byte* what = "Sl\0"u8) lua_getinfo(L, what, &ar);
            if (ar.currentline > 0)
                where = Encoding.Latin1.GetString(CString(ar.short_src)) + ":" + ar.currentline + ": ";
        }
        return Raw(L, where + message);
    }

    /// <summary>Raises the message as it is (luaG_runerror from a C function: no position).</summary>
    public static int Raw(nint L, string message)
    {
        LuaEngine.PushString(L, Encoding.Latin1.GetBytes(message));
        LuaEngine.Current.RaiseLater(L);
        return 0;
    }

    /// <summary>luaL_argerror: the function's name as its caller saw it, self not counted for a method call.</summary>
    public static int ArgError(nint L, int narg, string extramsg)
    {
        lua_Debug ar;
        if (lua_getstack(L, 0, &ar) == 0) return Error(L, $"bad argument #{narg} ({extramsg})");
        fixed (byte* what = "n\0"u8) lua_getinfo(L, what, &ar);
        string? name = ar.name == null ? null : Encoding.Latin1.GetString(CString(ar.name));
        if (ar.namewhat != null && CString(ar.namewhat).SequenceEqual("method"u8))
        {
            narg--;
            if (narg == 0) return Error(L, $"calling '{name}' on bad self ({extramsg})");
        }
        return Error(L, $"bad argument #{narg} to '{name ?? "?"}' ({extramsg})");
    }

    private static ReadOnlySpan<byte> CString(byte* s) => MemoryMarshal.CreateReadOnlySpanFromNullTerminated(s);

    /// <summary>luaL_typerror (tag_error): "number expected, got nil".</summary>
    public static int TypeError(nint L, int narg, int expected, int actual) =>
        ArgError(L, narg, $"{TypeName(expected)} expected, got {TypeName(actual)}");

    /// <summary>luaL_checkstack's "stack overflow (msg)" when lua_checkstack refuses.</summary>
    public static bool CheckStack(nint L, int space) => lua_checkstack(L, space) != 0;

    /// <summary>luaL_checklstring: the string (a number becomes one in place, as in Lua), or null when it is neither.</summary>
    public static byte* ToLString(nint L, int idx, out nuint len)
    {
        nuint l;
        byte* s = lua_tolstring(L, idx, &l);
        len = l;
        return s;
    }

    /// <summary>luaL_checknumber's test: the number, or false when the value is neither a number nor a numeric string.</summary>
    public static bool ToNumber(nint L, int idx, out double n)
    {
        n = lua_tonumber(L, idx);
        return n != 0 || lua_isnumber(L, idx) != 0;
    }
}

/// <summary>
/// C's conversions of a double to an integer as x86-64 does them (cvttsd2si; gcc's double-to-size_t), where .NET
/// saturates: out of range or NaN gives the "integer indefinite" 0x80..0 instead.
/// </summary>
internal static class CConvert
{
    private const double TwoTo63 = 9223372036854775808.0;

    /// <summary>(int64_t)d, as lua_number2integer (lua_tointeger) on x86-64.</summary>
    public static long ToInt64(double d) => d >= -TwoTo63 && d < TwoTo63 ? (long)d : long.MinValue;

    /// <summary>(int)d on x86-64.</summary>
    public static int ToInt32(double d) => d > -2147483649.0 && d < 2147483648.0 ? (int)d : int.MinValue;

    /// <summary>(uint64_t)d as gcc emits it: below 2^63 (or NaN) one cvttsd2si, else cvttsd2si(d - 2^63) with the top bit flipped.</summary>
    public static ulong ToUInt64(double d) => d >= TwoTo63 ? (ulong)ToInt64(d - TwoTo63) ^ 0x8000000000000000UL : (ulong)ToInt64(d);
}
