using System.Net.Sockets;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// The edge cases of each I/O backend, forced: provided-buffer exhaustion, short sends of huge
/// replies, and connections that vanish while operations are in flight.
/// </summary>
public class BackendTests
{
    public static IEnumerable<string> Backends() => ["epoll", "io_uring"];

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Backend_is_reported_by_info(string backend)
    {
        await using var server = await ServerProcess.StartAsync("--io-backend", backend);
        using var c = new RespClient(server.Port);
        var info = c.Call("INFO", "server").Text!;
        await Assert.That(info).Contains($"multiplexing_api:{backend}");
    }

    [Test]
    public async Task Io_uring_survives_an_exhausted_buffer_ring()
    {
        // One 16 KB provided buffer for the whole reactor: concurrent pipelined clients drain it
        // constantly and every multishot receive has to be re-armed after ENOBUFS.
        await using var server = await ServerProcess.StartAsync("--io-backend", "io_uring", "--io-uring-buffers", "1", "--io-threads", "1");
        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(() =>
        {
            using var c = new RespClient(server.Port);
            var batch = new MemoryStream();
            for (int k = 0; k < 2000; k++) batch.Write(RespClient.Encode("ECHO", $"{i}-{k}-" + new string('x', 100)));
            c.SendRaw(batch.ToArray());
            for (int k = 0; k < 2000; k++)
            {
                if (c.Read().Text != $"{i}-{k}-" + new string('x', 100)) return false;
            }
            return true;
        })).ToArray();
        var ok = await Task.WhenAll(tasks);
        await Assert.That(ok.All(x => x)).IsTrue();
    }

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Huge_reply_goes_out_in_short_sends(string backend)
    {
        await using var server = await ServerProcess.StartAsync("--io-backend", backend);
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        // Far larger than the socket's send buffer: the server's sends are necessarily partial.
        var big = new byte[32 * 1024 * 1024];
        new Random(7).NextBytes(big);
        c.Send("ECHO"u8.ToArray(), big);
        await Task.Delay(200);
        var back = c.ReadBulkBytes();
        await Assert.That(back!.AsSpan().SequenceEqual(big)).IsTrue();
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Clients_vanishing_mid_operation_do_not_disturb_the_server(string backend)
    {
        await using var server = await ServerProcess.StartAsync("--io-backend", backend);
        var big = new byte[8 * 1024 * 1024];
        for (int round = 0; round < 20; round++)
        {
            // Ask for a large reply, then disappear (RST) while it is being sent.
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect("127.0.0.1", server.Port);
            s.Send(RespClient.Encode("ECHO"u8.ToArray(), big));
            s.LingerState = new LingerOption(true, 0);
            s.Close();
            // And one that closes half way through sending its request.
            var h = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            h.Connect("127.0.0.1", server.Port);
            h.Send("*2\r\n$4\r\nECHO\r\n$1000\r\nabc"u8);
            h.Close();
        }
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("ECHO", "alive").Text).IsEqualTo("alive");
        var clients = c.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Only we remain once the server has noticed the others are gone.
        for (int i = 0; i < 50 && clients.Length > 1; i++)
        {
            await Task.Delay(100);
            clients = c.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }
        await Assert.That(clients.Length).IsEqualTo(1);
    }

    [Test]
    public async Task Auto_backend_is_epoll_and_says_why()
    {
        await using var server = await ServerProcess.StartAsync("--io-backend", "auto");
        await Assert.That(server.LogText).Contains("io-backend auto: epoll");
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("INFO", "server").Text!).Contains("multiplexing_api:epoll");
    }

    [Test]
    public async Task Forcing_io_uring_where_unavailable_would_be_an_error_not_a_silent_fallback()
    {
        // On this kernel io_uring works, so a forced io_uring server starts and says so.
        await using var server = await ServerProcess.StartAsync("--io-backend", "io_uring");
        await Assert.That(server.LogText).Contains("(io_uring)");
    }
}
