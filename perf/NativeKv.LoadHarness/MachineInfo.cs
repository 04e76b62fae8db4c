using System.Globalization;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness;

/// <summary>What the numbers were measured on, for the top of the report.</summary>
sealed record MachineInfo(string CpuModel, int LogicalCpus, string Kernel, string Os, long MemoryBytes, string LoadAverage)
{
    public static MachineInfo Read()
    {
        var cpuinfo = ReadLines("/proc/cpuinfo");
        var model = cpuinfo.FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
                    ?? "unknown CPU";
        int cpus = cpuinfo.Count(l => l.StartsWith("processor", StringComparison.Ordinal));
        var kernel = ReadText("/proc/sys/kernel/osrelease") ?? Environment.OSVersion.VersionString;
        var os = ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                     ?["PRETTY_NAME=".Length..].Trim('"') ?? "Linux";
        var memKb = ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
                        ?["MemTotal:".Length..].Trim().Split(' ')[0];
        long memory = long.TryParse(memKb, NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : 0;
        var load = string.Join(' ', (ReadText("/proc/loadavg") ?? "").Split(' ').Take(3));
        return new MachineInfo(model, cpus > 0 ? cpus : Environment.ProcessorCount, kernel, os, memory, load);
    }

    static string? ReadText(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return null; }
    }

    static string[] ReadLines(string path)
    {
        try { return File.ReadAllLines(path); }
        catch (IOException) { return []; }
    }

    /// <summary>Short git description of the tree the NativeKv binary was built from.</summary>
    public static string GitRevision()
    {
        var head = ExternalCommand.Capture("git", "rev-parse", "--short", "HEAD");
        if (head is null) return "unknown";
        var dirty = ExternalCommand.Capture("git", "status", "--porcelain", "--untracked-files=no", "--", "src");
        return string.IsNullOrEmpty(dirty) ? head : head + " + uncommitted changes in src/";
    }
}
