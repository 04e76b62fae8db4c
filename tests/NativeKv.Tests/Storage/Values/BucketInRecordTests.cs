using System.Text;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// The in-record bucket edit (<see cref="PagedHash.TrySetInRecord"/>, HSET of one field and SADD of one member on the
/// bucket's record) against a plain dictionary: random sets over a small field space in one record of a bucket page
/// with room, values growing and shrinking, some sets declined by the split slack. After every step the record's
/// entries, read as the general path reads them, are the model's; a declined edit leaves every byte as it was; the
/// reported entry-byte changes add up to the bytes the entries take.
/// </summary>
public class BucketInRecordTests
{
    [Test]
    [Arguments(true, 1)]
    [Arguments(true, 2)]
    [Arguments(false, 3)]
    public async Task Edits_match_a_model(bool hasValues, int seed)
    {
        var rng = new Random(seed);
        var record = new byte[2048];
        BucketPage.WriteHeader(record, BucketPage.HeaderSize, 0);
        var model = new Dictionary<string, string>(StringComparer.Ordinal);
        long entryBytes = 0;
        int applied = 0, declinedRoom = 0, declinedSlack = 0;
        for (int step = 0; step < 5000; step++)
        {
            string field = "f:" + rng.Next(80);
            string value = hasValues ? new string((char)('a' + rng.Next(26)), rng.Next(0, 60)) : "";
            // Now and then a slack too small for the entry's growth: the split rule would run, so the edit declines.
            long slack = rng.Next(10) == 0 ? rng.Next(0, 8) : long.MaxValue;
            var edit = new byte[PagedHash.BucketEditSize(Bytes(field), Bytes(value))];
            PagedHash.WriteBucketEdit(edit, hasValues, Bytes(field), Bytes(value));
            var before = (byte[])record.Clone();
            bool existed = model.TryGetValue(field, out var old);
            int oldSize = existed ? BucketPage.EntrySize(hasValues, field.Length, old!.Length, false) : 0;
            int newSize = BucketPage.EntrySize(hasValues, field.Length, value.Length, false);
            bool unchanged = existed && (!hasValues || old == value);
            bool fits = BucketPage.UsedOf(record) - oldSize + newSize <= record.Length;
            bool ok = PagedHash.TrySetInRecord(record, edit, slack, out var result, out int delta);
            if (unchanged)
            {
                await Assert.That(ok).IsTrue();
                await Assert.That(result).IsEqualTo(SetResult.Unchanged);
                await Assert.That(delta).IsEqualTo(0);
            }
            else if (!fits || newSize - oldSize > slack)
            {
                await Assert.That(ok).IsFalse();
                await Assert.That(record.AsSpan().SequenceEqual(before)).IsTrue();
                if (!fits) declinedRoom++;
                else declinedSlack++;
                continue;
            }
            else
            {
                await Assert.That(ok).IsTrue();
                await Assert.That(result).IsEqualTo(existed ? SetResult.Updated : SetResult.Added);
                await Assert.That(delta).IsEqualTo(newSize - oldSize);
                model[field] = value;
                applied++;
            }
            entryBytes += delta;
            await Assert.That(entryBytes).IsEqualTo(BucketPage.UsedOf(record) - BucketPage.HeaderSize);
            await Assert.That(Entries(record, hasValues)).IsEquivalentTo(model);
            // Now and then a drop of a field, as HDEL's general path does, so the record empties and fills again.
            if (rng.Next(4) == 0 && model.Count > 0)
            {
                var gone = model.Keys.ElementAt(rng.Next(model.Count));
                entryBytes -= Drop(record, hasValues, gone);
                model.Remove(gone);
            }
        }
        await Assert.That(applied).IsGreaterThan(1000);
        await Assert.That(declinedSlack).IsGreaterThan(10);
        if (hasValues) await Assert.That(declinedRoom).IsGreaterThan(0);
    }

    /// <summary>
    /// SPOP's in-record pick (<see cref="PagedHash.FindDrawnInRecord"/>, <see cref="PagedHash.RemoveInRecord"/>) against a
    /// list of the members in the record's order: a draw takes the entry <see cref="PagedHash.DrawnIndex"/> names, as the
    /// general pick does from the same page; a miss, and the bucket's last member (the general path deletes its page),
    /// leave every byte; a pop removes exactly that member and reports its entry bytes. Members are added back now and then,
    /// and K is sometimes below the count (the "any entry" case).
    /// </summary>
    [Test]
    [Arguments(4)]
    [Arguments(5)]
    public async Task Pops_take_the_drawn_member_and_nothing_else(int seed)
    {
        var rng = new Random(seed);
        var record = new byte[2048];
        BucketPage.WriteHeader(record, BucketPage.HeaderSize, 0);
        var model = new List<string>();
        int popped = 0, missed = 0, declined = 0;
        for (int step = 0; step < 4000; step++)
        {
            if (model.Count == 0 || rng.Next(3) == 0)
            {
                string m = "m:" + rng.Next(1000);
                var add = new byte[PagedHash.BucketEditSize(Bytes(m), default)];
                PagedHash.WriteBucketEdit(add, false, Bytes(m), default);
                if (PagedHash.TrySetInRecord(record, add, long.MaxValue, out var r, out _) && r == SetResult.Added) model.Add(m);
                continue;
            }
            ulong draw = (ulong)rng.NextInt64() ^ ((ulong)rng.NextInt64() << 32);
            ulong k = (ulong)Math.Max(1, rng.Next(10) == 0 ? model.Count / 2 : model.Count * 5 / 4 + rng.Next(3));
            var edit = new byte[PagedHash.BucketPopEditSize];
            PagedHash.WriteBucketPop(edit, draw, k);
            var before = (byte[])record.Clone();
            int index = PagedHash.DrawnIndex(draw, k, model.Count);
            var (found, member, start, length) = FindDrawn(record, edit);
            if (index < 0 || model.Count == 1)
            {
                await Assert.That(found).IsEqualTo(index < 0 ? BucketRemoval.Missed : BucketRemoval.Declined);
                await Assert.That(record.AsSpan().SequenceEqual(before)).IsTrue();
                if (index < 0)
                {
                    missed++;
                    continue;
                }
                declined++;
                model.Clear(); // as the general path's delete of the page
                BucketPage.WriteHeader(record, BucketPage.HeaderSize, 0);
                continue;
            }
            await Assert.That(found).IsEqualTo(BucketRemoval.Removed);
            await Assert.That(member).IsEqualTo(model[index]);
            await Assert.That(length).IsEqualTo(BucketPage.EntrySize(false, model[index].Length, 0, false));
            int usedBefore = BucketPage.UsedOf(record);
            PagedHash.RemoveInRecord(record, start, length);
            model.RemoveAt(index);
            popped++;
            await Assert.That(BucketPage.UsedOf(record)).IsEqualTo(usedBefore - length);
            await Assert.That(string.Join(",", Order(record))).IsEqualTo(string.Join(",", model));
        }
        await Assert.That(popped).IsGreaterThan(500);
        await Assert.That(missed).IsGreaterThan(50);
        await Assert.That(declined).IsGreaterThan(0);
    }

    /// <summary>
    /// HDEL/SREM of one element in the record (<see cref="PagedHash.FindInRecord"/>) against a dictionary: a present field
    /// is removed with exactly its entry's bytes; an absent one, one whose value is out of line, and the bucket's last entry
    /// leave every byte.
    /// </summary>
    [Test]
    [Arguments(true, 6)]
    [Arguments(false, 7)]
    public async Task Removes_take_the_field_and_nothing_else(bool hasValues, int seed)
    {
        var rng = new Random(seed);
        var record = new byte[2048];
        BucketPage.WriteHeader(record, BucketPage.HeaderSize, 0);
        var model = new Dictionary<string, string>(StringComparer.Ordinal);
        int removed = 0, missed = 0, declinedOutOfLine = 0;
        string outOfLine = "big";
        if (hasValues)
        {
            int size = BucketPage.WriteEntry(record.AsSpan(BucketPage.HeaderSize), true, Bytes(outOfLine), default, true, 5000, 7);
            BucketPage.WriteHeader(record, BucketPage.HeaderSize + size, 1);
        }
        for (int step = 0; step < 4000; step++)
        {
            string field = "f:" + rng.Next(60);
            if (rng.Next(2) == 0)
            {
                string value = hasValues ? new string('v', rng.Next(0, 20)) : "";
                var add = new byte[PagedHash.BucketEditSize(Bytes(field), Bytes(value))];
                PagedHash.WriteBucketEdit(add, hasValues, Bytes(field), Bytes(value));
                if (PagedHash.TrySetInRecord(record, add, long.MaxValue, out _, out _)) model[field] = value;
                continue;
            }
            if (hasValues && rng.Next(20) == 0) field = outOfLine;
            var edit = new byte[PagedHash.BucketEditSize(Bytes(field), default)];
            PagedHash.WriteBucketEdit(edit, hasValues, Bytes(field), default);
            var before = (byte[])record.Clone();
            var (found, _, start, length) = FindRemoved(record, edit);
            int count = BucketPage.CountOf(record);
            if (field == outOfLine || (model.ContainsKey(field) && count == 1))
            {
                await Assert.That(found).IsEqualTo(BucketRemoval.Declined);
                await Assert.That(record.AsSpan().SequenceEqual(before)).IsTrue();
                if (field == outOfLine) declinedOutOfLine++;
                continue;
            }
            if (!model.ContainsKey(field))
            {
                await Assert.That(found).IsEqualTo(BucketRemoval.Missed);
                await Assert.That(record.AsSpan().SequenceEqual(before)).IsTrue();
                missed++;
                continue;
            }
            await Assert.That(found).IsEqualTo(BucketRemoval.Removed);
            await Assert.That(length).IsEqualTo(BucketPage.EntrySize(hasValues, field.Length, model[field].Length, false));
            int usedBefore = BucketPage.UsedOf(record);
            PagedHash.RemoveInRecord(record, start, length);
            model.Remove(field);
            removed++;
            await Assert.That(BucketPage.UsedOf(record)).IsEqualTo(usedBefore - length);
            var entries = Entries(record, hasValues);
            if (hasValues) entries.Remove(outOfLine);
            await Assert.That(entries).IsEquivalentTo(model);
        }
        await Assert.That(removed).IsGreaterThan(300);
        await Assert.That(missed).IsGreaterThan(100);
        if (hasValues) await Assert.That(declinedOutOfLine).IsGreaterThan(10);
        // The bucket's last entry: its page goes (the general path's), so the record is left.
        var one = new byte[256];
        int onlySize = BucketPage.WriteEntry(one.AsSpan(BucketPage.HeaderSize), hasValues, Bytes("only"), default, false, 0, 0);
        BucketPage.WriteHeader(one, BucketPage.HeaderSize + onlySize, 1);
        var drop = new byte[PagedHash.BucketEditSize(Bytes("only"), default)];
        PagedHash.WriteBucketEdit(drop, hasValues, Bytes("only"), default);
        await Assert.That(FindRemoved(one, drop).Found).IsEqualTo(BucketRemoval.Declined);
    }

    private static (BucketRemoval Found, string? Member, int Start, int Length) FindRemoved(byte[] record, byte[] edit)
    {
        var found = PagedHash.FindInRecord(record, edit, out var entry);
        return found == BucketRemoval.Removed ? (found, Encoding.ASCII.GetString(entry.Field), entry.Start, entry.Length) : (found, null, 0, 0);
    }

    private static (BucketRemoval Found, string? Member, int Start, int Length) FindDrawn(byte[] record, byte[] edit)
    {
        var found = PagedHash.FindDrawnInRecord(record, edit, out var entry);
        return found == BucketRemoval.Removed ? (found, Encoding.ASCII.GetString(entry.Field), entry.Start, entry.Length) : (found, null, 0, 0);
    }

    /// <summary>The members of a set's bucket record, in its order.</summary>
    private static List<string> Order(byte[] record)
    {
        var found = new List<string>();
        var r = new BucketPage.Reader(record.AsSpan(0, BucketPage.UsedOf(record)), false);
        while (r.Next(out var e)) found.Add(Encoding.ASCII.GetString(e.Field));
        if (found.Count != BucketPage.CountOf(record)) throw new InvalidDataException($"header counts {BucketPage.CountOf(record)}, entries {found.Count}");
        return found;
    }

    [Test]
    public async Task An_old_value_out_of_line_declines_and_leaves_the_record()
    {
        var record = new byte[512];
        int size = BucketPage.WriteEntry(record.AsSpan(BucketPage.HeaderSize), true, Bytes("big"), default, true, 5000, 7);
        BucketPage.WriteHeader(record, BucketPage.HeaderSize + size, 1);
        var before = (byte[])record.Clone();
        var edit = new byte[PagedHash.BucketEditSize(Bytes("big"), Bytes("small"))];
        PagedHash.WriteBucketEdit(edit, true, Bytes("big"), Bytes("small"));
        await Assert.That(PagedHash.TrySetInRecord(record, edit, long.MaxValue, out _, out _)).IsFalse();
        await Assert.That(record.AsSpan().SequenceEqual(before)).IsTrue();
    }

    private static byte[] Bytes(string s) => Encoding.ASCII.GetBytes(s);

    private static Dictionary<string, string> Entries(byte[] record, bool hasValues)
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        var r = new BucketPage.Reader(record.AsSpan(0, BucketPage.UsedOf(record)), hasValues);
        while (r.Next(out var e)) found.Add(Encoding.ASCII.GetString(e.Field), Encoding.ASCII.GetString(e.InlineValue));
        if (found.Count != BucketPage.CountOf(record)) throw new InvalidDataException($"header counts {BucketPage.CountOf(record)}, entries {found.Count}");
        return found;
    }

    /// <summary>Removes a field's entry (the bytes it took).</summary>
    private static int Drop(byte[] record, bool hasValues, string field)
    {
        int used = BucketPage.UsedOf(record);
        if (!BucketPage.Find(record.AsSpan(0, used), hasValues, Bytes(field), out var e)) throw new InvalidDataException(field);
        int start = e.Start, length = e.Length;
        record.AsSpan(start + length, used - start - length).CopyTo(record.AsSpan(start));
        BucketPage.WriteHeader(record, used - length, BucketPage.CountOf(record) - 1);
        return length;
    }
}
