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
