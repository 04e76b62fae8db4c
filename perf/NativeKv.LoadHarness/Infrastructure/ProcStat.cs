using System.Globalization;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>Reads a process's CPU time, memory and name from /proc.</summary>
static class ProcStat
{
    /// <summary>USER_HZ: the unit of utime/stime in /proc/PID/stat (100 on every mainstream Linux).</summary>
    public static long ClockTicksPerSecond { get; } =
        long.TryParse(ExternalCommand.Capture("getconf", "CLK_TCK"), out var hz) && hz > 0 ? hz : 100;

    /// <summary>utime + stime of all the process's threads, in clock ticks; null if the process is gone.</summary>
    public static long? CpuTicks(int pid)
    {
        string text;
        try { text = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (IOException) { return null; }
        // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: split after the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime is field 14, stime field 15.
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    public static double TicksToMicroseconds(long ticks) => ticks * 1e6 / ClockTicksPerSecond;

    /// <summary>Resident set size (VmRSS) in bytes; null if the process is gone.</summary>
    public static long? RssBytes(int pid) => StatusKb(pid, "VmRSS:");

    /// <summary>Peak resident set size (VmHWM) in bytes; null if the process is gone.</summary>
    public static long? PeakRssBytes(int pid) => StatusKb(pid, "VmHWM:");

    static long? StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field, StringComparison.Ordinal)) continue;
                var kb = line[field.Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException) { }
        return null;
    }

    /// <summary>The process's command name (/proc/PID/comm, at most 15 characters).</summary>
    public static string? Comm(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
    }
}
