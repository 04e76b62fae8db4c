using System.Collections.Concurrent;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// The AOF frames a command's records: recovery applies a multi-key command whole or not at all,
/// whatever the kill cut (a frame larger than one AOF entry is split into parts, applied only once
/// the last part is there).
/// </summary>
public class AofFrameTests
{
    private const int GroupSize = 10;

    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-frames-" + Guid.NewGuid().ToString("N"));

    private static void KillHard(ServerProcess server)
    {
        server.Process.Kill(); // SIGKILL: no shutdown path runs
        server.Process.WaitForExit(10_000);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static string GroupKey(int writer, int group, int i) => $"w{writer}:g{group}:k{i}";

    /// <summary>
    /// Writers each own key groups of 10 and set a whole group with one MSET to one value (its sequence
    /// number, padded by a length that depends on it); the process is killed with SIGKILL in the middle.
    /// After restart every group holds one value in all 10 keys (or none), at least the last acknowledged.
    /// Before framing, the AOF held the 10 records as 10 entries, and a commit by the other reactor could
    /// cover the first few of them: restarts showed groups with two values.
    /// </summary>
    private static async Task CrashDuringMsets(string fsync, int cycles)
    {
        const int writers = 6, groupsPerWriter = 8;
        int torn = 0, lost = 0, checkedGroups = 0;
        for (int cycle = 0; cycle < cycles; cycle++)
        {
            var dir = NewDir();
            try
            {
                var acked = new ConcurrentDictionary<(int, int), long>();
                var sent = new ConcurrentDictionary<(int, int), long>();
                await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", fsync,
                    "--save", "", "--io-threads", "2"))
                {
                    using var stop = new CancellationTokenSource();
                    var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() =>
                    {
                        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(5));
                        var rnd = new Random(w * 31 + cycle);
                        long n = 0;
                        try
                        {
                            while (!stop.IsCancellationRequested)
                            {
                                int g = rnd.Next(groupsPerWriter);
                                n++;
                                var value = n + ":" + new string('x', (int)(n % 100));
                                var args = new object[1 + 2 * GroupSize];
                                args[0] = "MSET";
                                for (int i = 0; i < GroupSize; i++)
                                {
                                    args[1 + 2 * i] = GroupKey(w, g, i);
                                    args[2 + 2 * i] = value;
                                }
                                sent[(w, g)] = n;
                                if (!c.Call(args).IsError) acked[(w, g)] = n;
                            }
                        }
                        catch (Exception) { /* the server died under us */ }
                    })).ToArray();
                    await Task.Delay(1500 + 300 * cycle);
                    KillHard(server);
                    stop.Cancel();
                    await Task.WhenAll(tasks);
                }
                await Assert.That(acked.Count > 10).IsTrue();
                await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
                {
                    using var c = new RespClient(server.Port);
                    for (int w = 0; w < writers; w++)
                    {
                        for (int g = 0; g < groupsPerWriter; g++)
                        {
                            var keys = new object[1 + GroupSize];
                            keys[0] = "MGET";
                            for (int i = 0; i < GroupSize; i++) keys[1 + i] = GroupKey(w, g, i);
                            var values = c.Call(keys).Items!.Select(r => r.Text).ToArray();
                            checkedGroups++;
                            if (values.Distinct().Count() != 1)
                            {
                                torn++;
                                continue;
                            }
                            long got = values[0] is { } v ? long.Parse(v[..v.IndexOf(':')]) : 0;
                            if (values[0] is { } text) await Assert.That(text.Length - text.IndexOf(':') - 1).IsEqualTo((int)(got % 100));
                            if (acked.TryGetValue((w, g), out long a) && got != a && !(sent.TryGetValue((w, g), out long s) && got == s))
                                lost++;
                        }
                    }
                }
            }
            finally { TryDelete(dir); }
        }
        Console.WriteLine($"{fsync}: {cycles} kills, {checkedGroups} groups checked, {torn} partially applied, {lost} behind the last acknowledged MSET");
        await Assert.That(torn).IsEqualTo(0);
        await Assert.That(lost).IsEqualTo(0);
    }

    [Test]
    [Timeout(180_000)]
    public async Task Kill_9_during_10_key_msets_with_appendfsync_always_applies_every_mset_whole(CancellationToken ct)
        => await CrashDuringMsets("always", 4);

    [Test]
    [Timeout(180_000)]
    public async Task Kill_9_during_10_key_msets_with_appendfsync_everysec_applies_every_mset_whole(CancellationToken ct)
        => await CrashDuringMsets("everysec", 4);
}
