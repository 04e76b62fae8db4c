namespace NativeKv.Server.Protocol;

/// <summary>
/// Redis's sdssplitargs, shared by inline requests and config lines: spaces separate,
/// "double quotes" take \n \r \t \b \a \xHH and \c escapes, 'single quotes' take \' only, and a
/// closing quote must be followed by a space or the end. Arguments are decoded in place (the
/// decoded form is never longer), so nothing is allocated.
/// </summary>
public static class SdsSplitArgs
{
    /// <summary>Splits <paramref name="line"/>; false on unbalanced quotes.</summary>
    public static bool Split(Span<byte> line, ref ArgRange[] args, out int count)
    {
        count = 0;
        // sdssplitargs reads a C string: a NUL ends the line.
        int nul = line.IndexOf((byte)0);
        if (nul >= 0) line = line[..nul];
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsSpace(line[p])) p++;
            if (p >= line.Length) return true;
            int start = p, w = p;
            bool inDq = false, inSq = false, done = false;
            while (!done)
            {
                if (inDq)
                {
                    if (p >= line.Length) return false;
                    byte c = line[p];
                    if (c == '\\' && p + 3 < line.Length && line[p + 1] == 'x' && HexValue(line[p + 2]) >= 0 && HexValue(line[p + 3]) >= 0)
                    {
                        line[w++] = (byte)(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        line[w++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            var other => other,
                        };
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1])) return false;
                        done = true;
                    }
                    else
                    {
                        line[w++] = c;
                    }
                }
                else if (inSq)
                {
                    if (p >= line.Length) return false;
                    byte c = line[p];
                    if (c == '\\' && p + 1 < line.Length && line[p + 1] == '\'')
                    {
                        p++;
                        line[w++] = (byte)'\'';
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !IsSpace(line[p + 1])) return false;
                        done = true;
                    }
                    else
                    {
                        line[w++] = c;
                    }
                }
                else
                {
                    if (p >= line.Length) break;
                    byte c = line[p];
                    if (c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') done = true;
                    else if (c == '"') inDq = true;
                    else if (c == '\'') inSq = true;
                    else line[w++] = c;
                }
                if (p < line.Length) p++;
            }
            if (count == args.Length) Array.Resize(ref args, args.Length * 2);
            args[count++] = new ArgRange(start, w - start);
        }
    }

    /// <summary>C's isspace in the "C" locale.</summary>
    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f';

    private static int HexValue(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
