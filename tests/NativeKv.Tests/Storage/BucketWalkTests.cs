using System.Diagnostics;
using NativeKv.Tests.Infrastructure;
using static NativeKv.Tests.Storage.PagedLoad;

namespace NativeKv.Tests.Storage;

/// <summary>
/// Long readers of cold paged collections (HGETALL, SMEMBERS, SUNIONSTORE) under --maxmemory 16mb and one
/// reactor: the command waits on disk once a round of 64 buckets, and each rerun resumes at the round that
/// waited (Values/Paged/BucketWalk.cs) instead of walking every finished round again from its slots. INFO
/// store_slot_replays counts the operations reruns answered from slots: about one round per rerun now,
/// quadratic before (a 200k-field hash of 2.4k buckets in 37 rounds: 45k, now 2.4k). Another client of the same
/// reactor is answered between the rounds.
/// </summary>
public class BucketWalkTests
{
    private const int N = 200_000;

    /// <summary>Member i, 40 bytes (200k of them fill ~9.4k buckets of 1 KB: ~147 rounds of 64).</summary>
    private static string Member(int i) => $"m{i:D7}:" + new string((char)('a' + i % 26), 31);

    /// <summary>SADDs members [from, to) of <paramref name="key"/>, 1000 a command.</summary>
    private static void LoadSet(RespClient c, string key, int from, int to, Func<int, string>? name = null)
    {
        name ??= Member;
        var commands = new List<byte[]>();
        for (int s = from; s < to; s += 1000)
        {
            var args = new List<object> { "SADD", key };
            for (int i = s; i < Math.Min(to, s + 1000); i++) args.Add(name(i));
            commands.Add(RespClient.Encode(args.ToArray()));
        }
        foreach (var r in Run(c, commands))
            if (r.IsError) throw new InvalidDataException("SADD failed: " + r);
    }

    /// <summary>1 KB SETs that push the collections' pages out of the 16 MB of log memory.</summary>
    /// <summary>
    /// Churns until a sample of the collection's elements reads from disk: compaction copies the live
    /// buckets to the tail, and one that ran late in a churn left them in memory (a cold HGETALL in CI
    /// then read 429 of 2,397 buckets from disk). Page reads are never copied to the tail, so the sample
    /// leaves the collection as cold as it found it. <paramref name="probe"/> reads element i.
    /// </summary>
    private static void ChurnUntilCold(RespClient c, Func<int, string[]> probe)
    {
        for (int round = 0; round < 6; round++)
        {
            Churn(c);
            WaitForQuietLog(c);
            long before = Info(c, "store_disk_reads");
            for (int i = 0; i < 100; i++) c.Call(probe(i * (N / 100) + 7));
            if (Info(c, "store_disk_reads") - before >= 80) return;
        }
    }

    /// <summary>
    /// Waits (up to 30 s) until the log's tail has stood still for 2.5 s: no compaction running or about to
    /// (the maintenance thread checks every second). A compaction that began after the cold sample copied
    /// every bucket back to memory and a cold SMEMBERS in CI read 0 of 2,429 from disk.
    /// </summary>
    private static void WaitForQuietLog(RespClient c)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        long tail = Info(c, "store_log_appended");
        var still = DateTime.UtcNow;
        while (DateTime.UtcNow < deadline)
        {
            Thread.Sleep(250);
            long now = Info(c, "store_log_appended");
            if (now != tail) { tail = now; still = DateTime.UtcNow; }
            else if (DateTime.UtcNow - still >= TimeSpan.FromSeconds(2.5)) return;
        }
    }

    private static void Churn(RespClient c)
    {
        var commands = new List<byte[]>();
        for (int i = 0; i < 30_000; i++) commands.Add(RespClient.Encode("SET", "k" + i, new string('x', 1000)));
        Run(c, commands);
    }

    /// <summary>
    /// Pings on its own connection every 5 ms until stopped; the slowest reply in ms. A PING's own cost
    /// is microseconds: what it waits for is the reactor's current turn (a round of the walk).
    /// </summary>
    private sealed class Pinger : IDisposable
    {
        private readonly RespClient _c;
        private readonly Task _task;
        private volatile bool _stop;
        public double WorstMs;
        public int Pings;

        public Pinger(int port)
        {
            _c = new RespClient(port, TimeSpan.FromSeconds(60));
            _c.Call("PING");
            _task = Task.Run(() =>
            {
                while (!_stop)
                {
                    var sw = Stopwatch.StartNew();
                    var r = _c.Call("PING");
                    double ms = sw.Elapsed.TotalMilliseconds;
                    if (r.Text != "PONG") throw new InvalidDataException("PING: " + r);
                    WorstMs = Math.Max(WorstMs, ms);
                    Pings++;
                    Thread.Sleep(5);
                }
            });
        }

        public void Stop()
        {
            _stop = true;
            _task.Wait(TimeSpan.FromSeconds(60));
        }

        public void Dispose()
        {
            _stop = true;
            _c.Dispose();
        }
    }

    /// <summary>
    /// The collection's buckets (only one collection is paged): INFO's page bytes count a whole page and its record's
    /// ~50 bytes of key and headers a bucket. A hash or set of short elements has 1 KB pages (PagedHash.SmallPageShift).
    /// </summary>
    private static long Buckets(RespClient c, int pageBytes) => Info(c, "store_live_page_bytes") / (pageBytes + 64);

    private const int HashPage = 1024, SetPage = 1024;

    /// <summary>
    /// The bound on a PING's wait while the walk runs. A round is 64 buckets (~5k elements), well under
    /// 2 ms of reactor time; the worst PING during a cold 200k-element walk was 3-15 ms on this 2-core
    /// machine at a load average of 15, but 580 ms at 53 (the pinger waiting for a CPU, not for the
    /// server). Before, a cold 1M-field HGETALL kept PINGs waiting up to 2.2 s (each rerun walked every
    /// finished round again). So: 1 s, or 4x the worst PING of an idle second just before, if the machine
    /// is that loaded.
    /// </summary>
    private const double PingBoundMs = 1000;

    /// <summary>The worst PING of one idle second: the machine's own noise.</summary>
    private static double IdleWorstMs(int port)
    {
        using var idle = new Pinger(port);
        Thread.Sleep(1000);
        idle.Stop();
        return idle.WorstMs;
    }

    [Test]
    [NotInParallel] // a latency bound: tests running beside it kept the pinger's own process from a CPU for up to 1.7 s
    [Timeout(300_000)]
    public async Task A_cold_HGETALL_resumes_at_the_round_that_waited_and_a_PING_is_served_meanwhile(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        Load(c, "h", 0, N);
        long buckets = Buckets(c, HashPage);
        await Assert.That(buckets).IsGreaterThan(2000); // ~9.3k of 1 KB
        ChurnUntilCold(c, i => ["HGET", "h", "f" + i]);
        double bound = Math.Max(PingBoundMs, 4 * IdleWorstMs(server.Port));
        long reads = Info(c, "store_disk_reads"), replays = Info(c, "store_slot_replays");
        using var pinger = new Pinger(server.Port);
        var all = c.Call("HGETALL", "h");
        pinger.Stop();
        reads = Info(c, "store_disk_reads") - reads;
        replays = Info(c, "store_slot_replays") - replays;

        var items = all.Items!;
        await Assert.That(items.Length).IsEqualTo(2 * N);
        var seen = new HashSet<string>();
        int wrong = 0;
        for (int k = 0; k < items.Length; k += 2)
        {
            string f = items[k].Text!;
            if (!seen.Add(f) || !f.StartsWith('f') || items[k + 1].Text != Value(int.Parse(f[1..]), 0, 32)) wrong++;
        }
        await Assert.That(wrong).IsEqualTo(0);
        await Assert.That(seen.Count).IsEqualTo(N);
        // Cold: most buckets came from disk, each once.
        await Assert.That(reads).IsGreaterThan(buckets / 2);
        await Assert.That(reads).IsLessThan(2 * buckets);
        // Each rerun answers its waiting round from slots, never the rounds before: ~buckets in all (quadratic before).
        await Assert.That(replays).IsLessThan(2 * buckets);
        Console.WriteLine($"HGETALL of {N}: {buckets} buckets, {reads} disk reads, {replays} slot replays, {pinger.Pings} PINGs, worst {pinger.WorstMs:F1} ms (bound {bound:F0})");
        await Assert.That(pinger.Pings).IsGreaterThan(0);
        await Assert.That(pinger.WorstMs).IsLessThan(bound);
        // The streamed reply is the one a single attempt writes: the same elements in the same order, warm.
        var again = c.Call("HGETALL", "h").Items!;
        await Assert.That(again.Select(x => x.Text).SequenceEqual(items.Select(x => x.Text))).IsTrue();
        // RESP3: the same walk streams a map.
        using var c3 = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        c3.Call("HELLO", "3");
        Churn(c3);
        var map = c3.Call("HGETALL", "h");
        await Assert.That(map.Type).IsEqualTo('%');
        await Assert.That(map.Items!.Length).IsEqualTo(2 * N);
    }

    [Test]
    [NotInParallel] // a latency bound: tests running beside it kept the pinger's own process from a CPU for up to 1.7 s
    [Timeout(300_000)]
    public async Task A_cold_SMEMBERS_resumes_at_the_round_that_waited_and_a_PING_is_served_meanwhile(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        LoadSet(c, "s", 0, N);
        long buckets = Buckets(c, SetPage);
        await Assert.That(buckets).IsGreaterThan(2000);
        ChurnUntilCold(c, i => ["SISMEMBER", "s", Member(i)]);
        double bound = Math.Max(PingBoundMs, 4 * IdleWorstMs(server.Port));
        long reads = Info(c, "store_disk_reads"), replays = Info(c, "store_slot_replays");
        using var pinger = new Pinger(server.Port);
        var all = c.Call("SMEMBERS", "s");
        pinger.Stop();
        reads = Info(c, "store_disk_reads") - reads;
        replays = Info(c, "store_slot_replays") - replays;

        Console.WriteLine($"SMEMBERS of {N}: {buckets} buckets, {reads} disk reads, {replays} slot replays, {pinger.Pings} PINGs, worst {pinger.WorstMs:F1} ms (bound {bound:F0})");
        var members = new HashSet<string>(all.Items!.Select(x => x.Text!));
        await Assert.That(all.Items!.Length).IsEqualTo(N);
        await Assert.That(members.Count).IsEqualTo(N);
        await Assert.That(Enumerable.Range(0, N).Count(i => !members.Contains(Member(i)))).IsEqualTo(0);
        await Assert.That(reads).IsGreaterThan(buckets / 2);
        await Assert.That(reads).IsLessThan(2 * buckets);
        await Assert.That(replays).IsLessThan(2 * buckets);
        await Assert.That(pinger.WorstMs).IsLessThan(bound);
    }

    /// <summary>
    /// A cold HGETALL and a SUNIONSTORE of two cold sets (two walks one after the other, the result kept
    /// across the reruns) while another client of the same reactor writes other keys between their rounds:
    /// both answers are right, and so are the other client's keys.
    /// </summary>
    [Test]
    [Timeout(300_000)]
    public async Task Walks_interleaved_with_another_clients_writes_to_other_keys_stay_right(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        using var w = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        const int n = 100_000;
        Load(c, "h", 0, n);
        LoadSet(c, "s1", 0, 60_000);
        LoadSet(c, "s2", 40_000, 100_000);
        Churn(c);

        // The writer: HSETs into another hash and SETs, pipelined, while the walks run.
        var writes = new List<byte[]>();
        for (int i = 0; i < 20_000; i++)
        {
            writes.Add(RespClient.Encode("HSET", "other", "g" + i, "w" + i));
            writes.Add(RespClient.Encode("SET", "x" + i, "y" + i));
        }
        var writer = Task.Run(() => Run(w, writes));
        var all = c.Call("HGETALL", "h");
        var union = c.Call("SUNIONSTORE", "u", "s1", "s2");
        var replies = await writer;

        await Assert.That(replies.Count(r => r.IsError)).IsEqualTo(0);
        await Assert.That(all.Items!.Length).IsEqualTo(2 * n);
        var fields = new Dictionary<string, string>();
        for (int k = 0; k < all.Items.Length; k += 2) fields[all.Items[k].Text!] = all.Items[k + 1].Text!;
        await Assert.That(fields.Count).IsEqualTo(n);
        await Assert.That(Enumerable.Range(0, n).Count(i => !fields.TryGetValue(Field(i), out var v) || v != Value(i, 0, 32))).IsEqualTo(0);
        await Assert.That(union.Integer).IsEqualTo(100_000);
        await Assert.That(c.Call("SCARD", "u").Integer).IsEqualTo(100_000);
        var check = new List<object> { "SMISMEMBER", "u" };
        for (int i = 0; i < 100_000; i += 97) check.Add(Member(i));
        check.Add(Member(100_000));
        var found = c.Call(check.ToArray()).Items!;
        await Assert.That(found.Take(found.Length - 1).Count(x => x.Integer != 1)).IsEqualTo(0);
        await Assert.That(found[^1].Integer).IsEqualTo(0);
        await Assert.That(c.Call("HLEN", "other").Integer).IsEqualTo(20_000);
        await Assert.That(c.Call("HGET", "other", "g19999").Text).IsEqualTo("w19999");
        await Assert.That(c.Call("GET", "x12345").Text).IsEqualTo("y12345");
    }

    /// <summary>
    /// The other walks, each over cold pages: SINTER, SINTERCARD with a LIMIT (the walk stops early), SDIFF,
    /// SRANDMEMBER and HRANDFIELD of most of the collection (every bucket read: a result set and a sampler
    /// kept across the reruns), and SPOP of most of a set (the others streamed, the keepers written back).
    /// </summary>
    [Test]
    [Timeout(300_000)]
    public async Task Cold_set_algebra_and_whole_collection_picks_are_right(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        LoadSet(c, "s1", 0, 60_000);
        LoadSet(c, "s2", 40_000, 100_000);
        Load(c, "h", 0, 100_000);
        var s1 = Enumerable.Range(0, 60_000).Select(Member).ToHashSet();
        var s2 = Enumerable.Range(40_000, 60_000).Select(Member).ToHashSet();

        Churn(c);
        var inter = c.Call("SINTER", "s1", "s2").Items!.Select(x => x.Text!).ToList();
        await Assert.That(inter.Count).IsEqualTo(20_000);
        await Assert.That(inter.ToHashSet().SetEquals(s1.Intersect(s2))).IsTrue();
        Churn(c);
        await Assert.That(c.Call("SINTERCARD", "2", "s1", "s2", "LIMIT", "5000").Integer).IsEqualTo(5000);
        Churn(c);
        await Assert.That(c.Call("SINTERCARD", "2", "s1", "s2").Integer).IsEqualTo(20_000);
        Churn(c);
        var diff = c.Call("SDIFF", "s1", "s2").Items!.Select(x => x.Text!).ToList();
        await Assert.That(diff.Count).IsEqualTo(40_000);
        await Assert.That(diff.ToHashSet().SetEquals(s1.Except(s2))).IsTrue();
        Churn(c);
        var picked = c.Call("SRANDMEMBER", "s1", "50000").Items!.Select(x => x.Text!).ToList();
        await Assert.That(picked.Count).IsEqualTo(50_000);
        await Assert.That(picked.Distinct().Count()).IsEqualTo(50_000);
        await Assert.That(picked.All(s1.Contains)).IsTrue();
        Churn(c);
        var fields = c.Call("HRANDFIELD", "h", "80000").Items!.Select(x => x.Text!).ToList();
        await Assert.That(fields.Count).IsEqualTo(80_000);
        await Assert.That(fields.Distinct().Count()).IsEqualTo(80_000);
        await Assert.That(fields.All(f => f.StartsWith('f') && int.Parse(f[1..]) < 100_000)).IsTrue();
        Churn(c);
        var popped = c.Call("SPOP", "s2", "50000").Items!.Select(x => x.Text!).ToList();
        await Assert.That(popped.Count).IsEqualTo(50_000);
        await Assert.That(popped.Distinct().Count()).IsEqualTo(50_000);
        var left = c.Call("SMEMBERS", "s2").Items!.Select(x => x.Text!).ToHashSet();
        await Assert.That(left.Count).IsEqualTo(10_000);
        await Assert.That(left.Overlaps(popped)).IsFalse();
        await Assert.That(left.Union(popped).ToHashSet().SetEquals(s2)).IsTrue();
    }

    /// <summary>
    /// A client that closes while its HGETALL waits on disk between rounds leaves nothing behind: its key
    /// lock is released (another client's HSET of the same key answers), and the next walk of the same
    /// reactor starts afresh and answers whole.
    /// </summary>
    [Test]
    [Timeout(300_000)]
    public async Task A_client_closing_in_the_middle_of_a_walk_leaves_nothing_behind(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        Load(c, "h", 0, N);
        long buckets = Buckets(c, HashPage);
        for (int round = 0; round < 3; round++)
        {
            Churn(c);
            long reads = Info(c, "store_disk_reads");
            using (var quitter = new RespClient(server.Port, TimeSpan.FromSeconds(60)))
            {
                quitter.Send("HGETALL", "h");
                // Until the walk is under way (some of its buckets read from disk), then close without reading.
                var sw = Stopwatch.StartNew();
                while (Info(c, "store_disk_reads") < reads + 20 && sw.Elapsed < TimeSpan.FromSeconds(30)) Thread.Sleep(1);
            }
            var (set, ms) = Timed(c, "HSET", "h", "extra" + round, "v");
            await Assert.That(set.Integer).IsEqualTo(1);
            await Assert.That(ms).IsLessThan(30_000);
        }
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
        Churn(c);
        long replays = Info(c, "store_slot_replays");
        var all = c.Call("HGETALL", "h");
        replays = Info(c, "store_slot_replays") - replays;
        await Assert.That(all.Items!.Length).IsEqualTo(2 * (N + 3));
        var fields = new Dictionary<string, string>();
        for (int k = 0; k < all.Items.Length; k += 2) fields[all.Items[k].Text!] = all.Items[k + 1].Text!;
        await Assert.That(Enumerable.Range(0, N).Count(i => fields.GetValueOrDefault(Field(i)) != Value(i, 0, 32))).IsEqualTo(0);
        await Assert.That(fields["extra2"]).IsEqualTo("v");
        await Assert.That(replays).IsLessThan(2 * buckets);
    }
}
