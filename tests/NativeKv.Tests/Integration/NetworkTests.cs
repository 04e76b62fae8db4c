using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>The network layer end to end against the real process: pipelines, many clients, limits.</summary>
public class NetworkTests
{
    [Test]
    public async Task Ten_thousand_command_pipeline_answers_in_order()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var batch = new MemoryStream();
        for (int i = 0; i < 10_000; i++) batch.Write(RespClient.Encode("ECHO", "v" + i));
        c.SendRaw(batch.ToArray());
        for (int i = 0; i < 10_000; i++)
        {
            var r = c.Read();
            if (r.Text != "v" + i) Assert.Fail($"reply {i} was {r}");
        }
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    public async Task A_long_pipeline_does_not_hold_its_reactor_from_other_clients()
    {
        // One reactor, so both connections share its loop. Each SORT of 20,000 numbers costs the server
        // a millisecond or more: a client's turn ends after about one (Client.TurnTicks), so the probe's
        // PING is answered with most of the 200 still to run. Before, one 8 KB read ran them all first.
        await using var server = await ServerProcess.StartAsync("--io-threads", "1");
        using var loader = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        using var probe = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        await Assert.That(probe.Call("PING").Text).IsEqualTo("PONG");
        for (int from = 0; from < 20_000; from += 1000)
        {
            var push = new List<object> { "RPUSH", "numbers" };
            for (int i = from; i < from + 1000; i++) push.Add(((i * 7919) % 20_000).ToString());
            loader.Call(push.ToArray());
        }
        const int sorts = 200;
        var batch = new MemoryStream();
        for (int i = 0; i < sorts; i++) batch.Write(RespClient.Encode("SORT", "numbers", "LIMIT", "0", "1"));
        loader.SendRaw(batch.ToArray());
        await Assert.That(loader.Read().Items![0].Text).IsEqualTo("0");
        await Assert.That(probe.Call("PING").Text).IsEqualTo("PONG");
        var stats = probe.Call("INFO", "commandstats").Text!;
        var calls = long.Parse(System.Text.RegularExpressions.Regex.Match(stats, @"cmdstat_sort:calls=(\d+)").Groups[1].Value);
        await Assert.That(calls).IsLessThan(sorts * 3 / 4);
        for (int i = 1; i < sorts; i++)
        {
            var r = loader.Read();
            if (r.Items?[0].Text != "0") Assert.Fail($"sort {i} replied {r}");
        }
        await Assert.That(probe.Call("INFO", "commandstats").Text!).Contains($"cmdstat_sort:calls={sorts},");
    }

    [Test]
    public async Task Inline_and_multibulk_mix_in_one_write()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.SendRaw("PING\r\nECHO \"a b\"\r\n*2\r\n$4\r\nECHO\r\n$3\r\nxyz\r\n\r\nping hello\n");
        await Assert.That(c.Read().Text).IsEqualTo("PONG");
        await Assert.That(c.Read().Text).IsEqualTo("a b");
        await Assert.That(c.Read().Text).IsEqualTo("xyz");
        await Assert.That(c.Read().Text).IsEqualTo("hello");
    }

    [Test]
    public async Task Five_hundred_concurrent_connections()
    {
        await using var server = await ServerProcess.StartAsync();
        var clients = new List<RespClient>();
        try
        {
            for (int i = 0; i < 500; i++) clients.Add(new RespClient(server.Port));
            var tasks = clients.Select((c, i) => Task.Run(() =>
            {
                for (int k = 0; k < 20; k++)
                {
                    var r = c.Call("ECHO", $"{i}:{k}");
                    if (r.Text != $"{i}:{k}") return false;
                }
                return true;
            })).ToArray();
            var results = await Task.WhenAll(tasks);
            await Assert.That(results.All(x => x)).IsTrue();
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    [Test]
    public async Task Sixty_four_megabyte_argument_round_trips()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        var big = new byte[64 * 1024 * 1024];
        new Random(42).NextBytes(big);
        c.Send("ECHO"u8.ToArray(), big);
        var back = c.ReadBulkBytes();
        await Assert.That(back!.Length).IsEqualTo(big.Length);
        await Assert.That(back.AsSpan().SequenceEqual(big)).IsTrue();
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    [Arguments("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [Arguments("*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'")]
    [Arguments("*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")]
    [Arguments("ECHO \"oops\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public async Task Malformed_input_gets_error_and_close_while_others_continue(string garbage, string error)
    {
        await using var server = await ServerProcess.StartAsync();
        using var good = new RespClient(server.Port);
        using var bad = new RespClient(server.Port);
        await Assert.That(good.Call("PING").Text).IsEqualTo("PONG");
        // A valid command ahead of the garbage in the same write is still answered.
        bad.SendRaw("PING\r\n" + garbage);
        await Assert.That(bad.Read().Text).IsEqualTo("PONG");
        var r = bad.Read();
        await Assert.That(r.Type).IsEqualTo('-');
        await Assert.That(r.Text).IsEqualTo(error);
        await Assert.That(bad.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
        await Assert.That(good.Call("ECHO", "still here").Text).IsEqualTo("still here");
    }

    [Test]
    public async Task Too_big_inline_request_closes_the_connection()
    {
        await using var server = await ServerProcess.StartAsync();
        using var bad = new RespClient(server.Port);
        bad.SendRaw(new string('a', 80 * 1024));
        var r = bad.Read();
        await Assert.That(r.Text).IsEqualTo("ERR Protocol error: too big inline request");
        await Assert.That(bad.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
    }

    [Test]
    public async Task Unknown_command_and_wrong_arity_errors()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("NOSUCH", "a", "b").Text).IsEqualTo("ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' ");
        await Assert.That(c.Call("nosuch").Text).IsEqualTo("ERR unknown command 'nosuch', with args beginning with: ");
        await Assert.That(c.Call("ECHO").Text).IsEqualTo("ERR wrong number of arguments for 'echo' command");
        await Assert.That(c.Call("eChO", "a", "b").Text).IsEqualTo("ERR wrong number of arguments for 'echo' command");
        await Assert.That(c.Call("CLIENT").Text).IsEqualTo("ERR wrong number of arguments for 'client' command");
        await Assert.That(c.Call("client", "nosuch").Text).IsEqualTo("ERR unknown subcommand 'nosuch'. Try CLIENT HELP.");
        var longArg = new string('x', 200);
        await Assert.That(c.Call("FOO", longArg).Text).IsEqualTo($"ERR unknown command 'FOO', with args beginning with: '{new string('x', 128)}' ");
    }

    [Test]
    public async Task Maxclients_refuses_extra_connections_with_redis_error()
    {
        await using var server = await ServerProcess.StartAsync("--maxclients", "2");
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        await Assert.That(a.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(b.Call("PING").Text).IsEqualTo("PONG");
        using var c = new RespClient(server.Port);
        var r = c.Read();
        await Assert.That(r.Text).IsEqualTo("ERR max number of clients reached");
        await Assert.That(c.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
    }

    [Test]
    public async Task Idle_timeout_closes_quiet_clients()
    {
        await using var server = await ServerProcess.StartAsync("--timeout", "1");
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
        var sw = Stopwatch.StartNew();
        await Assert.That(c.WaitClosed(TimeSpan.FromSeconds(10))).IsTrue();
        await Assert.That(sw.Elapsed).IsLessThan(TimeSpan.FromSeconds(5));
    }

    [Test]
    public async Task Query_buffer_limit_disconnects_the_client()
    {
        await using var server = await ServerProcess.StartAsync("--client-query-buffer-limit", "1mb");
        using var c = new RespClient(server.Port);
        using var other = new RespClient(server.Port);
        // A 3 MB bulk that never completes: the pending query grows past the 1 MB limit.
        c.SendRaw("*2\r\n$4\r\nECHO\r\n$3000000\r\n");
        var chunk = new byte[256 * 1024];
        bool closed = false;
        try
        {
            for (int i = 0; i < 10; i++) c.SendRaw(chunk);
        }
        catch (IOException) { closed = true; }
        if (!closed) closed = c.WaitClosed(TimeSpan.FromSeconds(5));
        await Assert.That(closed).IsTrue();
        await Assert.That(other.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    public async Task Quit_replies_then_closes()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.SendRaw("QUIT\r\nPING\r\n");
        await Assert.That(c.Read().Text).IsEqualTo("OK");
        await Assert.That(c.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
    }

    [Test]
    public async Task Ipv6_loopback_bind()
    {
        await using var server = await ServerProcess.StartAsync("--bind", "127.0.0.1", "::1");
        using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
        s.Connect(System.Net.IPAddress.IPv6Loopback, server.Port);
        s.Send("PING\r\n"u8);
        var buf = new byte[16];
        int n = s.Receive(buf);
        await Assert.That(Encoding.ASCII.GetString(buf, 0, n)).IsEqualTo("+PONG\r\n");
    }
}
