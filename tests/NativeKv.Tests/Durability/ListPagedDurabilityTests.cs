using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// Paged lists through kill -9: acknowledged pushes and pops under appendfsync always come back in order; the AOF
/// grows by an element's record per push, not by the list; a checkpoint plus the records after it rebuild the list;
/// and a 200k-element list under a 16 MB maxmemory reads back whole from disk (LRANGE of its cold pages).
/// </summary>
public class ListPagedDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-plists-" + Guid.NewGuid().ToString("N"));

    private static long AofBytes(string dir) =>
        Directory.EnumerateFiles(Path.Combine(dir, "appendonlydir"), "appendonly.aof.*").Sum(f => new FileInfo(f).Length);

    private static long Info(RespClient c, string section, string field)
    {
        var line = c.Call("INFO", section).Text!.Split("\r\n").First(l => l.StartsWith(field + ":"));
        return long.Parse(line[(field.Length + 1)..]);
    }

    [Test]
    public async Task Pushes_to_a_200k_list_log_an_element_each_and_survive_kill_9()
    {
        var dir = NewDir();
        try
        {
            const int n = 200_000, more = 10_000;
            string E(int i) => $"e{i:D15}"; // 16 bytes
            long before, after;
            var popped = new List<string>();
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                for (int i = 0; i < n; i += 1000)
                    c.Call(new object[] { "RPUSH", "q" }.Concat(Enumerable.Range(i, 1000).Select(j => (object)E(j))).ToArray());
                await Assert.That(c.Call("OBJECT", "ENCODING", "q").Text).IsEqualTo("quicklist");
                // The file's length moves in whole pages of FasterLog: the average over 10,000 pushes is what counts.
                before = Info(c, "persistence", "aof_current_size");
                for (int i = n; i < n + more; i++) await Assert.That(c.Call("RPUSH", "q", E(i)).Integer).IsEqualTo(i + 1);
                after = Info(c, "persistence", "aof_current_size");
                for (int i = 0; i < 100; i++) popped.Add(c.Call("LPOP", "q").Text!);
                c.Call("LSET", "q", "1000", "set");
                c.Call("LINSERT", "q", "BEFORE", E(5000), "inserted");
                c.Call("LREM", "q", "1", E(6000));
                c.Call("LTRIM", "q", "10", "-11");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            double perPush = (after - before) / (double)more;
            await Assert.That(perPush).IsLessThanOrEqualTo(200);
            var model = Enumerable.Range(0, n + more).Select(E).ToList();
            await Assert.That(popped.SequenceEqual(model.Take(100))).IsTrue();
            model.RemoveRange(0, 100);
            model[1000] = "set";
            model.Insert(model.IndexOf(E(5000)), "inserted");
            model.Remove(E(6000));
            model = model.Skip(10).Take(model.Count - 20).ToList();
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                await Assert.That(c.Call("LLEN", "q").Integer).IsEqualTo(model.Count);
                var got = c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).ToList();
                await Assert.That(got.SequenceEqual(model)).IsTrue();
                await Assert.That(c.Call("LINDEX", "q", (model.Count / 2).ToString()).Text).IsEqualTo(model[model.Count / 2]);
                // A checkpoint, more changes, kill -9: the checkpoint's pages and the records after it.
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                for (int i = 0; i < 500; i++) c.Call("LPUSH", "q", "h" + i);
                c.Call("RPOP", "q", "300");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            for (int i = 0; i < 500; i++) model.Insert(0, "h" + i);
            model.RemoveRange(model.Count - 300, 300);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                var got = c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).ToList();
                await Assert.That(got.Count).IsEqualTo(model.Count);
                await Assert.That(got.SequenceEqual(model)).IsTrue();
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    /// <summary>
    /// Elements longer than a tree entry takes (1017 bytes) kept out of line in chunks: pushed, popped, set, inserted,
    /// removed, trimmed and moved on a paged list, then through kill -9 (the AOF's records) and a checkpoint with records
    /// after it, and under a maxmemory that sends their chunks to disk. Redis takes elements of any size; so must we.
    /// </summary>
    [Test]
    public async Task Long_elements_kept_out_of_line_survive_kill_9_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            string L(string tag, int length) => tag + ":" + new string((char)('a' + tag.Length % 26), length);
            var model = Enumerable.Range(0, 2000).Select(i => "s" + i).ToList(); // 2,000 short ones weigh past 8 KB: paged
            var moved = new List<string>();
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                c.Call(new object[] { "RPUSH", "q" }.Concat(model).ToArray());
                await Assert.That(c.Call("OBJECT", "ENCODING", "q").Text).IsEqualTo("quicklist");
                string[] longs = [L("a", 1018), L("bb", 4000), L("ccc", 70_000), L("dddd", 200_000), L("eeeee", 1 << 20)];
                foreach (var (e, i) in longs.Select((e, i) => (e, i)))
                {
                    if (i % 2 == 0) { c.Call("LPUSH", "q", e); model.Insert(0, e); }
                    else { c.Call("RPUSH", "q", e); model.Add(e); }
                }
                // Read back whole and one by one, then changed by every command that takes or drops one.
                await Assert.That(c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).SequenceEqual(model)).IsTrue();
                await Assert.That(c.Call("LINDEX", "q", "0").Text).IsEqualTo(model[0]);
                await Assert.That(c.Call("LINDEX", "q", "-1").Text).IsEqualTo(model[^1]);
                await Assert.That(c.Call("LPOS", "q", longs[2]).Integer).IsEqualTo(model.IndexOf(longs[2]));
                await Assert.That(c.Call("LPOP", "q").Text).IsEqualTo(model[0]);
                model.RemoveAt(0);
                await Assert.That(c.Call("RPOP", "q").Text).IsEqualTo(model[^1]);
                model.RemoveAt(model.Count - 1);
                c.Call("LSET", "q", "100", L("set", 5000));
                model[100] = L("set", 5000);
                c.Call("LSET", "q", "100", "short again");
                model[100] = "short again";
                c.Call("LINSERT", "q", "BEFORE", "s300", L("ins", 3000));
                model.Insert(model.IndexOf("s300"), L("ins", 3000));
                await Assert.That(c.Call("LREM", "q", "0", longs[2]).Integer).IsEqualTo(1);
                model.Remove(longs[2]);
                await Assert.That(c.Call("LMOVE", "q", "d", "LEFT", "RIGHT").Text).IsEqualTo(model[0]);
                moved.Add(model[0]);
                model.RemoveAt(0);
                c.Call("RPUSH", "q", L("tail", 2000), L("tail2", 9000));
                model.Add(L("tail", 2000));
                model.Add(L("tail2", 9000));
                c.Call("LTRIM", "q", "2", "-2");
                model = model.Skip(2).Take(model.Count - 3).ToList();
                await Assert.That(c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).SequenceEqual(model)).IsTrue();
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                // After the checkpoint: more of them, the AOF's records on top of its pages.
                c.Call("LPUSH", "q", L("after", 66_000));
                model.Insert(0, L("after", 66_000));
                c.Call("LSET", "q", "-1", L("last", 1500));
                model[^1] = L("last", 1500);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                var got = c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).ToList();
                await Assert.That(got.Count).IsEqualTo(model.Count);
                await Assert.That(got.SequenceEqual(model)).IsTrue();
                await Assert.That(c.Call("LRANGE", "d", "0", "-1").Items!.Select(x => x.Text!).SequenceEqual(moved)).IsTrue();
                // Popped to the end: every chunk read back, and the list goes back inline as Redis's would.
                while (c.Call("LLEN", "q").Integer > 100)
                {
                    var e = c.Call("RPOP", "q").Text;
                    await Assert.That(e).IsEqualTo(model[^1]);
                    model.RemoveAt(model.Count - 1);
                }
                await Assert.That(c.Call("LRANGE", "q", "0", "-1").Items!.Select(x => x.Text!).SequenceEqual(model)).IsTrue();
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task A_200k_element_list_under_16mb_of_maxmemory_reads_back_from_disk()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 200_000;
        string E(int i) => $"element:{i:D7}:" + new string('p', 44); // 60 bytes: 12 MB, past the log's 16 MB with pages
        for (int i = 0; i < n; i += 200)
            c.Call(new object[] { "RPUSH", "big" }.Concat(Enumerable.Range(i, 200).Select(j => (object)E(j))).ToArray());
        // Push the list's pages out of memory with other keys.
        for (int i = 0; i < 20_000; i += 100)
            c.Call(Enumerable.Range(i, 100).SelectMany(j => new object[] { "fill:" + j, new string('f', 1000) }).Prepend("MSET").ToArray());
        long readsBefore = Info(c, "memory", "store_disk_reads");
        using var other = new RespClient(server.Port);
        var got = c.Call("LRANGE", "big", "0", "-1").Items!;
        await Assert.That(got.Length).IsEqualTo(n);
        for (int i = 0; i < n; i++)
            if (got[i].Text != E(i)) throw new InvalidOperationException($"element {i}: {got[i].Text}");
        await Assert.That(Info(c, "memory", "store_disk_reads")).IsGreaterThan(readsBefore);
        foreach (int i in new[] { 0, 1, 99_999, 150_001, n - 1 }) await Assert.That(c.Call("LINDEX", "big", i.ToString()).Text).IsEqualTo(E(i));
        await Assert.That(c.Call("LPOS", "big", E(123_456)).Integer).IsEqualTo(123_456);
        await Assert.That(other.Call("PING").Text).IsEqualTo("PONG");
        await server.DisposeAsync();
        server.DeleteData();
    }
}
