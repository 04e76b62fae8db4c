using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// Paged sets through a real server process: random writes over three sets crossing the thresholds
/// against a C# model, kill -9 and restart (AOF element records replayed onto the pages), a rewrite
/// (BGREWRITEAOF), more writes, kill -9 again; and a set of 200k members under a 16 MB maxmemory.
/// </summary>
public class SetPagedDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-psets-" + Guid.NewGuid().ToString("N"));

    private static readonly string[] Keys = ["s0", "s1", "s2"];

    /// <summary>Members: integers and strings (so the sets go intset -> listpack/hashtable), now and then a long one.</summary>
    private static string Member(Random rnd) => rnd.Next(100) switch
    {
        < 45 => rnd.Next(900).ToString(),
        < 99 => "m" + rnd.Next(800),
        _ => new string('L', 65) + rnd.Next(20),
    };

    /// <summary>
    /// <paramref name="ops"/> random SADD/SREM/SPOP/SMOVE, pipelined 100 at a time; every reply is checked
    /// against the model (SPOP's tells it what went). Writes outnumber removals early, so the sets grow past
    /// the thresholds and then hover around a thousand members.
    /// </summary>
    private static void Run(RespClient c, Dictionary<string, HashSet<string>> model, Random rnd, int ops)
    {
        var sent = new List<object[]>();
        for (int done = 0; done < ops; done += sent.Count)
        {
            sent.Clear();
            for (int i = 0; i < 100 && done + i < ops; i++)
            {
                string key = Keys[rnd.Next(3)];
                int total = model.Values.Sum(m => m.Count);
                int op = rnd.Next(100);
                object[] cmd = op switch
                {
                    _ when op < (total < 2400 ? 60 : 35) => new object[] { "SADD", key }.Concat(Enumerable.Range(0, 1 + rnd.Next(5)).Select(_ => (object)Member(rnd))).ToArray(),
                    < 70 => new object[] { "SREM", key }.Concat(Enumerable.Range(0, 1 + rnd.Next(3)).Select(_ => (object)Member(rnd))).ToArray(),
                    < 80 => ["SPOP", key],
                    < 85 => ["SPOP", key, (1 + rnd.Next(4)).ToString()],
                    _ => ["SMOVE", key, Keys[rnd.Next(3)], Member(rnd)],
                };
                sent.Add(cmd);
                c.Send(cmd);
            }
            foreach (var cmd in sent)
            {
                var r = c.Read();
                var op = (string)cmd[0];
                var set = model[(string)cmd[1]];
                switch (op)
                {
                    case "SADD":
                        Expect(r.Integer, cmd.Skip(2).Count(m => set.Add((string)m)), cmd);
                        break;
                    case "SREM":
                        Expect(r.Integer, cmd.Skip(2).Count(m => set.Remove((string)m)), cmd);
                        break;
                    case "SPOP" when cmd.Length == 2:
                        if (set.Count == 0) Expect(r.IsNull ? 1 : 0, 1, cmd);
                        else Expect(set.Remove(r.Text!) ? 1 : 0, 1, cmd);
                        break;
                    case "SPOP":
                        var popped = r.Items!.Select(x => x.Text!).ToList();
                        Expect(popped.Count, Math.Min(set.Count, int.Parse((string)cmd[2])), cmd);
                        foreach (var m in popped) Expect(set.Remove(m) ? 1 : 0, 1, cmd);
                        break;
                    default:
                        var to = model[(string)cmd[2]];
                        var member = (string)cmd[3];
                        bool moved = set.Contains(member);
                        Expect(r.Integer, moved ? 1 : 0, cmd);
                        if (moved && !ReferenceEquals(set, to))
                        {
                            set.Remove(member);
                            to.Add(member);
                        }
                        break;
                }
            }
        }
    }

    private static void Expect(long got, long want, object[] cmd)
    {
        if (got != want) throw new InvalidOperationException($"{string.Join(' ', cmd)}: replied {got}, the model says {want}");
    }

    private static async Task Compare(RespClient c, Dictionary<string, HashSet<string>> model, string when)
    {
        foreach (var k in Keys)
        {
            var want = model[k];
            var got = c.Call("SMEMBERS", k).Items!.Select(x => x.Text!).ToHashSet();
            await Assert.That($"{when} {k}: {got.Count} {got.SetEquals(want)}").IsEqualTo($"{when} {k}: {want.Count} True");
            await Assert.That(c.Call("SCARD", k).Integer).IsEqualTo(want.Count);
        }
    }

    private static async Task WaitForRewrite(RespClient c)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            var info = c.Call("INFO", "persistence").Text!;
            if (info.Contains("aof_rewrite_in_progress:0") && info.Contains("aof_rewrites:1")) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("BGREWRITEAOF did not finish in 30 s");
    }

    [Test]
    public async Task Random_writes_over_paged_sets_survive_kill_9_and_a_rewrite()
    {
        var dir = NewDir();
        var rnd = new Random(20261201);
        var model = Keys.ToDictionary(k => k, _ => new HashSet<string>());
        try
        {
            string[] opts = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
            await using (var server = await ServerProcess.StartInAsync(dir, opts))
            {
                using var c = new RespClient(server.Port);
                Run(c, model, rnd, 10_000);
                await Assert.That(model.Values.Count(m => m.Count > 512)).IsGreaterThan(0);
                foreach (var k in Keys)
                    if (model[k].Count > 0) await Assert.That(c.Call("OBJECT", "ENCODING", k).Text).IsEqualTo("hashtable");
                await Compare(c, model, "before kill");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, opts))
            {
                using var c = new RespClient(server.Port);
                await Compare(c, model, "after kill");
                await Assert.That(c.Call("BGREWRITEAOF").IsError).IsFalse();
                await WaitForRewrite(c);
                Run(c, model, rnd, 3000);
                await Compare(c, model, "after rewrite");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, opts))
            {
                using var c = new RespClient(server.Port);
                await Compare(c, model, "after rewrite and kill");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task A_200k_member_set_under_16mb_of_maxmemory_comes_back_whole()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 200_000;
        string M(int i) => $"member:{i:D7}:" + new string('p', 44); // 60 bytes: 12 MB of members, past the log's 16 MB with pages
        for (int i = 0; i < n; i += 200)
        {
            var r = c.Call(new object[] { "SADD", "big" }.Concat(Enumerable.Range(i, 200).Select(j => (object)M(j))).ToArray());
            await Assert.That(r.Integer).IsEqualTo(200);
        }
        await Assert.That(c.Call("SCARD", "big").Integer).IsEqualTo(n);
        var members = c.Call("SMEMBERS", "big").Items!.Select(x => x.Text!).ToHashSet();
        await Assert.That(members.Count).IsEqualTo(n);
        await Assert.That(members.SetEquals(Enumerable.Range(0, n).Select(M))).IsTrue();
        var seen = new HashSet<string>();
        string cursor = "0";
        int steps = 0;
        do
        {
            var r = c.Call("SSCAN", "big", cursor, "COUNT", "500");
            cursor = r.Items![0].Text!;
            foreach (var x in r.Items[1].Items!) seen.Add(x.Text!);
        } while (cursor != "0" && ++steps < 100_000);
        await Assert.That(seen.Count).IsEqualTo(n);
        foreach (int i in new[] { 0, 1, 99_999, 199_999 }) await Assert.That(c.Call("SISMEMBER", "big", M(i)).Integer).IsEqualTo(1);
        await Assert.That(c.Call("SISMEMBER", "big", M(n)).Integer).IsEqualTo(0);
        // The log spilled: pages were read back from disk.
        var info = c.Call("INFO", "memory").Text!;
        long diskReads = long.Parse(info.Split("\r\n").First(l => l.StartsWith("store_disk_reads:"))["store_disk_reads:".Length..]);
        await Assert.That(diskReads).IsGreaterThan(0);
        await server.DisposeAsync();
        server.DeleteData();
    }
}
