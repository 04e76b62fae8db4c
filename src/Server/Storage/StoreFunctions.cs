using System.Runtime.CompilerServices;
using FASTER.core;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Storage;

/// <summary>
/// FASTER callbacks for the main store. All semantics that must be atomic per key (conditions,
/// type checks, expiry, counters) are decided here, inside FASTER's record-level protection, so
/// reactors never take a lock of their own.
/// </summary>
[SkipLocalsInit] // number text buffers are written before read: zeroing them was 1.2% of INCR's CPU
public readonly unsafe partial struct StoreFunctions : IFunctions<SpanByte, SpanByte, StoreInput, StoreOutput, Empty>
{
    private readonly Store _store;
    private readonly StoreStats _stats;

    public StoreFunctions(Store store, StoreStats stats)
    {
        _store = store;
        _stats = stats;
    }

    // ---------------------------------------------------------------- reads

    public bool SingleReader(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo)
        => Read(ref key, ref input, ref value, dst.Slot, readInfo.Address);

    public bool ConcurrentReader(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput dst, ref ReadInfo readInfo)
        => Read(ref key, ref input, ref value, dst.Slot, readInfo.Address);

    /// <summary>
    /// A tree page's or bucket's used bytes: their records keep a whole page of room (StoreSession.WritePage), and every
    /// reader stops at the used length, so the copy out of the log stops there too (leaves of a 100k-member sorted set are
    /// ~70% full; the copy into the slot was 10% of a ZADD's CPU).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ReadOnlySpan<byte> UsedPage(ref SpanByte key, ReadOnlySpan<byte> payload)
    {
        if (key.Length < ValueLayout.KeyPrefix + PageKey.EncodedSize) return payload;
        var kind = (PageKind)key.AsReadOnlySpan()[ValueLayout.KeyPrefix + 8];
        int used = kind switch
        {
            PageKind.Tree when payload.Length >= TreePage.HeaderSize => TreePage.UsedOf(payload),
            PageKind.Bucket when payload.Length >= 4 => BucketPage.UsedOf(payload),
            _ => payload.Length,
        };
        return (uint)used < (uint)payload.Length ? payload[..used] : payload;
    }

    /// <param name="address">Where the record read is. FASTER's completion callback reports instead the
    /// address the read first went to disk for, which is another key's record when the chain on disk
    /// had to be followed (a bucket and tag two keys share): the recount after a restart then missed 5
    /// of 300,000 keys, and SCAN would have skipped them.</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Read(ref SpanByte key, ref StoreInput input, ref SpanByte value, OpSlot slot, long address)
    {
        slot.Address = address;
        long exp = ValueLayout.ExpiryOf(ref value);
        if (input.Expired(exp))
        {
            slot.Found = false;
            slot.SawExpired = true;
            return false;
        }
        slot.Found = true;
        slot.Type = ValueLayout.TypeOf(ref value);
        slot.Expiry = exp;
        var payload = ValueLayout.PayloadOf(ref value);
        slot.Number = payload.Length;
        if (input.Op == StoreOp.FindEntry && slot.Type == KeyType.Page)
        {
            Values.Paged.PagedHash.WriteEntryReport(payload, input.Arg != 0, input.DataSpan, slot);
            return true;
        }
        if (input.Has(OpFlags.HeaderOnly) || (input.Has(OpFlags.StringOnly) && slot.Type != KeyType.String)) slot.Length = 0;
        else if (slot.Type == KeyType.Page) slot.SetValue(UsedPage(ref key, payload));
        else slot.SetValue(payload);
        return true;
    }

    public void ReadCompletionCallback(ref SpanByte key, ref StoreInput input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata)
    {
        var slot = output.Slot;
        if (slot is null) return;
        if (slot.Prefetch)
        {
            slot.Complete(recordMetadata.Address);
            return;
        }
        if (status.Found) _stats.KeyspaceHits++;
        else _stats.KeyspaceMisses++;
        if (!status.Found) slot.Found = false;
        slot.Complete(status.Found ? slot.Address : recordMetadata.Address);
    }

    // ---------------------------------------------------------------- upserts (copies to tail, compaction)

    public bool SingleWriter(ref SpanByte key, ref StoreInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        src.CopyTo(ref dst);
        // What the log is written for besides the commands' own records (INFO store_log_*_copy_bytes).
        if (reason == WriteReason.Compaction) _stats.CompactionCopyBytes += key.TotalSize + dst.TotalSize;
        else if (reason == WriteReason.CopyToTail) _stats.ReadCopyBytes += key.TotalSize + dst.TotalSize;
        return true;
    }

    public void PostSingleWriter(ref SpanByte key, ref StoreInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo, WriteReason reason)
    {
        // A new record of a page, not an update in place: the one it was read from is dead for good.
        if (reason == WriteReason.Upsert && input.Has(OpFlags.Supersedes) && upsertInfo.Address != input.Arg) _store.Superseded.Mark(input.Arg);
    }

    public bool ConcurrentWriter(ref SpanByte key, ref StoreInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo)
    {
        if (dst.Length < src.Length) return false;
        // A page over its own record of the same room: only its used bytes (DataLength, header included) change hands.
        if (input.DataLength > 0 && dst.Length == src.Length && input.DataLength <= src.Length)
        {
            src.AsReadOnlySpan()[..input.DataLength].CopyTo(dst.AsSpan());
            return true;
        }
        dst.ShrinkSerializedLength(src.Length);
        src.CopyTo(ref dst);
        return true;
    }

    // ---------------------------------------------------------------- RMW: no record yet

    public bool NeedInitialUpdate(ref SpanByte key, ref StoreInput input, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        var slot = output.Slot;
        slot.Found = false;
        switch (input.Op)
        {
            case StoreOp.Set:
                if (input.Has(OpFlags.XX)) { slot.Result = OpResult.NotApplied; return false; }
                if (input.Expiry != 0 && input.Expiry <= input.Now) { slot.Changed = false; return false; }
                return true;
            case StoreOp.IncrBy:
            case StoreOp.IncrByFloat:
            case StoreOp.Append:
                return true;
            case StoreOp.SetRange:
                if (input.DataLength == 0) { slot.Number = 0; return false; }
                return true;
            case StoreOp.Edit:
                slot.Result = OpResult.Ok;
                if (InlineEdit.Build(ref input, default, out _, out _) >= 0) return true;
                slot.Result = OpResult.NotApplied;
                return false;
            default:
                return false;
        }
    }

    public bool InitialUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        var slot = output.Slot;
        long exp = input.Op == StoreOp.Set ? input.Expiry : 0;
        if (IsCounter(input.Op))
        {
            Span<byte> text = stackalloc byte[NumberFormat.MaxText];
            WriteCounter(ref value, 0, text[..ComputeNumber(ref input, default, live: false, text, slot)]);
        }
        else
        {
            if (input.Op == StoreOp.Edit) InlineEdit.Build(ref input, default, out _, out _);
            int len = NewPayloadLength(ref input, default, live: false);
            value.ShrinkSerializedLength(ValueLayout.Header + len);
            KeyType type = input.Op is StoreOp.Set or StoreOp.Edit ? input.Type : KeyType.String;
            ValueLayout.WriteHeader(ref value, type, exp);
            WritePayload(ref input, default, live: false, ValueLayout.MutablePayloadOf(ref value), slot);
        }
        slot.Changed = true;
        slot.StagedKeys = 1;
        slot.StagedExpires = exp != 0 ? 1 : 0;
        slot.StagedBytes = ValueLayout.RecordBytes(key.Length, value.Length);
        slot.StagedExpired = false;
        return true;
    }

    public void PostInitialUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        ApplyStaged(ref key, output.Slot);
        ulong cid = LiveCollections.CidOf(ref value, out long bytes);
        if (cid != 0) Collections(ref key, 0, 0, cid, bytes);
        LogWrite(ref key, ref value, output.Slot); // durability: the record's image, under the record lock
    }

    // ---------------------------------------------------------------- RMW: record exists, copy to a new one

    public bool NeedCopyUpdate(ref SpanByte key, ref StoreInput input, ref SpanByte oldValue, ref StoreOutput output, ref RMWInfo rmwInfo)
        => Decide(ref input, ref oldValue, output.Slot) != Decision.Skip;

    public bool CopyUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        var slot = output.Slot;
        var decision = Decide(ref input, ref oldValue, slot);
        long oldExp = ValueLayout.ExpiryOf(ref oldValue);
        bool live = !input.Expired(oldExp);
        long oldBytes = ValueLayout.RecordBytes(key.Length, oldValue.Length);
        slot.StagedExpired = !live;
        if (decision == Decision.Delete)
        {
            newValue.ShrinkSerializedLength(ValueLayout.Header);
            ValueLayout.WriteHeader(ref newValue, KeyType.None, 0);
            slot.StagedKeys = -1;
            slot.StagedExpires = oldExp != 0 ? -1 : 0;
            slot.StagedBytes = -oldBytes;
            slot.Changed = live;
            rmwInfo.Action = RMWAction.ExpireAndStop;
            return false;
        }
        var oldPayload = ValueLayout.PayloadOf(ref oldValue);
        long newExp = NewExpiry(ref input, oldExp, live);
        if (IsCounter(input.Op))
        {
            // The new record has the room StoreValueLength gave it: later INCRs update it in place.
            Span<byte> text = stackalloc byte[NumberFormat.MaxText];
            WriteCounter(ref newValue, newExp, text[..ComputeNumber(ref input, oldPayload, live, text, slot)]);
        }
        else
        {
            int len = NewPayloadLength(ref input, oldPayload, live);
            newValue.ShrinkSerializedLength(ValueLayout.Header + len);
            KeyType type = input.Op is StoreOp.Set or StoreOp.Edit ? input.Type : (live ? ValueLayout.TypeOf(ref oldValue) : KeyType.String);
            ValueLayout.WriteHeader(ref newValue, type, newExp);
            WritePayload(ref input, oldPayload, live, ValueLayout.MutablePayloadOf(ref newValue), slot);
        }
        slot.Changed = true;
        slot.StagedKeys = 0;
        slot.StagedExpires = (newExp != 0 ? 1 : 0) - (oldExp != 0 ? 1 : 0);
        slot.StagedBytes = ValueLayout.RecordBytes(key.Length, newValue.Length) - oldBytes;
        return true;
    }

    public void PostCopyUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        ApplyStaged(ref key, output.Slot);
        // Here, not in CopyUpdater: FASTER may run that again after a failed CAS, with another old record.
        ulong oldCid = LiveCollections.CidOf(ref oldValue, out long oldBytes);
        ulong newCid = LiveCollections.CidOf(ref newValue, out long newBytes);
        if ((oldCid | newCid) != 0) Collections(ref key, oldCid, oldBytes, newCid, newBytes);
        // durability: a delete leaves a tombstone whose header type is None
        if (ValueLayout.TypeOf(ref newValue) == KeyType.None) LogDelete(ref key, output.Slot);
        else LogWrite(ref key, ref newValue, output.Slot);
    }

    // ---------------------------------------------------------------- RMW: record in the mutable region

    public bool InPlaceUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo)
    {
        var slot = output.Slot;
        if (IsCounter(input.Op)) return CounterInPlace(ref key, ref input, ref value, slot);
        if (input.Op == StoreOp.Edit && InlineEdit.IsListEdge(input) && ListEdgeInRecord(ref key, ref input, ref value, slot)) return true;
        if (input.Op == StoreOp.Edit && InlineEdit.IsBucket(input) && BucketInRecord(ref input, ref value, slot)) return true;
        if (input.Op == StoreOp.Edit && InlineEdit.IsHashSet(input) && HashSetInRecord(ref key, ref input, ref value, slot)) return true;
        var decision = Decide(ref input, ref value, slot);
        if (decision == Decision.Skip) return true; // nothing to change: done
        long oldExp = ValueLayout.ExpiryOf(ref value);
        bool live = !input.Expired(oldExp);
        var ns = _store.Counters(ValueLayout.NamespaceOf(ref key));
        if (decision == Decision.Delete)
        {
            ulong deadCid = LiveCollections.CidOf(ref value, out long deadBytes);
            if (deadCid != 0) Collections(ref key, deadCid, deadBytes, 0, 0);
            Interlocked.Decrement(ref ns.Keys);
            if (oldExp != 0) Interlocked.Decrement(ref ns.Expires);
            Interlocked.Add(ref ns.Bytes, -ValueLayout.RecordBytes(key.Length, value.Length));
            if (!live) { _stats.ExpiredKeys++; slot.ExpiredKey = true; }
            slot.Changed = live;
            rmwInfo.Action = RMWAction.ExpireAndStop;
            LogDelete(ref key, slot); // durability
            return false;
        }
        var oldPayload = ValueLayout.PayloadOf(ref value);
        int len = NewPayloadLength(ref input, oldPayload, live);
        if (ValueLayout.Header + len > value.Length || !CanUpdateInPlace(ref input, live)) return false;
        // SETRANGE patches the payload where it is: a counter's room is not payload to grow into.
        if (input.Op == StoreOp.SetRange && len > oldPayload.Length) return false;

        long newExp = NewExpiry(ref input, oldExp, live);
        long oldBytes = ValueLayout.RecordBytes(key.Length, value.Length);
        ulong oldCid = LiveCollections.CidOf(ref value, out long oldPageBytes);
        KeyType type = input.Op is StoreOp.Set or StoreOp.Edit ? input.Type : (live ? ValueLayout.TypeOf(ref value) : KeyType.String);
        if (input.Op is StoreOp.Expire or StoreOp.Persist or StoreOp.GetEx)
        {
            ValueLayout.SetExpiry(ref value, newExp);
        }
        else if (input.Op == StoreOp.SetRange && live)
        {
            // Grows never reach here (length check above); patch the bytes in place.
            input.DataSpan.CopyTo(ValueLayout.MutablePayloadOf(ref value)[(int)input.Arg..]);
            slot.Number = oldPayload.Length;
        }
        else
        {
            value.ShrinkSerializedLength(ValueLayout.Header + len);
            ValueLayout.WriteHeader(ref value, type, newExp);
            WritePayload(ref input, default, live: false, ValueLayout.MutablePayloadOf(ref value), slot);
        }
        slot.Changed = true;
        int dExp = (newExp != 0 ? 1 : 0) - (oldExp != 0 ? 1 : 0);
        if (dExp != 0) Interlocked.Add(ref ns.Expires, dExp);
        long dBytes = ValueLayout.RecordBytes(key.Length, value.Length) - oldBytes;
        if (dBytes != 0) Interlocked.Add(ref ns.Bytes, dBytes);
        if (!live) { _stats.ExpiredKeys++; slot.ExpiredKey = true; }
        ulong newCid = LiveCollections.CidOf(ref value, out long newPageBytes);
        if ((oldCid | newCid) != 0) Collections(ref key, oldCid, oldPageBytes, newCid, newPageBytes);
        LogWrite(ref key, ref value, slot); // durability: the record's image, under the record lock
        return true;
    }

    /// <summary>
    /// A main record naming a paged collection changed (<see cref="LiveCollections"/>), once it is in:
    /// its cid dies with it, a new one lives, and the namespace's page bytes follow the meta.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Collections(ref SpanByte key, ulong oldCid, long oldBytes, ulong newCid, long newBytes)
    {
        int ns = ValueLayout.NamespaceOf(ref key);
        if (ns == Store.PagesNamespace) return;
        long tail = oldCid != 0 && oldCid != newCid ? _store.Kv.Log.TailAddress : 0;
        _store.Collections.Changed(ns, ref _store.Counters(ns).PageBytes, oldCid, oldBytes, newCid, newBytes, tail);
    }

    /// <summary>In place only when the new value does not depend on bytes it overwrites.</summary>
    private static bool CanUpdateInPlace(ref StoreInput input, bool live) => input.Op switch
    {
        StoreOp.Set or StoreOp.Expire or StoreOp.Persist or StoreOp.GetEx or StoreOp.Edit => true,
        StoreOp.SetRange => live,
        StoreOp.Append => !live,
        _ => false,
    };

    // ---------------------------------------------------------------- counters (INCR family)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsCounter(StoreOp op) => op is StoreOp.IncrBy or StoreOp.IncrByFloat;

    /// <summary>
    /// INCRBY / INCRBYFLOAT on a record in the mutable region: the number is parsed, added and
    /// written back into the record's room once (it was computed three times: 11% of INCR's CPU).
    /// False when the result outgrows the room: FASTER copies the record, giving it a counter's room.
    /// </summary>
    private bool CounterInPlace(ref SpanByte key, ref StoreInput input, ref SpanByte value, OpSlot slot)
    {
        bool live = Observe(ref input, ref value, slot, out KeyType type, out long exp);
        if (live && type != KeyType.String) { slot.Result = OpResult.WrongType; return true; }
        // An expired paged collection reused as a counter: its cid dies.
        long deadBytes = 0;
        ulong deadCid = live ? 0 : LiveCollections.CidOf(ref value, out deadBytes);
        var old = live ? ValueLayout.PayloadOf(ref value) : default;
        if (input.Op == StoreOp.IncrBy)
        {
            // Digits straight into the record (no text buffer, no copy).
            if (!TryAddInteger(ref input, old, live, slot, out long v)) return true; // not a number, overflow: nothing changes
            if (!ValueLayout.TryWriteIntegerInRoom(ref value, live ? exp : 0, v)) return false;
        }
        else
        {
            Span<byte> text = stackalloc byte[NumberFormat.MaxText];
            int n = ComputeNumber(ref input, old, live, text, slot);
            if (n < 0) return true;
            if (!ValueLayout.TryWriteInRoom(ref value, live ? exp : 0, text[..n])) return false;
        }
        slot.Changed = true;
        if (!live)
        {
            // An expired record is reused as a new counter: the key stays counted, its expiry goes.
            Interlocked.Decrement(ref _store.Counters(ValueLayout.NamespaceOf(ref key)).Expires);
            _stats.ExpiredKeys++;
            slot.ExpiredKey = true;
            if (deadCid != 0) Collections(ref key, deadCid, deadBytes, 0, 0);
        }
        LogWrite(ref key, ref value, slot); // durability: the record's image, under the record lock
        return true;
    }

    /// <summary>A counter's text into a new record's room (exact when the room is too large to pad).</summary>
    private static void WriteCounter(ref SpanByte value, long exp, ReadOnlySpan<byte> text)
    {
        if (ValueLayout.TryWriteInRoom(ref value, exp, text)) return;
        value.ShrinkSerializedLength(ValueLayout.Header + text.Length);
        ValueLayout.WriteHeader(ref value, KeyType.String, exp);
        text.CopyTo(ValueLayout.MutablePayloadOf(ref value));
    }

    /// <summary>
    /// Logs the record's image: into its command's frame when the command writes several records
    /// (appended whole when it ends), else straight into the AOF, as one entry. A padded counter is
    /// logged as its real value (replay, and anything else reading the AOF, never sees the room),
    /// copied out on the stack: at most ~420 bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LogWrite(ref SpanByte key, ref SpanByte value, OpSlot slot)
    {
        if (_store.Aof is not { } aof || slot.Unlogged) return;
        if (slot.Frame is { Active: true } frame)
        {
            frame.AddWrite(aof, ref key, ref value, ValueLayout.IsPadded(ref value));
            return;
        }
        if (!ValueLayout.IsPadded(ref value))
        {
            aof.AppendWrite(ref key, ref value);
            return;
        }
        int len = ValueLayout.Header + ValueLayout.PayloadLength(ref value);
        Span<byte> image = len <= 512 ? stackalloc byte[512] : new byte[len];
        new ReadOnlySpan<byte>(value.ToPointer(), len).CopyTo(image);
        image[0] &= unchecked((byte)~ValueLayout.Padded);
        fixed (byte* p = image)
        {
            var exact = SpanByte.FromPointer(p, len);
            aof.AppendWrite(ref key, ref exact);
        }
    }

    /// <summary>Logs a delete, as <see cref="LogWrite"/>.</summary>
    private void LogDelete(ref SpanByte key, OpSlot slot)
    {
        if (_store.Aof is not { } aof || slot.Unlogged) return;
        if (slot.Frame is { Active: true } frame) frame.AddDelete(aof, ref key);
        else aof.AppendDelete(ref key);
    }

    public void RMWCompletionCallback(ref SpanByte key, ref StoreInput input, ref StoreOutput output, Empty ctx, Status status, RecordMetadata recordMetadata)
        => output.Slot?.Complete(recordMetadata.Address);

    // ---------------------------------------------------------------- deletes (not used by commands: deletes are RMWs)

    public bool SingleDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo) => true;
    public void PostSingleDeleter(ref SpanByte key, ref DeleteInfo deleteInfo) { }
    public bool ConcurrentDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo) => true;

    public void DisposeSingleWriter(ref SpanByte key, ref StoreInput input, ref SpanByte src, ref SpanByte dst, ref StoreOutput output, ref UpsertInfo upsertInfo, WriteReason reason) { }
    public void DisposeCopyUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte oldValue, ref SpanByte newValue, ref StoreOutput output, ref RMWInfo rmwInfo) { }
    public void DisposeInitialUpdater(ref SpanByte key, ref StoreInput input, ref SpanByte value, ref StoreOutput output, ref RMWInfo rmwInfo) { }
    public void DisposeSingleDeleter(ref SpanByte key, ref SpanByte value, ref DeleteInfo deleteInfo) { }
    public void DisposeDeserializedFromDisk(ref SpanByte key, ref SpanByte value) { }
    public void CheckpointCompletionCallback(int sessionID, string sessionName, CommitPoint commitPoint) { }

    // ---------------------------------------------------------------- semantics

    private enum Decision { Skip, Write, Delete }

    /// <summary>
    /// The old record as the command sees it (an expired one counts as missing): into the slot, its
    /// type and expiry out; true when it is live.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Observe(ref StoreInput input, ref SpanByte old, OpSlot slot, out KeyType type, out long exp)
    {
        exp = ValueLayout.ExpiryOf(ref old);
        bool live = !input.Expired(exp);
        type = ValueLayout.TypeOf(ref old);
        slot.Found = live;
        slot.Type = live ? type : KeyType.None;
        slot.Expiry = live ? exp : 0;
        slot.Result = OpResult.Ok;
        return live;
    }

    /// <summary>
    /// Decides what an RMW does to an existing record, and fills the slot's reply fields (old value,
    /// result). Pure: it may run more than once for one operation.
    /// </summary>
    private static Decision Decide(ref StoreInput input, ref SpanByte old, OpSlot slot)
    {
        bool live = Observe(ref input, ref old, slot, out KeyType type, out long oldExp);
        var payload = ValueLayout.PayloadOf(ref old);
        switch (input.Op)
        {
            case StoreOp.Set:
                if (input.Has(OpFlags.GetOld) && live)
                {
                    if (type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                    slot.SetValue(payload);
                }
                if (input.Has(OpFlags.NX) && live) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Has(OpFlags.XX) && !live) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Expiry != 0 && input.Expiry <= input.Now && !input.Has(OpFlags.KeepTtl)) return Decision.Delete;
                return Decision.Write;

            case StoreOp.Delete:
                if (input.Has(OpFlags.IfExpired)) return live ? Decision.Skip : Decision.Delete;
                if (input.Has(OpFlags.GetOld) && live)
                {
                    if (type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                    slot.SetValue(payload);
                }
                return Decision.Delete;

            case StoreOp.IncrBy:
            case StoreOp.IncrByFloat:
            {
                if (live && type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                Span<byte> tmp = stackalloc byte[NumberFormat.MaxText];
                if (ComputeNumber(ref input, payload, live, tmp, slot) < 0) return Decision.Skip;
                return Decision.Write;
            }

            case StoreOp.Append:
                if (live && type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                slot.Number = (live ? payload.Length : 0) + input.DataLength;
                return Decision.Write;

            case StoreOp.SetRange:
                if (live && type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                if (input.DataLength == 0)
                {
                    slot.Number = live ? payload.Length : 0;
                    return live ? Decision.Skip : Decision.Delete;
                }
                slot.Number = Math.Max(live ? payload.Length : 0, input.Arg + input.DataLength);
                return Decision.Write;

            case StoreOp.Expire:
                if (!live) return Decision.Delete;
                if (input.Has(OpFlags.NX) && oldExp != 0) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Has(OpFlags.XX) && oldExp == 0) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Has(OpFlags.GT) && (oldExp == 0 || input.Expiry <= oldExp)) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Has(OpFlags.LT) && oldExp != 0 && input.Expiry >= oldExp) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                if (input.Expiry <= input.Now) return Decision.Delete;
                return Decision.Write;

            case StoreOp.Persist:
                if (!live) return Decision.Delete;
                if (oldExp == 0) { slot.Result = OpResult.NotApplied; return Decision.Skip; }
                return Decision.Write;

            case StoreOp.GetEx:
                if (!live) return Decision.Delete;
                if (type != KeyType.String) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                slot.SetValue(payload);
                if (!input.Has(OpFlags.SetExpiry)) return Decision.Skip;
                if (input.Expiry != 0 && input.Expiry <= input.Now) return Decision.Delete;
                if (input.Expiry == 0 && oldExp == 0) return Decision.Skip;
                return Decision.Write;

            case StoreOp.Edit:
                if (live && type != input.Type) { slot.Result = OpResult.WrongType; return Decision.Skip; }
                if ((live && !InlineEdit.Accepts(input, type, payload)) || InlineEdit.Build(ref input, live ? payload : default, out _, out _) < 0)
                {
                    // The general path starts from the record as a read would give it (a paged root, or the inline
                    // payload to convert): one store operation fewer (HSET into a paged hash did 5).
                    if (live) slot.SetValue(payload);
                    slot.Result = OpResult.NotApplied;
                    return Decision.Skip;
                }
                return Decision.Write;

            default:
                return Decision.Skip;
        }
    }

    private static long NewExpiry(ref StoreInput input, long oldExp, bool live) => input.Op switch
    {
        StoreOp.Set => input.Has(OpFlags.KeepTtl) ? (live ? oldExp : 0) : input.Expiry,
        StoreOp.Expire or StoreOp.GetEx => input.Expiry,
        StoreOp.Persist => 0,
        _ => live ? oldExp : 0,
    };

    /// <summary>INCRBY / INCRBYFLOAT result text into <paramref name="dest"/>; -1 and slot.Result on error.</summary>
    private static int ComputeNumber(ref StoreInput input, ReadOnlySpan<byte> old, bool live, Span<byte> dest, OpSlot slot)
    {
        if (input.Op == StoreOp.IncrBy)
        {
            if (!TryAddInteger(ref input, old, live, slot, out long v)) return -1;
            return NumberFormat.FormatLong(v, dest);
        }
        else
        {
            double v = 0;
            if (live && !NumberFormat.TryParseDouble(old, out v)) { slot.Result = OpResult.NotFloat; return -1; }
            v += input.Double;
            if (double.IsNaN(v) || double.IsInfinity(v)) { slot.Result = OpResult.NanOrInfinity; return -1; }
            int n = NumberFormat.FormatHuman(v, dest);
            slot.SetValue(dest[..n]);
            return n;
        }
    }

    /// <summary>INCRBY's new value into slot.Number; false and slot.Result when not an integer or it overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryAddInteger(ref StoreInput input, ReadOnlySpan<byte> old, bool live, OpSlot slot, out long v)
    {
        v = 0;
        if (live && !NumberFormat.TryParseLong(old, out v)) { slot.Result = OpResult.NotInteger; return false; }
        long incr = input.Arg;
        if ((incr < 0 && v < 0 && incr < long.MinValue - v) || (incr > 0 && v > 0 && incr > long.MaxValue - v))
        {
            slot.Result = OpResult.Overflow;
            return false;
        }
        v += incr;
        slot.Number = v;
        return true;
    }

    /// <summary>The new payload's length for every op but the counters (those compute their text once).</summary>
    private static int NewPayloadLength(ref StoreInput input, ReadOnlySpan<byte> old, bool live)
    {
        switch (input.Op)
        {
            case StoreOp.Set: return input.DataLength;
            case StoreOp.Append: return (live ? old.Length : 0) + input.DataLength;
            case StoreOp.SetRange: return (int)Math.Max(live ? old.Length : 0, input.Arg + input.DataLength);
            // Decide (or InitialUpdater) built the edit just before, in the same callback.
            case StoreOp.Edit: return InlineEdit.Last(out _).Length;
            default: return old.Length;
        }
    }

    /// <summary>Writes the new payload (dest is a new record, or an in-place one for Set).</summary>
    private static void WritePayload(ref StoreInput input, ReadOnlySpan<byte> old, bool live, Span<byte> dest, OpSlot slot)
    {
        switch (input.Op)
        {
            case StoreOp.Set:
                input.DataSpan.CopyTo(dest);
                break;
            case StoreOp.Append:
                if (live) old.CopyTo(dest);
                input.DataSpan.CopyTo(dest[(live ? old.Length : 0)..]);
                slot.Number = dest.Length;
                break;
            case StoreOp.SetRange:
            {
                int keep = live ? old.Length : 0;
                if (live) old.CopyTo(dest);
                int off = (int)input.Arg;
                if (off > keep) dest[keep..off].Clear();
                input.DataSpan.CopyTo(dest[off..]);
                slot.Number = dest.Length;
                break;
            }
            case StoreOp.Edit:
            {
                InlineEdit.Last(out _).CopyTo(dest);
                InlineEdit.Report(input, slot);
                break;
            }
            default:
                old.CopyTo(dest);
                break;
        }
    }

    private void ApplyStaged(ref SpanByte key, OpSlot slot)
    {
        var ns = _store.Counters(ValueLayout.NamespaceOf(ref key));
        if (slot.StagedKeys != 0) Interlocked.Add(ref ns.Keys, slot.StagedKeys);
        if (slot.StagedExpires != 0) Interlocked.Add(ref ns.Expires, slot.StagedExpires);
        if (slot.StagedBytes != 0) Interlocked.Add(ref ns.Bytes, slot.StagedBytes);
        if (slot.StagedExpired)
        {
            _stats.ExpiredKeys++;
            slot.ExpiredKey = true;
        }
        slot.StagedKeys = 0;
        slot.StagedExpires = 0;
        slot.StagedBytes = 0;
        slot.StagedExpired = false;
    }
}

/// <summary>Value sizes for RMW: what InitialUpdater and CopyUpdater will write.</summary>
[SkipLocalsInit]
public sealed class StoreValueLength : IVariableLengthStruct<SpanByte, StoreInput>
{
    public int GetInitialLength(ref StoreInput input)
    {
        int payload = input.Op switch
        {
            StoreOp.Set or StoreOp.Append => input.DataLength,
            StoreOp.SetRange => (int)(input.Arg + input.DataLength),
            // A new counter takes the bytes FASTER's 8-byte record alignment leaves over anyway.
            StoreOp.IncrBy => ValueLayout.AlignedRoom(NumberFormat.DigitCount(input.Arg)),
            StoreOp.IncrByFloat => ValueLayout.AlignedRoom(FloatLength(input.Double)),
            StoreOp.Edit => Math.Max(0, InlineEdit.Build(ref input, default, out _, out _)),
            _ => 0,
        };
        return sizeof(int) + ValueLayout.Header + payload;
    }

    public unsafe int GetLength(ref SpanByte t, ref StoreInput input)
    {
        long oldExp = ValueLayout.ExpiryOf(ref t);
        bool live = !input.Expired(oldExp);
        int oldLen = ValueLayout.PayloadLength(ref t);
        int payload;
        switch (input.Op)
        {
            case StoreOp.Set: payload = input.DataLength; break;
            case StoreOp.Append: payload = (live ? oldLen : 0) + input.DataLength; break;
            case StoreOp.SetRange: payload = (int)Math.Max(live ? oldLen : 0, input.Arg + input.DataLength); break;
            case StoreOp.IncrBy:
            {
                long v = 0;
                if (live) NumberFormat.TryParseLong(ValueLayout.PayloadOf(ref t), out v);
                payload = CounterRoom(NumberFormat.DigitCount(unchecked(v + input.Arg)), t.Length - ValueLayout.Header);
                break;
            }
            case StoreOp.IncrByFloat:
            {
                double v = 0;
                if (live) NumberFormat.TryParseDouble(ValueLayout.PayloadOf(ref t), out v);
                payload = CounterRoom(FloatLength(v + input.Double), t.Length - ValueLayout.Header);
                break;
            }
            case StoreOp.Delete: payload = 0; break;
            case StoreOp.Edit:
                payload = live && !InlineEdit.Accepts(input, ValueLayout.TypeOf(ref t), ValueLayout.PayloadOf(ref t)) ? oldLen
                    : InlineEdit.Build(ref input, live ? ValueLayout.PayloadOf(ref t) : default, out _, out _);
                if (payload < 0) payload = oldLen; // not applied: NeedCopyUpdate says no
                break;
            default: payload = oldLen; break;
        }
        return sizeof(int) + ValueLayout.Header + payload;
    }

    /// <summary>
    /// A copied counter keeps its record's room while the text fits (the copy is for a read-only
    /// record, not growth); one that outgrows it gets <see cref="ValueLayout.CounterRoom"/>, so a
    /// counter crossing 9 -> 10 digits is copied once, not at every digit it gains.
    /// </summary>
    private static int CounterRoom(int text, int oldRoom)
    {
        int room = ValueLayout.AlignedRoom(text <= oldRoom ? oldRoom : Math.Max(text, ValueLayout.CounterRoom));
        return room - text > 255 ? text : room; // the pad byte counts up to 255
    }

    private static int FloatLength(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d)) return 0;
        Span<byte> tmp = stackalloc byte[NumberFormat.MaxText];
        return NumberFormat.FormatHuman(d, tmp);
    }
}
