using System.Globalization;

namespace NativeKv.Server.Config;

/// <summary>
/// The parameter table: redis 7.2's config.c static_configs, in its order, with its types, bounds,
/// defaults, aliases and flags; plus NativeKv's own io-backend and the cpu-list alias.
/// </summary>
public sealed partial class ConfigRegistry
{
    private const ConfigFlags I = ConfigFlags.Immutable;
    private const ConfigFlags M = ConfigFlags.None;
    private const ConfigFlags H = ConfigFlags.Hidden;
    private const ConfigFlags S = ConfigFlags.Sensitive;
    private const ConfigFlags P = ConfigFlags.Protected;
    private const ConfigFlags D = ConfigFlags.Debug;
    private const ConfigFlags L = ConfigFlags.DenyLoading;
    private const ConfigFlags MA = ConfigFlags.MultiArg;
    private const ConfigFlags V = ConfigFlags.Volatile;

    private const long IntMax = int.MaxValue;
    private const long IntMin = int.MinValue;
    private const long UIntMax = uint.MaxValue;
    private const long LongMax = long.MaxValue;
    private const long ULongLongMax = -1; // ULLONG_MAX as the bits of a long (unsigned bounds check)

    private static readonly (string, int)[] MaxmemoryPolicies =
        [("volatile-lru", 0), ("volatile-lfu", 1), ("volatile-random", 2), ("volatile-ttl", 3),
         ("allkeys-lru", 4), ("allkeys-lfu", 5), ("allkeys-random", 6), ("noeviction", 7)];
    private static readonly (string, int)[] SyslogFacilities =
        [("user", 8), ("local0", 128), ("local1", 136), ("local2", 144), ("local3", 152),
         ("local4", 160), ("local5", 168), ("local6", 176), ("local7", 184)];
    private static readonly (string, int)[] Supervised = [("upstart", 1), ("systemd", 2), ("auto", 3), ("no", 0)];
    private static readonly (string, int)[] ShutdownOnSignal = [("default", 0), ("save", 1), ("nosave", 2), ("now", 4), ("force", 8)];
    private static readonly (string, int)[] ReplDisklessLoad = [("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
    private static readonly (string, int)[] TlsAuthClients = [("no", 0), ("yes", 1), ("optional", 2)];
    private static readonly (string, int)[] OomScoreAdj = [("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
    private static readonly (string, int)[] AclPubsubDefault = [("allchannels", 8), ("resetchannels", 0)];
    private static readonly (string, int)[] SanitizeDumpPayload = [("no", 0), ("yes", 1), ("clients", 2)];
    private static readonly (string, int)[] ClusterEndpointType = [("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
    private static readonly (string, int)[] PropagationErrorBehavior = [("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];

    private static readonly string[] LogLevels = ["debug", "verbose", "notice", "warning", "nothing"];
    private static readonly string[] FsyncPolicies = ["everysec", "always", "no"];
    private static readonly string[] ProtectedActions = ["no", "yes", "local"];
    private static readonly string[] IoBackends = ["auto", "io_uring", "epoll"];

    private void RegisterAll()
    {
        var c = Config;

        // ---- bool configs ----
        Bool("rdbchecksum", null, I, true);
        Bool("daemonize", null, I, c.Daemonize, get: () => c.Daemonize, set: v => c.Daemonize = v);
        Bool("io-threads-do-reads", null, D | I, false);
        Bool("always-show-logo", null, I, false);
        Bool("protected-mode", null, M, c.ProtectedMode, get: () => c.ProtectedMode, set: v => c.ProtectedMode = v);
        Bool("rdbcompression", null, M, true);
        Bool("rdb-del-sync-files", null, M, false);
        Bool("activerehashing", null, M, true);
        Bool("stop-writes-on-bgsave-error", null, M, c.StopWritesOnBgsaveError, get: () => c.StopWritesOnBgsaveError, set: v => c.StopWritesOnBgsaveError = v);
        Bool("set-proc-title", null, I, true);
        Bool("dynamic-hz", null, M, true);
        Bool("lazyfree-lazy-eviction", null, D | M, false);
        Bool("lazyfree-lazy-expire", null, D | M, false);
        Bool("lazyfree-lazy-server-del", null, D | M, false);
        Bool("lazyfree-lazy-user-del", null, D | M, false);
        Bool("lazyfree-lazy-user-flush", null, D | M, false);
        Bool("repl-disable-tcp-nodelay", null, M, false);
        Bool("repl-diskless-sync", null, D | M, true);
        Bool("aof-rewrite-incremental-fsync", null, M, true);
        Bool("no-appendfsync-on-rewrite", null, M, false);
        Bool("cluster-require-full-coverage", null, M, true);
        Bool("rdb-save-incremental-fsync", null, M, true);
        Bool("aof-load-truncated", null, M, c.AofLoadTruncated, get: () => c.AofLoadTruncated, set: v => c.AofLoadTruncated = v);
        Bool("aof-use-rdb-preamble", null, M, true);
        Bool("aof-timestamp-enabled", null, M, false);
        Bool("cluster-replica-no-failover", "cluster-slave-no-failover", M, false);
        Bool("replica-lazy-flush", "slave-lazy-flush", M, false);
        Bool("replica-serve-stale-data", "slave-serve-stale-data", M, true);
        Bool("replica-read-only", "slave-read-only", D | M, true);
        Bool("replica-ignore-maxmemory", "slave-ignore-maxmemory", M, true);
        Bool("jemalloc-bg-thread", null, M, true);
        Bool("activedefrag", null, D | M, false, validate: v => v
            ? "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution"
            : null);
        Bool("syslog-enabled", null, I, false);
        Bool("cluster-enabled", null, I, false);
        Bool("appendonly", null, M | L, c.AppendOnly, get: () => c.AppendOnly, set: v => c.AppendOnly = v);
        Bool("cluster-allow-reads-when-down", null, M, false);
        Bool("cluster-allow-pubsubshard-when-down", null, M, true);
        Bool("crash-log-enabled", null, M, true);
        Bool("crash-memcheck-enabled", null, M, true);
        Bool("use-exit-on-panic", null, M | H, false);
        Bool("disable-thp", null, I, true);
        Bool("cluster-allow-replica-migration", null, M, true);
        Bool("replica-announced", null, M, true);
        Bool("latency-tracking", null, M, c.LatencyTracking, get: () => c.LatencyTracking, set: v => c.LatencyTracking = v);
        Bool("aof-disable-auto-gc", null, M | H, false);
        Bool("replica-ignore-disk-write-errors", null, M, false);

        // ---- string configs (true: an empty value means unset) ----
        Str("aclfile", null, I, false, "");
        Str("unixsocket", null, I, true, null);
        Str("pidfile", null, I, true, null, get: () => c.PidFile, set: v => c.PidFile = v);
        Str("replica-announce-ip", "slave-announce-ip", M, true, null);
        Str("masteruser", null, M | S, true, null);
        Str("cluster-announce-ip", null, M, true, null);
        Str("cluster-config-file", null, I, false, "nodes.conf");
        Str("cluster-announce-hostname", null, M, true, null, validate: ValidAnnouncedHostname);
        Str("cluster-announce-human-nodename", null, M, true, null, validate: v =>
            v.All(ch => char.IsAsciiLetterOrDigit(ch) || "!#$%&()*+:;<>?@[]^{|}~".IndexOf(ch) < 0) ? null : "Announced human node name contained invalid character");
        Str("syslog-ident", null, I, false, "redis");
        Str("dbfilename", null, M | P, false, c.DbFilename, validate: v => IsBaseName(v) ? null : "dbfilename can't be a path, just a filename",
            get: () => c.DbFilename, set: v => c.DbFilename = v);
        Str("appendfilename", null, I, false, c.AppendFilename, validate: v =>
            v.Length == 0 ? "appendfilename can't be empty" : IsBaseName(v) ? null : "appendfilename can't be a path, just a filename",
            get: () => c.AppendFilename, set: v => c.AppendFilename = v);
        Str("appenddirname", null, I, false, c.AppendDirName, validate: v =>
            v.Length == 0 ? "appenddirname can't be empty" : IsBaseName(v) ? null : "appenddirname can't be a path, just a dirname",
            get: () => c.AppendDirName, set: v => c.AppendDirName = v);
        Add(new ConfigParameter("server_cpulist", ["server-cpulist", "cpu-list"], I,
            () => c.CpuListText,
            (string[] args, out Action? apply) =>
            {
                apply = null;
                var v = args.Length > 0 ? args[0] : "";
                if (ConfigValues.ParseCpuList(v, out var cpus) is { } e) return e;
                apply = () => { c.CpuList = cpus; c.CpuListText = v; };
                return null;
            },
            n => c.CpuListText.Length == 0 ? new ConfigRewrite(null, false) : Line($"{n} {ConfigValues.Repr(c.CpuListText)}", true)));
        Str("bio_cpulist", null, I, true, null);
        Str("aof_rewrite_cpulist", null, I, true, null);
        Str("bgsave_cpulist", null, I, true, null);
        Str("ignore-warnings", null, M, false, "");
        Str("proc-title-template", null, M, false, "{title} {listen-addr} {server-mode}", validate: v =>
            ValidProcTitleTemplate(v) ? null : "template format is invalid or contains unknown variables");
        Str("bind-source-addr", null, M, true, null);
        Str("logfile", null, I, false, c.LogFile, get: () => c.LogFile, set: v => c.LogFile = v);
        Str("locale-collate", null, M, false, "");

        // ---- sds configs ----
        Str("masterauth", null, M | S, true, null);
        Str("requirepass", null, M | S, true, null, get: () => c.RequirePass, set: v => c.RequirePass = v);

        // ---- enum configs ----
        Choice("supervised", null, I, Supervised, 0);
        Choice("syslog-facility", null, I, SyslogFacilities, 128);
        Choice("repl-diskless-load", null, D | M | L, ReplDisklessLoad, 0);
        ChoiceString("loglevel", null, M, LogLevels, () => c.LogLevel, v => c.LogLevel = v);
        ChoiceString("maxmemory-policy", null, M, MaxmemoryPolicies.Select(x => x.Item1).ToArray(), () => c.MaxmemoryPolicy, v => c.MaxmemoryPolicy = v);
        ChoiceString("appendfsync", null, M, FsyncPolicies, () => c.AppendFsync, v => c.AppendFsync = v);
        Choice("oom-score-adj", null, M, OomScoreAdj, 0);
        Choice("acl-pubsub-default", null, M, AclPubsubDefault, 0);
        Choice("sanitize-dump-payload", null, D | M, SanitizeDumpPayload, 0);
        ChoiceString("enable-protected-configs", null, I, ProtectedActions, () => c.EnableProtectedConfigs, v => c.EnableProtectedConfigs = v);
        ChoiceString("enable-debug-command", null, I, ProtectedActions, () => c.EnableDebugCommand, v => c.EnableDebugCommand = v);
        ChoiceString("enable-module-command", null, I, ProtectedActions, () => c.EnableModuleCommand, v => c.EnableModuleCommand = v);
        Choice("cluster-preferred-endpoint-type", null, M, ClusterEndpointType, 0);
        Choice("propagation-error-behavior", null, M, PropagationErrorBehavior, 0);
        Choice("shutdown-on-sigint", null, M | MA, ShutdownOnSignal, 0, validate: ValidShutdownFlags);
        Choice("shutdown-on-sigterm", null, M | MA, ShutdownOnSignal, 0, validate: ValidShutdownFlags);

        // ---- integer configs ----
        const Sign s = Sign.Signed, u = Sign.Unsigned;
        // NativeKv cannot move its listeners at run time: port (and bind) are start-up only here.
        Numeric("databases", null, I, s, 1, IntMax, c.Databases, bind: v => c.Databases = (int)v);
        Numeric("port", null, I, s, 0, 65535, c.Port, bind: v => c.Port = (int)v);
        // io-threads is NativeKv's reactor count; 0 (the default) means one per CPU.
        Numeric("io-threads", null, D | I, s, 0, 128, c.IoThreads, bind: v => c.IoThreads = (int)v);
        Numeric("auto-aof-rewrite-percentage", null, M, s, 0, IntMax, 100);
        Numeric("cluster-replica-validity-factor", "cluster-slave-validity-factor", M, s, 0, IntMax, 10);
        Numeric("list-max-listpack-size", "list-max-ziplist-size", M, s, IntMin, IntMax, c.ListMaxListpackSize, bind: v => c.ListMaxListpackSize = v);
        Numeric("tcp-keepalive", null, M, s, 0, IntMax, c.TcpKeepAlive, bind: v => c.TcpKeepAlive = (int)v);
        Numeric("cluster-migration-barrier", null, M, s, 0, IntMax, 1);
        Numeric("active-defrag-cycle-min", null, M, s, 1, 99, 1);
        Numeric("active-defrag-cycle-max", null, M, s, 1, 99, 25);
        Numeric("active-defrag-threshold-lower", null, M, s, 0, 1000, 10);
        Numeric("active-defrag-threshold-upper", null, M, s, 0, 1000, 100);
        Numeric("lfu-log-factor", null, M, s, 0, IntMax, 10);
        Numeric("lfu-decay-time", null, M, s, 0, IntMax, 1);
        Numeric("replica-priority", "slave-priority", M, s, 0, IntMax, 100);
        Numeric("repl-diskless-sync-delay", null, M, s, 0, IntMax, 5);
        Numeric("maxmemory-samples", null, M, s, 1, IntMax, 5);
        Numeric("maxmemory-eviction-tenacity", null, M, s, 0, 100, 10);
        Numeric("timeout", null, M, s, 0, IntMax, c.Timeout, bind: v => c.Timeout = (int)v);
        Numeric("replica-announce-port", "slave-announce-port", M, s, 0, 65535, 0);
        Numeric("tcp-backlog", null, I, s, 0, IntMax, c.TcpBacklog, bind: v => c.TcpBacklog = (int)v);
        Numeric("cluster-port", null, I, s, 0, 65535, 0);
        Numeric("cluster-announce-bus-port", null, M, s, 0, 65535, 0);
        Numeric("cluster-announce-port", null, M, s, 0, 65535, 0);
        Numeric("cluster-announce-tls-port", null, M, s, 0, 65535, 0);
        Numeric("repl-timeout", null, M, s, 1, IntMax, 60);
        Numeric("repl-ping-replica-period", "repl-ping-slave-period", M, s, 1, IntMax, 10);
        Numeric("list-compress-depth", null, D | M, s, 0, IntMax, 0);
        Numeric("rdb-key-save-delay", null, M | H, s, IntMin, IntMax, 0);
        Numeric("key-load-delay", null, M | H, s, IntMin, IntMax, 0);
        Numeric("active-expire-effort", null, M, s, 1, 10, 1);
        // Hz is a hint: any value is accepted and clamped to 1..500, as Redis's updateHZ does.
        Numeric("hz", null, M, s, 0, IntMax, c.Hz, bind: v => c.Hz = (int)v, adjust: v => Math.Clamp(v, 1, 500));
        Numeric("min-replicas-to-write", "min-slaves-to-write", M, s, 0, IntMax, 0);
        Numeric("min-replicas-max-lag", "min-slaves-max-lag", M, s, 0, IntMax, 10);
        Numeric("watchdog-period", null, M | H, s, 0, IntMax, 0);
        Numeric("shutdown-timeout", null, M, s, 0, IntMax, 10);
        Numeric("repl-diskless-sync-max-replicas", null, M, s, 0, IntMax, 0);

        // ---- unsigned int configs ----
        Numeric("maxclients", null, M, u, 1, UIntMax, c.MaxClients, bind: v => c.MaxClients = (int)Math.Min(v, int.MaxValue));
        Numeric("unixsocketperm", null, I, u, 0, Convert.ToInt64("777", 8), 0, Num.Octal);
        Numeric("socket-mark-id", null, I, u, 0, UIntMax, 0);

        // ---- unsigned long configs (checked as signed, as Redis does) ----
        Numeric("active-defrag-max-scan-fields", null, M, s, 1, LongMax, 1000);
        Numeric("slowlog-max-len", null, M, s, 0, LongMax, c.SlowlogMaxLen, bind: v => c.SlowlogMaxLen = v);
        Numeric("acllog-max-len", null, M, s, 0, LongMax, 128);

        // ---- long long configs ----
        Numeric("busy-reply-threshold", "lua-time-limit", M, s, 0, LongMax, c.BusyReplyThreshold, bind: v => c.BusyReplyThreshold = v);
        Numeric("cluster-node-timeout", null, M, s, 0, LongMax, 15000);
        Numeric("cluster-ping-interval", null, M | H, s, 0, LongMax, 0);
        Numeric("slowlog-log-slower-than", null, M, s, -1, LongMax, c.SlowlogLogSlowerThan, bind: v => c.SlowlogLogSlowerThan = v);
        Numeric("latency-monitor-threshold", null, M, s, 0, LongMax, c.LatencyMonitorThreshold, bind: v => c.LatencyMonitorThreshold = v);
        Numeric("proto-max-bulk-len", null, D | M, s, 1024 * 1024, LongMax, c.ProtoMaxBulkLen, Num.Memory, bind: v => c.ProtoMaxBulkLen = v);
        Numeric("stream-node-max-entries", null, M, s, 0, LongMax, 100);
        Numeric("repl-backlog-size", null, M, s, 1, LongMax, 1024 * 1024, Num.Memory);

        // ---- unsigned long long configs ----
        Numeric("maxmemory", null, M, u, 0, ULongLongMax, c.Maxmemory, Num.Memory,
            bind: v => c.Maxmemory = v < 0 ? long.MaxValue : v);
        Numeric("cluster-link-sendbuf-limit", null, M, u, 0, ULongLongMax, 0, Num.Memory);

        // ---- size_t configs ----
        Numeric("hash-max-listpack-entries", "hash-max-ziplist-entries", M, u, 0, LongMax, c.HashMaxListpackEntries, bind: v => c.HashMaxListpackEntries = v);
        Numeric("set-max-intset-entries", null, M, u, 0, LongMax, c.SetMaxIntsetEntries, bind: v => c.SetMaxIntsetEntries = v);
        Numeric("set-max-listpack-entries", null, M, u, 0, LongMax, c.SetMaxListpackEntries, bind: v => c.SetMaxListpackEntries = v);
        Numeric("set-max-listpack-value", null, M, u, 0, LongMax, c.SetMaxListpackValue, bind: v => c.SetMaxListpackValue = v);
        Numeric("zset-max-listpack-entries", "zset-max-ziplist-entries", M, u, 0, LongMax, c.ZsetMaxListpackEntries, bind: v => c.ZsetMaxListpackEntries = v);
        Numeric("active-defrag-ignore-bytes", null, M, u, 1, LongMax, 100 << 20, Num.Memory);
        Numeric("hash-max-listpack-value", "hash-max-ziplist-value", M, u, 0, LongMax, c.HashMaxListpackValue, Num.Memory, bind: v => c.HashMaxListpackValue = v);
        Numeric("stream-node-max-bytes", null, M, u, 0, LongMax, 4096, Num.Memory);
        Numeric("zset-max-listpack-value", "zset-max-ziplist-value", M, u, 0, LongMax, c.ZsetMaxListpackValue, Num.Memory, bind: v => c.ZsetMaxListpackValue = v);
        Numeric("hll-sparse-max-bytes", null, M, u, 0, LongMax, 3000, Num.Memory);
        Numeric("tracking-table-max-keys", null, M, u, 0, LongMax, c.TrackingTableMaxKeys, bind: v => c.TrackingTableMaxKeys = v);
        Numeric("client-query-buffer-limit", null, D | M, u, 1024 * 1024, LongMax, c.ClientQueryBufferLimit, Num.Memory, bind: v => c.ClientQueryBufferLimit = v);
        Numeric("maxmemory-clients", null, M, s, -100, LongMax, 0, Num.Memory | Num.Percent);

        // ---- other numeric configs ----
        Numeric("repl-backlog-ttl", null, M, s, 0, LongMax, 60 * 60);
        Numeric("auto-aof-rewrite-min-size", null, M, s, 0, LongMax, 64 * 1024 * 1024, Num.Memory);
        Numeric("loading-process-events-interval-bytes", null, M | H, s, 1024, IntMax, 1024 * 1024 * 2);

        // ---- tls configs (kept; NativeKv has no TLS listener) ----
        Numeric("tls-port", null, M, s, 0, 65535, 0);
        Numeric("tls-session-cache-size", null, M, s, 0, IntMax, 20 * 1024);
        Numeric("tls-session-cache-timeout", null, M, s, 0, IntMax, 300);
        Bool("tls-cluster", null, M, false);
        Bool("tls-replication", null, M, false);
        Choice("tls-auth-clients", null, M, TlsAuthClients, 1);
        Bool("tls-prefer-server-ciphers", null, M, false);
        Bool("tls-session-caching", null, M, true);
        Str("tls-cert-file", null, V | M, true, null);
        Str("tls-key-file", null, V | M, true, null);
        Str("tls-key-file-pass", null, M, true, null);
        Str("tls-client-cert-file", null, V | M, true, null);
        Str("tls-client-key-file", null, V | M, true, null);
        Str("tls-client-key-file-pass", null, M, true, null);
        Str("tls-dh-params-file", null, V | M, true, null);
        Str("tls-ca-cert-file", null, V | M, true, null);
        Str("tls-ca-cert-dir", null, V | M, true, null);
        Str("tls-protocols", null, M, true, null);
        Str("tls-ciphers", null, M, true, null);
        Str("tls-ciphersuites", null, M, true, null);

        // ---- special configs ----
        RegisterDir(c);
        RegisterSave(c);
        RegisterClientOutputBufferLimit(c);
        RegisterOomScoreAdjValues();
        RegisterNotifyKeyspaceEvents(c);
        RegisterBind(c);
        RegisterReplicaOf();
        RegisterLatencyTrackingPercentiles(c);

        // ---- NativeKv's own ----
        ChoiceString("io-backend", null, I, IoBackends, () => c.IoBackend, v => c.IoBackend = v);
        Numeric("io-uring-buffers", null, I, u, 1, 32768, c.IoUringBuffers, bind: v => c.IoUringBuffers = (int)v,
            validate: v => (v & (v - 1)) == 0 ? null : "argument must be a power of two");
        Numeric("store-page-size", null, I, u, 1L << 20, 1L << 30, c.StorePageSize, Num.Memory, bind: v => c.StorePageSize = v,
            validate: v => (v & (v - 1)) == 0 ? null : "argument must be a power of two");
        Numeric("store-index-spill-factor", null, M, u, 0, 1024, c.StoreIndexSpillFactor, bind: v => c.StoreIndexSpillFactor = (int)v);
    }

    private static bool IsBaseName(string path) => path.IndexOf('/') < 0 && path.IndexOf('\\') < 0;

    private static string? ValidShutdownFlags(int v) =>
        (v & 1) != 0 && (v & 2) != 0 ? "shutdown options SAVE and NOSAVE can't be used simultaneously" : null;

    private static string? ValidAnnouncedHostname(string v)
    {
        if (v.Length >= 256) return "Hostnames must be less than 256 characters";
        foreach (char ch in v)
        {
            if (!(char.IsAsciiLetterOrDigit(ch) || ch == '-' || ch == '.'))
                return "Hostnames may only contain alphanumeric characters, hyphens or dots";
        }
        return null;
    }

    /// <summary>Redis's sdstemplate expansion with an empty title must succeed and not be blank.</summary>
    private bool ValidProcTitleTemplate(string template)
    {
        var sb = new System.Text.StringBuilder();
        int p = 0;
        while (p < template.Length)
        {
            int sv = template.IndexOf('{', p);
            if (sv < 0)
            {
                sb.Append(template, p, template.Length - p);
                break;
            }
            sb.Append(template, p, sv - p);
            sv++;
            if (sv >= template.Length) return false;
            if (template[sv] == '{')
            {
                sb.Append('{');
                p = sv + 1;
                continue;
            }
            int ev = template.IndexOf('}', sv);
            if (ev < 0) return false;
            string? value = template[sv..ev] switch
            {
                "title" => "",
                "listen-addr" => $"{(Config.Bind.Length > 0 ? Config.Bind[0] : "*")}:{Config.Port}",
                "server-mode" => "",
                "config-file" => Config.ConfigFile ?? "-",
                "port" => Config.Port.ToString(CultureInfo.InvariantCulture),
                "tls-port" => "0",
                "unixsocket" => _byName.TryGetValue("unixsocket", out var us) ? us.Get() : "",
                _ => null,
            };
            if (value is null) return false;
            sb.Append(value);
            p = ev + 1;
        }
        return sb.ToString().Trim(' ').Length > 0;
    }

    // ------------------------------------------------------------------ special configs

    private void RegisterDir(ServerConfig c)
    {
        Special("dir", null, M | P | L,
            () => Path.GetFullPath(c.Dir),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length != 1) return "wrong number of arguments";
                var v = args[0];
                if (v.Length == 0 || !Directory.Exists(v))
                    return File.Exists(v) ? "Not a directory" : "No such file or directory";
                var full = Path.GetFullPath(v);
                apply = () => c.Dir = full;
                return null;
            },
            n => Line($"{n} {ConfigValues.Repr(Path.GetFullPath(c.Dir))}", true));
    }

    private void RegisterSave(ServerConfig c)
    {
        Special("save", null, M | MA,
            () => c.SaveRules,
            (string[] args, out Action? apply) =>
            {
                apply = null;
                bool reset = args.Length == 1 && args[0].Length == 0;
                if (reset) args = [];
                if ((args.Length & 1) != 0) return "Invalid save parameters";
                var pairs = new List<string>();
                for (int j = 0; j < args.Length; j++)
                {
                    if (!ConfigValues.TryParseStrtoll(args[j], out long val) || ((j & 1) == 0 && val < 1) || ((j & 1) == 1 && val < 0))
                        return "Invalid save parameters";
                    // changes is a C int in Redis: it keeps the low 32 bits.
                    pairs.Add((j & 1) == 0 ? val.ToString(CultureInfo.InvariantCulture) : ((int)val).ToString(CultureInfo.InvariantCulture));
                }
                var text = string.Join(' ', pairs);
                // While a config file loads, its first save line replaces the defaults and later
                // ones add to it; CONFIG SET (and save "") always replaces.
                bool append = LoadingFile && _saveLoaded && !reset;
                apply = () =>
                {
                    if (LoadingFile) _saveLoaded = true;
                    c.SaveRules = append && c.SaveRules.Length > 0 ? (text.Length > 0 ? c.SaveRules + " " + text : c.SaveRules) : text;
                };
                return null;
            },
            n =>
            {
                var parts = c.SaveRules.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length == 0) return Line($"{n} \"\"", true);
                var lines = new string[parts.Length / 2];
                for (int j = 0; j < lines.Length; j++) lines[j] = $"{n} {parts[2 * j]} {parts[2 * j + 1]}";
                return new ConfigRewrite(lines, true);
            });
    }

    private static readonly string[] ObufClassNames = ["normal", "slave", "pubsub"];

    private void RegisterClientOutputBufferLimit(ServerConfig c)
    {
        var defaults = ClientOutputBufferLimit.Defaults();
        Special("client-output-buffer-limit", null, M | MA,
            () => string.Join(' ', c.ClientOutputBufferLimits.Select((l, j) =>
                $"{ObufClassNames[j]} {l.HardBytes} {l.SoftBytes} {l.SoftSeconds}")),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
                var next = c.ClientOutputBufferLimits.ToArray();
                for (int j = 0; j < args.Length; j += 4)
                {
                    int cls = args[j].ToLowerInvariant() switch { "normal" => 0, "slave" or "replica" => 1, "pubsub" => 2, _ => -1 };
                    if (cls < 0) return "Invalid client class specified in buffer limit configuration.";
                    if (!ConfigValues.TryParseMemory(args[j + 1], out long hard) || !ConfigValues.TryParseMemory(args[j + 2], out long soft) ||
                        !ConfigValues.TryParseStrtoll(args[j + 3], out long seconds) || (int)seconds < 0)
                        return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
                    next[cls] = new ClientOutputBufferLimit(hard, soft, (int)seconds);
                }
                apply = () => c.ClientOutputBufferLimits = next;
                return null;
            },
            n =>
            {
                var lines = new string[3];
                var force = new bool[3];
                for (int j = 0; j < 3; j++)
                {
                    var l = c.ClientOutputBufferLimits[j];
                    force[j] = l != defaults[j];
                    lines[j] = $"{n} {(j == 1 ? "replica" : ObufClassNames[j])} {ConfigValues.FormatMemory(l.HardBytes)} {ConfigValues.FormatMemory(l.SoftBytes)} {l.SoftSeconds}";
                }
                return new ConfigRewrite(lines, false, force);
            });
    }

    private void RegisterOomScoreAdjValues()
    {
        int[] defaults = [0, 200, 800];
        var values = defaults.ToArray();
        Special("oom-score-adj-values", null, M | MA,
            () => string.Join(' ', values),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length != 3) return "wrong number of arguments";
                var next = new int[3];
                for (int i = 0; i < 3; i++)
                {
                    if (!ConfigValues.TryParseStrtoll(args[i], out long v) || v < -2000 || v > 2000)
                        return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
                    next[i] = (int)v;
                }
                apply = () => next.CopyTo(values, 0);
                return null;
            },
            n => Line($"{n} {string.Join(' ', values)}", !values.SequenceEqual(defaults)));
    }

    private void RegisterNotifyKeyspaceEvents(ServerConfig c)
    {
        Special("notify-keyspace-events", null, M,
            () => ConfigValues.FormatKeyspaceEvents(c.NotifyKeyspaceEvents),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length != 1) return "wrong number of arguments";
                int flags = ConfigValues.ParseKeyspaceEvents(args[0]);
                if (flags == -1) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
                apply = () => c.NotifyKeyspaceEvents = flags;
                return null;
            },
            n => Line($"{n} {ConfigValues.Repr(ConfigValues.FormatKeyspaceEvents(c.NotifyKeyspaceEvents))}", c.NotifyKeyspaceEvents != 0));
    }

    private void RegisterBind(ServerConfig c)
    {
        var defaults = c.Bind.ToArray();
        Special("bind", null, I | MA,
            () => string.Join(' ', c.Bind),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length > 16) return "Too many bind addresses specified.";
                if (args.Length == 1 && args[0].Length == 0) args = [];
                var next = args.ToArray();
                apply = () => c.Bind = next;
                return null;
            },
            n => c.Bind.SequenceEqual(defaults) ? new ConfigRewrite(null, false)
                : Line($"{n} {(c.Bind.Length > 0 ? string.Join(' ', c.Bind) : "\"\"")}", true));
    }

    private void RegisterReplicaOf()
    {
        string? host = null;
        int port = 0;
        Special("replicaof", "slaveof", I | MA,
            () => host is null ? "" : $"{host} {port}",
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length != 2) return "wrong number of arguments";
                if (args[0].Equals("no", StringComparison.OrdinalIgnoreCase) && args[1].Equals("one", StringComparison.OrdinalIgnoreCase))
                {
                    apply = () => host = null;
                    return null;
                }
                if (!ConfigValues.TryParseStrtoll(args[1], out long p) || args[1].Length == 0 || p < 0 || p > 65535)
                    return "Invalid master port";
                var h = args[0];
                apply = () => { host = h; port = (int)p; };
                return null;
            },
            n => host is null ? new ConfigRewrite(null, false) : Line($"{n} {host} {port}", true));
    }

    private void RegisterLatencyTrackingPercentiles(ServerConfig c)
    {
        Special("latency-tracking-info-percentiles", null, M | MA,
            () => string.Join(' ', c.LatencyTrackingInfoPercentiles.Select(FormatPercentile)),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (args.Length == 1 && args[0].Length == 0) args = [];
                var next = new double[args.Length];
                for (int j = 0; j < args.Length; j++)
                {
                    if (!TryParseRedisDouble(args[j], out double d)) return "Invalid latency-tracking-info-percentiles parameters";
                    if (d > 100.0 || d < 0.0) return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
                    next[j] = d;
                }
                apply = () => c.LatencyTrackingInfoPercentiles = next;
                return null;
            },
            n => Line(c.LatencyTrackingInfoPercentiles.Length == 0 ? $"{n} \"\""
                : $"{n} {string.Join(' ', c.LatencyTrackingInfoPercentiles.Select(FormatPercentile))}", true));
    }

    /// <summary>"%f" then trimDoubleString: 50.000000 -> 50, 99.900000 -> 99.9.</summary>
    private static string FormatPercentile(double d)
    {
        var s = d.ToString("F6", CultureInfo.InvariantCulture);
        if (s.Contains('.')) s = s.TrimEnd('0').TrimEnd('.');
        return s;
    }

    /// <summary>Redis's string2d: strtod over the whole string, no leading space, not NaN.</summary>
    private static bool TryParseRedisDouble(string s, out double d)
    {
        d = 0;
        if (s.Length == 0 || char.IsWhiteSpace(s[0])) return false;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out d))
        {
            var lower = s.ToLowerInvariant();
            if (lower is "inf" or "+inf" or "infinity" or "+infinity") { d = double.PositiveInfinity; return true; }
            if (lower is "-inf" or "-infinity") { d = double.NegativeInfinity; return true; }
            return false;
        }
        return !double.IsNaN(d);
    }
}
