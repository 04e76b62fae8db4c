namespace NativeKv.LoadHarness.Servers;

/// <summary>How a scenario wants the server to persist writes.</summary>
enum Persistence
{
    /// <summary>No AOF, no snapshots: the default for every throughput scenario.</summary>
    Off,
    /// <summary>AOF, fsync before each reply (Redis <c>appendfsync always</c>).</summary>
    AofAlways,
    /// <summary>AOF, fsync about once a second (Redis <c>appendfsync everysec</c>).</summary>
    AofEverysec,
}

/// <summary>One kind of server the harness can start: where it is, how to configure it, what it weighs.</summary>
abstract class ServerSpec
{
    /// <summary>Short lower-case name used on the command line and in CSV (nativekv, redis, garnet).</summary>
    public abstract string Name { get; }

    /// <summary>Name in the report's tables.</summary>
    public abstract string DisplayName { get; }

    /// <summary>Absolute path of the executable, or null when it is not installed.</summary>
    public abstract string? Executable { get; }

    /// <summary>What /proc/PID/comm must say once taskset has exec'd the server.</summary>
    public abstract string ProcessName { get; }

    /// <summary>Version string for the report header.</summary>
    public abstract string Version { get; }

    /// <summary>What <see cref="SizeBytes"/> measures ("binary", "install folder").</summary>
    public abstract string SizeWhat { get; }

    /// <summary>On-disk size of what has to be shipped to run the server.</summary>
    public abstract long SizeBytes { get; }

    /// <summary>Command-line arguments for a server on 127.0.0.1:<paramref name="port"/> with its data in <paramref name="dataDir"/>.</summary>
    public IReadOnlyList<string> Arguments(int port, string dataDir, Persistence persistence) =>
        [.. BaseArguments(port, dataDir), .. PersistenceArguments(persistence)];

    /// <summary>Port, bind address, data folder and anything else every run gets.</summary>
    protected abstract IReadOnlyList<string> BaseArguments(int port, string dataDir);

    /// <summary>The options that select a persistence mode.</summary>
    public abstract IReadOnlyList<string> PersistenceArguments(Persistence persistence);

    /// <summary>
    /// The larger-than-memory scenario's options: keep at most <paramref name="memoryMb"/> MB of data in
    /// memory and the rest on disk under <paramref name="dataDir"/> (<paramref name="indexMb"/>: the hash
    /// index, for a server that sizes it up front). Null: the server cannot hold more than its memory.
    /// </summary>
    public virtual IReadOnlyList<string>? LargerThanMemoryArguments(string dataDir, int memoryMb, int indexMb) => null;

    /// <summary>The persistence options as the report shows them.</summary>
    public string DescribePersistence(Persistence persistence) =>
        string.Join(' ', PersistenceArguments(persistence).Select(a => a.Length == 0 ? "\"\"" : a));

    /// <summary>
    /// Called once before the first round: a chance to find out which options this build accepts.
    /// <paramref name="accepts"/> starts the server (persistence off) with extra arguments and returns
    /// null if it came up, else why not. Adds lines to <paramref name="notes"/> for the report.
    /// </summary>
    public virtual void Prepare(Func<IReadOnlyList<string>, string?> accepts, List<string> notes) { }

    /// <summary>How the report explains that the server would not start in a given persistence mode.</summary>
    public virtual string ExplainStartFailure(Persistence persistence, string reason) => $"could not start: {reason}";

    protected static long FileSize(string? path) =>
        path is null ? 0 : new FileInfo(path).Length;

    protected static long FolderSize(string path) =>
        Directory.Exists(path)
            ? new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length)
            : 0;

    /// <summary>Resolves symlinks (Debian's /usr/bin/redis-server is a real file, but be safe).</summary>
    protected static string RealPath(string path)
    {
        var target = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true);
        return target?.FullName ?? path;
    }
}
