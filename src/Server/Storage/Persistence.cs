using System.Buffers.Binary;
using System.Diagnostics;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>The server could not load its data (damaged AOF, unreadable checkpoint): it must not start.</summary>
public sealed class PersistenceException(string message) : Exception(message);

/// <summary>What the background job of the moment is (Redis's child types).</summary>
public enum PersistenceJob
{
    None,
    /// <summary>SAVE / BGSAVE / a save rule / shutdown.</summary>
    Save,
    /// <summary>BGREWRITEAOF or turning appendonly on: a checkpoint that the AOF restarts from.</summary>
    Rewrite,
}

/// <summary>
/// Durability: the AOF (<see cref="AppendOnlyFile"/>), checkpoints (FASTER full checkpoints, snapshot
/// of the hybrid log + the index) recorded in <c>dir/checkpoint.manifest</c> together with the AOF address
/// replay starts from, start-up recovery, the appendfsync policies, save rules and INFO persistence.
///
/// Every policy: a command that changed the store holds its client's replies
/// (<see cref="IHeldReplies.CommitWait"/>) until a commit covers the AOF tail it left; each reactor asks for a
/// commit at the end of its loop turn (<see cref="EndTurn"/>) and commits for all reactors at once,
/// then wakes the ones waiting (group commit, pipelined with the reactors' work). appendfsync always
/// syncs each such write; everysec syncs once a second (the persistence thread); no leaves it to the OS.
/// </summary>
public sealed partial class Persistence : IWriteLog
{
    private const string ManifestName = "checkpoint.manifest";

    private readonly ServerContext _server;
    private readonly Store _store;
    private readonly Log _log;
    private readonly object _jobLock = new();
    private readonly ManualResetEventSlim _commitSignal = new(false);
    private AppendOnlyFile? _aof;           // active log (appendonly yes)
    private AppendOnlyFile? _detached;      // turned off at run time: closed at the next turn-on or shutdown
    private volatile bool _always;
    private Thread? _thread;
    private volatile bool _stopping;
    private Gate[] _gates = [];
    private Action<int> _postRelease = _ => { };
    private int[] _wake = [];
    private Manifest _manifest;

    // --- status (INFO persistence) ---
    private long _dirty;
    private long _lastSaveUnix;
    private long _saves;
    private bool _lastSaveOk = true;
    private long _lastSaveSeconds = -1;
    private long _lastRewriteSeconds = -1;
    private bool _lastRewriteOk = true;
    private long _rewrites;
    private long _rewriteFailures;
    private PersistenceJob _job;
    private long _jobStart;
    private Thread? _jobThread;
    private bool _rewriteScheduled;
    private bool _saveScheduled;
    private bool _foregroundSave; // _job is a SAVE run by a reactor (SaveNow), not a background job
    private long _lastFailedSave;
    private long _loadedKeys;
    private bool _aofWriteOk = true;

    private Persistence(ServerContext server, Store store, Manifest manifest)
    {
        _server = server;
        _store = store;
        _log = server.Log;
        _manifest = manifest;
        _lastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string DataDirectory => Path.GetFullPath(_server.Config.Dir);
    public string AofDirectory => Path.Combine(DataDirectory, _server.Config.AppendDirName);

    /// <summary>An AOF entry holds a whole value, so AOF pages are at least the store's.</summary>
    private int AofPageBits => Math.Max(Store.LogPageBits, _store.PageBits);
    public bool AofEnabled => _aof is not null;
    public AppendOnlyFile? Aof => _aof;
    public long LastSaveUnix => Interlocked.Read(ref _lastSaveUnix);
    public long Dirty => Interlocked.Read(ref _dirty);
    public PersistenceJob Job { get { lock (_jobLock) return _job; } }

    // ================================================================ start-up

    /// <summary>
    /// Creates the store and loads it: the last checkpoint, then the AOF entries after it. Sets
    /// <see cref="ServerContext.Store"/> and <see cref="ServerContext.WriteLog"/>.
    /// </summary>
    public static Persistence Open(ServerContext server)
    {
        var config = server.Config;
        var log = server.Log;
        var dir = Path.GetFullPath(config.Dir);
        Directory.CreateDirectory(dir);
        var sw = Stopwatch.StartNew();
        var manifest = Manifest.Load(Path.Combine(dir, ManifestName), log);

        var store = new Store(config, log, keepFiles: manifest.Token is not null, pageBits: manifest.PageBits, hashVersion: manifest.HashVersion);
        server.Store = store;
        // Pool threads block for whole device operations: the store's disk reads and whole-page flushes
        // (AOF pages, the store's log). A burst of them must not wait for the pool's hill climbing.
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (workers < 32) ThreadPool.SetMinThreads(32, Math.Max(io, 32));
        var p = new Persistence(server, store, manifest);
        server.WriteLog = p;

        if (manifest.Token is { } token)
        {
            try
            {
                store.Kv.Recover(token);
                store.CheckpointBeginAddress = store.Kv.Log.BeginAddress; // compaction keeps the files it reads
            }
            catch (Exception e)
            {
                throw new PersistenceException($"Failed loading the checkpoint {token} in {store.CheckpointDirectory}: {e.Message}");
            }
            store.RestoreNamespaces(manifest.Namespaces, manifest.NextNamespace);
            store.RestoreLibraries(manifest.Libraries);
            long keys = store.Recount();
            log.Notice($"Loaded checkpoint {token}: {keys} keys in {sw.ElapsedMilliseconds} ms");
        }
        else if (manifest.Exists)
        {
            store.RestoreNamespaces(manifest.Namespaces, manifest.NextNamespace);
            store.RestoreLibraries(manifest.Libraries);
        }

        if (config.AppendOnly)
        {
            p.OpenAofAtStartup();
        }
        p._loadedKeys = TotalKeys(store);
        p._always = config.AppendFsync == "always";
        log.Notice($"DB loaded from disk: {sw.Elapsed.TotalSeconds:0.000} seconds ({p._loadedKeys} keys)");
        return p;
    }

    private static long TotalKeys(Store store)
    {
        long n = 0;
        for (int db = 0; db < store.Databases; db++) n += store.KeyCount(db);
        return n;
    }

    private void OpenAofAtStartup()
    {
        var config = _server.Config;
        var sw = Stopwatch.StartNew();
        bool stale = _manifest.Exists && _manifest.AofStart < 0;
        if (stale)
        {
            // The last checkpoint was taken with appendonly off: an old AOF is not a continuation of it.
            AppendOnlyFile.DeleteFiles(AofDirectory, config.AppendFilename);
        }
        var aof = AppendOnlyFile.Open(AofDirectory, config.AppendFilename, AofPageBits, _log, config.AofLoadTruncated,
            out var tail, out var detail, out var damage);
        var file = Path.GetFileName(aof.DevicePath);
        if (damage is not null)
        {
            aof.Dispose();
            throw DamagedInTheMiddle(damage);
        }
        if (tail == AofTailState.Torn)
        {
            if (!config.AofLoadTruncated)
            {
                aof.Dispose();
                throw new PersistenceException(
                    $"Bad file format reading the append only file {file}: {detail}. " +
                    "The AOF tail is damaged or truncated. Make a backup of the AOF, then either set 'aof-load-truncated yes' " +
                    "to load it without its damaged tail, or remove the damaged files from " + AofDirectory + ".");
            }
            _log.Warning($"!!! Warning: short read while loading the AOF file {file}: {detail} !!!");
            _log.Warning("AOF loaded anyway because aof-load-truncated is enabled (the damaged tail was dropped)");
        }
        else if (tail == AofTailState.Uncommitted)
        {
            _log.Notice($"AOF: dropped {detail} (never acknowledged as durable)");
        }

        long from = _manifest.Exists && !stale ? _manifest.AofStart : aof.BeginAddress;
        bool repair = false;
        if (!stale)
        {
            var replay = _store.NewSession("aof-replay");
            var frames = new AofReplay(replay);
            long entries = aof.Replay(from, frames.Entry, out long damagedAt, out var replayDamage);
            replay.Dispose();
            var (cutFrames, cutParts, cutRecords) = frames.Incomplete();
            if (cutFrames > 0)
                _log.Warning($"AOF: dropped {cutFrames} command frame(s) that the end of the log cut ({cutParts} of their parts read, {cutRecords} records): those commands are not applied at all");
            if (replayDamage is not null && aof.ScanFiles() is { DamageInTheMiddle: true } scan)
            {
                aof.Dispose();
                throw DamagedInTheMiddle(scan);
            }
            if (replayDamage is not null)
            {
                if (!config.AofLoadTruncated)
                {
                    aof.Dispose();
                    throw new PersistenceException(
                        $"Bad file format reading the append only file {file}: unreadable entry at address {damagedAt} ({replayDamage}). " +
                        "Set 'aof-load-truncated yes' to load the entries before it and drop the rest.");
                }
                _log.Warning($"!!! Warning: the AOF file {file} is damaged at address {damagedAt} ({replayDamage}): loaded the {entries} entries before it, dropped the rest !!!");
                repair = true;
            }
            if (entries > 0 || aof.CommittedUntilAddress > from)
                _log.Notice($"DB loaded from append only file: {sw.Elapsed.TotalSeconds:0.000} seconds ({entries} entries, {frames.Frames} command frames of which {frames.FramesSplit} split into parts)");
        }
        Attach(aof);
        _aof = aof;
        _store.Aof = aof;
        if (!_manifest.Exists || stale)
        {
            // From now on the loaded state = the checkpoint (if any) + this AOF replayed from its beginning.
            var (map, next, _, _) = _store.SnapshotForCheckpoint(aof);
            _manifest = _manifest with { Exists = true, AofStart = aof.BeginAddress, Namespaces = map, NextNamespace = next, Libraries = _store.Libraries, PageBits = _store.PageBits, HashVersion = _store.Comparer.Version };
            _manifest.Save(Path.Combine(DataDirectory, ManifestName));
        }
        if (repair)
        {
            // The damaged region sits before the tail: a checkpoint now lets the AOF restart after it.
            _log.Notice("Taking a checkpoint to cut the damaged AOF region off");
            if (!RunCheckpoint(PersistenceJob.Rewrite, null)) throw new PersistenceException("Could not take the checkpoint that repairs the AOF");
        }
    }

    /// <summary>
    /// aof-load-truncated covers a torn tail only, as in Redis: damage with valid records after it would
    /// drop them silently (and the next checkpoint would make that permanent), so start-up stops.
    /// </summary>
    private PersistenceException DamagedInTheMiddle(AofScanReport damage) => new(
        $"Bad file format reading the append only file: {damage.Describe()}. This is not a torn tail, so " +
        "aof-load-truncated does not apply. Make a backup of your AOF, then use 'nativekv --check-aof --fix " +
        DataDirectory + "' to truncate it at the damage (the records after it are dropped).");

    /// <summary>The page size of the AOF in a data directory (the manifest's, as the server opens it).</summary>
    public static int AofPageBitsOf(string dataDirectory, Log log)
    {
        var manifest = Manifest.Load(Path.Combine(dataDirectory, ManifestName), log);
        return Math.Max(Store.LogPageBits, manifest.PageBits ?? Store.LogPageBits);
    }

    /// <summary>An AOF becomes the active one: its fsync policy, its write-error reports and its latency samples.</summary>
    private void Attach(AppendOnlyFile aof)
    {
        aof.SyncEachWrite = _server.Config.AppendFsync == "always";
        aof.WriteStateChanged = OnAofWriteState;
        aof.LatencySample = (name, ms) => AofLatency?.Invoke(name, ms);
    }

    /// <summary>
    /// Where the AOF's latency events go (latencyAddSampleIfNeeded: the host applies latency-monitor-threshold). Set
    /// once the server is composed; the AOF may be attached before that, at recovery.
    /// </summary>
    public Action<string, long>? AofLatency { get; set; }

    /// <summary>Re-applies one AOF entry (no logging: the store's AOF hook is off during replay).</summary>
    internal static unsafe void Apply(StoreSession session, ReadOnlySpan<byte> entry)
    {
        var kind = (AofEntryKind)entry[0];
        switch (kind)
        {
            case AofEntryKind.Write:
            case AofEntryKind.Delete:
            {
                int keyLen = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
                var fullKey = entry.Slice(5, keyLen);
                int ns = BinaryPrimitives.ReadInt32LittleEndian(fullKey);
                var key = fullKey[ValueLayout.KeyPrefix..];
                if (kind == AofEntryKind.Delete)
                {
                    var del = new StoreInput { Op = StoreOp.Delete };
                    session.RmwNamespace(ns, key, ref del, out _);
                    return;
                }
                var rest = entry[(5 + keyLen)..];
                int valueLen = BinaryPrimitives.ReadInt32LittleEndian(rest);
                var value = rest.Slice(4, valueLen);
                var type = (KeyType)value[0];
                long expiry = BinaryPrimitives.ReadInt64LittleEndian(value[1..]);
                var payload = value[ValueLayout.Header..];
                if (Values.Paged.PagedRoot.TryRead(payload, out var logged))
                {
                    session.Store.SawCollectionId(logged.Cid);
                    // The same life of a paged collection already in the store: its meta there is the
                    // one its pages were built with (by the checkpoint, or by the element records replayed
                    // so far); this image brings only what the key itself changed (its expiry).
                    if (session.ReadNamespace(ns, key, out var current) == OpStatus.Found
                        && Values.Paged.PagedRoot.TryRead(current.Value, out var held) && held.Cid == logged.Cid)
                        payload = current.Value.ToArray();
                }
                else if (Values.Paged.ZSetRoot.TryRead(payload, out var loggedZSet))
                {
                    session.Store.SawCollectionId(loggedZSet.Cid);
                    if (session.ReadNamespace(ns, key, out var current) == OpStatus.Found
                        && Values.Paged.ZSetRoot.TryRead(current.Value, out var held) && held.Cid == loggedZSet.Cid)
                        payload = current.Value.ToArray();
                }
                else if (type == KeyType.List && Values.Paged.ListRoot.TryRead(payload, out var loggedList))
                {
                    session.Store.SawCollectionId(loggedList.Cid);
                    // As above: the store's root of this life holds the seq its pages were built to.
                    if (session.ReadNamespace(ns, key, out var current) == OpStatus.Found
                        && Values.Paged.ListRoot.TryRead(current.Value, out var held) && held.Cid == loggedList.Cid)
                        payload = current.Value.ToArray();
                }
                fixed (byte* p = payload)
                {
                    var input = new StoreInput { Op = StoreOp.Set, Type = type, Expiry = expiry, Data = p, DataLength = payload.Length };
                    session.RmwNamespace(ns, key, ref input, out _);
                }
                return;
            }
            case AofEntryKind.Namespaces:
            {
                int next = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
                int count = BinaryPrimitives.ReadInt32LittleEndian(entry[5..]);
                var map = new int[count];
                for (int i = 0; i < count; i++) map[i] = BinaryPrimitives.ReadInt32LittleEndian(entry[(9 + 4 * i)..]);
                session.Store.RestoreNamespaces(map, next);
                return;
            }
            case AofEntryKind.Libraries:
                session.Store.RestoreLibraries(entry[1..].ToArray());
                return;
            case AofEntryKind.Element:
                ApplyElement(session, entry.Slice(5, BinaryPrimitives.ReadInt32LittleEndian(entry[1..])));
                return;
            default:
                throw new FasterException($"unknown AOF entry kind {(byte)kind}");
        }
    }

    /// <summary>
    /// Re-applies one element change to the paged collection its key holds now, when that is the record's
    /// life of the key (same cid; otherwise the key was deleted or replaced since, and the record is
    /// skipped). Idempotent: "present with this value" or "absent".
    /// </summary>
    private static unsafe void ApplyElement(StoreSession session, ReadOnlySpan<byte> bytes)
    {
        if (!Values.Paged.ElementRecord.TryDecode(bytes, out var record, out _))
            throw new FasterException("AOF element record cut short");
        session.Store.SawCollectionId(record.Cid);
        int ns = BinaryPrimitives.ReadInt32LittleEndian(record.Key);
        var key = record.Key[ValueLayout.KeyPrefix..];
        if (session.ReadNamespace(ns, key, out var main) != OpStatus.Found) return;
        if (record.IsList)
        {
            ApplyListElement(session, ns, key, main, record);
            return;
        }
        if (record.IsSortedSet)
        {
            ApplyZSetElement(session, ns, key, main, record);
            return;
        }
        if (!Values.Paged.PagedRoot.TryRead(main.Value, out var meta) || meta.Cid != record.Cid) return;
        var type = main.Type;
        long expiry = main.Expiry;
        var pages = Values.Paged.CommandPages.For(session);
        while (true)
        {
            Values.Paged.PagedHash.NeedsRecord(meta, record, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            pages.Fetch(); // no command runs: reads complete before they return
        }
        Values.Paged.PagedHash.ApplyRecord(ref meta, record, pages.Pages, pages);
        pages.WritePages(meta.PageSize);
        Span<byte> root = stackalloc byte[Values.Paged.PagedRoot.Size];
        Values.Paged.PagedRoot.Write(meta, root);
        PutReplayedRoot(session, ns, key, type, expiry, empty: false, root);
    }

    /// <summary>A paged list's element record: applied when it is the list's life and past its root's seq (<see cref="Values.Paged.PagedList.ApplyRecord"/>).</summary>
    private static void ApplyListElement(StoreSession session, int ns, ReadOnlySpan<byte> key, OpSlot main, in Values.Paged.ElementRecord record)
    {
        if (!Values.Paged.ListRoot.TryRead(main.Value, out var root) || root.Cid != record.Cid) return;
        var type = main.Type;
        long expiry = main.Expiry;
        var pages = Values.Paged.CommandPages.For(session);
        if (!Values.Paged.PagedList.ApplyRecord(ref root, record, pages.Pages, pages.Needs, pages, pages.FetchAction)) return;
        pages.WritePages(0, Values.Paged.ListRoot.TreeRoom);
        Span<byte> bytes = stackalloc byte[Values.Paged.ListRoot.Size];
        root.Write(bytes);
        PutReplayedRoot(session, ns, key, type, expiry, root.Count == 0, bytes);
    }

    /// <summary>A paged sorted set's element record: applied when it is the set's life and past its root's seq (<see cref="Values.Paged.PagedSortedSet.ApplyRecord"/>).</summary>
    private static void ApplyZSetElement(StoreSession session, int ns, ReadOnlySpan<byte> key, OpSlot main, in Values.Paged.ElementRecord record)
    {
        if (!Values.Paged.ZSetRoot.TryRead(main.Value, out var root) || root.Cid != record.Cid) return;
        var type = main.Type;
        long expiry = main.Expiry;
        var pages = Values.Paged.CommandPages.For(session);
        if (!Values.Paged.PagedSortedSet.ApplyRecord(ref root, record, pages.Pages, pages.Needs, pages, pages.FetchAction)) return;
        pages.WritePages(root.Hash.PageSize, Values.Paged.ListRoot.TreeRoom);
        Span<byte> bytes = stackalloc byte[Values.Paged.ZSetRoot.Size];
        root.Write(bytes);
        PutReplayedRoot(session, ns, key, type, expiry, root.Count == 0, bytes);
    }

    /// <summary>After a replayed element record: the key's new root (its type and expiry kept), or a delete when the collection emptied.</summary>
    private static unsafe void PutReplayedRoot(StoreSession session, int ns, ReadOnlySpan<byte> key, KeyType type, long expiry, bool empty, ReadOnlySpan<byte> root)
    {
        if (empty)
        {
            var del = new StoreInput { Op = StoreOp.Delete };
            session.RmwNamespace(ns, key, ref del, out _);
            return;
        }
        fixed (byte* p = root)
        {
            var input = new StoreInput { Op = StoreOp.Set, Type = type, Expiry = expiry, Data = p, DataLength = root.Length };
            session.RmwNamespace(ns, key, ref input, out _);
        }
    }

    /// <summary>
    /// Starts the committer / cron thread once the reactors exist. <paramref name="postRelease"/>(i) asks
    /// reactor i to call <see cref="Release"/> on its own thread (through its mailbox).
    /// </summary>
    public void Start(int reactors, Action<int> postRelease)
    {
        _postRelease = postRelease;
        // Reactors are already running: publish the gates last, once everything they use exists.
        _wake = new int[reactors];
        var gates = new Gate[reactors];
        for (int i = 0; i < reactors; i++) gates[i] = new Gate();
        Volatile.Write(ref _gates, gates);
        _thread = new Thread(Background) { Name = "persistence", IsBackground = true };
        _thread.Start();
    }
}
