using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Storage;

/// <summary>Integer and float text as Redis's string commands read and write it.</summary>
public static class NumberFormat
{
    /// <summary>Bytes a number's text may need: <see cref="FormatHuman"/> of 1e308 is 309.</summary>
    public const int MaxText = 400;

    /// <summary>
    /// Redis string2ll (as <see cref="RespNumber.TryParseInt64"/>): optional '-', no '+', no leading
    /// zeros, no spaces, no overflow. Up to 18 digits cannot overflow, so they take a loop with no
    /// checks but the digit test (INCR parses its value on every call; the checked loop divided per digit).
    /// </summary>
    public static bool TryParseLong(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        int len = s.Length;
        if ((uint)(len - 1) >= 20) return false;
        int i = 0;
        bool negative = s[0] == (byte)'-';
        if (negative) i = 1;
        int digits = len - i;
        if (digits == 0) return false;
        uint first = (uint)(s[i] - '0');
        if (first > 9 || (first == 0 && (len != 1))) return false; // "0" alone; no "-0", no "01"
        if (digits <= 18)
        {
            long v = first;
            for (i++; i < len; i++)
            {
                uint d = (uint)(s[i] - '0');
                if (d > 9) return false;
                v = v * 10 + d;
            }
            value = negative ? -v : v;
            return true;
        }
        return RespNumber.TryParseInt64(s, out value);
    }

    /// <summary>Redis string2ld-like: no spaces, no trailing garbage; "inf" forms parse as infinity.</summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> s, out double value)
    {
        value = 0;
        if (s.Length == 0 || s.Length > 5000) return false;
        byte first = s[0], last = s[^1];
        if (IsSpace(first) || IsSpace(last)) return false;
        var body = s;
        bool neg = false;
        if (body[0] == (byte)'-' || body[0] == (byte)'+')
        {
            neg = body[0] == (byte)'-';
            body = body[1..];
        }
        if (Ascii.EqualsIgnoreCase(body, "inf"u8) || Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            value = neg ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (body.Length == 0) return false;
        foreach (byte b in body)
        {
            if (!((b >= '0' && b <= '9') || b == '.' || b == 'e' || b == 'E' || b == '-' || b == '+')) return false;
        }
        if (!Utf8Parser.TryParse(s, out double d, out int consumed) || consumed != s.Length)
        {
            Span<char> tmp = s.Length <= 256 ? stackalloc char[s.Length] : new char[s.Length];
            for (int i = 0; i < s.Length; i++) tmp[i] = (char)s[i];
            if (!double.TryParse(tmp, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return false;
        }
        if (double.IsNaN(d)) return false;
        value = d;
        return true;
    }

    private static bool IsSpace(byte c) => c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';

    /// <summary>
    /// Redis's "human" long double text (INCRBYFLOAT): no exponent, shortest digits that read back
    /// as the same double, no trailing zeros. Returns the byte count (dest needs 400 bytes).
    /// </summary>
    public static int FormatHuman(double value, Span<byte> dest)
    {
        if (value == 0) { dest[0] = (byte)'0'; return 1; }
        Span<char> r = stackalloc char[40];
        value.TryFormat(r, out int n, "R", CultureInfo.InvariantCulture);
        r = r[..n];
        int e = r.IndexOf('E');
        if (e < 0)
        {
            for (int i = 0; i < n; i++) dest[i] = (byte)r[i];
            return n;
        }
        // Expand d.dddE±x into plain decimal.
        int p = 0;
        var mant = r[..e];
        int exp = int.Parse(r[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        if (mant[0] == '-') { dest[p++] = (byte)'-'; mant = mant[1..]; }
        Span<char> digits = stackalloc char[24];
        int nd = 0, intDigits = 0;
        bool seenDot = false;
        foreach (char c in mant)
        {
            if (c == '.') { seenDot = true; continue; }
            digits[nd++] = c;
            if (!seenDot) intDigits++;
        }
        int point = intDigits + exp; // digits before the decimal point
        if (point <= 0)
        {
            dest[p++] = (byte)'0';
            dest[p++] = (byte)'.';
            for (int i = 0; i < -point; i++) dest[p++] = (byte)'0';
            for (int i = 0; i < nd; i++) dest[p++] = (byte)digits[i];
        }
        else if (point >= nd)
        {
            for (int i = 0; i < nd; i++) dest[p++] = (byte)digits[i];
            for (int i = nd; i < point; i++) dest[p++] = (byte)'0';
        }
        else
        {
            for (int i = 0; i < point; i++) dest[p++] = (byte)digits[i];
            dest[p++] = (byte)'.';
            for (int i = point; i < nd; i++) dest[p++] = (byte)digits[i];
        }
        return p;
    }

    public static int FormatLong(long v, Span<byte> dest) => RespNumber.Format(v, dest);

    /// <summary>Characters of <paramref name="v"/>'s decimal text, sign included (1..20).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int DigitCount(long v)
    {
        ulong u = v < 0 ? 0 - (ulong)v : (ulong)v;
        // Digits from log2 (1233/4096 ~ log10(2)), corrected by one comparison; 0 has one digit.
        int log10 = (BitOperations.Log2(u) + 1) * 1233 >> 12;
        int digits = log10 + (u >= PowersOf10[log10] ? 1 : 0);
        return Math.Max(digits, 1) + (v < 0 ? 1 : 0);
    }

    private static ReadOnlySpan<ulong> PowersOf10 =>
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000,
        10_000_000_000, 100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000,
        1_000_000_000_000_000, 10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000,
        10_000_000_000_000_000_000,
    ];

    /// <summary>Writes <paramref name="v"/>'s decimal text, exactly <paramref name="n"/> = <see cref="DigitCount"/> bytes, at <paramref name="dest"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void WriteDigits(long v, byte* dest, int n)
    {
        ulong u = v < 0 ? 0 - (ulong)v : (ulong)v;
        if (v < 0) *dest = (byte)'-';
        byte* p = dest + n;
        ref byte pairs = ref MemoryMarshal.GetReference(DigitPairs);
        while (u >= 100)
        {
            ulong q = u / 100;
            int r = (int)(u - q * 100) * 2;
            u = q;
            p -= 2;
            p[0] = Unsafe.Add(ref pairs, r);
            p[1] = Unsafe.Add(ref pairs, r + 1);
        }
        if (u >= 10)
        {
            p -= 2;
            p[0] = Unsafe.Add(ref pairs, (int)u * 2);
            p[1] = Unsafe.Add(ref pairs, (int)u * 2 + 1);
        }
        else
        {
            *--p = (byte)('0' + u);
        }
    }

    private static ReadOnlySpan<byte> DigitPairs =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"u8;
}
