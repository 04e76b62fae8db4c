namespace NativeKv.Server.Config;

/// <summary>Value parsers with Redis's rules and refusal texts (config.c).</summary>
public static class ConfigValues
{
    public static string YesNo(bool v) => v ? "yes" : "no";

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
        if (!long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, null, out long l))
            return "argument couldn't be parsed into an integer";
        if (l < min || l > max) return $"argument must be between {min} and {max} inclusive";
        value = (int)l;
        return null;
    }

    public static string? ParseLong(string v, long min, long max, out long value)
    {
        value = 0;
        if (!long.TryParse(v, System.Globalization.NumberStyles.AllowLeadingSign, null, out value))
            return "argument couldn't be parsed into an integer";
        if (value < min || value > max) return $"argument must be between {min} and {max} inclusive";
        return null;
    }

    /// <summary>Memory values: plain bytes or with k/kb/m/mb/g/gb (1000 vs 1024 as Redis's memtoull).</summary>
    public static string? ParseMemory(string v, long min, long max, out long value)
    {
        value = 0;
        if (!TryParseMemory(v, out value)) return "argument must be a memory value";
        if (value < min || value > max) return $"argument must be between {min} and {max} inclusive";
        return null;
    }

    public static bool TryParseMemory(string v, out long value)
    {
        value = 0;
        string s = v.Trim().ToLowerInvariant();
        long mul = 1;
        string digits = s;
        (string suffix, long m)[] units = [("kb", 1024), ("mb", 1024 * 1024), ("gb", 1024L * 1024 * 1024), ("k", 1000), ("m", 1000 * 1000), ("g", 1000L * 1000 * 1000), ("b", 1)];
        foreach (var (suffix, m) in units)
        {
            if (s.EndsWith(suffix, StringComparison.Ordinal))
            {
                mul = m;
                digits = s[..^suffix.Length];
                break;
            }
        }
        if (digits.Length == 0 || !long.TryParse(digits, System.Globalization.NumberStyles.None, null, out long n)) return false;
        try { value = checked(n * mul); } catch (OverflowException) { return false; }
        return true;
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

    /// <summary>"0,2-3" -> [0, 2, 3].</summary>
    public static string? ParseCpuList(string v, out int[] cpus)
    {
        var list = new List<int>();
        cpus = [];
        foreach (var part in v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (!int.TryParse(part, out int c) || c < 0 || c >= 1024) return $"invalid cpu list '{v}'";
                list.Add(c);
            }
            else
            {
                if (!int.TryParse(part[..dash], out int a) || !int.TryParse(part[(dash + 1)..], out int b) || a < 0 || b < a || b >= 1024)
                    return $"invalid cpu list '{v}'";
                for (int c = a; c <= b; c++) list.Add(c);
            }
        }
        cpus = list.ToArray();
        return null;
    }
}
