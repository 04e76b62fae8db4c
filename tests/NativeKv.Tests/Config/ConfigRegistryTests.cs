using NativeKv.Server.Config;

namespace NativeKv.Tests.Config;

/// <summary>The parameter table in-process: names, aliases, defaults, validation texts (redis 7.2 config.c).</summary>
public class ConfigRegistryTests
{
    /// <summary>Every name (primary and alias, hidden included) in redis 7.2.4's static_configs table.</summary>
    public static readonly string[] Redis72Names =
    [
        "acl-pubsub-default", "aclfile", "acllog-max-len", "active-defrag-cycle-max", "active-defrag-cycle-min",
        "active-defrag-ignore-bytes", "active-defrag-max-scan-fields", "active-defrag-threshold-lower",
        "active-defrag-threshold-upper", "active-expire-effort", "activedefrag", "activerehashing", "always-show-logo",
        "aof-disable-auto-gc", "aof-load-truncated", "aof-rewrite-incremental-fsync", "aof-timestamp-enabled",
        "aof-use-rdb-preamble", "aof_rewrite_cpulist", "appenddirname", "appendfilename", "appendfsync", "appendonly",
        "auto-aof-rewrite-min-size", "auto-aof-rewrite-percentage", "bgsave_cpulist", "bind", "bind-source-addr",
        "bio_cpulist", "busy-reply-threshold", "client-output-buffer-limit", "client-query-buffer-limit",
        "cluster-allow-pubsubshard-when-down", "cluster-allow-reads-when-down", "cluster-allow-replica-migration",
        "cluster-announce-bus-port", "cluster-announce-hostname", "cluster-announce-human-nodename",
        "cluster-announce-ip", "cluster-announce-port", "cluster-announce-tls-port", "cluster-config-file",
        "cluster-enabled", "cluster-link-sendbuf-limit", "cluster-migration-barrier", "cluster-node-timeout",
        "cluster-ping-interval", "cluster-port", "cluster-preferred-endpoint-type", "cluster-replica-no-failover",
        "cluster-replica-validity-factor", "cluster-require-full-coverage", "cluster-slave-no-failover",
        "cluster-slave-validity-factor", "crash-log-enabled", "crash-memcheck-enabled", "daemonize", "databases",
        "dbfilename", "dir", "disable-thp", "dynamic-hz", "enable-debug-command", "enable-module-command",
        "enable-protected-configs", "hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries",
        "hash-max-ziplist-value", "hll-sparse-max-bytes", "hz", "ignore-warnings", "io-threads", "io-threads-do-reads",
        "jemalloc-bg-thread", "key-load-delay", "latency-monitor-threshold", "latency-tracking",
        "latency-tracking-info-percentiles", "lazyfree-lazy-eviction", "lazyfree-lazy-expire",
        "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush", "lfu-decay-time",
        "lfu-log-factor", "list-compress-depth", "list-max-listpack-size", "list-max-ziplist-size",
        "loading-process-events-interval-bytes", "locale-collate", "logfile", "loglevel", "lua-time-limit",
        "masterauth", "masteruser", "maxclients", "maxmemory", "maxmemory-clients", "maxmemory-eviction-tenacity",
        "maxmemory-policy", "maxmemory-samples", "min-replicas-max-lag", "min-replicas-to-write", "min-slaves-max-lag",
        "min-slaves-to-write", "no-appendfsync-on-rewrite", "notify-keyspace-events", "oom-score-adj",
        "oom-score-adj-values", "pidfile", "port", "proc-title-template", "propagation-error-behavior",
        "protected-mode", "proto-max-bulk-len", "rdb-del-sync-files", "rdb-key-save-delay",
        "rdb-save-incremental-fsync", "rdbchecksum", "rdbcompression", "repl-backlog-size", "repl-backlog-ttl",
        "repl-disable-tcp-nodelay", "repl-diskless-load", "repl-diskless-sync", "repl-diskless-sync-delay",
        "repl-diskless-sync-max-replicas", "repl-ping-replica-period", "repl-ping-slave-period", "repl-timeout",
        "replica-announce-ip", "replica-announce-port", "replica-announced", "replica-ignore-disk-write-errors",
        "replica-ignore-maxmemory", "replica-lazy-flush", "replica-priority", "replica-read-only",
        "replica-serve-stale-data", "replicaof", "requirepass", "sanitize-dump-payload", "save", "server_cpulist",
        "set-max-intset-entries", "set-max-listpack-entries", "set-max-listpack-value", "set-proc-title",
        "shutdown-on-sigint", "shutdown-on-sigterm", "shutdown-timeout", "slave-announce-ip", "slave-announce-port",
        "slave-ignore-maxmemory", "slave-lazy-flush", "slave-priority", "slave-read-only", "slave-serve-stale-data",
        "slaveof", "slowlog-log-slower-than", "slowlog-max-len", "socket-mark-id", "stop-writes-on-bgsave-error",
        "stream-node-max-bytes", "stream-node-max-entries", "supervised", "syslog-enabled", "syslog-facility",
        "syslog-ident", "tcp-backlog", "tcp-keepalive", "timeout", "tls-auth-clients", "tls-ca-cert-dir",
        "tls-ca-cert-file", "tls-cert-file", "tls-ciphers", "tls-ciphersuites", "tls-client-cert-file",
        "tls-client-key-file", "tls-client-key-file-pass", "tls-cluster", "tls-dh-params-file", "tls-key-file",
        "tls-key-file-pass", "tls-port", "tls-prefer-server-ciphers", "tls-protocols", "tls-replication",
        "tls-session-cache-size", "tls-session-cache-timeout", "tls-session-caching", "tracking-table-max-keys",
        "unixsocket", "unixsocketperm", "use-exit-on-panic", "watchdog-period", "zset-max-listpack-entries",
        "zset-max-listpack-value", "zset-max-ziplist-entries", "zset-max-ziplist-value",
    ];

    private static string? Set(ServerConfig c, string name, string value)
    {
        if (!c.Registry.TryGet(name, out var p)) throw new InvalidOperationException("unknown " + name);
        return p.Set(value);
    }

    private static string Get(ServerConfig c, string name) => c.Registry.GetValue(name);

    [Test]
    public async Task Knows_every_redis_72_parameter_name()
    {
        var c = new ServerConfig();
        var missing = Redis72Names.Where(n => !c.Registry.TryGet(n, out _)).ToArray();
        await Assert.That(missing).IsEmpty();
        await Assert.That(Redis72Names.Length).IsEqualTo(202);
    }

    [Test]
    public async Task Table_size_and_nativekv_extras()
    {
        var c = new ServerConfig();
        // 183 redis parameters plus io-backend, io-uring-buffers, store-page-size and store-index-spill-factor.
        await Assert.That(c.Registry.All.Count).IsEqualTo(187);
        await Assert.That(c.Registry.Names.Count).IsEqualTo(208); // 202 + those four + server-cpulist + cpu-list
        await Assert.That(Get(c, "store-page-size")).IsEqualTo((8L << 20).ToString());
        await Assert.That(Set(c, "store-page-size", "3mb")).IsEqualTo("argument must be a power of two");
        await Assert.That(Set(c, "store-page-size", "512kb")).IsNotNull(); // below 1 MB
        await Assert.That(Set(c, "store-page-size", "32mb")).IsNull();
        await Assert.That(c.StorePageSize).IsEqualTo(32L << 20);
        await Assert.That(c.Registry.TryGet("store-page-size", out var page) && page.Immutable).IsTrue();
        await Assert.That(Get(c, "io-uring-buffers")).IsEqualTo("256");
        await Assert.That(Set(c, "io-uring-buffers", "100")).IsEqualTo("argument must be a power of two");
        await Assert.That(Get(c, "io-backend")).IsEqualTo("auto");
        await Assert.That(Set(c, "io-backend", "EPOLL")).IsNull();
        await Assert.That(c.IoBackend).IsEqualTo("epoll");
        await Assert.That(Set(c, "io-backend", "kqueue")).IsEqualTo("argument(s) must be one of the following: auto, io_uring, epoll");
        await Assert.That(c.Registry.TryGet("io-backend", out var p) && p.Immutable).IsTrue();
        await Assert.That(Get(c, "store-index-spill-factor")).IsEqualTo("16");
        await Assert.That(Set(c, "store-index-spill-factor", "0")).IsNull(); // live: the index only follows the keys
        await Assert.That(c.StoreIndexSpillFactor).IsEqualTo(0);
        await Assert.That(Set(c, "store-index-spill-factor", "-1")).IsNotNull();
    }

    [Test]
    public async Task Lookup_is_case_insensitive_and_aliases_share_a_value()
    {
        var c = new ServerConfig();
        await Assert.That(c.Registry.TryGet("MAXCLIENTS", out var p)).IsTrue();
        await Assert.That(p.Name).IsEqualTo("maxclients");
        await Assert.That(Set(c, "hash-max-ziplist-entries", "100")).IsNull();
        await Assert.That(Get(c, "hash-max-listpack-entries")).IsEqualTo("100");
        await Assert.That(Set(c, "slave-read-only", "no")).IsNull();
        await Assert.That(Get(c, "replica-read-only")).IsEqualTo("no");
        await Assert.That(Set(c, "lua-time-limit", "100")).IsNull();
        await Assert.That(Get(c, "busy-reply-threshold")).IsEqualTo("100");
        await Assert.That(c.BusyReplyThreshold).IsEqualTo(100L);
        await Assert.That(c.Registry.TryGet("slaveof", out var r) && r.Name == "replicaof").IsTrue();
        await Assert.That(c.Registry.TryGet("cpu-list", out var cpu) && cpu.Name == "server_cpulist").IsTrue();
        await Assert.That(c.Registry.TryGet("server-cpulist", out _)).IsTrue();
    }

    [Test]
    public async Task Defaults_match_redis()
    {
        var c = new ServerConfig();
        await Assert.That(Get(c, "maxclients")).IsEqualTo("10000");
        await Assert.That(Get(c, "hash-max-listpack-entries")).IsEqualTo("512");
        await Assert.That(Get(c, "hash-max-listpack-value")).IsEqualTo("64");
        await Assert.That(Get(c, "list-max-listpack-size")).IsEqualTo("-2");
        await Assert.That(Get(c, "maxmemory")).IsEqualTo("0");
        await Assert.That(Get(c, "maxmemory-policy")).IsEqualTo("noeviction");
        await Assert.That(Get(c, "appendonly")).IsEqualTo("no");
        await Assert.That(Get(c, "appendfsync")).IsEqualTo("everysec");
        await Assert.That(Get(c, "aof-load-truncated")).IsEqualTo("yes");
        await Assert.That(Get(c, "save")).IsEqualTo("3600 1 300 100 60 10000");
        await Assert.That(Get(c, "dbfilename")).IsEqualTo("dump.rdb");
        await Assert.That(Get(c, "appendfilename")).IsEqualTo("appendonly.aof");
        await Assert.That(Get(c, "appenddirname")).IsEqualTo("appendonlydir");
        await Assert.That(Get(c, "client-output-buffer-limit")).IsEqualTo("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        await Assert.That(Get(c, "oom-score-adj-values")).IsEqualTo("0 200 800");
        await Assert.That(Get(c, "latency-tracking-info-percentiles")).IsEqualTo("50 99 99.9");
        await Assert.That(Get(c, "notify-keyspace-events")).IsEqualTo("");
        await Assert.That(Get(c, "proc-title-template")).IsEqualTo("{title} {listen-addr} {server-mode}");
        await Assert.That(Get(c, "unixsocketperm")).IsEqualTo("0");
        await Assert.That(Get(c, "syslog-facility")).IsEqualTo("local0");
        await Assert.That(Get(c, "tls-auth-clients")).IsEqualTo("yes");
        await Assert.That(Get(c, "shutdown-on-sigterm")).IsEqualTo("default");
        await Assert.That(Get(c, "active-defrag-ignore-bytes")).IsEqualTo("104857600");
        await Assert.That(Get(c, "client-query-buffer-limit")).IsEqualTo("1073741824");
        await Assert.That(Get(c, "proto-max-bulk-len")).IsEqualTo("536870912");
        await Assert.That(Get(c, "busy-reply-threshold")).IsEqualTo("5000");
        await Assert.That(Get(c, "slowlog-log-slower-than")).IsEqualTo("10000");
        await Assert.That(Get(c, "repl-backlog-size")).IsEqualTo("1048576");
        await Assert.That(Get(c, "maxmemory-clients")).IsEqualTo("0");
        await Assert.That(Get(c, "requirepass")).IsEqualTo("");
        await Assert.That(Get(c, "replicaof")).IsEqualTo("");
    }

    [Test]
    public async Task Numeric_validation_texts()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "maxclients", "abc")).IsEqualTo("argument couldn't be parsed into an integer");
        await Assert.That(Set(c, "maxclients", "-1")).IsEqualTo("argument must be between 1 and 4294967295 inclusive");
        await Assert.That(Set(c, "maxclients", "4294967296")).IsEqualTo("argument must be between 1 and 4294967295 inclusive");
        await Assert.That(Set(c, "maxclients", "4294967295")).IsNull();
        await Assert.That(Get(c, "maxclients")).IsEqualTo("4294967295");
        await Assert.That(c.MaxClients).IsEqualTo(int.MaxValue);
        await Assert.That(Set(c, "hash-max-listpack-entries", "-1")).IsEqualTo("argument must be between 0 and 9223372036854775807 inclusive");
        await Assert.That(Set(c, "port", "70000")).IsEqualTo("argument must be between 0 and 65535 inclusive");
        await Assert.That(Set(c, "active-expire-effort", "11")).IsEqualTo("argument must be between 1 and 10 inclusive");
        await Assert.That(Set(c, "slowlog-log-slower-than", "-2")).IsEqualTo("argument must be between -1 and 9223372036854775807 inclusive");
        await Assert.That(Set(c, "maxmemory", "1x")).IsEqualTo("argument must be a memory value");
        await Assert.That(Set(c, "maxmemory", "-1")).IsEqualTo("argument must be a memory value");
        await Assert.That(Set(c, "proto-max-bulk-len", "1000")).IsEqualTo("argument must be between 1048576 and 9223372036854775807 inclusive");
        await Assert.That(Set(c, "unixsocketperm", "778")).IsEqualTo("argument couldn't be parsed as an octal number");
        await Assert.That(Set(c, "unixsocketperm", "1000")).IsEqualTo("argument must be between 0 and 777 inclusive");
        await Assert.That(Set(c, "unixsocketperm", "755")).IsNull();
        await Assert.That(Get(c, "unixsocketperm")).IsEqualTo("755");
        await Assert.That(Set(c, "maxmemory-clients", "10%")).IsNull();
        await Assert.That(Get(c, "maxmemory-clients")).IsEqualTo("10%");
        await Assert.That(Set(c, "maxmemory-clients", "200%")).IsEqualTo("percentage argument must be less or equal to 100");
        await Assert.That(Set(c, "maxmemory-clients", "-5")).IsEqualTo("argument must be a memory or percent value");
        await Assert.That(Set(c, "maxmemory-clients", "1gb")).IsNull();
        await Assert.That(Get(c, "maxmemory-clients")).IsEqualTo("1073741824");
    }

    [Test]
    public async Task Memory_parameters_bind_to_server_config()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "maxmemory", "1GB")).IsNull();
        await Assert.That(Get(c, "maxmemory")).IsEqualTo("1073741824");
        await Assert.That(c.Maxmemory).IsEqualTo(1073741824L);
        await Assert.That(Set(c, "maxmemory", "18446744073709551615")).IsNull();
        await Assert.That(Get(c, "maxmemory")).IsEqualTo("18446744073709551615");
        await Assert.That(c.Maxmemory).IsEqualTo(long.MaxValue);
        await Assert.That(Set(c, "maxmemory", "")).IsNull(); // memtoull("") is 0
        await Assert.That(c.Maxmemory).IsEqualTo(0L);
        await Assert.That(Set(c, "client-query-buffer-limit", "2mb")).IsNull();
        await Assert.That(c.ClientQueryBufferLimit).IsEqualTo(2L * 1024 * 1024);
    }

    [Test]
    public async Task Hz_is_clamped()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "hz", "1000")).IsNull();
        await Assert.That(Get(c, "hz")).IsEqualTo("500");
        await Assert.That(c.Hz).IsEqualTo(500);
        await Assert.That(Set(c, "hz", "0")).IsNull();
        await Assert.That(Get(c, "hz")).IsEqualTo("1");
        await Assert.That(Set(c, "hz", "-1")).IsEqualTo("argument must be between 0 and 2147483647 inclusive");
    }

    [Test]
    public async Task Bool_and_enum_parameters()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "appendonly", "maybe")).IsEqualTo("argument must be 'yes' or 'no'");
        await Assert.That(Set(c, "appendonly", "YES")).IsNull();
        await Assert.That(c.AppendOnly).IsTrue();
        await Assert.That(Get(c, "appendonly")).IsEqualTo("yes");
        await Assert.That(Set(c, "aof-load-truncated", "no")).IsNull();
        await Assert.That(c.AofLoadTruncated).IsFalse();
        await Assert.That(Set(c, "appendfsync", "ALWAYS")).IsNull();
        await Assert.That(c.AppendFsync).IsEqualTo("always");
        await Assert.That(Get(c, "appendfsync")).IsEqualTo("always");
        await Assert.That(Set(c, "appendfsync", "sometimes")).IsEqualTo("argument(s) must be one of the following: everysec, always, no");
        await Assert.That(Set(c, "loglevel", "foo")).IsEqualTo("argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
        await Assert.That(Set(c, "maxmemory-policy", "allkeys-lru")).IsNull();
        await Assert.That(c.MaxmemoryPolicy).IsEqualTo("allkeys-lru");
        await Assert.That(Set(c, "oom-score-adj", "relative")).IsNull();
        await Assert.That(Get(c, "oom-score-adj")).IsEqualTo("yes"); // same value, first name wins as in Redis
        await Assert.That(Set(c, "shutdown-on-sigint", "save nosave")).IsEqualTo("shutdown options SAVE and NOSAVE can't be used simultaneously");
        await Assert.That(Set(c, "shutdown-on-sigint", "nosave now")).IsNull();
        await Assert.That(Get(c, "shutdown-on-sigint")).IsEqualTo("nosave now");
        await Assert.That(Set(c, "shutdown-on-sigint", "NOW NOSAVE FORCE")).IsNull();
        await Assert.That(Get(c, "shutdown-on-sigint")).IsEqualTo("nosave now force");
        await Assert.That(Set(c, "activedefrag", "yes")).StartsWith("Active defragmentation cannot be enabled");
        await Assert.That(Set(c, "activedefrag", "no")).IsNull();
    }

    [Test]
    public async Task String_parameters_validate_like_redis()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "dbfilename", "a/b.rdb")).IsEqualTo("dbfilename can't be a path, just a filename");
        await Assert.That(Set(c, "dbfilename", "x.rdb")).IsNull();
        await Assert.That(c.DbFilename).IsEqualTo("x.rdb");
        await Assert.That(Set(c, "appendfilename", "")).IsEqualTo("appendfilename can't be empty");
        await Assert.That(Set(c, "appendfilename", "x\\y")).IsEqualTo("appendfilename can't be a path, just a filename");
        await Assert.That(Set(c, "appenddirname", "a/b")).IsEqualTo("appenddirname can't be a path, just a dirname");
        await Assert.That(Set(c, "proc-title-template", "{foo}")).IsEqualTo("template format is invalid or contains unknown variables");
        await Assert.That(Set(c, "proc-title-template", "{title}")).IsEqualTo("template format is invalid or contains unknown variables");
        await Assert.That(Set(c, "proc-title-template", "{title} {port}")).IsNull();
        await Assert.That(Set(c, "cluster-announce-hostname", "a_b")).IsEqualTo("Hostnames may only contain alphanumeric characters, hyphens or dots");
        await Assert.That(Set(c, "cluster-announce-hostname", "a.b-c")).IsNull();
        await Assert.That(Set(c, "cluster-announce-human-nodename", "a!b")).IsEqualTo("Announced human node name contained invalid character");
        await Assert.That(Set(c, "requirepass", "secret")).IsNull();
        await Assert.That(c.RequirePass).IsEqualTo("secret");
    }

    [Test]
    public async Task Save_rules()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "save", "1 2 3")).IsEqualTo("Invalid save parameters");
        await Assert.That(Set(c, "save", "10  20")).IsEqualTo("Invalid save parameters");
        await Assert.That(Set(c, "save", "0 1")).IsEqualTo("Invalid save parameters");
        await Assert.That(Set(c, "save", "1 -1")).IsEqualTo("Invalid save parameters");
        await Assert.That(Set(c, "save", "900 1 300 10")).IsNull();
        await Assert.That(Get(c, "save")).IsEqualTo("900 1 300 10");
        await Assert.That(c.SaveRules).IsEqualTo("900 1 300 10");
        await Assert.That(c.SavePoints).IsEquivalentTo(new (long, int)[] { (900, 1), (300, 10) });
        await Assert.That(Set(c, "save", "")).IsNull();
        await Assert.That(Get(c, "save")).IsEqualTo("");
        await Assert.That(c.SavePoints.Length).IsEqualTo(0);
    }

    [Test]
    public async Task Special_parameters()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "client-output-buffer-limit", "normal 1mb 2mb 3")).IsNull();
        await Assert.That(Get(c, "client-output-buffer-limit")).IsEqualTo("normal 1048576 2097152 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        await Assert.That(c.ClientOutputBufferLimits[0]).IsEqualTo(new ClientOutputBufferLimit(1048576, 2097152, 3));
        await Assert.That(Set(c, "client-output-buffer-limit", "replica 1gb 1gb 0 pubsub 0 0 0")).IsNull();
        await Assert.That(c.ClientOutputBufferLimits[1]).IsEqualTo(new ClientOutputBufferLimit(1L << 30, 1L << 30, 0));
        await Assert.That(Set(c, "client-output-buffer-limit", "master 1mb 2mb 3")).IsEqualTo("Invalid client class specified in buffer limit configuration.");
        await Assert.That(Set(c, "client-output-buffer-limit", "normal 1mb 2mb")).IsEqualTo("Wrong number of arguments in buffer limit configuration.");
        await Assert.That(Set(c, "client-output-buffer-limit", "normal 1mb 2mb -3")).IsEqualTo("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
        await Assert.That(Set(c, "oom-score-adj-values", "1 2")).IsEqualTo("wrong number of arguments");
        await Assert.That(Set(c, "oom-score-adj-values", "1 2 3000")).IsEqualTo("Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
        await Assert.That(Set(c, "oom-score-adj-values", "1 2 3")).IsNull();
        await Assert.That(Get(c, "oom-score-adj-values")).IsEqualTo("1 2 3");
        await Assert.That(Set(c, "notify-keyspace-events", "Kq")).IsEqualTo("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
        await Assert.That(Set(c, "notify-keyspace-events", "KEA")).IsNull();
        await Assert.That(Get(c, "notify-keyspace-events")).IsEqualTo("AKE");
        await Assert.That(c.NotifyKeyspaceEvents).IsEqualTo(KeyspaceEvents.All | KeyspaceEvents.Keyspace | KeyspaceEvents.Keyevent);
        await Assert.That(Set(c, "latency-tracking-info-percentiles", "50 99.99 100")).IsNull();
        await Assert.That(Get(c, "latency-tracking-info-percentiles")).IsEqualTo("50 99.99 100");
        await Assert.That(Set(c, "latency-tracking-info-percentiles", "101")).IsEqualTo("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]");
        await Assert.That(Set(c, "latency-tracking-info-percentiles", "abc")).IsEqualTo("Invalid latency-tracking-info-percentiles parameters");
        await Assert.That(Set(c, "latency-tracking-info-percentiles", "")).IsNull();
        await Assert.That(Get(c, "latency-tracking-info-percentiles")).IsEqualTo("");
        await Assert.That(Set(c, "bind", string.Join(' ', Enumerable.Range(1, 17)))).IsEqualTo("Too many bind addresses specified.");
        await Assert.That(Set(c, "bind", "127.0.0.1 ::1")).IsNull();
        await Assert.That(c.Bind).IsEquivalentTo(new[] { "127.0.0.1", "::1" });
        await Assert.That(Set(c, "replicaof", "localhost")).IsEqualTo("wrong number of arguments");
        await Assert.That(Set(c, "replicaof", "localhost 99999")).IsEqualTo("Invalid master port");
        await Assert.That(Set(c, "replicaof", "localhost 6380")).IsNull();
        await Assert.That(Get(c, "replicaof")).IsEqualTo("localhost 6380");
        await Assert.That(Set(c, "slaveof", "NO ONE")).IsNull();
        await Assert.That(Get(c, "replicaof")).IsEqualTo("");
    }

    [Test]
    public async Task Dir_must_exist_and_reads_back_absolute()
    {
        var c = new ServerConfig();
        var missing = Path.Combine(Path.GetTempPath(), "nativekv-no-such-dir-" + Guid.NewGuid().ToString("N"));
        await Assert.That(Set(c, "dir", missing)).IsEqualTo("No such file or directory");
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        try
        {
            await Assert.That(Set(c, "dir", dir)).IsNull();
            await Assert.That(Get(c, "dir")).IsEqualTo(Path.GetFullPath(dir));
            await Assert.That(c.Dir).IsEqualTo(Path.GetFullPath(dir));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Cpu_list_parameter()
    {
        var c = new ServerConfig();
        await Assert.That(Set(c, "cpu-list", "0-3:2")).IsNull();
        await Assert.That(c.CpuList).IsEquivalentTo(new[] { 0, 2 });
        await Assert.That(Get(c, "server_cpulist")).IsEqualTo("0-3:2");
        await Assert.That(Set(c, "server-cpulist", "x")).IsNotNull();
    }

    [Test]
    public async Task Prepare_changes_nothing_until_applied()
    {
        var c = new ServerConfig();
        c.Registry.TryGet("maxclients", out var p);
        await Assert.That(p.Prepare(["50"], out var apply)).IsNull();
        await Assert.That(c.MaxClients).IsEqualTo(10000);
        apply!();
        await Assert.That(c.MaxClients).IsEqualTo(50);
        await Assert.That(p.Prepare(["x"], out apply)).IsNotNull();
        await Assert.That(apply is null).IsTrue();
    }
}
