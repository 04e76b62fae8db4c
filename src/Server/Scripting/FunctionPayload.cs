using System.Buffers.Binary;

namespace NativeKv.Server.Scripting;

/// <summary>
/// FUNCTION DUMP's payload, Redis's own (functions.c functionDumpCommand, rdb.c): per library the opcode
/// RDB_OPCODE_FUNCTION2 and its code as an RDB string, then the RDB version (2 bytes LE) and the CRC64 of
/// what precedes (8 bytes LE). Strings are written plain; LZF-compressed ones (redis-server's) are read too.
/// The same bytes are what checkpoints and the AOF keep of the library set.
/// </summary>
public static class FunctionPayload
{
    /// <summary>RDB_VERSION of Redis 7.2.</summary>
    public const int RdbVersion = 11;
    private const byte OpcodeFunction2 = 245, OpcodeFunctionPreGa = 246;

    public static byte[] Dump(FunctionSet set)
    {
        var buffer = new List<byte>();
        Span<byte> len = stackalloc byte[9];
        foreach (var lib in set.Libraries)
        {
            buffer.Add(OpcodeFunction2);
            int n = WriteLength(len, (ulong)lib.Code.Length);
            for (int i = 0; i < n; i++) buffer.Add(len[i]);
            buffer.AddRange(lib.Code);
        }
        buffer.Add(RdbVersion & 0xff);
        buffer.Add((RdbVersion >> 8) & 0xff);
        var bytes = new byte[buffer.Count + 8];
        buffer.CopyTo(bytes);
        ulong crc = Crc64.Compute(bytes.AsSpan(0, buffer.Count));
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(buffer.Count), crc);
        return bytes;
    }

    /// <summary>verifyDumpPayload: long enough, a version this server reads, the checksum right.</summary>
    public static bool Verify(ReadOnlySpan<byte> p)
    {
        if (p.Length < 10) return false;
        int version = p[^10] | (p[^9] << 8);
        if (version > RdbVersion) return false;
        ulong crc = BinaryPrimitives.ReadUInt64LittleEndian(p[^8..]);
        return Crc64.Compute(p[..^8]) == crc;
    }

    /// <summary>The libraries' codes of a verified payload, or the error of functionRestoreCommand's loop.</summary>
    public static string? ReadCodes(ReadOnlySpan<byte> p, List<byte[]> codes)
    {
        int pos = 0, end = p.Length - 10;
        while (pos < end)
        {
            byte type = p[pos++];
            if (type == OpcodeFunctionPreGa) return "Pre-GA function format not supported";
            if (type != OpcodeFunction2) return "given type is not a function";
            var s = ReadString(p[..end], ref pos);
            if (s is null) return "Failed loading library payload";
            codes.Add(s);
        }
        return null;
    }

    private static int WriteLength(Span<byte> to, ulong len)
    {
        if (len < 1 << 6) { to[0] = (byte)len; return 1; }
        if (len < 1 << 14) { to[0] = (byte)(0x40 | (len >> 8)); to[1] = (byte)len; return 2; }
        if (len <= uint.MaxValue) { to[0] = 0x80; BinaryPrimitives.WriteUInt32BigEndian(to[1..], (uint)len); return 5; }
        to[0] = 0x81;
        BinaryPrimitives.WriteUInt64BigEndian(to[1..], len);
        return 9;
    }

    /// <summary>rdbLoadLen: the length, or the special encoding (encoded true) in the low bits.</summary>
    private static bool ReadLength(ReadOnlySpan<byte> p, ref int pos, out ulong len, out bool encoded)
    {
        len = 0;
        encoded = false;
        if (pos >= p.Length) return false;
        byte b = p[pos++];
        switch (b >> 6)
        {
            case 0: len = (ulong)(b & 0x3f); return true;
            case 1:
                if (pos >= p.Length) return false;
                len = ((ulong)(b & 0x3f) << 8) | p[pos++];
                return true;
            case 3: encoded = true; len = (ulong)(b & 0x3f); return true;
        }
        if (b == 0x80)
        {
            if (pos + 4 > p.Length) return false;
            len = BinaryPrimitives.ReadUInt32BigEndian(p[pos..]);
            pos += 4;
            return true;
        }
        if (b == 0x81)
        {
            if (pos + 8 > p.Length) return false;
            len = BinaryPrimitives.ReadUInt64BigEndian(p[pos..]);
            pos += 8;
            return true;
        }
        return false;
    }

    /// <summary>rdbGenericLoadStringObject: plain, integer-encoded or LZF-compressed. Null when malformed.</summary>
    private static byte[]? ReadString(ReadOnlySpan<byte> p, ref int pos)
    {
        if (!ReadLength(p, ref pos, out ulong len, out bool encoded)) return null;
        if (encoded)
        {
            long v;
            switch (len)
            {
                case 0: if (pos + 1 > p.Length) return null; v = (sbyte)p[pos]; pos += 1; break;
                case 1: if (pos + 2 > p.Length) return null; v = BinaryPrimitives.ReadInt16LittleEndian(p[pos..]); pos += 2; break;
                case 2: if (pos + 4 > p.Length) return null; v = BinaryPrimitives.ReadInt32LittleEndian(p[pos..]); pos += 4; break;
                case 3:
                {
                    if (!ReadLength(p, ref pos, out ulong clen, out bool e1) || e1) return null;
                    if (!ReadLength(p, ref pos, out ulong ulen, out bool e2) || e2) return null;
                    if (clen > (ulong)(p.Length - pos) || ulen > int.MaxValue) return null;
                    var output = new byte[ulen];
                    bool ok = Lzf.Decompress(p.Slice(pos, (int)clen), output);
                    pos += (int)clen;
                    return ok ? output : null;
                }
                default: return null;
            }
            return System.Text.Encoding.ASCII.GetBytes(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        if (len > (ulong)(p.Length - pos)) return null;
        var s = p.Slice(pos, (int)len).ToArray();
        pos += (int)len;
        return s;
    }
}

/// <summary>lzf_d.c's lzf_decompress: true when the input decodes to exactly the output's length.</summary>
internal static class Lzf
{
    public static bool Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0, op = 0;
        while (ip < input.Length)
        {
            int ctrl = input[ip++];
            if (ctrl < 1 << 5)
            {
                ctrl++;
                if (op + ctrl > output.Length || ip + ctrl > input.Length) return false;
                input.Slice(ip, ctrl).CopyTo(output[op..]);
                ip += ctrl;
                op += ctrl;
            }
            else
            {
                int len = ctrl >> 5;
                int reference = op - ((ctrl & 0x1f) << 8) - 1;
                if (len == 7)
                {
                    if (ip >= input.Length) return false;
                    len += input[ip++];
                }
                if (ip >= input.Length) return false;
                reference -= input[ip++];
                len += 2;
                if (op + len > output.Length || reference < 0) return false;
                for (int i = 0; i < len; i++) output[op++] = output[reference++]; // overlapping copies repeat bytes
            }
        }
        return op == output.Length;
    }
}

/// <summary>Redis's crc64 (Jones polynomial, reflected, init 0), as DUMP payloads use.</summary>
internal static class Crc64
{
    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        const ulong poly = 0x95AC9329AC4BC9B5UL; // 0xad93d23594c935a9 reflected
        var table = new ulong[256];
        for (ulong i = 0; i < 256; i++)
        {
            ulong crc = i;
            for (int j = 0; j < 8; j++) crc = (crc & 1) != 0 ? (crc >> 1) ^ poly : crc >> 1;
            table[i] = crc;
        }
        return table;
    }

    public static ulong Compute(ReadOnlySpan<byte> data, ulong crc = 0)
    {
        foreach (byte b in data) crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
        return crc;
    }
}
