using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>Lists survive a restart: from the AOF alone (kill -9 under appendfsync always), and from a checkpoint plus the AOF after it.</summary>
public class ListDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-lists-" + Guid.NewGuid().ToString("N"));

    private static string Elements(RespClient c, string key) =>
        string.Join(",", c.Call("LRANGE", key, "0", "-1").Items!.Select(x => x.Text));

    /// <summary>Lists written by every kind of list write; returns what each should hold.</summary>
    private static Dictionary<string, string> Write(RespClient c, string p)
    {
        c.Call("RPUSH", p + "l", "a", "b", "c", "d", "e");
        c.Call("LPUSH", p + "l", "z");
        c.Call("LSET", p + "l", "2", "B");
        c.Call("LINSERT", p + "l", "AFTER", "c", "c2");
        c.Call("LREM", p + "l", "1", "d");
        c.Call("LPOP", p + "l");
        c.Call("RPOP", p + "l", "1");
        c.Call("RPUSH", p + "trim", "1", "2", "3", "4", "5");
        c.Call("LTRIM", p + "trim", "1", "-2");
        c.Call("RPUSH", p + "src", "m", "n", "o");
        c.Call("LMOVE", p + "src", p + "dst", "LEFT", "RIGHT");
        c.Call("RPOPLPUSH", p + "src", p + "dst");
        c.Call("LMPOP", "2", p + "none", p + "src", "RIGHT");
        var big = Enumerable.Range(0, 800).Select(i => (object)("element-" + i)).ToArray();
        c.Call(new object[] { "RPUSH", p + "quick" }.Concat(big).ToArray());
        c.Call("LPUSHX", p + "quick", "head");
        c.Call("RPUSH", p + "ttl", "t");
        c.Call("EXPIRE", p + "ttl", "1000");
        c.Call("RPUSH", p + "ttl", "u");
        var want = new Dictionary<string, string>();
        foreach (var k in new[] { "l", "trim", "dst", "quick", "ttl" }) want[p + k] = Elements(c, p + k);
        return want;
    }

    private static async Task Check(RespClient c, Dictionary<string, string> want, string p)
    {
        foreach (var (k, v) in want)
        {
            await Assert.That(c.Call("TYPE", k).Text).IsEqualTo("list");
            await Assert.That($"{k}: {Elements(c, k)}").IsEqualTo($"{k}: {v}");
        }
        await Assert.That(want[p + "trim"]).IsEqualTo("2,3,4");
        await Assert.That(want[p + "dst"]).IsEqualTo("o,m");
        await Assert.That(c.Call("EXISTS", p + "src").Integer).IsEqualTo(0);
        await Assert.That(c.Call("OBJECT", "ENCODING", p + "quick").Text).IsEqualTo("quicklist");
        var ttl = c.Call("TTL", p + "ttl").Integer;
        await Assert.That(ttl > 900 && ttl <= 1000).IsTrue();
    }

    [Test]
    public async Task Lists_survive_kill_9_through_aof_replay_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            Dictionary<string, string> before, after;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always"))
            {
                using var c = new RespClient(server.Port);
                before = Write(c, "a:");
                await Assert.That(before["a:l"]).IsEqualTo("a,B,c,c2");
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK"); // these come back from the checkpoint
                after = Write(c, "b:"); // these from the AOF written after it
                c.Call("RPUSH", "a:l", "late"); // an update of a checkpointed list, replayed on top
                before["a:l"] = Elements(c, "a:l");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(before["a:l"]).IsEqualTo("a,B,c,c2,late");
                await Check(c, before, "a:");
                await Check(c, after, "b:");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Two clients push to one list (one at the head, one at the tail) and a third moves elements from it to
    /// another, all under appendfsync always; the server is killed with writes in flight. Every push
    /// acknowledged before the kill is in one of the two lists after the restart, in the order it was pushed.
    /// </summary>
    [Test]
    public async Task Acknowledged_pushes_survive_kill_9_under_appendfsync_always()
    {
        var dir = NewDir();
        try
        {
            var acked = new List<string>[2] { new(), new() };
            int moved = 0;
            int Acked() { lock (acked) return acked[0].Count + acked[1].Count; }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                var tasks = new List<Task>();
                for (int w = 0; w < 2; w++)
                {
                    int side = w;
                    tasks.Add(Task.Run(() =>
                    {
                        using var c = new RespClient(server.Port);
                        for (int i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
                        {
                            string e = (side == 0 ? "h" : "t") + i;
                            try
                            {
                                var r = c.Call(side == 0 ? "LPUSH" : "RPUSH", "q", e);
                                if (r.IsError) break;
                            }
                            catch (Exception) { break; } // the kill
                            lock (acked) acked[side].Add(e);
                        }
                    }));
                }
                tasks.Add(Task.Run(() =>
                {
                    using var c = new RespClient(server.Port);
                    for (int i = 0; i < 20_000 && !stop.IsCancellationRequested; i++)
                    {
                        try
                        {
                            if (c.Call("LMOVE", "q", "moved", "RIGHT", "LEFT").Text is not null) Interlocked.Increment(ref moved);
                        }
                        catch (Exception) { break; }
                    }
                }));
                // 1.5 s, or longer until 200 pushes are acknowledged: a CI machine under load acknowledged 31 in 1.5 s once.
                var clock = System.Diagnostics.Stopwatch.StartNew();
                await Task.Delay(1500);
                while (clock.Elapsed < TimeSpan.FromSeconds(15) && Acked() < 200) await Task.Delay(50);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
                stop.Cancel();
                await Task.WhenAll(tasks);
            }
            await Assert.That(acked[0].Count + acked[1].Count).IsGreaterThan(50);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                var q = c.Call("LRANGE", "q", "0", "-1").Items?.Select(x => x.Text!).ToList() ?? new List<string>();
                var m = c.Call("LRANGE", "moved", "0", "-1").Items?.Select(x => x.Text!).ToList() ?? new List<string>();
                var all = new HashSet<string>(q.Concat(m));
                await Assert.That(all.Count).IsEqualTo(q.Count + m.Count); // nothing twice
                await Assert.That(m.Count).IsGreaterThanOrEqualTo(moved); // no acknowledged move lost
                foreach (var side in acked)
                    foreach (var e in side)
                        if (!all.Contains(e)) await Assert.That($"lost {e}").IsEqualTo("");
                // In q, head pushes read newest first and tail pushes oldest first, each in its own order.
                var heads = q.Where(x => x[0] == 'h').Select(x => int.Parse(x[1..])).ToList();
                var tails = q.Where(x => x[0] == 't').Select(x => int.Parse(x[1..])).ToList();
                await Assert.That(heads.SequenceEqual(heads.OrderByDescending(x => x))).IsTrue();
                await Assert.That(tails.SequenceEqual(tails.Order())).IsTrue();
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
