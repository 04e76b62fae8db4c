namespace NativeKv.Server.Config;

/// <summary>
/// Live, typed configuration read by the server. The <see cref="ConfigRegistry"/> maps Redis
/// parameter names onto these properties (and keeps the parameters that change nothing here).
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
    public int MaxClients { get; set; } = 10000;
    public long ClientQueryBufferLimit { get; set; } = 1024L * 1024 * 1024;
    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;

    // --- threads ---
    /// <summary>Reactor count; 0 means one per CPU in the affinity mask.</summary>
    public int IoThreads { get; set; }
    /// <summary>CPUs to pin reactor i to (server-cpulist / --cpu-list); empty = no pinning.</summary>
    public int[] CpuList { get; set; } = [];
    public string CpuListText { get; set; } = "";

    // --- general ---
    public int Databases { get; set; } = 16;
    public string RequirePass { get; set; } = "";
    public string Dir { get; set; } = "./data";
    public string LogFile { get; set; } = "";
    public string LogLevel { get; set; } = "notice";
    public int Hz { get; set; } = 10;
    public bool Daemonize { get; set; }
    public string PidFile { get; set; } = "";
}
