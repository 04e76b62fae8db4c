namespace NativeKv.Server.Storage.Values;

/// <summary>
/// Score text as Redis's zset code reads it. ZADD, ZINCRBY and WEIGHTS use string2d (strtod over the
/// whole argument, no leading space, not empty, not NaN); ZRANGEBYSCORE's bounds call strtod directly,
/// which also skips leading spaces and reads "" as 0. strtod takes C99 hex floats (0x10, 0x1.8p3) too.
/// </summary>
public static class ScoreText
{
    /// <summary>string2d.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length == 0 || IsSpace(s[0])) return false;
        if (!TryStrtod(s, out value)) return false;
        // ERANGE: an overflow to infinity, or an underflow to zero, is refused (1e400, 1e-400).
        if (double.IsInfinity(value)) return IsInfText(s);
        if (value == 0)
        {
            int i = 0;
            if (s[0] == (byte)'+' || s[0] == (byte)'-') i++;
            bool hex = i + 1 < s.Length && s[i] == (byte)'0' && (s[i + 1] | 0x20) == (byte)'x';
            for (i += hex ? 2 : 0; i < s.Length; i++)
            {
                byte c = s[i];
                if (!hex && (c | 0x20) == (byte)'e') break;
                if (hex && (c | 0x20) == (byte)'p') break;
                if (c is >= (byte)'1' and <= (byte)'9' || (hex && (c | 0x20) is >= (byte)'a' and <= (byte)'f')) return false;
            }
        }
        return true;
    }

    private static bool IsInfText(ReadOnlySpan<byte> s)
    {
        if (s[0] == (byte)'+' || s[0] == (byte)'-') s = s[1..];
        return System.Text.Ascii.EqualsIgnoreCase(s, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(s, "infinity"u8);
    }

    /// <summary>zslParseRange's strtod: the whole text consumed, NaN refused.</summary>
    public static bool TryParseBound(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length == 0) return true; // no conversion: endptr is the start, which is the terminator
        int i = 0;
        while (i < s.Length && IsSpace(s[i])) i++;
        return i < s.Length && TryStrtod(s[i..], out value);
    }

    private static bool TryStrtod(ReadOnlySpan<byte> s, out double value)
    {
        if (TryHex(s, out value, out bool isHex)) return !double.IsNaN(value);
        if (isHex) return false;
        return NumberFormat.TryParseDouble(s, out value);
    }

    /// <summary>A C99 hex float; <paramref name="isHex"/> when the text starts like one.</summary>
    private static bool TryHex(ReadOnlySpan<byte> s, out double value, out bool isHex)
    {
        value = 0;
        isHex = false;
        int i = 0;
        bool neg = false;
        if (i < s.Length && (s[i] == (byte)'+' || s[i] == (byte)'-')) neg = s[i++] == (byte)'-';
        if (i + 1 >= s.Length || s[i] != (byte)'0' || (s[i + 1] | 0x20) != (byte)'x') return false;
        isHex = true;
        i += 2;
        double mant = 0;
        int exp = 0, digits = 0;
        bool point = false;
        for (; i < s.Length; i++)
        {
            byte c = s[i];
            int d = c is >= (byte)'0' and <= (byte)'9' ? c - '0' : (c | 0x20) is >= (byte)'a' and <= (byte)'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (d >= 0)
            {
                mant = mant * 16 + d;
                if (point) exp -= 4;
                digits++;
            }
            else if (c == (byte)'.' && !point) point = true;
            else break;
        }
        if (digits == 0) return false; // strtod would read "0" and stop at 'x': trailing text
        if (i < s.Length && (s[i] | 0x20) == (byte)'p')
        {
            i++;
            bool eneg = false;
            if (i < s.Length && (s[i] == (byte)'+' || s[i] == (byte)'-')) eneg = s[i++] == (byte)'-';
            int start = i, e = 0;
            for (; i < s.Length && s[i] is >= (byte)'0' and <= (byte)'9'; i++) e = Math.Min(e * 10 + (s[i] - '0'), 100_000);
            if (i == start) return false;
            exp += eneg ? -e : e;
        }
        if (i != s.Length) return false;
        value = Math.ScaleB(mant, exp);
        if (neg) value = -value;
        return true;
    }

    private static bool IsSpace(byte c) => c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
