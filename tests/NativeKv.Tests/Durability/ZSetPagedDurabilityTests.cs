using System.Globalization;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// Paged sorted sets through kill -9: acknowledged ZADD/ZINCRBY/ZREM/pops/ZREMRANGEBYRANK under appendfsync always
/// come back (element records, not the set, in the AOF); a checkpoint plus the records after it rebuild the set;
/// and a 100k-member set under a 16 MB maxmemory answers ZSCORE, ZRANK and ZRANGE from cold pages.
/// </summary>
public class ZSetPagedDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-pzsets-" + Guid.NewGuid().ToString("N"));

    private static long Info(RespClient c, string section, string field)
    {
        var line = c.Call("INFO", section).Text!.Split("\r\n").First(l => l.StartsWith(field + ":"));
        return long.Parse(line[(field.Length + 1)..]);
    }

    private static string Flat(RespClient c, string key) => string.Join(",", c.Call("ZRANGE", key, "0", "-1", "WITHSCORES").Items!.Select(x => x.Text));

    private static string Flat(SortedDictionary<(double, string), bool> model) =>
        string.Join(",", model.Keys.Select(k => $"{k.Item2},{k.Item1.ToString(CultureInfo.InvariantCulture)}"));

    [Test]
    public async Task Changes_to_a_paged_set_log_a_record_each_and_survive_kill_9_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            const int n = 50_000, more = 5_000;
            var scores = new Dictionary<string, double>();
            var rng = new Random(5);
            long before, after;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                for (int i = 0; i < n; i += 1000)
                {
                    var args = new List<object> { "ZADD", "z" };
                    for (int j = i; j < i + 1000; j++)
                    {
                        int s = rng.Next(100_000);
                        args.Add(s.ToString());
                        args.Add("m" + j);
                        scores["m" + j] = s;
                    }
                    c.Call(args.ToArray());
                }
                await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
                before = Info(c, "persistence", "aof_current_size");
                for (int i = n; i < n + more; i++)
                {
                    await Assert.That(c.Call("ZADD", "z", i.ToString(), "m" + i).Integer).IsEqualTo(1);
                    scores["m" + i] = i;
                }
                after = Info(c, "persistence", "aof_current_size");
                await Assert.That(c.Call("ZINCRBY", "z", "7", "m10").Text).IsEqualTo((scores["m10"] + 7).ToString(CultureInfo.InvariantCulture));
                scores["m10"] += 7;
                await Assert.That(c.Call("ZREM", "z", "m11", "m12", "nope").Integer).IsEqualTo(2);
                scores.Remove("m11");
                scores.Remove("m12");
                Pop(c, scores, "ZPOPMIN", 30);
                Pop(c, scores, "ZPOPMAX", 20);
                var ordered = scores.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToList();
                await Assert.That(c.Call("ZREMRANGEBYRANK", "z", "100", "199").Integer).IsEqualTo(100);
                foreach (var p in ordered.Skip(100).Take(100)) scores.Remove(p.Key);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            // An element's record a ZADD: far from the set's megabyte.
            await Assert.That((after - before) / (double)more).IsLessThanOrEqualTo(200);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Assert.That(c.Call("ZCARD", "z").Integer).IsEqualTo(scores.Count);
                await Assert.That(Flat(c, "z")).IsEqualTo(Flat(Model(scores)));
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                for (int i = 0; i < 500; i++)
                {
                    c.Call("ZADD", "z", (-i - 1).ToString(), "h" + i);
                    scores["h" + i] = -i - 1;
                }
                Pop(c, scores, "ZPOPMAX", 300);
                c.Call("ZREM", "z", "m20");
                scores.Remove("m20");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Assert.That(c.Call("ZCARD", "z").Integer).IsEqualTo(scores.Count);
                await Assert.That(Flat(c, "z")).IsEqualTo(Flat(Model(scores)));
                await Assert.That(c.Call("ZSCORE", "z", "h7").Text).IsEqualTo("-8");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    private static SortedDictionary<(double, string), bool> Model(Dictionary<string, double> scores)
    {
        var m = new SortedDictionary<(double, string), bool>(Comparer<(double, string)>.Create((a, b) => a.Item1 != b.Item1 ? a.Item1.CompareTo(b.Item1) : string.CompareOrdinal(a.Item2, b.Item2)));
        foreach (var (k, v) in scores) m[(v, k)] = true;
        return m;
    }

    private static void Pop(RespClient c, Dictionary<string, double> scores, string cmd, int k)
    {
        var r = c.Call(cmd, "z", k.ToString()).Items!;
        var want = (cmd == "ZPOPMIN" ? Model(scores).Keys : Model(scores).Keys.Reverse()).Take(k).ToList();
        for (int i = 0; i < k; i++)
        {
            if (r[2 * i].Text != want[i].Item2) throw new InvalidOperationException($"{cmd} {i}: {r[2 * i].Text}, want {want[i].Item2}");
            scores.Remove(want[i].Item2);
        }
    }

    [Test]
    public async Task A_100k_member_set_under_16mb_of_maxmemory_answers_from_disk()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 100_000;
        string M(int i) => $"member:{i:D7}:" + new string('p', 40);
        for (int i = 0; i < n; i += 500)
            c.Call(new object[] { "ZADD", "big" }.Concat(Enumerable.Range(i, 500).SelectMany(j => new object[] { (j * 2).ToString(), M(j) })).ToArray());
        for (int i = 0; i < 20_000; i += 100)
            c.Call(Enumerable.Range(i, 100).SelectMany(j => new object[] { "fill:" + j, new string('f', 1000) }).Prepend("MSET").ToArray());
        long readsBefore = Info(c, "memory", "store_disk_reads");
        foreach (int i in new[] { 0, 1, 49_999, 77_777, n - 1 })
        {
            await Assert.That(c.Call("ZSCORE", "big", M(i)).Text).IsEqualTo((i * 2).ToString());
            await Assert.That(c.Call("ZRANK", "big", M(i)).Integer).IsEqualTo(i);
        }
        await Assert.That(Info(c, "memory", "store_disk_reads")).IsGreaterThan(readsBefore);
        var range = c.Call("ZRANGE", "big", "50000", "50009").Items!;
        await Assert.That(string.Join(",", range.Select(x => x.Text))).IsEqualTo(string.Join(",", Enumerable.Range(50_000, 10).Select(M)));
        await Assert.That(c.Call("ZCOUNT", "big", "1000", "(2000").Integer).IsEqualTo(500);
        await server.DisposeAsync();
        server.DeleteData();
    }

    /// <summary>
    /// Members past the tree's prefix (in chunks; groups sharing their first 982 bytes at one score, ordered by the chunks)
    /// added, moved to other scores, removed, popped and range-removed under appendfsync always, then kill -9: the AOF's
    /// element records (each carrying the full member) replay to the same set; then a checkpoint, more changes and a second
    /// kill -9: the checkpoint's pages and chunks plus the records after it. Under a maxmemory that sends chunks to disk.
    /// </summary>
    [Test]
    public async Task Long_members_survive_kill_9_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            int prefix = NativeKv.Server.Storage.Values.Paged.ZSetLongMembers.PrefixLength(
                NativeKv.Server.Storage.Values.Paged.TreeMeta.Create(1, NativeKv.Server.Storage.Values.Paged.TreeMode.Ordered));
            var rng = new Random(9);
            var scores = new Dictionary<string, double>(StringComparer.Ordinal);
            string group = new string('j', prefix);
            string Long() => rng.Next(3) switch
            {
                0 => group + string.Concat(Enumerable.Range(0, rng.Next(1, 30)).Select(_ => (char)('a' + rng.Next(2)))),
                1 => group + new string('t', rng.Next(1000, 3000)) + rng.Next(100),
                _ => "L" + rng.Next(1000) + ":" + new string('x', rng.Next(10) == 0 ? rng.Next(70_000, 150_000) : rng.Next(1000, 5000)),
            };
            string Model()
            {
                var l = scores.ToList();
                l.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : string.CompareOrdinal(a.Key, b.Key));
                return string.Join(",", l.Select(p => $"{p.Key},{p.Value.ToString(CultureInfo.InvariantCulture)}"));
            }
            void Changes(RespClient c, int steps)
            {
                for (int step = 0; step < steps; step++)
                {
                    var present = scores.Keys.ToList();
                    int op = rng.Next(10);
                    if (op < 5)
                    {
                        string m = Long();
                        double s = m.StartsWith(group, StringComparison.Ordinal) ? rng.Next(2) : rng.Next(-50, 50);
                        long want = scores.ContainsKey(m) ? 0 : 1;
                        if (c.Call("ZADD", "z", s.ToString(CultureInfo.InvariantCulture), m).Integer != want) throw new InvalidOperationException($"step {step}: ZADD");
                        scores[m] = s;
                    }
                    else if (op < 6 && present.Count > 0)
                    {
                        string m = present[rng.Next(present.Count)];
                        scores[m] += 1;
                        c.Call("ZINCRBY", "z", "1", m);
                    }
                    else if (op < 7 && present.Count > 0)
                    {
                        string m = present[rng.Next(present.Count)];
                        scores.Remove(m);
                        if (c.Call("ZREM", "z", m).Integer != 1) throw new InvalidOperationException($"step {step}: ZREM");
                    }
                    else if (op < 8 && scores.Count > 10)
                    {
                        var low = scores.OrderBy(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First();
                        var got = c.Call("ZPOPMIN", "z").Items!;
                        if (got[0].Text != low.Key) throw new InvalidOperationException($"step {step}: ZPOPMIN gave another member");
                        scores.Remove(low.Key);
                    }
                    else if (op < 9 && scores.Count > 10)
                    {
                        var l = scores.ToList();
                        l.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : string.CompareOrdinal(a.Key, b.Key));
                        foreach (var p in l.Skip(3).Take(2)) scores.Remove(p.Key);
                        c.Call("ZREMRANGEBYRANK", "z", "3", "4");
                    }
                    else
                    {
                        string m = "short" + rng.Next(200);
                        int s = rng.Next(-50, 50);
                        c.Call("ZADD", "z", s.ToString(CultureInfo.InvariantCulture), m);
                        scores[m] = s;
                    }
                }
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                c.Call("CONFIG", "SET", "zset-max-listpack-entries", "8");
                Changes(c, 400);
                await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
                await Assert.That(scores.Keys.Count(k => k.StartsWith(group, StringComparison.Ordinal) && k.Length > prefix)).IsGreaterThan(10);
                await Assert.That(Flat(c, "z")).IsEqualTo(Model());
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Assert.That(Flat(c, "z")).IsEqualTo(Model());
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                Changes(c, 200);
                await Assert.That(Flat(c, "z")).IsEqualTo(Model());
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Assert.That(Flat(c, "z")).IsEqualTo(Model());
                foreach (var m in scores.Keys.Take(20))
                    await Assert.That(c.Call("ZSCORE", "z", m).Text).IsEqualTo(scores[m].ToString(CultureInfo.InvariantCulture));
                // Popped to the end from the recovered pages and chunks.
                var l = scores.ToList();
                l.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : string.CompareOrdinal(a.Key, b.Key));
                var popped = c.Call("ZPOPMIN", "z", l.Count.ToString()).Items!;
                await Assert.That(string.Join(",", popped.Select(x => x.Text))).IsEqualTo(string.Join(",", l.Select(p => $"{p.Key},{p.Value.ToString(CultureInfo.InvariantCulture)}")));
                await Assert.That(c.Call("EXISTS", "z").Integer).IsEqualTo(0);
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }
}
