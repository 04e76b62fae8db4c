using System.Diagnostics;
using NativeKv.Server.Storage.Locks;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// A checkpoint cuts every session at a command boundary: it takes the keyspace gate while FASTER moves
/// the sessions to the new version, so a checkpoint alone (no AOF) never holds part of a command; and
/// SAVE, BGSAVE and BGREWRITEAOF still complete while commands wait on disk, every client still served.
/// </summary>
public class CheckpointCutTests
{
    private const int GroupSize = 10;

    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-cut-" + Guid.NewGuid().ToString("N"));

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string GroupKey(int writer, int group, int i) => $"w{writer}:g{group}:k{i}";

    private static bool InProgress(RespClient c, string field) => ServerInfo.Field(c, "persistence", field) != 0;

    /// <summary>
    /// 20,000 groups of 10 keys (about 26 MB of records under maxmemory 16mb, so most of them are on disk)
    /// each start with one value; four writers (two per reactor) pipeline 10-key MSETs over random groups,
    /// one value per MSET, while another client runs BGSAVE after BGSAVE. An MSET of cold keys waits on
    /// disk between its writes (one disk round per key), holding the keyspace gate shared, which is where a
    /// checkpoint would otherwise cut it. The process is killed with SIGKILL with the load running and
    /// restarted without an AOF, so what it holds is the last checkpoint alone: every group must hold one
    /// value in all 10 keys. Without the gate (FASTER moving each session at its next operation) groups
    /// came back split between two MSETs: 8 of 60,000 groups, in each of 3 restarts.
    /// </summary>
    [Test]
    [Timeout(240_000)]
    public async Task A_checkpoint_alone_holds_every_mset_whole(CancellationToken ct)
    {
        const int writers = 4, groups = 20_000, pipeline = 8, valueLength = 100;
        const int cycles = 3;
        static string Value(string tag) => tag + ":" + new string('x', valueLength - tag.Length - 1);
        static object[] Mset(int g, string value)
        {
            var args = new object[1 + 2 * GroupSize];
            args[0] = "MSET";
            for (int i = 0; i < GroupSize; i++)
            {
                args[1 + 2 * i] = $"g{g}:k{i}";
                args[2 + 2 * i] = value;
            }
            return args;
        }
        int torn = 0, tornCycles = 0, savesTotal = 0;
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            var dir = NewDir();
            try
            {
                long written = 0;
                int saves = 0;
                await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no", "--save", "", "--io-threads", "2",
                    "--maxmemory", "16mb"))
                {
                    using (var fill = new RespClient(server.Port, TimeSpan.FromSeconds(60)))
                    {
                        for (int start = 0; start < groups; start += 500)
                        {
                            for (int g = start; g < start + 500; g++) fill.Send(Mset(g, Value("init")));
                            for (int g = start; g < start + 500; g++) fill.Read();
                        }
                    }
                    using var stop = new CancellationTokenSource();
                    // Connected in turn, so the acceptor's round robin puts two writers on each reactor.
                    var clients = Enumerable.Range(0, writers).Select(_ => new RespClient(server.Port, TimeSpan.FromSeconds(30))).ToArray();
                    var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
                    {
                        var c = clients[w];
                        var rnd = new Random(w * 31 + cycle);
                        long n = 0;
                        try
                        {
                            while (!stop.IsCancellationRequested)
                            {
                                for (int p = 0; p < pipeline; p++) c.Send(Mset(rnd.Next(groups), Value($"{w}:{++n}")));
                                for (int p = 0; p < pipeline; p++) c.Read();
                                Interlocked.Add(ref written, pipeline);
                            }
                        }
                        catch (Exception) { /* the server died under us */ }
                    })).ToList();
                    using (var saver = new RespClient(server.Port, TimeSpan.FromSeconds(30)))
                    {
                        var sw = Stopwatch.StartNew();
                        while (saves < 4 || sw.ElapsedMilliseconds < 2000)
                        {
                            if (sw.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"only {saves} BGSAVEs in 60 s");
                            var reply = saver.Call("BGSAVE");
                            if (reply.IsError) throw new InvalidOperationException("BGSAVE: " + reply.Text);
                            while (InProgress(saver, "rdb_bgsave_in_progress")) await Task.Delay(5, ct);
                            saves++;
                        }
                        await Assert.That(ServerInfo.Field(saver, "persistence", "rdb_saves")).IsEqualTo((double)saves);
                    }
                    // Killed with the writers still going: the restart has only the last checkpoint.
                    server.Process.Kill();
                    server.Process.WaitForExit(10_000);
                    stop.Cancel();
                    await Task.WhenAll(tasks);
                    foreach (var c in clients) c.Dispose();
                }
                await Assert.That(Interlocked.Read(ref written)).IsGreaterThan(100);
                await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no", "--save", ""))
                {
                    using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                    await Assert.That(server.LogText).Contains("Loaded checkpoint");
                    int tornHere = 0, changed = 0;
                    for (int start = 0; start < groups; start += 500)
                    {
                        for (int g = start; g < start + 500; g++)
                        {
                            var keys = new object[1 + GroupSize];
                            keys[0] = "MGET";
                            for (int i = 0; i < GroupSize; i++) keys[1 + i] = $"g{g}:k{i}";
                            c.Send(keys);
                        }
                        for (int g = start; g < start + 500; g++)
                        {
                            var values = c.Read().Items!.Select(r => r.Text).ToArray();
                            if (values.Distinct().Count() != 1) tornHere++;
                            else if (values[0] != Value("init")) changed++;
                        }
                    }
                    // The checkpoints were taken in the middle of the load: the last one holds some of it.
                    await Assert.That(changed).IsGreaterThan(0);
                    torn += tornHere;
                    if (tornHere > 0) tornCycles++;
                }
                savesTotal += saves;
            }
            finally { TryDelete(dir); }
        }
        Console.WriteLine($"{cycles} kills after {savesTotal} BGSAVEs: {tornCycles} restarts with groups split between two MSETs, {torn} such groups of {cycles * groups}");
        await Assert.That(torn).IsEqualTo(0);
    }

    /// <summary>
    /// Under maxmemory 16mb with 160k keys of 200 bytes (about 40 MB of records), four clients (two per
    /// reactor) pipeline GETs, SETs and 4-key MSETs of random keys, so commands wait on disk with the gate
    /// held shared whenever a checkpoint asks for it. SAVE from a client of each reactor, BGSAVE,
    /// BGREWRITEAOF, and a SAVE sent while a BGREWRITEAOF is starting (the SAVE holds the gate and waits for
    /// the rewrite, which then takes its cut under the SAVE's gate) all complete, and every client is
    /// served after each. A SAVE whose own reactor had a client holding the gate on disk would wait forever
    /// for it if the checkpointer took the gate (that reactor is inside SAVE): SAVE takes it as a keyspace
    /// command instead. Before the gate, such a SAVE failed after 5 s whenever its reactor had a framed
    /// MSET waiting on disk.
    /// </summary>
    [Test]
    [Timeout(240_000)]
    public async Task Save_bgsave_and_bgrewriteaof_complete_while_commands_wait_on_disk(CancellationToken ct)
    {
        const int keys = 160_000, loaders = 4, pipeline = 16;
        var dir = NewDir();
        try
        {
            await using var server = await ServerProcess.StartInAsync(dir, "--maxmemory", "16mb", "--io-threads", "2",
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "");
            // Connected in turn (round robin): control[0] on reactor 0, control[1] on reactor 1, then the loaders.
            var control = new[] { new RespClient(server.Port, TimeSpan.FromSeconds(60)), new RespClient(server.Port, TimeSpan.FromSeconds(60)) };
            var value = new string('v', 200);
            using (var fill = new RespClient(server.Port, TimeSpan.FromSeconds(60)))
            {
                for (int start = 0; start < keys; start += 1000)
                {
                    for (int i = start; i < start + 1000; i++) fill.Send("SET", "key:" + i, value);
                    for (int i = start; i < start + 1000; i++) fill.Read();
                }
            }
            var served = new long[loaders];
            var errors = new string?[loaders];
            using var stop = new CancellationTokenSource();
            var loaderClients = Enumerable.Range(0, loaders).Select(_ => new RespClient(server.Port, TimeSpan.FromSeconds(60))).ToArray();
            var tasks = Enumerable.Range(0, loaders).Select(l => Task.Run(() =>
            {
                var c = loaderClients[l];
                var rnd = new Random(l);
                try
                {
                    while (!stop.IsCancellationRequested)
                    {
                        for (int p = 0; p < pipeline; p++)
                        {
                            int op = rnd.Next(4);
                            if (op == 0) c.Send("SET", "key:" + rnd.Next(keys), value);
                            else if (op == 1) c.Send("MSET", "key:" + rnd.Next(keys), value, "key:" + rnd.Next(keys), value,
                                "key:" + rnd.Next(keys), value, "key:" + rnd.Next(keys), value);
                            else c.Send("GET", "key:" + rnd.Next(keys));
                        }
                        for (int p = 0; p < pipeline; p++)
                        {
                            var r = c.Read();
                            if (r.IsError) errors[l] ??= r.Text;
                        }
                        Interlocked.Add(ref served[l], pipeline);
                    }
                }
                catch (Exception e) when (!stop.IsCancellationRequested) { errors[l] ??= e.Message; }
                catch (Exception) { /* stopping */ }
            })).ToList();

            // Every loader answered more requests after the step than before it.
            async Task AllServed(string step)
            {
                var before = served.Select(s => Interlocked.Read(ref s)).ToArray();
                var sw = Stopwatch.StartNew();
                for (int l = 0; l < loaders; l++)
                {
                    while (Interlocked.Read(ref served[l]) <= before[l])
                    {
                        if (sw.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException($"loader {l} got no reply for 20 s after {step}: {errors[l]}");
                        await Task.Delay(10, ct);
                    }
                }
            }

            async Task WaitJob(RespClient c, string field)
            {
                var sw = Stopwatch.StartNew();
                while (InProgress(c, field))
                {
                    if (sw.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException(field + " still 1 after 60 s");
                    await Task.Delay(10, ct);
                }
            }

            await AllServed("the start");
            double saves = ServerInfo.Field(control[0], "persistence", "rdb_saves");
            double rewrites = ServerInfo.Field(control[0], "persistence", "aof_rewrites");
            for (int round = 0; round < 2; round++)
            {
                foreach (var c in control)
                {
                    await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                    await AllServed("SAVE");
                    await Assert.That(c.Call("BGSAVE").Text).IsEqualTo("Background saving started");
                    await WaitJob(c, "rdb_bgsave_in_progress");
                    await AllServed("BGSAVE");
                    await Assert.That(c.Call("BGREWRITEAOF").Text).IsEqualTo("Background append only file rewriting started");
                    await WaitJob(c, "aof_rewrite_in_progress");
                    await AllServed("BGREWRITEAOF");
                }
                // A SAVE right behind a BGREWRITEAOF: it waits for the rewrite while holding the gate.
                await Assert.That(control[round].Call("BGREWRITEAOF").Text).IsEqualTo("Background append only file rewriting started");
                await Assert.That(control[1 - round].Call("SAVE").Text).IsEqualTo("OK");
                await WaitJob(control[0], "aof_rewrite_in_progress");
                await AllServed("BGREWRITEAOF + SAVE");
            }
            await Assert.That(ServerInfo.Field(control[0], "persistence", "rdb_saves") - saves).IsEqualTo(10.0);
            await Assert.That(ServerInfo.Field(control[0], "persistence", "aof_rewrites") - rewrites).IsEqualTo(6.0);
            var info = control[0].Call("INFO", "persistence").Text!;
            await Assert.That(info).Contains("rdb_last_bgsave_status:ok");
            await Assert.That(info).Contains("aof_last_bgrewrite_status:ok");
            var gate = info.Split("\r\n").Single(l => l.StartsWith("checkpoint_gate_ms:", StringComparison.Ordinal));
            Console.WriteLine($"after 10 saves and 6 rewrites under load: {gate}; served {string.Join(", ", served)}");
            stop.Cancel();
            foreach (var c in loaderClients) c.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
            await Task.WhenAll(tasks);
            foreach (var c in loaderClients) c.Dispose();
            foreach (var c in control) c.Dispose();
            for (int l = 0; l < loaders; l++) await Assert.That(errors[l]).IsNull();
            await Assert.That(server.HasExited).IsFalse();
        }
        finally { TryDelete(dir); }
    }

    /// <summary>The pause a checkpoint's cut put on keyed commands, in INFO persistence: last and longest.</summary>
    [Test]
    [Timeout(60_000)]
    public async Task Info_reports_the_gate_pause_of_the_last_and_longest_cut(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await using var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no", "--save", "");
            using var c = new RespClient(server.Port);
            static (double last, double max) Gate(RespClient c)
            {
                var line = c.Call("INFO", "persistence").Text!.Split("\r\n").Single(l => l.StartsWith("checkpoint_gate_ms:", StringComparison.Ordinal));
                var parts = line["checkpoint_gate_ms:".Length..].Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
                return (parts["last"], parts["max"]);
            }
            await Assert.That(Gate(c)).IsEqualTo((0.0, 0.0));
            await Assert.That(c.Call("SET", "k", "v").Text).IsEqualTo("OK");
            await Assert.That(c.Call("BGSAVE").Text).IsEqualTo("Background saving started");
            while (InProgress(c, "rdb_bgsave_in_progress")) await Task.Delay(5, ct);
            var (last, max) = Gate(c);
            await Assert.That(last).IsGreaterThan(0.0);
            await Assert.That(max).IsGreaterThanOrEqualTo(last);
            await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
            var (last2, max2) = Gate(c);
            await Assert.That(last2).IsGreaterThan(0.0);
            await Assert.That(max2).IsEqualTo(Math.Max(max, last2));
        }
        finally { TryDelete(dir); }
    }

    private sealed class Wake : ILockWaiter
    {
        public readonly SemaphoreSlim Signal = new(0);
        public void Granted() => Signal.Release();
    }

    /// <summary>
    /// The checkpointer's hold on the gate, from a plain thread: it waits while a command holds the gate
    /// shared (a reactor's client, granted through its waiter), commands arriving meanwhile queue behind
    /// it, and they are granted once it leaves.
    /// </summary>
    [Test]
    [Timeout(30_000)]
    public async Task A_thread_takes_the_gate_after_the_commands_in_it_and_before_later_ones(CancellationToken ct)
    {
        var table = new KeyLockTable();
        var inside = new LockSet(new Wake(), 0);
        inside.Begin();
        inside.AddKey(0, "a"u8, exclusive: true);
        await Assert.That(table.Acquire(inside)).IsTrue();

        var hold = new ThreadGateHold(table);
        var entered = Task.Run(() => hold.Enter(() => false, TimeSpan.FromMilliseconds(10)));
        await Task.Delay(200, ct);
        await Assert.That(entered.IsCompleted).IsFalse(); // the command in the keyspace goes first

        var laterWake = new Wake();
        var later = new LockSet(laterWake, 1);
        later.Begin();
        later.AddKey(0, "b"u8, exclusive: false);
        await Assert.That(table.Acquire(later)).IsFalse(); // queued behind the waiting checkpointer
        table.Release(inside);
        await Assert.That(await entered).IsTrue();
        await Assert.That(hold.Held).IsTrue();
        await Assert.That(await laterWake.Signal.WaitAsync(100, ct)).IsFalse();
        hold.Exit();
        await Assert.That(await laterWake.Signal.WaitAsync(5000, ct)).IsTrue();
        await Assert.That(table.Acquire(later)).IsTrue();
        table.Release(later);
    }

    /// <summary>
    /// A hold that gives up (a SAVE lends its gate) or whose check throws (shutdown's limit) leaves the
    /// queue: the gate opens again for the commands behind it.
    /// </summary>
    [Test]
    [Timeout(30_000)]
    public async Task A_thread_that_stops_waiting_for_the_gate_leaves_it_open(CancellationToken ct)
    {
        foreach (bool throws in new[] { false, true })
        {
            var table = new KeyLockTable();
            var inside = new LockSet(new Wake(), 0);
            inside.Begin();
            inside.AddKey(0, "a"u8, exclusive: false);
            await Assert.That(table.Acquire(inside)).IsTrue();
            var hold = new ThreadGateHold(table);
            int polls = 0;
            var entered = Task.Run(() => hold.Enter(() =>
            {
                if (++polls < 5) return false;
                if (throws) throw new TimeoutException("limit");
                return true;
            }, TimeSpan.FromMilliseconds(10)));
            if (throws) await Assert.That(async () => await entered).Throws<TimeoutException>();
            else await Assert.That(await entered).IsFalse();
            await Assert.That(hold.Held).IsFalse();
            // Nothing left queued: a new command and a new exclusive holder get in at once.
            var next = new LockSet(new Wake(), 1);
            next.Begin();
            next.AddKey(0, "b"u8, exclusive: true);
            await Assert.That(table.Acquire(next)).IsTrue();
            table.Release(next);
            table.Release(inside);
            var again = new ThreadGateHold(table);
            await Assert.That(again.Enter(() => throw new InvalidOperationException("waited"), TimeSpan.FromMilliseconds(10))).IsTrue();
            again.Exit();
        }
    }
}
