using System.Globalization;
using System.Text;

namespace NativeKv.Server.Config;

/// <summary>Value parsers and formatters with Redis's rules and refusal texts (config.c, util.c, sds.c).</summary>
public static class ConfigValues
{
    public static string YesNo(bool v) => v ? "yes" : "no";

    /// <summary>Redis's yesnotoi: "yes"/"no", case-insensitive.</summary>
    public static string? ParseBool(string v, out bool value)
    {
        value = false;
        if (v.Equals("yes", StringComparison.OrdinalIgnoreCase)) { value = true; return null; }
        if (v.Equals("no", StringComparison.OrdinalIgnoreCase)) return null;
        return "argument must be 'yes' or 'no'";
    }

    public static string? ParseInt(string v, int min, int max, out int value)
    {
        value = 0;
        if (!TryParseStrictInt64(v, out long l)) return "argument couldn't be parsed into an integer";
        if (l < min || l > max) return $"argument must be between {min} and {max} inclusive";
        value = (int)l;
        return null;
    }

    public static string? ParseLong(string v, long min, long max, out long value)
    {
        if (!TryParseStrictInt64(v, out value)) return "argument couldn't be parsed into an integer";
        if (value < min || value > max) return $"argument must be between {min} and {max} inclusive";
        return null;
    }

    /// <summary>
    /// Redis's string2ll: an optional '-', no '+', no spaces, no leading zeros (except "0" itself),
    /// no overflow.
    /// </summary>
    public static bool TryParseStrictInt64(ReadOnlySpan<char> s, out long value)
    {
        value = 0;
        if (s.Length == 0 || s.Length >= 21) return false;
        if (s.Length == 1 && s[0] == '0') return true;
        int i = 0;
        bool negative = false;
        if (s[0] == '-')
        {
            negative = true;
            i = 1;
            if (s.Length == 1) return false;
        }
        if (s[i] < '1' || s[i] > '9') return false;
        ulong v = (ulong)(s[i] - '0');
        for (i++; i < s.Length; i++)
        {
            char c = s[i];
            if (c < '0' || c > '9') return false;
            if (v > ulong.MaxValue / 10) return false;
            v *= 10;
            if (v > ulong.MaxValue - (ulong)(c - '0')) return false;
            v += (ulong)(c - '0');
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

    /// <summary>
    /// C's strtoll(s, &amp;end, 10) followed by a check that the whole string was consumed, as
    /// Redis's save / oom-score-adj-values / client-output-buffer-limit parsers do: leading white
    /// space and a sign are allowed, an empty string reads as 0, overflow saturates.
    /// </summary>
    public static bool TryParseStrtoll(string s, out long value)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && IsCSpace(s[i])) i++;
        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            negative = s[i] == '-';
            i++;
        }
        int digitsStart = i;
        ulong acc = 0;
        bool overflow = false;
        while (i < s.Length && s[i] >= '0' && s[i] <= '9')
        {
            ulong d = (ulong)(s[i] - '0');
            if (acc > (ulong.MaxValue - d) / 10) overflow = true;
            else acc = acc * 10 + d;
            i++;
        }
        // No digits: strtoll converts nothing and leaves end at the start of the string.
        if (i == digitsStart) return s.Length == 0;
        if (i != s.Length) return false;
        if (negative) value = overflow || acc > (ulong)long.MaxValue + 1 ? long.MinValue : (long)(0 - acc);
        else value = overflow || acc > long.MaxValue ? long.MaxValue : (long)acc;
        return true;
    }

    private static bool IsCSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>Memory values: plain bytes or with k/kb/m/mb/g/gb (1000 vs 1024 as Redis's memtoull).</summary>
    public static string? ParseMemory(string v, long min, long max, out long value)
    {
        if (!TryParseMemory(v, out value)) return "argument must be a memory value";
        if (value < min || value > max) return $"argument must be between {min} and {max} inclusive";
        return null;
    }

    /// <summary>
    /// Redis's memtoull as a signed 64-bit value: "1k" = 1000, "1kb" = 1024, units case-insensitive,
    /// no sign, no spaces; an empty number reads as 0 (as in Redis, so "" and "kb" are 0). Unlike
    /// Redis, a value that does not fit (Redis silently wraps) is refused.
    /// </summary>
    public static bool TryParseMemory(string v, out long value)
    {
        value = 0;
        if (!TryParseMemoryUnsigned(v, out ulong u) || u > long.MaxValue) return false;
        value = (long)u;
        return true;
    }

    /// <summary>memtoull over the full unsigned range (maxmemory goes up to 2^64-1).</summary>
    public static bool TryParseMemoryUnsigned(string v, out ulong value)
    {
        value = 0;
        if (v.Length > 0 && v[0] == '-') return false;
        int u = 0;
        while (u < v.Length && v[u] >= '0' && v[u] <= '9') u++;
        var unit = v.AsSpan(u);
        ulong mul;
        if (unit.Length == 0 || unit.Equals("b", StringComparison.OrdinalIgnoreCase)) mul = 1;
        else if (unit.Equals("k", StringComparison.OrdinalIgnoreCase)) mul = 1000;
        else if (unit.Equals("kb", StringComparison.OrdinalIgnoreCase)) mul = 1024;
        else if (unit.Equals("m", StringComparison.OrdinalIgnoreCase)) mul = 1000 * 1000;
        else if (unit.Equals("mb", StringComparison.OrdinalIgnoreCase)) mul = 1024 * 1024;
        else if (unit.Equals("g", StringComparison.OrdinalIgnoreCase)) mul = 1000UL * 1000 * 1000;
        else if (unit.Equals("gb", StringComparison.OrdinalIgnoreCase)) mul = 1024UL * 1024 * 1024;
        else return false;
        if (u >= 128) return false;
        ulong n = 0;
        for (int i = 0; i < u; i++)
        {
            ulong d = (ulong)(v[i] - '0');
            if (n > (ulong.MaxValue - d) / 10) return false;
            n = n * 10 + d;
        }
        if (n != 0 && mul > ulong.MaxValue / n) return false;
        value = n * mul;
        return true;
    }

    /// <summary>CONFIG REWRITE's memory notation: 1gb, 64mb, 3kb or plain bytes.</summary>
    public static string FormatMemory(long bytes)
    {
        const long gb = 1024L * 1024 * 1024, mb = 1024 * 1024, kb = 1024;
        if (bytes != 0 && bytes % gb == 0) return (bytes / gb).ToString(CultureInfo.InvariantCulture) + "gb";
        if (bytes != 0 && bytes % mb == 0) return (bytes / mb).ToString(CultureInfo.InvariantCulture) + "mb";
        if (bytes != 0 && bytes % kb == 0) return (bytes / kb).ToString(CultureInfo.InvariantCulture) + "kb";
        return bytes.ToString(CultureInfo.InvariantCulture);
    }

    public static string? ParseEnum(string v, string[] allowed, out string value)
    {
        foreach (var a in allowed)
        {
            if (a.Equals(v, StringComparison.OrdinalIgnoreCase)) { value = a; return null; }
        }
        value = "";
        return "argument(s) must be one of the following: " + string.Join(", ", allowed);
    }

    /// <summary>
    /// CPU lists as Redis's server_cpulist takes them: "0,2-3" -> [0, 2, 3]; a range may take a
    /// step, "0-7:2" -> [0, 2, 4, 6]. Empty means no pinning.
    /// </summary>
    public static string? ParseCpuList(string v, out int[] cpus)
    {
        var list = new List<int>();
        cpus = [];
        foreach (var part in v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int step = 1;
            var range = part;
            int colon = part.IndexOf(':');
            if (colon >= 0)
            {
                if (!int.TryParse(part.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1)
                    return $"invalid cpu list '{v}'";
                range = part[..colon];
            }
            int dash = range.IndexOf('-');
            if (dash < 0)
            {
                if (colon >= 0 || !int.TryParse(range, NumberStyles.None, CultureInfo.InvariantCulture, out int c) || c >= 1024)
                    return $"invalid cpu list '{v}'";
                list.Add(c);
            }
            else
            {
                if (!int.TryParse(range.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out int a) ||
                    !int.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int b) || b < a || b >= 1024)
                    return $"invalid cpu list '{v}'";
                for (int c = a; c <= b; c += step) list.Add(c);
            }
        }
        cpus = list.ToArray();
        return null;
    }

    /// <summary>Redis's sdscatrepr: a double-quoted string with C escapes (CONFIG REWRITE, --options).</summary>
    public static string Repr(string value) => Protocol.SdsRepr.Of(value);

    /// <summary>Keyspace notification classes "KEA" -> flags, as notify.c; -1 on an unknown class.</summary>
    public static int ParseKeyspaceEvents(string classes)
    {
        int flags = 0;
        foreach (char c in classes)
        {
            switch (c)
            {
                case 'A': flags |= KeyspaceEvents.All; break;
                case 'g': flags |= KeyspaceEvents.Generic; break;
                case '$': flags |= KeyspaceEvents.String; break;
                case 'l': flags |= KeyspaceEvents.List; break;
                case 's': flags |= KeyspaceEvents.Set; break;
                case 'h': flags |= KeyspaceEvents.Hash; break;
                case 'z': flags |= KeyspaceEvents.ZSet; break;
                case 'x': flags |= KeyspaceEvents.Expired; break;
                case 'e': flags |= KeyspaceEvents.Evicted; break;
                case 'K': flags |= KeyspaceEvents.Keyspace; break;
                case 'E': flags |= KeyspaceEvents.Keyevent; break;
                case 't': flags |= KeyspaceEvents.Stream; break;
                case 'm': flags |= KeyspaceEvents.KeyMiss; break;
                case 'd': flags |= KeyspaceEvents.Module; break;
                case 'n': flags |= KeyspaceEvents.New; break;
                default: return -1;
            }
        }
        return flags;
    }

    /// <summary>The reverse of <see cref="ParseKeyspaceEvents"/>, in Redis's canonical order.</summary>
    public static string FormatKeyspaceEvents(int flags)
    {
        var sb = new StringBuilder();
        if ((flags & KeyspaceEvents.All) == KeyspaceEvents.All)
        {
            sb.Append('A');
        }
        else
        {
            if ((flags & KeyspaceEvents.Generic) != 0) sb.Append('g');
            if ((flags & KeyspaceEvents.String) != 0) sb.Append('$');
            if ((flags & KeyspaceEvents.List) != 0) sb.Append('l');
            if ((flags & KeyspaceEvents.Set) != 0) sb.Append('s');
            if ((flags & KeyspaceEvents.Hash) != 0) sb.Append('h');
            if ((flags & KeyspaceEvents.ZSet) != 0) sb.Append('z');
            if ((flags & KeyspaceEvents.Expired) != 0) sb.Append('x');
            if ((flags & KeyspaceEvents.Evicted) != 0) sb.Append('e');
            if ((flags & KeyspaceEvents.Stream) != 0) sb.Append('t');
            if ((flags & KeyspaceEvents.Module) != 0) sb.Append('d');
            if ((flags & KeyspaceEvents.New) != 0) sb.Append('n');
        }
        if ((flags & KeyspaceEvents.Keyspace) != 0) sb.Append('K');
        if ((flags & KeyspaceEvents.Keyevent) != 0) sb.Append('E');
        if ((flags & KeyspaceEvents.KeyMiss) != 0) sb.Append('m');
        return sb.ToString();
    }
}

/// <summary>notify-keyspace-events class bits, numbered as Redis's NOTIFY_* constants.</summary>
public static class KeyspaceEvents
{
    /// <summary>
    /// The server's notify-keyspace-events now (<see cref="ServerConfig.NotifyKeyspaceEvents"/> writes it): one static
    /// field, so a command with notifications off pays one load and one branch.
    /// </summary>
    public static int Enabled;

    public const int Keyspace = 1 << 0;   // K
    public const int Keyevent = 1 << 1;   // E
    public const int Generic = 1 << 2;    // g
    public const int String = 1 << 3;     // $
    public const int List = 1 << 4;       // l
    public const int Set = 1 << 5;        // s
    public const int Hash = 1 << 6;       // h
    public const int ZSet = 1 << 7;       // z
    public const int Expired = 1 << 8;    // x
    public const int Evicted = 1 << 9;    // e
    public const int Stream = 1 << 10;    // t
    public const int KeyMiss = 1 << 11;   // m (not part of A)
    public const int Loaded = 1 << 12;    // module only
    public const int Module = 1 << 13;    // d
    public const int New = 1 << 14;       // n (not part of A)
    public const int All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module;
}
