using System.Buffers;
using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// What the sorted set commands share over a paged set (<see cref="ZSetRoot"/>: a counted tree of (score,
/// member) keys and a paged hash member -> score): conversion from inline, the element records, the commit
/// (pages, the root unlogged, the records as one frame), and <see cref="Materialize"/>, the whole set as an
/// inline payload for the readers that have no paged path (each of them O(N) in Redis too). Writes are staged
/// in the command's pages; a stopped attempt (a page on disk) has written nothing and its rerun computes the same.
/// </summary>
internal static unsafe class PagedZSets
{
    [ThreadStatic] private static byte[]? t_field;

    private static Span<byte> Field => t_field ??= new byte[PagedSortedSet.FieldSize];

    /// <summary>Queues the element record of the change just applied (the root's seq moves on).</summary>
    public static void Log(ref CommandContext ctx, CommandPages pages, ref ZSetRoot root, ReadOnlySpan<byte> key, ElementOp op, ulong arg, scoped ReadOnlySpan<byte> value = default)
    {
        root.Seq++;
        pages.Log(PagedSortedSet.Record(op, root.Cid, PagedAccess.StoreKey(ref ctx, key), Field, root.Seq, arg, value));
    }

    public static void LogRange(ref CommandContext ctx, CommandPages pages, ref ZSetRoot root, ReadOnlySpan<byte> key, ulong rank, ulong count)
    {
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(n, count);
        Log(ref ctx, pages, ref root, key, ElementOp.ZRemRange, rank, n);
    }

    /// <summary>
    /// A member past the store's value limit is refused before anything changes, with a string's error (as a list's
    /// element): a paged set takes any other (a long one goes to chunks: <see cref="ZSetLongMembers"/>). False after the error.
    /// </summary>
    public static bool Fits(ref CommandContext ctx, int length) => Db.CheckValueSize(ref ctx, length);

    /// <summary>Members past this are checked against their hash bucket's size too (a bucket is one store record).</summary>
    private const int BucketCheckLength = 64 << 10;

    /// <summary>
    /// A new member's bucket must stay within the store's value limit, as a paged hash's field must (fields are inline in
    /// their bucket): checked for long members only, after the bucket the set would write is in hand. False after the
    /// error or when stopped (<paramref name="stopped"/>).
    /// </summary>
    public static bool BucketFits(ref CommandContext ctx, CommandPages pages, in ZSetRoot root, ReadOnlySpan<byte> member, out bool stopped)
    {
        stopped = false;
        if (member.Length <= BucketCheckLength) return true;
        for (int round = 0; round < 4; round++)
        {
            PagedHash.NeedsSet(root.Hash, member, 8, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch())
            {
                stopped = true;
                return false;
            }
        }
        return PagedHashes.Fits(ref ctx, root.Hash, pages, member, 8);
    }

    /// <summary>Whether an inline set about to be written as <paramref name="b"/> goes to pages: a skiplist, whatever its members' lengths.</summary>
    public static bool ShouldPage(SortedSetBuilder b) => b.Encoding == CollectionEncoding.Skiplist && b.Count > 0;

    /// <summary>
    /// Writes <paramref name="b"/>'s members as a new paged set at <paramref name="key"/> (its creation logged as the
    /// key's image with the empty root, then a ZAdd record a member) and commits. False when stopped.
    /// </summary>
    public static bool CreateFrom(ref CommandContext ctx, ReadOnlySpan<byte> key, SortedSetBuilder b, long expiry)
    {
        for (int i = 0; i < b.Count; i++)
        {
            b.MemberAt(i, out var m, out _);
            if (!Fits(ref ctx, m.Length)) return false;
        }
        var store = Db.Store(ref ctx);
        var pages = PagedAccess.Pages(ref ctx);
        var root = ZSetRoot.Create(store.CommandCollectionId());
        pages.Fresh(root.Cid);
        Span<byte> bytes = stackalloc byte[ZSetRoot.Size];
        root.Write(bytes);
        pages.LogCreation(ctx.Client.Database, key, KeyType.ZSet, expiry, bytes);
        var fetch = pages.FetchAction;
        for (int i = 0; i < b.Count; i++)
        {
            b.MemberAt(i, out var m, out double score);
            // A fresh collection's pages are never read: fetch answers them missing at once.
            if (!BucketFits(ref ctx, pages, root, m, out _)) return false;
            if (!PagedSortedSet.Set(ref root, m, score, false, 0, pages.Pages, pages.Needs, pages, fetch)) return false;
            Log(ref ctx, pages, ref root, key, ElementOp.ZAdd, 0, PagedSortedSet.AddValue(score, m));
        }
        return Commit(ref ctx, pages, root, key);
    }

    /// <summary>
    /// Writes what the command changed: its pages, the root into the key's record (keeping its TTL, unlogged:
    /// replay derives it), or a delete of the key when the set is empty, then the element records as one frame.
    /// False when the command stops (the key's record went to disk: it runs again and writes the same).
    /// </summary>
    public static bool Commit(ref CommandContext ctx, CommandPages pages, in ZSetRoot root, ReadOnlySpan<byte> key)
    {
        var store = Db.Store(ref ctx);
        store.FrameWrites();
        pages.WritePages(root.Hash.PageSize, ListRoot.TreeRoom);
        if (Put(ref ctx, key, root) == OpStatus.Pending) return false;
        pages.LogRecords();
        pages.RememberTree(root.Cid, root.Seq);
        return true;
    }

    private static OpStatus Put(ref CommandContext ctx, ReadOnlySpan<byte> key, in ZSetRoot root)
    {
        var store = Db.Store(ref ctx);
        if (store.AttemptPending) return OpStatus.Pending;
        if (root.Count == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            return store.Rmw(ctx.Client.Database, key, ref del, out _);
        }
        var bytes = store.CommandPinned(ZSetRoot.Size);
        root.Write(bytes);
        fixed (byte* p = bytes)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = OpFlags.KeepTtl | OpFlags.NoLog, Type = KeyType.ZSet, Now = StoreInput.LazyNow,
                Data = p, DataLength = ZSetRoot.Size,
            };
            return store.Rmw(ctx.Client.Database, key, ref input, out _);
        }
    }

    // ---- the whole set inline, for readers without a paged path ----

    private sealed class InlineSink : ITreeSink
    {
        public readonly ArrayBufferWriter<byte> Out = new(4096);
        public int Count;
        /// <summary>Entries whose tree score is 0 (their score's offset and their member's length): the hash says whether it is -0.</summary>
        public readonly List<(int Score, int Length)> Zeros = new();

        public void Element(ReadOnlySpan<byte> key)
        {
            var member = TreeKeys.Member(key);
            double score = TreeKeys.Score(key);
            var dest = Out.GetSpan(SortedSet.EntrySize(member.Length));
            Out.Advance(SortedSet.WriteEntry(dest, member, score));
            if (score == 0) Zeros.Add((Out.WrittenCount - 8, member.Length));
            Count++;
        }
    }

    [ThreadStatic] private static InlineSink? t_sink;

    /// <summary>
    /// Replaces a paged set's root in <paramref name="slot"/> by the whole set as an inline payload (encoding
    /// Skiplist), read leaf by leaf: the readers with no paged path then run unchanged. A tree key holds -0 as 0, so
    /// a member scored 0 takes its exact score from the hash. True when the slot holds an inline payload; false when a page is on disk.
    /// </summary>
    public static bool Materialize(ref CommandContext ctx, OpSlot slot)
    {
        if (!ZSetRoot.TryRead(slot.Value, out var root)) return true;
        var pages = PagedAccess.Pages(ref ctx);
        var sink = t_sink ??= new InlineSink();
        sink.Out.ResetWrittenCount();
        sink.Count = 0;
        sink.Zeros.Clear();
        var head = sink.Out.GetSpan(SortedSet.HeaderSize);
        head[0] = (byte)CollectionEncoding.Skiplist;
        sink.Out.Advance(SortedSet.HeaderSize);
        ulong done = 0;
        if (!PagedSortedSet.Range(root, 0, root.Count, false, pages.Pages, pages.Needs, pages.FetchAction, sink, ref done)) return false;
        // The writer's memory is ours until the next reset: the count and the exact zeros are set in place.
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsMemory(sink.Out.WrittenMemory).Span;
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[1..], (uint)sink.Count);
        foreach (var (at, length) in sink.Zeros)
        {
            // The member sits just before its score.
            if (!PagedSortedSet.TryScore(root, bytes.Slice(at - length, length), pages.Pages, pages.Needs, pages.FetchAction, out _, out double exact)) return false;
            BinaryPrimitives.WriteInt64LittleEndian(bytes[at..], BitConverter.DoubleToInt64Bits(exact));
        }
        var payload = sink.Out.WrittenSpan;
        slot.SetValue(payload);
        return true;
    }
}
