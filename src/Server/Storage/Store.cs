using FASTER.core;
using NativeKv.Server.Config;

namespace NativeKv.Server.Storage;

/// <summary>Exact per-namespace counts, kept by the store functions as records come and go.</summary>
public sealed class NamespaceCounters
{
    public long Keys;
    public long Expires;
    /// <summary>Approximate bytes of this namespace's live records (compaction yardstick).</summary>
    public long Bytes;
    /// <summary>Estimated page bytes of the paged collections whose main records are here (live while the namespace is).</summary>
    public long PageBytes;
    /// <summary>The namespace was flushed: its records are garbage for compaction.</summary>
    public volatile bool Dead;
}

/// <summary>Per-session statistics (each touched by one thread; INFO sums them).</summary>
public sealed class StoreStats
{
    public long KeyspaceHits;
    public long KeyspaceMisses;
    public long ExpiredKeys;
    /// <summary>Reads that went to disk (a record below the head address).</summary>
    public long DiskReads;
    /// <summary>Writes (RMWs) that had to read their record from disk first.</summary>
    public long DiskWrites;
    /// <summary>Read-ahead reads of pipelined keys that went to disk.</summary>
    public long DiskPrefetches;
    /// <summary>Operations of a rerun answered from the slot an earlier attempt of the command filled (work done again).</summary>
    public long SlotReplays;
    /// <summary>Log bytes written by copying records read from disk to the tail.</summary>
    public long ReadCopyBytes;
    /// <summary>Log bytes written by compaction moving live records to the tail.</summary>
    public long CompactionCopyBytes;
    /// <summary>Records compaction looked at (every record below where it stopped, live, dead or dropped).</summary>
    public long CompactionRecords;
    /// <summary>Of those, the ones whose liveness FASTER could only tell by reading a newer record of the chain from disk.</summary>
    public long CompactionDiskChecks;
    /// <summary>Of those, page records dropped as superseded (<see cref="SupersededRecords"/>) without FASTER's check.</summary>
    public long CompactionSuperseded;
    /// <summary>Commands that waited for room at the log's tail (a page flush) before writing.</summary>
    public long LogRoomWaits;
}

/// <summary>
/// Where mutations go to become durable. The executor calls it once for every command that
/// changed the dataset, with the command's RESP arguments and the client's database; null when
/// persistence is off.
/// </summary>
public interface IWriteLog
{
    void Append(int database, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> args, IHeldReplies client);
}

/// <summary>
/// The string/key store: one FasterKV&lt;SpanByte, SpanByte&gt; under <c>dir/store</c>, its logical
/// databases (db index -> namespace id, so FLUSHDB and SWAPDB are O(1)), the exact counts, and the
/// background maintenance (active expiry, compaction).
/// </summary>
public sealed partial class Store : IDisposable
{
    /// <summary>
    /// Hash buckets at creation (1 MB of index). The index doubles as keys arrive (see
    /// <see cref="GrowIndexIfNeeded"/>), as Redis's dict does: a fixed large index would cost 64 bytes
    /// per bucket of resident memory whether or not keys use it.
    /// </summary>
    public const int InitialIndexBuckets = 1 << 14;

    /// <summary>Keys per bucket (a bucket is one cache line of 7 entries) above which the index doubles.</summary>
    public const int IndexGrowthLoad = 4;

    /// <summary>
    /// Default log page size, 8 MB (<c>store-page-size</c>; smaller when maxmemory is below four pages).
    /// A record never spans pages, so it caps a value (<see cref="MaxValueLength"/>); FASTER clears each
    /// page as it allocates it, two at start-up, so larger pages cost start-up time (32 MB pages: 40 ms).
    /// A data directory keeps the page size it was created with (the checkpoint manifest records it):
    /// recovery must read the log back with the page size it was written with.
    /// </summary>
    public const int LogPageBits = 23;

    private readonly object _nsLock = new();
    private NamespaceCounters[] _counters = new NamespaceCounters[64];
    /// <summary>The pages namespace's counters: never dead, not a database (DBSIZE never sees them).</summary>
    private readonly NamespaceCounters _pageCounters = new();
    private int[] _dbNs;
    private int _nextNs;
    private readonly List<StoreStats> _allStats = new();
    private readonly ReadNotifyingDevice _device;
    private readonly Maintenance _maintenance;


    /// <param name="keepFiles">Recovering from a checkpoint (Persistence): keep the log and checkpoint files.</param>
    /// <param name="pageBits">The page size this data directory was created with (null: a new directory).</param>
    /// <param name="hashVersion">The key hash its index was built with (<see cref="KeyComparer"/>; null: a new
    /// directory gets the current one, a recovered one without the field FASTER's).</param>
    public Store(ServerConfig config, Log log, bool keepFiles = false, int? pageBits = null, int? hashVersion = null)
    {
        Comparer = keepFiles ? KeyComparer.ForVersion(hashVersion) : KeyComparer.Current;
        Config = config;
        Log = log;
        Directory = Path.Combine(Path.GetFullPath(config.Dir), "store");
        // A fresh store starts empty; a recovering one (Persistence.Open) keeps its files.
        if (!keepFiles && System.IO.Directory.Exists(Directory))
        {
            foreach (var f in System.IO.Directory.GetFiles(Directory)) File.Delete(f);
            var checkpoints = Path.Combine(Directory, "checkpoints");
            if (System.IO.Directory.Exists(checkpoints)) System.IO.Directory.Delete(checkpoints, recursive: true);
        }
        System.IO.Directory.CreateDirectory(Directory);

        int databases = config.Databases;
        _dbNs = new int[databases];
        for (int i = 0; i < databases; i++) _dbNs[i] = NewNamespace();

        var (memoryBits, logPageBits) = LogSizing(config.Maxmemory, pageBits, config.StorePageSize);
        MemoryBits = memoryBits;
        PageBits = logPageBits;
        _device = new ReadNotifyingDevice(new FileDevice(Path.Combine(Directory, "hlog"), recover: keepFiles));
        var logSettings = new LogSettings
        {
            LogDevice = _device,
            PageSizeBits = logPageBits,
            MemorySizeBits = memoryBits,
            SegmentSizeBits = 25,
            MutableFraction = 0.9,
            ReadCopyOptions = new ReadCopyOptions(ReadCopyFrom.Device, ReadCopyTo.MainLog),
        };
        Kv = new FasterKV<SpanByte, SpanByte>(InitialIndexBuckets, logSettings,
            checkpointSettings: new CheckpointSettings { CheckpointDir = Path.Combine(Directory, "checkpoints"), RemoveOutdated = false },
            serializerSettings: null, comparer: Comparer,
            variableLengthStructSettings: new VariableLengthStructSettings<SpanByte, SpanByte>
            {
                keyLength = RecordReadSize.ForKeys,
                valueLength = RecordReadSize.ForValues,
            });
        Kv.UnsafeRegisterCallback(Phases);
        // FASTER frees a page that falls below the head (compaction moves the head with the begin
        // address) only while some pages are kept empty; otherwise it zeroes it and keeps it, so 2M
        // overwrites of 300 keys left 250 MB of log memory. One page of 256 (2 GB of 8 MB pages) is
        // the price; small logs (under 16 pages) keep every page for data.
        if ((1L << (memoryBits - logPageBits)) >= 16) Kv.Log.SetEmptyPageCount(1);
        ValueLength = new StoreValueLength();
        Collections = new Values.Paged.LiveCollections(IsDeadNamespace);
        _maintenance = new Maintenance(this);
    }

    public ServerConfig Config { get; }
    public Log Log { get; }
    public string Directory { get; }
    public FasterKV<SpanByte, SpanByte> Kv { get; }
    /// <summary>The key hash of the index (recorded in the checkpoint manifest).</summary>
    public KeyComparer Comparer { get; }
    public StoreValueLength ValueLength { get; }
    public int MemoryBits { get; }
    public long MemoryBudget => 1L << MemoryBits;
    public int PageBits { get; private set; }
    /// <summary>Largest value payload a record can hold (a record never spans a log page).</summary>
    public long MaxValueLength => (1L << PageBits) - 4096;

    /// <summary>
    /// Where the last checkpoint's log starts (its recovery reads the files from there): compaction
    /// deletes log files only below it. MaxValue while no checkpoint needs them.
    /// </summary>
    public long CheckpointBeginAddress { get; set; } = long.MaxValue;

    /// <summary>How long each phase of the last checkpoint took.</summary>
    public CheckpointPhases Phases { get; } = new();

    public Maintenance Maintenance => _maintenance;
    /// <summary>Told of each key the active expiry cycle deletes (client-side caching).</summary>
    public IExpiryListener? ExpiryListener { get; set; }

    /// <summary>Which collection ids have pages to keep (compaction drops the others' pages).</summary>
    public Values.Paged.LiveCollections Collections { get; }

    /// <summary>Page records that have a newer version: compaction drops them without FASTER's chain walk.</summary>
    public SupersededRecords Superseded { get; } = new();

    /// <summary>
    /// Called on the I/O thread after each disk read of the log has completed (the server host wakes the
    /// reactors that wait on one). Cheap and non-blocking.
    /// </summary>
    public Action? DiskReadCompleted { get => _device.Completed; set => _device.Completed = value; }

    /// <summary>Disk reads of the log completed so far.</summary>
    public long DiskCompletions => Volatile.Read(ref _device.Completions);

    /// <summary>
    /// Log memory from maxmemory: the largest power of two within it (FASTER's unit), at least 16 MB.
    /// Pages: a recovered log's <paramref name="pageBits"/>, else <paramref name="pageSize"/> capped at
    /// a quarter of the memory; the memory holds at least 4 pages.
    /// </summary>
    public static (int memoryBits, int pageBits) LogSizing(long maxmemory, int? pageBits = null, long pageSize = 1L << LogPageBits)
    {
        int memoryBits = 31; // 2 GB when unlimited
        if (maxmemory > 0)
        {
            memoryBits = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)maxmemory);
            memoryBits = Math.Clamp(memoryBits, 24, 40);
        }
        int bits = pageBits ?? Math.Min(System.Numerics.BitOperations.Log2((ulong)pageSize), memoryBits - 2);
        return (Math.Max(memoryBits, bits + 2), bits);
    }

    /// <summary>
    /// Recovery is over (the checkpoint recounted, the AOF replayed): every main record naming a cid has
    /// been seen, so compaction may drop the pages of the others from now on.
    /// </summary>
    public void Start()
    {
        Collections.MarkComplete();
        _maintenance.Start();
    }

    public StoreSession NewSession(string name, ReadCopyOptions? copy = null)
    {
        var stats = new StoreStats();
        lock (_allStats) _allStats.Add(stats);
        return new StoreSession(this, stats, copy);
    }

    internal ClientSession<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions> NewFasterSession(StoreStats stats, ReadCopyOptions copy)
        => Kv.For(new StoreFunctions(this, stats)).NewSession<StoreFunctions>(
            new StoreFunctions(this, stats),
            sessionVariableLengthStructSettings: new SessionVariableLengthStructSettings<SpanByte, StoreInput> { valueLength = ValueLength },
            readCopyOptions: copy);

    // ------------------------------------------------------------ namespaces

    public int Databases => _dbNs.Length;

    public int Namespace(int db) => Volatile.Read(ref _dbNs)[db];

    /// <summary>The database whose keys live in namespace <paramref name="ns"/> now; -1 if none (flushed since).</summary>
    public int DatabaseOf(int ns)
    {
        var map = Volatile.Read(ref _dbNs);
        for (int db = 0; db < map.Length; db++) if (map[db] == ns) return db;
        return -1;
    }

    /// <summary>Who hears of the keys the maintenance thread expires (keyspace notifications; null: nobody).</summary>
    public IKeyEvents? BackgroundEvents { get; set; }

    /// <summary>A reactor found a key expired on disk: the maintenance thread deletes it (and fires its event).</summary>
    internal void ExpireLater(int ns, ReadOnlySpan<byte> key) => _maintenance.ExpireLater(ns, key);

    /// <summary>
    /// The db -> namespace map now. Never changed in place (FLUSHDB, FLUSHALL and SWAPDB install a new
    /// one), so whoever hashed keys under it can tell, by reference, whether they still name the same records.
    /// </summary>
    public object NamespaceMapIdentity => Volatile.Read(ref _dbNs);

    public NamespaceCounters Counters(int ns)
    {
        var arr = Volatile.Read(ref _counters);
        if ((uint)ns < (uint)arr.Length && arr[ns] is { } c) return c;
        if (ns == PagesNamespace) return _pageCounters;
        return CountersSlow(ns);
    }

    private NamespaceCounters CountersSlow(int ns)
    {
        lock (_nsLock)
        {
            var arr = _counters;
            if (ns >= arr.Length)
            {
                Array.Resize(ref arr, Math.Max(ns + 1, arr.Length * 2));
                Volatile.Write(ref _counters, arr);
            }
            return arr[ns] ??= new NamespaceCounters { Dead = ns >= _nextNs };
        }
    }

    private int NewNamespace()
    {
        lock (_nsLock)
        {
            int ns = _nextNs++;
            var arr = _counters;
            if (ns >= arr.Length)
            {
                Array.Resize(ref arr, arr.Length * 2);
                Volatile.Write(ref _counters, arr);
            }
            arr[ns] = new NamespaceCounters();
            return ns;
        }
    }

    public bool IsDeadNamespace(int ns) => Counters(ns).Dead;

    // ------------------------------------------------------------ paged collections

    /// <summary>
    /// The namespace page records of paged collections live in, under [cid][kind][page] keys: no
    /// database maps to it, so SCAN, KEYS, DBSIZE and FLUSHDB never see pages; a collection's pages die
    /// with its cid (the graveyard), not with a namespace.
    /// </summary>
    public const int PagesNamespace = -1;

    private long _nextCid = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16;

    /// <summary>
    /// A collection id never used before in this data directory: the clock in ms at start-up, shifted 16
    /// bits, then counted up (a restart starts past every id of the last run unless the clock went back
    /// by more than that run's ids / 65,536 ms), and past every id recovery saw (<see cref="SawCollectionId"/>).
    /// The cid is reserved (compaction keeps its pages) until a main record names it or the command that
    /// asked for it ends without one (<see cref="StoreSession.EndCommand"/>).
    /// </summary>
    public ulong NewCollectionId()
    {
        ulong cid = (ulong)Interlocked.Increment(ref _nextCid);
        Collections.Reserve(cid);
        return cid;
    }

    /// <summary>Recovery met <paramref name="cid"/>: ids handed out later are above it.</summary>
    public void SawCollectionId(ulong cid)
    {
        long c = (long)cid, seen;
        while ((seen = Volatile.Read(ref _nextCid)) < c && Interlocked.CompareExchange(ref _nextCid, c, seen) != seen) { }
    }

    public long KeyCount(int db) => Math.Max(0, Volatile.Read(ref Counters(Namespace(db)).Keys));
    public long ExpiresCount(int db) => Math.Max(0, Volatile.Read(ref Counters(Namespace(db)).Expires));

    /// <summary>Total keys with an expiry across live namespaces (active expiry runs only when > 0).</summary>
    /// <summary>CLIENT PAUSE (PAUSE_ACTION_EXPIRE): the active expiry cycle deletes nothing while it lasts.</summary>
    public bool ExpiryPaused => _expiryPaused;
    private volatile bool _expiryPaused;

    public void PauseExpiry(bool paused) => _expiryPaused = paused;

    public long TotalExpires()
    {
        long n = 0;
        var map = Volatile.Read(ref _dbNs);
        foreach (var ns in map) n += Volatile.Read(ref Counters(ns).Expires);
        return n;
    }

    /// <summary>FLUSHDB: the database gets a fresh namespace; the old one's records die in compaction.</summary>
    public void FlushDb(int db)
    {
        lock (_nsLock)
        {
            int old = _dbNs[db];
            var map = (int[])_dbNs.Clone();
            map[db] = NewNamespace();
            Volatile.Write(ref _dbNs, map);
            Retire(old);
            LogNamespaces();
        }
    }

    public void FlushAll()
    {
        lock (_nsLock)
        {
            var map = (int[])_dbNs.Clone();
            for (int i = 0; i < map.Length; i++)
            {
                Retire(map[i]);
                map[i] = NewNamespace();
            }
            Volatile.Write(ref _dbNs, map);
            LogNamespaces();
        }
    }

    private void Retire(int ns)
    {
        Counters(ns).Dead = true;
        Collections.NamespacesDied();
    }

    /// <summary>A dead namespace's page bytes, handed to the graveyard once (the sweep of its cids).</summary>
    internal long TakePageBytes(int ns) => Interlocked.Exchange(ref Counters(ns).PageBytes, 0);

    public void SwapDb(int a, int b)
    {
        lock (_nsLock)
        {
            var map = (int[])_dbNs.Clone();
            (map[a], map[b]) = (map[b], map[a]);
            Volatile.Write(ref _dbNs, map);
            LogNamespaces();
        }
    }

    /// <summary>Keys in every namespace, flushed ones included: their records hold index entries until compaction.</summary>
    public long IndexedKeys()
    {
        long n = 0;
        var arr = Volatile.Read(ref _counters);
        foreach (var c in arr)
            if (c is not null) n += Math.Max(0, Volatile.Read(ref c.Keys));
        return n;
    }

    /// <summary>
    /// FASTER runs one state machine at a time (a checkpoint or an index resize); whoever starts one
    /// holds this, so the other waits instead of being refused.
    /// </summary>
    public object StateMachineLock { get; } = new();

    // 1024 write stripes, one cache line each (64 KB).
    private readonly int[] _writeStripes = new int[1024 * 16];

    /// <summary>
    /// Writes to one key from two threads take turns (a spin lock per key-hash stripe, held for the
    /// synchronous part of the RMW). FASTER 2.6.5 reads a key's hash entry before taking its own bucket
    /// lock; when another thread's copy-update lands in between, the CAS fails and the record it had
    /// allocated is left invalid with its key length overwritten by the allocation size
    /// (SaveAllocationForRetry). Log scans size records before checking validity, so that record made
    /// compaction, snapshot flushes and the expiry walk read garbage: concurrent APPEND/DEL on 300 keys
    /// from two reactors crashed the server (AccessViolationException) within 30 s, old and new code.
    /// </summary>
    internal ref int WriteStripe(long hash) => ref _writeStripes[(int)((ulong)hash >> 54) << 4];

    internal static void EnterStripe(ref int stripe)
    {
        if (Interlocked.CompareExchange(ref stripe, 1, 0) == 0) return;
        var spin = new SpinWait();
        while (Volatile.Read(ref stripe) != 0 || Interlocked.CompareExchange(ref stripe, 1, 0) != 0) spin.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>
    /// Approximate bytes of live records (latest versions) in all databases, the pages of their paged
    /// collections included: without those, a live 1M-field hash (70 MB of pages) looked like garbage
    /// and had compaction copy it to the tail every second.
    /// </summary>
    public long LiveBytes()
    {
        long n = 0;
        foreach (var ns in Volatile.Read(ref _dbNs))
        {
            var c = Counters(ns);
            n += Volatile.Read(ref c.Bytes) + Volatile.Read(ref c.PageBytes);
        }
        return n;
    }

    /// <summary>Estimated page bytes of live paged collections (INFO).</summary>
    public long LivePageBytes()
    {
        long n = 0;
        foreach (var ns in Volatile.Read(ref _dbNs)) n += Volatile.Read(ref Counters(ns).PageBytes);
        return n;
    }

    // ------------------------------------------------------------ SCAN cursors

    private readonly HashSet<long> _cursorSet = new();
    private readonly Queue<long> _cursorOrder = new();

    /// <summary>Remembers a cursor handed to a client (a record boundary in the log).</summary>
    public void IssueCursor(long address)
    {
        lock (_cursorSet)
        {
            if (!_cursorSet.Add(address)) return;
            _cursorOrder.Enqueue(address);
            if (_cursorOrder.Count > 8192) _cursorSet.Remove(_cursorOrder.Dequeue());
        }
    }

    /// <summary>
    /// Where a SCAN with <paramref name="cursor"/> starts: the cursor itself when we issued it,
    /// else the start of its page (a record boundary), so a made-up cursor cannot misparse the log.
    /// </summary>
    public long ResumeAddress(long cursor, out long skipBelow)
    {
        long begin = Kv.Log.BeginAddress;
        skipBelow = 0;
        if (cursor <= begin) return begin;
        lock (_cursorSet)
        {
            if (_cursorSet.Contains(cursor)) return cursor;
        }
        skipBelow = cursor;
        long page = cursor & ~((1L << PageBits) - 1);
        return Math.Max(page, begin);
    }

    /// <summary>Snapshot of db -> namespace (for checkpoints / recovery).</summary>
    public int[] NamespaceMap() => (int[])Volatile.Read(ref _dbNs).Clone();

    // ------------------------------------------------------------ stats

    public StoreStats TotalStats()
    {
        var total = new StoreStats();
        lock (_allStats)
        {
            foreach (var s in _allStats)
            {
                total.KeyspaceHits += Volatile.Read(ref s.KeyspaceHits);
                total.KeyspaceMisses += Volatile.Read(ref s.KeyspaceMisses);
                total.ExpiredKeys += Volatile.Read(ref s.ExpiredKeys);
                total.DiskReads += Volatile.Read(ref s.DiskReads);
                total.DiskWrites += Volatile.Read(ref s.DiskWrites);
                total.DiskPrefetches += Volatile.Read(ref s.DiskPrefetches);
                total.SlotReplays += Volatile.Read(ref s.SlotReplays);
                total.ReadCopyBytes += Volatile.Read(ref s.ReadCopyBytes);
                total.CompactionCopyBytes += Volatile.Read(ref s.CompactionCopyBytes);
                total.CompactionRecords += Volatile.Read(ref s.CompactionRecords);
                total.CompactionDiskChecks += Volatile.Read(ref s.CompactionDiskChecks);
                total.CompactionSuperseded += Volatile.Read(ref s.CompactionSuperseded);
                total.LogRoomWaits += Volatile.Read(ref s.LogRoomWaits);
            }
        }
        return total;
    }

    /// <summary>The hash index: its table and overflow buckets, 64 bytes each.</summary>
    public long IndexBytes => (Kv.IndexSize + Kv.OverflowBucketCount) * 64L;


    public long DiskBytes
    {
        get
        {
            long n = 0;
            try
            {
                foreach (var f in System.IO.Directory.GetFiles(Directory)) n += new FileInfo(f).Length;
            }
            catch (IOException) { }
            return n;
        }
    }

    public void Dispose()
    {
        _maintenance.Stop();
        Kv.Dispose();
        _device.Dispose();
    }
}
