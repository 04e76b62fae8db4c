using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// Sorted sets survive a restart: from the AOF alone (kill -9 under appendfsync always loses no acknowledged
/// ZADD), and from a checkpoint plus the AOF after it, both encodings, TTLs and the *STORE / pop commands.
/// </summary>
public class SortedSetDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-zsets-" + Guid.NewGuid().ToString("N"));

    private static string Entries(RespClient c, string key) =>
        string.Join(",", c.Call("ZRANGE", key, "0", "-1", "WITHSCORES").Items!.Select(x => x.Text));

    /// <summary>Writes sorted sets of both encodings with every kind of write; returns what each should hold.</summary>
    private static Dictionary<string, string> Write(RespClient c, string prefix)
    {
        c.Call("ZADD", prefix + "lp", "1", "a", "2.5", "b", "-inf", "c", "3", "d");
        c.Call("ZINCRBY", prefix + "lp", "0.25", "a");
        c.Call("ZREM", prefix + "lp", "d");
        var big = new List<object> { "ZADD", prefix + "sk" };
        for (int i = 0; i < 300; i++) { big.Add((i % 17).ToString()); big.Add("member-" + i); }
        c.Call(big.ToArray());
        c.Call("ZPOPMIN", prefix + "sk", "3");
        c.Call("ZREMRANGEBYSCORE", prefix + "sk", "5", "(6");
        c.Call("ZADD", prefix + "gone", "1", "x");
        c.Call("ZPOPMAX", prefix + "gone");
        c.Call("ZUNIONSTORE", prefix + "union", "2", prefix + "lp", prefix + "sk", "WEIGHTS", "2", "1");
        c.Call("ZRANGESTORE", prefix + "range", prefix + "sk", "0", "9");
        c.Call("ZADD", prefix + "ttl", "1", "t");
        c.Call("EXPIRE", prefix + "ttl", "1000");
        c.Call("ZADD", prefix + "ttl", "2", "u");
        var want = new Dictionary<string, string>();
        foreach (var k in new[] { "lp", "sk", "union", "range", "ttl" }) want[prefix + k] = Entries(c, prefix + k);
        return want;
    }

    private static async Task Check(RespClient c, Dictionary<string, string> want, string prefix)
    {
        foreach (var (k, v) in want)
        {
            await Assert.That(c.Call("TYPE", k).Text).IsEqualTo("zset");
            await Assert.That($"{k}: {Entries(c, k)}").IsEqualTo($"{k}: {v}");
        }
        await Assert.That(c.Call("EXISTS", prefix + "gone").Integer).IsEqualTo(0);
        await Assert.That(c.Call("OBJECT", "ENCODING", prefix + "sk").Text).IsEqualTo("skiplist");
        await Assert.That(c.Call("OBJECT", "ENCODING", prefix + "lp").Text).IsEqualTo("listpack");
        var ttl = c.Call("TTL", prefix + "ttl").Integer;
        await Assert.That(ttl > 900 && ttl <= 1000).IsTrue();
    }

    [Test]
    public async Task Sorted_sets_survive_kill_9_through_aof_replay_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            Dictionary<string, string> before, after;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always"))
            {
                using var c = new RespClient(server.Port);
                before = Write(c, "a:");
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                after = Write(c, "b:");
                c.Call("ZADD", "a:lp", "9", "z"); // an update of a checkpointed set, replayed on top
                before["a:lp"] = Entries(c, "a:lp");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Check(c, before, "a:");
                await Check(c, after, "b:");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task Kill_9_under_appendfsync_always_loses_no_acknowledged_zadd()
    {
        var dir = NewDir();
        try
        {
            const int sent = 2000, acked = 400;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                // One pipelined burst; the process dies as soon as the 400th reply is in.
                var burst = new List<byte>();
                for (int i = 0; i < sent; i++) burst.AddRange(RespClient.Encode("ZADD", i % 2 == 0 ? "even" : "odd", i.ToString(), "m" + i));
                c.SendRaw(burst.ToArray());
                for (int i = 0; i < acked; i++) await Assert.That(c.Read().Integer).IsEqualTo(1);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                long n = c.Call("ZCARD", "even").Integer + c.Call("ZCARD", "odd").Integer;
                await Assert.That(n >= acked && n <= sent).IsTrue();
                // Every acknowledged member is there with its score; what came back is a prefix of what was sent.
                for (int i = 0; i < n; i++)
                    await Assert.That(c.Call("ZSCORE", i % 2 == 0 ? "even" : "odd", "m" + i).Text).IsEqualTo(i.ToString());
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
