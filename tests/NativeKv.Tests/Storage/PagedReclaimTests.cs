using System.Diagnostics;
using NativeKv.Tests.Infrastructure;
using static NativeKv.Tests.Storage.PagedLoad;

namespace NativeKv.Tests.Storage;

/// <summary>
/// Compaction and paged collections: a dead collection's pages are dropped in the background (INFO
/// store_pages_reclaimed, store_dead_page_bytes, the log's span), a live one's never are.
/// </summary>
public class PagedReclaimTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-reclaim-" + Guid.NewGuid().ToString("N"));

    [Test]
    [Timeout(300_000)]
    public async Task A_deleted_hash_pages_are_compacted_away_while_other_keys_answer(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        for (int i = 0; i < 1000; i++) c.Call("SET", "k" + i, "value-" + i);
        const int n = 200_000;
        Load(c, "h", 0, n, 0, 100);
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(n);
        long pages = Info(c, "store_live_page_bytes");
        await Assert.That(pages).IsGreaterThan(20L << 20); // ~150 B a field
        // Let the load's own compactions finish: the log then holds the hash's pages and little else.
        await Task.Delay(2500, ct);
        long spanBefore = Info(c, "store_log_span");
        long reclaimedBefore = Info(c, "store_pages_reclaimed");
        await Assert.That(spanBefore).IsGreaterThan(pages / 2);

        var (del, ms) = Timed(c, "DEL", "h");
        await Assert.That(del.Integer).IsEqualTo(1);
        // O(1): a DEL that walked the hash's ~5k bucket pages would take seconds. The issue's 50 ms is a
        // benchmark figure (perf/big-collection.sh); beside the rest of the suite one DEL took 222 ms once.
        await Assert.That(ms).IsLessThan(1000);
        await Assert.That(Info(c, "store_dead_page_bytes")).IsGreaterThanOrEqualTo(pages);

        // Compaction runs on the maintenance thread (checked once a second); meanwhile other keys answer.
        var sw = Stopwatch.StartNew();
        double worstGet = 0;
        int round = 0;
        while (sw.Elapsed < TimeSpan.FromSeconds(60) && Info(c, "store_dead_page_bytes") > 0)
        {
            for (int i = 0; i < 100; i++, round++)
            {
                int k = round % 1000;
                var (get, getMs) = Timed(c, "GET", "k" + k);
                await Assert.That(get.Text).IsEqualTo("value-" + k);
                worstGet = Math.Max(worstGet, getMs);
            }
            await Task.Delay(50, ct);
        }
        await Assert.That(Info(c, "store_dead_page_bytes")).IsEqualTo(0);
        await Assert.That(Info(c, "store_pages_reclaimed")).IsGreaterThan(reclaimedBefore + 4000); // ~5k bucket pages of 4 KB
        long spanAfter = Info(c, "store_log_span");
        await Assert.That(spanAfter).IsLessThan(spanBefore / 4);
        await Assert.That(c.Call("EXISTS", "h").Integer).IsEqualTo(0);
        for (int i = 0; i < 1000; i++) await Assert.That(c.Call("GET", "k" + i).Text).IsEqualTo("value-" + i);
        Console.WriteLine($"reclaimed in {sw.ElapsedMilliseconds} ms: log span {spanBefore >> 20} -> {spanAfter >> 20} MB, worst GET {worstGet:F1} ms");
    }

    /// <summary>
    /// Loading a hash four times the log memory runs compactions that copy its pages to the tail while HSETs
    /// read them from disk; then a cold COPY reads them all back (thousands of reads, several reruns).
    /// A page read that lost that race answered "missing" and its bucket was rewritten empty: 476-1652 of the
    /// 200k fields lost in four runs of five before the fix (StoreFunctions.ReadCompletionCallback).
    /// </summary>
    [Test]
    [Timeout(300_000)]
    public async Task A_hash_four_times_the_log_memory_and_its_cold_copy_read_back_whole(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 200_000;
        Load(c, "h", 0, n, 0, 100);
        for (int i = 0; i < 10; i++) c.Call("HSET", "h", "big" + i, new string((char)('A' + i), 3000 + i));
        await Assert.That(Info(c, "store_compactions")).IsGreaterThan(0);
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(n + 10);
        await Assert.That(Mismatches(c, "h", 0, n, i => Value(i, 0, 100))).IsEqualTo(0);
        // Push the hash's pages out of memory, then copy it.
        var commands = new List<byte[]>();
        for (int i = 0; i < 30_000; i++) commands.Add(RespClient.Encode("SET", "k" + i, new string('x', 1000)));
        Run(c, commands);
        long diskReads = Info(c, "store_disk_reads");
        await Assert.That(c.Call("COPY", "h", "h2").Integer).IsEqualTo(1);
        await Assert.That(Info(c, "store_disk_reads")).IsGreaterThan(diskReads + 1000);
        await Assert.That(c.Call("HLEN", "h2").Integer).IsEqualTo(n + 10);
        await Assert.That(Mismatches(c, "h2", 0, n, i => Value(i, 0, 100))).IsEqualTo(0);
        for (int i = 0; i < 10; i++) await Assert.That(c.Call("HGET", "h2", "big" + i).Text).IsEqualTo(new string((char)('A' + i), 3000 + i));
        await Assert.That(Mismatches(c, "h", 0, n, i => Value(i, 0, 100))).IsEqualTo(0);
    }

    /// <summary>
    /// Hashes renamed, copied, moved, deleted and remade, while 1 KB SETs churn the log so compaction runs
    /// again and again, before and after a restart (the live table rebuilt from the checkpoint and the
    /// AOF): every field of every live hash is still there, against a model.
    /// </summary>
    [Test]
    [Timeout(600_000)]
    public async Task Live_collections_keep_every_page_through_many_compactions_and_a_restart(CancellationToken ct)
    {
        var dir = NewDir();
        var rng = new Random(12);
        // key -> (fields, value length, round): fields [0, fields) hold Value(i, round, length).
        var model = new Dictionary<string, (int Fields, int Length, int Round)>();
        string filler = new('z', 2000);
        int roundNo = 0;

        void Churn(RespClient c, int megabytes)
        {
            var commands = new List<byte[]>();
            // Random lengths: a longer value than the record's is copied to the tail (same-size SETs update in place and never fill the log).
            for (int i = 0; i < megabytes * 1024; i++) commands.Add(RespClient.Encode("SET", "churn" + rng.Next(2000), filler[..rng.Next(100, 1900)]));
            foreach (var r in Run(c, commands))
                if (r.IsError) throw new InvalidDataException("SET: " + r);
        }

        void Step(RespClient c)
        {
            var keys = model.Keys.Order(StringComparer.Ordinal).ToList();
            switch (rng.Next(6))
            {
                case 0 when model.Count < 6:
                {
                    string k = "h" + rng.Next(1000);
                    if (model.ContainsKey(k)) break;
                    int fields = rng.Next(2000, 15000), length = rng.Next(10, 80);
                    c.Call("DEL", k);
                    Load(c, k, 0, fields, ++roundNo, length);
                    model[k] = (fields, length, roundNo);
                    break;
                }
                case 1 when keys.Count > 0:
                {
                    // Rewrite some fields of a hash with a new round's values (every field, so the model stays one round).
                    string k = keys[rng.Next(keys.Count)];
                    var m = model[k];
                    Load(c, k, 0, m.Fields, ++roundNo, m.Length);
                    model[k] = m with { Round = roundNo };
                    break;
                }
                case 2 when keys.Count > 0:
                {
                    string k = keys[rng.Next(keys.Count)], to = "h" + rng.Next(1000);
                    if (to == k) break;
                    c.Call("RENAME", k, to);
                    model[to] = model[k];
                    model.Remove(k);
                    break;
                }
                case 3 when keys.Count > 0:
                {
                    string k = keys[rng.Next(keys.Count)], to = "h" + rng.Next(1000);
                    if (to == k) break;
                    c.Call("COPY", k, to, "REPLACE");
                    model[to] = model[k];
                    break;
                }
                case 4 when keys.Count > 1:
                {
                    string k = keys[rng.Next(keys.Count)];
                    c.Call("DEL", k);
                    model.Remove(k);
                    break;
                }
                case 5 when keys.Count > 0:
                {
                    // There and back through another database.
                    string k = keys[rng.Next(keys.Count)];
                    if (c.Call("MOVE", k, "3").Integer != 1) throw new InvalidDataException("MOVE " + k);
                    c.Call("SELECT", "3");
                    if (c.Call("MOVE", k, "0").Integer != 1) throw new InvalidDataException("MOVE back " + k);
                    c.Call("SELECT", "0");
                    break;
                }
            }
        }

        async Task Verify(RespClient c, string when)
        {
            foreach (var (k, m) in model)
            {
                await Assert.That($"{when} {k}: {c.Call("HLEN", k).Integer}").IsEqualTo($"{when} {k}: {m.Fields}");
                await Assert.That($"{when} {k}: {Mismatches(c, k, 0, m.Fields, i => Value(i, m.Round, m.Length))}").IsEqualTo($"{when} {k}: 0");
            }
            await Assert.That(Info(c, "store_paged_collections")).IsEqualTo(model.Count);
        }

        async Task Workload(RespClient c, string when, int steps)
        {
            long compactions = Info(c, "store_compactions");
            var sw = Stopwatch.StartNew();
            for (int s = 0; s < steps || (Info(c, "store_compactions") < compactions + 5 && sw.Elapsed < TimeSpan.FromSeconds(120)); s++)
            {
                if (s < steps) Step(c);
                Churn(c, 8);
                if (s % 10 == 9) await Verify(c, $"{when} step {s}");
            }
            await Assert.That(Info(c, "store_compactions")).IsGreaterThanOrEqualTo(compactions + 5);
            await Verify(c, when);
        }

        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--maxmemory", "32mb", "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                for (int i = 0; i < 3; i++)
                {
                    int fields = 8000 + 3000 * i;
                    Load(c, "h" + i, 0, fields, ++roundNo, 40);
                    model["h" + i] = (fields, 40, roundNo);
                }
                try
                {
                    await Workload(c, "before the checkpoint", 30);
                    await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                    await Workload(c, "after the checkpoint", 20);
                }
                catch (IOException)
                {
                    // A reply that never came (CI, io_uring pass, once): what the server was doing, for the next look.
                    ServerInfo.DumpStalled(server);
                    throw;
                }
                // Deleted and replaced hashes' pages went meanwhile, next to the live ones.
                await Assert.That(Info(c, "store_pages_reclaimed")).IsGreaterThan(0);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--maxmemory", "32mb", "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Verify(c, "after the restart");
                await Workload(c, "after the restart", 20);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
