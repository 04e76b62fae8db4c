using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// BLPOP and friends against the real process on two reactors (the acceptor deals connections round robin,
/// so consecutive clients sit on different reactors): timeouts, FIFO across reactors, waits that a delete or
/// a type change must not end, CLIENT UNBLOCK, closing a blocked connection, BLMOVE chains, many waiters.
/// </summary>
public class BlockingListTests
{
    private static long Info(RespClient c, string field)
    {
        foreach (var line in c.Call("INFO", "clients").Text!.Split("\r\n"))
        {
            if (line.StartsWith(field + ":")) return long.Parse(line[(field.Length + 1)..]);
        }
        throw new InvalidOperationException(field);
    }

    /// <summary>Waits (bounded) until INFO says <paramref name="n"/> clients are blocked.</summary>
    private static async Task WaitBlocked(RespClient admin, long n)
    {
        var sw = Stopwatch.StartNew();
        while (Info(admin, "blocked_clients") != n)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"blocked_clients never reached {n}");
            await Task.Delay(5);
        }
    }

    [Test]
    public async Task A_timeout_of_200_ms_returns_null_after_200_ms()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var c = new RespClient(server.Port);
        var sw = Stopwatch.StartNew();
        var r = c.Call("BLPOP", "nokey", "0.2");
        sw.Stop();
        await Assert.That(r.Type).IsEqualTo('*');
        await Assert.That(r.IsNull).IsTrue();
        await Assert.That(sw.ElapsedMilliseconds).IsGreaterThanOrEqualTo(200);
        await Assert.That(sw.ElapsedMilliseconds).IsLessThan(2000);
        c.Call("HELLO", "3");
        await Assert.That(c.Call("BLMOVE", "nokey", "d", "LEFT", "LEFT", "0.01").Type).IsEqualTo('_');
        using var admin = new RespClient(server.Port);
        await Assert.That(Info(admin, "blocked_clients")).IsEqualTo(0);
        await Assert.That(Info(admin, "total_blocking_keys")).IsEqualTo(0);
    }

    [Test]
    public async Task Waiters_on_one_key_are_served_in_the_order_they_blocked_across_reactors()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        var waiters = new List<RespClient>();
        for (int i = 0; i < 6; i++)
        {
            var w = new RespClient(server.Port);
            w.Send("BLPOP", "q", "0");
            waiters.Add(w);
            await WaitBlocked(admin, i + 1); // blocked in this order
        }
        await Assert.That(admin.Call("CLIENT", "LIST").Text!).Contains("flags=b");
        await Assert.That(Info(admin, "total_blocking_keys")).IsEqualTo(1);
        using var pusher = new RespClient(server.Port);
        pusher.Call("RPUSH", "q", "0", "1", "2");
        pusher.Call("RPUSH", "q", "3");
        pusher.Call("RPUSH", "q", "4", "5");
        for (int i = 0; i < 6; i++)
        {
            var r = waiters[i].Read();
            await Assert.That(r.Items![0].Text).IsEqualTo("q");
            await Assert.That(r.Items![1].Text).IsEqualTo(i.ToString());
        }
        await WaitBlocked(admin, 0);
        await Assert.That(admin.Call("EXISTS", "q").Integer).IsEqualTo(0);
        foreach (var w in waiters) w.Dispose();
    }

    [Test]
    public async Task A_key_deleted_or_set_to_a_string_wakes_nobody_and_a_wrong_type_at_first_is_wrongtype()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var w = new RespClient(server.Port);
        admin.Call("SET", "s", "v");
        await Assert.That(w.Call("BLPOP", "s", "0").Text!).StartsWith("WRONGTYPE");
        await Assert.That(w.Call("BLPOP", "none", "s", "0").Text!).StartsWith("WRONGTYPE");
        w.Send("BLPOP", "k", "0");
        w.Send("PING"); // pipelined behind the blocked command
        await WaitBlocked(admin, 1);
        admin.Call("SET", "k", "string");
        admin.Call("DEL", "k");
        admin.Call("HSET", "k", "f", "v");
        admin.Call("DEL", "k");
        await Task.Delay(100);
        await Assert.That(Info(admin, "blocked_clients")).IsEqualTo(1);
        admin.Call("RPUSH", "k", "y");
        var r = w.Read();
        await Assert.That(r.Items![1].Text).IsEqualTo("y");
        await Assert.That(w.Read().Text).IsEqualTo("PONG");
    }

    [Test]
    public async Task Client_unblock_ends_a_wait_with_null_or_the_unblocked_error()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var w = new RespClient(server.Port);
        long id = w.Call("CLIENT", "ID").Integer;
        await Assert.That(admin.Call("CLIENT", "UNBLOCK", id).Integer).IsEqualTo(0);
        w.Send("BRPOP", "a", "b", "0");
        await WaitBlocked(admin, 1);
        await Assert.That(Info(admin, "total_blocking_keys")).IsEqualTo(2);
        await Assert.That(admin.Call("CLIENT", "UNBLOCK", id, "TIMEOUT").Integer).IsEqualTo(1);
        await Assert.That(w.Read().IsNull).IsTrue();
        w.Send("BLMPOP", "0", "1", "a", "LEFT");
        await WaitBlocked(admin, 1);
        await Assert.That(admin.Call("CLIENT", "UNBLOCK", id, "ERROR").Integer).IsEqualTo(1);
        await Assert.That(w.Read().Text).IsEqualTo("UNBLOCKED client unblocked via CLIENT UNBLOCK");
        await Assert.That(Info(admin, "blocked_clients")).IsEqualTo(0);
        await Assert.That(admin.Call("CLIENT", "UNBLOCK", id, "FOO").Text).IsEqualTo("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }

    [Test]
    public async Task A_closed_blocked_connection_leaves_its_waits_and_the_next_waiter_is_served()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        var first = new RespClient(server.Port);
        first.Send("BLPOP", "k", "0");
        await WaitBlocked(admin, 1);
        using var second = new RespClient(server.Port);
        second.Send("BLPOP", "k", "0");
        await WaitBlocked(admin, 2);
        first.Dispose();
        await WaitBlocked(admin, 1);
        admin.Call("RPUSH", "k", "v");
        await Assert.That(second.Read().Items![1].Text).IsEqualTo("v");
        await WaitBlocked(admin, 0);
        await Assert.That(Info(admin, "total_blocking_keys")).IsEqualTo(0);
    }

    [Test]
    public async Task Blmove_chains_hand_the_element_along()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        using var c = new RespClient(server.Port);
        a.Send("BLMOVE", "l1", "l2", "LEFT", "RIGHT", "0");
        await WaitBlocked(admin, 1);
        b.Send("BRPOPLPUSH", "l2", "l3", "0");
        await WaitBlocked(admin, 2);
        c.Send("BLPOP", "l3", "0");
        await WaitBlocked(admin, 3);
        admin.Call("LPUSH", "l1", "x");
        await Assert.That(a.Read().Text).IsEqualTo("x");
        await Assert.That(b.Read().Text).IsEqualTo("x");
        await Assert.That(c.Read().Items![1].Text).IsEqualTo("x");
        await Assert.That(admin.Call("EXISTS", "l1", "l2", "l3").Integer).IsEqualTo(0);
    }

    [Test]
    public async Task Many_waiters_on_one_key_and_on_many_keys_are_each_served_exactly_once()
    {
        const int N = 200;
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        var waiters = new List<RespClient>();
        for (int i = 0; i < N; i++)
        {
            var w = new RespClient(server.Port);
            w.Send("BLPOP", i % 2 == 0 ? "one" : $"key:{i}", "5");
            waiters.Add(w);
        }
        await WaitBlocked(admin, N);
        using var p1 = new RespClient(server.Port);
        using var p2 = new RespClient(server.Port);
        for (int i = 0; i < N; i++)
        {
            var p = i % 4 < 2 ? p1 : p2;
            p.Send("RPUSH", i % 2 == 0 ? "one" : $"key:{i}", $"v{i}");
        }
        for (int i = 0; i < N / 2; i++) { p1.Read(); p2.Read(); }
        var seen = new HashSet<string>();
        foreach (var w in waiters)
        {
            var r = w.Read();
            await Assert.That(r.IsNull).IsFalse();
            await Assert.That(seen.Add(r.Items![1].Text!)).IsTrue();
            w.Dispose();
        }
        await Assert.That(seen.Count).IsEqualTo(N);
        await Assert.That(admin.Call("EXISTS", "one").Integer).IsEqualTo(0);
    }
}
