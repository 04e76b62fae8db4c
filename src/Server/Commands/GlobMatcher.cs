namespace NativeKv.Server.Commands;

/// <summary>
/// Redis's glob-style matcher (util.c stringmatchlen): <c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[^a]</c>,
/// <c>[a-z]</c> and <c>\x</c> escapes over raw bytes, with the same edge cases (an unterminated
/// <c>[</c> class, reversed ranges, a trailing backslash) and the same early exit that keeps
/// patterns like <c>a*a*a*a*b</c> from going exponential. Used by CONFIG GET, KEYS, SCAN MATCH.
/// </summary>
public static class GlobMatcher
{
    /// <summary>Case-sensitive match of <paramref name="text"/> against <paramref name="pattern"/>.</summary>
    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text) => Match(pattern, text, nocase: false);

    /// <summary>ASCII case-insensitive match (Redis's nocase flag).</summary>
    public static bool MatchNoCase(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text) => Match(pattern, text, nocase: true);

    public static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool nocase)
    {
        bool skipLongerMatches = false;
        return MatchImpl(pattern, text, nocase, ref skipLongerMatches, 0);
    }

    /// <summary>True when the pattern has no glob metacharacters Redis looks for ([, * or ?).</summary>
    public static bool IsLiteral(ReadOnlySpan<byte> pattern) => pattern.IndexOfAny("[*?"u8) < 0;

    private static byte Lower(byte b) => b >= 'A' && b <= 'Z' ? (byte)(b + 32) : b;

    // Reads pattern[i] as C would read a NUL-terminated buffer: past the end is '\0'.
    private static byte At(ReadOnlySpan<byte> s, int i) => (uint)i < (uint)s.Length ? s[i] : (byte)0;

    private static bool MatchImpl(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, bool nocase, ref bool skipLongerMatches, int nesting)
    {
        // Redis recurses once per '*'; a pattern of thousands of stars would overflow the stack.
        // Consecutive stars collapse, so nesting is bounded by the number of star groups.
        if (nesting > 1000) return false;
        int p = 0, plen = pattern.Length;
        int s = 0, slen = text.Length;
        while (plen > 0 && slen > 0)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (plen > 1 && pattern[p + 1] == '*')
                    {
                        p++;
                        plen--;
                    }
                    if (plen == 1) return true;
                    while (slen > 0)
                    {
                        if (MatchImpl(pattern.Slice(p + 1, plen - 1), text.Slice(s, slen), nocase, ref skipLongerMatches, nesting + 1))
                            return true;
                        if (skipLongerMatches) return false;
                        s++;
                        slen--;
                    }
                    skipLongerMatches = true;
                    return false;
                case (byte)'?':
                    s++;
                    slen--;
                    break;
                case (byte)'[':
                {
                    p++;
                    plen--;
                    bool not = At(pattern, p) == '^';
                    if (not)
                    {
                        p++;
                        plen--;
                    }
                    bool match = false;
                    byte c0 = text[s];
                    while (true)
                    {
                        if (At(pattern, p) == '\\' && plen >= 2)
                        {
                            p++;
                            plen--;
                            if (pattern[p] == c0) match = true;
                        }
                        else if (At(pattern, p) == ']' && plen > 0)
                        {
                            break;
                        }
                        else if (plen == 0)
                        {
                            p--;
                            plen++;
                            break;
                        }
                        else if (plen >= 3 && pattern[p + 1] == '-')
                        {
                            int start = pattern[p];
                            int end = pattern[p + 2];
                            int c = c0;
                            if (start > end) (start, end) = (end, start);
                            if (nocase)
                            {
                                start = Lower((byte)start);
                                end = Lower((byte)end);
                                c = Lower((byte)c);
                            }
                            p += 2;
                            plen -= 2;
                            if (c >= start && c <= end) match = true;
                        }
                        else
                        {
                            if (!nocase)
                            {
                                if (pattern[p] == c0) match = true;
                            }
                            else if (Lower(pattern[p]) == Lower(c0))
                            {
                                match = true;
                            }
                        }
                        p++;
                        plen--;
                    }
                    if (not) match = !match;
                    if (!match) return false;
                    s++;
                    slen--;
                    break;
                }
                case (byte)'\\':
                    if (plen >= 2)
                    {
                        p++;
                        plen--;
                    }
                    goto default;
                default:
                    if (!nocase)
                    {
                        if (pattern[p] != text[s]) return false;
                    }
                    else if (Lower(pattern[p]) != Lower(text[s]))
                    {
                        return false;
                    }
                    s++;
                    slen--;
                    break;
            }
            p++;
            plen--;
            if (slen == 0)
            {
                while (plen > 0 && pattern[p] == '*')
                {
                    p++;
                    plen--;
                }
                break;
            }
        }
        return plen == 0 && slen == 0;
    }
}
