using System.Text.RegularExpressions;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness;

/// <summary>
/// The 1-million-key data set: a RESP file of <c>SET key:NNNNNNNNNNNN xxxx...</c> commands, generated
/// once and cached, fed to a server with <c>redis-cli --pipe</c> pinned to the client CPU.
/// Keys use redis-benchmark's own -r format (<c>key:</c> + 12 digits), so GET and SET in the
/// throughput scenarios hit exactly these keys.
/// </summary>
sealed partial class DatasetLoader(HarnessOptions options, string cacheFolder)
{
    public string FilePath => Path.Combine(cacheFolder, $"set-{options.Keys}x{options.DataSize}.resp");

    /// <summary>Writes the RESP file unless a complete one is already cached.</summary>
    public void EnsureFile()
    {
        if (File.Exists(FilePath) && new FileInfo(FilePath).Length == RespGenerator.Length(options.Keys, options.DataSize)) return;
        Directory.CreateDirectory(cacheFolder);
        RespGenerator.WriteFile(FilePath, options.Keys, options.DataSize);
    }

    /// <summary>Pipes the data set into the server; returns the seconds it took, or why it failed.</summary>
    public (double? Seconds, string? Failure) Load(ServerUnderTest server) =>
        Pipe(server, FilePath, options.Keys, options.ClientCpu, TimeSpan.FromMinutes(5));

    /// <summary>
    /// Feeds <paramref name="file"/> (<paramref name="keys"/> SETs) to the server with <c>redis-cli --pipe</c>
    /// pinned to <paramref name="cpu"/>; returns its wall-clock seconds, or why it failed (a refused SET,
    /// an error reply, a reply count that is not <paramref name="keys"/>, a server that died).
    /// </summary>
    public static (double? Seconds, string? Failure) Pipe(ServerUnderTest server, string file, long keys, int cpu, TimeSpan timeout)
    {
        // One SET first: a server that does not have SET yet fails here, not a million times.
        var probe = ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "SET", "key:probe", "x"],
                                        TimeSpan.FromSeconds(30), cpu: cpu);
        if (probe.Stdout.Trim() != "OK")
            return (null, $"SET answered '{FirstLine(probe.Stdout + probe.Stderr)}'");
        ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "DEL", "key:probe"],
                            TimeSpan.FromSeconds(30), cpu: cpu);
        return PipeFile(server, file, keys, cpu, timeout);
    }

    /// <summary>
    /// <c>redis-cli --pipe</c> of <paramref name="file"/>, which holds <paramref name="commands"/> commands:
    /// its wall-clock seconds, or why it failed (an error reply, a reply count that is not <paramref name="commands"/>, a server that died).
    /// </summary>
    public static (double? Seconds, string? Failure) PipeFile(ServerUnderTest server, string file, long commands, int cpu, TimeSpan timeout)
    {
        var result = ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "--pipe"],
                                         timeout, cpu: cpu, stdinFile: file);
        if (!server.IsAlive) return (null, $"server exited while loading: {server.LogTail(3)}");
        // "errors: 0, replies: 1000000"
        var match = RepliesLine().Match(result.Stdout);
        if (!match.Success) return (null, $"redis-cli --pipe {result.FailureSummary()}");
        long errors = long.Parse(match.Groups[1].Value), replies = long.Parse(match.Groups[2].Value);
        if (errors > 0) return (null, $"{errors} of {replies} commands answered with an error: {FirstLine(result.Stderr + result.Stdout)}");
        if (replies != commands) return (null, $"{replies} replies for {commands} commands");
        return (result.Elapsed.TotalSeconds, null);
    }

    static string FirstLine(string output)
    {
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var line = lines.FirstOrDefault(l => l.StartsWith("ERR", StringComparison.Ordinal) || l.StartsWith('-'))
                   ?? lines.FirstOrDefault() ?? "(nothing)";
        return line.Length <= 120 ? line : line[..120] + "...";
    }

    [GeneratedRegex(@"errors:\s*(\d+),\s*replies:\s*(\d+)")]
    private static partial Regex RepliesLine();
}
