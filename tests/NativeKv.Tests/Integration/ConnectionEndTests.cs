using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// How a connection ends: a client that half-closes still gets every reply, and a failure while
/// serving one client closes that client only, never the server. On both backends.
/// </summary>
public class ConnectionEndTests
{
    public static IEnumerable<string> Backends() => ["epoll", "io_uring"];

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Half_closed_client_gets_every_reply(string backend)
    {
        await using var server = await ServerProcess.StartAsync("--io-backend", backend);
        var request = new MemoryStream();
        request.Write("PING\r\n"u8);
        for (int i = 0; i < 1000; i++) request.Write(RespClient.Encode("ECHO", "v" + i));
        request.Write("*2\r\n$4\r\nECHO\r\n$10\r\nabc"u8); // incomplete: dropped at the end of input
        var replies = SendThenHalfClose(server.Port, request.ToArray());
        var expected = new StringBuilder("+PONG\r\n");
        for (int i = 0; i < 1000; i++) expected.Append($"${("v" + i).Length}\r\nv{i}\r\n");
        // Before: no reply at all, the read of 0 closed the connection at once.
        await Assert.That(replies).IsEqualTo(expected.ToString());
        // The server closed its side too (SendThenHalfClose read to the end), and let the client go.
        using var c = new RespClient(server.Port);
        int clients = 0;
        for (int i = 0; i < 50 && clients != 1; i++)
        {
            if (i > 0) await Task.Delay(20);
            clients = c.Call("CLIENT", "LIST").Text!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }
        await Assert.That(clients).IsEqualTo(1);
    }

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Half_closed_client_gets_replies_held_for_the_aof_commit(string backend)
    {
        // appendfsync always holds each reply until its AOF commit: the close must wait for it too.
        await using var server = await ServerProcess.StartAsync("--io-backend", backend, "--appendonly", "yes", "--appendfsync", "always");
        var request = new MemoryStream();
        for (int i = 0; i < 200; i++) request.Write(RespClient.Encode("SET", "k" + i, "v" + i));
        request.Write(RespClient.Encode("GET", "k199"));
        var replies = SendThenHalfClose(server.Port, request.ToArray());
        await Assert.That(replies).IsEqualTo(string.Concat(Enumerable.Repeat("+OK\r\n", 200)) + "$4\r\nv199\r\n");
    }

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task Half_closed_client_gets_replies_of_commands_that_waited_on_disk(string backend)
    {
        // 40 MB of values in a store of 16 MB: the first keys are read back from disk, so their GETs
        // wait on the store while the end of input has already arrived (io_uring) or is still unread (epoll).
        await using var server = await ServerProcess.StartAsync("--io-backend", backend, "--maxmemory", "16mb");
        var value = new string('d', 100 * 1024);
        using (var c = new RespClient(server.Port, TimeSpan.FromSeconds(60)))
        {
            var load = new MemoryStream();
            for (int i = 0; i < 400; i++) load.Write(RespClient.Encode("SET", "key" + i, i + value));
            c.SendRaw(load.ToArray());
            for (int i = 0; i < 400; i++) await Assert.That(c.Read().Text).IsEqualTo("OK");
        }
        var request = new MemoryStream();
        for (int i = 0; i < 20; i++)
        {
            request.Write(RespClient.Encode("GET", "key" + i));
            request.Write("PING\r\n"u8);
        }
        var replies = SendThenHalfClose(server.Port, request.ToArray());
        var expected = new StringBuilder();
        for (int i = 0; i < 20; i++)
        {
            string v = i + value;
            expected.Append($"${v.Length}\r\n{v}\r\n+PONG\r\n");
        }
        await Assert.That(replies.Length).IsEqualTo(expected.Length);
        await Assert.That(replies == expected.ToString()).IsTrue();
    }

    [Test]
    [MethodDataSource(nameof(Backends))]
    public async Task A_client_whose_request_cannot_be_held_is_closed_and_the_server_stays_up(string backend)
    {
        // A 192 MB heap (hex, as the runtime reads it) and a 300 MB bulk that does arrive: growing the
        // input buffer fails with OutOfMemoryException. Before, that exception ended the reactor and
        // the server (it allocated the announced 300 MB at the header).
        var environment = new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = "C000000" };
        await using var server = await ServerProcess.StartWithEnvironmentAsync(environment, "--io-backend", backend);
        using var other = new RespClient(server.Port);
        await Assert.That(other.Call("SET", "before", "1").Text).IsEqualTo("OK");

        const int size = 300_000_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            s.Connect("127.0.0.1", server.Port);
            s.ReceiveTimeout = 30_000;
            s.SendTimeout = 30_000;
            var chunk = new byte[1 << 20];
            Array.Fill(chunk, (byte)'x');
            try
            {
                s.Send(Encoding.ASCII.GetBytes($"*2\r\n$4\r\nECHO\r\n${size}\r\n"));
                for (int sent = 0; sent < size; sent += chunk.Length) s.Send(chunk, Math.Min(chunk.Length, size - sent), SocketFlags.None);
                s.Send("\r\n"u8);
                while (s.Receive(chunk) > 0) { }
            }
            catch (SocketException)
            {
                // Reset by the server (the error code varies with the moment the reset lands).
            }
        }
        // The connection ends at once, by a reset: with io_uring a plain close left the sender
        // blocked on a zero window for 30 s and more.
        await Assert.That(clock.Elapsed).IsLessThan(TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        await Assert.That(server.HasExited).IsFalse();
        await Assert.That(other.Call("GET", "before").Text).IsEqualTo("1");
        using var fresh = new RespClient(server.Port);
        await Assert.That(fresh.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(await server.LogOnceItHas("after an error: OutOfMemoryException")).Contains("after an error: OutOfMemoryException");
    }

    /// <summary>Sends <paramref name="request"/>, shuts the sending side, reads until the server closes.</summary>
    private static string SendThenHalfClose(int port, byte[] request)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Connect("127.0.0.1", port);
        s.ReceiveTimeout = 30_000;
        s.Send(request);
        s.Shutdown(SocketShutdown.Send);
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = s.Receive(buffer)) > 0) received.Write(buffer, 0, n);
        return Encoding.ASCII.GetString(received.ToArray());
    }
}
