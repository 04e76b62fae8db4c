using System.Diagnostics;
using NativeKv.LoadHarness.Infrastructure;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>A server could not be started (it exited, refused its options, or never answered PING).</summary>
sealed class ServerStartException(string message) : Exception(message);

/// <summary>
/// One running server process, pinned to one CPU, listening on a loopback port, with a fresh data folder.
/// Started as <c>sh -c 'exec ... &gt;log'</c> around <see cref="CommandLine.Wrap"/> (setpriv, taskset):
/// every step execs, so the pid we hold is the server's own (checked against /proc/PID/comm).
/// </summary>
sealed class ServerUnderTest : IDisposable
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    readonly Process _process;

    ServerUnderTest(ServerSpec spec, Process process, int port, string dataDir, string logPath)
    {
        Spec = spec;
        _process = process;
        Port = port;
        DataDir = dataDir;
        LogPath = logPath;
    }

    public ServerSpec Spec { get; }
    public int Port { get; }
    public string DataDir { get; }
    public string LogPath { get; }
    public int Pid => _process.Id;

    /// <summary>From spawning the process to the first +PONG on a fresh socket.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>VmRSS right after start-up, before any data is loaded.</summary>
    public long FreshRssBytes { get; private set; }

    public bool IsAlive => !_process.HasExited;

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    const int SIGCONT = 18, SIGSTOP = 19;

    /// <summary>
    /// Stops the process (SIGSTOP) while another server is measured: they share one CPU, and whatever
    /// one does after its own run (GC, log flushes, timers) would otherwise land in the next server's run.
    /// </summary>
    public void Pause()
    {
        if (IsAlive) kill(Pid, SIGSTOP);
    }

    /// <summary>
    /// Only the server about to be measured runs; the others are stopped (SIGSTOP) until their turn. All
    /// share the server CPU, and a server's background work after its own run (Garnet's GC after a write
    /// scenario, say) otherwise fell into the next server's run: NativeKv's GET at pipeline 1 ran right
    /// after Garnet's SET and had a p99 of 1.4-2.3 ms there, 0.5 ms alone.
    /// </summary>
    public static void RunAlone(IReadOnlyList<ServerUnderTest> running, ServerUnderTest measured)
    {
        foreach (var other in running)
            if (other != measured) other.Pause();
        measured.Resume();
    }

    /// <summary>Lets a paused process run again (SIGCONT).</summary>
    public void Resume()
    {
        if (IsAlive) kill(Pid, SIGCONT);
    }

    /// <summary>
    /// Starts <paramref name="spec"/> pinned to <paramref name="cpu"/> with an empty data folder under
    /// <paramref name="scratchRoot"/>, and waits for its first PONG. Throws <see cref="ServerStartException"/>.
    /// <paramref name="dataDirArgs"/> adds arguments that name the data folder (Garnet's --logdir).
    /// </summary>
    public static ServerUnderTest Start(ServerSpec spec, Persistence persistence, int cpu, string scratchRoot,
                                        string label, IReadOnlyList<string>? extraArgs = null,
                                        Func<string, IReadOnlyList<string>>? dataDirArgs = null)
    {
        var executable = spec.Executable ?? throw new ServerStartException($"{spec.Name} is not installed");
        int port = PortAllocator.Next();
        var dataDir = Path.Combine(scratchRoot, $"{label}-{spec.Name}-{port}");
        Directory.CreateDirectory(dataDir);
        var logPath = dataDir + ".log";

        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = dataDir };
        List<string> argv = ["-c", "log=$1; shift; exec \"$@\" >\"$log\" 2>&1 </dev/null", "sh", logPath];
        argv.AddRange(CommandLine.Wrap(executable, [.. spec.Arguments(port, dataDir, persistence), .. extraArgs ?? [], .. dataDirArgs?.Invoke(dataDir) ?? []], cpu));
        foreach (var a in argv) psi.ArgumentList.Add(a);

        var process = new Process { StartInfo = psi };
        var clock = Stopwatch.StartNew();
        ChildProcesses.Start(process);
        var server = new ServerUnderTest(spec, process, port, dataDir, logPath);
        try
        {
            var startup = RespProbe.WaitForPong(port, clock, StartTimeout, () => process.HasExited);
            if (startup is null)
            {
                var why = process.HasExited ? $"exited with code {process.ExitCode}" : $"no PONG within {StartTimeout.TotalSeconds:F0} s";
                throw new ServerStartException($"{why}: {server.LogTail(3)}");
            }
            server.StartupTime = startup.Value;

            var comm = ProcStat.Comm(process.Id);
            if (comm != spec.ProcessName)
                throw new ServerStartException($"pid {process.Id} is '{comm}', not '{spec.ProcessName}': CPU and RSS would measure the wrong process");

            Thread.Sleep(200); // let start-up allocations settle before the "fresh" RSS
            server.FreshRssBytes = ProcStat.RssBytes(process.Id) ?? 0;
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>utime+stime of the server so far, in clock ticks; null once it has exited.</summary>
    public long? CpuTicks() => ProcStat.CpuTicks(Pid);

    public long? RssBytes() => ProcStat.RssBytes(Pid);

    /// <summary>The highest RSS the process has had so far (VmHWM).</summary>
    public long? PeakRssBytes() => ProcStat.PeakRssBytes(Pid);

    /// <summary>Bytes currently in the data folder (to check that an AOF is really being written).</summary>
    public long DataDirBytes() =>
        Directory.Exists(DataDir)
            ? new DirectoryInfo(DataDir).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    /// <summary>The last non-empty lines of the server's stdout/stderr (stack frames skipped), joined on one line.</summary>
    public string LogTail(int lines)
    {
        try
        {
            var tail = File.ReadAllLines(LogPath)
                           .Select(l => StripAnsi(l).Trim())
                           .Where(l => l.Length > 0 && !l.StartsWith("at ", StringComparison.Ordinal) && !l.StartsWith("---", StringComparison.Ordinal))
                           .TakeLast(lines);
            var text = string.Join(" | ", tail);
            return text.Length > 0 ? text : "(no output)";
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    /// <summary>Kills the server (and anything it started) and deletes its data folder; the log stays.</summary>
    public void Dispose()
    {
        ChildProcesses.KillTree(_process);
        try { if (Directory.Exists(DataDir)) Directory.Delete(DataDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static string StripAnsi(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\u001b' && i + 1 < s.Length && s[i + 1] == '[')
            {
                i += 2;
                while (i < s.Length && !char.IsAsciiLetter(s[i])) i++;
                continue;
            }
            sb.Append(s[i]);
        }
        return sb.ToString();
    }
}
