using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// One field set in its bucket's record, inside the store's RMW (<see cref="InlineEditKind.BucketSet"/>): where a write
/// read the bucket (a 2 KB copy out of the log), edited the copy and wrote it back (a second copy), a bucket in the log's
/// mutable region with room for the entry is edited where it lies. Only what needs no other page qualifies: the caller
/// checks that the entry cannot make the hash split and that the value stays inline; here, a field whose old value is
/// out of line (its chunks must go) or a bucket without room declines, and the command takes the general path.
/// </summary>
public static partial class PagedHash
{
    /// <summary>The edit's data: [u8 has values][u32 field length][field][value].</summary>
    public static int BucketEditSize(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) => 5 + field.Length + value.Length;

    public static void WriteBucketEdit(Span<byte> dest, bool hasValues, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        dest[0] = hasValues ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt32LittleEndian(dest[1..], field.Length);
        field.CopyTo(dest[5..]);
        value.CopyTo(dest[(5 + field.Length)..]);
    }

    /// <summary>Whether a set of this field may go to its bucket alone: its value stays inline (no chunks to write).</summary>
    public static bool SetsInBucketAlone(in PagedMeta meta, int valueLength) => !HasValues(meta) || valueLength <= InlineLimit(meta);

    /// <summary>
    /// Entry bytes the hash takes before its split rule splits a bucket: an edit that grows the entries by more declines
    /// (then <see cref="NeedsSet"/> would name the buckets to split). An overwrite that keeps the entry's size always fits:
    /// a hash loaded to its split point (most are, the rule splits as soon as it is passed) was never edited in place
    /// with the bound of a whole new entry.
    /// </summary>
    public static long SplitSlack(in PagedMeta meta)
    {
        ulong room = Room(meta, meta.Buckets);
        return room > meta.EntryBytes ? (long)Math.Min(room - meta.EntryBytes, long.MaxValue) : 0;
    }

    /// <summary>
    /// <see cref="Set"/> of the edit's field on <paramref name="record"/>, a bucket record's payload (its used bytes, then
    /// room). False, nothing changed: an old value out of line, no room, or entries grown past <paramref name="slack"/>
    /// (<see cref="SplitSlack"/>). Else what it did, and the change of the bucket's entry bytes (the meta's EntryBytes).
    /// </summary>
    public static bool TrySetInRecord(Span<byte> record, ReadOnlySpan<byte> edit, long slack, out SetResult result, out int entryDelta)
    {
        result = SetResult.Unchanged;
        entryDelta = 0;
        bool hasValues = edit[0] != 0;
        int fieldLength = BinaryPrimitives.ReadInt32LittleEndian(edit[1..]);
        var field = edit.Slice(5, fieldLength);
        var value = hasValues ? edit[(5 + fieldLength)..] : default;
        if (record.Length < BucketPage.HeaderSize) return false;
        int used = BucketPage.UsedOf(record), count = BucketPage.CountOf(record);
        if (used < BucketPage.HeaderSize || used > record.Length) throw new InvalidDataException($"bucket record of {record.Length} bytes says {used} are used");
        bool found = BucketPage.Find(record[..used], hasValues, field, out var old);
        if (found && (!hasValues || (!old.OutOfLine && old.InlineValue.SequenceEqual(value)))) return true;
        if (found && old.OutOfLine) return false;
        int oldStart = found ? old.Start : used, oldLength = found ? old.Length : 0;
        int size = BucketPage.EntrySize(hasValues, field.Length, value.Length, false);
        int newUsed = used - oldLength + size;
        if (newUsed > record.Length || size - oldLength > slack) return false;
        if (found) record[(oldStart + oldLength)..used].CopyTo(record[(oldStart + size)..]);
        BucketPage.WriteEntry(record[oldStart..], hasValues, field, value, false, value.Length, 0);
        BucketPage.WriteHeader(record, newUsed, found ? count : count + 1);
        result = found ? SetResult.Updated : SetResult.Added;
        entryDelta = size - oldLength;
        return true;
    }

    // ---- one field read in its bucket's record -------------------------------------------------------

    /// <summary>
    /// HGET, HEXISTS, HSTRLEN and SISMEMBER's entry, found in the bucket's record where the read finds it and reported in
    /// the slot (<see cref="EntryReport"/>): the general path copied the 2 KB page out (memmove was 14% of an HGET from a
    /// 100k-field hash) to take one value from it. A value out of line reports the page: its chunks are the general path's.
    /// </summary>
    public static void WriteEntryReport(ReadOnlySpan<byte> record, bool hasValues, ReadOnlySpan<byte> field, OpSlot slot)
    {
        var page = record[..Math.Min(record.Length, BucketPage.UsedOf(record))];
        if (!BucketPage.Find(page, hasValues, field, out var e))
        {
            slot.Prepare(1)[0] = (byte)EntryReport.Missing;
            return;
        }
        if (e.OutOfLine)
        {
            var whole = slot.Prepare(1 + page.Length);
            whole[0] = (byte)EntryReport.Page;
            page.CopyTo(whole[1..]);
            return;
        }
        var report = slot.Prepare(1 + e.InlineValue.Length);
        report[0] = (byte)EntryReport.Inline;
        e.InlineValue.CopyTo(report[1..]);
    }

    // ---- SPOP's pick, in its bucket's record ----------------------------------------------------

    /// <summary>A pop's edit data (<see cref="InlineEditKind.BucketPop"/>): [u64 draw][u64 K], as <see cref="Draw"/> and <see cref="DrawBound"/> give them.</summary>
    public const int BucketPopEditSize = 16;

    public static void WriteBucketPop(Span<byte> dest, ulong draw, ulong k)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(dest, draw);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[8..], k);
    }

    /// <summary>
    /// The entry a pop's draw takes from a set's bucket record (its payload: used bytes, then room): Removed with the entry,
    /// Missed when the draw's slot is empty (the pick's next try), Declined when the entry is the bucket's last (the
    /// general path deletes the page: an empty bucket has no page).
    /// </summary>
    public static BucketRemoval FindDrawnInRecord(ReadOnlySpan<byte> record, ReadOnlySpan<byte> edit, out BucketEntry entry)
    {
        entry = default;
        ulong draw = BinaryPrimitives.ReadUInt64LittleEndian(edit), k = BinaryPrimitives.ReadUInt64LittleEndian(edit[8..]);
        if (record.Length < BucketPage.HeaderSize) return BucketRemoval.Declined;
        int used = BucketPage.UsedOf(record), count = BucketPage.CountOf(record);
        if (used < BucketPage.HeaderSize || used > record.Length) throw new InvalidDataException($"bucket record of {record.Length} bytes says {used} are used");
        int index = DrawnIndex(draw, k, count);
        if (index < 0) return BucketRemoval.Missed;
        if (count == 1) return BucketRemoval.Declined;
        var r = new BucketPage.Reader(record[..used], false);
        for (int i = 0; r.Next(out entry); i++)
            if (i == index) return BucketRemoval.Removed;
        throw new InvalidDataException($"bucket record counts {count} entries and has no entry {index}");
    }

    /// <summary>
    /// The entry of a remove's field (<see cref="InlineEditKind.BucketRemove"/>, data as <see cref="WriteBucketEdit"/>'s with no
    /// value) in a bucket record: Removed with the entry, Missed when the field is not there, Declined for a value out of line
    /// or the bucket's last entry (the general path deletes the chunks, the page).
    /// </summary>
    public static BucketRemoval FindInRecord(ReadOnlySpan<byte> record, ReadOnlySpan<byte> edit, out BucketEntry entry)
    {
        entry = default;
        bool hasValues = edit[0] != 0;
        var field = edit.Slice(5, BinaryPrimitives.ReadInt32LittleEndian(edit[1..]));
        if (record.Length < BucketPage.HeaderSize) return BucketRemoval.Declined;
        int used = BucketPage.UsedOf(record), count = BucketPage.CountOf(record);
        if (used < BucketPage.HeaderSize || used > record.Length) throw new InvalidDataException($"bucket record of {record.Length} bytes says {used} are used");
        if (!BucketPage.Find(record[..used], hasValues, field, out entry)) return BucketRemoval.Missed;
        return entry.OutOfLine || count == 1 ? BucketRemoval.Declined : BucketRemoval.Removed;
    }

    /// <summary>Removes the entry at [start, start + length) of a bucket record, as <see cref="Delete"/> does on a copy.</summary>
    public static void RemoveInRecord(Span<byte> record, int start, int length)
    {
        int used = BucketPage.UsedOf(record), count = BucketPage.CountOf(record);
        record[(start + length)..used].CopyTo(record[start..]);
        BucketPage.WriteHeader(record, used - length, count - 1);
    }
}

/// <summary>What a read of one entry in its bucket's record found (<see cref="PagedHash.WriteEntryReport"/>).</summary>
public enum EntryReport : byte
{
    /// <summary>No such field.</summary>
    Missing = 0,
    /// <summary>The field, its value inline: [kind][value].</summary>
    Inline = 1,
    /// <summary>The field, its value out of line: [kind][the page's used bytes], for the general path.</summary>
    Page = 2,
}

/// <summary>What a pop's draw or a remove found in its bucket's record (<see cref="PagedHash.FindDrawnInRecord"/>, <see cref="PagedHash.FindInRecord"/>).</summary>
public enum BucketRemoval { Missed, Removed, Declined }
