using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>
/// aof-load-truncated covers a torn tail only, as in Redis: damage with valid records after it stops
/// start-up with where it is, and <c>nativekv --check-aof [--fix]</c> reports and cuts it.
/// </summary>
public partial class AofDamageTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-dmg-" + Guid.NewGuid().ToString("N"));

    private static string Segment(string dir) =>
        Directory.GetFiles(Path.Combine(dir, "appendonlydir"), "appendonly.aof.*").OrderBy(f => f).Last();

    private static void KillHard(ServerProcess server)
    {
        server.Process.Kill(); // SIGKILL: no shutdown path, no checkpoint truncating the AOF
        server.Process.WaitForExit(10_000);
    }

    /// <summary>
    /// The offset of the first entry at or past <paramref name="from"/> that <paramref name="wanted"/> (length, payload
    /// size) picks, walking the first page's reserved header, then [checksum u64][length i32][payload, 4-aligned].
    /// </summary>
    private static int EntryAfter(byte[] bytes, int from, Func<int, int, bool> wanted)
    {
        int pos = 64;
        while (pos + 12 <= bytes.Length)
        {
            int len = BitConverter.ToInt32(bytes, pos + 8);
            if (len == 0) break; // the first page's zero tail: these files (~1 MB) fit in one 8 MB page
            int body = Math.Abs(len);
            if (pos >= from && wanted(len, body)) return pos;
            pos += 12 + ((body + 3) & ~3);
        }
        throw new InvalidOperationException("no such entry in the segment");
    }

    /// <summary>Writes k0..k{count-1}, <paramref name="batch"/> pipelined at a time, then kills the server.</summary>
    private static async Task WriteAndKill(string dir, int count, int batch, params string[] options)
    {
        await using var server = await ServerProcess.StartInAsync(dir, ["--appendonly", "yes", "--save", "", .. options]);
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        for (int i = 0; i < count; i += batch)
        {
            var pipeline = new MemoryStream();
            int n = Math.Min(batch, count - i);
            for (int j = i; j < i + n; j++) pipeline.Write(RespClient.Encode("SET", "k" + j, "v" + j));
            c.SendRaw(pipeline.ToArray());
            for (int j = 0; j < n; j++)
                if (c.Read().ToString() != "OK") throw new InvalidOperationException("SET failed");
        }
        KillHard(server);
    }

    [Test]
    [Timeout(180_000)]
    public async Task Flipped_byte_mid_file_refuses_to_start_and_check_aof_fix_cuts_it(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await WriteAndKill(dir, 20_000, 500, "--appendfsync", "everysec");
            var seg = Segment(dir);
            var bytes = File.ReadAllBytes(seg);
            // Inside a record's payload, past the middle: a byte flipped in a commit record or in a page's
            // zero tail is damage too, but it drops no record, and this test counts them (CI at afb4ca2 hit one).
            int end = Array.FindLastIndex(bytes, b => b != 0);
            int record = EntryAfter(bytes, end / 2, (len, _) => len > 0);
            bytes[record + 12 + 1] ^= 0x5A;
            File.WriteAllBytes(seg, bytes);

            // Default aof-load-truncated yes: still refused, naming the file, the offset and what follows.
            var refused = await ServerProcess.RunExpectingExitAsync(dir, "--appendonly", "yes");
            await Assert.That(refused.ExitCode).IsNotEqualTo(0);
            await Assert.That(refused.Log).Contains("appendonly.aof.0 is damaged at offset");
            await Assert.That(refused.Log).Contains("This is not a torn tail");
            var m = AfterRegex().Match(refused.Log);
            await Assert.That(m.Success).IsTrue();
            long after = long.Parse(m.Groups[1].Value);
            await Assert.That(after > 5000 && after < 15000).IsTrue(); // the half after the flipped byte
            var unchanged = File.ReadAllBytes(seg);
            await Assert.That(unchanged.SequenceEqual(bytes)).IsTrue(); // nothing was dropped or wiped

            var report = await CheckAof("", dir);
            await Assert.That(report.Code).IsEqualTo(1);
            await Assert.That(report.Output).Contains("appendonly.aof.0 is damaged at offset");
            await Assert.That(report.Output).Contains($"{after} valid records");
            long before = long.Parse(BeforeRegex().Match(report.Output).Groups[1].Value);
            await Assert.That(before + after).IsEqualTo(19_999); // every record but the damaged one

            var declined = await CheckAof("n\n", "--fix", dir);
            await Assert.That(declined.Code).IsEqualTo(1);
            await Assert.That(declined.Output).Contains("Continue? [y/N]: Aborting...");
            await Assert.That(File.ReadAllBytes(seg).SequenceEqual(bytes)).IsTrue();

            var fixedIt = await CheckAof("y\n", "--fix", Path.Combine(dir, "appendonlydir"));
            await Assert.That(fixedIt.Code).IsEqualTo(0);
            await Assert.That(fixedIt.Output).Contains("Successfully truncated AOF");
            await Assert.That((await CheckAof("", dir)).Output).Contains($"AOF is valid: {before} records");

            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--aof-load-truncated", "no"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(before);
                await Assert.That(c.Call("GET", "k0").ToString()).IsEqualTo("v0");
                await Assert.That(c.Call("GET", "k" + (before - 1)).ToString()).IsEqualTo("v" + (before - 1));
                await Assert.That(c.Call("EXISTS", "k" + before).Integer).IsEqualTo(0);
                c.Call("SET", "new", "1");
                KillHard(server);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--aof-load-truncated", "no"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(before + 1);
                await Assert.That(c.Call("GET", "new").ToString()).IsEqualTo("1");
            }
        }
        finally { TryDelete(dir); }
    }

    [Test]
    [Timeout(120_000)]
    // FasterLog's checksum covers an entry's length and payload, not the 0-3 bytes aligning it to 4: the flipped-byte
    // test above landed there about once in eight runs and the server started. The entry is then damaged (1 lost).
    [Arguments("alignment", 1)]
    // A commit record holds no command (0 lost), but records after it mean the damage is not a torn tail.
    [Arguments("commit", 0)]
    public async Task A_flipped_byte_outside_a_record_s_payload_refuses_to_start(string where, int lost, CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            await WriteAndKill(dir, 2_000, 100, "--appendfsync", "always");
            var seg = Segment(dir);
            var bytes = File.ReadAllBytes(seg);
            int flipped;
            if (where == "alignment")
            {
                int entry = EntryAfter(bytes, bytes.Length / 4, (len, body) => len > 0 && body % 4 != 0);
                flipped = entry + 12 + BitConverter.ToInt32(bytes, entry + 8);
                await Assert.That(bytes[flipped]).IsEqualTo((byte)0);
            }
            else flipped = EntryAfter(bytes, bytes.Length / 3, (len, _) => len < 0) + 12;
            bytes[flipped] ^= 0x5A;
            File.WriteAllBytes(seg, bytes);

            var refused = await ServerProcess.RunExpectingExitAsync(dir, "--appendonly", "yes");
            await Assert.That(refused.ExitCode).IsNotEqualTo(0);
            await Assert.That(refused.Log).Contains("appendonly.aof.0 is damaged at offset");
            var report = await CheckAof("", dir);
            await Assert.That(report.Code).IsEqualTo(1);
            long before = long.Parse(BeforeRegex().Match(report.Output).Groups[1].Value);
            long after = long.Parse(AfterRegex().Match(report.Output).Groups[1].Value);
            await Assert.That(before + after).IsEqualTo(2_000 - lost);
        }
        finally { TryDelete(dir); }
    }

    [Test]
    [Timeout(120_000)]
    public async Task Truncated_last_record_is_a_torn_tail_loaded_under_yes_refused_under_no(CancellationToken ct)
    {
        var dir = NewDir();
        try
        {
            // One SET at a time: each has its own commit record, the last one is what the cut tears.
            await WriteAndKill(dir, 50, 1, "--appendfsync", "always");
            var seg = Segment(dir);
            var bytes = File.ReadAllBytes(seg);
            int end = Array.FindLastIndex(bytes, b => b != 0);
            using (var fs = new FileStream(seg, FileMode.Open)) fs.SetLength(end - 6); // cut inside the last record

            var report = await CheckAof("", dir);
            await Assert.That(report.Code).IsEqualTo(1);
            await Assert.That(report.Output).Contains("a torn tail");

            var refused = await ServerProcess.RunExpectingExitAsync(dir, "--appendonly", "yes", "--aof-load-truncated", "no");
            await Assert.That(refused.ExitCode).IsNotEqualTo(0);
            await Assert.That(refused.Log).Contains("Bad file format reading the append only file");
            await Assert.That(refused.Log).DoesNotContain("This is not a torn tail");

            await using var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--aof-load-truncated", "yes");
            await Assert.That(server.LogText).Contains("AOF loaded anyway because aof-load-truncated is enabled");
            using var c = new RespClient(server.Port);
            for (int i = 0; i < 48; i++) await Assert.That(c.Call("GET", "k" + i).ToString()).IsEqualTo("v" + i);
        }
        finally { TryDelete(dir); }
    }

    [GeneratedRegex(@"(\d+) valid records")]
    private static partial Regex AfterRegex();

    [GeneratedRegex(@"(\d+) records \(\d+ bytes\) before it")]
    private static partial Regex BeforeRegex();

    /// <summary>Runs <c>nativekv --check-aof args</c> with <paramref name="stdin"/> as its input.</summary>
    private static async Task<(int Code, string Output)> CheckAof(string stdin, params string[] args)
    {
        var psi = ServerProcess.BuildStartInfo();
        psi.ArgumentList.Add("--check-aof");
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        return (p.ExitCode, await stdout + await stderr);
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
