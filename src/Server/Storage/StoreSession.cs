using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FASTER.core;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Storage;

/// <summary>How a store operation ended for the command that issued it.</summary>
public enum OpStatus : byte
{
    /// <summary>The key does not exist (or has expired).</summary>
    NotFound,
    /// <summary>The key exists; the slot holds what the operation reported.</summary>
    Found,
    /// <summary>The operation waits on disk: the handler returns at once and runs again later.</summary>
    Pending,
}

/// <summary>
/// One reactor's door to the store: its own FASTER session (created and used on the reactor
/// thread only), key buffers and result slots.
///
/// Pending design ("replay"): a command runs inside <see cref="BeginCommand"/>/<see cref="EndCommand"/>.
/// Each store operation of the command gets a slot in order. When an operation goes to disk, the
/// handler stops (its reply is discarded), the client stops reading, and the reactor keeps serving
/// others while it completes FASTER's pending operations each loop turn. When all of the client's
/// operations are done the command runs again from its unconsumed input: operations that already
/// finished are answered from their slots (so an RMW is never applied twice) and the rest are issued.
/// Outside a command (benchmarks, maintenance) a pending operation is completed synchronously.
/// </summary>
public sealed unsafe partial class StoreSession : IDisposable
{
    private readonly Store _store;
    private readonly ClientSession<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions> _session;
    private byte[] _keyBuffer = GC.AllocateUninitializedArray<byte>(1024, pinned: true);
    private readonly Stack<OpSlot> _pool = new();
    private readonly OpSlot _syncSlot = new();
    private readonly OpSlot _lazySlot = new();
    private PendingState? _command;
    private int _cursor;
    private bool _attemptPending;
    private int _dirty;

    /// <summary>FASTER operations of this session still in flight.</summary>
    internal int Outstanding;

    internal StoreSession(Store store, StoreStats stats, ReadCopyOptions? copy)
    {
        _store = store;
        Stats = stats;
        _session = store.NewFasterSession(stats, copy ?? default);
    }

    public Store Store => _store;
    public StoreStats Stats { get; }
    public bool HasPending => Outstanding > 0;
    /// <summary>True once an operation of the running command went pending.</summary>
    public bool AttemptPending => _attemptPending;
    /// <summary>Mutations made by the running command (0: nothing to propagate).</summary>
    public int Dirty => _dirty;
    public void MarkDirty() => _dirty++;

    internal ClientSession<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions> FasterSession => _session;

    /// <summary>Who hears of the keys this session's operations expire (null: nobody).</summary>
    public IKeyEvents? Events { get; set; }

    /// <summary>
    /// A read found <paramref name="key"/> expired: with expired events on, the key is deleted now, as Redis's
    /// expireIfNeeded does on every lookup (and its event fired before anything the command itself fires). The
    /// record was just read: in memory, the delete does not wait; a record read from disk is left to the
    /// maintenance thread (its delete would wait on disk), which fires the event when it deletes it. Once per
    /// read: a replay of the read (the command ran again after a disk wait) fires again what the first attempt
    /// fired and dropped, without deleting again.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WroteExpired(int db, ReadOnlySpan<byte> key) => Events?.Expired(db, key);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReadExpired(int db, int ns, ReadOnlySpan<byte> key, OpSlot slot)
    {
        if (Events is not { WantsExpired: true } events) return;
        // expireIfNeeded: while expiry is paused (CLIENT PAUSE WRITE) an expired key reads as missing and stays.
        if (_store.ExpiryPaused) return;
        if (!slot.LazyDone)
        {
            slot.LazyDone = true;
            // (While the index splits a write would wait for the split: also the maintenance thread's.)
            if (slot.Address < _store.Kv.Log.HeadAddress || _store.IndexSplitting)
            {
                _store.ExpireLater(ns, key);
                return;
            }
            var input = new StoreInput { Op = StoreOp.Delete, Flags = OpFlags.IfExpired, Now = CommandClock.NowMs() };
            IssueSync(_lazySlot, ns, key, ref input, out var del, write: true);
            slot.ExpiredKey = del.ExpiredKey;
        }
        if (slot.ExpiredKey) events.ExpiredOnRead(db, key);
    }

    // ------------------------------------------------------------ command frame

    public void BeginCommand(PendingState state)
    {
        state.Session = this;
        _command = state;
        if (!state.Waiting) state.ClockUs = 0; // a new command, not a rerun of one that waited
        _cursor = 0;
        _attemptPending = false;
        _dirty = 0;
        state.ReplyKept = -1;
        state.Walk?.BeginAttempt();
    }

    /// <summary>
    /// Freezes the reactor's clock for the script or EXEC running now, at its first attempt's time (see
    /// <see cref="CommandClock"/>); true when the caller must <see cref="CommandClock.Thaw"/> it.
    /// </summary>
    public bool FreezeClock()
    {
        if (_command is { } state) return CommandClock.Freeze(ref state.ClockUs);
        long now = 0;
        return CommandClock.Freeze(ref now);
    }

    /// <summary>Ends the attempt; true when it must be run again once its operations finish.</summary>
    public bool EndCommand()
    {
        var state = _command!;
        _command = null;
        if (_attemptPending)
        {
            state.Waiting = true;
            return true;
        }
        state.Waiting = false;
        state.Walk?.End();
        if (state.NewCid != 0)
        {
            // Its collection's meta is in by now (a rerun answers every finished write from its slot), or it made none.
            _store.Collections.Unreserve(state.NewCid);
            state.NewCid = 0;
        }
        // A command that wrote several records appends them now, as one frame, before its replies can
        // leave (the write log takes CommitWait from the AOF tail after this) and while it still holds
        // its keys' locks: the frame lands after every earlier write of those keys and before any later one.
        if (state.Frame is { Active: true } frame)
        {
            frame.Active = false;
            frame.Flush(_store.Aof);
        }
        ReleaseSlots(state);
        return false;
    }

    /// <summary>
    /// The running command may write more than one record: its after-images are collected and appended
    /// to the AOF as one frame when it ends, so recovery applies it whole or not at all. Call it before
    /// the command's first write, in every attempt. A command that writes one record does not call it:
    /// its record goes straight into the AOF from the store callback (no copy, the hot SET path). It has
    /// to be decided before the first record: that record is in the AOF the moment its callback returns,
    /// and a commit from another reactor may cover it before a second one comes. The executor calls it
    /// for every write whose locks name more than one key (MSET, DEL a b, RENAME, SMOVE; MOVE locks its
    /// key in both databases), so handlers never do.
    /// </summary>
    public void FrameWrites()
    {
        if (_command is not { } state || _store.Aof is null) return;
        (state.Frame ??= new CommandFrame()).Active = true;
    }

    /// <summary>Drops a client's slots (client closed while waiting: in-flight ones are left to the GC).</summary>
    public void Abandon(PendingState state)
    {
        foreach (var s in state.Slots)
        {
            if (s.Done) _pool.Push(s);
            else
            {
                s.Owner = null;
                s.Frame = null; // its record, when it comes, goes to the AOF alone
            }
        }
        // Its records so far are in the store: the AOF must have them too, so the store and a restart agree.
        if (state.Frame is { Active: true } frame)
        {
            frame.Active = false;
            frame.Flush(_store.Aof);
        }
        state.Slots.Clear();
        state.Outstanding = 0;
        state.Waiting = false;
        state.NewCid = 0;
        state.Walk?.End();
    }

    /// <summary>The running command's walk over a paged collection, its progress kept across replay rounds; null outside a command.</summary>
    internal BucketWalk? CommandWalk() => _command is { } state ? state.Walk ??= new BucketWalk() : null;

    /// <summary>Position of the running command's next operation among its slots.</summary>
    internal int OperationCursor => _cursor;

    /// <summary>
    /// The command is done with its operations from <paramref name="from"/> to now (a finished round of a
    /// walk: its pages were copied out and used): their slots go back to the pool, and the operations after
    /// them take their positions, so a rerun that resumes past that round matches its slots as before. A walk
    /// of a 5M-field hash of 4 KB pages held all 72k bucket slots (~300 MB) until it ended.
    /// </summary>
    internal void ForgetOperations(int from)
    {
        var slots = _command!.Slots;
        int end = Math.Min(_cursor, slots.Count);
        if (from >= end) return;
        for (int i = from; i < end; i++)
        {
            if (slots[i].Done) _pool.Push(slots[i]);
            else slots[i].Owner = null;
        }
        slots.RemoveRange(from, end - from);
        _cursor = from;
    }

    /// <summary>The reply written so far by the running attempt is final: a wait on disk from now on keeps it (the executor truncates to here).</summary>
    internal void KeepReply(int mark)
    {
        if (_command is { } state) state.ReplyKept = mark;
    }

    private void ReleaseSlots(PendingState state)
    {
        var slots = state.Slots;
        for (int i = 0; i < slots.Count; i++) _pool.Push(slots[i]);
        slots.Clear();
    }

    /// <summary>Runs FASTER's completions (disk reads that arrived). Never blocks.</summary>
    public void CompletePending(bool wait = false)
    {
        if (Outstanding == 0) return;
        // No completions while the index splits (Store.IndexSplitting): FASTER completes a pending
        // operation without splitting its key's chunk first. Those waiting on disk wait for the split.
        if (_store.IndexSplitting)
        {
            if (!wait) return;
            WaitWhileSplitting();
        }
        if (_deferred.Count > 0) ReleaseDeferred();
        if (CompletionsMayRun(wait)) _session.CompletePending(wait);
    }

    /// <summary>Operations not issued because the index was splitting (see <see cref="Issue"/>).</summary>
    private readonly List<OpSlot> _deferred = new();

    /// <summary>
    /// The split is over: the deferred operations stop counting as outstanding without being done, so
    /// their commands run again and issue them (a slot that is not done is dropped and re-issued).
    /// </summary>
    private void ReleaseDeferred()
    {
        foreach (var slot in _deferred)
        {
            if (slot.Owner is { } owner) owner.Outstanding--;
            slot.Owner = null;
            slot.Session = null;
            Outstanding--;
        }
        _deferred.Clear();
    }

    private void WaitWhileSplitting()
    {
        while (_store.IndexSplitting) Thread.Sleep(1);
    }

    // ------------------------------------------------------------ operations


    /// <summary>Reads <paramref name="key"/> of database <paramref name="db"/>.</summary>
    public OpStatus Read(int db, ReadOnlySpan<byte> key, out OpSlot slot, OpFlags flags = OpFlags.None)
    {
        int ns = _store.Namespace(db);
        // The clock is read only for a record with an expiry (most have none): clock_gettime on every GET.
        var input = new StoreInput { Op = StoreOp.Read, Flags = flags, Now = StoreInput.LazyNow };
        var st = Issue(ns, key, ref input, out slot, write: false);
        if (st == OpStatus.NotFound && slot.SawExpired) ReadExpired(db, ns, key, slot);
        return st;
    }

    /// <summary>Read-modify-write of <paramref name="key"/> with <paramref name="input"/> (Now is filled in).</summary>
    public OpStatus Rmw(int db, ReadOnlySpan<byte> key, ref StoreInput input, out OpSlot slot)
    {
        int ns = _store.Namespace(db);
        var st = RmwNamespace(ns, key, ref input, out slot);
        // A write over an expired record (replayed too: the first attempt's event was dropped with it).
        if (slot.ExpiredKey && st != OpStatus.Pending) WroteExpired(db, key);
        return st;
    }

    public OpStatus RmwNamespace(int ns, ReadOnlySpan<byte> key, ref StoreInput input, out OpSlot slot)
    {
        if (input.Now == 0) input.Now = CommandClock.NowMs();
        return Issue(ns, key, ref input, out slot, write: true);
    }

    public OpStatus ReadNamespace(int ns, ReadOnlySpan<byte> key, out OpSlot slot, OpFlags flags = OpFlags.None)
    {
        var input = new StoreInput { Op = StoreOp.Read, Flags = flags, Now = StoreInput.LazyNow };
        return Issue(ns, key, ref input, out slot, write: false);
    }

    private OpStatus Issue(int ns, ReadOnlySpan<byte> key, ref StoreInput input, out OpSlot slot, bool write)
    {
        var state = _command;
        if (state is null) return IssueSync(ns, key, ref input, out slot, write);

        ulong tag = Tag(input.Op, KeyInBuffer(ns, key), key.Length);
        var slots = state.Slots;
        if (_cursor < slots.Count)
        {
            var cached = slots[_cursor];
            if (cached.Tag == tag && cached.Done && !(!write && MissedByCompaction(cached)))
            {
                _cursor++;
                slot = cached;
                Stats.SlotReplays++;
                if (write && cached.Changed) _dirty++;
                return cached.Found ? OpStatus.Found : OpStatus.NotFound;
            }
            // The command took another path than last time: forget the rest.
            for (int i = slots.Count - 1; i >= _cursor; i--)
            {
                if (slots[i].Done) _pool.Push(slots[i]);
                else slots[i].Owner = null;
                slots.RemoveAt(i);
            }
        }
        if (write && _attemptPending)
        {
            // A write never runs after something pending in the same attempt.
            slot = _syncSlot;
            return OpStatus.Pending;
        }
        if (write && !RoomToWrite())
        {
            // The tail has no room: the command waits for a page flush like a disk read (StoreSession.Room.cs).
            slot = _syncSlot;
            return OpStatus.Pending;
        }
        slot = _pool.Count > 0 ? _pool.Pop() : new OpSlot();
        slot.Reset(tag);
        if (write) slot.Frame = state.Frame;
        slot.Unlogged = input.Has(OpFlags.NoLog);
        slots.Add(slot);
        _cursor++;
        if (_store.IndexSplitting)
        {
            // While the index splits, an operation first splits a 16k-bucket chunk for FASTER: a pipeline
            // of SETs did nearly all of a 1M -> 2M split on its reactor (130-150 ms in one turn, every
            // other client of that reactor waiting). The command waits, as for a disk read, and runs again
            // once the maintenance thread has split the rest; clients that do not touch the store go on.
            _deferred.Add(slot);
            return Wait(slot, state);
        }
        var status = Execute(ns, key, ref input, slot, write);
        if (status.IsPending)
        {
            if (write) Stats.DiskWrites++; else Stats.DiskReads++;
            return Wait(slot, state);
        }
        Finish(slot, status, write);
        if (write && slot.Changed) _dirty++;
        return slot.Found ? OpStatus.Found : OpStatus.NotFound;
    }

    /// <summary>
    /// A read that answered "not found" while compaction moved the log's begin: FASTER 2.6.5 answers
    /// NOTFOUND for a record below BeginAddress without looking for the copy compaction made at the tail:
    /// when the read's own address fell below it while in flight (ContinuePendingRead), when its walk down
    /// a hash chain of other keys reached an address below it (AsyncGetFromDiskCallback: the address the
    /// completion reports is still the first one, above the begin), and when the begin moved between the
    /// hash entry's read and the check (InternalRead). A 200k-field hash under maxmemory 16mb lost 0-534
    /// fields in 6 of 9 loads, and a 5M-field one 744, HSET then rewriting the bucket as empty; a GET can
    /// miss a live key the same way. Such a read is issued again: compaction copies before it moves the
    /// begin, so the new read finds the copy. (Writes are safe: an RMW's CAS on the hash entry fails.)
    /// </summary>
    internal bool MissedByCompaction(OpSlot slot)
        => !slot.Found && _store.Kv.Log.BeginAddress != slot.BeginAtIssue;

    /// <summary>The command waits for <paramref name="slot"/>: it is outstanding until completed (or released).</summary>
    private OpStatus Wait(OpSlot slot, PendingState state)
    {
        slot.Owner = state;
        slot.Session = this;
        state.Outstanding++;
        Outstanding++;
        _attemptPending = true;
        return OpStatus.Pending;
    }

    private OpStatus IssueSync(int ns, ReadOnlySpan<byte> key, ref StoreInput input, out OpSlot slot, bool write)
        => IssueSync(_syncSlot, ns, key, ref input, out slot, write);

    private OpStatus IssueSync(OpSlot own, int ns, ReadOnlySpan<byte> key, ref StoreInput input, out OpSlot slot, bool write)
    {
        slot = own;
        slot.Reset(0);
        slot.Unlogged = input.Has(OpFlags.NoLog);
        var status = Execute(ns, key, ref input, slot, write);
        if (status.IsPending)
        {
            if (write) Stats.DiskWrites++; else Stats.DiskReads++;
            Outstanding++;
            slot.Owner = null;
            while (!slot.Done)
            {
                WaitWhileSplitting();
                _session.CompletePending(wait: true);
            }
            Outstanding--;
            if (!write && MissedByCompaction(slot)) return IssueSync(own, ns, key, ref input, out slot, write);
        }
        else
        {
            Finish(slot, status, write);
        }
        return slot.Found ? OpStatus.Found : OpStatus.NotFound;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Finish(OpSlot slot, Status status, bool write)
    {
        if (!write)
        {
            if (status.Found) Stats.KeyspaceHits++;
            else Stats.KeyspaceMisses++;
        }
        if (!status.Found && !write) slot.Found = false;
        slot.Done = true;
    }

    // Reads and RMWs are two methods: FASTER's inlined paths share one frame otherwise, and its prolog zeroed
    // ~1.9 KB of their structs on every call (14% of this method's self time for GET, ~7% of GET's CPU).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Status Execute(int ns, ReadOnlySpan<byte> key, ref StoreInput input, OpSlot slot, bool write)
    {
        long hash = KeyInBuffer(ns, key);
        return write ? ExecuteRmw(hash, ref input, slot) : ExecuteRead(hash, ref input, slot);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Status ExecuteRead(long hash, ref StoreInput input, OpSlot slot)
    {
        fixed (byte* p = _keyBuffer)
        {
            var k = SpanByte.FromPointer(p, _bufferLength);
            var output = new StoreOutput { Slot = slot };
            var ro = default(ReadOptions);
            SetKeyHash(ref ro, hash);
            if (input.Has(OpFlags.NoReadCopy)) SetCopyOptions(ref ro, ReadCopyOptions.None);
            while (true)
            {
                long begin = _store.Kv.Log.BeginAddress;
                slot.BeginAtIssue = begin;
                var status = _session.Read(ref k, ref input, ref output, ref ro, out _);
                // A miss while compaction moved the begin is read again (see MissedByCompaction).
                if (status.IsPending || status.Found || _store.Kv.Log.BeginAddress == begin) return status;
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private Status ExecuteRmw(long hash, ref StoreInput input, OpSlot slot)
    {
        fixed (byte* p = _keyBuffer)
        {
            var k = SpanByte.FromPointer(p, _bufferLength);
            var output = new StoreOutput { Slot = slot };
            ref int stripe = ref _store.WriteStripe(hash);
            Store.EnterStripe(ref stripe);
            try
            {
                var mo = default(RMWOptions);
                SetKeyHash(ref mo, hash);
                return _session.RMW(ref k, ref input, ref output, ref mo);
            }
            finally { Volatile.Write(ref stripe, 0); }
        }
    }

    // ------------------------------------------------------------ the key buffer and its hash

    private int _bufferNs = -1;
    private int _bufferLength;
    private long _bufferHash;

    /// <summary>
    /// The hash the store files <paramref name="key"/> of database <paramref name="db"/> under (namespace and
    /// key). The lock table stripes keys by it, and the command's first operation on that key finds key
    /// and hash already in the key buffer: one hash per key where there were two for GET (FASTER's and the
    /// lock's) and three for SET (with the write stripe's).
    /// </summary>
    public long HashKey(int db, ReadOnlySpan<byte> key) => KeyInBuffer(_store.Namespace(db), key);

    /// <summary>Puts [ns][key] in the key buffer unless it is there already; its hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long KeyInBuffer(int ns, ReadOnlySpan<byte> key)
    {
        int len = ValueLayout.KeyPrefix + key.Length;
        if (_bufferNs == ns && _bufferLength == len && key.SequenceEqual(_keyBuffer.AsSpan(ValueLayout.KeyPrefix, key.Length)))
            return _bufferHash;
        if (len > _keyBuffer.Length) _keyBuffer = GC.AllocateUninitializedArray<byte>(Math.Max(len, _keyBuffer.Length * 2), pinned: true);
        BinaryPrimitives.WriteInt32LittleEndian(_keyBuffer, ns);
        key.CopyTo(_keyBuffer.AsSpan(ValueLayout.KeyPrefix));
        fixed (byte* p = _keyBuffer)
        {
            var k = SpanByte.FromPointer(p, len);
            _bufferHash = _store.Comparer.GetHashCode64(ref k);
        }
        _bufferNs = ns;
        _bufferLength = len;
        return _bufferHash;
    }

    // FASTER 2.6.5 takes a caller's key hash in its operation options but keeps the setter internal;
    // an accessor is bound at compile time (no reflection), so AOT keeps it.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_KeyHash")]
    private static extern void SetKeyHash(ref ReadOptions options, long? hash);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_KeyHash")]
    private static extern void SetKeyHash(ref RMWOptions options, long? hash);

    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_CopyOptions")]
    private static extern void SetCopyOptions(ref ReadOptions options, ReadCopyOptions copy);

    /// <summary>
    /// Which operation a slot answers on a rerun: the op and the store's own hash of [ns][key] (computed
    /// for FASTER anyway: hashing the key a second time for the tag was 2.5% of an HSET load's CPU).
    /// </summary>
    private static ulong Tag(StoreOp op, long keyHash, int keyLength)
        => ((ulong)op << 56) ^ (ulong)keyHash ^ ((ulong)(uint)keyLength << 40);

    // ------------------------------------------------------------ prefetch

    private readonly Protocol.RequestParser _lookahead = new();
    private int _prefetching;
    private const int MaxPrefetch = 512;

    /// <summary>Where a command's keys are (set by the server host from the command table); null: no read-ahead.</summary>
    public static KeyPositions? KeysOf;

    /// <summary>
    /// A command of the client waits on disk: look at the commands pipelined behind it and start
    /// reading their keys now (disk reads are copied to the log tail, so those commands find their
    /// records in memory when their turn comes). Returns how many bytes of input were looked at.
    /// </summary>
    public int Prefetch(ReadOnlySpan<byte> input, int db)
    {
        if (_store.IndexSplitting) return 0; // its reads would split chunks on this thread (see Issue)
        int offset = 0;
        _lookahead.Reset();
        while (_prefetching < MaxPrefetch && offset < input.Length && input[offset] == (byte)'*')
        {
            var span = input[offset..];
            // The parser works in place only for inline commands; multibulk input is left untouched.
            var result = _lookahead.Parse(System.Runtime.InteropServices.MemoryMarshal.CreateSpan(
                ref System.Runtime.InteropServices.MemoryMarshal.GetReference(span), span.Length), out int consumed);
            if (result != Protocol.ParseResult.Command) break;
            var args = _lookahead.Args;
            if (KeysOf is { } keysOf && keysOf(span.Slice(args[0].Offset, args[0].Length), args.Length, out int first, out int last, out int step))
            {
                if (last < 0) last += args.Length;
                for (int k = first; k <= last && k < args.Length && _prefetching < MaxPrefetch; k += step)
                    PrefetchKey(db, span.Slice(args[k].Offset, args[k].Length));
            }
            offset += consumed;
        }
        _lookahead.Reset();
        return offset;
    }

    private void PrefetchKey(int db, ReadOnlySpan<byte> key)
    {
        var slot = _pool.Count > 0 ? _pool.Pop() : new OpSlot();
        slot.Reset(0);
        var input = new StoreInput { Op = StoreOp.Read, Flags = OpFlags.HeaderOnly, Now = CommandClock.NowMs() };
        var status = Execute(_store.Namespace(db), key, ref input, slot, write: false);
        if (status.IsPending)
        {
            Stats.DiskPrefetches++;
            slot.Session = this;
            slot.Prefetch = true;
            Outstanding++;
            _prefetching++;
        }
        else
        {
            _pool.Push(slot);
        }
    }

    internal void PrefetchDone(OpSlot slot)
    {
        _prefetching--;
        _pool.Push(slot);
    }

    // ------------------------------------------------------------ enumeration support

    private ClientSession<SpanByte, SpanByte, StoreInput, StoreOutput, Empty, StoreFunctions>? _probe;
    private readonly OpSlot _probeSlot = new();

    /// <summary>
    /// Whether the record at <paramref name="address"/> is the key's current, unexpired version
    /// (SCAN/KEYS/RANDOMKEY report each key once, from its latest record). Uses a session that
    /// does not copy disk reads to the tail, and waits for a disk read when it needs one.
    /// </summary>
    public bool IsLatest(ReadOnlySpan<byte> fullKey, long address, out KeyType type)
    {
        _probe ??= _store.NewFasterSession(new StoreStats(), ReadCopyOptions.None);
        var slot = _probeSlot;
        slot.Reset(0);
        var input = new StoreInput { Op = StoreOp.Read, Flags = OpFlags.HeaderOnly, Now = CommandClock.NowMs() };
        long found;
        fixed (byte* p = fullKey)
        {
            var k = SpanByte.FromPointer(p, fullKey.Length);
            var output = new StoreOutput { Slot = slot };
            var ro = default(ReadOptions);
            var st = _probe.Read(ref k, ref input, ref output, ref ro, out var meta);
            if (st.IsPending)
            {
                while (!slot.Done)
                {
                    WaitWhileSplitting();
                    _probe.CompletePending(wait: true);
                }
                found = slot.Found ? slot.Address : -1;
            }
            else
            {
                found = st.Found && slot.Found ? meta.Address : -1;
            }
        }
        type = slot.Type;
        return found == address;
    }

    public void Dispose()
    {
        _probe?.Dispose();
        _session.Dispose();
    }
}
