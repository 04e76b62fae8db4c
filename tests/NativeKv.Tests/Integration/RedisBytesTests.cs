using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Replies compared byte for byte with what redis-server 7.0.15 sent for the same request
/// (recorded with a raw socket, --save "" --appendonly no): errors that quote a client's binary
/// argument keep its bytes (cut at a NUL and at 128 bytes, as printf's %.128s), COMMAND INFO's
/// unknown names, INFO's avg_ttl.
/// </summary>
public class RedisBytesTests
{
    private static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static byte[] Cmd(params string[] args) => RespClient.Encode(args.Select(a => (object)B(a)).ToArray());

    /// <summary>Sends <paramref name="request"/> and reads exactly as many bytes as Redis answered, then checks nothing more came.</summary>
    private static async Task ExpectBytes(RespClient c, byte[] request, string expected)
    {
        c.SendRaw(request);
        var want = B(expected);
        var got = new byte[want.Length];
        int n = 0;
        c.Socket.ReceiveTimeout = 10_000;
        while (n < got.Length)
        {
            int r = c.Socket.Receive(got, n, got.Length - n, System.Net.Sockets.SocketFlags.None);
            if (r == 0) break;
            n += r;
        }
        await Assert.That(Encoding.Latin1.GetString(got, 0, n)).IsEqualTo(expected);
        // The next reply must be the PING's: nothing extra was written after the expected bytes.
        c.SendRaw("PING\r\n");
        var pong = new byte[7];
        int p = 0;
        while (p < pong.Length) { int r = c.Socket.Receive(pong, p, pong.Length - p, System.Net.Sockets.SocketFlags.None); if (r == 0) break; p += r; }
        await Assert.That(Encoding.Latin1.GetString(pong, 0, p)).IsEqualTo("+PONG\r\n");
    }

    [Test]
    public async Task Command_info_unknown_name_is_a_null_inside_the_array()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await ExpectBytes(c, Cmd("COMMAND", "INFO", "nosuch"), "*1\r\n$-1\r\n");
        await ExpectBytes(c, Cmd("COMMAND", "INFO", "nosuch", "foo"), "*2\r\n$-1\r\n$-1\r\n");
        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        await ExpectBytes(c, Cmd("COMMAND", "INFO", "nosuch"), "*1\r\n_\r\n");
        await ExpectBytes(c, Cmd("COMMAND", "INFO", "nosuch", "foo"), "*2\r\n_\r\n_\r\n");
    }

    [Test]
    [Arguments(new[] { "\xff\xfe" + "A" }, "-ERR unknown command '\xff\xfe" + "A', with args beginning with: \r\n")]
    [Arguments(new[] { "ab\0cd", "x\0y" }, "-ERR unknown command 'ab', with args beginning with: 'x' \r\n")]
    [Arguments(new[] { "nosuch", "a\r\nb", "c\nd" }, "-ERR unknown command 'nosuch', with args beginning with: 'a  b' 'c d' \r\n")]
    [Arguments(new[] { "CLIENT", "\xff\xfe" + "A" }, "-ERR unknown subcommand '\xff\xfe" + "A'. Try CLIENT HELP.\r\n")]
    [Arguments(new[] { "CONFIG", "\xff\xfe" + "A" }, "-ERR unknown subcommand '\xff\xfe" + "A'. Try CONFIG HELP.\r\n")]
    [Arguments(new[] { "EXPIRE", "k", "10", "\xff" + "a\r\n" }, "-ERR Unsupported option \xff" + "a\r\n")]
    [Arguments(new[] { "CLIENT", "LIST", "TYPE", "\xff\0b" }, "-ERR Unknown client type '\xff'\r\n")]
    [Arguments(new[] { "HELLO", "3", "\xff\xfe" }, "-ERR Syntax error in HELLO option '\xff\xfe'\r\n")]
    [Arguments(new[] { "CONFIG", "SET", "\xff\xfe", "x" }, "-ERR Unknown option or number of arguments for CONFIG SET - '\xff\xfe'\r\n")]
    [Arguments(new[] { "FUNCTION", "LIST", "\xff\xfe" }, "-ERR Unknown argument \xff\xfe\r\n")]
    [Arguments(new[] { "CLIENT", "KILL", "USER", "\xff\xfe" }, "-ERR No such user '\xff\xfe'\r\n")]
    [Arguments(new[] { "function", "flush", "\xff" + "zz", "b" }, "-ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.\r\n")]
    public async Task Error_quotes_the_argument_bytes_as_sent(string[] args, string expected)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await ExpectBytes(c, Cmd(args), expected);
    }

    [Test]
    public async Task Quoted_names_and_arguments_are_cut_at_128_bytes()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        // Redis: '%.128s' for the name; each argument '%.*s' with 128 minus the list so far, while the list is under 128.
        await ExpectBytes(c, Cmd(new string('\xff', 200), new string('a', 50), new string('b', 60), new string('c', 30), "d"),
            "-ERR unknown command '" + new string('\xff', 128) + "', with args beginning with: '" + new string('a', 50) + "' '"
            + new string('b', 60) + "' '" + new string('c', 12) + "' \r\n");
        await ExpectBytes(c, Cmd("nosuch", new string('\xfe', 126), "x"),
            "-ERR unknown command 'nosuch', with args beginning with: '" + new string('\xfe', 126) + "' \r\n");
        await ExpectBytes(c, Cmd("nosuch", new string('\xfe', 124), "xyz"),
            "-ERR unknown command 'nosuch', with args beginning with: '" + new string('\xfe', 124) + "' 'x' \r\n");
        await ExpectBytes(c, Cmd("CLIENT", new string('\xee', 300)),
            "-ERR unknown subcommand '" + new string('\xee', 128) + "'. Try CLIENT HELP.\r\n");
    }

    /// <summary>Two keys expiring near long.MaxValue ms used to overflow the TTL sum: avg_ttl went negative.</summary>
    [Test]
    public async Task Avg_ttl_is_never_negative_for_huge_expiry_times()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (int i = 0; i < 3; i++)
        {
            c.Call("SET", $"k{i}", "v");
            await Assert.That(c.Call("PEXPIREAT", $"k{i}", long.MaxValue - i).Integer).IsEqualTo(1);
        }
        long avg = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var line = c.Call("INFO", "keyspace").Text!.Split("\r\n").FirstOrDefault(l => l.StartsWith("db0:"));
            if (line is not null)
            {
                avg = long.Parse(line[(line.IndexOf("avg_ttl=") + 8)..].Split(',')[0]);
                if (avg != 0) break;
            }
            await Task.Delay(100);
        }
        // Every key has about long.MaxValue - now ms left: the average must say so.
        await Assert.That(avg).IsGreaterThan(long.MaxValue - now - 86_400_000);
    }
}
