using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// List commands over a paged list (past list-max-listpack-size: a <see cref="ListRoot"/> in the key's record, the
/// elements on a counted tree by position). Pushes and pops touch the edge leaf and its path; an index walks the
/// counts. Writes are staged in the command's pages and reach the store in <see cref="Commit"/>, after every read,
/// so a stopped attempt (a page on disk) has written nothing and its rerun computes the same. Each change is
/// logged as one element record numbered by the root's seq. False (or -1) from a step: the command stopped
/// (it waits on disk and runs again, or it replied an error).
/// </summary>
internal static unsafe class PagedLists
{
    [ThreadStatic] private static byte[]? t_field;

    private static Span<byte> Field => t_field ??= new byte[PagedList.FieldSize];

    /// <summary>Queues the element record of the change just applied (the root's seq moves on).</summary>
    public static void Log(ref CommandContext ctx, CommandPages pages, ref ListRoot root, ReadOnlySpan<byte> key, ElementOp op, ulong arg, scoped ReadOnlySpan<byte> value = default)
    {
        root.Seq++;
        pages.Log(PagedList.Record(op, root.Cid, PagedAccess.StoreKey(ref ctx, key), Field, root.Seq, arg, value));
    }

    /// <summary>
    /// An element its record could not carry (the store's value limit, which keeps a record inside an AOF page):
    /// refused before anything changes, as a string that long is. False after the error. Longer than a tree entry
    /// takes is fine: it goes out of line (<see cref="ListChunks"/>).
    /// </summary>
    public static bool Fits(ref CommandContext ctx, int length) => Db.CheckValueSize(ref ctx, length);

    /// <summary>
    /// Whether an inline list growing by elements of <paramref name="addBytes"/> (<paramref name="addCount"/> of them)
    /// goes to pages: when Redis would make it a quicklist. (Elements longer than a tree entry take go out of line: ListChunks.)
    /// </summary>
    public static bool ShouldPage(ReadOnlySpan<byte> payload, long addBytes, long addCount, long fill)
        => List.Growing(payload, addBytes, addCount, fill) == CollectionEncoding.Quicklist;

    /// <summary>
    /// A new paged list at <paramref name="key"/> holding the inline <paramref name="payload"/>'s elements: its creation
    /// is logged as the key's image with the empty root, then a push record an element. The caller applies its own change and commits.
    /// </summary>
    public static ListRoot Create(ref CommandContext ctx, CommandPages pages, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, long expiry)
    {
        var store = Db.Store(ref ctx);
        var root = ListRoot.Create(store.CommandCollectionId());
        pages.Fresh(root.Cid);
        Span<byte> bytes = stackalloc byte[ListRoot.Size];
        root.Write(bytes);
        pages.LogCreation(ctx.Client.Database, key, KeyType.List, expiry, bytes);
        var r = new Listpack.Reader(payload);
        while (r.Next(out var e))
        {
            while (!PagedList.TryPush(ref root, false, e, pages.Pages, pages, pages.Needs))
                pages.Fetch(); // a fresh collection's pages are never read
            Log(ref ctx, pages, ref root, key, ElementOp.RPush, 0, e);
        }
        return root;
    }

    /// <summary>
    /// Writes what the command changed: its pages, the root into the key's record (keeping its TTL, unlogged:
    /// replay derives it), or a delete of the key when the list is empty, then the element records as one frame.
    /// False when the command stops (the key's record went to disk: it runs again and writes the same).
    /// </summary>
    public static bool Commit(ref CommandContext ctx, CommandPages pages, in ListRoot root, ReadOnlySpan<byte> key)
    {
        var store = Db.Store(ref ctx);
        store.FrameWrites();
        pages.WritePages(0, ListRoot.TreeRoom);
        if (Put(ref ctx, key, root) == OpStatus.Pending) return false;
        pages.LogRecords();
        return true;
    }

    /// <summary>
    /// LPUSH/RPUSH of short elements onto a paged list's edge side as one store RMW that edits the root in its record
    /// (<see cref="InlineEdit"/>, <see cref="ListRoot.TryPushInPlace"/>), where the general path reads the root, pushes
    /// and writes it back (the read and the root's parse and write were a third of LPUSH's CPU at P16). Done: the
    /// element records are logged (numbered from the root's seq) and the length replied. General: an inline or missing
    /// list, long elements, or a side without room; the slot (when not null) is what a read of the key gives.
    /// </summary>
    public static InlineEdits.Outcome PushOnEdge(ref CommandContext ctx, bool head, out OpSlot? read)
    {
        read = null;
        int bytes = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (ctx[i].Length > ListEdges.MaxElement) return InlineEdits.Outcome.General;
            bytes += Listpack.EntrySize(ctx[i].Length);
        }
        if (bytes > 2 * ListEdges.SideBytes) return InlineEdits.Outcome.General;
        var data = InlineEdits.Begin(Db.Store(ref ctx), bytes);
        int at = 0;
        for (int i = 2; i < ctx.Count; i++) at += Listpack.WriteEntry(data[at..], ctx[i]);
        // The root is not logged (NoLog): its element records are, one frame for the command's pushes.
        Db.Store(ref ctx).FrameWrites();
        var kind = head ? InlineEditKind.ListPushHead : InlineEditKind.ListPushTail;
        var outcome = InlineEdits.Run(ref ctx, KeyType.List, kind, 0, bytes, out long length, out var slot, OpFlags.NoLog);
        if (outcome == InlineEdits.Outcome.General) read = slot;
        if (outcome != InlineEdits.Outcome.Done) return outcome;
        ctx.Reply.Integer(length);
        // Without an AOF the records go nowhere: encoding them was 3% of an RPOP at P16 (appendonly no).
        if (!Db.Store(ref ctx).LogsElements) return outcome;
        var ids = slot.Value;
        ulong cid = BinaryPrimitives.ReadUInt64LittleEndian(ids), seq = BinaryPrimitives.ReadUInt64LittleEndian(ids[8..]);
        var pages = PagedAccess.Pages(ref ctx);
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        var op = head ? ElementOp.LPush : ElementOp.RPush;
        for (int i = 2; i < ctx.Count; i++) pages.Log(PagedList.Record(op, cid, key, Field, ++seq, 0, ctx[i]));
        pages.LogRecords();
        return outcome;
    }

    /// <summary>
    /// LPOP/RPOP of <paramref name="take"/> elements its edge side holds as one store RMW that edits the root in its record
    /// (<see cref="ListRoot.TryPopInPlace"/>), as <see cref="PushOnEdge"/>: Done, the elements replied (an array when
    /// <paramref name="asArray"/>) and the pop's record logged. General: inline, missing, a side with fewer, or a list
    /// that may go back inline or be emptied; the slot (when not null) is what a read of the key gives.
    /// </summary>
    public static InlineEdits.Outcome PopOnEdge(ref CommandContext ctx, bool head, int take, bool asArray, out OpSlot? read)
    {
        read = null;
        var data = InlineEdits.Begin(Db.Store(ref ctx), sizeof(int));
        BinaryPrimitives.WriteInt32LittleEndian(data, take);
        var kind = head ? InlineEditKind.ListPopHead : InlineEditKind.ListPopTail;
        var outcome = InlineEdits.Run(ref ctx, KeyType.List, kind, ListStore.Fill(ref ctx), sizeof(int), out _, out var slot, OpFlags.NoLog);
        if (outcome == InlineEdits.Outcome.General) read = slot;
        if (outcome != InlineEdits.Outcome.Done) return outcome;
        var value = slot.Value;
        ulong cid = BinaryPrimitives.ReadUInt64LittleEndian(value), seq = BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);
        if (asArray) ctx.Reply.ArrayHeader(take);
        for (int at = 16; at < value.Length; at += 1 + value[at]) ctx.Reply.Bulk(value.Slice(at + 1, value[at]));
        if (!Db.Store(ref ctx).LogsElements) return outcome;
        var pages = PagedAccess.Pages(ref ctx);
        pages.Log(PagedList.Record(head ? ElementOp.LPop : ElementOp.RPop, cid, PagedAccess.StoreKey(ref ctx, ctx[1]), Field, seq + 1, (ulong)take));
        pages.LogRecords();
        return outcome;
    }

    /// <summary>
    /// Moves the root's edge sides into the tree before a change by position (LSET, LINSERT, LREM, LTRIM). False when
    /// the command stopped (a page on disk: the rerun starts again from the stored root).
    /// </summary>
    public static bool Settle(CommandPages pages, ref ListRoot root)
    {
        while (!PagedList.TrySettle(ref root, pages.Pages, pages, pages.Needs))
            if (!pages.Fetch()) return false;
        return true;
    }

    /// <summary>The root into the key's record (or a delete when empty): once per key of a commit, between WritePages and LogRecords.</summary>
    public static OpStatus Put(ref CommandContext ctx, ReadOnlySpan<byte> key, in ListRoot root)
    {
        var store = Db.Store(ref ctx);
        if (store.AttemptPending) return OpStatus.Pending;
        if (root.Count == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            return store.Rmw(ctx.Client.Database, key, ref del, out _);
        }
        var bytes = store.CommandPinned(ListRoot.Size);
        root.Write(bytes);
        fixed (byte* p = bytes)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = OpFlags.KeepTtl | OpFlags.NoLog, Type = KeyType.List, Now = StoreInput.LazyNow,
                Data = p, DataLength = ListRoot.Size,
            };
            return store.Rmw(ctx.Client.Database, key, ref input, out _);
        }
    }

    /// <summary>
    /// Pushes ctx[<paramref name="from"/>..] at one end (LPUSH a b c leaves c b a at the head), onto <paramref name="root"/>
    /// (a paged list, or one <see cref="Create"/> just made). The new length, or -1 when the command stopped.
    /// </summary>
    public static long Push(ref CommandContext ctx, CommandPages pages, ListRoot root, bool head, int from)
    {
        for (int i = from; i < ctx.Count; i++)
            if (!Fits(ref ctx, ctx[i].Length)) return -1;
        for (int i = from; i < ctx.Count; i++)
        {
            while (!PagedList.TryPush(ref root, head, ctx[i], pages.Pages, pages, pages.Needs))
                if (!pages.Fetch()) return -1;
            Log(ref ctx, pages, ref root, ctx[1], head ? ElementOp.LPush : ElementOp.RPush, 0, ctx[i]);
        }
        return Commit(ref ctx, pages, root, ctx[1]) ? (long)root.Count : -1;
    }

    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_popped;
    [ThreadStatic] private static List<int>? t_ends;

    /// <summary>
    /// Pops <paramref name="take"/> elements from one end of the paged list at <paramref name="key"/> and replies them
    /// (RPOP's from the tail inwards), without a header; the list may return inline (<see cref="Shrunk"/>). False when stopped.
    /// </summary>
    public static bool PopEnd(ref CommandContext ctx, ReadOnlySpan<byte> key, ListRoot root, int take, bool head)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var popped = t_popped ??= new System.Buffers.ArrayBufferWriter<byte>(256);
        var ends = t_ends ??= new List<int>();
        popped.ResetWrittenCount();
        ends.Clear();
        for (int i = 0; i < take; i++)
        {
            while (!PagedList.TryPop(ref root, head, pages.Pages, pages, pages.Needs, popped))
                if (!pages.Fetch()) return false;
            ends.Add(popped.WrittenCount);
        }
        Log(ref ctx, pages, ref root, key, head ? ElementOp.LPop : ElementOp.RPop, (ulong)take);
        // The reply first (a write that goes to disk discards it, and the rerun writes it again).
        int start = 0;
        foreach (int end in ends)
        {
            ctx.Reply.Bulk(popped.WrittenSpan[start..end]);
            start = end;
        }
        return Finish(ref ctx, pages, root, key);
    }

    /// <summary>After a change: the list back inline when it shrank to half the limit (Redis's listTypeTryConvertQuicklist), else the commit.</summary>
    public static bool Finish(ref CommandContext ctx, CommandPages pages, ListRoot root, ReadOnlySpan<byte> key)
    {
        int shrunk = Shrunk(ref ctx, pages, ref root, key);
        if (shrunk < 0) return false;
        if (shrunk > 0) return true;
        return Commit(ref ctx, pages, root, key);
    }

    /// <summary>
    /// listTypeTryConvertQuicklist(shrinking): a list at half list-max-listpack-size goes back inline, as a listpack,
    /// and its pages die with its cid. The Redis weight is counted from the elements when LTRIM left it unknown
    /// (only a list short enough that it could be under the limit). 1 when converted (written), 0 when it stays paged, -1 when stopped.
    /// </summary>
    public static int Shrunk(ref CommandContext ctx, CommandPages pages, ref ListRoot root, ReadOnlySpan<byte> key)
    {
        if (root.Count == 0) return 0;
        List.Limits(ListStore.Fill(ref ctx), out long sizeLimit, out long countLimit);
        if ((long)root.Count > countLimit / 2) return 0;
        // Every Redis entry weighs 2 bytes or more.
        if (sizeLimit != long.MaxValue && ListRoot.RedisEmptyBytes + 2 * (long)root.Count > sizeLimit / 2) return 0;
        if (root.RedisBytes >= 0 && root.RedisBytes > sizeLimit / 2) return 0;
        if (!ListScan.FetchRange(pages, root, 0, root.Count, reverse: false)) return -1;
        var buf = ListStore.Load(ref ctx, 0, List.Empty);
        var copier = ListScan.Copier.For(buf);
        ListScan.Visit(root, 0, root.Count, false, pages.Pages, copier);
        root.RedisBytes = List.RedisBytes(buf.Payload);
        if (root.RedisBytes > sizeLimit / 2) return 0;
        buf.SetEncoding(CollectionEncoding.Listpack);
        // The inline image replaces the root; the records of this attempt are not logged (the image holds their result).
        return ListStore.Store(ref ctx, key, buf) ? 1 : -1;
    }
}
