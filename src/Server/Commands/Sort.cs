using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// SORT and SORT_RO (Redis 7.2 sort.c sortCommandGeneric): the same parsing, checks, order of work and
/// replies. Every attempt recomputes the whole sort from its operations' slots (a rerun after a disk read
/// answers the finished reads from them): the source's elements (<see cref="LoadSource"/>), the BY weights
/// (<see cref="LookupAll"/>), the sort, then the GET values of the LIMIT range only, then the reply or the
/// STORE. Atomic under the key-lock table: a BY or GET pattern that names other keys takes the whole
/// keyspace (<see cref="SortKeys"/>), since those keys are known only from the data.
/// </summary>
internal static unsafe partial class SortCommands
{
    private const int MaxGets = 1 << 16;

    [RespCommand("SORT", Arity = -2, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.MovableKeys, FirstKey = 1, LastKey = 1, Step = 1,
        Lock = KeyLock.Movable, Group = CommandGroup.Generic, Summary = "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
        Complexity = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")]
    public static void Sort(ref CommandContext ctx) => SortGeneric(ref ctx, readOnly: false);

    [RespCommand("SORT_RO", Arity = -2, Flags = CommandFlags.ReadOnly | CommandFlags.MovableKeys, FirstKey = 1, LastKey = 1, Step = 1,
        Lock = KeyLock.Movable, Group = CommandGroup.Generic, Since = "7.0.0",
        Summary = "Returns the sorted elements of a list, a set, or a sorted set.",
        Complexity = "O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).")]
    public static void SortRo(ref CommandContext ctx) => SortGeneric(ref ctx, readOnly: true);

    private static void SortGeneric(ref CommandContext ctx, bool readOnly)
    {
        bool desc = false, alpha = false, dontsort = false;
        long limitStart = 0, limitCount = -1;
        int sortby = -1, storekey = -1, getop = 0;
        Span<int> gets = stackalloc int[16];
        for (int j = 2; j < ctx.Count; j++)
        {
            int leftargs = ctx.Count - j - 1;
            if (ctx.ArgIs(j, "ASC"u8)) desc = false;
            else if (ctx.ArgIs(j, "DESC"u8)) desc = true;
            else if (ctx.ArgIs(j, "ALPHA"u8)) alpha = true;
            else if (ctx.ArgIs(j, "LIMIT"u8) && leftargs >= 2)
            {
                if (!ctx.TryGetLong(j + 1, out limitStart) || !ctx.TryGetLong(j + 2, out limitCount))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                j += 2;
            }
            else if (!readOnly && ctx.ArgIs(j, "STORE"u8) && leftargs >= 1) storekey = ++j;
            else if (ctx.ArgIs(j, "BY"u8) && leftargs >= 1)
            {
                sortby = ++j;
                // A BY pattern without '*' is constant: nothing to sort, nothing to look up.
                if (ctx[j].IndexOf((byte)'*') < 0) dontsort = true;
            }
            else if (ctx.ArgIs(j, "GET"u8) && leftargs >= 1)
            {
                if (getop == gets.Length)
                {
                    if (getop >= MaxGets) { ctx.Reply.Error("ERR syntax error"); return; }
                    var grown = new int[getop * 2];
                    gets.CopyTo(grown);
                    gets = grown;
                }
                gets[getop++] = ++j;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }

        var st = Db.Read(ref ctx, ctx[1], KeyType.None, out var slot);
        if (st == Lookup.Pending) return;
        if (st == Lookup.NotFound && !readOnly) Notify.Miss(ref ctx, ctx[1]); // lookupKeyRead (SORT_RO's read fired it)
        if (st == Lookup.Found && !Sortable(slot.Type))
        {
            Db.WrongType(ref ctx);
            return;
        }
        // A paged sorted set is read whole into an inline payload (SORT is O(N) over it anyway).
        if (st == Lookup.Found && slot.Type == KeyType.ZSet && !PagedZSets.Materialize(ref ctx, slot)) return;
        var type = st == Lookup.Found ? slot.Type : KeyType.List; // a missing key sorts as an empty list

        // A set in no particular order is sorted when stored (and in scripts), so the result is the same everywhere.
        if (dontsort && type == KeyType.Set && storekey >= 0)
        {
            dontsort = false;
            alpha = true;
            sortby = -1;
        }

        long vectorlen = st == Lookup.Found ? SourceLength(slot) : 0;
        // LIMIT's sanity checks, bounded by the object's size.
        long start = Math.Min(Math.Max(limitStart, 0), vectorlen);
        limitCount = Math.Min(Math.Max(limitCount, -1), vectorlen);
        long end = limitCount < 0 ? vectorlen - 1 : start + limitCount - 1;
        if (start >= vectorlen)
        {
            start = vectorlen - 1;
            end = vectorlen - 2;
        }
        if (end >= vectorlen) end = vectorlen - 1;

        var s = SortScratch.Begin();
        var pages = PagedAccess.Pages(ref ctx);
        // A list with nothing to sort keeps its order (from the tail when DESC), and only its LIMIT range is loaded.
        bool range = Ordered(type) && dontsort;
        if (st == Lookup.Found && !LoadSource(ref ctx, pages, s, slot, range, desc, start, end)) return;
        if (range)
        {
            // Only the range was loaded: the output starts at its first element.
            end -= start;
            start = 0;
        }
        int n = s.Count;

        bool conversionError = false;
        if (!dontsort)
        {
            if (sortby >= 0 && !LookupAll(ref ctx, pages, s, ctx[sortby], 0, n, 0)) return;
            for (int j = 0; j < n; j++)
            {
                ref var item = ref s.Items[j];
                int off, len;
                if (sortby >= 0)
                {
                    (off, len) = (s.Found[2 * j], s.Found[2 * j + 1]);
                    if (len < 0) continue; // nothing found: weight 0, compare object NULL
                }
                else (off, len) = (item.Offset, item.Length);
                if (alpha)
                {
                    if (sortby >= 0) (item.ByOffset, item.ByLength) = (off, len);
                }
                else if (!SortScore.TryParse(s.Bytes(off, len), out item.Score)) conversionError = true;
            }
            if (!conversionError) SortItems(s, desc, alpha, sortby >= 0);
        }

        long outputlen = getop > 0 ? getop * (end - start + 1) : end - start + 1;
        if (conversionError)
        {
            ctx.Reply.Error("ERR One or more scores can't be converted into double");
            return;
        }
        int first = (int)Math.Max(start, 0), count = (int)Math.Max(end - start + 1, 0);
        // The GET values of the output range, pattern by pattern (pattern g's at Found[g * count ..]).
        for (int g = 0; g < getop; g++)
            if (!LookupAll(ref ctx, pages, s, ctx[gets[g]], first, count, g * count)) return;

        if (storekey < 0)
        {
            var reply = ctx.Reply;
            reply.ArrayHeader(outputlen);
            for (int i = 0; i < count; i++)
            {
                if (getop == 0) reply.Bulk(s.Element(s.Items[first + i]));
                for (int g = 0; g < getop; g++)
                {
                    int at = 2 * (g * count + i);
                    if (s.Found[at + 1] < 0) reply.NullBulk();
                    else reply.Bulk(s.Bytes(s.Found[at], s.Found[at + 1]));
                }
            }
            return;
        }
        if (!StoreResult(ref ctx, ctx[storekey], s, first, count, getop, out bool existed)) return;
        ctx.Reply.Integer(outputlen);
        Notify.Stored(ref ctx, Config.KeyspaceEvents.List, "sortstore"u8, ctx[storekey], outputlen, existed);
    }

    /// <summary>
    /// sortCompare over the scratch's items: by score (equal scores by the elements' bytes), or ALPHA by the BY
    /// values (a missing one first) or the elements. Redis compares with strcoll unless storing; in the C
    /// locale that is the bytes' order, which is what we use. Equal items keep their source order (qsort's merge sort).
    /// </summary>
    private static void SortItems(SortScratch s, bool desc, bool alpha, bool byPattern)
    {
        var items = s.Items.AsSpan(0, s.Count);
        var cmp = new ItemComparer(s, desc, alpha, byPattern);
        // A stable sort: the comparer falls back to the source order.
        items.Sort(cmp.Compare);
    }

    private readonly struct ItemComparer(SortScratch s, bool desc, bool alpha, bool byPattern)
    {
        public int Compare(SortItem a, SortItem b)
        {
            int cmp;
            if (!alpha)
            {
                cmp = a.Score > b.Score ? 1 : a.Score < b.Score ? -1 : Bytes(s.Element(a), s.Element(b));
            }
            else if (byPattern)
            {
                if (a.ByLength < 0 || b.ByLength < 0) cmp = a.ByLength < 0 == b.ByLength < 0 ? 0 : a.ByLength < 0 ? -1 : 1;
                else cmp = Bytes(s.Bytes(a.ByOffset, a.ByLength), s.Bytes(b.ByOffset, b.ByLength));
            }
            else cmp = Bytes(s.Element(a), s.Element(b));
            if (desc) cmp = -cmp;
            return cmp != 0 ? cmp : a.Order.CompareTo(b.Order);
        }

        /// <summary>compareStringObjects: memcmp of the common length, then the shorter first.</summary>
        private static int Bytes(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y) => Math.Sign(x.SequenceCompareTo(y));
    }

    /// <summary>
    /// STORE: the output as a new list at <paramref name="dest"/> (no TTL, whatever it held before), or a delete
    /// of it when the output is empty. A GET that found nothing stores an empty string. False when the command stopped.
    /// </summary>
    private static bool StoreResult(ref CommandContext ctx, ReadOnlySpan<byte> dest, SortScratch s, int first, int count, int getop, out bool existed)
    {
        var store = Db.Store(ref ctx);
        int elements = getop > 0 ? getop * count : count;
        existed = false;
        OpSlot slot;
        if (elements == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            if (store.Rmw(ctx.Client.Database, dest, ref del, out slot) == OpStatus.Pending) return false;
            existed = slot.Found;
            return true;
        }
        long room = 0, rawBytes = 0;
        for (int i = 0; i < count; i++)
        {
            if (getop == 0) room += Listpack.EntrySize(s.Items[first + i].Length);
            for (int g = 0; g < getop; g++) room += Listpack.EntrySize(Math.Max(s.Found[2 * (g * count + i) + 1], 0));
        }
        if (!Db.CheckValueSize(ref ctx, List.Empty.Length + room)) return false;
        var scratch = SetScratch.Current;
        var buf = scratch.Write(store, 0);
        buf.Load(List.Empty);
        var into = buf.Insert(buf.Length, (int)room);
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            if (getop == 0)
            {
                var e = s.Element(s.Items[first + i]);
                at += Listpack.WriteEntry(into[at..], e);
                rawBytes += List.RedisEntryBytes(e);
            }
            for (int g = 0; g < getop; g++)
            {
                int k = 2 * (g * count + i);
                var v = s.Found[k + 1] < 0 ? default : s.Bytes(s.Found[k], s.Found[k + 1]);
                at += Listpack.WriteEntry(into[at..], v);
                rawBytes += List.RedisEntryBytes(v);
            }
        }
        buf.SetCount(elements);
        // listTypeTryConversion(LIST_CONV_AUTO): a listpack when one node within list-max-listpack-size holds it all.
        bool quick = List.ExceedsLimit(ListStore.Fill(ref ctx), 7 + rawBytes, elements);
        buf.SetEncoding(quick ? CollectionEncoding.Quicklist : CollectionEncoding.Listpack);
        var input = new StoreInput
        {
            Op = StoreOp.Set, Type = KeyType.List, Now = StoreInput.LazyNow, Data = buf.Pointer, DataLength = buf.Length,
        };
        if (store.Rmw(ctx.Client.Database, dest, ref input, out slot) != OpStatus.Pending)
        {
            existed = slot.Found;
            return true;
        }
        scratch.Retire(buf);
        return false;
    }
}
