using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The hash index starts small and doubles as keys arrive; the log page size (which caps a value) is
/// fixed per data directory. Both are visible in INFO memory as store_* lines.
/// </summary>
public class IndexAndPageTests
{
    private static long InfoField(RespClient c, string name) => (long)ServerInfo.Field(c, "memory", name);

    private static async Task<long> WaitForGrowths(RespClient c, long atLeast)
    {
        var sw = Stopwatch.StartNew();
        long growths;
        while ((growths = InfoField(c, "store_index_growths")) < atLeast && sw.Elapsed < TimeSpan.FromSeconds(20))
            await Task.Delay(50);
        return growths;
    }

    [Test]
    [Timeout(120_000)]
    public async Task Index_doubles_under_load_and_a_restart_keeps_its_size_page_size_and_every_key(CancellationToken ct)
    {
        const int keys = 300_000;
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-index-" + Guid.NewGuid().ToString("N"));
        try
        {
            long buckets;
            await using (var server = await ServerProcess.StartInAsync(dir))
            {
                using var c = new RespClient(server.Port);
                long initial = InfoField(c, "store_index_buckets");
                await Assert.That(InfoField(c, "store_log_page_size")).IsEqualTo(8L << 20);

                using (var loader = new BulkLoader(server.Port))
                {
                    loader.Set(0, keys, round: 1, batch: 10_000);
                    // 300k keys at 4 a bucket need 75k buckets: from 16k that is at least three doublings.
                    await Assert.That(await WaitForGrowths(c, 3)).IsGreaterThanOrEqualTo(3);
                    buckets = InfoField(c, "store_index_buckets");
                    await Assert.That(buckets).IsGreaterThanOrEqualTo(initial * 8);
                    await Assert.That(buckets * 4).IsGreaterThanOrEqualTo(keys);
                    // Every key written while the index was being split is still there, with its value.
                    await Assert.That(loader.Verify(0, keys, round: 1)).IsEqualTo(0);
                }
                c.Send("SHUTDOWN");
                await server.WaitForExitAsync(TimeSpan.FromSeconds(60));
            }

            // maxmemory 16mb would choose 4 MB pages for a new log; this one was written with 8 MB pages.
            await using (var server = await ServerProcess.StartInAsync(dir, "--maxmemory", "16mb"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(InfoField(c, "store_log_page_size")).IsEqualTo(8L << 20);
                await Assert.That(InfoField(c, "store_index_buckets")).IsEqualTo(buckets);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(keys);
                using var loader = new BulkLoader(server.Port);
                await Assert.That(loader.Verify(0, keys, round: 1)).IsEqualTo(0);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Test]
    public async Task Store_page_size_32mb_holds_a_10mb_value_through_the_aof_and_a_restart()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-page-" + Guid.NewGuid().ToString("N"));
        var big = new string('b', 10 << 20);
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--store-page-size", "32mb", "--appendonly", "yes", "--appendfsync", "always"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                await Assert.That(InfoField(c, "store_log_page_size")).IsEqualTo(32L << 20);
                await Assert.That(c.Call("CONFIG", "GET", "store-page-size").Items![1].Text).IsEqualTo((32L << 20).ToString());
                await Assert.That(c.Call("CONFIG", "SET", "store-page-size", "64mb").IsError).IsTrue(); // start-up only
                await Assert.That(c.Call("SET", "big", big).Text).IsEqualTo("OK");
                server.Process.Kill(); // SIGKILL: the value must come back from the AOF
                server.Process.WaitForExit(10_000);
            }
            // The directory keeps its 32 MB pages even when started without the option.
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                await Assert.That(InfoField(c, "store_log_page_size")).IsEqualTo(32L << 20);
                await Assert.That(c.Call("GET", "big").Text).IsEqualTo(big);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    [Test]
    public async Task A_value_up_to_the_page_limit_is_stored_and_one_byte_more_is_refused()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb");
        using var c = new RespClient(server.Port);
        long page = InfoField(c, "store_log_page_size");
        await Assert.That(page).IsEqualTo(4L << 20); // a new log under 32 MB of maxmemory: 4 pages of 4 MB

        long max = page - 4096;
        var big = new string('v', (int)max);
        await Assert.That(c.Call("SET", "big", big).Text).IsEqualTo("OK");
        await Assert.That(c.Call("STRLEN", "big").Integer).IsEqualTo(max);
        await Assert.That(c.Call("GET", "big").Text).IsEqualTo(big);

        var tooBig = c.Call("SET", "big2", big + "x");
        await Assert.That(tooBig.IsError).IsTrue();
        await Assert.That(tooBig.Text).IsEqualTo($"ERR value of {max + 1} bytes exceeds the store's maximum value size ({max} bytes)");
        await Assert.That(c.Call("EXISTS", "big2").Integer).IsEqualTo(0);
        // APPEND past the limit is refused the same way and leaves the value as it was.
        await Assert.That(c.Call("APPEND", "big", "x").IsError).IsTrue();
        await Assert.That(c.Call("STRLEN", "big").Integer).IsEqualTo(max);
    }
}
