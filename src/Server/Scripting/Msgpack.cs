using System.Buffers.Binary;

namespace NativeKv.Server.Scripting;

/// <summary>
/// MessagePack as lua_cmsgpack.c (0.4.0) writes and reads it, without Lua: the smallest integer form, a float
/// when the double survives the round trip through one, strings always as str (fixstr, str8/16/32; never bin),
/// and on reading str and no bin or ext (those are "bad format").
/// </summary>
internal static class Msgpack
{
    public static void WriteString(LuaOutput o, ReadOnlySpan<byte> s)
    {
        int len = s.Length;
        if (len < 32) o.Put((byte)(0xa0 | len));
        else if (len <= 0xff) { var h = o.Take(2); if (h.Length == 2) { h[0] = 0xd9; h[1] = (byte)len; } }
        else if (len <= 0xffff) Header(o, 0xda, (uint)len, 2);
        else Header(o, 0xdb, (uint)len, 4);
        o.Put(s);
    }

    public static void WriteDouble(LuaOutput o, double d)
    {
        float f = (float)d;
        if (d == f)
        {
            var b = o.Take(5);
            if (b.Length < 5) return;
            b[0] = 0xca;
            BinaryPrimitives.WriteSingleBigEndian(b[1..], f);
        }
        else
        {
            var b = o.Take(9);
            if (b.Length < 9) return;
            b[0] = 0xcb;
            BinaryPrimitives.WriteDoubleBigEndian(b[1..], d);
        }
    }

    public static void WriteInt(LuaOutput o, long n)
    {
        if (n >= 0)
        {
            if (n <= 127) o.Put((byte)n);
            else if (n <= 0xff) Header(o, 0xcc, (uint)n, 1);
            else if (n <= 0xffff) Header(o, 0xcd, (uint)n, 2);
            else if (n <= 0xffffffffL) Header(o, 0xce, (uint)n, 4);
            else Header64(o, 0xcf, (ulong)n);
        }
        else
        {
            if (n >= -32) o.Put((byte)(sbyte)n);
            else if (n >= -128) Header(o, 0xd0, (uint)n, 1);
            else if (n >= -32768) Header(o, 0xd1, (uint)n, 2);
            else if (n >= int.MinValue) Header(o, 0xd2, (uint)n, 4);
            else Header64(o, 0xd3, (ulong)n);
        }
    }

    public static void WriteArrayHeader(LuaOutput o, ulong n)
    {
        if (n <= 15) o.Put((byte)(0x90 | (int)n));
        else if (n <= 65535) Header(o, 0xdc, (uint)n, 2);
        else Header(o, 0xdd, (uint)n, 4);
    }

    public static void WriteMapHeader(LuaOutput o, ulong n)
    {
        if (n <= 15) o.Put((byte)(0x80 | (int)n));
        else if (n <= 65535) Header(o, 0xde, (uint)n, 2);
        else Header(o, 0xdf, (uint)n, 4);
    }

    /// <summary>A tag and the low <paramref name="bytes"/> bytes of <paramref name="v"/>, big-endian.</summary>
    private static void Header(LuaOutput o, byte tag, uint v, int bytes)
    {
        var b = o.Take(1 + bytes);
        if (b.Length == 0) return;
        b[0] = tag;
        for (int i = bytes; i >= 1; i--) { b[i] = (byte)v; v >>= 8; }
    }

    private static void Header64(LuaOutput o, byte tag, ulong v)
    {
        var b = o.Take(9);
        if (b.Length == 0) return;
        b[0] = tag;
        BinaryPrimitives.WriteUInt64BigEndian(b[1..], v);
    }

    public enum Kind : byte { Number, Nil, True, False, String, Array, Map }

    public enum Status : byte { Ok, Eof, BadFormat }

    /// <summary>One item read: a number as Lua gets it (a double), a string's place in the input, a container's count.</summary>
    public struct Item
    {
        public Kind Kind;
        public double Number;
        public int Start, Length;
        public uint Count;
    }

    /// <summary>
    /// mp_decode_to_lua_type's first byte, for one item (a container's elements follow it). Numbers as the C pushes
    /// them: uint 64 through lua_pushinteger (2^63 and above wrap negative), a float widened to double.
    /// </summary>
    public static Status Read(ReadOnlySpan<byte> data, ref int pos, out Item item)
    {
        item = default;
        var c = data[pos..];
        if (c.Length < 1) return Status.Eof;
        byte t = c[0];
        switch (t)
        {
            case 0xcc: return Num(c, ref pos, 2, c.Length >= 2 ? c[1] : 0, ref item);
            case 0xd0: return Num(c, ref pos, 2, c.Length >= 2 ? (sbyte)c[1] : 0, ref item);
            case 0xcd: return Num(c, ref pos, 3, c.Length >= 3 ? BinaryPrimitives.ReadUInt16BigEndian(c[1..]) : 0, ref item);
            case 0xd1: return Num(c, ref pos, 3, c.Length >= 3 ? BinaryPrimitives.ReadInt16BigEndian(c[1..]) : 0, ref item);
            case 0xce: return Num(c, ref pos, 5, c.Length >= 5 ? BinaryPrimitives.ReadUInt32BigEndian(c[1..]) : 0, ref item);
            case 0xd2: return Num(c, ref pos, 5, c.Length >= 5 ? BinaryPrimitives.ReadInt32BigEndian(c[1..]) : 0, ref item);
            case 0xcf: return Num(c, ref pos, 9, c.Length >= 9 ? (long)BinaryPrimitives.ReadUInt64BigEndian(c[1..]) : 0, ref item);
            case 0xd3: return Num(c, ref pos, 9, c.Length >= 9 ? BinaryPrimitives.ReadInt64BigEndian(c[1..]) : 0, ref item);
            case 0xca: return Num(c, ref pos, 5, c.Length >= 5 ? BinaryPrimitives.ReadSingleBigEndian(c[1..]) : 0, ref item);
            case 0xcb: return Num(c, ref pos, 9, c.Length >= 9 ? BinaryPrimitives.ReadDoubleBigEndian(c[1..]) : 0, ref item);
            case 0xc0: item.Kind = Kind.Nil; pos++; return Status.Ok;
            case 0xc3: item.Kind = Kind.True; pos++; return Status.Ok;
            case 0xc2: item.Kind = Kind.False; pos++; return Status.Ok;
            case 0xd9: return c.Length < 2 ? Status.Eof : Str(c, ref pos, 2, c[1], ref item);
            case 0xda: return c.Length < 3 ? Status.Eof : Str(c, ref pos, 3, BinaryPrimitives.ReadUInt16BigEndian(c[1..]), ref item);
            case 0xdb: return c.Length < 5 ? Status.Eof : Str(c, ref pos, 5, BinaryPrimitives.ReadUInt32BigEndian(c[1..]), ref item);
            case 0xdc: return c.Length < 3 ? Status.Eof : Container(Kind.Array, ref pos, 3, BinaryPrimitives.ReadUInt16BigEndian(c[1..]), ref item);
            case 0xdd: return c.Length < 5 ? Status.Eof : Container(Kind.Array, ref pos, 5, BinaryPrimitives.ReadUInt32BigEndian(c[1..]), ref item);
            case 0xde: return c.Length < 3 ? Status.Eof : Container(Kind.Map, ref pos, 3, BinaryPrimitives.ReadUInt16BigEndian(c[1..]), ref item);
            case 0xdf: return c.Length < 5 ? Status.Eof : Container(Kind.Map, ref pos, 5, BinaryPrimitives.ReadUInt32BigEndian(c[1..]), ref item);
        }
        if ((t & 0x80) == 0) return Num(c, ref pos, 1, t, ref item);
        if ((t & 0xe0) == 0xe0) return Num(c, ref pos, 1, (sbyte)t, ref item);
        if ((t & 0xe0) == 0xa0) return Str(c, ref pos, 1, (uint)(t & 0x1f), ref item);
        if ((t & 0xf0) == 0x90) return Container(Kind.Array, ref pos, 1, (uint)(t & 0xf), ref item);
        if ((t & 0xf0) == 0x80) return Container(Kind.Map, ref pos, 1, (uint)(t & 0xf), ref item);
        return Status.BadFormat;
    }

    private static Status Num(ReadOnlySpan<byte> c, ref int pos, int size, double value, ref Item item)
    {
        if (c.Length < size) return Status.Eof;
        item.Kind = Kind.Number;
        item.Number = value;
        pos += size;
        return Status.Ok;
    }

    private static Status Str(ReadOnlySpan<byte> c, ref int pos, int header, uint length, ref Item item)
    {
        if ((ulong)c.Length < (ulong)header + length) return Status.Eof;
        item.Kind = Kind.String;
        item.Start = pos + header;
        item.Length = (int)length;
        pos += header + (int)length;
        return Status.Ok;
    }

    private static Status Container(Kind kind, ref int pos, int header, uint count, ref Item item)
    {
        item.Kind = kind;
        item.Count = count;
        pos += header;
        return Status.Ok;
    }
}
