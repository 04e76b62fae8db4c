using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

public static partial class CountedTree
{
    /// <summary>The thread's work area: a node image and the separator handed to a parent. Warm, nothing is allocated.</summary>
    private sealed class Work
    {
        public readonly NodeImage Image = new();
        public byte[] Sep = new byte[1024];
        public int SepLength;

        public void SetSep(ReadOnlySpan<byte> sep)
        {
            if (Sep.Length < sep.Length) Sep = new byte[sep.Length * 2];
            sep.CopyTo(Sep);
            SepLength = sep.Length;
        }
    }

    [ThreadStatic] private static Work? t_work;

    private static Work W => t_work ??= new Work();

    private static void Free(in PageKey key, PageSet pages, IPageStore store)
    {
        store.Delete(key);
        pages.PutMissing(key);
    }

    /// <summary>
    /// Settles the tree after node <paramref name="d"/> of the path changed (its bytes are in the page set),
    /// level by level up: an empty node goes (no read), one past its capacity splits (a new page, no read),
    /// one that shrank under <see cref="MinFill"/> is merged with or shares with the sibling its needs named;
    /// the first level that only changed its count writes itself and adds <paramref name="delta"/> to the
    /// counts above it, in place. <paramref name="insertedAt"/>: the leaf position an insert took (-1: none),
    /// for the edge split.
    /// </summary>
    private static void Fix(ref TreeMeta meta, ref TreePath path, int d, long delta, int insertedAt, PageSet pages, IPageStore store)
    {
        int cap = Capacity(meta), min = MinFill(meta);
        for (; ; d--, insertedAt = -1)
        {
            ulong pageNo = path.S[d].Page;
            var key = PageOf(meta, pageNo);
            var page = pages.Get(key);
            int n = TreePage.CountOf(page), used = TreePage.UsedOf(page) - TreePage.HeaderSize;
            bool leaf = TreePage.IsLeaf(page);
            if (d == 0)
            {
                FixRoot(ref meta, ref path, insertedAt, pages, store);
                return;
            }
            ref var parent = ref path.S[d - 1];
            if (n == 0)
            {
                Free(key, pages, store);
                ReplaceEntries(meta, ref path, d - 1, parent.Index, 1, 0, 0, 0, 0, 0, pages);
                continue;
            }
            if (used > cap)
            {
                ulong right = Split(ref meta, ref path, key, leaf, insertedAt, pages, store, out ulong t0, out ulong t1);
                ReplaceEntries(meta, ref path, d - 1, parent.Index, 1, 2, pageNo, t0, right, t1, pages);
                continue;
            }
            // Only a node that shrank: an insert into an edge leaf under its fill (just split off) needs no sibling.
            if (used < min && used < path.S[d].Used && parent.Entries >= 2)
            {
                Rebalance(ref meta, ref path, d, pages, store);
                continue;
            }
            store.Write(key, page[..TreePage.UsedOf(page)]);
            if (delta != 0)
                for (int u = d - 1; u >= 0; u--) AddCount(meta, ref path, u, delta, pages, store);
            return;
        }
    }

    /// <summary>The root after a change: gone when empty, replaced by its only child, or split under a new root.</summary>
    private static void FixRoot(ref TreeMeta meta, ref TreePath path, int insertedAt, PageSet pages, IPageStore store)
    {
        var key = PageOf(meta, meta.Root);
        var page = pages.Get(key);
        int n = TreePage.CountOf(page), used = TreePage.UsedOf(page) - TreePage.HeaderSize;
        bool leaf = TreePage.IsLeaf(page);
        if (n == 0)
        {
            Free(key, pages, store);
            meta.Height = 0;
            meta.Root = 0;
            return;
        }
        if (!leaf && n == 1)
        {
            var r = new TreePage.InnerReader(page);
            r.Next(out var only);
            ulong child = only.Child;
            Free(key, pages, store);
            meta.Root = child;
            meta.Height--;
            return;
        }
        if (used > Capacity(meta))
        {
            if (meta.Height >= MaxHeight) throw new InvalidOperationException($"tree of collection {meta.Cid} at its {MaxHeight} levels");
            ulong left = meta.Root;
            ulong right = Split(ref meta, ref path, key, leaf, insertedAt, pages, store, out ulong t0, out ulong t1);
            ulong root = meta.NextPage++;
            var rootKey = PageOf(meta, root);
            var w = W;
            int size = TreePage.HeaderSize + TreePage.InnerEntrySize(0) + TreePage.InnerEntrySize(w.SepLength);
            var buf = pages.Edit(rootKey, size);
            int at = TreePage.HeaderSize;
            at += TreePage.WriteInnerEntry(buf[at..], left, t0, default);
            at += TreePage.WriteInnerEntry(buf[at..], right, t1, w.Sep.AsSpan(0, w.SepLength));
            TreePage.WriteHeader(buf, false, 2, at);
            pages.SetLength(rootKey, at);
            store.Write(rootKey, buf[..at]);
            meta.Root = root;
            meta.Height++;
            return;
        }
        store.Write(key, page[..TreePage.UsedOf(page)]);
    }

    /// <summary>
    /// Splits an overfull node into itself and a new page to its right (returned), both written; the
    /// separator for the parent is left in the work area. Evenly by bytes, except an insert past the last
    /// element of the rightmost leaf (before the first of the leftmost), which leaves the new element alone
    /// in the new page: a list built by pushes (or a sorted set by rising scores) fills its leaves, where an
    /// even split would leave them half full (1M 16-byte RPUSHes: 4,462 pages at 4 KB; even splits would take about twice that).
    /// </summary>
    private static ulong Split(ref TreeMeta meta, ref TreePath path, in PageKey key, bool leaf, int insertedAt, PageSet pages, IPageStore store, out ulong t0, out ulong t1)
    {
        var w = W;
        var img = w.Image;
        img.Clear(leaf);
        img.Append(pages.Get(key));
        int n = img.N, k;
        if (leaf && insertedAt >= 0 && n >= 2 && path.RightEdge && insertedAt == n - 1) k = n - 1;
        else if (leaf && insertedAt == 0 && n >= 2 && path.LeftEdge) k = 1;
        else k = img.BalancedCut(leaf ? 1 : 2);
        ulong right = meta.NextPage++;
        var rightKey = PageOf(meta, right);
        WriteImage(img, 0, k, key, pages, store);
        WriteImage(img, k, n, rightKey, pages, store);
        w.SetSep(meta.Mode == TreeMode.Ordered ? SeparatorFor(meta, img, k) : default);
        t0 = img.Total(0, k);
        t1 = img.Total(k, n);
        return right;
    }

    private static void WriteImage(NodeImage img, int from, int to, in PageKey key, PageSet pages, IPageStore store)
    {
        var buf = pages.Edit(key, TreePage.HeaderSize + img.Bytes(from, to));
        int used = img.Encode(buf, from, to);
        pages.SetLength(key, used);
        store.Write(key, buf[..used]);
    }

    /// <summary>
    /// Node d shrank under its fill: with its right sibling (its left one when it is the last child), merged
    /// into the left page of the pair when both fit in one, else shared evenly. The sibling is in hand
    /// (<see cref="NeedsRebalance"/> named it).
    /// </summary>
    private static void Rebalance(ref TreeMeta meta, ref TreePath path, int d, PageSet pages, IPageStore store)
    {
        ref var parent = ref path.S[d - 1];
        int l = parent.Index + 1 < parent.Entries ? parent.Index : parent.Index - 1;
        var pp = pages.Get(PageOf(meta, parent.Page));
        ulong leftNo = 0, rightNo = 0;
        int sepStart = 0, sepLength = 0, i = 0;
        var r = new TreePage.InnerReader(pp);
        while (r.Next(out var e))
        {
            if (i == l) leftNo = e.Child;
            else if (i == l + 1)
            {
                rightNo = e.Child;
                sepLength = e.Separator.Length;
                sepStart = e.Start + e.Length - sepLength;
                break;
            }
            i++;
        }
        bool leaf = d == meta.Height - 1;
        var leftKey = PageOf(meta, leftNo);
        var rightKey = PageOf(meta, rightNo);
        var img = W.Image;
        img.Clear(leaf);
        img.Append(pages.Get(leftKey));
        int first = img.N;
        img.Append(pages.Get(rightKey));
        // The right page's first separator was never compared; in the middle of a page it must bound its child: the parent's does.
        if (!leaf) img.SetKey(first, pp.Slice(sepStart, sepLength));
        int n = img.N;
        if (img.Bytes(0, n) <= Capacity(meta))
        {
            WriteImage(img, 0, n, leftKey, pages, store);
            Free(rightKey, pages, store);
            ReplaceEntries(meta, ref path, d - 1, l, 2, 1, leftNo, img.Total(0, n), 0, 0, pages);
            return;
        }
        int k = img.BalancedCut(leaf ? 1 : 2);
        WriteImage(img, 0, k, leftKey, pages, store);
        WriteImage(img, k, n, rightKey, pages, store);
        W.SetSep(meta.Mode == TreeMode.Ordered ? SeparatorFor(meta, img, k) : default);
        ulong t0 = img.Total(0, k), t1 = img.Total(k, n);
        ReplaceEntries(meta, ref path, d - 1, l, 2, 2, leftNo, t0, rightNo, t1, pages);
    }

    /// <summary>
    /// Rewrites node <paramref name="depth"/>'s entries [i0, i0 + remove) as <paramref name="add"/> (0-2)
    /// new ones: the first keeps entry i0's separator, the second takes the work area's. Into the page set
    /// only: the node is written when <see cref="Fix"/> reaches it.
    /// </summary>
    private static void ReplaceEntries(in TreeMeta meta, ref TreePath path, int depth, int i0, int remove, int add,
        ulong p0, ulong t0, ulong p1, ulong t1, PageSet pages)
    {
        var w = W;
        var img = w.Image;
        var key = PageOf(meta, path.S[depth].Page);
        img.Clear(false);
        img.Append(pages.Get(key));
        int n = img.N;
        ReadOnlySpan<byte> keep = add > 0 ? img.Key(i0) : default;
        ReadOnlySpan<byte> sep = w.Sep.AsSpan(0, w.SepLength);
        int bytes = img.Bytes(0, i0) + img.Bytes(i0 + remove, n);
        if (add >= 1) bytes += TreePage.InnerEntrySize(keep.Length);
        if (add == 2) bytes += TreePage.InnerEntrySize(sep.Length);
        var buf = pages.Edit(key, TreePage.HeaderSize + bytes);
        int at = TreePage.HeaderSize;
        for (int i = 0; i < i0; i++) at += TreePage.WriteInnerEntry(buf[at..], img.Child[i], img.Cnt[i], img.Key(i));
        if (add >= 1) at += TreePage.WriteInnerEntry(buf[at..], p0, t0, keep);
        if (add == 2) at += TreePage.WriteInnerEntry(buf[at..], p1, t1, sep);
        for (int i = i0 + remove; i < n; i++) at += TreePage.WriteInnerEntry(buf[at..], img.Child[i], img.Cnt[i], img.Key(i));
        int count = n - remove + add;
        TreePage.WriteHeader(buf, false, count, at);
        pages.SetLength(key, at);
        path.S[depth].Entries = count;
    }

    /// <summary>Adds <paramref name="delta"/> to the count of the entry node u's path took, in place, and writes the node.</summary>
    private static void AddCount(in TreeMeta meta, ref TreePath path, int u, long delta, PageSet pages, IPageStore store)
    {
        var key = PageOf(meta, path.S[u].Page);
        int used = TreePage.UsedOf(pages.Get(key));
        var buf = pages.Edit(key, used);
        // The walk left the entry's offset; the node has not changed since (a node that did is rewritten, not counted).
        int at = path.S[u].At + 8;
        if (path.S[u].At + TreePage.InnerFixed > used || TreePage.ChildAt(buf, path.S[u].At) != path.S[u + 1].Page)
            throw new InvalidDataException($"tree page {path.S[u].Page} has no entry {path.S[u].Index} at {path.S[u].At}");
        ulong c = BinaryPrimitives.ReadUInt64LittleEndian(buf[at..]);
        BinaryPrimitives.WriteUInt64LittleEndian(buf[at..], (ulong)((long)c + delta));
        store.Write(key, buf[..used]);
    }
}
