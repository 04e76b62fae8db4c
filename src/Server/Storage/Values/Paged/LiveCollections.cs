using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FASTER.core;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Which collection ids have pages worth keeping: a cid is alive while some main record (the latest
/// version of a key, in a namespace not flushed) holds a <see cref="PagedRoot"/> naming it, or while a
/// command is still building it (<see cref="Reserve"/>). Compaction drops the page records of every
/// other cid (<see cref="IsAlive"/>), so DEL, overwrite, expiry and FLUSHDB of a huge collection touch
/// only its main record. The store callbacks report every change of a main record that names a cid
/// (<see cref="Changed"/>), once the record is in (FASTER may run CopyUpdater again after a failed CAS);
/// upserts (copies to the tail, compaction) hold the same cid and change nothing.
/// A cid counts its main records (RENAME and MOVE write the destination, then delete the source: two for
/// a moment, never none). Cost: a Dictionary entry of 24 bytes (hash, next, cid, namespace, count) and
/// a 4-byte bucket, 28 bytes a paged collection (up to twice that just after the table grew), against
/// the 513 elements at least that a paged collection holds; the lock is taken only when a cid appears
/// or goes (a meta update of the same cid changes only its namespace's page bytes).
/// </summary>
public sealed class LiveCollections
{
    private struct Entry
    {
        public int Ns;
        /// <summary>Main records naming the cid; 0 while a command builds it (reserved).</summary>
        public int Refs;
    }

    private readonly object _lock = new();
    private readonly Dictionary<ulong, Entry> _live = new();
    private readonly Func<int, bool> _deadNamespace;

    /// <summary>
    /// Dead collections whose pages may still be in the log: (the log's tail when the cid died, the
    /// estimated bytes). All of a dead cid's pages lie below that tail, so once compaction has moved the
    /// log's begin past it they are gone. Neighbours within 1 MB of tail share an item, which bounds the
    /// queue by the log's span.
    /// </summary>
    private readonly Queue<(long Tail, long Bytes)> _graveyard = new();
    private (long Tail, long Bytes) _newest = (-1, 0);
    private long _deadBytes;
    private long _reclaimedPages;
    private long _reclaimedBytes;
    private volatile bool _complete;
    private volatile bool _namespacesDied;

    public LiveCollections(Func<int, bool> deadNamespace)
    {
        _deadNamespace = deadNamespace;
    }

    // ------------------------------------------------------------ what a main record names

    /// <summary>
    /// The cid a main record's value names (0: none) and its pages' estimated bytes: bucket records are
    /// written a whole page long (StoreSession.WritePage), so buckets x a page record, plus entry bytes
    /// past that (buckets written larger than a page). Out-of-line value chunks are not counted (the
    /// meta does not know their sizes): compaction's own trigger sees them as log bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe ulong CidOf(ref SpanByte value, out long bytes)
    {
        bytes = 0;
        if (value.Length < ValueLayout.Header + PagedRoot.Size) return 0;
        var type = ValueLayout.TypeOf(ref value);
        if (type == KeyType.List) return ListCidOf(ValueLayout.PayloadOf(ref value), out bytes);
        if (type == KeyType.ZSet) return ZSetCidOf(ValueLayout.PayloadOf(ref value), out bytes);
        if (type != KeyType.Hash && type != KeyType.Set) return 0;
        return CidOf(ValueLayout.PayloadOf(ref value), out bytes);
    }

    /// <summary>As <see cref="CidOf(ref SpanByte, out long)"/> for a payload already known to be a hash's or a set's.</summary>
    public static ulong CidOf(ReadOnlySpan<byte> payload, out long bytes)
    {
        bytes = 0;
        if (!PagedRoot.TryRead(payload, out var meta)) return 0;
        bytes = EstimatedBytes(meta);
        return meta.Cid;
    }

    /// <summary>As <see cref="CidOf(ReadOnlySpan{byte}, out long)"/> for a list's payload (a <see cref="ListRoot"/> when paged).</summary>
    public static ulong ListCidOf(ReadOnlySpan<byte> payload, out long bytes)
    {
        bytes = 0;
        if (!ListRoot.TryRead(payload, out var root, sides: false)) return 0;
        bytes = root.EstimatedBytes();
        return root.Cid;
    }

    /// <summary>A sorted set's payload (a <see cref="ZSetRoot"/> when paged): its hash's bytes and its tree's leaves (~70% full, as random inserts leave them).</summary>
    public static ulong ZSetCidOf(ReadOnlySpan<byte> payload, out long bytes)
    {
        bytes = 0;
        if (!ZSetRoot.TryRead(payload, out var root)) return 0;
        long keys = (long)Math.Min(root.Hash.EntryBytes, long.MaxValue / 4);
        long leaves = keys * 10 / 7 / (root.Tree.PageSize - TreePage.HeaderSize) + 1;
        bytes = EstimatedBytes(root.Hash) + leaves * ValueLayout.RecordBytes(ValueLayout.KeyPrefix + PageKey.EncodedSize, ValueLayout.Header + root.Tree.PageSize);
        return root.Cid;
    }

    public static long EstimatedBytes(in PagedMeta meta)
    {
        long buckets = (long)Math.Min(meta.Buckets, (ulong)int.MaxValue);
        long room = buckets * (meta.PageSize - BucketPage.HeaderSize);
        long excess = Math.Max(0, (long)Math.Min(meta.EntryBytes, long.MaxValue / 2) - room);
        return buckets * ValueLayout.RecordBytes(ValueLayout.KeyPrefix + PageKey.EncodedSize, ValueLayout.Header + meta.PageSize) + excess;
    }

    /// <summary>The cid of a page record's key ([ns][cid u64 BE][kind][page]).</summary>
    public static unsafe ulong CidOfPageKey(ref SpanByte key)
        => key.Length < ValueLayout.KeyPrefix + PageKey.EncodedSize ? 0 : BinaryPrimitives.ReadUInt64BigEndian(new ReadOnlySpan<byte>(key.ToPointer() + ValueLayout.KeyPrefix, 8));

    // ------------------------------------------------------------ changes

    /// <summary>
    /// A main record of namespace <paramref name="ns"/> changed from naming <paramref name="oldCid"/> to
    /// <paramref name="newCid"/> (0: none; both the same: its meta changed). Live page bytes are kept per
    /// namespace (<paramref name="pageBytes"/>, the namespace's counter), so a FLUSHDB makes them dead at once.
    /// </summary>
    public void Changed(int ns, ref long pageBytes, ulong oldCid, long oldBytes, ulong newCid, long newBytes, long tail)
    {
        if (oldCid == newCid)
        {
            if (newBytes != oldBytes) Interlocked.Add(ref pageBytes, newBytes - oldBytes);
            return;
        }
        if (newCid != 0) Interlocked.Add(ref pageBytes, newBytes);
        if (oldCid != 0) Interlocked.Add(ref pageBytes, -oldBytes);
        lock (_lock)
        {
            if (newCid != 0)
            {
                ref var e = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_live, newCid, out _);
                e.Refs++;
                e.Ns = ns;
            }
            if (oldCid != 0 && _live.TryGetValue(oldCid, out var old))
            {
                if (old.Refs <= 1)
                {
                    _live.Remove(oldCid);
                    Bury(tail, oldBytes);
                }
                else
                {
                    old.Refs--;
                    _live[oldCid] = old;
                }
            }
        }
    }

    /// <summary>
    /// A command is about to write pages of a cid no main record names yet (a new collection, a COPY):
    /// compaction keeps them until the meta lands. One that never lands (its client closed while it waited
    /// on disk) keeps its entry, and whatever pages it wrote, until the next restart's rebuild.
    /// </summary>
    public void Reserve(ulong cid)
    {
        lock (_lock)
        {
            ref var e = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_live, cid, out bool exists);
            if (!exists) e.Ns = Store.PagesNamespace;
        }
    }

    /// <summary>
    /// The command that reserved <paramref name="cid"/> ended: if no main record names it (the command
    /// made nothing after all), the reservation goes and compaction drops whatever pages it has.
    /// </summary>
    public void Unreserve(ulong cid)
    {
        lock (_lock)
        {
            if (_live.TryGetValue(cid, out var e) && e.Refs == 0) _live.Remove(cid);
        }
    }

    private void Bury(long tail, long bytes)
    {
        Interlocked.Add(ref _deadBytes, bytes);
        if (_newest.Tail >= 0 && tail - _newest.Tail < (1L << 20))
        {
            _newest = (Math.Max(tail, _newest.Tail), _newest.Bytes + bytes);
            return;
        }
        if (_newest.Tail >= 0) _graveyard.Enqueue(_newest);
        _newest = (tail, bytes);
    }

    /// <summary>FLUSHDB, FLUSHALL or a replayed namespace map retired namespaces: their cids die at the next sweep.</summary>
    public void NamespacesDied() => _namespacesDied = true;

    /// <summary>
    /// Drops the entries of flushed namespaces and buries their page bytes (<paramref name="pageBytesOf"/>
    /// hands over and zeroes a dead namespace's counter). Maintenance runs it before a compaction check.
    /// </summary>
    public void Sweep(Func<int, long> pageBytesOf, long tail)
    {
        if (!_namespacesDied) return;
        _namespacesDied = false;
        lock (_lock)
        {
            List<ulong>? dead = null;
            HashSet<int>? namespaces = null;
            foreach (var (cid, e) in _live)
            {
                if (e.Refs == 0 || !_deadNamespace(e.Ns)) continue;
                (dead ??= new()).Add(cid);
                (namespaces ??= new()).Add(e.Ns);
            }
            if (dead is null) return;
            foreach (var cid in dead) _live.Remove(cid);
            long bytes = 0;
            foreach (var ns in namespaces!) bytes += pageBytesOf(ns);
            Bury(tail, bytes);
        }
    }

    // ------------------------------------------------------------ recovery

    /// <summary>Recovery starts over (the checkpoint's records are counted again, then the AOF replays).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _live.Clear();
            _graveyard.Clear();
            _newest = (-1, 0);
            _deadBytes = 0;
        }
        _complete = false;
    }

    /// <summary>Every main record has been counted (recovery is over): compaction may drop pages from now on.</summary>
    public void MarkComplete() => _complete = true;

    public bool Complete => _complete;

    // ------------------------------------------------------------ compaction

    /// <summary>Whether a page of <paramref name="cid"/> must be kept. Everything is, until the table is complete.</summary>
    public bool IsAlive(ulong cid)
    {
        if (!_complete) return true;
        lock (_lock)
        {
            if (!_live.TryGetValue(cid, out var e)) return false;
            return e.Refs == 0 || !_deadNamespace(e.Ns);
        }
    }

    /// <summary>Compaction dropped a page record of a dead cid.</summary>
    public void Reclaimed(int bytes)
    {
        _reclaimedPages++;
        _reclaimedBytes += bytes;
    }

    /// <summary>Estimated dead page bytes below <paramref name="address"/>: what a compaction up to there reclaims.</summary>
    public long DeadBytesBelow(long address)
    {
        lock (_lock)
        {
            long n = 0;
            foreach (var (tail, bytes) in _graveyard)
            {
                if (tail > address) break;
                n += bytes;
            }
            if (_newest.Tail >= 0 && _newest.Tail <= address) n += _newest.Bytes;
            return n;
        }
    }

    /// <summary>The log now begins at <paramref name="begin"/>: dead collections that died below it are gone.</summary>
    public void BeginMoved(long begin)
    {
        lock (_lock)
        {
            while (_graveyard.TryPeek(out var g) && g.Tail <= begin)
            {
                _graveyard.Dequeue();
                Interlocked.Add(ref _deadBytes, -g.Bytes);
            }
            if (_graveyard.Count == 0 && _newest.Tail >= 0 && _newest.Tail <= begin)
            {
                Interlocked.Add(ref _deadBytes, -_newest.Bytes);
                _newest = (-1, 0);
            }
        }
    }

    /// <summary>Where the oldest dead collection still counted died (the log's tail then); false when none is.</summary>
    public bool OldestDead(out long tail)
    {
        lock (_lock)
        {
            if (_graveyard.TryPeek(out var g)) tail = g.Tail;
            else tail = _newest.Tail;
            return tail >= 0;
        }
    }

    // ------------------------------------------------------------ INFO

    /// <summary>Collections with pages (reserved ones included).</summary>
    public int Count
    {
        get { lock (_lock) return _live.Count; }
    }

    /// <summary>Estimated bytes of dead collections' pages compaction has not reached yet.</summary>
    public long DeadBytes => Math.Max(0, Volatile.Read(ref _deadBytes));
    public long ReclaimedPages => Volatile.Read(ref _reclaimedPages);
    public long ReclaimedBytes => Volatile.Read(ref _reclaimedBytes);
}
