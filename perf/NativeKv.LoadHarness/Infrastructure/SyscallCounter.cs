using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>System calls a process made while a helper ran: the total and, where known, per call.</summary>
sealed record SyscallCount(long Total, IReadOnlyDictionary<string, long> ByName);

/// <summary>
/// Counts the system calls of a running server (all its threads) while a helper command runs. Used only
/// for separate counting runs: even perf's tracepoint counters put every system call of the server on
/// the tracing slow path, so the throughput and CPU runs are never made with a counter attached.
/// </summary>
abstract class SyscallCounter
{
    /// <summary>"perf" or "strace".</summary>
    public abstract string Name { get; }

    /// <summary>How the counting is done, for the report.</summary>
    public abstract string Description { get; }

    /// <summary>
    /// Runs <paramref name="file"/> <paramref name="args"/> pinned to <paramref name="cpu"/> while counting
    /// the system calls of <paramref name="pid"/>; the command's result, and the count or why there is none.
    /// </summary>
    public abstract (CommandResult Result, SyscallCount? Count, string? Failure) Run(
        int pid, string file, IReadOnlyList<string> args, TimeSpan timeout, int cpu, string scratch);

    /// <summary>
    /// perf if it can count the raw_syscalls:sys_enter tracepoint here (it says "not supported" on some
    /// VMs), else strace; <paramref name="how"/> = auto, perf, strace or none. Null with the reason when
    /// none can be used.
    /// </summary>
    public static SyscallCounter? Choose(string how, out string? why)
    {
        why = null;
        if (how == "none") { why = "not counted (--syscalls none)"; return null; }
        string? perfWhy = null, straceWhy = null;
        if (how is "auto" or "perf")
        {
            perfWhy = PerfCounter.Probe();
            if (perfWhy is null) return new PerfCounter();
            if (how == "perf") { why = perfWhy; return null; }
        }
        straceWhy = StraceCounter.Probe();
        if (straceWhy is null) return new StraceCounter();
        why = perfWhy is null ? straceWhy : $"{perfWhy}; {straceWhy}";
        return null;
    }

    /// <summary>Names worth showing in the per-call breakdown (the ones a reactor makes).</summary>
    public static readonly string[] InterestingCalls =
    [
        "io_uring_enter", "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "read", "write", "readv", "writev",
        "recvfrom", "sendto", "recvmsg", "sendmsg", "futex", "accept4", "close", "eventfd2",
        "setsockopt", "getsockopt", "getsockname", "getpeername", "fcntl", "ioctl", "sched_yield",
        "mmap", "munmap", "mprotect", "madvise", "nanosleep", "clock_nanosleep",
    ];
}

/// <summary>
/// <c>perf stat -x, -e raw_syscalls:sys_enter,syscalls:sys_enter_... -p PID -- command</c>: in-kernel
/// counters on the server's threads for exactly as long as the command runs.
/// </summary>
sealed class PerfCounter : SyscallCounter
{
    const string Total = "raw_syscalls:sys_enter";
    readonly string[] _perCall = [.. InterestingCalls.Where(c => TracepointExists("sys_enter_" + c))];
    int _runs;

    public override string Name => "perf";

    public override string Description =>
        $"`perf stat -e {Total}` attached to the server (`-p PID`, all its threads) for a separate run of the same test";

    /// <summary>Null when perf counts the tracepoint here, else why not.</summary>
    public static string? Probe()
    {
        if (ExternalCommand.Which("perf") is null) return "perf is not installed";
        var r = ExternalCommand.Run("perf", ["stat", "-x,", "-e", Total, "--", "true"], TimeSpan.FromSeconds(30));
        var count = ParseCount(r.Stderr, Total);
        if (r.Succeeded && count is not null) return null;
        var line = (r.Stderr + r.Stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                        .FirstOrDefault(l => !l.StartsWith('#')) ?? "";
        return $"`perf stat -e {Total}` does not work here ({(line.Length > 0 ? line : r.FailureSummary())})";
    }

    public override (CommandResult Result, SyscallCount? Count, string? Failure) Run(
        int pid, string file, IReadOnlyList<string> args, TimeSpan timeout, int cpu, string scratch)
    {
        var output = Path.Combine(scratch, $"perf-stat-{pid}-{++_runs}.txt");
        var events = string.Join(',', [Total, .. _perCall.Select(c => "syscalls:sys_enter_" + c)]);
        var result = ExternalCommand.Run("perf", ["stat", "-x,", "-o", output, "-e", events, "-p", pid.ToString(), "--", file, .. args],
                                         timeout, cpu: cpu);
        string text;
        try { text = File.ReadAllText(output); }
        catch (IOException) { return (result, null, $"perf stat wrote nothing ({result.FailureSummary()})"); }
        var total = ParseCount(text, Total);
        if (total is null) return (result, null, $"perf stat did not count {Total}: {text.Trim().Split('\n').LastOrDefault()}");
        var byName = new Dictionary<string, long>();
        foreach (var call in _perCall)
            if (ParseCount(text, "syscalls:sys_enter_" + call) is long n) byName[call] = n;
        return (result, new SyscallCount(total.Value, byName), null);
    }

    /// <summary>The count on perf's -x, line for <paramref name="evt"/> ("74330,,raw_syscalls:sys_enter,1014400427,100.00,,").</summary>
    static long? ParseCount(string text, string evt)
    {
        foreach (var line in text.Split('\n'))
        {
            var cells = line.Trim().Split(',');
            if (cells.Length >= 3 && cells[2] == evt)
                return long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null;
        }
        return null;
    }

    static bool TracepointExists(string name) =>
        Directory.Exists($"/sys/kernel/tracing/events/syscalls/{name}") || Directory.Exists($"/sys/kernel/debug/tracing/events/syscalls/{name}");
}

/// <summary>
/// <c>strace -c -f -p PID</c> attached for the counting run and detached with SIGINT afterwards. strace
/// slows the server down many times over, which is why these runs measure nothing else.
/// </summary>
sealed class StraceCounter : SyscallCounter
{
    int _runs;

    public override string Name => "strace";

    public override string Description =>
        "`strace -c -f -p PID` attached to the server for a separate run of the same test (strace slows the server down many times, " +
        "which also lets more requests pile up per call: the counts understate batching backends less than they should; that run measures nothing else)";

    public static string? Probe() => ExternalCommand.Which("strace") is null ? "strace is not installed" : null;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    const int SIGINT = 2;

    public override (CommandResult Result, SyscallCount? Count, string? Failure) Run(
        int pid, string file, IReadOnlyList<string> args, TimeSpan timeout, int cpu, string scratch)
    {
        var output = Path.Combine(scratch, $"strace-{pid}-{++_runs}.txt");
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardError = true };
        // sh only redirects stdin and stdout, then execs (setpriv, taskset, strace all exec too): the pid is strace's.
        foreach (var a in (string[])["-c", "exec \"$@\" </dev/null >/dev/null", "sh",
                                     .. CommandLine.Wrap("strace", ["-c", "-f", "-o", output, "-p", pid.ToString()], cpu)])
            psi.ArgumentList.Add(a);
        using var strace = new Process { StartInfo = psi };
        var attached = new ManualResetEventSlim();
        strace.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("attached", StringComparison.Ordinal) == true) attached.Set(); };
        ChildProcesses.Start(strace);
        try
        {
            strace.BeginErrorReadLine();
            if (!attached.Wait(TimeSpan.FromSeconds(10)) || strace.HasExited)
                return (new CommandResult(-1, "", "", false, TimeSpan.Zero), null, "strace did not attach to the server");
            Thread.Sleep(300); // it attaches thread by thread
            var result = ExternalCommand.Run(file, args, timeout, cpu: cpu);
            kill(strace.Id, SIGINT);
            if (!strace.WaitForExit(TimeSpan.FromSeconds(60)))
                return (result, null, "strace did not detach within 60 s");
            strace.WaitForExit();
            return Parse(output) is { } count ? (result, count, null) : (result, null, "no total line in strace -c output");
        }
        finally
        {
            ChildProcesses.KillTree(strace);
        }
    }

    /// <summary>
    /// strace -c's table: "% time seconds usecs/call calls errors syscall", a dashed rule, one line per
    /// call, a rule and "100.00 0.123456 1 123456 12 total" (errors may be blank).
    /// </summary>
    static SyscallCount? Parse(string path)
    {
        if (!File.Exists(path)) return null;
        long? total = null;
        var byName = new Dictionary<string, long>();
        foreach (var line in File.ReadLines(path))
        {
            var cells = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (cells.Length < 5 || !double.TryParse(cells[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _)) continue;
            if (!long.TryParse(cells[3], NumberStyles.Integer, CultureInfo.InvariantCulture, out var calls)) continue;
            if (cells[^1] == "total") total = calls;
            else byName[cells[^1]] = calls;
        }
        return total is long t ? new SyscallCount(t, byName) : null;
    }
}
