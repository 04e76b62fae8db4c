using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands.Diagnostics;

/// <summary>
/// How a command's arguments are shown to MONITOR and SLOWLOG: secrets replaced by "(redacted)" where
/// Redis 7.2 calls redactClientCommandArgument (AUTH, HELLO AUTH, CONFIG SET of a sensitive parameter),
/// and MONITOR's quoting (sdscatrepr).
/// </summary>
internal static class CommandArgs
{
    private static readonly int AuthIndex = CommandTable.Lookup("auth"u8);
    private static readonly int HelloIndex = CommandTable.Lookup("hello"u8);
    private static readonly int ConfigSetIndex = IntrospectionCommands.LookupByFullName("config|set"u8);

    /// <summary>Marks the redacted arguments in <paramref name="redacted"/> (one per argument, false when not).</summary>
    public static void MarkRedacted(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, Span<bool> redacted)
    {
        redacted.Clear();
        int argc = args.Length;
        int i = spec.Index;
        if (i == AuthIndex)
        {
            // authCommand: more than 3 arguments is a syntax error before anything is redacted.
            if (argc > 3) return;
            Mark(redacted, 1);
            if (argc == 3) Mark(redacted, 2);
        }
        else if (i == HelloIndex)
        {
            // helloCommand: the protocol version first (an error stops before the options), then each
            // AUTH user pass as it is met; a bad option or name ends the loop.
            if (argc >= 2)
            {
                if (!RespNumber.TryParseInt64(Arg(input, args, 1), out long ver) || ver < 2 || ver > 3) return;
            }
            for (int j = 2; j < argc; j++)
            {
                int more = argc - 1 - j;
                var opt = Arg(input, args, j);
                if (Ascii.EqualsIgnoreCase(opt, "AUTH"u8) && more >= 2)
                {
                    Mark(redacted, j + 1);
                    Mark(redacted, j + 2);
                    j += 2;
                }
                else if (Ascii.EqualsIgnoreCase(opt, "SETNAME"u8) && more > 0)
                {
                    foreach (byte b in Arg(input, args, j + 1))
                    {
                        if (b < '!' || b > '~') return; // clientSetName refuses it: HELLO stops there
                    }
                    j++;
                }
                else return;
            }
        }
        else if (i == ConfigSetIndex)
        {
            // configSetCommand redacts every sensitive value, even past an error.
            for (int j = 2; j + 1 < argc; j += 2)
            {
                var name = Arg(input, args, j);
                if (Ascii.EqualsIgnoreCase(name, "requirepass"u8) || Ascii.EqualsIgnoreCase(name, "masterauth"u8)
                    || Ascii.EqualsIgnoreCase(name, "masteruser"u8))
                    Mark(redacted, j + 1);
            }
        }
    }

    private static void Mark(Span<bool> redacted, int i)
    {
        if (i < redacted.Length) redacted[i] = true;
    }

    private static ReadOnlySpan<byte> Arg(ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, int i) => input.Slice(args[i].Offset, args[i].Length);

    private static readonly long EpochTicks = DateTime.UnixEpoch.Ticks;

    /// <summary>
    /// replicationFeedMonitors' line: <c>+seconds.micros [db addr] "arg" "arg"\r\n</c>, <c>[db lua]</c> for a
    /// script's commands, each argument quoted by sdscatrepr.
    /// </summary>
    public static byte[] MonitorLine(int db, string? peer, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        long micros = (DateTime.UtcNow.Ticks - EpochTicks) / 10;
        var sb = new StringBuilder(64);
        sb.Append('+').Append(micros / 1_000_000).Append('.').Append((micros % 1_000_000).ToString("D6"))
          .Append(" [").Append(db).Append(' ').Append(peer ?? "lua").Append("] ");
        Span<bool> redacted = args.Length <= 256 ? stackalloc bool[args.Length] : new bool[args.Length];
        MarkRedacted(spec, input, args, redacted);
        for (int j = 0; j < args.Length; j++)
        {
            if (redacted[j]) sb.Append("\"(redacted)\"");
            else Repr(sb, Arg(input, args, j));
            if (j != args.Length - 1) sb.Append(' ');
        }
        sb.Append("\r\n");
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <summary>sdscatrepr (<see cref="SdsRepr"/>).</summary>
    public static void Repr(StringBuilder sb, ReadOnlySpan<byte> s) => SdsRepr.Append(sb, s);
}
