using System.Buffers.Binary;
using FASTER.core;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Storage;

/// <summary>
/// Page records of paged collections (<see cref="Store.PagesNamespace"/>). Reads go through
/// <see cref="ReadNamespace"/> like any read (a page on disk makes the command wait and run again);
/// writes and deletes are blind (a FASTER upsert or tombstone: never pending, never logged: the
/// command logs element records instead, and pages are derived state a checkpoint holds).
/// </summary>
public sealed unsafe partial class StoreSession
{
    private byte[] _pageBuffer = GC.AllocateUninitializedArray<byte>(ValueLayout.Header + 4096, pinned: true);

    /// <summary>The store key of a page, without the namespace prefix.</summary>
    public static void PageKeyBytes(in PageKey key, Span<byte> dest) => key.Write(dest);

    /// <summary>Whether a record read at <paramref name="address"/> is in the log's mutable region (a write there updates it in place).</summary>
    public bool InMutableRegion(long address) => address >= _store.Kv.Log.ReadOnlyAddress;

    /// <summary>
    /// Reads a page into <paramref name="slot"/> (payload only), as any read of the running command. A page
    /// read from disk is not copied to the log's tail (<see cref="OpFlags.NoReadCopy"/>): a write rewrites
    /// the page right after, so the copy was a second 4 KB record per field loaded. And with the copies,
    /// pages went missing under compaction, reads alone losing more: after 5M fields loaded into one hash
    /// under maxmemory 32mb, an HMGET of every field found 2,518 missing and a second pass 4,223 (74 whole
    /// buckets answering NOTFOUND from memory), in 2 loads of 3; without the copies none (docs/storage.md).
    /// Random reads of a collection larger than memory gain little from a copy anyway.
    /// </summary>
    public OpStatus ReadPage(in PageKey key, out OpSlot slot)
    {
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        return ReadNamespace(Store.PagesNamespace, k, out slot, OpFlags.NoReadCopy);
    }

    /// <summary>
    /// One field's entry looked up in a bucket's record where the read finds it (<see cref="StoreOp.FindEntry"/>): the slot
    /// holds the entry's report, not a copy of the page. Never copied to the log's tail, as <see cref="ReadPage"/>.
    /// </summary>
    public OpStatus FindInPage(in PageKey key, ref StoreInput input, out OpSlot slot)
    {
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        input.Flags |= OpFlags.NoReadCopy;
        return Issue(Store.PagesNamespace, k, ref input, out slot, write: false);
    }

    /// <summary>
    /// An edit of a page's record in place (<see cref="Values.InlineEditKind.BucketSet"/>), as any write of the running
    /// command (replayed from its slot when the command runs again). Never logged: the command logs its elements.
    /// </summary>
    public OpStatus EditPage(in PageKey key, ref StoreInput input, out OpSlot slot)
    {
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        input.Flags |= OpFlags.NoLog;
        return RmwNamespace(Store.PagesNamespace, k, ref input, out slot);
    }

    /// <summary>
    /// Writes a page, its record at least <paramref name="room"/> payload bytes long: a bucket keeps a
    /// whole page so the inserts that follow update it in place in the mutable region, where an exact
    /// record would be copied to a new one on every growth (a page's own header says how much is used).
    /// </summary>
    /// <param name="replaces">The address the page was read from (0: not read), marked superseded when this write makes a new record.</param>
    public void WritePage(in PageKey key, ReadOnlySpan<byte> page, int room = 0, long replaces = 0)
    {
        int payload = Math.Max(page.Length, room);
        int len = ValueLayout.Header + payload;
        if (_pageBuffer.Length < len) _pageBuffer = GC.AllocateUninitializedArray<byte>(Math.Max(len, _pageBuffer.Length * 2), pinned: true);
        _pageBuffer[0] = (byte)KeyType.Page;
        BinaryPrimitives.WriteInt64LittleEndian(_pageBuffer.AsSpan(1), 0);
        page.CopyTo(_pageBuffer.AsSpan(ValueLayout.Header));
        // The room past the page's bytes is left as it is: readers of a bucket stop at its used length.
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        long hash = KeyInBuffer(Store.PagesNamespace, k);
        fixed (byte* kp = _keyBuffer)
        fixed (byte* vp = _pageBuffer)
            Upsert(kp, ValueLayout.KeyPrefix + k.Length, vp, len, hash, ValueLayout.Header + page.Length, replaces);
    }

    /// <summary>
    /// <see cref="WritePage"/> of a page that sits at <see cref="PageSet.Prefix"/> in <paramref name="framed"/> (a page set's
    /// buffer): the header is written before it and the record goes to the store from there, with no staging copy; a buffer
    /// without the room asked for goes through <see cref="WritePage"/>.
    /// </summary>
    public void WriteFramedPage(in PageKey key, Span<byte> framed, int length, int room = 0, long replaces = 0)
    {
        int payload = Math.Max(length, room), len = ValueLayout.Header + payload;
        if (framed.Length < len)
        {
            WritePage(key, framed.Slice(PageSet.Prefix, length), room, replaces);
            return;
        }
        framed[0] = (byte)KeyType.Page;
        BinaryPrimitives.WriteInt64LittleEndian(framed[1..], 0);
        // The room past the page's bytes is left as it is: readers stop at its used length.
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        long hash = KeyInBuffer(Store.PagesNamespace, k);
        fixed (byte* kp = _keyBuffer)
        fixed (byte* vp = framed)
            Upsert(kp, ValueLayout.KeyPrefix + k.Length, vp, len, hash, ValueLayout.Header + length, replaces);
    }

    /// <param name="used">Of the value, the bytes that matter (header and page): an update in place copies only those.</param>
    private void Upsert(byte* kp, int keyLength, byte* vp, int valueLength, long hash, int used = 0, long replaces = 0)
    {
        var sk = SpanByte.FromPointer(kp, keyLength);
        var sv = SpanByte.FromPointer(vp, valueLength);
        ref int stripe = ref _store.WriteStripe(hash);
        Store.EnterStripe(ref stripe);
        try
        {
            var input = new StoreInput { Op = StoreOp.Set, DataLength = used };
            if (replaces > 0)
            {
                input.Flags = OpFlags.Supersedes;
                input.Arg = replaces;
            }
            var output = new StoreOutput();
            var uo = default(UpsertOptions);
            SetKeyHash(ref uo, hash);
            _session.Upsert(ref sk, ref input, ref sv, ref output, ref uo);
        }
        finally { Volatile.Write(ref stripe, 0); }
    }

    /// <summary>Deletes a page (a tombstone; compaction drops both).</summary>
    public void DeletePage(in PageKey key)
    {
        Span<byte> k = stackalloc byte[PageKey.EncodedSize];
        key.Write(k);
        long hash = KeyInBuffer(Store.PagesNamespace, k);
        fixed (byte* kp = _keyBuffer)
        {
            var sk = SpanByte.FromPointer(kp, ValueLayout.KeyPrefix + k.Length);
            ref int stripe = ref _store.WriteStripe(hash);
            Store.EnterStripe(ref stripe);
            try
            {
                var dopt = default(DeleteOptions);
                SetKeyHash(ref dopt, hash);
                _session.Delete(ref sk, ref dopt);
            }
            finally { Volatile.Write(ref stripe, 0); }
        }
    }

    /// <summary>
    /// Logs one element change of a paged collection into the running command's frame (the executor
    /// frames every write of a paged collection: <see cref="FrameWrites"/>), or alone outside a command.
    /// </summary>
    public void LogElement(in ElementRecord record)
    {
        if (_store.Aof is not { } aof) return;
        if (_command?.Frame is { Active: true } frame) frame.AddElement(aof, record);
        else aof.AppendElement(record);
    }

    /// <summary>
    /// A new collection id for the running command, the same in each of its replay rounds (a rerun
    /// writes the pages of the first round again, not a second collection's).
    /// </summary>
    public ulong CommandCollectionId()
    {
        if (_command is not { } state) return _store.NewCollectionId();
        if (state.NewCid == 0) state.NewCid = _store.NewCollectionId();
        return state.NewCid;
    }

    /// <summary>
    /// A pinned buffer of at least <paramref name="size"/> bytes owned by the running command's client:
    /// an RMW input may point into it, since a pending write reads its input later, when it completes.
    /// </summary>
    public byte[] CommandPinned(int size)
    {
        if (_command is not { } state) return GC.AllocateUninitializedArray<byte>(size, pinned: true);
        if (state.Pinned is null || state.Pinned.Length < size) state.Pinned = GC.AllocateUninitializedArray<byte>(Math.Max(size, 64), pinned: true);
        return state.Pinned;
    }

    /// <summary>Whether element records reach an AOF (appendonly yes): without one a command need not encode them.</summary>
    public bool LogsElements => _store.Aof is not null;

    /// <summary>Logs element entries encoded by <see cref="CommandFrame.WriteElement"/>, back to back.</summary>
    public void LogElements(ReadOnlySpan<byte> entries)
    {
        if (_store.Aof is not { } aof) return;
        var frame = _command?.Frame is { Active: true } f ? f : null;
        while (!entries.IsEmpty)
        {
            int len = CommandFrame.RecordLength(entries);
            if (frame is not null) frame.AddEncoded(aof, entries[..len]);
            else aof.FasterLog.Enqueue(entries[..len]);
            entries = entries[len..];
        }
    }

    /// <summary>
    /// Logs a main record's image that differs from what the store holds (a collection's creation
    /// logs its empty meta, the element records that follow fill it).
    /// </summary>
    public void LogImage(int db, ReadOnlySpan<byte> key, KeyType type, long expiry, ReadOnlySpan<byte> payload)
    {
        if (_store.Aof is not { } aof) return;
        int klen = ValueLayout.KeyPrefix + key.Length, vlen = ValueLayout.Header + payload.Length;
        var bytes = new byte[klen + vlen];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, _store.Namespace(db));
        key.CopyTo(bytes.AsSpan(ValueLayout.KeyPrefix));
        bytes[klen] = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(klen + 1), expiry);
        payload.CopyTo(bytes.AsSpan(klen + ValueLayout.Header));
        fixed (byte* p = bytes)
        {
            var sk = SpanByte.FromPointer(p, klen);
            var sv = SpanByte.FromPointer(p + klen, vlen);
            if (_command?.Frame is { Active: true } frame) frame.AddWrite(aof, ref sk, ref sv, unpad: false);
            else aof.AppendWrite(ref sk, ref sv);
        }
    }

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "set_KeyHash")]
    private static extern void SetKeyHash(ref UpsertOptions options, long? hash);

    [System.Runtime.CompilerServices.UnsafeAccessor(System.Runtime.CompilerServices.UnsafeAccessorKind.Method, Name = "set_KeyHash")]
    private static extern void SetKeyHash(ref DeleteOptions options, long? hash);
}
