using System.Buffers.Binary;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>LSET, LINSERT, LREM, LTRIM over a paged list. False when the command stopped (it waits on disk and runs again, or it replied an error).</summary>
internal static class PagedListEdits
{
    /// <summary>LSET at a resolved index: the path (and the siblings a shrinking leaf may take), the element replaced.</summary>
    public static bool Set(ref CommandContext ctx, CommandPages pages, ListRoot root, ulong index, ReadOnlySpan<byte> value)
    {
        if (!PagedLists.Fits(ref ctx, value.Length)) return false;
        if (!PagedLists.Settle(pages, ref root)) return false;
        PagedList.NeedsSetAt(root, index, value.Length, pages.Pages, pages.Needs);
        while (pages.Needs.Count > 0)
        {
            if (!pages.Fetch()) return false;
            PagedList.NeedsSetAt(root, index, value.Length, pages.Pages, pages.Needs);
        }
        PagedList.SetAt(ref root, index, value, pages.Pages, pages);
        PagedLists.Log(ref ctx, pages, ref root, ctx[1], ElementOp.LSet, index, value);
        return PagedLists.Finish(ref ctx, pages, root, ctx[1]);
    }

    /// <summary>LINSERT: the new length, -1 when the pivot is missing, -2 when the command stopped.</summary>
    public static long Insert(ref CommandContext ctx, CommandPages pages, ListRoot root, bool after, ReadOnlySpan<byte> pivot, ReadOnlySpan<byte> value)
    {
        if (!PagedLists.Fits(ref ctx, value.Length)) return -2;
        if (!PagedLists.Settle(pages, ref root)) return -2;
        var m = PagedListReads.PosMatcher.For(pivot, 1, 1, 0, false, root.Count);
        if (!PagedListReads.Scan(pages, root, m)) return -2;
        if (m.Found.Count == 0) return -1;
        ulong index = m.Found[0] + (after ? 1UL : 0UL);
        while (true)
        {
            PagedList.NeedsInsertAt(root, index, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return -2;
        }
        PagedList.InsertAt(ref root, index, value, pages.Pages, pages);
        PagedLists.Log(ref ctx, pages, ref root, ctx[1], ElementOp.LInsert, index, value);
        return PagedLists.Commit(ref ctx, pages, root, ctx[1]) ? (long)root.Count : -2;
    }

    /// <summary>LREM: the matches removed (count &gt; 0 from the head, &lt; 0 from the tail, 0 all), or -1 when stopped.</summary>
    public static long Remove(ref CommandContext ctx, ListRoot root, long toRemove, ReadOnlySpan<byte> element)
    {
        var pages = PagedAccess.Pages(ref ctx);
        bool fromTail = toRemove < 0;
        long want = fromTail ? (toRemove == long.MinValue ? long.MaxValue : -toRemove) : toRemove;
        var m = PagedListReads.PosMatcher.For(element, 1, want, 0, fromTail, root.Count);
        if (!PagedListReads.Scan(pages, root, m)) return -1;
        if (m.Found.Count == 0) return 0;
        // The positions stay: settling moves elements from the root into the tree, in order.
        if (!PagedLists.Settle(pages, ref root)) return -1;
        // Highest index first, so the ones still to come keep their places.
        int n = m.Found.Count;
        for (int k = 0; k < n; k++)
        {
            ulong index = fromTail ? m.Found[k] : m.Found[n - 1 - k];
            while (true)
            {
                PagedList.NeedsRemoveAt(root, index, pages.Pages, pages.Needs);
                if (pages.Needs.Count == 0) break;
                if (!pages.Fetch()) return -1;
            }
            PagedList.RemoveAt(ref root, index, pages.Pages, pages);
            PagedLists.Log(ref ctx, pages, ref root, ctx[1], ElementOp.LRemAt, index);
        }
        return PagedLists.Finish(ref ctx, pages, root, ctx[1]) ? n : -1;
    }

    /// <summary>LTRIM to [from, from + n) (n = 0: everything goes, a delete of the key). False when stopped.</summary>
    public static bool Trim(ref CommandContext ctx, ListRoot root, ulong from, ulong n)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (n == 0)
        {
            // The whole list: the key goes (its pages die with the cid), no element records.
            root.Tree.Count = 0;
            root.Edges = default;
            return PagedLists.Commit(ref ctx, pages, root, ctx[1]);
        }
        ulong tail = root.Count - from - n;
        if (tail == 0 && from == 0) return true;
        if (!PagedLists.Settle(pages, ref root)) return false;
        if (tail > 0 && !RemoveRange(ref ctx, pages, ref root, from + n, tail)) return false;
        if (from > 0 && !RemoveRange(ref ctx, pages, ref root, 0, from)) return false;
        return PagedLists.Finish(ref ctx, pages, root, ctx[1]);
    }

    private static bool RemoveRange(ref CommandContext ctx, CommandPages pages, ref ListRoot root, ulong rank, ulong count)
    {
        for (ulong left = count; left > 0;)
        {
            PagedList.NeedsRemoveRange(root, rank, left, pages.Pages, pages.Needs);
            if (pages.Needs.Count > 0)
            {
                if (!pages.Fetch()) return false;
                continue;
            }
            left -= PagedList.RemoveRange(ref root, rank, left, pages.Pages, pages);
        }
        Span<byte> n = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(n, count);
        PagedLists.Log(ref ctx, pages, ref root, ctx[1], ElementOp.LRemRange, rank, n);
        return true;
    }
}
