using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;
using NativeKv.Tests.Storage;

namespace NativeKv.Tests.Durability;

/// <summary>
/// What a checkpoint costs: its time follows the live data, not the log's churn, and clients are not
/// held up while one runs (issue 10).
/// </summary>
public class CheckpointCostTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-ckpt-" + Guid.NewGuid().ToString("N"));

    private static long InfoField(RespClient c, string section, string field)
    {
        foreach (var line in c.Call("INFO", section).Text!.Split("\r\n"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return long.Parse(line[(field.Length + 1)..]);
        throw new InvalidDataException($"INFO {section} has no {field}");
    }

    /// <summary>
    /// Three SAVEs: the fastest as the client saw it (ms, printed only: the machine is shared) and the
    /// fewest bytes the server wrote during one (its write calls, /proc/PID/io wchar: what a checkpoint
    /// costs, steady where a time is not; the fewest, as the log pages a flush behind the tail writes
    /// meanwhile count too: 81 MB during the first SAVE after the churn).
    /// </summary>
    private static (double ms, long written) BestSave(RespClient c, int pid)
    {
        double best = double.MaxValue;
        long fewest = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = WrittenBytes(pid);
            var sw = Stopwatch.StartNew();
            var r = c.Call("SAVE");
            if (r.ToString() != "OK") throw new InvalidDataException("SAVE: " + r);
            best = Math.Min(best, sw.Elapsed.TotalMilliseconds);
            fewest = Math.Min(fewest, WrittenBytes(pid) - before);
        }
        return (best, fewest);
    }

    private static long WrittenBytes(int pid)
    {
        foreach (var line in File.ReadAllLines($"/proc/{pid}/io"))
            if (line.StartsWith("wchar:", StringComparison.Ordinal)) return long.Parse(line.AsSpan(6).Trim());
        throw new InvalidDataException($"/proc/{pid}/io has no wchar");
    }

    /// <summary>
    /// 2M random SET (1-300 bytes) / APPEND / DEL on 300 keys, pipelined; the final state is kept in
    /// <paramref name="model"/> (the commands are deterministic).
    /// </summary>
    private static void Churn(int port, int commands, Dictionary<string, string> model)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect("127.0.0.1", port);
        s.ReceiveTimeout = 60_000;
        var rng = new Random(10);
        var send = new MemoryStream();
        var recv = new byte[1 << 20];
        void Bulk(string x)
        {
            var b = Encoding.ASCII.GetBytes($"${x.Length}\r\n{x}\r\n");
            send.Write(b);
        }
        const int batch = 5000;
        for (int done = 0; done < commands; done += batch)
        {
            send.SetLength(0);
            for (int i = 0; i < batch; i++)
            {
                string k = "k" + rng.Next(300);
                double r = rng.NextDouble();
                if (r < 0.7)
                {
                    string v = new('x', rng.Next(1, 300));
                    send.Write("*3\r\n"u8); Bulk("SET"); Bulk(k); Bulk(v);
                    model[k] = v;
                }
                else if (r < 0.9)
                {
                    send.Write("*3\r\n"u8); Bulk("APPEND"); Bulk(k); Bulk("yy");
                    model[k] = (model.TryGetValue(k, out var old) ? old : "") + "yy";
                }
                else
                {
                    send.Write("*2\r\n"u8); Bulk("DEL"); Bulk(k);
                    model.Remove(k);
                }
            }
            send.Write("*1\r\n$4\r\nPING\r\n"u8);
            s.Send(send.GetBuffer().AsSpan(0, (int)send.Length));
            // Replies end with the PONG (no value holds a '+').
            var end = "+PONG\r\n"u8.ToArray();
            var last = new byte[end.Length];
            while (true)
            {
                int n = s.Receive(recv);
                if (n == 0) throw new EndOfStreamException();
                for (int i = 0; i < n; i++)
                {
                    Array.Copy(last, 1, last, 0, last.Length - 1);
                    last[^1] = recv[i];
                }
                if (last.AsSpan().SequenceEqual(end)) break;
            }
        }
    }

    // Timing tests: nothing else of this run beside them (the suite runs tests in parallel).
    [Test]
    [NotInParallel]
    [Timeout(180_000)]
    public async Task Save_after_heavy_churn_costs_what_is_live_and_a_restart_finds_exactly_the_live_keys(CancellationToken ct)
    {
        var dir = NewDir();
        var model = new Dictionary<string, string>();
        try
        {
            double fresh, churned;
            long freshBytes, churnedBytes, logMemory;
            await using (var server = await ServerProcess.StartInAsync(dir, "--save", "", "--appendonly", "no"))
            {
                using var c = new RespClient(server.Port);
                for (int i = 0; i < 300; i++) c.Call("SET", "k" + i, "fresh");
                (fresh, freshBytes) = BestSave(c, server.Pid);
                Churn(server.Port, 2_000_000, model);
                (churned, churnedBytes) = BestSave(c, server.Pid);
                // Compaction frees the dead versions' pages on the maintenance thread, a pass at a time: on a
                // busy machine it was a page or two behind when the churn ended (136 MB), so give it 10 s.
                var settle = System.Diagnostics.Stopwatch.StartNew();
                while ((logMemory = InfoField(c, "memory", "store_log_memory")) >= 128L << 20 && settle.Elapsed < TimeSpan.FromSeconds(10))
                    await Task.Delay(100);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(model.Count);
                Console.WriteLine($"SAVE of 300 keys, best of 3: fresh store {fresh:F1} ms and {freshBytes >> 10} KB written, after 2M overwrites {churned:F1} ms and {churnedBytes >> 10} KB; log memory {logMemory >> 20} MB; {model.Count} live keys");
                KillHard(server); // only the checkpoint is left to recover from
            }
            // Before: every SAVE wrote the whole in-memory log (250 MB here: 240-720 ms each) and the
            // dead versions stayed in memory. Now one writes the index and what changed since the last one
            // (1 MB for the fresh store); 16 MB of slack is two log pages a flush behind the tail may write. (Its time was asserted until a
            // CI run under load saw 33 ms against a 30 ms bound, 27 of them waiting for the version change.)
            await Assert.That(churnedBytes).IsLessThanOrEqualTo(freshBytes + (16L << 20));
            await Assert.That(logMemory).IsLessThan(128L << 20);
            await using (var server = await ServerProcess.StartInAsync(dir, "--save", "", "--appendonly", "no"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(model.Count);
                int wrong = 0;
                for (int i = 0; i < 300; i++)
                {
                    string k = "k" + i;
                    var got = c.Call("GET", k);
                    if (model.TryGetValue(k, out var want) ? got.Text != want : !got.IsNull) wrong++;
                }
                await Assert.That(wrong).IsEqualTo(0);
            }
        }
        finally { TryDelete(dir); }
    }

    [Test]
    public async Task Info_reports_where_the_last_checkpoint_spent_its_time()
    {
        await using var server = await ServerProcess.StartAsync("--save", "");
        using var c = new RespClient(server.Port);
        double Field(string name)
        {
            foreach (var line in c.Call("INFO", "memory").Text!.Split("\r\n"))
                if (line.StartsWith(name + ":", StringComparison.Ordinal)) return double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            throw new InvalidDataException("INFO memory has no " + name);
        }
        await Assert.That(Field("store_last_checkpoint_ms")).IsEqualTo(0);
        for (int i = 0; i < 1000; i++) c.Send("SET", "k" + i, new string('v', 100));
        for (int i = 0; i < 1000; i++) c.Read();
        await Assert.That(Field("store_log_unflushed")).IsGreaterThan(100_000);
        await Assert.That(c.Call("SAVE").ToString()).IsEqualTo("OK");
        double total = Field("store_last_checkpoint_ms");
        double index = Field("store_last_checkpoint_index_ms");
        double flush = Field("store_last_checkpoint_flush_ms");
        await Assert.That(total).IsGreaterThan(0);
        await Assert.That(index + flush + Field("store_last_checkpoint_version_change_ms")).IsLessThanOrEqualTo(total);
        // Fold-over: what the checkpoint wrote is on disk now.
        await Assert.That(Field("store_log_unflushed")).IsLessThan(100_000);
        await Assert.That(InfoField(c, "persistence", "rdb_last_bgsave_time_sec")).IsEqualTo((long)(total / 1000));
    }

    /// <summary>PINGs every 10 ms on its own connection and records each reply's latency.</summary>
    private sealed class Probe : IDisposable
    {
        private readonly Thread _thread;
        private volatile bool _stop;
        private readonly List<(long at, double ms)> _samples = new();
        private readonly RespClient _client;

        public Probe(int port)
        {
            _client = new RespClient(port);
            _thread = new Thread(Run) { IsBackground = true, Priority = ThreadPriority.Highest };
            _thread.Start();
        }

        private void Run()
        {
            while (!_stop)
            {
                long start = Stopwatch.GetTimestamp();
                var r = _client.Call("PING");
                double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (r.ToString() != "PONG") throw new InvalidDataException("PING: " + r);
                lock (_samples) _samples.Add((start, ms));
                Thread.Sleep(10);
            }
        }

        public List<(long at, double ms)> Stop()
        {
            _stop = true;
            _thread.Join();
            lock (_samples) return new(_samples);
        }

        public void Dispose()
        {
            _stop = true;
            _thread.Join();
            _client.Dispose();
        }
    }

    private static string Distribution(List<double> ms)
    {
        ms.Sort();
        double P(double q) => ms[Math.Min(ms.Count - 1, (int)(ms.Count * q))];
        return $"{ms.Count} PINGs: p50 {P(0.5):F2} ms, p99 {P(0.99):F2} ms, p99.9 {P(0.999):F2} ms, max {ms[^1]:F2} ms";
    }

    [Test]
    [NotInParallel]
    [Timeout(600_000)]
    public async Task Bgsave_and_save_rules_on_a_million_keys_never_hold_a_client_past_20_ms(CancellationToken ct)
    {
        // The machine is shared: a CI run under load saw one PING of 21.9 ms while the first checkpoint
        // wrote 1M keys (no other slow one past 14.6). A checkpoint that holds clients does so every time
        // (snapshot checkpoints of the whole log put p99 at 16 ms in every run), so a fresh server gets
        // up to three tries and one clean window passes.
        const int attempts = 3;
        for (int attempt = 1; ; attempt++)
        {
            var (quiet, during) = await CheckpointWindow(ct);
            // 20 ms, unless the machine itself stalled the probe that long with no checkpoint running.
            double maxBound = Math.Max(20.0, quiet.Max());
            double p99Bound = Math.Max(10.0, 2 * Percentile(quiet, 0.99));
            bool clean = during.Max() <= maxBound && Percentile(during, 0.99) <= p99Bound;
            Console.WriteLine($"attempt {attempt}: {(clean ? "within" : "past")} max {maxBound:F1} ms, p99 {p99Bound:F1} ms");
            if (clean || attempt == attempts)
            {
                await Assert.That(during.Max()).IsLessThanOrEqualTo(maxBound);
                await Assert.That(Percentile(during, 0.99)).IsLessThanOrEqualTo(p99Bound);
                return;
            }
        }
    }

    /// <summary>
    /// A fresh server with 1M keys and a light writer: PING latencies for 3 s without checkpoints, then
    /// during 3 BGSAVEs and 2 save-rule checkpoints.
    /// </summary>
    private static async Task<(List<double> quiet, List<double> during)> CheckpointWindow(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--save", "");
        using var c = new RespClient(server.Port);
        const long keys = 1_000_000;
        using (var loader = new BulkLoader(server.Port)) loader.Set(0, keys, round: 1);
        // The index doubles while keys arrive (a documented pause of its own): wait until it is done.
        var deadline = Stopwatch.StartNew();
        while (InfoField(c, "memory", "store_index_buckets") * 4 < keys && deadline.Elapsed < TimeSpan.FromSeconds(30)) await Task.Delay(100, ct);
        await Task.Delay(1500, ct);

        // A light writer throughout (100 SETs every 10 ms), so checkpoints meet concurrent updates.
        var writerStop = new CancellationTokenSource();
        var writer = Task.Run(() =>
        {
            using var w = new BulkLoader(server.Port);
            int round = 2;
            long next = 0;
            while (!writerStop.IsCancellationRequested)
            {
                w.Set(next, next + 100, round, batch: 100);
                next = (next + 7919 * 100) % (keys - 100);
                Thread.Sleep(10);
            }
        });
        using var probe = new Probe(server.Port);
        // The machine is shared: a window without checkpoints first says what its own noise is.
        await Task.Delay(3000, ct);
        long split = Stopwatch.GetTimestamp();
        long savesBefore = InfoField(c, "persistence", "rdb_saves");
        for (int i = 0; i < 3; i++)
        {
            await Assert.That(c.Call("BGSAVE").ToString()).IsEqualTo("Background saving started");
            while (InfoField(c, "persistence", "rdb_bgsave_in_progress") == 1) await Task.Delay(5, ct);
            await Task.Delay(500, ct);
        }
        // Save rules: the writer makes changes, "1 1" saves once a second.
        c.Call("CONFIG", "SET", "save", "1 1");
        while (InfoField(c, "persistence", "rdb_saves") < savesBefore + 5 && deadline.Elapsed < TimeSpan.FromSeconds(120)) await Task.Delay(50, ct);
        c.Call("CONFIG", "SET", "save", "");
        await Task.Delay(300, ct);
        var samples = probe.Stop();
        writerStop.Cancel();
        await writer;

        await Assert.That(InfoField(c, "persistence", "rdb_saves")).IsGreaterThanOrEqualTo(savesBefore + 5);
        await Assert.That(c.Call("INFO", "persistence").Text!).Contains("rdb_last_bgsave_status:ok");
        var quiet = samples.Where(s => s.at < split).Select(s => s.ms).ToList();
        var during = samples.Where(s => s.at >= split).Select(s => s.ms).ToList();
        Console.WriteLine("Without checkpoints: " + Distribution(quiet));
        Console.WriteLine("During 3 BGSAVEs and 2 save-rule checkpoints of 1M keys: " + Distribution(during));
        foreach (var line in server.LogText.Split('\n').Where(l => l.Contains("DB saved on disk"))) Console.WriteLine(line);
        var origin = DateTime.UtcNow - Stopwatch.GetElapsedTime(samples[0].at);
        foreach (var (at, ms) in samples.Where(s => s.ms > 5))
            Console.WriteLine($"slow PING at {origin + Stopwatch.GetElapsedTime(samples[0].at, at):HH:mm:ss.fff}: {ms:F1} ms");
        await Assert.That(during.Count).IsGreaterThan(100);
        return (quiet, during);
    }

    private static double Percentile(List<double> ms, double q)
    {
        var sorted = ms.OrderBy(x => x).ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * q))];
    }

    private static void KillHard(ServerProcess server)
    {
        server.Process.Kill();
        server.Process.WaitForExit(10_000);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
