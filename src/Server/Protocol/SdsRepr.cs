using System.Globalization;
using System.Text;

namespace NativeKv.Server.Protocol;

/// <summary>
/// Redis's sdscatrepr: bytes as a double-quoted string, <c>\\ \" \n \r \t \a \b</c> escaped and any other byte outside
/// 0x20-0x7e as <c>\xNN</c> (MONITOR and SLOWLOG lines, CONFIG REWRITE, the --options of the start-up log).
/// </summary>
public static class SdsRepr
{
    public static void Append(StringBuilder sb, ReadOnlySpan<byte> s)
    {
        sb.Append('"');
        foreach (byte b in s)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                default:
                    if (b >= 0x20 && b <= 0x7e) sb.Append((char)b);
                    else sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>A string's UTF-8 bytes, quoted.</summary>
    public static string Of(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        Append(sb, Encoding.UTF8.GetBytes(value));
        return sb.ToString();
    }
}
