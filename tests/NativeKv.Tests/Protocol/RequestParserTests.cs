using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Tests.Protocol;

public class RequestParserTests
{
    /// <summary>Feeds <paramref name="input"/> in chunks split at <paramref name="splits"/>, as a connection would.</summary>
    private static (List<string[]> commands, string? error) Feed(byte[] input, params int[] splits)
    {
        var parser = new RequestParser();
        var buffer = new byte[input.Length];
        int start = 0, end = 0, fed = 0;
        var commands = new List<string[]>();
        var cuts = splits.Concat([input.Length]).ToArray();
        foreach (var cut in cuts)
        {
            Buffer.BlockCopy(input, fed, buffer, end, cut - fed);
            end += cut - fed;
            fed = cut;
            while (true)
            {
                var span = buffer.AsSpan(start, end - start);
                var result = parser.Parse(span, out int consumed);
                if (result == ParseResult.Command)
                {
                    var args = new string[parser.ArgCount];
                    for (int i = 0; i < args.Length; i++)
                    {
                        var r = parser.Args[i];
                        args[i] = Encoding.Latin1.GetString(span.Slice(r.Offset, r.Length));
                    }
                    commands.Add(args);
                    start += consumed;
                }
                else if (result == ParseResult.Empty) start += consumed;
                else if (result == ParseResult.Error) return (commands, parser.Error);
                else break;
            }
        }
        return (commands, null);
    }

    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    [Test]
    public async Task Multibulk_command_is_parsed_in_place()
    {
        var (cmds, err) = Feed(B("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"));
        await Assert.That(err).IsNull();
        await Assert.That(cmds.Count).IsEqualTo(1);
        await Assert.That(string.Join("|", cmds[0])).IsEqualTo("SET|key|value");
    }

    [Test]
    public async Task Binary_safe_bulk_with_crlf_inside()
    {
        var (cmds, _) = Feed(B("*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n"));
        await Assert.That(cmds[0][1]).IsEqualTo("a\r\nb");
    }

    [Test]
    public async Task Empty_bulk_and_empty_multibulk()
    {
        var (cmds, err) = Feed(B("*0\r\n*-1\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"));
        await Assert.That(err).IsNull();
        await Assert.That(cmds.Count).IsEqualTo(1);
        await Assert.That(cmds[0][1]).IsEqualTo("");
    }

    [Test]
    public async Task Pipeline_split_at_every_byte_parses_the_same()
    {
        var sb = new StringBuilder();
        for (int i = 0; i < 20; i++) sb.Append($"*3\r\n$3\r\nSET\r\n${("k" + i).Length}\r\nk{i}\r\n$5\r\nv\r\nxy\r\n");
        sb.Append("PING inline \"quoted arg\" 'single'\r\n");
        sb.Append("*1\r\n$4\r\nPING\r\n");
        var input = B(sb.ToString());
        var (expected, _) = Feed(input);
        await Assert.That(expected.Count).IsEqualTo(22);
        for (int cut = 1; cut < input.Length; cut++)
        {
            var (got, err) = Feed(input, cut);
            await Assert.That(err).IsNull();
            await Assert.That(Flatten(got)).IsEqualTo(Flatten(expected));
        }
        // And byte by byte.
        var (single, _) = Feed(input, Enumerable.Range(1, input.Length - 1).ToArray());
        await Assert.That(Flatten(single)).IsEqualTo(Flatten(expected));
    }

    private static string Flatten(List<string[]> cmds) => string.Join("\n", cmds.Select(c => string.Join("|", c)));

    [Test]
    [Arguments("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [Arguments("*3000000000\r\n", "ERR Protocol error: invalid multibulk length")]
    [Arguments("*1\r\nfoo\r\n", "ERR Protocol error: expected '$', got 'f'")]
    [Arguments("*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length")]
    [Arguments("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length")]
    [Arguments("*1\r\n$600000000\r\n", "ERR Protocol error: invalid bulk length")]
    [Arguments("SET \"unbalanced\r\n", "ERR Protocol error: unbalanced quotes in request")]
    [Arguments("SET 'a'b\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public async Task Protocol_errors_match_redis(string input, string error)
    {
        var (_, err) = Feed(B(input));
        await Assert.That(err).IsEqualTo(error);
    }

    [Test]
    public async Task Too_big_inline_request()
    {
        var (_, err) = Feed(B(new string('a', 70 * 1024)));
        await Assert.That(err).IsEqualTo("ERR Protocol error: too big inline request");
    }

    [Test]
    public async Task Too_big_count_strings()
    {
        var (_, err) = Feed(B("*" + new string('1', 70 * 1024)));
        await Assert.That(err).IsEqualTo("ERR Protocol error: too big mbulk count string");
        var (_, err2) = Feed(B("*1\r\n$" + new string('1', 70 * 1024)));
        await Assert.That(err2).IsEqualTo("ERR Protocol error: too big bulk count string");
    }

    [Test]
    public async Task Inline_arguments_follow_sdssplitargs()
    {
        var (cmds, err) = Feed(B("SET \"a\\x41\\n\" 'it\\'s' plain\r\n   \r\nPING\n"));
        await Assert.That(err).IsNull();
        await Assert.That(cmds.Count).IsEqualTo(2);
        await Assert.That(cmds[0][1]).IsEqualTo("aA\n");
        await Assert.That(cmds[0][2]).IsEqualTo("it's");
        await Assert.That(cmds[0][3]).IsEqualTo("plain");
        await Assert.That(cmds[1][0]).IsEqualTo("PING");
    }

    [Test]
    public async Task Incomplete_big_bulk_reports_bytes_needed()
    {
        var parser = new RequestParser();
        var input = B("*2\r\n$3\r\nSET\r\n$1000000\r\nabc");
        var result = parser.Parse(input, out _);
        await Assert.That(result).IsEqualTo(ParseResult.Incomplete);
        await Assert.That(parser.BytesNeeded).IsEqualTo(4 + 9 + 10 + 1000000 + 2);
    }

    [Test]
    public async Task Unauthenticated_limits()
    {
        var parser = new RequestParser { Unauthenticated = true };
        var r = parser.Parse(B("*11\r\n"), out _);
        await Assert.That(r).IsEqualTo(ParseResult.Error);
        await Assert.That(parser.Error).IsEqualTo("ERR Protocol error: unauthenticated multibulk length");
    }

    [Test]
    [Arguments("0", true, 0L)]
    [Arguments("-1", true, -1L)]
    [Arguments("9223372036854775807", true, long.MaxValue)]
    [Arguments("-9223372036854775808", true, long.MinValue)]
    [Arguments("9223372036854775808", false, 0L)]
    [Arguments("01", false, 0L)]
    [Arguments("-0", false, 0L)]
    [Arguments("+1", false, 0L)]
    [Arguments(" 1", false, 0L)]
    [Arguments("", false, 0L)]
    [Arguments("1a", false, 0L)]
    public async Task Integer_parsing_is_string2ll(string text, bool ok, long value)
    {
        bool parsed = RespNumber.TryParseInt64(B(text), out long v);
        await Assert.That(parsed).IsEqualTo(ok);
        if (ok) await Assert.That(v).IsEqualTo(value);
    }
}
