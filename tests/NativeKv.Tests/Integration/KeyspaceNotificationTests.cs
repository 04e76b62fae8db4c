using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Keyspace notifications where the transcripts cannot reach: keys expired by the active cycle (the maintenance
/// thread, no command touching them) reaching a subscriber on another reactor, notify-keyspace-events given on
/// the command line, and commands that wait on disk and run again (single commands, MULTI/EXEC, scripts) firing
/// each event exactly once, in the order of the writes.
/// </summary>
public class KeyspaceNotificationTests
{
    private static long Info(RespClient c, string field)
    {
        foreach (var line in c.Call("INFO", "all").Text!.Split("\r\n"))
            if (line.StartsWith(field + ":")) return long.Parse(line[(field.Length + 1)..]);
        throw new InvalidOperationException(field);
    }

    [Test]
    public async Task Active_expiry_notifies_a_subscriber_on_another_reactor()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--notify-keyspace-events", "Ex");
        // Connections alternate between the reactors: the subscriber is on one, the writer on the other.
        using var sub = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var w = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(w.Call("CONFIG", "GET", "notify-keyspace-events").Items![1].Text).IsEqualTo("xE");
        var ack = sub.Call("SUBSCRIBE", "__keyevent@0__:expired");
        await Assert.That(ack.Items![2].Integer).IsEqualTo(1);
        const int keys = 300;
        for (int i = 0; i < keys; i++) await Assert.That(w.Call("SET", "t:" + i, "v", "PX", "100").Text).IsEqualTo("OK");
        // Nobody reads them: only the active cycle can expire them.
        var seen = new HashSet<string>();
        for (int i = 0; i < keys; i++)
        {
            var m = sub.Read().Items!;
            await Assert.That(m[0].Text).IsEqualTo("message");
            await Assert.That(m[1].Text).IsEqualTo("__keyevent@0__:expired");
            await Assert.That(seen.Add(m[2].Text!)).IsTrue();
        }
        await Assert.That(seen.SetEquals(Enumerable.Range(0, keys).Select(i => "t:" + i))).IsTrue();
        await Assert.That(w.Call("DBSIZE").Integer).IsEqualTo(0);
        await Assert.That(Info(w, "expired_keys")).IsEqualTo(keys);
        // Nothing more: the next frame is PING's.
        await Assert.That(sub.Call("PING").Items![0].Text).IsEqualTo("pong");
    }

    [Test]
    public async Task A_set_with_an_expiry_already_past_fires_set_expire_and_expired_at_once()
    {
        // Redis writes the key and fires expired at its next access; NativeKv never writes it (docs/pubsub.md).
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--notify-keyspace-events", "KEA");
        using var sub = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(sub.Call("PSUBSCRIBE", "__keyevent@0__:*").Items![2].Integer).IsEqualTo(1);
        await Assert.That(c.Call("SET", "past", "v", "PXAT", "1").Text).IsEqualTo("OK");
        await Assert.That(c.Call("SET", "k", "v").Text).IsEqualTo("OK");
        await Assert.That(c.Call("SET", "k", "v2", "EXAT", "1", "GET").Text).IsEqualTo("v");
        await Assert.That(c.Call("EXISTS", "past", "k").Integer).IsEqualTo(0);
        var got = new List<string>();
        for (int i = 0; i < 7; i++)
        {
            var m = sub.Read().Items!;
            got.Add($"{m[2].Text} {m[3].Text}");
        }
        await Assert.That(string.Join(", ", got)).IsEqualTo(string.Join(", ",
            "__keyevent@0__:set past", "__keyevent@0__:expire past", "__keyevent@0__:expired past",
            "__keyevent@0__:set k", "__keyevent@0__:set k", "__keyevent@0__:expire k", "__keyevent@0__:expired k"));
        await Assert.That(sub.Call("PING").Items![0].Text).IsEqualTo("pong");
    }

    [Test]
    public async Task A_blocked_client_served_by_a_push_fires_its_pop_after_the_push()
    {
        // The sequence redis-server 7.0.15 sends for the same steps.
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--notify-keyspace-events", "EA");
        using var sub = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var a = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var b = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(sub.Call("PSUBSCRIBE", "__keyevent@0__:*").Items![2].Integer).IsEqualTo(1);
        async Task Served(object[] blocking, object[] push)
        {
            a.Send(blocking);
            await WaitBlocked(b, 1);
            b.Call(push);
            await Assert.That(a.Read().IsError).IsFalse();
        }
        await Served(["BLPOP", "q", "0"], ["RPUSH", "q", "x", "y"]);
        await Served(["BLMOVE", "q2", "d", "LEFT", "RIGHT", "0"], ["LPUSH", "q2", "z"]);
        await Served(["BZPOPMIN", "zq", "0"], ["ZADD", "zq", "1", "m"]);
        var got = new List<string>();
        for (int i = 0; i < 9; i++)
        {
            var m = sub.Read().Items!;
            got.Add($"{m[2].Text![15..]} {m[3].Text}");
        }
        await Assert.That(string.Join(", ", got)).IsEqualTo(
            "rpush q, lpop q, lpush q2, rpush d, lpop q2, del q2, zadd zq, zpopmin zq, del zq");
        await Assert.That(sub.Call("PING").Items![0].Text).IsEqualTo("pong");
    }

    private static async Task WaitBlocked(RespClient c, long n)
    {
        for (int i = 0; i < 200; i++)
        {
            if (Info(c, "blocked_clients") == n) return;
            await Task.Delay(10);
        }
        throw new TimeoutException("the client did not block");
    }

    [Test]
    public async Task Commands_that_wait_on_disk_fire_their_events_once_in_order()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--maxmemory", "16mb", "--save", "", "--appendonly", "no");
        using var sub = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int keys = 40_000;
        string pad = new('p', 1000);
        for (int start = 0; start < keys; start += 500)
        {
            var burst = new List<byte>();
            for (int i = start; i < start + 500; i++) burst.AddRange(RespClient.Encode("SET", "cold:" + i, pad));
            c.SendRaw(burst.ToArray());
            for (int i = 0; i < 500; i++) await Assert.That(c.Read().Text).IsEqualTo("OK");
        }
        await Assert.That(c.Call("CONFIG", "SET", "notify-keyspace-events", "EA").Text).IsEqualTo("OK");
        await Assert.That(sub.Call("PSUBSCRIBE", "__keyevent@0__:*").Items![2].Integer).IsEqualTo(1);
        long before = Info(c, "store_disk_reads");
        var expected = new List<(string Event, string Key)>();
        const int rounds = 40;
        for (int r = 0; r < rounds; r++)
        {
            // Keys of their own a round, among the first written (the coldest).
            int a = r * 250;
            string K(int i) => "cold:" + (a + i);
            await Assert.That(c.Call("APPEND", K(0), "x").Integer).IsEqualTo(1001);
            await Assert.That(c.Call("GETDEL", K(1)).Text).IsEqualTo(pad);
            await Assert.That(c.Call("MULTI").Text).IsEqualTo("OK");
            c.Call("INCR", "ctr");
            c.Call("APPEND", K(2), "y");
            c.Call("EXPIRE", K(3), "100");
            var exec = c.Call("EXEC").Items!;
            await Assert.That(exec[0].Integer).IsEqualTo(r + 1);
            await Assert.That(exec[1].Integer).IsEqualTo(1001);
            await Assert.That(exec[2].Integer).IsEqualTo(1);
            var eval = c.Call("EVAL", "redis.call('append', KEYS[1], 'z'); return redis.call('del', KEYS[2])", "2", K(4), K(5));
            await Assert.That(eval.Integer).IsEqualTo(1);
            await Assert.That(c.Call("DEL", "nokey", K(6)).Integer).IsEqualTo(1);
            await Assert.That(c.Call("HSET", K(7), "f", "v").IsError).IsTrue(); // WRONGTYPE: no event
            expected.AddRange([("append", K(0)), ("del", K(1)), ("incrby", "ctr"), ("append", K(2)), ("expire", K(3)),
                ("append", K(4)), ("del", K(5)), ("del", K(6))]);
        }
        await Assert.That(Info(c, "store_disk_reads")).IsGreaterThan(before + rounds);
        foreach (var (evt, key) in expected)
        {
            var m = sub.Read().Items!;
            await Assert.That($"{m[2].Text} {m[3].Text}").IsEqualTo($"__keyevent@0__:{evt} {key}");
        }
        // Exactly once: nothing after the last expected event but PING's reply.
        await Assert.That(sub.Call("PING").Items![0].Text).IsEqualTo("pong");
    }
}
