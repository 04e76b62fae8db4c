using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using NativeKv.Server;
using NativeKv.Server.Storage;
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
    /// A BGSAVE every 250 ms makes the restart load a checkpoint taken in the middle of the load.
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
                    })).ToList();
                    // Checkpoints meanwhile: the restart loads one taken in the middle of the load and replays
                    // the frames after it (CheckpointCutTests: a checkpoint alone holds each MSET whole).
                    tasks.Add(Task.Run(async () =>
                    {
                        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(5));
                        try
                        {
                            while (!stop.IsCancellationRequested)
                            {
                                c.Call("BGSAVE");
                                await Task.Delay(250);
                            }
                        }
                        catch (Exception) { /* the server died under us */ }
                    }));
                    await Task.Delay(1500 + 300 * cycle);
                    KillHard(server);
                    stop.Cancel();
                    await Task.WhenAll(tasks);
                }
                await Assert.That(acked.Count > 10).IsTrue();
                await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
                {
                    using var c = new RespClient(server.Port);
                    await Assert.That(server.LogText).Contains("Loaded checkpoint");
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

    // ------------------------------------------------------------ cutting the AOF where a command's records lie

    private sealed record Entry(long Address, long Size, byte[] Payload);

    /// <summary>The AOF's entries (commit records left out), read raw from its first segment.</summary>
    private static List<Entry> Entries(string dataDir)
    {
        int pageBits = Persistence.AofPageBitsOf(dataDir, new Log(TextWriter.Null));
        long page = 1L << pageBits;
        var bytes = File.ReadAllBytes(Path.Combine(dataDir, "appendonlydir", "appendonly.aof.0"));
        var list = new List<Entry>();
        long pos = AofScan.FirstValidAddress;
        while (pos + AofScan.HeaderSize <= bytes.Length)
        {
            long pageEnd = (pos / page + 1) * page;
            if (pos + AofScan.HeaderSize > pageEnd)
            {
                // Fewer bytes left in the page than a header: padding (reading on would take the next
                // page's checksum for a length, and stop the walk there).
                pos = pageEnd;
                continue;
            }
            int len = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)pos + 8));
            if (len == 0)
            {
                pos = pageEnd; // padding to the page end (or nothing more in this page)
                continue;
            }
            long size = AofScan.HeaderSize + ((Math.Abs((long)len) + 3) & ~3L);
            if (pos + size > bytes.Length) break; // kill -9 left the last entry's bytes short of it
            if (len > 0) list.Add(new Entry(pos, size, bytes.AsSpan((int)pos + AofScan.HeaderSize, len).ToArray()));
            pos += size;
        }
        return list;
    }

    /// <summary>
    /// Finds the records holding <paramref name="marker"/> (one command's), and cuts the AOF at the inner
    /// entry boundary nearest their middle (none in a frame of one entry: at its start): the commit metadata covers everything before it (as if a
    /// commit had been written there and the process died), and the file is wiped from
    /// <paramref name="tornBytes"/> bytes past it (0: at the boundary; more: a torn entry stays behind).
    /// Before framing, the boundary fell between the 10 records of the MSET.
    /// </summary>
    private static void CutInside(string dataDir, string marker, long tornBytes)
    {
        var mark = Encoding.ASCII.GetBytes(marker);
        var entries = Entries(dataDir);
        var hits = entries.Where(e => e.Payload.AsSpan().IndexOf(mark) >= 0).ToList();
        if (hits.Count == 0) throw new InvalidOperationException($"no AOF entry holds {marker}");
        long start = hits[0].Address, end = hits[^1].Address + hits[^1].Size;
        long middle = (start + end) / 2;
        // Inside the region when it has an inner boundary (between records, or between a frame's parts).
        var cut = hits.Count == 1 ? hits[0] : hits.Skip(1).MinBy(e => Math.Abs(e.Address - middle))!;
        var report = new AofScanReport
        {
            StartAddress = AofScan.FirstValidAddress,
            GoodUntil = cut.Address,
            DamageAddress = cut.Address + Math.Min(tornBytes, cut.Size - 4) / 4 * 4,
        };
        var aofDir = Path.Combine(dataDir, "appendonlydir");
        int pageBits = Persistence.AofPageBitsOf(dataDir, new Log(TextWriter.Null));
        AofScan.TruncateAt(aofDir, Path.Combine(aofDir, "appendonly.aof"), AppendOnlyFile.SegmentBitsFor(pageBits), report);
    }

    /// <summary><c>nativekv --check-aof DIR</c>, in process.</summary>
    private static (int Code, string Output) CheckAof(string dir)
    {
        var output = new StringWriter();
        int code = Server.CheckAof.Run([dir], TextReader.Null, output);
        return (code, output.ToString());
    }

    private static object[] Mset(string prefix, int keys, string value)
    {
        var args = new object[1 + 2 * keys];
        args[0] = "MSET";
        for (int i = 0; i < keys; i++)
        {
            args[1 + 2 * i] = prefix + i;
            args[2 + 2 * i] = value;
        }
        return args;
    }

    private static string?[] Mget(RespClient c, string prefix, int keys)
    {
        var args = new object[1 + keys];
        args[0] = "MGET";
        for (int i = 0; i < keys; i++) args[1 + i] = prefix + i;
        return c.Call(args).Items!.Select(r => r.Text).ToArray();
    }

    /// <summary>
    /// The AOF cut between the records of an acknowledged 10-key MSET (the last one), with everything
    /// before the cut committed: recovery drops the MSET whole, the one before it stays whole.
    /// </summary>
    [Test]
    [Timeout(60_000)]
    public async Task An_aof_cut_inside_an_mset_drops_the_whole_mset(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call(Mset("g:", GroupSize, "first-AAAA")).Text).IsEqualTo("OK");
                await Assert.That(c.Call(Mset("g:", GroupSize, "second-BBBB")).Text).IsEqualTo("OK");
                KillHard(server);
            }
            CutInside(dir, "second-BBBB", tornBytes: 0);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                var values = Mget(c, "g:", GroupSize);
                await Assert.That(values.Distinct().Count()).IsEqualTo(1);
                await Assert.That(values[0]).IsEqualTo("first-AAAA");
            }
        }
        finally { TryDelete(dir); }
    }

    private const int BigKeys = 12;
    private static string BigValue(string marker) => marker + new string(marker[0], (1 << 20) - marker.Length);

    /// <summary>
    /// 12 values of 1 MB in one MSET: more than one AOF entry holds (8 MB pages), so the frame is
    /// split into parts; after a kill -9 every key reads back, and --check-aof finds the AOF valid.
    /// </summary>
    [Test]
    [Timeout(90_000)]
    public async Task A_frame_larger_than_an_aof_entry_is_split_into_parts_and_applied_whole(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                await Assert.That(c.Call(Mset("big:", BigKeys, BigValue("first:"))).Text).IsEqualTo("OK");
                await Assert.That(c.Call(Mset("big:", BigKeys, BigValue("second:"))).Text).IsEqualTo("OK");
                KillHard(server);
            }
            var parts = Entries(dir).Where(e => e.Payload[0] == (byte)AofEntryKind.FramePart).ToList();
            await Assert.That(parts.Count >= 4).IsTrue(); // two frames of at least two parts each
            var (code, report) = CheckAof(dir);
            await Assert.That(code).IsEqualTo(0);
            await Assert.That(report).Contains("2 command frames (2 split into parts)");
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var values = Mget(c, "big:", BigKeys);
                await Assert.That(values.All(v => v == BigValue("second:"))).IsTrue();
                await Assert.That(server.LogText).Contains("2 command frames of which 2 split into parts");
                KillHard(server);
            }
            // Cut between the parts of the second frame, the first parts committed: none of it applies.
            CutInside(dir, "second:", tornBytes: 0);
            (code, report) = CheckAof(dir);
            await Assert.That(report).Contains("1 command frame(s) split into parts have no last part");
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var values = Mget(c, "big:", BigKeys);
                await Assert.That(values.All(v => v == BigValue("first:"))).IsTrue();
                await Assert.That(server.LogText).Contains("dropped 1 command frame(s) that the end of the log cut");
            }
        }
        finally { TryDelete(dir); }
    }

    /// <summary>
    /// A torn tail inside a frame: the file ends in the middle of its last part (a flush the kill
    /// interrupted), its first parts committed. The torn bytes are dropped and so is the whole frame.
    /// </summary>
    [Test]
    [Timeout(90_000)]
    public async Task A_torn_tail_inside_a_frame_drops_the_whole_frame(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                await Assert.That(c.Call(Mset("big:", BigKeys, BigValue("first:"))).Text).IsEqualTo("OK");
                await Assert.That(c.Call(Mset("big:", BigKeys, BigValue("second:"))).Text).IsEqualTo("OK");
                KillHard(server);
            }
            CutInside(dir, "second:", tornBytes: 300_000);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var values = Mget(c, "big:", BigKeys);
                await Assert.That(values.All(v => v == BigValue("first:"))).IsTrue();
                await Assert.That(server.LogText).Contains("part of a command frame: the frame is dropped whole");
                await Assert.That(server.LogText).Contains("dropped 1 command frame(s) that the end of the log cut");
            }
        }
        finally { TryDelete(dir); }
    }

    /// <summary>
    /// An MSET of 10 keys whose records are on disk (maxmemory 16mb, 200k keys written first): each
    /// write completes later, in FASTER's completion callback, and the command runs again; the frame
    /// still holds each of the 10 records exactly once, and they all come back after a kill -9.
    /// </summary>
    [Test]
    [Timeout(120_000)]
    public async Task An_mset_of_keys_on_disk_is_one_frame_holding_each_record_once(CancellationToken ct)
    {
        var dir = NewDir();
        const int load = 200_000;
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "everysec",
                "--save", "", "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var value = new string('v', 100);
                for (int from = 0; from < load; from += 10_000)
                {
                    var batch = new StringBuilder();
                    for (int i = from; i < from + 10_000; i++) batch.Append($"*3\r\n$3\r\nSET\r\n${("cold:" + i).Length}\r\ncold:{i}\r\n$100\r\n{value}\r\n");
                    c.SendRaw(batch.ToString());
                    for (int i = 0; i < 10_000; i++) c.Read();
                }
                string StoreStat(string name)
                {
                    var info = c.Call("INFO", "all").Text!;
                    var line = info.Split("\r\n").First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
                    return line[(name.Length + 1)..];
                }
                long writesBefore = long.Parse(StoreStat("store_disk_writes"));
                var args = new object[21];
                args[0] = "MSET";
                for (int i = 0; i < GroupSize; i++)
                {
                    args[1 + 2 * i] = "cold:" + (i * 1000);
                    args[2 + 2 * i] = "cold-new-" + i;
                }
                await Assert.That(c.Call(args).Text).IsEqualTo("OK");
                await Assert.That(long.Parse(StoreStat("store_disk_writes")) > writesBefore).IsTrue();
                KillHard(server);
            }
            var frames = Entries(dir).Where(e => e.Payload[0] == (byte)AofEntryKind.Frame).ToList();
            await Assert.That(frames.Count).IsEqualTo(1);
            await Assert.That(BinaryPrimitives.ReadUInt32LittleEndian(frames[0].Payload.AsSpan(1))).IsEqualTo((uint)GroupSize);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                for (int i = 0; i < GroupSize; i++) await Assert.That(c.Call("GET", "cold:" + (i * 1000)).Text).IsEqualTo("cold-new-" + i);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(load);
            }
        }
        finally { TryDelete(dir); }
    }
}
