using System.Buffers.Text;

namespace NativeKv.Server.Protocol;

/// <summary>Number parsing and formatting with Redis's exact rules (string2ll, ld2string).</summary>
public static class RespNumber
{
    /// <summary>
    /// Redis string2ll: optional '-', no '+', no leading zeros, no spaces, no overflow.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 20) return false;
        if (s.Length == 1 && s[0] == (byte)'0') return true;
        int i = 0;
        bool negative = false;
        if (s[0] == (byte)'-')
        {
            negative = true;
            i = 1;
            if (s.Length == 1) return false;
        }
        if (s[i] < (byte)'1' || s[i] > (byte)'9') return false;
        ulong v = 0;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9) return false;
            if (v > (ulong.MaxValue - d) / 10) return false;
            v = v * 10 + d;
        }
        if (negative)
        {
            if (v > (ulong)long.MaxValue + 1) return false;
            value = (long)(0 - v);
        }
        else
        {
            if (v > long.MaxValue) return false;
            value = (long)v;
        }
        return true;
    }

    /// <summary>Writes the decimal form of <paramref name="value"/>; returns bytes written.</summary>
    public static int Format(long value, Span<byte> dest)
    {
        Utf8Formatter.TryFormat(value, dest, out int written);
        return written;
    }

    public static int DigitCount(long value)
    {
        if (value < 0)
        {
            if (value == long.MinValue) return 20;
            return 1 + DigitCount(-value);
        }
        ulong v = (ulong)value;
        int n = 1;
        while (v >= 10) { v /= 10; n++; }
        return n;
    }
}
