using System.Text;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>Plugs the store's numbers into INFO (keyspace section, stats counters, memory lines).</summary>
public static class StoreInfo
{
    public static void Register()
    {
        InfoSections.Keyspace = Keyspace;
        InfoSections.Storage = Counters;
        InfoSections.StoreMemory = Memory;
    }

    /// <summary>The FASTER hash index (64 bytes a bucket, doubling as keys arrive) and the log's pages.</summary>
    private static void Memory(ServerContext server, StringBuilder sb)
    {
        var store = server.Store;
        if (store is null) return;
        sb.Append("store_index_buckets:").Append(store.Kv.IndexSize).Append("\r\n");
        sb.Append("store_index_overflow_buckets:").Append(store.Kv.OverflowBucketCount).Append("\r\n");
        sb.Append("store_index_bytes:").Append(store.IndexBytes).Append("\r\n");
        sb.Append("store_index_growths:").Append(store.IndexGrowths).Append("\r\n");
        // Longest time a doubling held every client: the reactors parked across the table switch, or the GC that frees the old table.
        sb.Append("store_index_max_pause_ms:").Append(Ms(store.IndexMaxPauseMs)).Append("\r\n");
        sb.Append("store_log_page_size:").Append(1L << store.PageBits).Append("\r\n");
        sb.Append("store_log_memory:").Append(store.Kv.Log.MemorySizeBytes).Append("\r\n");
        var log = store.Kv.Log;
        // Bytes of log not yet on disk: what the next checkpoint has to write (fold-over).
        sb.Append("store_log_unflushed:").Append(Math.Max(0, log.TailAddress - log.SafeReadOnlyAddress)).Append("\r\n");
        sb.Append("store_log_span:").Append(Math.Max(0, log.TailAddress - log.BeginAddress)).Append("\r\n");
        // Operations that waited on disk, by kind (a SET goes to disk only to read the record it replaces).
        var stats = store.TotalStats();
        sb.Append("store_disk_reads:").Append(stats.DiskReads).Append("\r\n");
        sb.Append("store_disk_writes:").Append(stats.DiskWrites).Append("\r\n");
        sb.Append("store_log_room_waits:").Append(stats.LogRoomWaits).Append("\r\n");
        sb.Append("store_disk_prefetches:").Append(stats.DiskPrefetches).Append("\r\n");
        // Operations a command's rerun after a disk wait answered from its earlier attempts' slots.
        sb.Append("store_slot_replays:").Append(stats.SlotReplays).Append("\r\n");
        long wakeups = 0;
        foreach (var r in server.Reactors ?? []) wakeups += Volatile.Read(ref r.DiskWakeups);
        // A reactor asleep while its client waited on disk, woken by the read's completion (not a timer).
        sb.Append("store_disk_read_wakeups:").Append(wakeups).Append("\r\n");
        sb.Append("store_compactions:").Append(store.Maintenance.Compactions).Append("\r\n");
        sb.Append("store_heap_returns:").Append(store.Maintenance.HeapReturns).Append("\r\n");
        sb.Append("store_heap_return_max_pause_ms:").Append(Ms(store.Maintenance.HeapReturnMaxPauseMs)).Append("\r\n");
        // Everything ever appended to the log (its tail address), and the parts of it that copied records
        // already in the log: disk reads copied to the tail, and live records compaction moved.
        sb.Append("store_log_appended:").Append(log.TailAddress).Append("\r\n");
        sb.Append("store_log_read_copy_bytes:").Append(stats.ReadCopyBytes).Append("\r\n");
        sb.Append("store_log_compaction_copy_bytes:").Append(stats.CompactionCopyBytes).Append("\r\n");
        sb.Append("store_compaction_records:").Append(stats.CompactionRecords).Append("\r\n");
        sb.Append("store_compaction_disk_checks:").Append(stats.CompactionDiskChecks).Append("\r\n");
        sb.Append("store_compaction_superseded:").Append(stats.CompactionSuperseded).Append("\r\n");
        sb.Append("store_superseded_marks_bytes:").Append(store.Superseded.Bytes).Append("\r\n");
        // Paged collections: how many have pages, their pages' estimated bytes, and what compaction
        // still has to drop of the dead ones' (DEL, overwrite, expiry, FLUSHDB leave them to it).
        var collections = store.Collections;
        sb.Append("store_paged_collections:").Append(collections.Count).Append("\r\n");
        sb.Append("store_live_page_bytes:").Append(store.LivePageBytes()).Append("\r\n");
        sb.Append("store_dead_page_bytes:").Append(collections.DeadBytes).Append("\r\n");
        sb.Append("store_pages_reclaimed:").Append(collections.ReclaimedPages).Append("\r\n");
        sb.Append("store_page_bytes_reclaimed:").Append(collections.ReclaimedBytes).Append("\r\n");
        // Where the last checkpoint's time went (rdb_last_bgsave_time_sec rounds it to seconds).
        var p = store.Phases;
        sb.Append("store_last_checkpoint_ms:").Append(Ms(p.WholeMs)).Append("\r\n");
        sb.Append("store_last_checkpoint_index_ms:").Append(Ms(p.IndexMs)).Append("\r\n");
        sb.Append("store_last_checkpoint_flush_ms:").Append(Ms(p.FlushMs)).Append("\r\n");
        sb.Append("store_last_checkpoint_version_change_ms:").Append(Ms(p.VersionChangeMs)).Append("\r\n");
    }

    /// <summary>
    /// Where the resident memory goes (INFO memory, after used_memory_rss): the store's log pages and
    /// index, the free space the managed heap holds on to, the rest of the heap (client and disk I/O
    /// buffers, sessions, SCAN cursors), and what lies outside it (code, thread stacks, native buffers).
    /// There is no read cache: a disk read is copied to the log tail, inside the log memory.
    /// </summary>
    public static void Breakdown(ServerContext server, StringBuilder sb, long rss)
    {
        // The GC's own figures are as of its last collection; the live size is current.
        long committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        long live = GC.GetTotalMemory(false);
        long log = 0, index = 0, aof = AofMemory(server);
        if (server.Store is { } store)
        {
            log = store.Kv.Log.MemorySizeBytes;
            index = store.IndexBytes;
        }
        long heapFree = Math.Max(0, committed - live);
        long heapOther = Math.Max(0, live - log - index - aof);
        Line(sb, "mem_store_log", log);
        Line(sb, "mem_store_index", index);
        Line(sb, "mem_store_read_cache", 0);
        Line(sb, "mem_heap_other", heapOther);
        Line(sb, "mem_heap_free", heapFree);
        Line(sb, "mem_outside_heap", Math.Max(0, rss - Math.Max(committed, live)));
    }

    /// <summary>The AOF's page buffers (mem_aof_buffer); 0 with appendonly no.</summary>
    public static long AofMemory(ServerContext server) => server.Store?.Aof?.MemoryBytes ?? 0;

    private static void Line(StringBuilder sb, string name, long value) => sb.Append(name).Append(':').Append(value).Append("\r\n");

    private static string Ms(double ms) => ms.ToString("F1", System.Globalization.CultureInfo.InvariantCulture);

    private static void Keyspace(ServerContext server, StringBuilder sb)
    {
        var store = server.Store;
        if (store is null) return;
        long avgTtl = store.Maintenance.AverageTtl;
        for (int db = 0; db < store.Databases; db++)
        {
            long keys = store.KeyCount(db);
            if (keys == 0) continue;
            long expires = store.ExpiresCount(db);
            sb.Append("db").Append(db).Append(":keys=").Append(keys).Append(",expires=").Append(expires)
              .Append(",avg_ttl=").Append(expires > 0 ? avgTtl : 0).Append("\r\n");
        }
    }

    private static StorageCounters Counters(ServerContext server)
    {
        var store = server.Store;
        if (store is null) return default;
        var s = store.TotalStats();
        return new StorageCounters(s.KeyspaceHits, s.KeyspaceMisses, s.ExpiredKeys, 0);
    }
}
