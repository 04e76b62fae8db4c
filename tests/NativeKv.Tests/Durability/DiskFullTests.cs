using System.Collections.Concurrent;
using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// The data directory on a 64 MB tmpfs that a filler file fills: writes get Redis's MISCONF, reads go on,
/// nothing unstored is acknowledged, and writes resume by themselves once space is freed.
/// Needs root (mount); tests and CI run as root, and a failed mount fails the test.
/// </summary>
public class DiskFullTests
{
    private const string Misconf = "MISCONF Errors writing to the AOF file: No space left on device";

    [Test]
    [Timeout(120_000)]
    public async Task Full_disk_under_appendfsync_always_refuses_writes_keeps_reads_and_resumes(CancellationToken ct)
        => await FullDisk("always");

    [Test]
    [Timeout(120_000)]
    public async Task Full_disk_under_appendfsync_everysec_refuses_writes_keeps_reads_and_resumes(CancellationToken ct)
        => await FullDisk("everysec");

    /// <summary>A fresh directory with a 64 MB tmpfs mounted on it (unmounted by <see cref="Unmount"/>).</summary>
    private static string MountSmallTmpfs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dir);
        if (code != 0)
        {
            Directory.Delete(dir);
            Assert.Fail($"mount -t tmpfs failed (exit {code}: {output.Trim()}): this test needs root to mount a small tmpfs as the data directory");
        }
        return dir;
    }

    private static void Unmount(string dir)
    {
        for (int i = 0; i < 20 && Run("umount", dir).Code != 0; i++) Thread.Sleep(250);
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    [Test]
    [Timeout(120_000)]
    public async Task Failed_checkpoint_with_save_rules_gives_the_rdb_misconf_until_one_succeeds(CancellationToken ct)
    {
        const string rdbMisconf = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
            "Commands that may modify the data set are disabled, because this instance is configured to report errors during writes " +
            "if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
        var dir = MountSmallTmpfs();
        try
        {
            await using var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no", "--save", "3600 1");
            using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
            await Assert.That(c.Call("SET", "a", "1").ToString()).IsEqualTo("OK");
            var filler = FillDisk(dir);
            await Assert.That(c.Call("BGSAVE").ToString()).IsEqualTo("Background saving started");
            await WaitForInfo(c, "rdb_last_bgsave_status:err", Task.CompletedTask);
            await WaitForReply(c, rdbMisconf, "SET", "b", "2");
            await Assert.That(c.Call("GET", "a").ToString()).IsEqualTo("1");
            // stop-writes-on-bgsave-error no: writes go on despite the failed checkpoint.
            c.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no");
            await WaitForReply(c, "OK", "SET", "b", "2");
            c.Call("CONFIG", "SET", "stop-writes-on-bgsave-error", "yes");
            await WaitForReply(c, rdbMisconf, "SET", "b", "3");
            File.Delete(filler);
            await Assert.That(c.Call("BGSAVE").ToString()).IsEqualTo("Background saving started");
            await WaitForInfo(c, "rdb_last_bgsave_status:ok", Task.CompletedTask);
            await WaitForReply(c, "OK", "SET", "b", "4");
            await Assert.That(c.Call("GET", "b").ToString()).IsEqualTo("4");
        }
        finally { Unmount(dir); }
    }

    [Test]
    [Timeout(120_000)]
    public async Task Save_on_a_full_disk_fails_at_once_and_a_later_one_succeeds(CancellationToken ct)
    {
        var dir = MountSmallTmpfs();
        try
        {
            await using var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no", "--save", "");
            using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
            await Assert.That(c.Call("SET", "a", "1").ToString()).IsEqualTo("OK");
            var filler = FillDisk(dir);
            // Redis answers a failed SAVE with a bare -ERR; it used to hang inside FASTER's checkpoint.
            var sw = Stopwatch.StartNew();
            await Assert.That(c.Call("SAVE").ToString()).IsEqualTo("ERR");
            await Assert.That(sw.Elapsed < TimeSpan.FromSeconds(5)).IsTrue();
            var info = c.Call("INFO", "persistence").Text!;
            await Assert.That(info).Contains("rdb_last_bgsave_status:err");
            await Assert.That(info).Contains("rdb_bgsave_in_progress:0");
            await Assert.That(await server.LogOnceItHas("Write error saving DB on disk")).Contains("Write error saving DB on disk: No space left on device");
            // No save points: the failed save does not refuse writes (as Redis).
            await Assert.That(c.Call("SET", "b", "2").ToString()).IsEqualTo("OK");
            File.Delete(filler);
            await Assert.That(c.Call("SAVE").ToString()).IsEqualTo("OK");
            await Assert.That(c.Call("INFO", "persistence").Text!).Contains("rdb_last_bgsave_status:ok");
            c.Send("SHUTDOWN", "NOSAVE");
            await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        }
        finally { Unmount(dir); }
    }

    /// <summary>Repeats a command until it gets <paramref name="expected"/> (the write gate follows the cron, 100 ms).</summary>
    private static async Task WaitForReply(RespClient c, string expected, params object[] command)
    {
        string last = "";
        for (var sw = Stopwatch.StartNew(); sw.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(20))
            if ((last = c.Call(command).ToString()) == expected) return;
        throw new TimeoutException($"{command[0]} kept answering {last}, never {expected}");
    }

    private static async Task FullDisk(string fsync)
    {
        var dir = MountSmallTmpfs();
        var acked = new ConcurrentDictionary<string, string>();
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", fsync, "--save", ""))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                for (int i = 0; i < 20; i++)
                {
                    await Assert.That(c.Call("SET", "before" + i, "b" + i).ToString()).IsEqualTo("OK");
                    acked["before" + i] = "b" + i;
                }
                var filler = FillDisk(dir);

                // A writer keeps writing: each SET is acknowledged only once stored; while the disk is full
                // its SET either waits (its AOF write is held back) or gets MISCONF.
                using var stop = new CancellationTokenSource();
                int misconfs = 0;
                var writer = Task.Run(() =>
                {
                    using var w = new RespClient(server.Port, TimeSpan.FromSeconds(60));
                    var value = new string('v', 1000);
                    for (int i = 0; !stop.IsCancellationRequested; i++)
                    {
                        var r = w.Call("SET", "w" + i, i + value);
                        if (r.ToString() == "OK") acked["w" + i] = i + value;
                        else if (r.ToString() == Misconf) { Interlocked.Increment(ref misconfs); Thread.Sleep(5); }
                        else throw new InvalidOperationException("unexpected reply " + r);
                    }
                });

                await WaitForInfo(c, "aof_last_write_status:err", writer);
                await Assert.That(c.Call("SET", "probe", "x").ToString()).IsEqualTo(Misconf);
                await Assert.That(c.Call("INCR", "counter").ToString()).IsEqualTo(Misconf);
                await Assert.That(c.Call("PING").ToString()).IsEqualTo(Misconf); // as Redis: PING is denied too
                await Assert.That(c.Call("GET", "before7").ToString()).IsEqualTo("b7");
                await Assert.That(c.Call("EXISTS", "probe").Integer).IsEqualTo(0);
                await Task.Delay(1500); // the server retries once a second: still failing, still up
                await Assert.That(server.HasExited).IsFalse();
                await Assert.That(c.Call("INFO", "persistence").Text!).Contains("aof_last_write_status:err");

                File.Delete(filler);
                await WaitForInfo(c, "aof_last_write_status:ok", writer);
                await Assert.That(c.Call("SET", "after", "a").ToString()).IsEqualTo("OK");
                acked["after"] = "a";
                int ackedBefore = acked.Count;
                var sw = Stopwatch.StartNew();
                while (acked.Count < ackedBefore + 20 && sw.Elapsed < TimeSpan.FromSeconds(20) && !writer.IsCompleted) await Task.Delay(20);
                stop.Cancel();
                await writer;
                await Assert.That(acked.Count >= ackedBefore + 20).IsTrue(); // the writer's writes resumed
                await Assert.That(await server.LogOnceItHas("Error writing to the AOF file: No space left on device")).Contains("Error writing to the AOF file: No space left on device");
                await Assert.That(await server.LogOnceItHas("AOF write error looks solved, Redis can write again.")).Contains("AOF write error looks solved, Redis can write again.");
                server.Process.Kill(); // SIGKILL: the acknowledged writes must be in the AOF already
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                int missing = acked.Count(kv => c.Call("GET", kv.Key).Text != kv.Value);
                await Assert.That(missing).IsEqualTo(0);
                await Assert.That(c.Call("EXISTS", "probe", "counter").Integer).IsEqualTo(0);
                c.Send("SHUTDOWN", "NOSAVE");
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally { Unmount(dir); }
    }

    /// <summary>Writes zeros until the file system is full.</summary>
    /// <summary>Fills the tmpfs at <paramref name="dir"/> with a file; returns its path (delete it to free the space).</summary>
    private static string FillDisk(string dir)
    {
        var path = Path.Combine(dir, "filler");
        var chunk = new byte[1 << 20];
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
        try
        {
            for (int i = 0; i < 200; i++) fs.Write(chunk);
            throw new InvalidOperationException("the 64 MB tmpfs never filled");
        }
        catch (IOException) { }
        try { fs.Flush(); } catch (IOException) { }
        return path;
    }

    private static async Task WaitForInfo(RespClient c, string line, Task writer)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (writer.IsFaulted) await writer; // surfaces the writer's exception
            if (c.Call("INFO", "persistence").Text!.Contains(line)) return;
            await Task.Delay(20);
        }
        throw new TimeoutException("INFO persistence never showed " + line);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit(30_000);
            return (p.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
