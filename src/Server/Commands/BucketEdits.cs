using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// HSET of one field, SADD of one member (and SPOP's pick, <see cref="Pop"/>), into a paged hash or set as an edit of the bucket's record where it lies
/// (<see cref="InlineEditKind.BucketSet"/>, <see cref="PagedHash.TrySetInRecord"/>), where the general path read the 2 KB
/// bucket out of the log and wrote it back: memmove was 9% of an HSET into a 100k-field hash, the read 19%
/// (redis-benchmark -t hset -r 100000 -P 16, perf). The caller commits the meta and logs the element.
/// </summary>
internal static class BucketEdits
{
    /// <summary>
    /// Done: <paramref name="result"/> says what the edit did, <paramref name="meta"/> follows it. Stopped: the command
    /// waits on disk. General: nothing changed (the page lies outside the mutable region, has no room, holds the old value
    /// out of line, or the entry would pass the split rule): the page the store gave is put in the command's page set, so
    /// the general path reads nothing again.
    /// </summary>
    public static InlineEdits.Outcome Set(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, out SetResult result)
    {
        result = SetResult.Unchanged;
        var bucket = PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, field));
        if (pages.Pages.State(bucket) != PageState.NotInHand) return InlineEdits.Outcome.General;
        bool hasValues = meta.Kind == PagedKind.Hash;
        if (!hasValues) value = default;
        int length = PagedHash.BucketEditSize(field, value);
        PagedHash.WriteBucketEdit(InlineEdits.Begin(Db.Store(ref ctx), length), hasValues, field, value);
        var outcome = InlineEdits.RunOnPage(ref ctx, bucket, InlineEditKind.BucketSet, PagedHash.SplitSlack(meta), length, out var slot);
        if (outcome == InlineEdits.Outcome.General)
        {
            if (slot.Found) GivePage(pages, bucket, slot);
            else pages.Pages.PutMissing(bucket);
        }
        if (outcome != InlineEdits.Outcome.Done) return outcome;
        var report = slot.Value;
        result = (SetResult)BinaryPrimitives.ReadInt32LittleEndian(report);
        if (result == SetResult.Added) meta.Count++;
        meta.EntryBytes = (ulong)((long)meta.EntryBytes + BinaryPrimitives.ReadInt32LittleEndian(report[4..]));
        return outcome;
    }

    /// <summary>
    /// SPOP's pick from a paged set made on its buckets' records: each try of the pick (<see cref="PagedHash.Draw"/>) is an
    /// edit of the drawn bucket that removes the drawn member or misses, where the general pick copied each bucket out of the
    /// log and wrote the edited copy back (memmove and the page write were a fifth of an SPOP from a 600k-member set). Done:
    /// the member in <paramref name="member"/>, <paramref name="meta"/> following. Stopped: the command waits on disk.
    /// General: a try's bucket lies outside the mutable region (its page is put in the page set), the drawn member is its
    /// bucket's last, a bucket is in hand already, or every try missed: the general pick from the same seed goes on with the
    /// page set from try <paramref name="tried"/> (the ones before it missed, and it would draw them the same).
    /// </summary>
    public static InlineEdits.Outcome Pop(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ulong seed, out ReadOnlySpan<byte> member, out int tried)
    {
        member = default;
        ulong k = PagedHash.DrawBound(meta);
        for (tried = 0; tried < PagedHash.RandomTries; tried++)
        {
            ulong draw = PagedHash.Draw(seed, tried);
            var bucket = PagedHash.BucketKey(meta, draw % meta.Buckets);
            if (pages.Pages.State(bucket) != PageState.NotInHand) return InlineEdits.Outcome.General;
            PagedHash.WriteBucketPop(InlineEdits.Begin(Db.Store(ref ctx), PagedHash.BucketPopEditSize), draw, k);
            var outcome = InlineEdits.RunOnPage(ref ctx, bucket, InlineEditKind.BucketPop, 0, PagedHash.BucketPopEditSize, out var slot);
            if (outcome == InlineEdits.Outcome.Stopped) return outcome;
            if (outcome == InlineEdits.Outcome.General)
            {
                if (!slot.Found)
                {
                    pages.Pages.PutMissing(bucket); // an empty bucket has no page: this try missed
                    continue;
                }
                GivePage(pages, bucket, slot);
                return outcome;
            }
            var report = slot.Value;
            if (BinaryPrimitives.ReadInt32LittleEndian(report) == 0) continue;
            meta.Count--;
            meta.EntryBytes -= (ulong)BinaryPrimitives.ReadInt32LittleEndian(report[4..]);
            member = report[8..];
            return outcome;
        }
        return InlineEdits.Outcome.General;
    }

    /// <summary>
    /// HGET, HEXISTS, HSTRLEN, SISMEMBER: <paramref name="field"/>'s entry read in its bucket's record, not through a copy
    /// of the page (<see cref="PagedHash.WriteEntryReport"/>). Done: <paramref name="found"/>, and the value (inline).
    /// Stopped: the command waits on disk. General: the value is out of line, the page is in the page set for the general
    /// path (nothing is read twice); also when the bucket is in hand already.
    /// </summary>
    public static InlineEdits.Outcome Find(ref CommandContext ctx, CommandPages pages, in PagedMeta meta, ReadOnlySpan<byte> field, out bool found, out ReadOnlySpan<byte> value)
    {
        found = false;
        value = default;
        var bucket = PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, field));
        if (pages.Pages.State(bucket) != PageState.NotInHand) return InlineEdits.Outcome.General;
        field.CopyTo(InlineEdits.Begin(Db.Store(ref ctx), field.Length));
        if (InlineEdits.FindOnPage(ref ctx, bucket, meta.Kind == PagedKind.Hash, field.Length, out var slot) == InlineEdits.Outcome.Stopped)
            return InlineEdits.Outcome.Stopped;
        if (!slot.Found) return InlineEdits.Outcome.Done; // an empty bucket has no page
        var report = slot.Value;
        switch ((EntryReport)report[0])
        {
            case EntryReport.Missing:
                return InlineEdits.Outcome.Done;
            case EntryReport.Inline:
                found = true;
                value = report[1..];
                return InlineEdits.Outcome.Done;
            default:
                pages.Pages.Put(bucket, report[1..], cold: true);
                return InlineEdits.Outcome.General;
        }
    }

    /// <summary>
    /// HDEL of one field, SREM of one member, on its bucket's record (<see cref="InlineEditKind.BucketRemove"/>): Done with
    /// <paramref name="removed"/>, <paramref name="meta"/> following; Stopped; General as for <see cref="Set"/> (the page in
    /// the page set), also for a value out of line and the bucket's last entry.
    /// </summary>
    public static InlineEdits.Outcome Remove(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ReadOnlySpan<byte> field, out bool removed)
    {
        removed = false;
        var bucket = PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, field));
        if (pages.Pages.State(bucket) != PageState.NotInHand) return InlineEdits.Outcome.General;
        int length = PagedHash.BucketEditSize(field, default);
        PagedHash.WriteBucketEdit(InlineEdits.Begin(Db.Store(ref ctx), length), meta.Kind == PagedKind.Hash, field, default);
        var outcome = InlineEdits.RunOnPage(ref ctx, bucket, InlineEditKind.BucketRemove, 0, length, out var slot);
        if (outcome == InlineEdits.Outcome.General)
        {
            if (!slot.Found) return InlineEdits.Outcome.Done; // an empty bucket has no page: nothing to remove
            GivePage(pages, bucket, slot);
        }
        if (outcome != InlineEdits.Outcome.Done) return outcome;
        var report = slot.Value;
        removed = BinaryPrimitives.ReadInt32LittleEndian(report) != 0;
        if (removed)
        {
            meta.Count--;
            meta.EntryBytes -= (ulong)BinaryPrimitives.ReadInt32LittleEndian(report[4..]);
        }
        return outcome;
    }

    /// <summary>A declined edit's page into the command's page set, for the general path (a bucket's record keeps room past its used bytes).</summary>
    private static void GivePage(CommandPages pages, in PageKey bucket, OpSlot slot)
    {
        var page = slot.Value;
        pages.Pages.Put(bucket, page[..Math.Min(page.Length, BucketPage.UsedOf(page))], cold: slot.Number != InlineEdit.PageInMutableRegion);
    }
}
