using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>
/// The cursor and options of SCAN, HSCAN and SSCAN (ZSCAN next), with Redis 7.2's rules:
/// parseScanCursorOrReply and scanGenericCommand's COUNT / MATCH / TYPE loop.
/// </summary>
internal ref struct ScanArgs
{
    /// <summary>COUNT (10 when not given).</summary>
    public long Count;
    /// <summary>MATCH; empty when not given or "*" (everything matches).</summary>
    public ReadOnlySpan<byte> Pattern;
    /// <summary>TYPE was given (SCAN only); an unknown type name leaves <see cref="Type"/> None and matches nothing.</summary>
    public bool TypeGiven;
    public KeyType Type;

    public readonly bool Matches(ReadOnlySpan<byte> s) => Pattern.IsEmpty || GlobMatcher.Match(Pattern, s);

    /// <summary>
    /// parseScanCursorOrReply (7.0 and 7.2 alike; Redis 8 moved to string2ull): strtoul's rules, so a sign
    /// is taken ("-1" is 2^64-1) and "" is 0, but not a leading space, trailing bytes or overflow.
    /// False after replying "ERR invalid cursor".
    /// </summary>
    public static bool TryParseCursor(ref CommandContext ctx, int arg, out ulong cursor)
    {
        if (TryParseCursor(ctx[arg], out cursor)) return true;
        ctx.Reply.Error("ERR invalid cursor");
        return false;
    }

    internal static bool TryParseCursor(ReadOnlySpan<byte> s, out ulong cursor)
    {
        cursor = 0;
        if (s.IsEmpty) return true; // strtoul converts nothing and leaves eptr at the terminator
        if (s[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r') return false;
        int i = 0;
        bool negative = false;
        if (s[0] is (byte)'+' or (byte)'-') negative = s[i++] == (byte)'-';
        if (i == s.Length) return false; // a sign alone: nothing converted, eptr at the sign
        ulong v = 0;
        for (; i < s.Length; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9 || v > (ulong.MaxValue - d) / 10) return false; // trailing bytes, or ERANGE
            v = v * 10 + d;
        }
        cursor = negative ? unchecked(0UL - v) : v;
        return true;
    }

    /// <summary>
    /// The options from argument <paramref name="first"/> on (TYPE only when <paramref name="allowType"/>,
    /// as Redis allows it for SCAN alone). False after replying the error.
    /// </summary>
    public static bool TryParse(ref CommandContext ctx, int first, bool allowType, out ScanArgs args)
    {
        args = new ScanArgs { Count = 10 };
        for (int j = first; j < ctx.Count; j++)
        {
            bool hasNext = j < ctx.Count - 1;
            if (ctx.ArgIs(j, "COUNT"u8) && hasNext)
            {
                if (!ctx.TryGetLong(j + 1, out args.Count))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return false;
                }
                if (args.Count < 1)
                {
                    ctx.Reply.Error("ERR syntax error");
                    return false;
                }
                j++;
            }
            else if (ctx.ArgIs(j, "MATCH"u8) && hasNext)
            {
                args.Pattern = ctx[++j];
                if (args.Pattern.Length == 1 && args.Pattern[0] == (byte)'*') args.Pattern = default;
            }
            else if (allowType && ctx.ArgIs(j, "TYPE"u8) && hasNext)
            {
                args.TypeGiven = true;
                args.Type = TypeByName(ctx[++j]);
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return false;
            }
        }
        return true;
    }

    /// <summary>getObjectTypeByName; None for a name Redis does not know (7.2 then matches nothing).</summary>
    private static KeyType TypeByName(ReadOnlySpan<byte> s)
    {
        foreach (var t in (ReadOnlySpan<KeyType>)[KeyType.String, KeyType.List, KeyType.Set, KeyType.ZSet, KeyType.Hash, KeyType.Stream])
        {
            if (System.Text.Ascii.EqualsIgnoreCase(s, ValueLayout.TypeName(t))) return t;
        }
        return KeyType.None;
    }
}
