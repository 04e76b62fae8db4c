using System.Globalization;
using System.Text;

namespace NativeKv.Server.Storage;

/// <summary>INFO persistence.</summary>
public sealed partial class Persistence
{
    // How long keyed commands were held at the keyspace gate by a checkpoint's cut (ms): the last one and the longest.
    private double _lastGateMs;
    private double _maxGateMs;

    /// <summary>INFO persistence (registered by the server host as an INFO section).</summary>
    public void WriteInfo(ServerContext server, StringBuilder sb)
    {
        PersistenceJob job;
        long jobStart;
        bool rewriteScheduled;
        lock (_jobLock)
        {
            job = _job;
            jobStart = _jobStart;
            rewriteScheduled = _rewriteScheduled;
        }
        long running = job == PersistenceJob.None ? -1 : (Environment.TickCount64 - jobStart) / 1000;
        var aof = _aof;
        void Line(string name, string value) => sb.Append(name).Append(':').Append(value).Append("\r\n");
        void Num(string name, long value) => Line(name, value.ToString(CultureInfo.InvariantCulture));
        Num("loading", 0);
        Num("async_loading", 0);
        Num("current_cow_peak", 0);
        Num("current_cow_size", 0);
        Num("current_cow_size_age", 0);
        Line("current_fork_perc", "0.00");
        Num("current_save_keys_processed", 0);
        Num("current_save_keys_total", 0);
        Num("rdb_changes_since_last_save", Math.Max(0, Dirty));
        Num("rdb_bgsave_in_progress", job == PersistenceJob.Save ? 1 : 0);
        Num("rdb_last_save_time", LastSaveUnix);
        Line("rdb_last_bgsave_status", _lastSaveOk ? "ok" : "err");
        Num("rdb_last_bgsave_time_sec", _lastSaveSeconds);
        Num("rdb_current_bgsave_time_sec", job == PersistenceJob.Save ? running : -1);
        Num("rdb_saves", _saves);
        Num("rdb_last_cow_size", 0);
        Num("rdb_last_load_keys_expired", 0);
        Num("rdb_last_load_keys_loaded", _loadedKeys);
        Line("checkpoint_gate_ms", string.Create(CultureInfo.InvariantCulture, $"last={_lastGateMs:F3},max={_maxGateMs:F3}"));
        Num("aof_enabled", aof is not null ? 1 : 0);
        Num("aof_rewrite_in_progress", job == PersistenceJob.Rewrite ? 1 : 0);
        Num("aof_rewrite_scheduled", rewriteScheduled ? 1 : 0);
        Num("aof_last_rewrite_time_sec", _lastRewriteSeconds);
        Num("aof_current_rewrite_time_sec", job == PersistenceJob.Rewrite ? running : -1);
        Line("aof_last_bgrewrite_status", _lastRewriteOk ? "ok" : "err");
        Num("aof_rewrites", _rewrites);
        Num("aof_rewrites_consecutive_failures", _rewriteFailures);
        Line("aof_last_write_status", _aofWriteOk && Volatile.Read(ref _deniedErrno) == 0 ? "ok" : "err");
        Num("aof_last_cow_size", 0);
        Num("module_fork_in_progress", 0);
        Num("module_fork_last_cow_size", 0);
        if (aof is not null)
        {
            Num("aof_current_size", aof.Size);
            Num("aof_base_size", 0);
            Num("aof_pending_rewrite", rewriteScheduled ? 1 : 0);
            Num("aof_buffer_length", Math.Max(0, aof.TailAddress - aof.CommittedUntilAddress));
            Num("aof_pending_bio_fsync", 0);
            Num("aof_delayed_fsync", 0);
        }
    }
}
