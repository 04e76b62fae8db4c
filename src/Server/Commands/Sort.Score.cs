using System.Globalization;

namespace NativeKv.Server.Commands;

/// <summary>
/// SORT's numeric weight: C's strtod over the value, as sortCommandGeneric calls it, accepted when the
/// whole string was read (up to a NUL, where C's string ends), it did not overflow or underflow (ERANGE) and
/// is not NaN. So leading spaces, hex ("0x1p3"), "inf" and "infinity" are numbers, and an empty string
/// is 0 (strtod reads nothing and stops at its end); "", "  " differ: spaces alone are not a number.
/// </summary>
internal static class SortScore
{
    public static bool TryParse(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        int nul = s.IndexOf((byte)0);
        if (nul >= 0) s = s[..nul];
        if (s.Length == 0) return true;
        int i = 0;
        while (i < s.Length && IsSpace(s[i])) i++;
        bool neg = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
        var body = s[i..];
        if (StartsWithIgnoreCase(body, "inf"u8))
        {
            int len = StartsWithIgnoreCase(body, "infinity"u8) ? 8 : 3;
            value = neg ? double.NegativeInfinity : double.PositiveInfinity;
            return len == body.Length;
        }
        if (StartsWithIgnoreCase(body, "nan"u8)) return false; // NaN is refused whatever follows
        if (body.Length > 2 && body[0] == '0' && (body[1] | 0x20) == 'x' && TryHex(body[2..], out double hex, out bool hexWhole))
        {
            value = neg ? -hex : hex;
            return hexWhole && !double.IsInfinity(hex) && !Underflowed(hex, nonZero: true);
        }
        // Decimal: digits [. digits] [e [sign] digits]; at least one digit.
        int j = 0, digits = 0;
        bool nonZero = false;
        while (j < body.Length && IsDigit(body[j])) { nonZero |= body[j] != '0'; j++; digits++; }
        if (j < body.Length && body[j] == '.')
        {
            j++;
            while (j < body.Length && IsDigit(body[j])) { nonZero |= body[j] != '0'; j++; digits++; }
        }
        if (digits == 0) return false; // nothing converted: strtod's end is the start, not the string's end
        if (j < body.Length && (body[j] | 0x20) == 'e')
        {
            int k = j + 1;
            if (k < body.Length && (body[k] == '+' || body[k] == '-')) k++;
            if (k < body.Length && IsDigit(body[k]))
            {
                while (k < body.Length && IsDigit(body[k])) k++;
                j = k;
            }
        }
        if (j != body.Length) return false;
        Span<char> text = body.Length <= 256 ? stackalloc char[body.Length] : new char[body.Length];
        for (int k = 0; k < body.Length; k++) text[k] = (char)body[k];
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d)) return false;
        value = neg ? -d : d;
        return !double.IsInfinity(d) && !Underflowed(d, nonZero);
    }

    /// <summary>glibc's strtod sets ERANGE when a nonzero number comes out zero or subnormal.</summary>
    private static bool Underflowed(double d, bool nonZero) => nonZero && Math.Abs(d) < MinNormal;

    /// <summary>A hex float's digits after "0x": [hex] [. hex] [p [sign] digits]; false when no digit follows.</summary>
    private static bool TryHex(ReadOnlySpan<byte> s, out double value, out bool whole)
    {
        value = 0;
        whole = false;
        double mantissa = 0;
        int j = 0, digits = 0, scale = 0;
        while (j < s.Length && HexValue(s[j]) >= 0) { mantissa = mantissa * 16 + HexValue(s[j]); j++; digits++; }
        if (j < s.Length && s[j] == '.')
        {
            j++;
            while (j < s.Length && HexValue(s[j]) >= 0) { mantissa = mantissa * 16 + HexValue(s[j]); scale -= 4; j++; digits++; }
        }
        if (digits == 0) return false;
        long exp = 0;
        if (j < s.Length && (s[j] | 0x20) == 'p')
        {
            int k = j + 1;
            bool negExp = false;
            if (k < s.Length && (s[k] == '+' || s[k] == '-')) negExp = s[k++] == '-';
            if (k < s.Length && IsDigit(s[k]))
            {
                while (k < s.Length && IsDigit(s[k])) { if (exp < 100000) exp = exp * 10 + (s[k] - '0'); k++; }
                if (negExp) exp = -exp;
                j = k;
            }
        }
        value = Math.ScaleB(mantissa, (int)(exp + scale));
        whole = j == s.Length;
        return true;
    }

    private const double MinNormal = 2.2250738585072014E-308;

    private static int HexValue(byte b) => b >= '0' && b <= '9' ? b - '0' : (b | 0x20) >= 'a' && (b | 0x20) <= 'f' ? (b | 0x20) - 'a' + 10 : -1;

    private static bool IsDigit(byte b) => b >= '0' && b <= '9';

    private static bool IsSpace(byte c) => c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> s, ReadOnlySpan<byte> lower)
    {
        if (s.Length < lower.Length) return false;
        for (int i = 0; i < lower.Length; i++)
            if ((s[i] | 0x20) != lower[i]) return false;
        return true;
    }
}
