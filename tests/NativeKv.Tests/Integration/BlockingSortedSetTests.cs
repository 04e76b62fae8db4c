using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// BZPOPMIN, BZPOPMAX, BZMPOP against the real process on two reactors (consecutive clients sit on different
/// reactors): FIFO service across reactors woken by ZADD, ZINCRBY and ZUNIONSTORE, a list push or delete that
/// must not wake a sorted set waiter, timeouts, and BZMPOP's COUNT.
/// </summary>
public class BlockingSortedSetTests
{
    private static long Blocked(RespClient c)
    {
        foreach (var line in c.Call("INFO", "clients").Text!.Split("\r\n"))
        {
            if (line.StartsWith("blocked_clients:")) return long.Parse(line["blocked_clients:".Length..]);
        }
        throw new InvalidOperationException("blocked_clients");
    }

    private static async Task WaitBlocked(RespClient admin, long n)
    {
        var sw = Stopwatch.StartNew();
        while (Blocked(admin) != n)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"blocked_clients never reached {n}");
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task Bzpopmin_waiters_across_reactors_are_served_in_order_by_zadd()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        var waiters = new List<RespClient>();
        for (int i = 0; i < 6; i++)
        {
            var w = new RespClient(server.Port);
            w.Send(i % 2 == 0 ? "BZPOPMIN" : "BZPOPMAX", "other", "z", "0");
            waiters.Add(w);
            await WaitBlocked(admin, i + 1);
        }
        using var writer = new RespClient(server.Port);
        // Neither a list on the waited key nor its deletion wakes a sorted set waiter.
        writer.Call("RPUSH", "z", "x");
        writer.Call("DEL", "z");
        await Task.Delay(50);
        await Assert.That(Blocked(admin)).IsEqualTo(6);
        writer.Call("ZADD", "z", "1", "a", "2", "b", "3", "c");
        await WaitBlocked(admin, 3); // the next write must find them served
        writer.Call("ZINCRBY", "z", "10", "d");
        await WaitBlocked(admin, 2);
        writer.Call("ZADD", "s", "5", "e", "6", "f");
        writer.Call("ZUNIONSTORE", "z", "2", "z", "s");
        // Waiter 0 (min) a, 1 (max) c, 2 (min) b, 3 (max) d, then e and f for 4 (min) and 5 (max).
        var expect = new[] { ("a", "1"), ("c", "3"), ("b", "2"), ("d", "10"), ("e", "5"), ("f", "6") };
        for (int i = 0; i < 6; i++)
        {
            var r = waiters[i].Read();
            await Assert.That(r.Items!.Length).IsEqualTo(3);
            await Assert.That($"{r.Items[0].Text} {r.Items[1].Text} {r.Items[2].Text}").IsEqualTo($"z {expect[i].Item1} {expect[i].Item2}");
        }
        await WaitBlocked(admin, 0);
        await Assert.That(admin.Call("EXISTS", "z").Integer).IsEqualTo(0);
        foreach (var w in waiters) w.Dispose();
    }

    [Test]
    public async Task Bzmpop_count_timeouts_and_wrongtype()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var w = new RespClient(server.Port);
        var sw = Stopwatch.StartNew();
        var t = w.Call("BZPOPMIN", "nokey", "0.2");
        await Assert.That(t.IsNull).IsTrue();
        await Assert.That(sw.ElapsedMilliseconds).IsGreaterThanOrEqualTo(200);
        admin.Call("SET", "str", "v");
        await Assert.That(w.Call("BZPOPMIN", "str", "0").Text!).StartsWith("WRONGTYPE");
        w.Send("BZMPOP", "0", "2", "k1", "k2", "MAX", "COUNT", "2");
        w.Send("PING"); // pipelined behind the blocked command
        await WaitBlocked(admin, 1);
        admin.Call("ZADD", "k2", "1", "a", "2", "b", "3", "c");
        var r = w.Read();
        await Assert.That(r.Items![0].Text).IsEqualTo("k2");
        var popped = r.Items[1].Items!.Select(p => $"{p.Items![0].Text}={p.Items[1].Text}");
        await Assert.That(string.Join(",", popped)).IsEqualTo("c=3,b=2");
        await Assert.That(w.Read().Text).IsEqualTo("PONG");
        await Assert.That(admin.Call("ZCARD", "k2").Integer).IsEqualTo(1);
        await WaitBlocked(admin, 0);
    }
}
