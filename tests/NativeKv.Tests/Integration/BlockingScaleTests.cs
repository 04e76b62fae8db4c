using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Issue 13's scale case: 1,000 clients blocked on 1,000 distinct keys and 1,000 blocked on one key, spread
/// over both reactors (--io-threads 2: the acceptor deals connections round robin, so consecutive
/// connections alternate), each served exactly once by pushes from a client on the other reactor (the one
/// key's pushes alternate between both pushers). Raw sockets with async reads: 2,002 connections on a few
/// thread-pool threads. Every waiter then answers a PING with PONG: no second reply was queued for it.
/// </summary>
public class BlockingScaleTests
{
    private const int PerGroup = 1000;

    /// <summary>The soft RLIMIT_NOFILE of this process (the server inherits it): both ends need 2,000+ descriptors.</summary>
    private static long OpenFilesLimit()
    {
        foreach (var line in File.ReadLines("/proc/self/limits"))
            if (line.StartsWith("Max open files"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        return long.MaxValue;
    }

    private static byte[] Encode(params string[] args) => RespClient.Encode(args);

    /// <summary>Reads from <paramref name="s"/> until <paramref name="lines"/> CRLF-ended lines arrived (bounded by <paramref name="ct"/>).</summary>
    private static async Task<string> ReadLines(Socket s, int lines, CancellationToken ct)
    {
        var buf = new byte[256];
        var text = new StringBuilder();
        int seen = 0;
        while (seen < lines)
        {
            int n = await s.ReceiveAsync(buf, SocketFlags.None, ct);
            if (n == 0) throw new IOException("connection closed");
            var chunk = Encoding.ASCII.GetString(buf, 0, n);
            text.Append(chunk);
            for (int i = 0; i < chunk.Length; i++) if (chunk[i] == '\n') seen++;
        }
        return text.ToString();
    }

    [Test]
    public async Task Two_thousand_waiters_on_a_thousand_keys_and_on_one_key_are_each_served_once_from_the_other_reactor()
    {
        long limit = OpenFilesLimit();
        if (limit < 2 * (2 * PerGroup + 100)) throw new InvalidOperationException($"RLIMIT_NOFILE {limit} is too low for 2,000 connections on both ends (ulimit -n)");
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var waiters = new Socket[2 * PerGroup];
        try
        {
            // Connections in order: waiter i on the reactor of waiter i-2; waiters 0, 2, 4... share one with pusher A.
            for (int i = 0; i < waiters.Length; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await s.ConnectAsync("127.0.0.1", server.Port, cts.Token);
                waiters[i] = s;
                string key = i < PerGroup ? "k:" + i : "one";
                await s.SendAsync(Encode("BLPOP", key, "0"), SocketFlags.None, cts.Token);
            }
            using var pusherA = new RespClient(server.Port); // the reactor of the even waiters
            using var pusherB = new RespClient(server.Port); // the odd ones'
            var sw = Stopwatch.StartNew();
            while (true)
            {
                var info = admin.Call("INFO", "clients").Text!;
                if (info.Contains($"blocked_clients:{2 * PerGroup}\r\n")) break;
                if (sw.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("not every waiter blocked: " + info);
                await Task.Delay(10);
            }
            await Assert.That(admin.Call("INFO", "clients").Text!).Contains($"total_blocking_keys:{PerGroup + 1}\r\n");

            // A waiter's key gets its push from the pusher on the other reactor; the shared key's from both in turn.
            var reads = waiters.Select(s => ReadLines(s, 5, cts.Token)).ToArray();
            int a = 0, b = 0;
            for (int i = 0; i < PerGroup; i++)
            {
                var p = i % 2 == 0 ? pusherB : pusherA;
                p.Send("RPUSH", "k:" + i, "v" + i);
                if (p == pusherA) a++; else b++;
            }
            for (int j = 0; j < PerGroup; j++)
            {
                var p = j % 2 == 0 ? pusherA : pusherB;
                p.Send("RPUSH", "one", "u" + j);
                if (p == pusherA) a++; else b++;
            }
            for (int i = 0; i < a; i++) if (pusherA.Read().IsError) throw new InvalidOperationException("RPUSH failed");
            for (int i = 0; i < b; i++) if (pusherB.Read().IsError) throw new InvalidOperationException("RPUSH failed");
            var replies = await Task.WhenAll(reads);

            int wrong = 0;
            var shared = new HashSet<string>();
            for (int i = 0; i < replies.Length; i++)
            {
                var lines = replies[i].Split("\r\n");
                // *2 $len key $len value
                if (lines[0] != "*2" || replies[i].Count(ch => ch == '\n') != 5) { wrong++; continue; }
                if (i < PerGroup) { if (lines[2] != "k:" + i || lines[4] != "v" + i) wrong++; }
                else if (lines[2] != "one" || !shared.Add(lines[4])) wrong++;
            }
            await Assert.That(wrong).IsEqualTo(0);
            await Assert.That(shared.SetEquals(Enumerable.Range(0, PerGroup).Select(j => "u" + j))).IsTrue();

            // Exactly once: the next reply each waiter reads is its PING's.
            var pongs = waiters.Select(async s =>
            {
                await s.SendAsync(Encode("PING"), SocketFlags.None, cts.Token);
                return await ReadLines(s, 1, cts.Token);
            }).ToArray();
            var got = await Task.WhenAll(pongs);
            await Assert.That(got.Count(x => x == "+PONG\r\n")).IsEqualTo(waiters.Length);
            var after = admin.Call("INFO", "clients").Text!;
            await Assert.That(after).Contains("blocked_clients:0\r\n");
            await Assert.That(after).Contains("total_blocking_keys:0\r\n");
            await Assert.That(admin.Call("DBSIZE").Integer).IsEqualTo(0);
        }
        finally
        {
            foreach (var s in waiters) s?.Dispose();
        }
    }
}
