using System.Buffers.Binary;
using System.Runtime.InteropServices;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// The <c>struct</c> library Redis gives scripts (deps/lua/src/lua_struct.c, Roberto Ierusalimschy's struct 1.7
/// with Redis's offset check): pack, unpack and size over a format string, with its quirks kept (C's long of 8
/// bytes, integers of up to 32 bytes through a 64-bit value, the format read up to its first NUL, x86-64's
/// double-to-integer conversions).
/// </summary>
internal static unsafe class LuaStruct
{
    public const int MaxIntSize = 32;
    /// <summary>MAXALIGN: the alignment of a double after a char (8), "!" without a number.</summary>
    private const int MaxAlign = 8;

    private struct Header
    {
        public bool Little;
        public int Align;
    }

    public static void Push(nint L)
    {
        lua_createtable(L, 0, 3);
        Set(L, "pack"u8, &Pack);
        Set(L, "unpack"u8, &Unpack);
        Set(L, "size"u8, &Size);
    }

    private static void Set(nint L, ReadOnlySpan<byte> name, delegate* unmanaged<nint, int> fn)
    {
        LuaEngine.PushString(L, name);
        lua_pushcclosure(L, fn, 0);
        lua_rawset(L, -3);
    }

    [UnmanagedCallersOnly]
    private static int Pack(nint L) => Guarded(L, 0);

    [UnmanagedCallersOnly]
    private static int Unpack(nint L) => Guarded(L, 1);

    [UnmanagedCallersOnly]
    private static int Size(nint L) => Guarded(L, 2);

    /// <summary>Allocations may not fail while C# is on the stack; nothing may be thrown into Lua.</summary>
    private static int Guarded(nint L, int which)
    {
        var e = LuaEngine.Current;
        e.AllowAllocations = true;
        try
        {
            if (which != 0) return which == 1 ? UnpackCore(L) : SizeCore(L);
            var o = LuaOutput.Start();
            try { return PackCore(L, o); }
            finally { o.Release(); }
        }
        catch (Exception ex)
        {
            return LuaErrors.Raw(L, ex.Message);
        }
        finally { e.AllowAllocations = false; }
    }

    // ------------------------------------------------------------------ the format (pure, tested alone)

    /// <summary>getnum: the digits at <paramref name="fmt"/> (consumed), <paramref name="df"/> when none, -1 past int.MaxValue.</summary>
    internal static int GetNum(ref byte* fmt, int df)
    {
        if (!IsDigit(*fmt)) return df;
        int a = 0;
        do
        {
            int d = *fmt - '0';
            if (a > int.MaxValue / 10 || a * 10 > int.MaxValue - d) return -1;
            a = a * 10 + d;
            fmt++;
        } while (IsDigit(*fmt));
        return a;
    }

    /// <summary>gettoalign: the padding before an item of <paramref name="size"/> at <paramref name="len"/> (size need not be a power of 2).</summary>
    internal static int GetToAlign(ulong len, int align, int opt, ulong size)
    {
        if (size == 0 || opt == 'c') return 0;
        if (size > (ulong)align) size = (ulong)align;
        return (int)((size - (len & (size - 1))) & (size - 1));
    }

    /// <summary>putinteger: the low bytes of the number's 64-bit value (zeros past 8 bytes), in the order asked.</summary>
    internal static void PutInteger(Span<byte> dst, double n, bool little)
    {
        ulong value = n < 0 ? (ulong)CConvert.ToInt64(n) : CConvert.ToUInt64(n);
        if (little)
        {
            for (int i = 0; i < dst.Length; i++) { dst[i] = (byte)value; value >>= 8; }
        }
        else
        {
            for (int i = dst.Length - 1; i >= 0; i--) { dst[i] = (byte)value; value >>= 8; }
        }
    }

    /// <summary>getinteger: the bytes into 64 bits (earlier ones shifted out past 8), sign-extended from bit size*8-1 mod 64 as x86's shift does.</summary>
    internal static double GetInteger(ReadOnlySpan<byte> b, bool little, bool signed)
    {
        ulong l = 0;
        if (!little)
            for (int i = 0; i < b.Length; i++) l = (l << 8) | b[i];
        else
            for (int i = b.Length - 1; i >= 0; i--) l = (l << 8) | b[i];
        if (!signed) return l;
        ulong mask = ~0UL << (b.Length * 8 - 1);
        if ((l & mask) != 0) l |= mask;
        return (long)l;
    }

    private static bool IsDigit(int c) => c is >= '0' and <= '9';

    private static bool IsAlnum(int c) => c is >= '0' and <= '9' or >= 'a' and <= 'z' or >= 'A' and <= 'Z';

    /// <summary>optsize: the size of option <paramref name="opt"/> (its digits consumed); false once the error is raised.</summary>
    private static bool OptSize(nint L, int opt, ref byte* fmt, out ulong size)
    {
        size = 0;
        switch (opt)
        {
            case 'B': case 'b': size = 1; return true;
            case 'H': case 'h': size = 2; return true;
            case 'L': case 'l': case 'T': case 'd': size = 8; return true;
            case 'f': size = 4; return true;
            case 'x': size = 1; return true;
            case 'c':
            {
                int n = GetNum(ref fmt, 1);
                if (n < 0) { LuaErrors.Error(L, "integral size overflow"); return false; }
                size = (ulong)n;
                return true;
            }
            case 'i': case 'I':
            {
                int n = GetNum(ref fmt, sizeof(int));
                if (n < 0) { LuaErrors.Error(L, "integral size overflow"); return false; }
                if (n > MaxIntSize) { LuaErrors.Error(L, $"integral size {n} is larger than limit of {MaxIntSize}"); return false; }
                size = (ulong)n;
                return true;
            }
            default: return true;
        }
    }

    /// <summary>controloptions: endianness, alignment, spaces; any other option is refused.</summary>
    private static bool ControlOptions(nint L, int opt, ref byte* fmt, ref Header h)
    {
        switch (opt)
        {
            case ' ': return true;
            case '>': h.Little = false; return true;
            case '<': h.Little = true; return true;
            case '!':
            {
                int a = GetNum(ref fmt, MaxAlign);
                if (a < 0) { LuaErrors.Error(L, "integral size overflow"); return false; }
                if (a <= 0 || (a & (a - 1)) != 0) { LuaErrors.Error(L, $"alignment {a} is not a power of 2"); return false; }
                h.Align = a;
                return true;
            }
            default:
                LuaErrors.ArgError(L, 1, $"invalid format option '{(char)(byte)opt}'");
                return false;
        }
    }

    private static bool IsInteger(int opt) => opt is 'b' or 'B' or 'h' or 'H' or 'l' or 'L' or 'T' or 'i' or 'I';

    // ------------------------------------------------------------------ the functions

    /// <summary>The format (luaL_checkstring of argument 1), a NUL-terminated Lua string; null once the error is raised.</summary>
    private static byte* Format(nint L)
    {
        byte* fmt = LuaErrors.ToLString(L, 1, out _);
        if (fmt == null) LuaErrors.TypeError(L, 1, LUA_TSTRING, lua_type(L, 1));
        return fmt;
    }

    /// <summary>b_pack. Its arguments as the C sees them: one past the last is the nil it pushed to mark them.</summary>
    private static int PackCore(nint L, LuaOutput o)
    {
        byte* fmt = Format(L);
        if (fmt == null) return 0;
        int top = lua_gettop(L);
        int Type(int arg) => arg <= top ? lua_type(L, arg) : arg == top + 1 ? LUA_TNIL : LUA_TNONE;
        var h = new Header { Little = true, Align = 1 };
        int arg = 2;
        ulong total = 0;
        while (*fmt != 0)
        {
            int opt = (sbyte)*fmt++;
            if (!OptSize(L, opt, ref fmt, out ulong size)) return 0;
            int toalign = GetToAlign(total, h.Align, opt, size);
            total += (ulong)toalign;
            o.Zeros(toalign);
            if (IsInteger(opt) || opt is 'f' or 'd')
            {
                int a = arg++;
                if (a > top || !LuaErrors.ToNumber(L, a, out double n)) return LuaErrors.TypeError(L, a, LUA_TNUMBER, Type(a));
                var dst = o.Take((int)size);
                if (opt == 'f') WriteFloat(dst, (float)n, h.Little);
                else if (opt == 'd') WriteDouble(dst, n, h.Little);
                else PutInteger(dst, n, h.Little);
            }
            else if (opt == 'x') o.Put(0);
            else if (opt is 'c' or 's')
            {
                int a = arg++;
                nuint l = 0;
                byte* s = a <= top ? LuaErrors.ToLString(L, a, out l) : null;
                if (s == null) return LuaErrors.TypeError(L, a, LUA_TSTRING, Type(a));
                if (size == 0) size = l;
                if (l < size) return LuaErrors.ArgError(L, arg, "string too short");
                o.Put(new ReadOnlySpan<byte>(s, (int)size));
                if (opt == 's')
                {
                    o.Put(0);
                    size++;
                }
            }
            else if (!ControlOptions(L, opt, ref fmt, ref h)) return 0;
            total += size;
        }
        if (o.Failed) return LuaErrors.Raw(L, "not enough memory");
        o.Push(L);
        return 1;
    }

    private static void WriteFloat(Span<byte> dst, float f, bool little)
    {
        if (dst.Length < 4) return;
        if (little) BinaryPrimitives.WriteSingleLittleEndian(dst, f);
        else BinaryPrimitives.WriteSingleBigEndian(dst, f);
    }

    private static void WriteDouble(Span<byte> dst, double d, bool little)
    {
        if (dst.Length < 8) return;
        if (little) BinaryPrimitives.WriteDoubleLittleEndian(dst, d);
        else BinaryPrimitives.WriteDoubleBigEndian(dst, d);
    }

    /// <summary>b_unpack: the values, then the position after them; offsets as size_t (a negative one wraps).</summary>
    private static int UnpackCore(nint L)
    {
        byte* fmt = Format(L);
        if (fmt == null) return 0;
        byte* data = LuaErrors.ToLString(L, 2, out nuint ldn);
        if (data == null) return LuaErrors.TypeError(L, 2, LUA_TSTRING, lua_type(L, 2));
        ulong ld = ldn;
        ulong pos = 1;
        if (lua_type(L, 3) is not (LUA_TNONE or LUA_TNIL))
        {
            if (!LuaErrors.ToNumber(L, 3, out double p)) return LuaErrors.TypeError(L, 3, LUA_TNUMBER, lua_type(L, 3));
            pos = (ulong)CConvert.ToInt64(p);
        }
        if (pos == 0) return LuaErrors.ArgError(L, 3, "offset must be 1 or greater");
        pos--;
        int n = 0;
        var h = new Header { Little = true, Align = 1 };
        while (*fmt != 0)
        {
            int opt = (sbyte)*fmt++;
            if (!OptSize(L, opt, ref fmt, out ulong size)) return 0;
            pos += (ulong)GetToAlign(pos, h.Align, opt, size);
            if (!(size <= ld && pos <= ld - size)) return LuaErrors.ArgError(L, 2, "data string too short");
            if (!LuaErrors.CheckStack(L, 2)) return LuaErrors.Error(L, "stack overflow (too many results)");
            if (IsInteger(opt))
            {
                lua_pushnumber(L, GetInteger(new ReadOnlySpan<byte>(data + pos, (int)size), h.Little, opt is >= 'a' and <= 'z'));
                n++;
            }
            else if (opt == 'f')
            {
                var b = new ReadOnlySpan<byte>(data + pos, 4);
                lua_pushnumber(L, h.Little ? BinaryPrimitives.ReadSingleLittleEndian(b) : BinaryPrimitives.ReadSingleBigEndian(b));
                n++;
            }
            else if (opt == 'd')
            {
                var b = new ReadOnlySpan<byte>(data + pos, 8);
                lua_pushnumber(L, h.Little ? BinaryPrimitives.ReadDoubleLittleEndian(b) : BinaryPrimitives.ReadDoubleBigEndian(b));
                n++;
            }
            else if (opt == 'c')
            {
                if (size == 0)
                {
                    // c0: the length is the previous result.
                    if (n == 0 || lua_isnumber(L, -1) == 0) return LuaErrors.Error(L, "format 'c0' needs a previous size");
                    size = CConvert.ToUInt64(lua_tonumber(L, -1));
                    lua_settop(L, -2);
                    n--;
                    if (!(size <= ld && pos <= ld - size)) return LuaErrors.ArgError(L, 2, "data string too short");
                }
                lua_pushlstring(L, data + pos, (nuint)size);
                n++;
            }
            else if (opt == 's')
            {
                int end = new ReadOnlySpan<byte>(data + pos, (int)(ld - pos)).IndexOf((byte)0);
                if (end < 0) return LuaErrors.Error(L, "unfinished string in data");
                size = (ulong)end + 1;
                lua_pushlstring(L, data + pos, (nuint)end);
                n++;
            }
            else if (opt != 'x' && !ControlOptions(L, opt, ref fmt, ref h)) return 0;
            pos += size;
        }
        lua_pushnumber(L, (long)(pos + 1));
        return n + 1;
    }

    /// <summary>b_size: the packed size; an unknown letter or digit adds nothing, other unknown options are refused.</summary>
    private static int SizeCore(nint L)
    {
        byte* fmt = Format(L);
        if (fmt == null) return 0;
        ulong pos = 0;
        var h = new Header { Little = true, Align = 1 };
        while (*fmt != 0)
        {
            int opt = (sbyte)*fmt++;
            if (!OptSize(L, opt, ref fmt, out ulong size)) return 0;
            pos += (ulong)GetToAlign(pos, h.Align, opt, size);
            if (opt == 's') return LuaErrors.ArgError(L, 1, "option 's' has no fixed size");
            if (opt == 'c' && size == 0) return LuaErrors.ArgError(L, 1, "option 'c0' has no fixed size");
            if (!IsAlnum(opt) && !ControlOptions(L, opt, ref fmt, ref h)) return 0;
            pos += size;
        }
        lua_pushnumber(L, (long)pos);
        return 1;
    }
}
