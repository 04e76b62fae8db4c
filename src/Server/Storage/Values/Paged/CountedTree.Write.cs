using System.Buffers;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

public static partial class CountedTree
{
    // ---- needs of the writes --------------------------------------------------------------------

    /// <summary>Pages <see cref="InsertAt"/> needs: the path to the place (an insert never reads a sibling: a split writes a new page).</summary>
    public static void NeedsInsertAt(in TreeMeta meta, ulong index, PageSet pages, List<PageKey> needs)
    {
        CheckMode(meta, TreeMode.Position);
        if (meta.Height == 0 || index > meta.Count) return;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, index, default, false, pages, needs);
    }

    /// <summary>Pages <see cref="Insert"/> needs: the path to the key's place.</summary>
    public static void NeedsInsert(in TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs) => NeedsSeek(meta, key, pages, needs);

    /// <summary>Pages <see cref="RemoveAt"/> needs: the path, then the siblings a rebalance may take.</summary>
    public static void NeedsRemoveAt(in TreeMeta meta, ulong index, PageSet pages, List<PageKey> needs)
    {
        if (index >= meta.Count) return;
        Unsafe.SkipInit(out TreePath path);
        if (!Walk(meta, ref path, index, default, false, pages, needs)) return;
        NeedsLeafChange(meta, ref path, -1, 1, pages, needs);
    }

    /// <summary>Pages <see cref="Delete"/> needs: the path, then (when the key is there) the siblings a rebalance may take.</summary>
    public static void NeedsDelete(in TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs)
    {
        CheckMode(meta, TreeMode.Ordered);
        if (meta.Height == 0) return;
        Unsafe.SkipInit(out TreePath path);
        if (!Walk(meta, ref path, 0, key, true, pages, needs) || !path.Found) return;
        NeedsLeafChange(meta, ref path, -1, 1, pages, needs);
    }

    /// <summary>Pages <see cref="SetAt"/> needs for an element of <paramref name="newLength"/> bytes: the path, and siblings when the leaf may shrink under its fill.</summary>
    public static void NeedsSetAt(in TreeMeta meta, ulong index, int newLength, PageSet pages, List<PageKey> needs)
    {
        CheckMode(meta, TreeMode.Position);
        if (index >= meta.Count) return;
        Unsafe.SkipInit(out TreePath path);
        if (!Walk(meta, ref path, index, default, false, pages, needs)) return;
        NeedsLeafChange(meta, ref path, newLength, 1, pages, needs);
    }

    /// <summary>
    /// Pages one step of <see cref="RemoveRange"/> needs. A step removes, under one leaf-parent page, either
    /// the whole leaves the range covers there (deleted blind: never read) or the part of one leaf from the
    /// range's start, so ZREMRANGEBYRANK/LTRIM reads a path per leaf-parent page (~240 leaves) plus the two
    /// boundary leaves, not the elements: 150k of 200k 16-byte elements went in 8 steps, 21 page reads,
    /// 630 leaves deleted.
    /// </summary>
    public static void NeedsRemoveRange(in TreeMeta meta, ulong rank, ulong count, PageSet pages, List<PageKey> needs)
    {
        if (rank >= meta.Count || count == 0) return;
        Unsafe.SkipInit(out TreePath path);
        if (meta.Height >= 2)
        {
            if (!Walk(meta, ref path, rank, default, false, pages, needs, meta.Height - 2)) return;
            if (WholeLeaves(meta, ref path, rank, count, pages, out int from, out int to, out _))
            {
                int d = meta.Height - 2;
                var page = pages.Get(PageOf(meta, path.S[d].Page));
                int removedBytes = 0, i = 0;
                var r = new TreePage.InnerReader(page);
                while (r.Next(out var e))
                {
                    if (i >= from && i < to) removedBytes += e.Length;
                    i++;
                }
                NeedsRebalance(meta, ref path, d, TreePage.UsedOf(page) - TreePage.HeaderSize - removedBytes, to - from == path.S[d].Entries, pages, needs);
                return;
            }
        }
        if (!Walk(meta, ref path, rank, default, false, pages, needs)) return;
        ref var leaf = ref path.S[meta.Height - 1];
        int m = (int)Math.Min(count, (ulong)(leaf.Entries - leaf.Index));
        NeedsLeafChange(meta, ref path, -1, m, pages, needs);
    }

    /// <summary>
    /// After the path to a leaf is in hand: the siblings a change of its elements [pos, pos + removed)
    /// (replaced by one of <paramref name="newLength"/> bytes when &gt;= 0) may rebalance with.
    /// </summary>
    private static void NeedsLeafChange(in TreeMeta meta, ref TreePath path, int newLength, int removed, PageSet pages, List<PageKey> needs)
    {
        int d = meta.Height - 1;
        ref var st = ref path.S[d];
        var page = pages.Get(PageOf(meta, st.Page));
        int start = st.At, end = SkipEntries(page, start, removed);
        int after = TreePage.UsedOf(page) - TreePage.HeaderSize - (end - start) + (newLength >= 0 ? TreePage.LeafEntrySize(newLength) : 0);
        bool empty = newLength < 0 && removed == st.Entries;
        NeedsRebalance(meta, ref path, d, after, empty, pages, needs);
    }

    /// <summary>
    /// Names, for each level from <paramref name="d"/> up, the sibling a rebalance there may take: node d
    /// ends with <paramref name="after"/> entry bytes (<paramref name="empty"/>: none, it goes without a
    /// read); a rebalanced or removed child takes at most one entry's bytes from its parent (a merge removes
    /// one, a redistribution replaces a separator), so the parent is checked at its size less its largest entry.
    /// </summary>
    private static void NeedsRebalance(in TreeMeta meta, ref TreePath path, int d, int after, bool empty, PageSet pages, List<PageKey> needs)
    {
        int min = MinFill(meta);
        for (; d > 0; d--)
        {
            if (!empty && after >= min) return;
            ref var parent = ref path.S[d - 1];
            var pp = pages.Get(PageOf(meta, parent.Page));
            int idx = parent.Index, sibling = idx + 1 < parent.Entries ? idx + 1 : idx - 1;
            int i = 0, largest = 0, mine = 0;
            var r = new TreePage.InnerReader(pp);
            while (r.Next(out var e))
            {
                if (!empty && i == sibling) Need(pages, needs, PageOf(meta, e.Child));
                if (i == idx) mine = e.Length;
                largest = Math.Max(largest, e.Length);
                i++;
            }
            int used = TreePage.UsedOf(pp) - TreePage.HeaderSize;
            if (empty)
            {
                after = used - mine;
                empty = parent.Entries == 1;
            }
            else after = used - largest;
        }
    }

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>
    /// Position mode: inserts <paramref name="element"/> so that it has rank <paramref name="index"/> (0 = LPUSH, Count = RPUSH);
    /// <paramref name="outOfLine"/>: the bytes are a reference to an element kept out of line.
    /// </summary>
    public static void InsertAt(ref TreeMeta meta, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, bool outOfLine = false)
    {
        CheckFolded(meta);
        CheckMode(meta, TreeMode.Position);
        CheckLength(meta, element.Length);
        if (index > meta.Count) throw new ArgumentOutOfRangeException(nameof(index));
        if (meta.Height == 0)
        {
            NewRoot(ref meta, element, pages, store, outOfLine);
            return;
        }
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, index, default, false, pages, null);
        InsertInLeaf(ref meta, ref path, element, pages, store, outOfLine);
    }

    /// <summary>Ordered mode: adds <paramref name="key"/>; false when it is there already (nothing written).</summary>
    public static bool Insert(ref TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, IPageStore store) => Insert(ref meta, key, key, false, pages, store);

    /// <summary>
    /// Ordered mode: adds the key <paramref name="key"/> (full, as searches give it) as the leaf entry <paramref name="entry"/>:
    /// the key itself, or (<paramref name="outOfLine"/>) a long key's prefix and reference (<see cref="ZSetLongMembers"/>).
    /// False when the key is there already (nothing written).
    /// </summary>
    public static bool Insert(ref TreeMeta meta, ReadOnlySpan<byte> key, ReadOnlySpan<byte> entry, bool outOfLine, PageSet pages, IPageStore store)
    {
        CheckMode(meta, TreeMode.Ordered);
        CheckLength(meta, entry.Length);
        if (meta.Height == 0)
        {
            NewRoot(ref meta, entry, pages, store, outOfLine);
            return true;
        }
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, 0, key, true, pages, null);
        if (path.Found) return false;
        InsertInLeaf(ref meta, ref path, entry, pages, store, outOfLine);
        return true;
    }

    /// <summary>
    /// Removes the element at <paramref name="index"/>; its entry's bytes go to <paramref name="removed"/> when given (LPOP, RPOP).
    /// True when they were a reference to an element kept out of line.
    /// </summary>
    public static bool RemoveAt(ref TreeMeta meta, ulong index, PageSet pages, IPageStore store, System.Buffers.IBufferWriter<byte>? removed = null)
    {
        CheckFolded(meta);
        if (index >= meta.Count) throw new ArgumentOutOfRangeException(nameof(index));
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, index, default, false, pages, null);
        return RemoveInLeaf(ref meta, ref path, 1, pages, store, removed);
    }

    /// <summary>Ordered mode: removes <paramref name="key"/>; false when it was not there.</summary>
    public static bool Delete(ref TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, IPageStore store) => Delete(ref meta, key, pages, store, null, out _);

    /// <summary>
    /// Ordered mode: removes <paramref name="key"/> (full); its entry's bytes go to <paramref name="removed"/> when given, and
    /// <paramref name="outOfLine"/> says whether they were a long key's prefix and reference. False when it was not there.
    /// </summary>
    public static bool Delete(ref TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, IPageStore store, IBufferWriter<byte>? removed, out bool outOfLine)
    {
        CheckMode(meta, TreeMode.Ordered);
        outOfLine = false;
        if (meta.Height == 0) return false;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, 0, key, true, pages, null);
        if (!path.Found) return false;
        outOfLine = RemoveInLeaf(ref meta, ref path, 1, pages, store, removed);
        return true;
    }

    /// <summary>Position mode: replaces the element at <paramref name="index"/> (LSET); <paramref name="outOfLine"/> as for <see cref="InsertAt"/>.</summary>
    public static void SetAt(ref TreeMeta meta, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, bool outOfLine = false)
    {
        CheckFolded(meta);
        CheckMode(meta, TreeMode.Position);
        CheckLength(meta, element.Length);
        if (index >= meta.Count) throw new ArgumentOutOfRangeException(nameof(index));
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, index, default, false, pages, null);
        int d = meta.Height - 1;
        var key = PageOf(meta, path.S[d].Page);
        var page = pages.Get(key);
        int pos = path.S[d].Index, n = path.S[d].Entries, used = TreePage.UsedOf(page);
        int start = path.S[d].At, end = SkipEntries(page, start, 1);
        int size = TreePage.LeafEntrySize(element.Length), newUsed = used - (end - start) + size;
        var buf = pages.Edit(key, Math.Max(used, newUsed));
        buf[end..used].CopyTo(buf[(start + size)..]);
        TreePage.WriteLeafEntry(buf[start..], element, outOfLine);
        TreePage.WriteHeader(buf, true, n, newUsed);
        pages.SetLength(key, newUsed);
        Fix(ref meta, ref path, d, 0, -1, pages, store);
    }

    /// <summary>
    /// One step of removing ranks [rank, rank + count): removes what lies under one leaf-parent page (whole
    /// leaves, deleted without reading them) or in one leaf, and returns how many it removed (at least one
    /// while rank &lt; Count). The caller repeats, needs first, with the count less what was removed and the
    /// same rank, until it is done. Removing everything is a DEL: retire the cid rather than walk the tree.
    /// </summary>
    public static ulong RemoveRange(ref TreeMeta meta, ulong rank, ulong count, PageSet pages, IPageStore store)
    {
        CheckFolded(meta);
        if (rank >= meta.Count || count == 0) return 0;
        Unsafe.SkipInit(out TreePath path);
        if (meta.Height >= 2)
        {
            Walk(meta, ref path, rank, default, false, pages, null, meta.Height - 2);
            if (WholeLeaves(meta, ref path, rank, count, pages, out int from, out int to, out ulong elements))
            {
                int d = meta.Height - 2;
                var page = pages.Get(PageOf(meta, path.S[d].Page));
                int i = 0;
                var r = new TreePage.InnerReader(page);
                while (r.Next(out var e))
                {
                    if (i >= from && i < to) Free(PageOf(meta, e.Child), pages, store);
                    i++;
                }
                ReplaceEntries(meta, ref path, d, from, to - from, 0, 0, 0, 0, 0, pages);
                meta.Count -= elements;
                Fix(ref meta, ref path, d, -(long)elements, -1, pages, store);
                return elements;
            }
        }
        Walk(meta, ref path, rank, default, false, pages, null);
        ref var leaf = ref path.S[meta.Height - 1];
        int m = (int)Math.Min(count, (ulong)(leaf.Entries - leaf.Index));
        RemoveInLeaf(ref meta, ref path, m, pages, store, null);
        return (ulong)m;
    }

    /// <summary>
    /// Whether the leaf-parent page reached holds leaves the range covers whole: then its entries [from, to)
    /// are the first run of them, holding <paramref name="elements"/>. They go before the partial leaf at the
    /// range's start: removing that one first would rebalance it with its right sibling, pulling covered
    /// elements into it, and the steps would shrink to half a leaf (1,250 steps for 150k of 200k elements).
    /// </summary>
    private static bool WholeLeaves(in TreeMeta meta, ref TreePath path, ulong rank, ulong count, PageSet pages, out int from, out int to, out ulong elements)
    {
        ref var st = ref path.S[meta.Height - 2];
        from = to = -1;
        elements = 0;
        ulong b = path.Rank - st.Before, end = rank + count;
        var page = pages.Get(PageOf(meta, st.Page));
        int i = 0;
        var r = new TreePage.InnerReader(page);
        int n = TreePage.CountOf(page);
        while (r.Next(out var e))
        {
            ulong c = Pending(meta, st, i, n, e.Count);
            bool covered = b >= rank && b + c <= end;
            if (covered)
            {
                if (from < 0) from = i;
                elements += c;
                to = i + 1;
            }
            else if (from >= 0) break;
            b += c;
            i++;
        }
        return from >= 0;
    }

    private static void NewRoot(ref TreeMeta meta, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, bool outOfLine = false)
    {
        ulong no = meta.NextPage++;
        var key = PageOf(meta, no);
        int used = TreePage.HeaderSize + TreePage.LeafEntrySize(element.Length);
        var buf = pages.Edit(key, used);
        TreePage.WriteLeafEntry(buf[TreePage.HeaderSize..], element, outOfLine);
        TreePage.WriteHeader(buf, true, 1, used);
        pages.SetLength(key, used);
        store.Write(key, buf[..used]);
        meta.Root = no;
        meta.Height = 1;
        meta.Count = 1;
    }

    private static void InsertInLeaf(ref TreeMeta meta, ref TreePath path, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, bool outOfLine = false)
    {
        int d = meta.Height - 1;
        var key = PageOf(meta, path.S[d].Page);
        var page = pages.Get(key);
        int pos = path.S[d].Index, n = path.S[d].Entries, used = TreePage.UsedOf(page);
        int at = path.S[d].At, size = TreePage.LeafEntrySize(element.Length);
        var buf = pages.Edit(key, used + size);
        buf[at..used].CopyTo(buf[(at + size)..]);
        TreePage.WriteLeafEntry(buf[at..], element, outOfLine);
        TreePage.WriteHeader(buf, true, n + 1, used + size);
        pages.SetLength(key, used + size);
        meta.Count++;
        Fix(ref meta, ref path, d, 1, pos, pages, store);
    }

    /// <summary>Removes <paramref name="m"/> entries from the path's place in its leaf; true when the first was a reference.</summary>
    private static bool RemoveInLeaf(ref TreeMeta meta, ref TreePath path, int m, PageSet pages, IPageStore store, System.Buffers.IBufferWriter<byte>? removed)
    {
        int d = meta.Height - 1;
        var key = PageOf(meta, path.S[d].Page);
        var page = pages.Get(key);
        int pos = path.S[d].Index, n = path.S[d].Entries, used = TreePage.UsedOf(page);
        int start = path.S[d].At, end = start;
        var first = TreePage.ElementAt(page, ref end, out bool outOfLine);
        removed?.Write(first);
        end = SkipEntries(page, end, m - 1);
        var buf = pages.Edit(key, used);
        buf[end..used].CopyTo(buf[start..]);
        int newUsed = used - (end - start);
        TreePage.WriteHeader(buf, true, n - m, newUsed);
        pages.SetLength(key, newUsed);
        meta.Count -= (ulong)m;
        Fix(ref meta, ref path, d, -m, -1, pages, store);
        return outOfLine;
    }

    /// <summary>Offset past <paramref name="count"/> leaf entries from the one at <paramref name="at"/>.</summary>
    private static int SkipEntries(ReadOnlySpan<byte> page, int at, int count)
    {
        int used = TreePage.UsedOf(page);
        for (int i = 0; i < count; i++)
        {
            if (at >= used) throw new InvalidDataException($"leaf has no entry {i} past offset {at}");
            TreePage.ElementAt(page, ref at);
        }
        return at;
    }
}
