using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using NativeKv.Server.Network;

namespace NativeKv.Server.Commands;

/// <summary>Storage counters INFO reports in its Stats section (all 0 until storage provides them).</summary>
public readonly record struct StorageCounters(
    long KeyspaceHits, long KeyspaceMisses, long ExpiredKeys, long EvictedKeys, long ExpiredStaleTimesHundred = 0);

/// <summary>
/// Extension points for INFO sections owned by other parts of the server. Storage sets these at
/// start-up; while they are null INFO reports an empty keyspace and an idle, persistence-less server.
/// </summary>
public static class InfoSections
{
    /// <summary>Appends the Keyspace lines, e.g. <c>db0:keys=1,expires=0,avg_ttl=0\r\n</c>.</summary>
    public static Action<ServerContext, StringBuilder>? Keyspace { get; set; }

    /// <summary>Appends the whole Persistence body (every line after <c># Persistence\r\n</c>).</summary>
    public static Action<ServerContext, StringBuilder>? Persistence { get; set; }

    /// <summary>Appends NativeKv's own lines at the end of the Memory section (the store's index and log).</summary>
    public static Action<ServerContext, StringBuilder>? StoreMemory { get; set; }

    /// <summary>Keyspace hits/misses, expired and evicted keys for the Stats section.</summary>
    public static Func<ServerContext, StorageCounters>? Storage { get; set; }
}

/// <summary>
/// Redis's instantaneous metrics (server.c trackInstantaneousMetric): every 100 ms a sample of
/// the per-second rate is taken; the reported value is the mean of the last 16 samples.
/// </summary>
public sealed class InstantaneousMetrics : IDisposable
{
    private const int Samples = 16;
    private const int Metrics = 3; // commands, net input, net output
    private readonly ServerContext _server;
    private readonly long[,] _samples = new long[Metrics, Samples];
    private readonly long[] _lastValue = new long[Metrics];
    private long _lastTimestamp;
    private int _index;
    private readonly Timer _timer;

    public InstantaneousMetrics(ServerContext server)
    {
        _server = server;
        _lastTimestamp = Environment.TickCount64;
        StartupMemory = GC.GetTotalMemory(false);
        _timer = new Timer(static s => ((InstantaneousMetrics)s!).Sample(), this, 100, 100);
    }

    /// <summary>Managed memory in use when the server started (used_memory_startup).</summary>
    public long StartupMemory { get; }

    /// <summary>Highest used_memory seen (used_memory_peak).</summary>
    public long PeakMemory;

    public long OpsPerSecond => Average(0);
    public long InputBytesPerSecond => Average(1);
    public long OutputBytesPerSecond => Average(2);

    private long Average(int metric)
    {
        lock (_samples)
        {
            long sum = 0;
            for (int i = 0; i < Samples; i++) sum += _samples[metric, i];
            return sum / Samples;
        }
    }

    private void Sample()
    {
        long commands = 0, input = 0, output = 0;
        foreach (var r in _server.Reactors)
        {
            commands += Volatile.Read(ref r.Stats.CommandsProcessed);
            input += Volatile.Read(ref r.Stats.NetInputBytes);
            output += Volatile.Read(ref r.Stats.NetOutputBytes);
        }
        long now = Environment.TickCount64;
        lock (_samples)
        {
            long elapsed = Math.Max(1, now - _lastTimestamp);
            Span<long> values = [commands, input, output];
            for (int m = 0; m < Metrics; m++)
            {
                long delta = Math.Max(0, values[m] - _lastValue[m]);
                _samples[m, _index] = delta * 1000 / elapsed;
                _lastValue[m] = values[m];
            }
            _index = (_index + 1) % Samples;
            _lastTimestamp = now;
        }
        long used = GC.GetTotalMemory(false);
        if (used > Interlocked.Read(ref PeakMemory)) Interlocked.Exchange(ref PeakMemory, used);
    }

    public void Dispose() => _timer.Dispose();
}

/// <summary>INFO [section ...] with Redis 7.2's sections, field names and order (genRedisInfoString).</summary>
internal static class InfoCommand
{
    private static readonly string[] DefaultSections =
        ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "module_list", "errorstats", "cluster", "keyspace"];

    private static readonly string ReplId = RandomHex.Id40();
    private static string? _uname;

    [RespCommand("INFO", Arity = -1, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server,
        Summary = "Returns information and statistics about the server.", Since = "1.0.0", Complexity = "O(1)")]
    public static void Info(ref CommandContext ctx)
    {
        var sections = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool all = false, everything = false;
        if (ctx.Count == 1)
        {
            sections.UnionWith(DefaultSections);
        }
        for (int i = 1; i < ctx.Count; i++)
        {
            var name = ctx.ArgString(i);
            if (name.Equals("default", StringComparison.OrdinalIgnoreCase)) sections.UnionWith(DefaultSections);
            else if (name.Equals("all", StringComparison.OrdinalIgnoreCase)) all = true;
            else if (name.Equals("everything", StringComparison.OrdinalIgnoreCase)) all = everything = true;
            else sections.Add(name);
        }
        var text = Generate(ctx.Server, sections, all, everything);
        ctx.Reply.Verbatim(text);
    }

    /// <summary>Builds the INFO text for the requested sections.</summary>
    public static string Generate(ServerContext server, ISet<string> sections, bool all, bool everything)
    {
        if (everything) all = true;
        var sb = new StringBuilder(4096);
        int count = 0;
        bool Want(string name) => all || sections.Contains(name);
        void Header(string title)
        {
            if (count++ > 0) sb.Append("\r\n");
            sb.Append("# ").Append(title).Append("\r\n");
        }

        var totals = Totals.Collect(server);

        if (Want("server")) { Header("Server"); ServerSection(server, sb); }
        if (Want("clients")) { Header("Clients"); ClientsSection(server, sb); }
        if (Want("memory")) { Header("Memory"); MemorySection(server, sb); }
        if (Want("persistence"))
        {
            Header("Persistence");
            if (InfoSections.Persistence is { } p) p(server, sb);
            else PersistenceSection(server, sb);
        }
        if (Want("stats")) { Header("Stats"); StatsSection(server, totals, sb); }
        if (Want("replication")) { Header("Replication"); ReplicationSection(sb); }
        if (Want("cpu")) { Header("CPU"); CpuSection(sb); }
        if (all || sections.Contains("module_list") || sections.Contains("modules")) Header("Modules");
        if (Want("commandstats")) { Header("Commandstats"); CommandStatsSection(totals, sb); }
        if (Want("errorstats")) { Header("Errorstats"); ErrorStatsSection(totals, sb); }
        if (Want("latencystats")) Header("Latencystats");
        if (Want("cluster")) { Header("Cluster"); sb.Append("cluster_enabled:0\r\n"); }
        if (Want("keyspace"))
        {
            Header("Keyspace");
            InfoSections.Keyspace?.Invoke(server, sb);
        }
        return sb.ToString();
    }

    // ------------------------------------------------------------------ sections

    private static void Line(StringBuilder sb, string name, long value) => sb.Append(name).Append(':').Append(value).Append("\r\n");
    private static void Line(StringBuilder sb, string name, string value) => sb.Append(name).Append(':').Append(value).Append("\r\n");
    private static void Line(StringBuilder sb, string name, double value, string suffix = "") =>
        sb.Append(name).Append(':').Append(value.ToString("F2", CultureInfo.InvariantCulture)).Append(suffix).Append("\r\n");

    private static void ServerSection(ServerContext server, StringBuilder sb)
    {
        var config = server.Config;
        long nowUs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        long uptime = server.UptimeSeconds;
        int port = server.Listeners.Length > 0 ? server.Listeners[0].Port : config.Port;
        Line(sb, "redis_version", ServerContext.Version);
        Line(sb, "redis_git_sha1", "00000000");
        Line(sb, "redis_git_dirty", 0);
        Line(sb, "redis_build_id", BuildId());
        Line(sb, "redis_mode", "standalone");
        Line(sb, "os", Uname());
        Line(sb, "arch_bits", IntPtr.Size * 8);
        Line(sb, "monotonic_clock", "POSIX clock_gettime");
        Line(sb, "multiplexing_api", server.IoBackend);
        Line(sb, "atomicvar_api", "c11-builtin");
        Line(sb, "gcc_version", "0.0.0");
        Line(sb, "process_id", Environment.ProcessId);
        Line(sb, "process_supervised", "no");
        Line(sb, "run_id", server.RunId);
        Line(sb, "tcp_port", port);
        Line(sb, "server_time_usec", nowUs);
        Line(sb, "uptime_in_seconds", uptime);
        Line(sb, "uptime_in_days", uptime / 86400);
        Line(sb, "hz", config.Hz);
        Line(sb, "configured_hz", config.Hz);
        Line(sb, "lru_clock", nowUs / 1_000_000 & ((1 << 24) - 1));
        Line(sb, "executable", Environment.ProcessPath ?? "");
        Line(sb, "config_file", config.ConfigFile ?? "");
        Line(sb, "io_threads_active", 0);
        sb.Append("listener0:name=tcp");
        foreach (var b in config.Bind) sb.Append(",bind=").Append(b);
        sb.Append(",port=").Append(port).Append("\r\n");
    }

    private static void ClientsSection(ServerContext server, StringBuilder sb)
    {
        // Output: the largest omem of the last 8 seconds (sampled when output grows past a limit's
        // mark and by the cron), as Redis's clientsCronTrackExpansiveClients; the live clients too.
        long maxIn = 0, maxOut = RecentOutputPeaks.Max(Environment.TickCount64 / 1000);
        var clients = server.Clients.Snapshot();
        foreach (var c in clients)
        {
            maxIn = Math.Max(maxIn, c.QueryBufferLength);
            maxOut = Math.Max(maxOut, OutputLimits.OutputMemory(c));
        }
        Line(sb, "connected_clients", clients.Length);
        Line(sb, "cluster_connections", 0);
        Line(sb, "maxclients", server.Config.MaxClients);
        Line(sb, "client_recent_max_input_buffer", maxIn);
        Line(sb, "client_recent_max_output_buffer", maxOut);
        var blocking = server.Blocking;
        // Clients a CLIENT PAUSE holds count too (blockClient(c, BLOCKED_POSTPONE) counts every kind).
        Line(sb, "blocked_clients", blocking.BlockedClients + server.Pause.PostponedCount);
        Line(sb, "tracking_clients", server.Tracking.Clients);
        Line(sb, "clients_in_timeout_table", blocking.WithTimeout);
        Line(sb, "total_blocking_keys", blocking.Keys);
        Line(sb, "total_blocking_keys_on_nokey", 0); // only XREADGROUP waits for a key's deletion (no streams yet)
    }

    private static void MemorySection(ServerContext server, StringBuilder sb)
    {
        long used = GC.GetTotalMemory(false);
        long rss = ReadRss();
        var metrics = server.Metrics;
        long peak = Math.Max(used, Interlocked.Read(ref metrics.PeakMemory));
        if (peak > metrics.PeakMemory) Interlocked.Exchange(ref metrics.PeakMemory, peak);
        long startup = Math.Min(metrics.StartupMemory, used);
        long replicasMem = 0, normalMem = 0; // Redis: replicas apart, every other class counts as normal
        foreach (var c in server.Clients.Snapshot())
        {
            if (c.Limits.Class == OutputClass.Replica) replicasMem += OutputLimits.Memory(c);
            else normalMem += OutputLimits.Memory(c);
        }
        long clientsMem = replicasMem + normalMem;
        long overhead = Math.Min(used, startup + clientsMem);
        long dataset = used - overhead;
        long netUsed = used - startup;
        double datasetPerc = netUsed > 0 ? dataset * 100.0 / netUsed : 0;
        var gc = GC.GetGCMemoryInfo();
        long committed = gc.TotalCommittedBytes;
        long system = ReadTotalSystemMemory();
        long maxmemory = ConfigLong(server, "maxmemory");
        string policy = ConfigString(server, "maxmemory-policy") ?? "noeviction";

        Line(sb, "used_memory", used);
        Line(sb, "used_memory_human", Human(used));
        Line(sb, "used_memory_rss", rss);
        Line(sb, "used_memory_rss_human", Human(rss));
        Line(sb, "used_memory_peak", peak);
        Line(sb, "used_memory_peak_human", Human(peak));
        Line(sb, "used_memory_peak_perc", peak > 0 ? used * 100.0 / peak : 0, "%");
        Line(sb, "used_memory_overhead", overhead);
        Line(sb, "used_memory_startup", startup);
        Line(sb, "used_memory_dataset", dataset);
        Line(sb, "used_memory_dataset_perc", datasetPerc, "%");
        Line(sb, "allocator_allocated", used);
        Line(sb, "allocator_active", Math.Max(used, committed));
        Line(sb, "allocator_resident", rss);
        Line(sb, "total_system_memory", system);
        Line(sb, "total_system_memory_human", Human(system));
        Line(sb, "used_memory_lua", 0);
        Line(sb, "used_memory_vm_eval", 0);
        Line(sb, "used_memory_lua_human", "0B");
        Line(sb, "used_memory_scripts_eval", 0);
        Line(sb, "number_of_cached_scripts", 0);
        Line(sb, "number_of_functions", 0);
        Line(sb, "number_of_libraries", 0);
        Line(sb, "used_memory_vm_functions", 0);
        Line(sb, "used_memory_vm_total", 0);
        Line(sb, "used_memory_vm_total_human", "0B");
        Line(sb, "used_memory_functions", 0);
        Line(sb, "used_memory_scripts", 0);
        Line(sb, "used_memory_scripts_human", "0B");
        Line(sb, "maxmemory", maxmemory);
        Line(sb, "maxmemory_human", Human(maxmemory));
        Line(sb, "maxmemory_policy", policy);
        long active = Math.Max(used, committed);
        Line(sb, "allocator_frag_ratio", used > 0 ? (double)active / used : 0);
        Line(sb, "allocator_frag_bytes", active - used);
        Line(sb, "allocator_rss_ratio", active > 0 ? (double)rss / active : 0);
        Line(sb, "allocator_rss_bytes", rss - active);
        Line(sb, "rss_overhead_ratio", 1.0);
        Line(sb, "rss_overhead_bytes", 0);
        Line(sb, "mem_fragmentation_ratio", used > 0 ? (double)rss / used : 0);
        Line(sb, "mem_fragmentation_bytes", rss - used);
        Line(sb, "mem_not_counted_for_evict", 0);
        Line(sb, "mem_replication_backlog", 0);
        Line(sb, "mem_total_replication_buffers", 0);
        Line(sb, "mem_clients_slaves", replicasMem);
        Line(sb, "mem_clients_normal", normalMem);
        Line(sb, "mem_cluster_links", 0);
        Line(sb, "mem_aof_buffer", StoreInfo.AofMemory(server));
        StoreInfo.Breakdown(server, sb, rss);
        Line(sb, "mem_allocator", "libc");
        Line(sb, "active_defrag_running", 0);
        Line(sb, "lazyfree_pending_objects", 0);
        Line(sb, "lazyfreed_objects", 0);
        InfoSections.StoreMemory?.Invoke(server, sb);
    }

    private static void PersistenceSection(ServerContext server, StringBuilder sb)
    {
        Line(sb, "loading", 0);
        Line(sb, "async_loading", 0);
        Line(sb, "current_cow_peak", 0);
        Line(sb, "current_cow_size", 0);
        Line(sb, "current_cow_size_age", 0);
        Line(sb, "current_fork_perc", 0.0);
        Line(sb, "current_save_keys_processed", 0);
        Line(sb, "current_save_keys_total", 0);
        Line(sb, "rdb_changes_since_last_save", 0);
        Line(sb, "rdb_bgsave_in_progress", 0);
        Line(sb, "rdb_last_save_time", server.StartUnixSeconds);
        Line(sb, "rdb_last_bgsave_status", "ok");
        Line(sb, "rdb_last_bgsave_time_sec", -1);
        Line(sb, "rdb_current_bgsave_time_sec", -1);
        Line(sb, "rdb_saves", 0);
        Line(sb, "rdb_last_cow_size", 0);
        Line(sb, "rdb_last_load_keys_expired", 0);
        Line(sb, "rdb_last_load_keys_loaded", 0);
        Line(sb, "aof_enabled", 0);
        Line(sb, "aof_rewrite_in_progress", 0);
        Line(sb, "aof_rewrite_scheduled", 0);
        Line(sb, "aof_last_rewrite_time_sec", -1);
        Line(sb, "aof_current_rewrite_time_sec", -1);
        Line(sb, "aof_last_bgrewrite_status", "ok");
        Line(sb, "aof_rewrites", 0);
        Line(sb, "aof_rewrites_consecutive_failures", 0);
        Line(sb, "aof_last_write_status", "ok");
        Line(sb, "aof_last_cow_size", 0);
        Line(sb, "module_fork_in_progress", 0);
        Line(sb, "module_fork_last_cow_size", 0);
    }

    private static void StatsSection(ServerContext server, Totals t, StringBuilder sb)
    {
        var storage = InfoSections.Storage?.Invoke(server) ?? default;
        var m = server.Metrics;
        Line(sb, "total_connections_received", Interlocked.Read(ref server.Stats.ConnectionsReceived));
        Line(sb, "total_commands_processed", t.Commands);
        Line(sb, "instantaneous_ops_per_sec", m.OpsPerSecond);
        Line(sb, "total_net_input_bytes", t.NetInput);
        Line(sb, "total_net_output_bytes", t.NetOutput);
        Line(sb, "total_net_repl_input_bytes", 0);
        Line(sb, "total_net_repl_output_bytes", 0);
        Line(sb, "instantaneous_input_kbps", m.InputBytesPerSecond / 1024.0);
        Line(sb, "instantaneous_output_kbps", m.OutputBytesPerSecond / 1024.0);
        Line(sb, "instantaneous_input_repl_kbps", 0.0);
        Line(sb, "instantaneous_output_repl_kbps", 0.0);
        Line(sb, "rejected_connections", Interlocked.Read(ref server.Stats.RejectedConnections));
        Line(sb, "sync_full", 0);
        Line(sb, "sync_partial_ok", 0);
        Line(sb, "sync_partial_err", 0);
        Line(sb, "expired_keys", storage.ExpiredKeys);
        Line(sb, "expired_stale_perc", storage.ExpiredStaleTimesHundred / 100.0);
        Line(sb, "expired_time_cap_reached_count", 0);
        Line(sb, "expire_cycle_cpu_milliseconds", 0);
        Line(sb, "evicted_keys", storage.EvictedKeys);
        Line(sb, "evicted_clients", 0);
        Line(sb, "total_eviction_exceeded_time", 0);
        Line(sb, "current_eviction_exceeded_time", 0);
        Line(sb, "keyspace_hits", storage.KeyspaceHits);
        Line(sb, "keyspace_misses", storage.KeyspaceMisses);
        Line(sb, "pubsub_channels", server.PubSub.ChannelCount);
        Line(sb, "pubsub_patterns", server.PubSub.PatternCount);
        Line(sb, "pubsubshard_channels", server.PubSub.ShardCount);
        Line(sb, "latest_fork_usec", 0);
        Line(sb, "total_forks", 0);
        Line(sb, "migrate_cached_sockets", 0);
        Line(sb, "slave_expires_tracked_keys", 0);
        Line(sb, "active_defrag_hits", 0);
        Line(sb, "active_defrag_misses", 0);
        Line(sb, "active_defrag_key_hits", 0);
        Line(sb, "active_defrag_key_misses", 0);
        Line(sb, "total_active_defrag_time", 0);
        Line(sb, "current_active_defrag_time", 0);
        Line(sb, "tracking_total_keys", server.Tracking.TotalKeys);
        Line(sb, "tracking_total_items", server.Tracking.TotalItems);
        Line(sb, "tracking_total_prefixes", server.Tracking.TotalPrefixes);
        Line(sb, "unexpected_error_replies", t.UnexpectedErrors);
        Line(sb, "total_error_replies", t.ErrorReplies);
        Line(sb, "dump_payload_sanitizations", 0);
        Line(sb, "total_reads_processed", t.Reads);
        Line(sb, "total_writes_processed", t.Writes);
        Line(sb, "io_threaded_reads_processed", 0);
        Line(sb, "io_threaded_writes_processed", 0);
        Line(sb, "client_output_buffer_limit_disconnections", t.OutputLimitDisconnections); // Redis 7.4's INFO stats
        Line(sb, "reply_buffer_shrinks", 0);
        Line(sb, "reply_buffer_expands", 0);
        Line(sb, "eventloop_cycles", 0);
        Line(sb, "eventloop_duration_sum", 0);
        Line(sb, "eventloop_duration_cmd_sum", 0);
        Line(sb, "instantaneous_eventloop_cycles_per_sec", 0);
        Line(sb, "instantaneous_eventloop_duration_usec", 0);
        Line(sb, "acl_access_denied_auth", 0);
        Line(sb, "acl_access_denied_cmd", 0);
        Line(sb, "acl_access_denied_key", 0);
        Line(sb, "acl_access_denied_channel", 0);
    }

    private static void ReplicationSection(StringBuilder sb)
    {
        Line(sb, "role", "master");
        Line(sb, "connected_slaves", 0);
        Line(sb, "master_failover_state", "no-failover");
        Line(sb, "master_replid", ReplId);
        Line(sb, "master_replid2", "0000000000000000000000000000000000000000");
        Line(sb, "master_repl_offset", 0);
        Line(sb, "second_repl_offset", -1);
        Line(sb, "repl_backlog_active", 0);
        Line(sb, "repl_backlog_size", 1048576);
        Line(sb, "repl_backlog_first_byte_offset", 0);
        Line(sb, "repl_backlog_histlen", 0);
    }

    private static void CpuSection(StringBuilder sb)
    {
        var self = ReadCpuTicks("/proc/self/stat");
        var thread = ReadCpuTicks("/proc/thread-self/stat");
        sb.Append("used_cpu_sys:").Append(Seconds(self.Sys)).Append("\r\n");
        sb.Append("used_cpu_user:").Append(Seconds(self.User)).Append("\r\n");
        sb.Append("used_cpu_sys_children:").Append(Seconds(self.ChildSys)).Append("\r\n");
        sb.Append("used_cpu_user_children:").Append(Seconds(self.ChildUser)).Append("\r\n");
        // The calling reactor plays the part of Redis's main thread.
        sb.Append("used_cpu_sys_main_thread:").Append(Seconds(thread.Sys)).Append("\r\n");
        sb.Append("used_cpu_user_main_thread:").Append(Seconds(thread.User)).Append("\r\n");
    }

    private static void CommandStatsSection(Totals t, StringBuilder sb)
    {
        foreach (var spec in IntrospectionCommands.InRedisOrder())
        {
            int i = spec.Index;
            long calls = t.Calls[i], failed = t.Failed[i], rejected = t.Rejected[i];
            if (calls == 0 && failed == 0 && rejected == 0) continue;
            long usec = t.Usec[i];
            double perCall = calls == 0 ? 0 : (float)usec / calls;
            sb.Append("cmdstat_").Append(SafeInfoString(spec.Name))
              .Append(":calls=").Append(calls)
              .Append(",usec=").Append(usec)
              .Append(",usec_per_call=").Append(perCall.ToString("F2", CultureInfo.InvariantCulture))
              .Append(",rejected_calls=").Append(rejected)
              .Append(",failed_calls=").Append(failed)
              .Append("\r\n");
        }
    }

    private static void ErrorStatsSection(Totals t, StringBuilder sb)
    {
        foreach (var (code, n) in t.Errors)
        {
            sb.Append("errorstat_").Append(SafeInfoString(code)).Append(":count=").Append(n).Append("\r\n");
        }
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Per-reactor counters summed (plain reads of another thread's counters, as INFO tolerates).</summary>
    private sealed class Totals
    {
        public long Commands, NetInput, NetOutput, ErrorReplies, UnexpectedErrors, Reads, Writes, OutputLimitDisconnections;
        public long[] Calls = [], Usec = [], Rejected = [], Failed = [];
        public List<KeyValuePair<string, long>> Errors = [];

        public static Totals Collect(ServerContext server)
        {
            int n = CommandTable.Count;
            var t = new Totals { Calls = new long[n], Usec = new long[n], Rejected = new long[n], Failed = new long[n] };
            var errors = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var r in server.Reactors)
            {
                var s = r.Stats;
                t.Commands += s.CommandsProcessed;
                t.NetInput += s.NetInputBytes;
                t.NetOutput += s.NetOutputBytes;
                t.ErrorReplies += s.TotalErrorReplies;
                t.UnexpectedErrors += s.UnexpectedErrorReplies;
                t.Reads += s.ReadsProcessed;
                t.Writes += s.WritesProcessed;
                t.OutputLimitDisconnections += s.OutputLimitDisconnections;
                for (int i = 0; i < n; i++)
                {
                    t.Calls[i] += s.Calls[i];
                    t.Usec[i] += s.Microseconds[i];
                    t.Rejected[i] += s.RejectedCalls[i];
                    t.Failed[i] += s.FailedCalls[i];
                }
                foreach (var (code, count) in s.ErrorsSnapshot())
                {
                    errors.TryGetValue(code, out long v);
                    errors[code] = v + count;
                }
            }
            t.Errors = errors.ToList();
            return t;
        }
    }

    /// <summary>Redis's getSafeInfoString: '#', ':', CR and LF become '_'.</summary>
    private static string SafeInfoString(string s) =>
        s.AsSpan().IndexOfAny("#:\r\n") < 0 ? s : s.Replace('#', '_').Replace(':', '_').Replace('\r', '_').Replace('\n', '_');

    /// <summary>Redis's bytesToHuman.</summary>
    internal static string Human(long n)
    {
        var inv = CultureInfo.InvariantCulture;
        double d = n;
        if (n < 1024) return n.ToString(inv) + "B";
        if (n < 1024L * 1024) return (d / 1024).ToString("F2", inv) + "K";
        if (n < 1024L * 1024 * 1024) return (d / (1024 * 1024)).ToString("F2", inv) + "M";
        if (n < 1024L * 1024 * 1024 * 1024) return (d / (1024L * 1024 * 1024)).ToString("F2", inv) + "G";
        if (n < 1024L * 1024 * 1024 * 1024 * 1024) return (d / (1024L * 1024 * 1024 * 1024)).ToString("F2", inv) + "T";
        return (d / (1024L * 1024 * 1024 * 1024 * 1024)).ToString("F2", inv) + "P";
    }

    private static string BuildId()
    {
        ulong h = 14695981039346656037UL;
        foreach (char ch in "nativekv-" + ServerContext.NativeKvVersion) { h ^= ch; h *= 1099511628211UL; }
        return h.ToString("x", CultureInfo.InvariantCulture);
    }

    private static string Uname()
    {
        if (_uname is not null) return _uname;
        string sys = ReadTrimmed("/proc/sys/kernel/ostype") ?? "Linux";
        string release = ReadTrimmed("/proc/sys/kernel/osrelease") ?? "";
        string machine = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            Architecture.Arm => "armv7l",
            var a => a.ToString().ToLowerInvariant(),
        };
        return _uname = $"{sys} {release} {machine}";
    }

    private static string? ReadTrimmed(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static long ReadRss()
    {
        var statm = ReadTrimmed("/proc/self/statm");
        if (statm is null) return Environment.WorkingSet;
        var parts = statm.Split(' ');
        return parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages)
            ? pages * Environment.SystemPageSize
            : Environment.WorkingSet;
    }

    private static long ReadTotalSystemMemory()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
                var digits = line.AsSpan(9).Trim();
                int space = digits.IndexOf(' ');
                if (space > 0) digits = digits[..space];
                return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long kb) ? kb * 1024 : 0;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    private readonly record struct CpuTicks(long User, long Sys, long ChildUser, long ChildSys);

    /// <summary>utime, stime, cutime, cstime (fields 14-17) of a /proc stat file, in clock ticks.</summary>
    private static CpuTicks ReadCpuTicks(string path)
    {
        var text = ReadTrimmed(path);
        if (text is null) return default;
        int close = text.LastIndexOf(')');
        if (close < 0) return default;
        var fields = text[(close + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime is field 14.
        if (fields.Length < 15) return default;
        static long P(string s) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : 0;
        return new CpuTicks(P(fields[11]), P(fields[12]), P(fields[13]), P(fields[14]));
    }

    /// <summary>Clock ticks (USER_HZ, 100 on Linux) as Redis's "%ld.%06ld" seconds.</summary>
    private static string Seconds(long ticks)
    {
        const long hz = 100;
        long sec = ticks / hz;
        long usec = ticks % hz * (1_000_000 / hz);
        return sec.ToString(CultureInfo.InvariantCulture) + "." + usec.ToString("D6", CultureInfo.InvariantCulture);
    }

    private static string? ConfigString(ServerContext server, string name) =>
        server.Config.Registry.TryGet(name, out var p) ? p.Get() : null;

    private static long ConfigLong(ServerContext server, string name) =>
        long.TryParse(ConfigString(server, name), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
}
