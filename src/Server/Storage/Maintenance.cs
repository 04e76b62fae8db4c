using System.Collections.Concurrent;
using System.Diagnostics;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The store's background thread: active expiry (walks the log, deleting records whose expiry
/// passed, through its own session) and log compaction (copies live records off the oldest part
/// of the log, then truncates it), so disk stays a small multiple of the live data.
/// </summary>
public sealed class Maintenance
{
    private readonly Store _store;
    private Thread? _thread;
    private volatile bool _stopping;
    private readonly ManualResetEventSlim _wake = new(false);
    private long _expiryCursor;
    private byte[] _batch = new byte[64 * 1024];
    private readonly ConcurrentQueue<(int Ns, byte[] Key)> _expireLater = new();

    public Maintenance(Store store)
    {
        _store = store;
    }

    /// <summary>Average remaining TTL (ms) of volatile keys seen by the last expiry pass.</summary>
    public long AverageTtl { get; private set; }
    public long Compactions { get; private set; }

    /// <summary>Collections asked for to give free heap back (<see cref="ReturnFreeHeap"/>), and the longest pause one took (INFO).</summary>
    public long HeapReturns { get; private set; }
    public double HeapReturnMaxPauseMs { get; private set; }
    public long ExpiryPasses { get; private set; }

    public void Start()
    {
        _thread = new Thread(Run) { Name = "store-maintenance", IsBackground = true };
        _thread.Start();
    }

    public void Stop()
    {
        _stopping = true;
        _wake.Set();
        _thread?.Join();
    }

    /// <summary>Asks for a compaction check now (FLUSHALL, tests).</summary>
    public void Poke() => _wake.Set();

    private void Run()
    {
        using var session = _store.NewSession("maintenance", ReadCopyOptions.None);
        long nextCompactionCheck = 0;
        while (!_stopping)
        {
            try
            {
                bool more = false;
                _store.GrowIndexIfNeeded();
                FlushBehind();
                ExpireRequested(session);
                if (!_store.ExpiryPaused && _store.TotalExpires() > 0) more = ExpireCycle(session);
                long now = Environment.TickCount64;
                if (now >= nextCompactionCheck)
                {
                    nextCompactionCheck = now + 1000;
                    MaybeCompact(session);
                    ReturnFreeHeap();
                }
                if (!more)
                {
                    _wake.Wait(100);
                    _wake.Reset();
                }
            }
            catch (Exception e) when (!_stopping)
            {
                _store.Log.Warning($"store maintenance: {e.Message}");
                Thread.Sleep(1000);
            }
        }
    }

    /// <summary>
    /// Free heap the GC may keep committed before a collection is asked for (checked once a second). A 5M-member
    /// set loaded under maxmemory 32mb peaked at 205 MB of RSS with 48 MB here, 169 MB with 32.
    /// </summary>
    private const long FreeHeapLimit = 32L << 20;

    /// <summary>
    /// The GC gives free regions back to the system as part of a collection, and a server that allocates
    /// little (disk reads completing inline, no task per read) collects rarely: after a 2M-field load into one
    /// hash under maxmemory 32mb, 86-117 MB of the heap was committed and free, RSS 179-210 MB against 164
    /// for the build that allocated more (a gen1 collection returned nothing). A gen2 one, not compacting,
    /// when the free part passes the limit: RSS after 5M fields 155 MB. It stops every thread: 14-21 of
    /// them in a 3M-field load, the longest 12-22 ms (INFO store_heap_return_max_pause_ms; with background
    /// GC, which this build turns off, 10 ms). What leaves that much heap free so fast is not measured
    /// yet (a guess: FASTER's page-sized scan frame, allocated by every compaction pass).
    /// </summary>
    private void ReturnFreeHeap()
    {
        long free = GC.GetGCMemoryInfo().TotalCommittedBytes - GC.GetTotalMemory(false);
        if (free <= FreeHeapLimit) return;
        var paused = GC.GetTotalPauseDuration();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
        HeapReturns++;
        HeapReturnMaxPauseMs = Math.Max(HeapReturnMaxPauseMs, (GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
    }

    /// <summary>Any thread: <paramref name="key"/> was found expired on disk by a read; it is deleted on the next pass.</summary>
    internal void ExpireLater(int ns, ReadOnlySpan<byte> key)
    {
        _expireLater.Enqueue((ns, key.ToArray()));
        _wake.Set();
    }

    private void ExpireRequested(StoreSession session)
    {
        while (_expireLater.TryDequeue(out var r))
        {
            if (_store.IsDeadNamespace(r.Ns)) continue;
            var input = new StoreInput { Op = StoreOp.Delete, Flags = OpFlags.IfExpired, Now = CommandClock.ExpiryHorizon(CommandClock.NowMs()) };
            session.RmwNamespace(r.Ns, r.Key, ref input, out var slot);
            if (slot.ExpiredKey) Expired(r.Ns, r.Key);
        }
    }

    /// <summary>activeExpireCycle's deleteExpiredKeyAndPropagate: the <c>expired</c> event, for its database now.</summary>
    private void Expired(int ns, ReadOnlySpan<byte> key)
    {
        // signalModifiedKey: what clients cached of it is invalidated (client-side caching).
        _store.ExpiryListener?.Expired(ns, key);
        if (_store.BackgroundEvents is not { } events) return;
        int db = _store.DatabaseOf(ns);
        if (db >= 0) events.Expired(db, key);
    }

    /// <summary>One slice (about 25 ms) of the expiry walk; true when it stopped on its budget.</summary>
    private bool ExpireCycle(StoreSession session)
    {
        var log = _store.Kv.Log;
        long begin = log.BeginAddress;
        long tail = log.TailAddress;
        if (_expiryCursor < begin || _expiryCursor >= tail) _expiryCursor = begin;
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 40;
        long now = CommandClock.NowMs();
        // Keys a running script or EXEC still sees as live stay (Redis runs no cycle inside one).
        long horizon = CommandClock.ExpiryHorizon(now);
        // Int128: one key with PEXPIREAT near long.MaxValue leaves ~9.2e18 ms, so two of them
        // overflowed a long sum and INFO showed a negative avg_ttl.
        Int128 ttlSum = 0;
        long ttlCount = 0;
        bool budgetHit = false;
        while (!_stopping)
        {
            int used = 0, count = 0;
            long next;
            using (var iter = log.Scan(_expiryCursor, tail))
            {
                while (true)
                {
                    if (!iter.GetNext(out var info))
                    {
                        next = tail;
                        break;
                    }
                    next = iter.NextAddress;
                    if (info.Tombstone || info.Invalid) continue;
                    ref var key = ref iter.GetKey();
                    ref var value = ref iter.GetValue();
                    if (value.Length < ValueLayout.Header) continue;
                    long exp = ValueLayout.ExpiryOf(ref value);
                    if (exp == 0) continue;
                    if (exp > now)
                    {
                        ttlSum += exp - now;
                        ttlCount++;
                        continue;
                    }
                    if (exp > horizon) continue;
                    int need = 4 + key.Length;
                    if (used + need > _batch.Length) { next = iter.CurrentAddress; break; }
                    BitConverter.TryWriteBytes(_batch.AsSpan(used), key.Length);
                    key.AsReadOnlySpan().CopyTo(_batch.AsSpan(used + 4));
                    used += need;
                    if (++count >= 1024) break;
                }
            }
            _expiryCursor = next;
            for (int off = 0; off < used;)
            {
                int len = BitConverter.ToInt32(_batch, off);
                var full = _batch.AsSpan(off + 4, len);
                off += 4 + len;
                int ns = BitConverter.ToInt32(full);
                if (_store.IsDeadNamespace(ns)) continue;
                var input = new StoreInput { Op = StoreOp.Delete, Flags = OpFlags.IfExpired, Now = horizon };
                session.RmwNamespace(ns, full[ValueLayout.KeyPrefix..], ref input, out var slot);
                if (slot.ExpiredKey) Expired(ns, full[ValueLayout.KeyPrefix..]);
            }
            if (next >= tail)
            {
                _expiryCursor = log.BeginAddress;
                ExpiryPasses++;
                break;
            }
            if (Stopwatch.GetTimestamp() > deadline) { budgetHit = true; break; }
        }
        if (ttlCount > 0) AverageTtl = (long)(ttlSum / ttlCount);
        else if (_store.TotalExpires() == 0) AverageTtl = 0;
        return budgetHit;
    }

    /// <summary>
    /// Once the log is mostly old versions (over twice the live data + 8 MB), records are copied on
    /// update anyway, so keeping the tail mutable buys little: the read-only address follows the tail
    /// (every pass, 100 ms at most, once 4 MB are behind), which writes the log out in the background.
    /// A checkpoint then writes what is left (fold-over: only what is not on disk yet), and compaction
    /// finds a read-only region to work on. Without this, 2M overwrites of 300 keys left 40-60 MB for
    /// the next SAVE to write (80-100 ms) where a fresh store's SAVE writes under 1 MB.
    /// </summary>
    private void FlushBehind()
    {
        var log = _store.Kv.Log;
        long tail = log.TailAddress;
        long live = Math.Max(0, _store.LiveBytes());
        // A dead collection worth a compaction died above the read-only address: compaction stops there, so
        // the address moves up past it at once (a DEL right after a load found it within 4 MB of the tail,
        // and the 4 MB rule kept it there: nothing was compacted for a minute).
        var collections = _store.Collections;
        bool deadAbove = collections.OldestDead(out long died) && died > log.SafeReadOnlyAddress && PagesToReclaim(collections.DeadBytes, live);
        if (!deadAbove)
        {
            if (tail - log.SafeReadOnlyAddress < (4L << 20)) return;
            if (tail - log.BeginAddress <= 2 * live + (8L << 20)) return;
        }
        log.ShiftReadOnlyAddress(tail, wait: false);
    }

    /// <summary>
    /// Compacts when the log holds much more than the live data: everything below the read-only
    /// address that is still the latest version moves to the tail, the rest is dropped. The begin
    /// address (and with it the head) moves past the dropped part, so its pages leave memory: before
    /// <see cref="FlushBehind"/>, the read-only address trailed the tail by 90% of the log memory
    /// (1.8 GB by default), nothing was ever compactable, and 2M overwrites of 300 keys kept 250 MB of
    /// dead versions in memory, all written again by every checkpoint (240-720 ms for 276 keys).
    /// </summary>
    private void MaybeCompact(StoreSession session)
    {
        var log = _store.Kv.Log;
        var collections = _store.Collections;
        // The marks' window follows the begin (a recovered log does not begin at 0).
        _store.Superseded.BeginMoved(log.BeginAddress);
        collections.Sweep(_store.TakePageBytes, log.TailAddress);
        SettleGraveyard();
        long span = log.TailAddress - log.BeginAddress;
        long live = Math.Max(0, _store.LiveBytes());
        long threshold = 2 * live + (32L << 20);
        // FlushBehind keeps the read-only address near the tail once the log is this far past the live data.
        long until = log.SafeReadOnlyAddress;
        bool reclaim = PagesToReclaim(collections.DeadBytesBelow(until), live);
        if (span <= threshold && !reclaim) return;
        // Only the oldest part, span - live bytes of it, where the fewest records are still live: up to the
        // read-only address (the tail, under FlushBehind), the newest records, most of them live, were copied
        // again by every pass. One hash of 5M fields loaded under maxmemory 32mb: compaction copied 2.08 GB
        // (27% of what the log wrote); <see cref="PagesToReclaim"/> still goes as far as it can.
        if (!reclaim) until = Math.Min(until, log.BeginAddress + span - live);
        if (until - log.BeginAddress < (8L << 20)) return;
        var sw = Stopwatch.StartNew();
        long before = log.BeginAddress;
        long compacted = Compact(session, until);
        _store.Log.Verbose($"store: compacted {(compacted - before) >> 20} MB of log in {sw.ElapsedMilliseconds} ms");
    }

    /// <summary>
    /// Compacts the log below <paramref name="until"/> (the live records there move to the tail, the
    /// dead ones are dropped) and moves the begin past it; where the log now begins.
    /// </summary>
    internal long Compact(StoreSession session, long until)
    {
        var log = _store.Kv.Log;
        var collections = _store.Collections;
        long memoryBefore = log.MemorySizeBytes;
        long compacted = CopyLiveRecords(session.Stats, until);
        // Files below the last checkpoint's start stay until the next checkpoint replaces it.
        long keep = Math.Min(log.BeginAddress, _store.CheckpointBeginAddress);
        log.ShiftBeginAddress(keep, truncateLog: true);
        collections.BeginMoved(log.BeginAddress);
        _store.Superseded.BeginMoved(log.BeginAddress);
        SettleGraveyard();
        Compactions++;
        // The pages FASTER let go of are pinned arrays: a background collection gives them back
        // (our steady state allocates next to nothing, so no collection would come by itself).
        if (log.MemorySizeBytes < memoryBefore - (64L << 20)) GC.Collect(2, GCCollectionMode.Forced, blocking: false, compacting: false);
        return compacted;
    }

    /// <summary>
    /// A dead collection counts as reclaimed once the log begins past where it died. Compaction stops
    /// at the read-only address, often just below that point (the DEL's own tombstone is above it), and
    /// then nothing may move the begin for a long time, so 18 MB of a dropped 200k-field hash stayed
    /// "pending" with its pages long gone. So the few MB between the begin and the oldest death, when in
    /// memory, are looked through: no page of a dead cid there, nothing of it is left.
    /// </summary>
    private void SettleGraveyard()
    {
        var log = _store.Kv.Log;
        var collections = _store.Collections;
        for (int round = 0; round < 16 && collections.OldestDead(out long died); round++)
        {
            long begin = log.BeginAddress;
            if (died <= begin)
            {
                collections.BeginMoved(begin);
                continue;
            }
            if (died - begin > (16L << 20) || begin < log.HeadAddress) return;
            using var iter = log.Scan(begin, died);
            while (iter.GetNext(out var info))
            {
                if (info.Tombstone || info.Invalid) continue;
                ref var key = ref iter.GetKey();
                if (key.Length < ValueLayout.KeyPrefix || ValueLayout.NamespaceOf(ref key) != Store.PagesNamespace) continue;
                if (!collections.IsAlive(Values.Paged.LiveCollections.CidOfPageKey(ref key))) return; // still there
            }
            collections.BeginMoved(died);
        }
    }

    /// <summary>
    /// Dead collections' pages compaction can reach (below the read-only address) are worth a pass of
    /// their own once they are at least 16 MB and a quarter of the live data (the pass copies up to all of
    /// it): a 1M-field hash (70 MB of pages) dropped beside 200 MB of live keys is reclaimed within a
    /// second or two, where the log's own rule (twice the live data + 32 MB) would wait for 500 MB more.
    /// </summary>
    private static bool PagesToReclaim(long reclaimable, long live) => reclaimable >= (16L << 20) && reclaimable >= live / 4;

    /// <summary>
    /// FASTER's lookup compaction, with our filter and our locking: every record below <paramref name="until"/>
    /// that is not dropped (<see cref="IsDead"/>) is copied to the tail unless a newer version of its key
    /// exists, then the log begins past them. Each copy takes its key's write stripe for the copy alone: a
    /// reactor rewriting the key between FASTER's check and its CAS made the CAS fail, which leaves an invalid
    /// record sized by its allocation that the next log scan walks into (HINCRBY h and SADD s, s growing to
    /// 16,000 members, from four clients on two reactors crashed the server in one run of four:
    /// AccessViolationException in SpanByteVarLenStruct.GetLength). FASTER's own loop (Log.Compact) only
    /// let a filter hold the stripe until it asked about the next record, which spanned the wait for 256
    /// pending copies and the read of the next 8 MB frame: a reactor writing a key of that stripe (an HSET
    /// of 100 fields writes 100 pages, a tenth of the 1,024 stripes) spun meanwhile; a PING beside a 5M-member
    /// SADD load waited up to 537 ms.
    /// </summary>
    private long CopyLiveRecords(StoreStats stats, long until)
    {
        var log = _store.Kv.Log;
        using var session = _store.NewFasterSession(stats, ReadCopyOptions.None);
        var input = default(StoreInput);
        var output = new StoreOutput { Slot = new OpSlot() };
        var superseded = _store.Superseded;
        long pending = 0;
        // One frame of log pages (8 MB by default), not FASTER's default two: the second only reads ahead, and
        // its 8 MB came on top of the log's memory while compaction ran (RSS of a 5M-field hash load under
        // maxmemory 32mb peaked at 203 MB with two frames).
        // The scan runs to the end of the page `until` is in: FASTER's scan of pages on disk loads its frame only
        // up to the scan's end, so a record across it came back with zeros for its last bytes, and was copied to
        // the tail as the live version (CompactionEndTests; a 5M-field hash load lost 18 fields and garbled 2).
        // Records from `until` on are not looked at.
        long end = until, pageEnd = ((until >> _store.PageBits) + 1) << _store.PageBits;
        using (var iter = log.Scan(log.BeginAddress, Math.Min(pageEnd, Math.Max(until, log.SafeReadOnlyAddress)), ScanBufferingMode.SinglePageBuffering))
        {
            while (iter.GetNext(out var info))
            {
                if (iter.CurrentAddress >= end) break;
                // A record boundary: where the log will begin.
                until = iter.NextAddress;
                stats.CompactionRecords++;
                ref var key = ref iter.GetKey();
                ref var value = ref iter.GetValue();
                if (info.Tombstone || IsDead(ref key, ref value)) continue;
                // A page record a later write replaced: dead without FASTER's walk of its chain (often a read from disk).
                if (superseded.Contains(iter.CurrentAddress) && IsPageRecord(ref key))
                {
                    stats.CompactionSuperseded++;
                    continue;
                }
                ref int stripe = ref _store.WriteStripe(_store.Comparer.GetHashCode64(ref key));
                Store.EnterStripe(ref stripe);
                Status status;
                try { status = CompactionCopyToTail(session, ref key, ref input, ref value, ref output, iter.NextAddress); }
                finally { Volatile.Write(ref stripe, 0); }
                if (!status.IsPending) continue;
                stats.CompactionDiskChecks++;
                if (++pending > 256)
                {
                    session.CompletePending(wait: true);
                    pending = 0;
                }
            }
        }
        if (pending > 0) session.CompletePending(wait: true);
        log.ShiftBeginAddress(until, truncateLog: false);
        return until;
    }

    private static Status CompactionCopyToTail(ClientSession<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions> session,
        ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput output, long untilAddress)
        => Faster<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions>.CompactionCopyToTail(session, ref key, ref input, ref value, ref output, untilAddress);

    /// <summary>
    /// FASTER 2.6.5 keeps the copy its Log.Compact makes per record internal; an accessor is bound at compile
    /// time (no reflection), so AOT keeps it. A generic type's member needs the accessor in a class of the same
    /// type parameters.
    /// </summary>
    private static class Faster<TKey, TValue, TInput, TOutput, TContext, TFunctions>
        where TFunctions : IFunctions<TKey, TValue, TInput, TOutput, TContext>
    {
        [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "CompactionCopyToTail")]
        public static extern Status CompactionCopyToTail(ClientSession<TKey, TValue, TInput, TOutput, TContext, TFunctions> session,
            ref TKey key, ref TInput input, ref TValue value, ref TOutput output, long untilAddress);
    }

    private static bool IsPageRecord(ref SpanByte key) => key.Length >= ValueLayout.KeyPrefix && ValueLayout.NamespaceOf(ref key) == Store.PagesNamespace;

    /// <summary>
    /// What compaction drops: records of flushed databases, and pages of collections no main record names
    /// any more (<see cref="Values.Paged.LiveCollections"/>).
    /// </summary>
    private bool IsDead(ref SpanByte key, ref SpanByte value)
    {
        int ns = ValueLayout.NamespaceOf(ref key);
        if (ns == Store.PagesNamespace)
        {
            if (_store.Collections.IsAlive(Values.Paged.LiveCollections.CidOfPageKey(ref key))) return false;
            _store.Collections.Reclaimed(value.Length);
            return true;
        }
        return _store.IsDeadNamespace(ns);
    }
}
