using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Client-side caching on the real process, beyond the transcripts: tracking clients and writers on different
/// reactors (every invalidation once, and delivered before anyone can ask after the write), the
/// tracking-table-max-keys bound, keys the active expiry deletes, and writes that wait on disk and run again.
/// </summary>
public class TrackingTests
{
    /// <summary>
    /// Connections made in turn land on reactors 0, 1, 0, 1 (round-robin): the RESP3 tracker on 0, the writer on 1,
    /// the RESP2 tracker on 0 with its redirect connection on 1. Each write's invalidations are in before a PING
    /// sent after its reply is answered, once per key per read, whichever reactor the writer ran on.
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task Invalidations_cross_reactors_once_per_read_and_before_the_next_command(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var t3 = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var t2 = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var redirect = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(t3.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(t3.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        long redirectId = redirect.Call("CLIENT", "ID").Integer;
        await Assert.That(redirect.Call("SUBSCRIBE", "__redis__:invalidate").Items![2].Integer).IsEqualTo(1);
        await Assert.That(t2.Call("CLIENT", "TRACKING", "on", "REDIRECT", redirectId.ToString()).Text).IsEqualTo("OK");

        const int Keys = 400, Batch = 40;
        for (int round = 0; round < 2; round++)
        {
            // Both trackers read every key (pipelined): each is in the table for both.
            foreach (var t in new[] { t3, t2 })
            {
                for (int i = 0; i < Keys; i++) t.Send("GET", "key:" + i);
                for (int i = 0; i < Keys; i++) await Assert.That(t.Read().IsError).IsFalse();
            }
            var seen3 = new Dictionary<string, int>();
            var seen2 = new Dictionary<string, int>();
            for (int from = 0; from < Keys; from += Batch)
            {
                // Each key twice in the batch: the second write finds it taken already.
                for (int i = from; i < from + Batch; i++) writer.Send("SET", "key:" + i, "r" + round);
                for (int i = from; i < from + Batch; i++) writer.Send("APPEND", "key:" + i, "x");
                for (int i = 0; i < 2 * Batch; i++) await Assert.That(writer.Read().IsError).IsFalse();
                Collect(t3, "PING", seen3, pong: r => r.Type == '+' && r.Text == "PONG");
                Collect(redirect, "PING", seen2, pong: r => r.Type == '*' && r.Items![0].Text == "pong");
                for (int i = from; i < from + Batch; i++)
                {
                    await Assert.That(seen3.GetValueOrDefault("key:" + i)).IsEqualTo(1);
                    await Assert.That(seen2.GetValueOrDefault("key:" + i)).IsEqualTo(1);
                }
            }
            await Assert.That(seen3.Count).IsEqualTo(Keys);
            await Assert.That(seen2.Count).IsEqualTo(Keys);
        }
        // Nothing read since: the table is empty, and a write tells nobody.
        await Assert.That(InfoField(writer, "tracking_total_keys")).IsEqualTo("0");
        await Assert.That(InfoField(writer, "tracking_clients")).IsEqualTo("2");
        writer.Call("SET", "key:1", "again");
        var quiet = new Dictionary<string, int>();
        Collect(t3, "PING", quiet, pong: r => r.Type == '+' && r.Text == "PONG");
        await Assert.That(quiet.Count).IsEqualTo(0);
    }

    /// <summary>
    /// BCAST from another reactor: a pipelined batch of writes read at once reaches the prefix's client as one array
    /// (the keys in byte order), before the writer's next command is answered anywhere.
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task Bcast_batches_the_writes_of_one_input(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p:").Text).IsEqualTo("OK");
        var batch = new List<byte>();
        foreach (var k in new[] { "p:c", "p:a", "other", "p:b", "p:a" }) batch.AddRange(RespClient.Encode("SET", k, "v"));
        // The first round warms the server up: a command slower than a reactor turn's budget (1 ms, the first
        // SET's JIT) ends the input there, and what it read so far is sent then. A loaded CI machine can also
        // preempt a later round past the budget (seen once: 2 pushes), so one round of five in one push is enough;
        // without the batching every round would take a push per key.
        int batched = 0;
        for (int round = 0; round < 6; round++)
        {
            writer.SendRaw(batch.ToArray());
            for (int i = 0; i < 5; i++) await Assert.That(writer.Read().Text).IsEqualTo("OK");
            tracker.Send("PING");
            var keys = new List<string>();
            int pushes = 0;
            for (var r = tracker.Read(); r.Type == '>'; r = tracker.Read())
            {
                await Assert.That(r.Items![0].Text).IsEqualTo("invalidate");
                keys.AddRange(r.Items[1].Items!.Select(x => x.Text!));
                pushes++;
            }
            if (round == 0) continue;
            await Assert.That(pushes).IsLessThanOrEqualTo(2);
            await Assert.That(string.Join(",", keys.Distinct().Order(StringComparer.Ordinal))).IsEqualTo("p:a,p:b,p:c");
            if (pushes != 1) continue;
            await Assert.That(string.Join(",", keys)).IsEqualTo("p:a,p:b,p:c");
            batched++;
        }
        await Assert.That(batched).IsGreaterThan(0);
    }

    /// <summary>
    /// trackingLimitUsedSlots: past tracking-table-max-keys, keys leave the table and their clients are told as if
    /// they changed, at start-up's limit and after CONFIG SET lowers it (with nothing else running).
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task The_table_is_bounded_by_tracking_table_max_keys(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--tracking-table-max-keys", "10");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var admin = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        for (int i = 0; i < 100; i++) tracker.Send("GET", "k" + i);
        var evicted = new Dictionary<string, int>();
        int replies = 0;
        while (replies < 100)
        {
            var r = tracker.Read();
            if (r.Type == '>') Count(r, evicted);
            else replies++;
        }
        Collect(tracker, "PING", evicted, pong: r => r.Type == '+' && r.Text == "PONG");
        await Assert.That(evicted.Count).IsEqualTo(90);
        await Assert.That(evicted.Values.All(n => n == 1)).IsTrue();
        await Assert.That(InfoField(admin, "tracking_total_keys")).IsEqualTo("10");
        await Assert.That(InfoField(admin, "tracking_total_items")).IsEqualTo("10");

        // The reactors' cron applies a lower limit while the tracker sits idle.
        await Assert.That(admin.Call("CONFIG", "SET", "tracking-table-max-keys", "1").Text).IsEqualTo("OK");
        var later = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        while (later.Count < 9 && clock.Elapsed < TimeSpan.FromSeconds(10)) Count(tracker.Read(), later);
        await Assert.That(later.Count).IsEqualTo(9);
        await Assert.That(later.Keys.Intersect(evicted.Keys).Any()).IsFalse();
        await Assert.That(InfoField(admin, "tracking_total_keys")).IsEqualTo("1");
    }

    /// <summary>deleteExpiredKeyAndPropagate's signalModifiedKey: the active expiry cycle's deletion is an invalidation.</summary>
    [Test]
    [Timeout(60_000)]
    public async Task A_key_the_expiry_cycle_deletes_is_invalidated(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        await Assert.That(writer.Call("SET", "soon", "v", "PX", "200").Text).IsEqualTo("OK");
        await Assert.That(writer.Call("SET", "kept", "v").Text).IsEqualTo("OK");
        await Assert.That(tracker.Call("GET", "soon").Text).IsEqualTo("v");
        await Assert.That(tracker.Call("GET", "kept").Text).IsEqualTo("v");
        var push = tracker.Read(); // nothing else is sent: the next frame is the expiry's
        await Assert.That(push.Type).IsEqualTo('>');
        await Assert.That(push.Items![1].Items![0].Text).IsEqualTo("soon");
        await Assert.That(InfoField(writer, "tracking_total_keys")).IsEqualTo("1");
    }

    /// <summary>
    /// expireIfNeeded's signalModifiedKey: a read that finds a key expired deletes it and invalidates it right after
    /// its reply, and the reader stays remembered (trackingRememberKeys follows the lookup), so the next write tells it
    /// too. Each round reads the key within a few ms of its expiry, before the active cycle (every 100 ms) can take it;
    /// had only the cycle told it, the write after would have told nobody.
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task A_read_that_finds_a_key_expired_invalidates_it_and_keeps_the_reader(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        for (int i = 0; i < 3; i++) // the paths run before the timed rounds (the JIT-built server compiles them)
        {
            writer.Call("SET", "warm" + i, "v", "PX", "1");
            await Task.Delay(2, ct);
            tracker.Call("GET", "warm" + i);
            Collect(tracker, "PING", new Dictionary<string, int>(), pong: r => r.Type == '+' && r.Text == "PONG");
        }
        // A round the cycle races (it runs on its own thread, ~5% of rounds here) may tell the key once and forget the
        // reader that remembered it meanwhile (benign: the reader's copy is invalidated); without the read's own delete,
        // nearly every round would.
        int both = 0;
        for (int round = 0; round < 10; round++)
        {
            string key = "lazy:" + round;
            var seen = new Dictionary<string, int>();
            await Assert.That(writer.Call("SET", key, "v", "PX", "50").Text).IsEqualTo("OK");
            await Assert.That(tracker.Call("GET", key).Text).IsEqualTo("v");
            await Task.Delay(55, ct);
            // (A push the cycle's deletion sent may come before the reply.)
            tracker.Send("GET", key);
            var reply = tracker.Read();
            for (; reply.Type == '>'; reply = tracker.Read()) Count(reply, seen);
            await Assert.That(reply.IsNull).IsTrue();
            Collect(tracker, "PING", seen, pong: r => r.Type == '+' && r.Text == "PONG");
            await Assert.That(writer.Call("SET", key, "w").Text).IsEqualTo("OK");
            Collect(tracker, "PING", seen, pong: r => r.Type == '+' && r.Text == "PONG");
            // Had the cycle deleted it first, its invalidation may come a cron later (waited for).
            var wait = Stopwatch.StartNew();
            while (seen.GetValueOrDefault(key) < 2 && wait.Elapsed < TimeSpan.FromMilliseconds(300))
            {
                await Task.Delay(20, ct);
                Collect(tracker, "PING", seen, pong: r => r.Type == '+' && r.Text == "PONG");
            }
            int told = seen.GetValueOrDefault(key);
            await Assert.That(told is 1 or 2).IsTrue().Because($"round {round}: {string.Join(",", seen)}");
            if (told == 2) both++;
            writer.Call("DEL", key);
            Collect(tracker, "PING", seen, pong: r => r.Type == '+' && r.Text == "PONG");
        }
        await Assert.That(both).IsGreaterThanOrEqualTo(5);
        // Under CLIENT PAUSE WRITE an expired key reads as missing and stays (expireIfNeeded's paused actions).
        string expired = InfoField(writer, "expired_keys");
        await Assert.That(writer.Call("SET", "paused", "v", "PX", "20").Text).IsEqualTo("OK");
        await Assert.That(writer.Call("CLIENT", "PAUSE", "10000", "WRITE").Text).IsEqualTo("OK");
        await Task.Delay(25, ct);
        await Assert.That(tracker.Call("GET", "paused").IsNull).IsTrue();
        await Assert.That(InfoField(writer, "expired_keys")).IsEqualTo(expired);
        await Assert.That(writer.Call("CLIENT", "UNPAUSE").Text).IsEqualTo("OK");
    }

    /// <summary>
    /// A script and a transaction whose reads go to disk run again from the start: the key they wrote before the
    /// read is told once per run that completed, and what they read is remembered for the tracking client.
    /// </summary>
    [Test]
    [Timeout(180_000)]
    public async Task Units_that_wait_on_disk_invalidate_once(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--maxmemory", "16mb", "--maxmemory-policy", "noeviction");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int Keys = 40_000;
        var value = new string('v', 1000);
        for (int i = 0; i < Keys; i += 100)
        {
            for (int j = i; j < i + 100; j++) writer.Send("SET", "key:" + j, value);
            for (int j = i; j < i + 100; j++) writer.Read();
        }
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        long diskReads = long.Parse(InfoField(writer, "store_disk_reads", "memory"));
        const string Script = "redis.call('set', 'hot', ARGV[1]) for i = 1, #KEYS do redis.call('get', KEYS[i]) end return 1";
        for (int round = 0; round < 20; round++)
        {
            await Assert.That(tracker.Call("GET", "hot").IsError).IsFalse();
            var args = new List<object> { "EVAL", Script, "30" };
            for (int k = 0; k < 30; k++) args.Add("key:" + ((round * 997 + k * 389) % Keys));
            args.Add("r" + round);
            bool exec = round % 2 == 1;
            if (exec)
            {
                // The same through MULTI/EXEC: SET first, then reads of keys on disk.
                writer.Call("MULTI");
                writer.Call("SET", "hot", "r" + round);
                for (int k = 0; k < 30; k++) writer.Call("GET", "key:" + ((round * 991 + k * 383) % Keys));
                await Assert.That(writer.Call("EXEC").Items!.Length).IsEqualTo(31);
            }
            else await Assert.That(writer.Call(args.ToArray()).Integer).IsEqualTo(1);
            var seen = new Dictionary<string, int>();
            Collect(tracker, "PING", seen, pong: r => r.Type == '+' && r.Text == "PONG");
            await Assert.That(seen.GetValueOrDefault("hot")).IsEqualTo(1);
            await Assert.That(seen.Count).IsEqualTo(1);
        }
        await Assert.That(long.Parse(InfoField(writer, "store_disk_reads", "memory")) > diskReads).IsTrue();

        // The tracking client's own reads from disk: remembered once each, whatever the rounds.
        for (int k = 0; k < 30; k++) tracker.Send("GET", "key:" + (k * 1231 % Keys));
        for (int k = 0; k < 30; k++) await Assert.That(tracker.Read().Text).IsEqualTo(value);
        await Assert.That(InfoField(writer, "tracking_total_items")).IsEqualTo("30");
        for (int k = 0; k < 30; k++) writer.Send("DEL", "key:" + (k * 1231 % Keys));
        for (int k = 0; k < 30; k++) await Assert.That(writer.Read().Integer).IsEqualTo(1);
        var told = new Dictionary<string, int>();
        Collect(tracker, "PING", told, pong: r => r.Type == '+' && r.Text == "PONG");
        await Assert.That(told.Count).IsEqualTo(30);
        await Assert.That(told.Values.All(n => n == 1)).IsTrue();
    }

    /// <summary>
    /// The promise a client cache relies on, with writers on both reactors racing the tracker's reads (SET shares a
    /// key's lock with GET): a tracker that caches each GET's reply and drops what an invalidation names ends,
    /// once the writers stop and a PING has been answered, with nothing cached that the server no longer holds.
    /// (It reads only keys it does not hold: a value cached without the table knowing would never be told, and
    /// stays to the end to be found.)
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task A_client_cache_never_keeps_a_stale_value_under_concurrent_writes(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var tracker = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var w1 = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var w0 = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var check = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        await Assert.That(tracker.Call("HELLO", "3").IsError).IsFalse();
        await Assert.That(tracker.Call("CLIENT", "TRACKING", "on").Text).IsEqualTo("OK");
        // Enough keys that some stay cached to the end, few enough that reads and writes of one key meet often.
        const int Keys = 100;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        var writers = new[] { (w1, "a"), (w0, "b") }.Select(pair => Task.Run(() =>
        {
            var (w, tag) = pair;
            var random = new Random(tag == "a" ? 1 : 2);
            long n = 0;
            while (!stop.IsCancellationRequested)
            {
                for (int i = 0; i < 8; i++) w.Send("SET", "c:" + random.Next(Keys), tag + n++);
                for (int i = 0; i < 8; i++) w.Read();
            }
            return n;
        })).ToArray();
        var cache = new Dictionary<string, string?>();
        var inFlight = new Queue<string>();
        var picker = new Random(3);
        long invalidations = 0, reads = 0;
        void Handle(Reply r)
        {
            if (r.Type == '>')
            {
                foreach (var k in r.Items![1].Items!) cache.Remove(k.Text!);
                invalidations++;
                return;
            }
            cache[inFlight.Dequeue()] = r.Text;
            reads++;
        }
        while (!stop.IsCancellationRequested)
        {
            // A few GETs of keys not cached, pipelined; frames handled in the order they come.
            for (int i = 0; i < 4; i++)
            {
                var key = "c:" + picker.Next(Keys);
                if (cache.ContainsKey(key) || inFlight.Contains(key)) continue;
                tracker.Send("GET", key);
                inFlight.Enqueue(key);
            }
            while (inFlight.Count > 0) Handle(tracker.Read());
        }
        await Task.WhenAll(writers);
        tracker.Send("PING");
        for (var r = tracker.Read(); !(r.Type == '+' && r.Text == "PONG"); r = tracker.Read()) Handle(r);
        // The race was run: reads and writes interleaved (a few hundred of each in 2 s even on a loaded machine).
        Console.WriteLine($"cache race: {reads} reads, {invalidations} invalidations, {cache.Count} cached at the end");
        await Assert.That(reads).IsGreaterThan(20);
        await Assert.That(invalidations).IsGreaterThan(20);
        foreach (var (key, value) in cache) await Assert.That(check.Call("GET", key).Text).IsEqualTo(value);
    }

    /// <summary>Sends <paramref name="marker"/> and counts the invalidated keys that come before its reply.</summary>
    private static void Collect(RespClient c, string marker, Dictionary<string, int> seen, Func<Reply, bool> pong)
    {
        c.Send(marker);
        while (true)
        {
            var r = c.Read();
            if (pong(r)) return;
            Count(r, seen);
        }
    }

    /// <summary>An invalidation, a RESP3 push or a RESP2 message on __redis__:invalidate: its keys are counted.</summary>
    private static void Count(Reply r, Dictionary<string, int> seen)
    {
        var items = r.Items ?? throw new InvalidDataException($"not an invalidation: {r}");
        var keys = r.Type == '>' ? items[1] : items[2];
        if (items[0].Text is not ("invalidate" or "message")) throw new InvalidDataException($"not an invalidation: {items[0].Text}");
        foreach (var k in keys.Items!) seen[k.Text!] = seen.GetValueOrDefault(k.Text!) + 1;
    }

    private static string InfoField(RespClient c, string field, string section = "everything")
    {
        var text = c.Call("INFO", section).Text!;
        foreach (var line in text.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line[(field.Length + 1)..];
        throw new InvalidDataException($"no {field} in INFO");
    }
}
