using System.Diagnostics;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>The outcome of a helper process run to completion.</summary>
sealed record CommandResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, TimeSpan Elapsed)
{
    public bool Succeeded => !TimedOut && ExitCode == 0;

    /// <summary>The most useful one-line explanation of a failure.</summary>
    public string FailureSummary()
    {
        if (TimedOut) return $"timed out after {Elapsed.TotalSeconds:F0} s";
        var text = (Stderr.Trim().Length > 0 ? Stderr : Stdout).Trim();
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                       .LastOrDefault(l => !l.StartsWith("WARNING", StringComparison.Ordinal)) ?? "";
        return $"exit code {ExitCode}{(line.Length > 0 ? ": " + Truncate(line, 160) : "")}";
    }

    static string Truncate(string s, int max) => s.Length <= max ? s : s[..max] + "...";
}

/// <summary>Runs short-lived helpers (redis-benchmark, redis-cli, git, getconf, ...) and captures their output.</summary>
static class ExternalCommand
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/>, optionally pinned to one CPU with taskset
    /// and with stdin read from <paramref name="stdinFile"/>. Kills it (and its children) on timeout.
    /// </summary>
    public static CommandResult Run(string file, IEnumerable<string> args, TimeSpan timeout,
                                    int? cpu = null, string? stdinFile = null)
    {
        var argv = CommandLine.Wrap(file, args, cpu);

        ProcessStartInfo psi;
        if (stdinFile is null)
        {
            psi = new ProcessStartInfo(argv[0]);
            foreach (var a in argv.Skip(1)) psi.ArgumentList.Add(a);
        }
        else
        {
            // sh only sets up the redirection and then execs the command in its place.
            psi = new ProcessStartInfo("/bin/sh");
            foreach (var a in (string[])["-c", "f=$1; shift; exec \"$@\" <\"$f\"", "sh", stdinFile, .. argv])
                psi.ArgumentList.Add(a);
        }
        psi.UseShellExecute = false;
        psi.RedirectStandardInput = stdinFile is null;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;

        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = psi };
        ChildProcesses.Start(process);
        try
        {
            if (stdinFile is null) process.StandardInput.Close();
            var stdout = ReadCappedAsync(process.StandardOutput);
            var stderr = ReadCappedAsync(process.StandardError);
            bool exited = process.WaitForExit(timeout);
            if (!exited) ChildProcesses.KillTree(process);
            process.WaitForExit();
            return new CommandResult(exited ? process.ExitCode : -1, stdout.Result, stderr.Result, !exited, clock.Elapsed);
        }
        finally
        {
            ChildProcesses.Forget(process);
        }
    }

    /// <summary>
    /// Reads a stream to its end but keeps only the first <see cref="OutputCap"/> characters
    /// (redis-cli --pipe against a server that refuses SET prints a million error lines).
    /// </summary>
    static async Task<string> ReadCappedAsync(StreamReader reader)
    {
        var kept = new System.Text.StringBuilder();
        var buffer = new char[16 * 1024];
        int n;
        while ((n = await reader.ReadAsync(buffer, 0, buffer.Length).ConfigureAwait(false)) > 0)
            if (kept.Length < OutputCap) kept.Append(buffer, 0, Math.Min(n, OutputCap - kept.Length));
        return kept.ToString();
    }

    const int OutputCap = 64 * 1024;

    /// <summary>
    /// Runs a quick query (version, getconf, git) directly, without the wrappers, and returns its
    /// trimmed stdout, or null if it could not run or failed.
    /// </summary>
    public static string? Capture(string file, params string[] args)
    {
        try
        {
            var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi)!;
            var stdout = ReadCappedAsync(process.StandardOutput);
            var stderr = ReadCappedAsync(process.StandardError);
            if (!process.WaitForExit(TimeSpan.FromSeconds(30))) { ChildProcesses.KillTree(process); return null; }
            process.WaitForExit();
            _ = stderr.Result;
            return process.ExitCode == 0 ? stdout.Result.Trim() : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }

    /// <summary>The absolute path of a command on PATH, or null.</summary>
    public static string? Which(string command)
    {
        if (command.Contains('/')) return File.Exists(command) ? Path.GetFullPath(command) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, command);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
