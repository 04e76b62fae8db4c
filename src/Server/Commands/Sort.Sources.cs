using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// The elements SORT sorts, one pair of functions per source type (its length, its elements in the type's
/// own order): lists, sets and sorted sets (members by rank, scores unused; with nothing to sort only the
/// LIMIT range of ranks, from the top when DESC, as for a list). Redis converts a listpack sorted set to a
/// skiplist first (zsetConvert), which only OBJECT ENCODING would show: NativeKv leaves it as it is (a SORT_RO
/// holds its key shared and may not write it).
/// </summary>
internal static partial class SortCommands
{
    /// <summary>Whether SORT takes a key of this type (sortval->type: set, list, sorted set).</summary>
    private static bool Sortable(KeyType type) => type is KeyType.List or KeyType.Set or KeyType.ZSet;

    /// <summary>Whether the type keeps its own order, so that with nothing to sort only the LIMIT range is loaded (list, sorted set).</summary>
    private static bool Ordered(KeyType type) => type is KeyType.List or KeyType.ZSet;

    /// <summary>listTypeLength / setTypeSize / zsetLength.</summary>
    private static long SourceLength(OpSlot slot) => slot.Type switch
    {
        KeyType.List => ListRoot.TryRead(slot.Value, out var root) ? (long)root.Count : List.Count(slot.Value),
        KeyType.Set => PagedRoot.TryRead(slot.Value, out var meta) ? (long)meta.Count : Set.Count(slot.Value),
        KeyType.ZSet => SortedSet.Count(slot.Value),
        _ => 0,
    };

    /// <summary>
    /// The source's elements into the scratch: all of them, or for an ordered type with nothing to sort only
    /// [<paramref name="start"/>, <paramref name="end"/>] (from the tail when <paramref name="desc"/>). False when
    /// the command stopped (a paged set's buckets wait on disk).
    /// </summary>
    private static bool LoadSource(ref CommandContext ctx, CommandPages pages, SortScratch s, OpSlot slot, bool range, bool desc, long start, long end)
    {
        switch (slot.Type)
        {
            case KeyType.List:
                if (ListRoot.TryRead(slot.Value, out var root)) return LoadPagedList(pages, s, root, range, desc, start, end);
                LoadList(s, slot.Value, range, desc, start, end);
                return true;
            case KeyType.Set:
                return LoadSet(pages, s, slot.Value);
            case KeyType.ZSet:
                LoadSortedSet(s, slot.Value, range, desc, start, end);
                return true;
            default:
                return true;
        }
    }

    /// <summary>A list's elements head to tail, or only the range (listTypeInitIterator at start, or at len-start-1 toward the head).</summary>
    private static void LoadList(SortScratch s, ReadOnlySpan<byte> payload, bool range, bool desc, long start, long end)
    {
        int count = List.Count(payload);
        long from = 0, to = count - 1;
        if (range)
        {
            if (end < start) return;
            // Positions head first: DESC takes [len-1-end, len-1-start] and reverses them.
            (from, to) = desc ? (count - 1 - end, count - 1 - start) : (start, end);
        }
        var r = new Listpack.Reader(payload);
        for (long i = 0; i <= to && r.Next(out var e); i++)
            if (i >= from) s.Add(e);
        if (range && desc) Array.Reverse(s.Items, 0, s.Count);
    }

    /// <summary>
    /// A paged list's elements, or only the range, from its counted tree: the leaves of those ranks are read
    /// (rounds of them, as LPOS does), then visited in order. False when some wait on disk.
    /// </summary>
    private static bool LoadPagedList(CommandPages pages, SortScratch s, in ListRoot root, bool range, bool desc, long start, long end)
    {
        long count = (long)root.Count;
        long from = 0, to = count - 1;
        if (range)
        {
            if (end < start) return true;
            (from, to) = desc ? (count - 1 - end, count - 1 - start) : (start, end);
        }
        if (to < from) return true;
        ulong n = (ulong)(to - from + 1);
        if (!ListScan.FetchRange(pages, root, (ulong)from, n, reverse: false)) return false;
        ListScan.Visit(root, (ulong)from, n, reverse: false, pages.Pages, s);
        if (range && desc) Array.Reverse(s.Items, 0, s.Count);
        return true;
    }

    /// <summary>A sorted set's members by rank, or only the ranks of the range (from the top when <paramref name="desc"/>).</summary>
    private static void LoadSortedSet(SortScratch s, ReadOnlySpan<byte> payload, bool range, bool desc, long start, long end)
    {
        int count = SortedSet.Count(payload);
        long from = 0, to = count - 1;
        if (range)
        {
            if (end < start) return;
            (from, to) = desc ? (count - 1 - end, count - 1 - start) : (start, end);
        }
        var r = new SortedSet.Reader(payload);
        for (long i = 0; i <= to && r.Next(out var member, out _); i++)
            if (i >= from) s.Add(member);
        if (range && desc) Array.Reverse(s.Items, 0, s.Count);
    }

    /// <summary>A set's members in its order (intset ascending, listpack as inserted, paged: bucket by bucket).</summary>
    private static bool LoadSet(CommandPages pages, SortScratch s, ReadOnlySpan<byte> payload)
    {
        if (PagedRoot.TryRead(payload, out var meta))
        {
            if (!BucketWalk.FetchAll(pages, meta, MaxWaitingPages)) return false;
            for (ulong b = 0; b < meta.Buckets; b++)
            {
                var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, b)), false);
                while (r.Next(out var e)) s.Add(e.Field);
            }
            return true;
        }
        Span<byte> scratch = stackalloc byte[24];
        var en = new Set.Enumerator(payload, scratch);
        while (en.Next(out var m)) s.Add(m);
        return true;
    }
}
