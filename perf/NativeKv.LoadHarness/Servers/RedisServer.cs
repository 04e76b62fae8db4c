using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness.Servers;

/// <summary>Debian's redis-server (apt package redis-server).</summary>
sealed class RedisServer : ServerSpec
{
    public override string Name => "redis";
    public override string DisplayName => "Redis";
    public override string? Executable { get; } = ExternalCommand.Which("redis-server");
    public override string ProcessName => "redis-server";
    public override string SizeWhat => "binary";
    public override long SizeBytes => Executable is null ? 0 : FileSize(RealPath(Executable));

    public override string Version
    {
        get
        {
            // "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=..."
            var text = Executable is null ? null : ExternalCommand.Capture(Executable, "--version");
            var v = text?.Split(' ').FirstOrDefault(p => p.StartsWith("v=", StringComparison.Ordinal));
            return v is null ? text ?? "not installed" : "redis-server " + v[2..];
        }
    }

    protected override IReadOnlyList<string> BaseArguments(int port, string dataDir) =>
        ["--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dataDir, "--daemonize", "no", "--logfile", ""];

    public override IReadOnlyList<string> PersistenceArguments(Persistence persistence) => persistence switch
    {
        Persistence.AofAlways => ["--save", "", "--appendonly", "yes", "--appendfsync", "always"],
        Persistence.AofEverysec => ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"],
        _ => ["--save", "", "--appendonly", "no"],
    };
}
