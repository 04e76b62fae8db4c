namespace NativeKv.LoadHarness.Servers;

/// <summary>
/// Microsoft Garnet, installed as a .NET tool into a local folder by perf/bench.sh
/// (<c>dotnet tool install garnet-server --tool-path perf/.tools/garnet</c>). The tool's apphost loads
/// the runtime in-process, so the pid taskset execs into is the server itself.
/// </summary>
sealed class GarnetServer(string toolFolder) : ServerSpec
{
    public override string Name => "garnet";
    public override string DisplayName => "Garnet";
    public override string? Executable =>
        File.Exists(Path.Combine(toolFolder, "garnet-server")) ? Path.Combine(toolFolder, "garnet-server") : null;
    public override string ProcessName => "garnet-server";
    public override string SizeWhat => "install folder";
    public override long SizeBytes => FolderSize(toolFolder);

    public override string Version
    {
        get
        {
            // perf/.tools/garnet/.store/garnet-server/<version>/
            var store = Path.Combine(toolFolder, ".store", "garnet-server");
            var version = Directory.Exists(store) ? Directory.GetDirectories(store).Select(Path.GetFileName).FirstOrDefault() : null;
            return version is null ? "not installed" : "garnet-server " + version;
        }
    }

    public override void Prepare(Func<IReadOnlyList<string>, string?> accepts, List<string> notes) =>
        notes.Add("Garnet runs with `--device-type RandomAccess`: its default Linux storage device needs glibc 2.38 and " +
                  "liburing (Debian 12 has glibc 2.36), without which its AOF crashes on the first flush.");

    // Garnet keeps checkpoints and the AOF under --checkpointdir (--logdir is only for tiered storage).
    // Its default Linux device (Native) loads a library that needs glibc 2.38 and liburing: not on
    // Debian 12, where the AOF then dies on its first flush. RandomAccess is its portable .NET device.
    protected override IReadOnlyList<string> BaseArguments(int port, string dataDir) =>
        ["--port", port.ToString(), "--bind", "127.0.0.1", "--checkpointdir", dataDir, "--device-type", "RandomAccess"];

    // --memory bounds the log's in-memory part only; the hash index (--index) is allocated on top of it.
    public override IReadOnlyList<string>? LargerThanMemoryArguments(string dataDir, int memoryMb, int indexMb) =>
        ["--storage-tier", "--memory", $"{memoryMb}m", "--index", $"{indexMb}m", "--logdir", dataDir];

    public override IReadOnlyList<string> PersistenceArguments(Persistence persistence) => persistence switch
    {
        // commit-freq 0 = issue a commit per operation; commit-wait = reply only once it is durable.
        Persistence.AofAlways => ["--aof", "--aof-commit-freq", "0", "--aof-commit-wait"],
        Persistence.AofEverysec => ["--aof", "--aof-commit-freq", "1000"],
        _ => [],
    };
}
