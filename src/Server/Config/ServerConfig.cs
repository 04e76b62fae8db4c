namespace NativeKv.Server.Config;

/// <summary>
/// Live, typed configuration read by the server. The <see cref="ConfigRegistry"/> maps Redis
/// parameter names onto these properties (and keeps the parameters that change nothing here).
/// Change values through the registry (config file, command line, CONFIG SET), not by assigning
/// these properties at run time: the registry validates and CONFIG GET/REWRITE read through it.
/// </summary>
public sealed class ServerConfig
{
    public ServerConfig()
    {
        Registry = new ConfigRegistry(this);
    }

    public ConfigRegistry Registry { get; }

    /// <summary>Absolute path of the config file given on the command line, if any.</summary>
    public string? ConfigFile { get; set; }

    // --- network ---
    public int Port { get; set; } = 6379;
    public string[] Bind { get; set; } = ["127.0.0.1", "-::1"];
    public int TcpBacklog { get; set; } = 511;
    public int TcpKeepAlive { get; set; } = 300;
    public int Timeout { get; set; }
    public bool ProtectedMode { get; set; } = true;
    /// <summary>maxclients (Redis allows up to 2^32-1; values past int.MaxValue read as int.MaxValue).</summary>
    public int MaxClients { get; set; } = 10000;
    public long ClientQueryBufferLimit { get; set; } = 1024L * 1024 * 1024;
    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;
    /// <summary>client-output-buffer-limit per class: [0] normal, [1] replica, [2] pubsub.</summary>
    public ClientOutputBufferLimit[] ClientOutputBufferLimits { get; set; } = ClientOutputBufferLimit.Defaults();

    // --- collection encodings (Redis's thresholds: past them a collection converts, never back) ---
    public long HashMaxListpackEntries { get; set; } = 512;
    public long HashMaxListpackValue { get; set; } = 64;
    public long SetMaxIntsetEntries { get; set; } = 512;
    public long TrackingTableMaxKeys { get; set; } = 1000000;
    public long SetMaxListpackEntries { get; set; } = 128;
    public long SetMaxListpackValue { get; set; } = 64;
    public long ZsetMaxListpackEntries { get; set; } = 128;
    public long ZsetMaxListpackValue { get; set; } = 64;
    /// <summary>list-max-listpack-size: negative, a node's bytes (-1..-5: 4..64 KB); positive, its entries.</summary>
    public long ListMaxListpackSize { get; set; } = -2;

    // --- threads ---
    /// <summary>Reactor count; 0 means one per CPU in the affinity mask.</summary>
    public int IoThreads { get; set; }
    /// <summary>CPUs to pin reactor i to (server-cpulist / --cpu-list); empty = no pinning.</summary>
    public int[] CpuList { get; set; } = [];
    public string CpuListText { get; set; } = "";
    /// <summary>io-backend: auto, io_uring or epoll (NativeKv-specific, start-up only).</summary>
    public string IoBackend { get; set; } = "auto";
    /// <summary>
    /// store-page-size: the store's log page for a new data directory (a power of two, at most a
    /// quarter of maxmemory). A value must fit in one page; FASTER clears two pages at start-up.
    /// </summary>
    public long StorePageSize { get; set; } = 8L << 20;

    /// <summary>
    /// store-index-spill-factor: with maxmemory set, once the log is half full the hash index is sized for
    /// this many times the keys that fit in memory (at most twice the log memory); 0 or 1: it only
    /// follows the keys. NativeKv's own.
    /// </summary>
    public int StoreIndexSpillFactor { get; set; } = 16;

    /// <summary>io-uring-buffers: provided receive buffers (16 KB each) per io_uring reactor; a power of two.</summary>
    public int IoUringBuffers { get; set; } = 256;

    // --- general ---
    public int Databases { get; set; } = 16;
    public string RequirePass { get; set; } = "";
    public string Dir { get; set; } = "./data";
    public string LogFile { get; set; } = "";
    public string LogLevel { get; set; } = "notice";
    /// <summary>hz, already clamped to 1..500 as Redis does.</summary>
    public int Hz { get; set; } = 10;
    public bool Daemonize { get; set; }
    public string PidFile { get; set; } = "";
    /// <summary>notify-keyspace-events as <see cref="KeyspaceEvents"/> bits.</summary>
    public int NotifyKeyspaceEvents
    {
        get => _notifyKeyspaceEvents;
        set
        {
            _notifyKeyspaceEvents = value;
            KeyspaceEvents.Enabled = value; // what the commands look at (one server, one config, per process)
        }
    }
    private int _notifyKeyspaceEvents;
    /// <summary>enable-protected-configs / enable-debug-command / enable-module-command: no, yes or local.</summary>
    public string EnableProtectedConfigs { get; set; } = "no";
    public string EnableDebugCommand { get; set; } = "no";
    public string EnableModuleCommand { get; set; } = "no";

    // --- memory ---
    /// <summary>maxmemory in bytes, 0 = no limit (values past long.MaxValue read as long.MaxValue).</summary>
    public long Maxmemory { get; set; }
    public string MaxmemoryPolicy { get; set; } = "noeviction";

    // --- persistence ---
    public bool AppendOnly { get; set; }
    /// <summary>appendfsync: always, everysec or no.</summary>
    public string AppendFsync { get; set; } = "everysec";
    public bool AofLoadTruncated { get; set; } = true;
    public string AppendFilename { get; set; } = "appendonly.aof";
    public string AppendDirName { get; set; } = "appendonlydir";
    /// <summary>save rules as CONFIG GET save shows them: "seconds changes" pairs, "" = none.</summary>
    public string SaveRules { get; set; } = "3600 1 300 100 60 10000";
    public string DbFilename { get; set; } = "dump.rdb";
    public bool StopWritesOnBgsaveError { get; set; } = true;

    /// <summary>The save rules as (seconds, changes) pairs.</summary>
    public (long Seconds, int Changes)[] SavePoints
    {
        get
        {
            var parts = SaveRules.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var result = new (long, int)[parts.Length / 2];
            for (int i = 0; i < result.Length; i++)
                result[i] = (long.Parse(parts[2 * i], System.Globalization.CultureInfo.InvariantCulture), int.Parse(parts[2 * i + 1], System.Globalization.CultureInfo.InvariantCulture));
            return result;
        }
    }

    // --- diagnostics ---
    public long SlowlogLogSlowerThan { get => _slowlogLogSlowerThan; set { _slowlogLogSlowerThan = value; IntrospectionChanged?.Invoke(); } }
    public long SlowlogMaxLen { get => _slowlogMaxLen; set { _slowlogMaxLen = value; IntrospectionChanged?.Invoke(); } }
    public long LatencyMonitorThreshold { get => _latencyMonitorThreshold; set { _latencyMonitorThreshold = value; IntrospectionChanged?.Invoke(); } }
    private long _slowlogLogSlowerThan = 10000, _slowlogMaxLen = 128, _latencyMonitorThreshold;
    /// <summary>slowlog-* or latency-monitor-threshold changed (the executor's CommandWatch gate follows).</summary>
    public event Action? IntrospectionChanged;
    public bool LatencyTracking { get; set; } = true;
    public double[] LatencyTrackingInfoPercentiles { get; set; } = [50.0, 99.0, 99.9];
    /// <summary>busy-reply-threshold (alias lua-time-limit) in milliseconds.</summary>
    public long BusyReplyThreshold { get; set; } = 5000;
}

/// <summary>One class of client-output-buffer-limit: hard bytes, soft bytes, soft seconds (0 = none).</summary>
public readonly record struct ClientOutputBufferLimit(long HardBytes, long SoftBytes, int SoftSeconds)
{
    /// <summary>Redis's defaults: normal 0 0 0, replica 256mb 64mb 60, pubsub 32mb 8mb 60.</summary>
    public static ClientOutputBufferLimit[] Defaults() =>
    [
        new(0, 0, 0),
        new(256L * 1024 * 1024, 64L * 1024 * 1024, 60),
        new(32L * 1024 * 1024, 8L * 1024 * 1024, 60),
    ];
}
