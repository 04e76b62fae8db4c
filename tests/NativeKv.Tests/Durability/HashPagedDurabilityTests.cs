using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// Paged hashes against a C# model through the server process: random HSET/HDEL/HINCRBY/HGET over three
/// hashes that cross the listpack threshold both ways (grow past 128 fields, shrink to nothing, grow
/// again), then kill -9 and a restart from the AOF, then BGREWRITEAOF, more operations, kill -9 and a
/// restart again; and a 200k-field hash under maxmemory 16mb, so its bucket reads go to disk.
/// </summary>
public class HashPagedDurabilityTests
{
    private static readonly string[] Hashes = ["ha", "hb", "hc"];

    private sealed class Model
    {
        public readonly Dictionary<string, Dictionary<string, string>> Fields = Hashes.ToDictionary(h => h, _ => new Dictionary<string, string>(StringComparer.Ordinal));
        /// <summary>Whether the hash went past the thresholds in its life (paged, never back), as OBJECT ENCODING must say.</summary>
        public readonly Dictionary<string, bool> Paged = Hashes.ToDictionary(h => h, _ => false);
    }

    private static string Value(Random rng, int i)
    {
        int kind = rng.Next(100);
        if (kind < 3) return ""; // empty
        if (kind < 8) return new string((char)('a' + rng.Next(26)), 100) + i; // past hash-max-listpack-value: converts
        if (kind < 10) return new string((char)('A' + rng.Next(26)), 3000) + i; // out of line (over a quarter page)
        return "v" + i;
    }

    /// <summary>Runs <paramref name="ops"/> random operations, pipelined 100 at a time, each reply checked against the model.</summary>
    private static async Task RunOps(RespClient c, Random rng, Model m, int ops, int seq)
    {
        var expected = new List<object?>(100);
        for (int start = 0; start < ops; start += 100)
        {
            expected.Clear();
            for (int i = start; i < Math.Min(ops, start + 100); i++)
            {
                bool grow = (i / 1250) % 2 == 0;
                string h = Hashes[rng.Next(Hashes.Length)];
                var fields = m.Fields[h];
                int r = rng.Next(100);
                int hset = grow ? 60 : 15, hdel = grow ? 15 : 60, hincr = 10;
                if (r < hset)
                {
                    var args = new List<object> { "HSET", h };
                    int created = 0;
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        string f = "fld:" + rng.Next(250), v = Value(rng, seq++);
                        args.Add(f);
                        args.Add(v);
                        if (fields.TryAdd(f, v)) created++;
                        else fields[f] = v;
                        if (v.Length > 64) m.Paged[h] = true;
                    }
                    if (fields.Count > 128) m.Paged[h] = true;
                    c.Send(args.ToArray());
                    expected.Add((long)created);
                }
                else if (r < hset + hdel)
                {
                    var args = new List<object> { "HDEL", h };
                    int deleted = 0;
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        string f = rng.Next(5) == 0 ? "cnt:" + rng.Next(10) : "fld:" + rng.Next(250);
                        args.Add(f);
                        if (fields.Remove(f)) deleted++;
                    }
                    if (fields.Count == 0) m.Paged[h] = false; // the key is gone; a new one starts small
                    c.Send(args.ToArray());
                    expected.Add((long)deleted);
                }
                else if (r < hset + hdel + hincr)
                {
                    string f = "cnt:" + rng.Next(10);
                    long by = rng.Next(-1000, 1000);
                    long now = (fields.TryGetValue(f, out var old) ? long.Parse(old) : 0) + by;
                    fields[f] = now.ToString();
                    if (fields.Count > 128) m.Paged[h] = true;
                    c.Send("HINCRBY", h, f, by);
                    expected.Add(now);
                }
                else
                {
                    string f = "fld:" + rng.Next(250);
                    c.Send("HGET", h, f);
                    expected.Add(fields.TryGetValue(f, out var v) ? v : null);
                }
            }
            foreach (var want in expected)
            {
                var got = c.Read();
                if (want is long n) await Assert.That(got.Integer).IsEqualTo(n);
                else await Assert.That(got.Text).IsEqualTo((string?)want);
            }
        }
    }

    private static async Task Compare(RespClient c, Model m)
    {
        foreach (var h in Hashes)
        {
            var fields = m.Fields[h];
            if (fields.Count == 0)
            {
                await Assert.That(c.Call("EXISTS", h).Integer).IsEqualTo(0);
                continue;
            }
            await Assert.That(c.Call("HLEN", h).Integer).IsEqualTo(fields.Count);
            await Assert.That(c.Call("OBJECT", "ENCODING", h).Text).IsEqualTo(m.Paged[h] ? "hashtable" : "listpack");
            var all = c.Call("HGETALL", h).Items!;
            var got = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < all.Length; i += 2) got[all[i].Text!] = all[i + 1].Text!;
            await Assert.That(got.Count).IsEqualTo(fields.Count);
            foreach (var (f, v) in fields) await Assert.That($"{h}.{f}={(got.TryGetValue(f, out var g) ? g : "(missing)")}").IsEqualTo($"{h}.{f}={v}");
            foreach (var (f, v) in fields) c.Send("HGET", h, f);
            foreach (var (f, v) in fields) await Assert.That(c.Read().Text).IsEqualTo(v);
        }
    }

    private static async Task WaitRewrite(RespClient c)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (c.Call("INFO", "persistence").Text!.Contains("aof_rewrite_in_progress:1") && DateTime.UtcNow < deadline) await Task.Delay(50);
        await Assert.That(c.Call("INFO", "persistence").Text!).Contains("aof_rewrite_in_progress:0");
    }

    [Test]
    public async Task Random_operations_match_a_model_across_kill_9_and_a_rewrite()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-phash-" + Guid.NewGuid().ToString("N"));
        var rng = new Random(20261201);
        var m = new Model();
        int seq = 0;
        string[] options = ["--appendonly", "yes", "--appendfsync", "always", "--save", ""];
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, options))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await RunOps(c, rng, m, 10_000, seq);
                seq += 100_000;
                // The run crossed the threshold: some hash is paged now (else the test shows nothing).
                await Assert.That(Hashes.Any(h => m.Paged[h])).IsTrue();
                await Compare(c, m);
                server.Process.Kill();
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            await using (var server = await ServerProcess.StartInAsync(dir, options))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Compare(c, m);
                await Assert.That(c.Call("BGREWRITEAOF").Text).IsEqualTo("Background append only file rewriting started");
                await WaitRewrite(c);
                await RunOps(c, rng, m, 3000, seq);
                server.Process.Kill();
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            await using (var server = await ServerProcess.StartInAsync(dir, options))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Compare(c, m);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// 200,000 fields of 100-byte values: about 6,000 bucket pages of 4 KB, past what maxmemory 16mb keeps in
    /// memory, so HGET, HMGET, HSCAN and HGETALL read buckets from disk (the command waits and runs again,
    /// its rounds before answered from their slots). Every field must come back, and HSCAN must return all.
    /// </summary>
    [Test]
    public async Task A_200k_field_hash_under_maxmemory_reads_back_from_disk()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        const int n = 200_000, batch = 1000;
        var pad = new string('p', 90);
        string V(int i) => pad + i;
        for (int i = 0; i < n; i += batch * 10)
        {
            for (int j = i; j < i + batch * 10; j += batch)
                c.Send(new object[] { "HSET", "big" }.Concat(Enumerable.Range(j, batch).SelectMany(k => new object[] { "field:" + k, V(k) })).ToArray());
            for (int j = i; j < i + batch * 10; j += batch) await Assert.That(c.Read().Integer).IsEqualTo(batch);
        }
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(n);
        long readsBefore = DiskReads(c);

        for (int i = 0; i < 3000; i++) c.Send("HGET", "big", "field:" + (i * 61 % n));
        for (int i = 0; i < 3000; i++) await Assert.That(c.Read().Text).IsEqualTo(V(i * 61 % n));
        // A few fields at once, each read in its bucket's record, cold ones waiting on disk together.
        for (int i = 0; i < 500; i++) c.Send("HMGET", "big", "field:" + (i * 97 % n), "nosuch", "field:" + (i * 89 % n), "field:" + (i * 83 % n));
        for (int i = 0; i < 500; i++)
        {
            var got = c.Read().Items!;
            await Assert.That(got[0].Text).IsEqualTo(V(i * 97 % n));
            await Assert.That(got[1].IsNull).IsTrue();
            await Assert.That(got[2].Text).IsEqualTo(V(i * 89 % n));
            await Assert.That(got[3].Text).IsEqualTo(V(i * 83 % n));
        }

        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        string cursor = "0";
        int calls = 0;
        do
        {
            var r = c.Call("HSCAN", "big", cursor, "COUNT", "1000");
            cursor = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) seen[items[i].Text!] = items[i + 1].Text!;
        } while (cursor != "0" && ++calls < 100_000);
        await Assert.That(seen.Count).IsEqualTo(n);
        for (int i = 0; i < n; i++) await Assert.That(seen.TryGetValue("field:" + i, out var v) && v == V(i)).IsTrue();

        for (int i = 0; i < n; i += 20_000)
        {
            var got = c.Call(new object[] { "HMGET", "big" }.Concat(Enumerable.Range(i, 20_000).Select(k => (object)("field:" + k))).ToArray()).Items!;
            for (int k = 0; k < got.Length; k++) await Assert.That(got[k].Text).IsEqualTo(V(i + k));
        }
        var all = c.Call("HGETALL", "big").Items!;
        await Assert.That(all.Length).IsEqualTo(2 * n);
        var fromAll = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < all.Length; i += 2)
        {
            await Assert.That(all[i + 1].Text).IsEqualTo(V(int.Parse(all[i].Text!.AsSpan(6))));
            fromAll.Add(all[i].Text!);
        }
        await Assert.That(fromAll.Count).IsEqualTo(n);
        await Assert.That(c.Call("HKEYS", "big").Items!.Length).IsEqualTo(n);

        // Random picks, deletes and increments on the cold hash: their bucket reads wait on disk too.
        var picks = c.Call("HRANDFIELD", "big", "-3000", "WITHVALUES").Items!;
        await Assert.That(picks.Length).IsEqualTo(6000);
        for (int i = 0; i < picks.Length; i += 2) await Assert.That(picks[i + 1].Text).IsEqualTo(V(int.Parse(picks[i].Text!.AsSpan(6))));
        var distinct = c.Call("HRANDFIELD", "big", "300").Items!.Select(x => x.Text!).ToList();
        await Assert.That(distinct.Distinct().Count()).IsEqualTo(300);
        for (int i = 0; i < 50; i++) c.Send("HRANDFIELD", "big");
        for (int i = 0; i < 50; i++) await Assert.That(c.Read().Text!).StartsWith("field:");
        for (int j = 0; j < 20; j++) c.Send(new object[] { "HDEL", "big" }.Concat(Enumerable.Range(j * 5000, 100).Select(k => (object)("field:" + k))).ToArray());
        for (int j = 0; j < 20; j++) await Assert.That(c.Read().Integer).IsEqualTo(100);
        for (int j = 0; j < 200; j++) c.Send("HINCRBY", "big", "field:" + (100 + j * 13), "1"); // fields the HDELs left
        for (int j = 0; j < 200; j++) await Assert.That(c.Read().Text).IsEqualTo("ERR hash value is not an integer");
        for (int j = 0; j < 200; j++) c.Send("HINCRBY", "big", "counter:" + j, j);
        for (int j = 0; j < 200; j++) await Assert.That(c.Read().Integer).IsEqualTo(j);
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(n - 2000 + 200);
        await Assert.That(c.Call("HEXISTS", "big", "field:5000").Integer).IsEqualTo(0);
        await Assert.That(c.Call("HGET", "big", "field:5100").Text).IsEqualTo(V(5100));
        await Assert.That(c.Call("HGET", "big", "counter:77").Text).IsEqualTo("77");
        await Assert.That(DiskReads(c) - readsBefore).IsGreaterThan(1000);
    }

    /// <summary>
    /// The AOF grows by an element's worth per change of a paged hash, never by a rewrite of it (issue 12:
    /// at most 200 bytes per HSET of a new 16-byte field, on average over 10,000): a 20,000-field hash,
    /// then HSETs of new fields one per command. The bytes are counted from aof_current_size, which counts
    /// what the log holds once the reply is out (everysec only delays the fsync).
    /// </summary>
    [Test]
    public async Task Each_HSET_into_a_big_hash_adds_an_element_to_the_AOF_not_the_hash()
    {
        await using var server = await ServerProcess.StartAsync("--appendonly", "yes", "--appendfsync", "everysec", "--save", "");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 20_000, batch = 500, added = 10_000;
        for (int i = 0; i < n; i += batch)
            c.Send(new object[] { "HSET", "big" }.Concat(Enumerable.Range(i, batch).SelectMany(k => new object[] { $"f:{k:D14}", $"v:{k:D30}" })).ToArray());
        for (int i = 0; i < n; i += batch) await Assert.That(c.Read().Integer).IsEqualTo(batch);
        await Assert.That(c.Call("OBJECT", "ENCODING", "big").Text).IsEqualTo("hashtable");
        long before = (long)ServerInfo.Field(c, "persistence", "aof_current_size");

        for (int i = n; i < n + added; i++) c.Send("HSET", "big", $"f:{i:D14}", $"v:{i:D30}");
        for (int i = n; i < n + added; i++) await Assert.That(c.Read().Integer).IsEqualTo(1);
        long after = (long)ServerInfo.Field(c, "persistence", "aof_current_size");
        double perHset = (after - before) / (double)added;
        Console.WriteLine($"AOF bytes per HSET of a new 16-byte field (32-byte value) into a {n}-field hash: {perHset:F1}");
        await Assert.That(perHset).IsGreaterThan(16 + 32);
        await Assert.That(perHset).IsLessThanOrEqualTo(200);
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(n + added);
    }

    private static long DiskReads(RespClient c) =>
        (long)(ServerInfo.Field(c, "memory", "store_disk_reads") + ServerInfo.Field(c, "memory", "store_disk_prefetches"));
}
