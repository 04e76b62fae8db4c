using System.Globalization;
using NativeKv.Server.Storage;

namespace NativeKv.Server;

/// <summary>
/// <c>nativekv --check-aof [--fix [--yes]] DIR</c>, NativeKv's redis-check-aof: reports where the AOF
/// in DIR (the data directory or its appendonlydir) stops reading back, how many records and bytes
/// lie before and after, and with --fix truncates it there after asking y/N (as redis-check-aof does;
/// <c>--yes</c> or a "y" on stdin answers it without a terminal). Run it with the server stopped.
/// </summary>
internal static class CheckAof
{
    public const string Usage = "Usage: nativekv --check-aof [--fix [--yes]] <dir>   (dir: the data directory or its appendonlydir)";

    public static int Run(ReadOnlySpan<string> args, TextReader input, TextWriter output)
    {
        bool fix = false, yes = false;
        string? dir = null;
        foreach (var a in args)
        {
            if (a == "--fix") fix = true;
            else if (a is "--yes" or "-y") yes = true;
            else if (dir is null && !a.StartsWith("--", StringComparison.Ordinal)) dir = a;
            else
            {
                output.WriteLine(Usage);
                return 1;
            }
        }
        if (dir is null)
        {
            output.WriteLine(Usage);
            return 1;
        }
        dir = Path.GetFullPath(dir);
        string aofDir = Directory.Exists(Path.Combine(dir, "appendonlydir")) ? Path.Combine(dir, "appendonlydir") : dir;
        string dataDir = aofDir == dir ? Path.GetDirectoryName(dir) ?? dir : dir;
        string? name = FindLogName(aofDir);
        if (name is null)
        {
            output.WriteLine($"No AOF segment files (appendonly.aof.N) in {aofDir}");
            return 1;
        }
        var devicePath = Path.Combine(aofDir, name);
        int pageBits = Persistence.AofPageBitsOf(dataDir, new Log(Console.Error));
        int segmentBits = AppendOnlyFile.SegmentBitsFor(pageBits);
        var segments = AofScan.ListSegments(devicePath);
        var commit = AofScan.LatestCommit(aofDir);
        long begin = commit?.Info.BeginAddress ?? segments[0] << segmentBits;
        var scan = AofScan.Scan(devicePath, pageBits, segmentBits, begin);
        long size = segments.Sum(s => new FileInfo(AofScan.SegmentPath(devicePath, s)).Length);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"AOF analyzed: dir={aofDir}, files={string.Join(',', segments.Select(s => name + "." + s))}, size={size}, begin address={begin}, commit metadata {(commit is { } m ? $"{m.Number}: until address {m.Info.UntilAddress}, commit {m.Info.CommitNum}" : "none")}"));
        if (scan.IncompleteFrames > 0)
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{scan.IncompleteFrames} command frame(s) split into parts have no last part (the first from address {scan.IncompleteFrameAt}): the server applies none of their records"));
        if (!scan.Damaged)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"AOF is valid: {scan.RecordsBefore} records ({scan.BytesBefore} bytes), {scan.Frames} command frames ({scan.FramesSplit} split into parts)"));
            return 0;
        }
        output.WriteLine(scan.Describe());
        output.WriteLine(scan.DamageInTheMiddle
            ? "The damage is followed by valid records: the server refuses to start until the AOF is fixed."
            : "Nothing valid follows the damage: a torn tail (the server drops it under aof-load-truncated yes).");
        if (!fix)
        {
            output.WriteLine("AOF is not valid. Use the --fix option to try fixing it.");
            return 1;
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"This will truncate the AOF at offset {scan.DamageOffset} of {scan.DamageFile}, dropping {scan.RecordsAfter} records ({scan.BytesAfter} bytes) after it."));
        if (!yes)
        {
            output.Write("Continue? [y/N]: ");
            output.Flush();
            var answer = input.ReadLine();
            if (answer is null || !answer.Trim().StartsWith('y') && !answer.Trim().StartsWith('Y'))
            {
                output.WriteLine("Aborting...");
                return 1;
            }
        }
        try
        {
            AofScan.TruncateAt(aofDir, devicePath, segmentBits, scan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"Failed to truncate AOF: {e.Message}");
            return 1;
        }
        output.WriteLine("Successfully truncated AOF " + Path.Combine(aofDir, scan.DamageFile));
        return 0;
    }

    /// <summary>The one base name of <c>name.N</c> segment files in the directory (appendonly.aof by default).</summary>
    private static string? FindLogName(string aofDir)
    {
        if (!Directory.Exists(aofDir)) return null;
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var f in Directory.GetFiles(aofDir))
        {
            var file = Path.GetFileName(f);
            int dot = file.LastIndexOf('.');
            if (dot > 0 && long.TryParse(file.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out _)) names.Add(file[..dot]);
        }
        if (names.Contains("appendonly.aof")) return "appendonly.aof";
        return names.Count == 1 ? names.Min : null;
    }
}
