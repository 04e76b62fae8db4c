using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// What every list command shares: the typed read, the pinned buffer a new payload is built in, and its
/// write (StoreOp.Set of type List keeping the TTL, or a delete once the last element goes). The
/// key-lock table makes the read-compute-write atomic; payloads are read and edited through <see cref="List"/>.
/// </summary>
internal static unsafe class ListStore
{
    [ThreadStatic] private static int[]? t_offsets;
    [ThreadStatic] private static byte[]? t_element;

    public static Lookup Read(ref CommandContext ctx, ReadOnlySpan<byte> key, out OpSlot slot) => Db.Read(ref ctx, key, KeyType.List, out slot);

    /// <summary>The length of a list's payload, inline or paged (its <see cref="ListRoot"/>).</summary>
    public static int Count(ReadOnlySpan<byte> payload)
        => ListRoot.TryRead(payload, out var root) ? (int)Math.Min(root.Count, int.MaxValue) : List.Count(payload);

    /// <summary>As <see cref="Count"/>, in full.</summary>
    public static long LongCount(ReadOnlySpan<byte> payload) => ListRoot.TryRead(payload, out var root) ? (long)root.Count : List.Count(payload);

    /// <summary>list-max-listpack-size, as Redis's quicklist fill.</summary>
    public static long Fill(ref CommandContext ctx) => ctx.Server.Config.ListMaxListpackSize;

    /// <summary>Buffer <paramref name="which"/> (0 or 1) for a new payload, loaded with <paramref name="payload"/>.</summary>
    public static SetBuffer Load(ref CommandContext ctx, int which, ReadOnlySpan<byte> payload)
    {
        var buf = SetScratch.Current.Write(Db.Store(ref ctx), which);
        buf.Load(payload);
        return buf;
    }

    /// <summary>Offsets of entries [from, to) of <paramref name="payload"/> and the end of the last, in a per-thread array.</summary>
    public static Span<int> Offsets(ReadOnlySpan<byte> payload, int from, int to)
    {
        int n = to - from + 1;
        var arr = t_offsets;
        if (arr is null || arr.Length < n || (arr.Length > 1 << 16 && n <= 1 << 16)) t_offsets = arr = new int[Math.Max(n, 64)];
        var r = new Listpack.Reader(payload);
        for (int i = 0; i < from; i++) r.Next(out _);
        for (int i = 0; i < n; i++)
        {
            arr[i] = r.Offset;
            if (i < n - 1) r.Next(out _);
        }
        return arr.AsSpan(0, n);
    }

    /// <summary>The entry that starts at payload offset <paramref name="offset"/>.</summary>
    public static ReadOnlySpan<byte> EntryAt(ReadOnlySpan<byte> payload, int offset)
    {
        var r = new Listpack.Reader(payload[(offset - Listpack.HeaderSize)..]);
        r.Next(out var e);
        return e;
    }

    /// <summary>A copy of an element that must outlive the edit of the payload it came from (LMOVE).</summary>
    public static ReadOnlySpan<byte> Keep(ReadOnlySpan<byte> element)
    {
        var arr = t_element;
        if (arr is null || arr.Length < element.Length || (arr.Length > 1 << 20 && element.Length <= 1 << 20))
            t_element = arr = new byte[Math.Max(element.Length, 64)];
        element.CopyTo(arr);
        return arr.AsSpan(0, element.Length);
    }

    /// <summary>Replies entries [from, from + n) of the payload, head to tail or (reverse) tail to head, without a header.</summary>
    public static void ReplyRange(ref CommandContext ctx, ReadOnlySpan<byte> payload, int from, int n, bool reverse)
    {
        if (!reverse)
        {
            var r = new Listpack.Reader(payload);
            for (int i = 0; i < from; i++) r.Next(out _);
            for (int i = 0; i < n; i++)
            {
                r.Next(out var e);
                ctx.Reply.Bulk(e);
            }
            return;
        }
        var offsets = Offsets(payload, from, from + n);
        for (int i = n - 1; i >= 0; i--) ctx.Reply.Bulk(EntryAt(payload, offsets[i]));
    }

    /// <summary>Removes <paramref name="n"/> elements from the head or the tail of <paramref name="buf"/>.</summary>
    public static void RemoveEnd(SetBuffer buf, int n, bool head)
    {
        int count = List.Count(buf.Payload);
        if (head) List.DeleteEntries(buf, Listpack.HeaderSize, List.OffsetOf(buf.Payload, n), n);
        else List.DeleteEntries(buf, List.OffsetOf(buf.Payload, count - n), buf.Length, n);
    }

    /// <summary>listElementsRemoved: an emptied list is deleted, else it may convert back to listpack.</summary>
    public static void Removed(ref CommandContext ctx, SetBuffer buf) => buf.SetEncoding(List.Shrinking(buf.Payload, Fill(ref ctx)));

    /// <summary>
    /// Stores <paramref name="buf"/> as the list at <paramref name="key"/> (deletes the key when it is empty);
    /// false when the write went to disk and the command stops (it reruns; the write answers from its slot).
    /// </summary>
    public static bool Store(ref CommandContext ctx, ReadOnlySpan<byte> key, SetBuffer buf)
    {
        var store = Db.Store(ref ctx);
        OpStatus st;
        if (List.Count(buf.Payload) == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            return store.Rmw(ctx.Client.Database, key, ref del, out _) != OpStatus.Pending;
        }
        var input = new StoreInput
        {
            Op = StoreOp.Set, Flags = OpFlags.KeepTtl, Type = KeyType.List, Now = StoreInput.LazyNow, Data = buf.Pointer, DataLength = buf.Length,
        };
        st = store.Rmw(ctx.Client.Database, key, ref input, out _);
        if (st != OpStatus.Pending) return true;
        SetScratch.Current.Retire(buf);
        return false;
    }

    /// <summary>getPositiveLongFromObjectOrReply: one error for text that is no integer and for a negative one.</summary>
    public static bool TryPositive(ref CommandContext ctx, int i, out long value, string? negative = null)
    {
        if (ctx.TryGetLong(i, out value) && value >= 0) return true;
        ctx.Reply.Error(negative is null ? "ERR value is out of range, must be positive" : "ERR " + negative);
        return false;
    }

    /// <summary>getLongFromObjectOrReply.</summary>
    public static bool TryLong(ref CommandContext ctx, int i, out long value)
    {
        if (ctx.TryGetLong(i, out value)) return true;
        ctx.Reply.Error("ERR value is not an integer or out of range");
        return false;
    }
}

/// <summary>List commands (Redis 7.2 t_list.c) over inline payloads.</summary>
internal static partial class ListCommands
{
    [RespCommand("LPUSH", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
        Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")]
    public static void LPush(ref CommandContext ctx) => Push(ref ctx, head: true, onlyExisting: false);

    [RespCommand("RPUSH", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Appends one or more elements to a list. Creates the key if it doesn't exist.",
        Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")]
    public static void RPush(ref CommandContext ctx) => Push(ref ctx, head: false, onlyExisting: false);

    [RespCommand("LPUSHX", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Prepends one or more elements to a list only when the list exists.", Since = "2.2.0",
        Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")]
    public static void LPushX(ref CommandContext ctx) => Push(ref ctx, head: true, onlyExisting: true);

    [RespCommand("RPUSHX", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Appends an element to a list only when the list exists.", Since = "2.2.0",
        Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")]
    public static void RPushX(ref CommandContext ctx) => Push(ref ctx, head: false, onlyExisting: true);

    /// <summary>pushGenericCommand, pushxGenericCommand.</summary>
    private static void Push(ref CommandContext ctx, bool head, bool onlyExisting)
    {
        switch (PagedLists.PushOnEdge(ref ctx, head, out var read))
        {
            case InlineEdits.Outcome.Stopped: return;
            case InlineEdits.Outcome.Done:
                ListEvents.Pushed(ref ctx, ctx[1], head, created: false); // the edge edit only takes a paged list
                return;
        }
        PushGeneral(ref ctx, head, onlyExisting, read);
    }

    /// <summary>
    /// A push the edge edit did not take. Its own frame: the 2 KB <see cref="ListRoot"/> local is zeroed on every call,
    /// and in <see cref="Push"/> every edge push paid for it (4.4% of LPUSH at P16).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void PushGeneral(ref CommandContext ctx, bool head, bool onlyExisting, OpSlot? read)
    {
        Lookup st;
        OpSlot slot;
        if (read is not null)
        {
            slot = read;
            st = read.Found ? Lookup.Found : Lookup.NotFound;
        }
        else st = ListStore.Read(ref ctx, ctx[1], out slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound && onlyExisting)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var payload = st == Lookup.Found ? slot.Value : List.Empty;
        if (ListRoot.TryRead(payload, out var root))
        {
            long length = PagedLists.Push(ref ctx, PagedAccess.Pages(ref ctx), root, head, 2);
            if (length >= 0) ctx.Reply.Integer(length);
            if (length >= 0) ListEvents.Pushed(ref ctx, ctx[1], head, created: false);
            return;
        }
        long addBytes = 0, room = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            addBytes += ctx[i].Length;
            room += Listpack.EntrySize(ctx[i].Length);
        }
        if (PagedLists.ShouldPage(payload, addBytes, ctx.Count - 2, ListStore.Fill(ref ctx)))
        {
            // Past list-max-listpack-size: the list goes to pages of its own (Redis's quicklist).
            var pages = PagedAccess.Pages(ref ctx);
            var created = PagedLists.Create(ref ctx, pages, ctx[1], payload, st == Lookup.Found ? slot.Expiry : 0);
            long length = PagedLists.Push(ref ctx, pages, created, head, 2);
            if (length >= 0) ctx.Reply.Integer(length);
            if (length >= 0) ListEvents.Pushed(ref ctx, ctx[1], head, created: st == Lookup.NotFound);
            return;
        }
        var buf = ListStore.Load(ref ctx, 0, payload);
        if (!Db.CheckValueSize(ref ctx, buf.Length + room)) return;
        int added = ctx.Count - 2;
        buf.SetEncoding(List.Growing(buf.Payload, addBytes, added, ListStore.Fill(ref ctx)));
        int count = List.Count(buf.Payload) + added;
        var dest = buf.Insert(head ? Listpack.HeaderSize : buf.Length, (int)room);
        int at = 0;
        // LPUSH a b c leaves c b a at the head: the last argument first.
        for (int k = 0; k < added; k++) at += Listpack.WriteEntry(dest[at..], ctx[head ? ctx.Count - 1 - k : 2 + k]);
        buf.SetCount(count);
        if (!ListStore.Store(ref ctx, ctx[1], buf)) return;
        ctx.Reply.Integer(count);
        ListEvents.Pushed(ref ctx, ctx[1], head, created: st == Lookup.NotFound);
    }

    [RespCommand("LPOP", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
        Complexity = "O(N) where N is the number of elements returned")]
    public static void LPop(ref CommandContext ctx) => Pop(ref ctx, head: true);

    [RespCommand("RPOP", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
        Complexity = "O(N) where N is the number of elements returned")]
    public static void RPop(ref CommandContext ctx) => Pop(ref ctx, head: false);

    /// <summary>popGenericCommand: one element as a bulk, or with a count an array (RPOP's from the tail inwards).</summary>
    private static void Pop(ref CommandContext ctx, bool head)
    {
        if (ctx.Count > 3)
        {
            ctx.Reply.Error($"ERR wrong number of arguments for '{(head ? "lpop" : "rpop")}' command");
            return;
        }
        bool hasCount = ctx.Count == 3;
        long count = 0;
        if (hasCount && !ListStore.TryPositive(ref ctx, 2, out count)) return;
        Lookup st;
        OpSlot slot;
        OpSlot? read = null;
        if ((!hasCount || count is > 0 and <= ListEdges.SideBytes)
            && PagedLists.PopOnEdge(ref ctx, head, hasCount ? (int)count : 1, hasCount, out read) is var edge && edge != InlineEdits.Outcome.General)
        {
            if (edge == InlineEdits.Outcome.Done) ListEvents.Popped(ref ctx, ctx[1], head, emptied: false); // it never empties the list
            return;
        }
        if (read is not null)
        {
            slot = read;
            st = read.Found ? Lookup.Found : Lookup.NotFound;
        }
        else st = ListStore.Read(ref ctx, ctx[1], out slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            if (hasCount) ctx.Reply.NullArray();
            else ctx.Reply.NullBulk();
            return;
        }
        if (hasCount && count == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        var payload = slot.Value;
        int take = hasCount ? (int)Math.Min(count, ListStore.Count(payload)) : 1;
        if (hasCount) ctx.Reply.ArrayHeader(take);
        PopEnd(ref ctx, ctx[1], payload, take, head);
    }

    /// <summary>
    /// listPopRangeAndReplyWithKey's pop: replies <paramref name="take"/> elements from one end of the list at
    /// <paramref name="key"/> (RPOP's from the tail inwards), without a header, and removes them (LPOP, LMPOP, BLPOP, BLMPOP).
    /// </summary>
    internal static void PopEnd(ref CommandContext ctx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, int take, bool head)
    {
        if (ListRoot.TryRead(payload, out var root))
        {
            long errors = ctx.Reply.ErrorCount;
            PagedLists.PopEnd(ref ctx, key, root, take, head);
            if (ctx.Reply.ErrorCount == errors) ListEvents.Popped(ref ctx, key, head, emptied: (ulong)take >= root.Count);
            return;
        }
        // The reply first (a write that goes to disk discards it, and the rerun writes it again).
        ListStore.ReplyRange(ref ctx, payload, head ? 0 : List.Count(payload) - take, take, reverse: !head);
        var buf = ListStore.Load(ref ctx, 0, payload);
        ListStore.RemoveEnd(buf, take, head);
        ListStore.Removed(ref ctx, buf);
        // Events staged by an attempt that waits on disk are dropped with it.
        ListStore.Store(ref ctx, key, buf);
        ListEvents.Popped(ref ctx, key, head, emptied: List.Count(buf.Payload) == 0);
    }

    [RespCommand("LLEN", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns the length of a list.", Complexity = "O(1)")]
    public static void LLen(ref CommandContext ctx)
    {
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        ctx.Reply.Integer(st == Lookup.Found ? ListStore.LongCount(slot.Value) : 0);
    }

    [RespCommand("LINDEX", Arity = 3, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns an element from a list by its index.",
        Complexity = "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).")]
    public static void LIndex(ref CommandContext ctx)
    {
        // lindexCommand: the key first (a missing key answers null whatever the index), then the index.
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (!ListStore.TryLong(ref ctx, 2, out long index)) return;
        if (ListRoot.TryRead(slot.Value, out var root))
        {
            long at = index < 0 ? index + (long)root.Count : index;
            if (at < 0 || at >= (long)root.Count) ctx.Reply.NullBulk();
            else PagedListReads.Index(ref ctx, root, (ulong)at);
            return;
        }
        int i = List.Resolve(index, List.Count(slot.Value));
        if (i < 0) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(List.At(slot.Value, i, out _, out _));
    }

    [RespCommand("LSET", Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Sets the value of an element in a list by its index.",
        Complexity = "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).")]
    public static void LSet(ref CommandContext ctx)
    {
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Error("ERR no such key");
            return;
        }
        if (!ListStore.TryLong(ref ctx, 2, out long index)) return;
        var payload = slot.Value;
        var value = ctx[3];
        long fill = ListStore.Fill(ref ctx);
        if (ListRoot.TryRead(payload, out var root))
        {
            long at = index < 0 ? index + (long)root.Count : index;
            if (at < 0 || at >= (long)root.Count) ctx.Reply.Error("ERR index out of range");
            else if (PagedListEdits.Set(ref ctx, PagedAccess.Pages(ref ctx), root, (ulong)at, value))
            {
                ctx.Reply.Ok();
                Notify.Event(ref ctx, Config.KeyspaceEvents.List, "lset"u8, ctx[1]);
            }
            return;
        }
        // Redis converts for the new element before it looks at the index (listTypeTryConversionAppend).
        var grown = List.Growing(payload, value.Length, 1, fill);
        int i = List.Resolve(index, List.Count(payload));
        if (i >= 0 && PagedLists.ShouldPage(payload, value.Length, 1, fill))
        {
            var pages = PagedAccess.Pages(ref ctx);
            var created = PagedLists.Create(ref ctx, pages, ctx[1], payload, slot.Expiry);
            if (PagedListEdits.Set(ref ctx, pages, created, (ulong)i, value))
            {
                ctx.Reply.Ok();
                Notify.Event(ref ctx, Config.KeyspaceEvents.List, "lset"u8, ctx[1]);
            }
            return;
        }
        if (i < 0)
        {
            if (grown != List.EncodingOf(payload))
            {
                var conv = ListStore.Load(ref ctx, 0, payload);
                conv.SetEncoding(grown);
                if (!ListStore.Store(ref ctx, ctx[1], conv)) return;
            }
            ctx.Reply.Error("ERR index out of range");
            return;
        }
        List.At(payload, i, out int start, out int end);
        if (!Db.CheckValueSize(ref ctx, payload.Length - (end - start) + Listpack.EntrySize(value.Length))) return;
        var buf = ListStore.Load(ref ctx, 0, payload);
        buf.SetEncoding(grown);
        List.DeleteEntries(buf, start, end, 1);
        List.InsertEntry(buf, start, value);
        buf.SetEncoding(List.Shrinking(buf.Payload, fill));
        if (!ListStore.Store(ref ctx, ctx[1], buf)) return;
        ctx.Reply.Ok();
        Notify.Event(ref ctx, Config.KeyspaceEvents.List, "lset"u8, ctx[1]);
    }

    [RespCommand("LRANGE", Arity = 4, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns a range of elements from a list.",
        Complexity = "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.")]
    public static void LRange(ref CommandContext ctx)
    {
        // lrangeCommand: the indexes first, then the key.
        if (!ListStore.TryLong(ref ctx, 2, out long start) || !ListStore.TryLong(ref ctx, 3, out long end)) return;
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        var payload = slot.Value;
        if (ListRoot.TryRead(payload, out var root))
        {
            if (!ClampRange((long)root.Count, start, end, out long pfrom, out long pn))
            {
                ctx.Reply.EmptyArray();
                return;
            }
            // The header once: a rerun resumes the streamed elements after it.
            var walk = BucketWalk.Of(Db.Store(ref ctx));
            if (walk.IsNew) ctx.Reply.ArrayHeader(pn);
            PagedListReads.Range(ref ctx, walk, root, (ulong)pfrom, (ulong)pn);
            return;
        }
        if (!ClampRange(List.Count(payload), start, end, out int from, out int n))
        {
            ctx.Reply.EmptyArray();
            return;
        }
        ctx.Reply.ArrayHeader(n);
        ListStore.ReplyRange(ref ctx, payload, from, n, reverse: false);
    }

    /// <summary>LRANGE's and LTRIM's index rules: negative from the tail, clamped; false when the range is empty.</summary>
    internal static bool ClampRange(long llen, long start, long end, out int from, out int n)
    {
        bool any = ClampRange(llen, start, end, out long f, out long c);
        from = (int)f;
        n = (int)c;
        return any;
    }

    /// <summary><see cref="ClampRange(long, long, long, out int, out int)"/> for a paged list's length.</summary>
    internal static bool ClampRange(long llen, long start, long end, out long from, out long n)
    {
        if (start < 0) start = llen + start;
        if (end < 0) end = llen + end;
        if (start < 0) start = 0;
        from = n = 0;
        if (start > end || start >= llen) return false;
        if (end >= llen) end = llen - 1;
        from = start;
        n = end - start + 1;
        return true;
    }
}
