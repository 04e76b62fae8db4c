namespace NativeKv.Server.Storage.Values;

/// <summary>Which edit a <see cref="StoreOp.Edit"/> makes (its <see cref="StoreInput.Arg"/>).</summary>
public enum InlineEditKind : byte
{
    /// <summary>HSET / HMSET: the arguments are field, value, field, value...</summary>
    HashSet = 1,
    /// <summary>LPUSH of short elements onto a paged list's left edge side (<see cref="Paged.ListRoot.TryPushInPlace"/>).</summary>
    ListPushHead = 2,
    /// <summary>RPUSH onto the right edge side.</summary>
    ListPushTail = 3,
    /// <summary>LPOP from a paged list's left edge side (<see cref="Paged.ListRoot.TryPopInPlace"/>): data = [count u32], Limit = the fill.</summary>
    ListPopHead = 4,
    /// <summary>RPOP from the right edge side.</summary>
    ListPopTail = 5,
    /// <summary>
    /// HSET of one field (SADD of one member) on its bucket's record, a page record of a paged hash or set
    /// (<see cref="Paged.PagedHash.TrySetInRecord"/>): made only on a record in the mutable region; anywhere else, or
    /// when it declines, the store changes nothing and hands the command the page.
    /// </summary>
    BucketSet = 6,
    /// <summary>
    /// SPOP's draw on a set's bucket record (<see cref="Paged.PagedHash.FindDrawnInRecord"/>): the drawn member removed where
    /// it lies and reported, or a miss (the pick's next try); declined, and anywhere but the mutable region, as BucketSet.
    /// </summary>
    BucketPop = 7,
    /// <summary>
    /// HDEL of one field (SREM of one member) on its bucket's record (<see cref="Paged.PagedHash.FindInRecord"/>): data as
    /// BucketSet's without a value; declined for a value out of line and for the bucket's last entry (the general path
    /// deletes their chunks, its page), and anywhere but the mutable region, as BucketSet.
    /// </summary>
    BucketRemove = 8,
}

/// <summary>
/// An edit of a small inline collection made inside the store's RMW, on the record itself. HSET of a
/// field into a listpack hash was a read of the record, an edit of a copy and a write of the copy: two
/// store operations where Redis does one look-up (the read was 11% of HSET's server CPU at pipeline 16,
/// perf of redis-benchmark -t hset). The command passes its arguments as listpack entries
/// (<see cref="StoreInput.Data"/>) and the entry limit of the encoding (<see cref="StoreInput.Limit"/>);
/// the new payload is built here, from the record's. An edit the inline encoding cannot hold (past the
/// limit, or a payload that is not a listpack) is <see cref="NotInline"/>: the store changes nothing and
/// the command takes its general path (conversion to pages), still under its key lock.
/// </summary>
public static class InlineEdit
{
    public const int NotInline = -1;

    /// <summary>
    /// A declined <see cref="InlineEditKind.BucketSet"/>'s slot Number when the page lies in the mutable region (the general
    /// path then writes it back with a page of room, as a page it read from there); 0 when it does not.
    /// </summary>
    public const int PageInMutableRegion = 1;

    // The result is built in a per-thread buffer, then copied into the record: an edit may grow and
    // shrink the payload on its way (HSET k f <long> f <short>), so it cannot be built in the record.
    [ThreadStatic] private static byte[]? t_result;
    [ThreadStatic] private static int t_length;
    [ThreadStatic] private static long t_added;
    [ThreadStatic] private static ulong t_cid, t_seq;
    [ThreadStatic] private static byte[]? t_popped;
    [ThreadStatic] private static int t_poppedBytes;

    /// <summary>HSET / HMSET into an inline hash.</summary>
    public static bool IsHashSet(in StoreInput input) => input.Arg == (long)InlineEditKind.HashSet;

    /// <summary>A list edit: on a paged list's root (ListPush*, ListPop*).</summary>
    private static bool IsList(in StoreInput input) => input.Arg is >= (long)InlineEditKind.ListPushHead and <= (long)InlineEditKind.ListPopTail;

    /// <summary>An edit of a paged collection's bucket record (<see cref="InlineEditKind.BucketSet"/>).</summary>
    public static bool IsBucket(in StoreInput input) => input.Arg is >= (long)InlineEditKind.BucketSet and <= (long)InlineEditKind.BucketRemove;

    private static bool IsListPop(in StoreInput input) => (InlineEditKind)input.Arg is InlineEditKind.ListPopHead or InlineEditKind.ListPopTail;

    /// <summary>Whether a live record of <paramref name="type"/> with this payload can take the edit inline.</summary>
    public static bool Accepts(in StoreInput input, KeyType type, ReadOnlySpan<byte> payload) => IsList(input)
        ? type == KeyType.List && Paged.ListRoot.IsEditable(payload)
        : !IsBucket(input) && type == KeyType.Hash && Listpack.EncodingOf(payload) == CollectionEncoding.Listpack;

    /// <summary>
    /// Builds the edited payload of <paramref name="old"/> (empty: a new key) in the per-thread buffer:
    /// its bytes and how many elements the edit added, or <see cref="NotInline"/>.
    /// </summary>
    public static int Build(ref StoreInput input, ReadOnlySpan<byte> old, out ReadOnlySpan<byte> result, out long added)
    {
        if (IsList(input)) return ListEdit(ref input, old, out result, out added);
        if (IsBucket(input))
        {
            // Made in the record only (StoreFunctions.BucketInRecord): a copy or a missing page takes the general path.
            result = default;
            added = 0;
            t_length = NotInline;
            return NotInline;
        }
        if (old.IsEmpty) old = Hash.Empty;
        var args = input.DataSpan;
        int room = old.Length + args.Length;
        var buf = t_result;
        if (buf is null || buf.Length < room || (buf.Length > 1 << 16 && room <= 1 << 16)) t_result = buf = new byte[Math.Max(room, 256)];
        old.CopyTo(buf);
        int length = HashSet(buf, old.Length, args, input.Limit, out added);
        result = length < 0 ? default : buf.AsSpan(0, length);
        t_length = length;
        t_added = added;
        return length;
    }

    /// <summary>
    /// A push onto a paged list's edge side: the root's bytes with the elements in its side (a missing key, an inline list
    /// or a side without room: <see cref="NotInline"/>, and the general path). <paramref name="added"/> is the new length.
    /// </summary>
    private static int ListEdit(ref StoreInput input, ReadOnlySpan<byte> old, out ReadOnlySpan<byte> result, out long added)
    {
        result = default;
        added = 0;
        t_length = NotInline;
        if (!Paged.ListRoot.IsEditable(old)) return NotInline;
        var buf = t_result;
        if (buf is null || buf.Length < old.Length) t_result = buf = new byte[Math.Max(old.Length, 1024)];
        var root = buf.AsSpan(0, old.Length);
        old.CopyTo(root);
        if (!ListEditInRecord(input, root)) return NotInline;
        result = root;
        t_length = root.Length;
        added = t_added;
        return root.Length;
    }

    /// <summary>A list edge edit (<see cref="ListEdit"/>): its root keeps its size, so it can be made on the record's own bytes.</summary>
    public static bool IsListEdge(in StoreInput input) => IsList(input);

    /// <summary>
    /// <see cref="ListEdit"/> on the record's payload itself (a root in the mutable region, <see cref="Paged.ListRoot.IsEditable"/>):
    /// the edits change nothing when they fail, and a root keeps its size, so there is nothing to build and copy back (two
    /// copies of the 574-byte root an LPUSH). False: nothing changed, the general path runs. <see cref="Report"/> follows.
    /// </summary>
    public static bool ListEditInRecord(in StoreInput input, Span<byte> payload)
    {
        t_length = NotInline;
        var kind = (InlineEditKind)input.Arg;
        ulong count;
        if (IsListPop(input))
        {
            int take = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(input.DataSpan);
            var popped = t_popped ??= new byte[Paged.ListEdges.SideBytes];
            if (!Paged.ListRoot.TryPopInPlace(payload, kind == InlineEditKind.ListPopHead, take, input.Limit, popped, out t_poppedBytes, out count, out t_cid, out t_seq))
                return false;
        }
        else if (!Paged.ListRoot.TryPushInPlace(payload, kind == InlineEditKind.ListPushHead, input.DataSpan, out count, out t_cid, out t_seq)) return false;
        t_added = (long)count;
        return true;
    }

    /// <summary>
    /// What the edit tells its command, into the slot: how many elements a hash edit added, or a list edit's new length
    /// (<see cref="OpSlot.Number"/>) and the list's cid and seq before it (the slot's value: 16 bytes, little-endian),
    /// then a pop's side entries (<c>[u8 length][bytes]</c>, in the pop's order).
    /// </summary>
    public static void Report(in StoreInput input, OpSlot slot)
    {
        slot.Number = t_added;
        if (!IsList(input)) return;
        int popped = IsListPop(input) ? t_poppedBytes : 0;
        var value = slot.Prepare(16 + popped);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(value, t_cid);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(value[8..], t_seq);
        t_popped.AsSpan(0, popped).CopyTo(value[16..]);
    }

    /// <summary>
    /// What the last <see cref="Build"/> on this thread made: a store callback that decided on an edit
    /// (which builds it) writes it without building it twice more (the three builds were 9.6% of HSET's CPU).
    /// </summary>
    public static ReadOnlySpan<byte> Last(out long added)
    {
        added = t_added;
        return t_length < 0 ? default : t_result.AsSpan(0, t_length);
    }

    /// <summary>
    /// HSET on the record's own listpack when every field is there with a value entry of the same size (redis-benchmark's
    /// -t hset overwrites one field with a value of its size): each value is written over the old one, nothing moves.
    /// False, and nothing changed, when one field is missing or its value's size differs: the edit is built as usual.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool HashSetInRecord(Span<byte> payload, ReadOnlySpan<byte> args)
    {
        if (Listpack.EncodingOf(payload) != CollectionEncoding.Listpack) return false;
        // Every pair is found before any is written (all or nothing); up to 8 pairs, as HSET mostly sets one.
        Span<int> at = stackalloc int[3 * InRecordPairs]; // [value in args, its size, the old value in the payload]
        int pairs = 0;
        var r = new Listpack.Reader(args, 0);
        while (true)
        {
            int fieldAt = r.Offset;
            if (!r.Next(out var field)) break;
            int valueAt = r.Offset;
            r.Next(out _);
            int size = r.Offset - valueAt;
            int start = Hash.Find(payload, field, out int end);
            int oldValueAt = start + (valueAt - fieldAt);
            if (start < 0 || end - oldValueAt != size || pairs == InRecordPairs) return false;
            at[3 * pairs] = valueAt;
            at[3 * pairs + 1] = size;
            at[3 * pairs + 2] = oldValueAt;
            pairs++;
        }
        for (int i = 0; i < 3 * pairs; i += 3) args.Slice(at[i], at[i + 1]).CopyTo(payload[at[i + 2]..]);
        t_added = 0;
        return true;
    }

    private const int InRecordPairs = 8;

    /// <summary>
    /// hashTypeSet for each pair, as HashWriter.Set on a listpack: an existing field's value is replaced
    /// where it is, a new field appended (its entries copied as the command encoded them).
    /// </summary>
    private static int HashSet(byte[] buf, int length, ReadOnlySpan<byte> args, long limit, out long added)
    {
        added = 0;
        int count = Listpack.CountOf(buf) / 2;
        var r = new Listpack.Reader(args, 0);
        while (true)
        {
            int fieldAt = r.Offset;
            if (!r.Next(out var field)) break;
            int valueAt = r.Offset;
            r.Next(out var value);
            int start = Hash.Find(buf.AsSpan(0, length), field, out int end);
            if (start < 0)
            {
                if (++count > limit) return NotInline;
                args[fieldAt..r.Offset].CopyTo(buf.AsSpan(length));
                length += r.Offset - fieldAt;
                added++;
                continue;
            }
            int oldValueAt = start + (valueAt - fieldAt);
            int size = r.Offset - valueAt, delta = size - (end - oldValueAt);
            if (delta != 0)
            {
                buf.AsSpan(end, length - end).CopyTo(buf.AsSpan(end + delta));
                length += delta;
            }
            args[valueAt..r.Offset].CopyTo(buf.AsSpan(oldValueAt));
        }
        Listpack.WriteHeader(buf, CollectionEncoding.Listpack, count * 2);
        return length;
    }
}
