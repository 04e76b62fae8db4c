using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness.Servers;

/// <summary>
/// The Native AOT binary built by <c>./build.sh publish</c> (artifacts/nativekv). With
/// <paramref name="ioBackend"/> (the --backends comparison) it is started with <c>--io-backend</c> and
/// <c>--io-threads</c>, and named after its backend ("epoll", "io_uring").
/// </summary>
sealed class NativeKvServer(string binary, string? ioBackend = null, int? ioThreads = null) : ServerSpec
{
    /// <summary>"Persistence off" options, each passed only if this build accepts it.</summary>
    static readonly string[][] OffOptions = [["--appendonly", "no"], ["--save", ""]];

    readonly List<string> _offArgs = [];

    public override string Name => ioBackend ?? "nativekv";
    public override string DisplayName => ioBackend ?? "NativeKv";

    /// <summary>The --io-backend it is started with, or null for the server's default.</summary>
    public string? IoBackend => ioBackend;
    public override string? Executable => File.Exists(binary) ? binary : null;
    public override string ProcessName => "nativekv";
    public override string SizeWhat => "binary";
    public override long SizeBytes => FileSize(Executable);

    public override string Version =>
        Executable is null ? "not built" : ExternalCommand.Capture(Executable, "--version")?.Split('\n')[0] ?? "?";

    protected override IReadOnlyList<string> BaseArguments(int port, string dataDir) =>
    [
        "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dataDir,
        .. ioBackend is null ? [] : (string[])["--io-backend", ioBackend],
        .. ioThreads is int n ? (string[])["--io-threads", n.ToString()] : [],
    ];

    public override IReadOnlyList<string> PersistenceArguments(Persistence persistence) => persistence switch
    {
        Persistence.AofAlways => ["--appendonly", "yes", "--appendfsync", "always"],
        Persistence.AofEverysec => ["--appendonly", "yes", "--appendfsync", "everysec"],
        _ => _offArgs,
    };

    // One reactor, like --backends: the probe's PING shares the load's event loop, so a stall in it shows.
    public override IReadOnlyList<string>? LargerThanMemoryArguments(string dataDir, int memoryMb, int indexMb) =>
        ["--maxmemory", $"{memoryMb}mb", .. ioThreads is null ? (string[])["--io-threads", "1"] : []];

    public override void Prepare(Func<IReadOnlyList<string>, string?> accepts, List<string> notes)
    {
        foreach (var option in OffOptions)
        {
            var shown = string.Join(' ', option.Select(a => a.Length == 0 ? "\"\"" : a));
            var refusal = accepts(option);
            if (refusal is null) _offArgs.AddRange(option);
            else notes.Add($"NativeKv: this build refuses `{shown}` (so it has nothing to turn off); started without it.");
        }
    }

    /// <summary>The AOF is being built while this harness is: a build that refuses the options has none yet.</summary>
    public override string ExplainStartFailure(Persistence persistence, string reason) =>
        persistence == Persistence.Off ? base.ExplainStartFailure(persistence, reason)
                                       : $"not supported by this build (refused `--appendonly yes --appendfsync ...`: {reason})";
}
