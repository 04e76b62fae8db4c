using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The hash index doubles while clients on two reactors keep writing: nothing written meanwhile is lost,
/// and the clients are held only across FASTER's table switch, not for the whole doubling.
/// </summary>
public class IndexGrowthTests
{
    private static double InfoField(RespClient c, string name) => ServerInfo.Field(c, "memory", name);

    [Test]
    [Timeout(600_000)]
    public async Task Writes_on_two_reactors_racing_index_doublings_are_all_kept(CancellationToken ct)
    {
        // 16 MB of log in 1 MB pages: the old keys are on disk, so each overwrite reads its record first
        // and completes later. Completions run during the split (the reactors not holding them back)
        // made a reactor fail within 5 s: NullReferenceException in FASTER's TryCopyToTail.
        // The index follows the keys (no sizing ahead of the spill), so it doubles with records on disk.
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--store-page-size", "1mb", "--io-threads", "2",
            "--store-index-spill-factor", "0");
        const long old = 150_000, total = 1_200_000;
        using (var first = new BulkLoader(server.Port)) first.Set(0, old, round: 1);
        using var c = new RespClient(server.Port);
        double growthsBefore = InfoField(c, "store_index_growths");

        // Consecutive connections go to different reactors (round robin): the inserter drives the index
        // through three doublings (256k, 512k, 1M keys) while the overwriter rewrites the old keys.
        using var inserter = new BulkLoader(server.Port);
        using var overwriter = new BulkLoader(server.Port);
        var insert = Task.Run(() => inserter.Set(old, total, round: 1, batch: 5_000));
        int lastRound = 1;
        var overwrite = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            for (int round = 2; !insert.IsCompleted && sw.Elapsed < TimeSpan.FromSeconds(240); round++)
            {
                overwriter.Set(0, old, round, batch: 2_000);
                lastRound = round;
            }
        });
        try
        {
            await insert;
            await overwrite;
        }
        catch (Exception)
        {
            Console.WriteLine($"server exited: {server.HasExited}; its log ends:");
            foreach (var line in server.LogText.Split('\n').TakeLast(30)) Console.WriteLine(line);
            throw;
        }

        double growths = InfoField(c, "store_index_growths") - growthsBefore;
        double pending = InfoField(c, "store_disk_writes");
        Console.WriteLine($"{growths} doublings during the race, {lastRound - 1} overwrite rounds, {pending} writes read from disk, " +
                          $"longest pause {InfoField(c, "store_index_max_pause_ms")} ms");
        await Assert.That(growths).IsGreaterThanOrEqualTo(3);
        await Assert.That(lastRound).IsGreaterThanOrEqualTo(2);
        await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(total);
        using var verify = new BulkLoader(server.Port);
        await Assert.That(verify.Verify(0, old, lastRound, batch: 5_000)).IsEqualTo(0);
        await Assert.That(verify.Verify(old, total, round: 1, batch: 5_000)).IsEqualTo(0);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    [NotInParallel]
    [Timeout(300_000)]
    public async Task An_index_doubling_holds_clients_only_across_the_table_switch(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--loglevel", "verbose");
        using var probe = new RespClient(server.Port);
        using var loader = new BulkLoader(server.Port);
        // 1.2M keys: five doublings, the last from 256k to 512k buckets (100-220 ms with every client parked before).
        var load = Task.Run(() => loader.Set(0, 1_200_000, round: 1, batch: 5_000));
        double worst = 0;
        while (!load.IsCompleted)
        {
            var t = Stopwatch.GetTimestamp();
            await Assert.That(probe.Call("PING").Text).IsEqualTo("PONG");
            worst = Math.Max(worst, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            Thread.Sleep(10);
        }
        await load;
        // The last doubling may still be on its way (the maintenance pass looks every 100 ms).
        var wait = Stopwatch.StartNew();
        while (InfoField(probe, "store_index_growths") < 5 && wait.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(10);
        double growths = InfoField(probe, "store_index_growths");
        foreach (var line in server.LogText.Split('\n'))
            if (line.Contains("hash index")) Console.WriteLine(line);
        double pause = InfoField(probe, "store_index_max_pause_ms");
        Console.WriteLine($"{growths} doublings, longest pause {pause} ms, worst PING {worst:F1} ms");
        await Assert.That(growths).IsGreaterThanOrEqualTo(5);
        // The server's own measure (from asking the reactors to park until they resume, or the GC after):
        // 1-20 ms on a quiet machine, 77-98 ms beside other tests at a load average of 21, so the bound
        // leaves room; the whole doubling held them 100-220 ms here before (and INFO had no such line).
        await Assert.That(pause).IsLessThan(100);
        // The probe's is noisier on a shared machine: a generous bound (a 1.3 s wait to park came through it).
        await Assert.That(worst).IsLessThan(400);
        await server.DisposeAsync();
        server.DeleteData();
    }
}
