using System.Diagnostics;
using NativeKv.Server.Commands;
using NativeKv.Server.Config;
using NativeKv.Server.Network;

namespace NativeKv.Server;

/// <summary>Process-wide state shared by all reactors: config, clients, stats, lifecycle.</summary>
public sealed class ServerContext
{
    private readonly ManualResetEventSlim _shutdownRequested = new(false);

    public ServerContext(ServerConfig config, Log log)
    {
        Config = config;
        Log = log;
        Executor = new CommandExecutor(this);
        StartTimestamp = Stopwatch.GetTimestamp();
        StartUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        RunId = RandomHex.Id40();
        Metrics = new InstantaneousMetrics(this);
        Watch = new Commands.Diagnostics.CommandWatch(this);
        Pause = new Network.ClientPause(this);
        AofWaiters = new Commands.AofWaiters(this);
    }

    /// <summary>Clients in WAITAOF waiting for an AOF sync.</summary>
    internal Commands.AofWaiters AofWaiters { get; }

    /// <summary>The slow log, the latency monitor and MONITOR: what looks at each command as it ends.</summary>
    public Commands.Diagnostics.CommandWatch Watch { get; }
    /// <summary>CLIENT PAUSE: which commands wait, and the clients waiting.</summary>
    public Network.ClientPause Pause { get; }

    public static string Version => "7.2.4";
    public static string NativeKvVersion => typeof(ServerContext).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public ServerConfig Config { get; }
    public Log Log { get; }
    public CommandExecutor Executor { get; }
    public ClientRegistry Clients { get; } = new();
    /// <summary>Clients blocked on keys (BLPOP...), shared by every reactor.</summary>
    public Network.Blocking.BlockingKeys Blocking { get; } = new();
    /// <summary>Every client's WATCHed keys (MULTI/EXEC).</summary>
    public Commands.Transactions.WatchedKeys Watches { get; } = new();
    /// <summary>Client-side caching's tracking table, BCAST prefixes and tracking clients (Network/Tracking).</summary>
    public Network.Tracking.TrackingTable Tracking { get; } = new();
    public ServerStats Stats { get; } = new();
    public Reactor[] Reactors
    {
        get => _reactors;
        set
        {
            _reactors = value;
            PubSub = new Network.PubSub.PubSubRegistry(value.Length);
        }
    }
    private Reactor[] _reactors = [];
    /// <summary>Every pub/sub subscription, counted per reactor (made with the reactors).</summary>
    public Network.PubSub.PubSubRegistry PubSub { get; private set; } = new(0);
    public Listener[] Listeners { get; set; } = [];
    public long StartTimestamp { get; }
    public long StartUnixSeconds { get; }
    public string RunId { get; }
    public string IoBackend { get; set; } = "epoll";
    /// <summary>The key/value store (created by the host before the reactors start).</summary>
    public Storage.Store Store { get; set; } = null!;
    /// <summary>Where mutations are logged for durability; null while persistence is off.</summary>
    public Storage.IWriteLog? WriteLog { get; set; }
    /// <summary>AOF, checkpoints, recovery (set by the host with the store).</summary>
    public Storage.Persistence? Persistence { get; set; }
    /// <summary>
    /// The MISCONF error every write (and PING) gets while the AOF cannot be written or the last
    /// checkpoint failed (stop-writes-on-bgsave-error), as Redis's writeCommandsDeniedByDiskError;
    /// null while disks are fine. Set by Persistence, read by the executor.
    /// </summary>
    public volatile string? WriteDenied;
    /// <summary>Sampled per-second rates for INFO (instantaneous_ops_per_sec, ...).</summary>
    public InstantaneousMetrics Metrics { get; }

    public bool ShutdownSave { get; private set; }
    public bool ShutdownForceSave { get; private set; }
    public int ExitCode { get; private set; }
    public bool ShuttingDown => _shutdownRequested.IsSet;

    /// <summary>Starts the orderly stop (signal, SHUTDOWN, fatal reactor error).</summary>
    /// <param name="forceSave">SHUTDOWN SAVE: checkpoint even when no save rule asks for it.</param>
    public void RequestShutdown(bool save, int exitCode = 0, bool forceSave = false)
    {
        lock (_shutdownRequested)
        {
            if (_shutdownRequested.IsSet) return;
            ShutdownSave = save;
            ShutdownForceSave = forceSave;
            ExitCode = exitCode;
            _shutdownRequested.Set();
        }
    }

    public void WaitForShutdown() => _shutdownRequested.Wait();

    public long UptimeSeconds => (long)Stopwatch.GetElapsedTime(StartTimestamp).TotalSeconds;
}

/// <summary>Counters touched rarely or from the acceptor; hot counters live per reactor.</summary>
public sealed class ServerStats
{
    public long ConnectionsReceived;
    public long RejectedConnections;
}
