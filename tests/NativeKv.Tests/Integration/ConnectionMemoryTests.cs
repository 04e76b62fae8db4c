using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// What a connection costs the server, measured on the real process (VmRSS): memory follows the
/// bytes a client sent, never the sizes it announced, and idle or closed connections hold next to
/// nothing. Each test opens 10,000 sockets, so they run one at a time (the test process may hold
/// 20,000 descriptors).
/// </summary>
[NotInParallel(nameof(ConnectionMemoryTests))]
public class ConnectionMemoryTests
{
    private const int Connections = 10_000;

    [Test]
    [Arguments("bulk", "*2\r\n$4\r\nECHO\r\n$536870000\r\n")] // 512 MB announced, none sent
    [Arguments("array", "*1048576\r\n")]                      // 1M arguments announced in 11 bytes
    public async Task Ten_thousand_connections_announcing_huge_requests_leave_memory_bounded(string kind, string header)
    {
        await using var server = await ServerProcess.StartAsync("--maxclients", "10100");
        using var probe = new RespClient(server.Port);
        await WarmUpAsync(server, probe);
        long start = Rss(server.Pid);
        var sockets = new List<Socket>(Connections);
        try
        {
            var bytes = Encoding.ASCII.GetBytes(header);
            for (int i = 0; i < Connections; i++)
            {
                var s = Connect(server.Port);
                sockets.Add(s);
                s.Send(bytes);
            }
            await WaitForClientsAsync(probe, Connections + 1);
            await Task.Delay(500); // the last headers read
            await Assert.That(server.HasExited).IsFalse();
            long growth = Rss(server.Pid) - start;
            Console.WriteLine($"{kind}: {Connections} connections, RSS +{growth / 1024} KB ({growth / Connections} B each)");
            // Before: 40 such bulk headers committed 21 GB and 7,000 array headers ended the process.
            await Assert.That(growth).IsLessThan(256L << 20);
            using var fresh = new RespClient(server.Port);
            await Assert.That(fresh.Call("PING").Text).IsEqualTo("PONG");
            // The announcing clients are still connected, waiting for the rest, as with Redis.
            await Assert.That(ConnectedClients(probe)).IsEqualTo(Connections + 2);
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
    }

    [Test]
    public async Task Idle_connections_cost_at_most_3_KB_each_and_closing_gives_it_back()
    {
        await using var server = await ServerProcess.StartAsync("--maxclients", "10100");
        using var probe = new RespClient(server.Port);
        await WarmUpAsync(server, probe);
        long start = Rss(server.Pid);
        var sockets = OpenPinged(server.Port, Connections);
        long open;
        try
        {
            await WaitForClientsAsync(probe, Connections + 1);
            await Task.Delay(300);
            open = Rss(server.Pid);
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
        long perConnection = (open - start) / Connections;
        Console.WriteLine($"idle: RSS {start / 1024} KB -> {open / 1024} KB with {Connections} connections ({perConnection} B each)");
        // Before: 9.3 KB each (a 16 KB input and a 16 KB output buffer per connection from birth).
        await Assert.That(perConnection).IsLessThanOrEqualTo(3 * 1024);

        await WaitForClientsAsync(probe, 1);
        // The reactors hand the dead clients' memory back once the wave of closes is over.
        long after = Rss(server.Pid);
        for (int i = 0; i < 100 && after > start + (4L << 20); i++)
        {
            await Task.Delay(100);
            after = Rss(server.Pid);
        }
        Console.WriteLine($"idle: RSS {after / 1024} KB after they closed");
        // Before: the 90 MB were kept.
        await Assert.That(after).IsLessThanOrEqualTo(start + (8L << 20));
        await Assert.That(probe.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    public async Task Ten_megabyte_value_arriving_in_small_writes_round_trips()
    {
        // The input buffer now grows as bytes arrive instead of jumping to the announced size.
        await using var server = await ServerProcess.StartAsync("--store-page-size", "32mb");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        var value = new byte[10 * 1024 * 1024];
        new Random(10).NextBytes(value);
        var request = RespClient.Encode("SET"u8.ToArray(), "big"u8.ToArray(), value);
        for (int offset = 0; offset < request.Length; offset += 1500)
            c.SendRaw(request.AsSpan(offset, Math.Min(1500, request.Length - offset)));
        await Assert.That(c.Read().Text).IsEqualTo("OK");
        c.Send("GET", "big");
        var back = c.ReadBulkBytes();
        await Assert.That(back!.AsSpan().SequenceEqual(value)).IsTrue();
        // Pipelined behind a big one, small commands still answer in order.
        var batch = new MemoryStream();
        batch.Write(RespClient.Encode("ECHO"u8.ToArray(), value));
        for (int i = 0; i < 100; i++) batch.Write(RespClient.Encode("ECHO", "e" + i));
        c.SendRaw(batch.ToArray());
        await Assert.That(c.ReadBulkBytes()!.Length).IsEqualTo(value.Length);
        for (int i = 0; i < 100; i++) await Assert.That(c.Read().Text).IsEqualTo("e" + i);
    }

    /// <summary>A first wave of connections, so the measurement sees connections, not start-up costs.</summary>
    private static async Task WarmUpAsync(ServerProcess server, RespClient probe)
    {
        var warm = OpenPinged(server.Port, 2000);
        await WaitForClientsAsync(probe, 2001);
        foreach (var s in warm) s.Dispose();
        await WaitForClientsAsync(probe, 1);
        await Task.Delay(2500); // the reactors' collection after a wave of closes (one quiet second)
    }

    private static List<Socket> OpenPinged(int port, int count)
    {
        var sockets = new List<Socket>(count);
        var ping = "PING\r\n"u8.ToArray();
        var reply = new byte[16];
        try
        {
            for (int i = 0; i < count; i++)
            {
                var s = Connect(port);
                sockets.Add(s);
                s.Send(ping);
            }
            foreach (var s in sockets)
            {
                int n = s.Receive(reply);
                if (Encoding.ASCII.GetString(reply, 0, n) != "+PONG\r\n") throw new InvalidOperationException("bad PING reply");
            }
        }
        catch
        {
            foreach (var s in sockets) s.Dispose();
            throw;
        }
        return sockets;
    }

    private static Socket Connect(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
        s.Connect("127.0.0.1", port);
        return s;
    }

    private static long ConnectedClients(RespClient probe)
    {
        var info = probe.Call("INFO", "clients").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("connected_clients:", StringComparison.Ordinal));
        return long.Parse(line["connected_clients:".Length..]);
    }

    private static async Task WaitForClientsAsync(RespClient probe, int expected)
    {
        for (int i = 0; i < 300 && ConnectedClients(probe) != expected; i++) await Task.Delay(100);
        await Assert.That(ConnectedClients(probe)).IsEqualTo(expected);
    }

    /// <summary>Resident set size in bytes, from /proc/PID/status.</summary>
    internal static long Rss(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        }
        throw new InvalidOperationException("no VmRSS");
    }
}
