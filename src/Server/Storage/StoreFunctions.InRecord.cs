using System.Runtime.CompilerServices;
using FASTER.core;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Storage;

/// <summary>
/// The edits made on a record's own bytes inside the store's RMW, in the mutable region: a paged list's edge push or pop
/// on its root, and one element set or popped in a paged hash's or set's bucket. Each skips the read of the record, the
/// edit of a copy and the copy's write.
/// </summary>
public readonly unsafe partial struct StoreFunctions
{
    /// <summary>
    /// A paged list's edge push or pop made on the record in place (<see cref="InlineEdit.ListEditInRecord"/>): the key,
    /// its type, expiry, size and cid stay; only the weight in the page estimate moves. False when the record is not a
    /// live editable root: <see cref="Decide"/> then answers as for any edit (WRONGTYPE, or the general path's read).
    /// An edit the side cannot take is answered here as Decide would (not applied, the root for the general path).
    /// </summary>
    private bool ListEdgeInRecord(ref SpanByte key, ref StoreInput input, ref SpanByte value, OpSlot slot)
    {
        if (!Observe(ref input, ref value, slot, out var type, out _) || type != KeyType.List) return false;
        var payload = ValueLayout.MutablePayloadOf(ref value);
        if (!Values.Paged.ListRoot.IsEditable(payload)) return false;
        long bytesBefore = Values.Paged.ListRoot.EstimatedBytesOf(payload);
        if (!InlineEdit.ListEditInRecord(input, payload))
        {
            slot.SetValue(payload);
            slot.Result = OpResult.NotApplied;
            return true;
        }
        InlineEdit.Report(input, slot);
        slot.Changed = true;
        long bytesAfter = Values.Paged.ListRoot.EstimatedBytesOf(payload);
        if (bytesAfter != bytesBefore)
        {
            ulong cid = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 8)..]);
            Collections(ref key, cid, bytesBefore, cid, bytesAfter);
        }
        LogWrite(ref key, ref value, slot); // durability: the record's image, under the record lock
        return true;
    }

    /// <summary>
    /// HSET into a live inline hash whose fields are all there with values of the same sizes, made on the record's bytes
    /// (<see cref="InlineEdit.HashSetInRecord"/>): no payload built in the thread's buffer and copied back (that build and
    /// copy were ~6% of redis-benchmark's -t hset). The record keeps its size and expiry, so no counter moves. False, with
    /// nothing changed, for anything else: <see cref="Decide"/> then answers as for any edit.
    /// </summary>
    private bool HashSetInRecord(ref SpanByte key, ref StoreInput input, ref SpanByte value, OpSlot slot)
    {
        if (!Observe(ref input, ref value, slot, out var type, out _) || type != KeyType.Hash || input.Type != KeyType.Hash) return false;
        if (!InlineEdit.HashSetInRecord(ValueLayout.MutablePayloadOf(ref value), input.DataSpan)) return false;
        InlineEdit.Report(input, slot);
        slot.Changed = true;
        LogWrite(ref key, ref value, slot); // durability: the record's image, under the record lock
        return true;
    }

    /// <summary>
    /// HSET/SADD of one element on its bucket's record in place (<see cref="InlineEditKind.BucketSet"/>): the record keeps
    /// its size (a bucket is written with a page of room), so no store counter moves; pages are never logged (the command
    /// logs the element). Declined (an old value out of line, no room): not applied, the page's used bytes in the slot, as
    /// <see cref="Decide"/> answers for a record outside the mutable region. False when the record is not a page.
    /// </summary>
    private static bool BucketInRecord(ref StoreInput input, ref SpanByte value, OpSlot slot)
    {
        if (!Observe(ref input, ref value, slot, out var type, out _) || type != KeyType.Page || input.Type != KeyType.Page) return false;
        var record = ValueLayout.MutablePayloadOf(ref value);
        if (input.Arg != (long)InlineEditKind.BucketSet) return BucketRemoveInRecord(ref input, record, slot);
        if (!Values.Paged.PagedHash.TrySetInRecord(record, input.DataSpan, input.Limit, out var result, out int entryDelta))
        {
            DeclineBucket(record, slot);
            return true;
        }
        slot.Number = result == Values.Paged.SetResult.Added ? 1 : 0;
        slot.Changed = result != Values.Paged.SetResult.Unchanged;
        var report = slot.Prepare(8);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(report, (int)result);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(report[4..], entryDelta);
        return true;
    }

    /// <summary>The page for the general path, as <see cref="Decide"/> gives it for a record outside the mutable region.</summary>
    private static void DeclineBucket(Span<byte> record, OpSlot slot)
    {
        slot.SetValue(record[..Math.Min(record.Length, Values.Paged.BucketPage.UsedOf(record))]);
        slot.Result = OpResult.NotApplied;
        slot.Number = InlineEdit.PageInMutableRegion;
    }

    /// <summary>
    /// SPOP's draw (<see cref="InlineEditKind.BucketPop"/>) or a remove of one field (<see cref="InlineEditKind.BucketRemove"/>)
    /// on its bucket's record: the report is [i32 removed][i32 entry bytes removed][the member, for a pop]; slot Number 1 when
    /// it removed. The record keeps its size, as for BucketSet.
    /// </summary>
    private static bool BucketRemoveInRecord(ref StoreInput input, Span<byte> record, OpSlot slot)
    {
        bool pop = input.Arg == (long)InlineEditKind.BucketPop;
        var found = pop
            ? Values.Paged.PagedHash.FindDrawnInRecord(record, input.DataSpan, out var entry)
            : Values.Paged.PagedHash.FindInRecord(record, input.DataSpan, out entry);
        if (found == Values.Paged.BucketRemoval.Declined)
        {
            DeclineBucket(record, slot);
            return true;
        }
        bool popped = found == Values.Paged.BucketRemoval.Removed;
        var report = slot.Prepare(8 + (popped && pop ? entry.Field.Length : 0));
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(report, popped ? 1 : 0);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(report[4..], popped ? entry.Length : 0);
        slot.Number = popped ? 1 : 0;
        slot.Changed = popped;
        if (popped)
        {
            if (pop) entry.Field.CopyTo(report[8..]);
            Values.Paged.PagedHash.RemoveInRecord(record, entry.Start, entry.Length);
        }
        return true;
    }
}
