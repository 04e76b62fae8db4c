using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Pushes and pops at a position tree's edges that touch the edge leaf only (issue 13): the count goes to the
/// tree's pending <see cref="TreeMeta.LeftDelta"/> / <see cref="TreeMeta.RightDelta"/> instead of every inner
/// page above the leaf, and walks add the delta to the spine's entries (<see cref="Pending"/>). A change that
/// may restructure the tree (a split, an emptied leaf, any change by position) folds the deltas into the
/// spine's pages first (<see cref="Fold"/>): the structural code never sees a pending delta.
/// </summary>
public static partial class CountedTree
{
    private static void CheckFolded(in TreeMeta meta)
    {
        if (meta.LeftDelta != 0 || meta.RightDelta != 0)
            throw new InvalidOperationException($"tree of collection {meta.Cid} changed with counts pending at its edges (fold first)");
    }

    /// <summary>Pages <see cref="Fold"/> needs: the inner pages of each spine that has a delta pending.</summary>
    public static void NeedsFold(in TreeMeta meta, PageSet pages, List<PageKey> needs)
    {
        if (meta.Height < 2) return;
        Unsafe.SkipInit(out TreePath path);
        if (meta.LeftDelta != 0) Walk(meta, ref path, 0, default, false, pages, needs, meta.Height - 2);
        if (meta.RightDelta != 0) Walk(meta, ref path, meta.Count - 1, default, false, pages, needs, meta.Height - 2);
    }

    /// <summary>Adds the pending deltas to the spines' inner entries (written to the store) and clears them.</summary>
    public static void Fold(ref TreeMeta meta, PageSet pages, IPageStore store)
    {
        if (meta.Height < 2)
        {
            meta.LeftDelta = meta.RightDelta = 0;
            return;
        }
        Unsafe.SkipInit(out TreePath path);
        if (meta.LeftDelta != 0)
        {
            Walk(meta, ref path, 0, default, false, pages, null, meta.Height - 2);
            for (int d = 0; d < meta.Height - 1; d++) AddAt(meta, path.S[d], meta.LeftDelta, pages, store);
            meta.LeftDelta = 0;
        }
        if (meta.RightDelta != 0)
        {
            Walk(meta, ref path, meta.Count - 1, default, false, pages, null, meta.Height - 2);
            for (int d = 0; d < meta.Height - 1; d++) AddAt(meta, path.S[d], meta.RightDelta, pages, store);
            meta.RightDelta = 0;
        }
    }

    private static void AddAt(in TreeMeta meta, in TreeStep st, long delta, PageSet pages, IPageStore store)
    {
        var key = PageOf(meta, st.Page);
        int used = TreePage.UsedOf(pages.Get(key));
        var buf = pages.Edit(key, used);
        int at = st.At + 8;
        ulong c = BinaryPrimitives.ReadUInt64LittleEndian(buf[at..]);
        BinaryPrimitives.WriteUInt64LittleEndian(buf[at..], (ulong)((long)c + delta));
        store.Write(key, buf[..used]);
    }

    /// <summary>Pages <see cref="EdgeLeaf"/> needs: the path to the edge.</summary>
    public static void NeedsEdgeLeaf(in TreeMeta meta, bool head, PageSet pages, List<PageKey> needs)
    {
        if (meta.Height == 0) return;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, head ? 0 : meta.Count - 1, default, false, pages, needs);
    }

    /// <summary>The page number of the leftmost (<paramref name="head"/>) or rightmost leaf; its path in hand.</summary>
    public static ulong EdgeLeaf(in TreeMeta meta, bool head, PageSet pages)
    {
        if (meta.Height == 0) throw new InvalidOperationException("an empty tree has no leaves");
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, head ? 0 : meta.Count - 1, default, false, pages, null);
        return path.S[meta.Height - 1].Page;
    }

    /// <summary>
    /// The page number of the leftmost (<paramref name="head"/>) or rightmost leaf when the inner pages down to it are in
    /// hand (the leaf itself need not be); false when one is not. After a pop emptied the edge leaf the path is in hand,
    /// and knowing the next edge leaf spares the next pop's walk (2 of the 9 page reads a leaf's worth of RPOPs made).
    /// </summary>
    public static bool TryEdgeLeafInHand(in TreeMeta meta, bool head, PageSet pages, out ulong leaf)
    {
        leaf = 0;
        if (meta.Height < 2) return false;
        ulong pageNo = meta.Root;
        for (int d = 0; d < meta.Height - 1; d++)
        {
            var key = PageOf(meta, pageNo);
            if (pages.State(key) != PageState.Present) return false;
            var page = pages.Get(key);
            if (TreePage.IsLeaf(page) || TreePage.CountOf(page) == 0) throw new InvalidDataException($"tree page {pageNo} of collection {meta.Cid} at depth {d} of {meta.Height}");
            var r = new TreePage.InnerReader(page);
            r.Next(out var entry);
            pageNo = entry.Child;
            if (!head)
                while (r.Next(out entry)) pageNo = entry.Child;
        }
        leaf = pageNo;
        return true;
    }

    /// <summary>Whether edge leaf <paramref name="leaf"/> (in hand) takes an element of <paramref name="length"/> bytes without splitting.</summary>
    public static bool EdgeFits(in TreeMeta meta, ulong leaf, int length, PageSet pages)
        => TreePage.UsedOf(pages.Get(PageOf(meta, leaf))) - TreePage.HeaderSize + TreePage.LeafEntrySize(length) <= Capacity(meta);

    /// <summary>Whether edge leaf <paramref name="leaf"/> (in hand) gives up an element without emptying.</summary>
    public static bool EdgeKeeps(in TreeMeta meta, ulong leaf, PageSet pages) => TreePage.CountOf(pages.Get(PageOf(meta, leaf))) > 1;

    /// <summary>
    /// Pushes onto edge leaf <paramref name="leaf"/> of a tree of height 2 or more, in place, when it
    /// <see cref="EdgeFits"/>: the leaf is written, the count goes to the edge's delta.
    /// </summary>
    public static void EdgePush(ref TreeMeta meta, ulong leaf, bool head, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, bool outOfLine = false)
    {
        CheckMode(meta, TreeMode.Position);
        CheckLength(meta, element.Length);
        if (meta.Height < 2 || !EdgeFits(meta, leaf, element.Length, pages)) throw new InvalidOperationException("not an edge push");
        var key = PageOf(meta, leaf);
        var page = pages.Get(key);
        if (!TreePage.IsLeaf(page)) throw new InvalidDataException($"tree page {leaf} of collection {meta.Cid} is not the edge leaf");
        int n = TreePage.CountOf(page), used = TreePage.UsedOf(page), size = TreePage.LeafEntrySize(element.Length);
        int at = head ? TreePage.HeaderSize : used;
        var buf = pages.Edit(key, used + size);
        buf[at..used].CopyTo(buf[(at + size)..]);
        TreePage.WriteLeafEntry(buf[at..], element, outOfLine);
        TreePage.WriteHeader(buf, true, n + 1, used + size);
        pages.SetLength(key, used + size);
        store.Write(key, buf[..(used + size)]);
        meta.Count++;
        if (head) meta.LeftDelta++;
        else meta.RightDelta++;
    }

    /// <summary>
    /// <see cref="EdgePush"/> of <paramref name="count"/> elements at once, already encoded as leaf entries in
    /// <paramref name="entries"/> in the order they take in the leaf: one move of the leaf's bytes where a push each
    /// moved them every time (60 head pushes into a 4 KB leaf were 14% of an LPUSH's CPU).
    /// </summary>
    public static void EdgePushEntries(ref TreeMeta meta, ulong leaf, bool head, ReadOnlySpan<byte> entries, int count, PageSet pages, IPageStore store)
    {
        CheckMode(meta, TreeMode.Position);
        var key = PageOf(meta, leaf);
        var page = pages.Get(key);
        if (meta.Height < 2 || !TreePage.IsLeaf(page)) throw new InvalidOperationException("not an edge push");
        int n = TreePage.CountOf(page), used = TreePage.UsedOf(page), size = entries.Length;
        if (used - TreePage.HeaderSize + size > Capacity(meta)) throw new InvalidOperationException("not an edge push: the leaf has no room");
        int at = head ? TreePage.HeaderSize : used;
        var buf = pages.Edit(key, used + size);
        buf[at..used].CopyTo(buf[(at + size)..]);
        entries.CopyTo(buf[at..]);
        TreePage.WriteHeader(buf, true, n + count, used + size);
        pages.SetLength(key, used + size);
        store.Write(key, buf[..(used + size)]);
        meta.Count += (ulong)count;
        if (head) meta.LeftDelta += count;
        else meta.RightDelta += count;
    }

    /// <summary>
    /// Pops the edge element of leaf <paramref name="leaf"/> (in hand, keeping one at least) into <paramref name="removed"/>,
    /// and with it the next ones inwards that <paramref name="take"/> accepts (it is given each, outermost first, and
    /// keeps what it accepts; it is never given a reference), in one move of the leaf's bytes. How many left the leaf.
    /// The popped element must not be a reference (<see cref="EdgeEntry"/>).
    /// </summary>
    public static int EdgePopMany(ref TreeMeta meta, ulong leaf, bool head, PageSet pages, IPageStore store, IBufferWriter<byte> removed, IEdgeTaker take)
    {
        if (meta.Height < 2 || !EdgeKeeps(meta, leaf, pages)) throw new InvalidOperationException("not an edge pop");
        var key = PageOf(meta, leaf);
        var page = pages.Get(key);
        if (!TreePage.IsLeaf(page)) throw new InvalidDataException($"tree page {leaf} of collection {meta.Cid} is not the edge leaf");
        int n = TreePage.CountOf(page), used = TreePage.UsedOf(page), cut = head ? TreePage.HeaderSize : used, m = 0;
        for (; m < n - 1; m++)
        {
            int next = cut;
            bool outOfLine;
            var e = head ? TreePage.ElementAt(page, ref next, out outOfLine) : TreePage.ElementBefore(page, ref next, out outOfLine);
            if (m == 0)
            {
                if (outOfLine) throw new InvalidOperationException("an edge pop of many that starts at a reference");
                removed.Write(e);
            }
            else if (outOfLine || !take.Take(e)) break;
            cut = next;
        }
        var buf = pages.Edit(key, used);
        int gone = head ? cut - TreePage.HeaderSize : used - cut;
        if (head) buf[cut..used].CopyTo(buf[TreePage.HeaderSize..]);
        int newUsed = used - gone;
        TreePage.WriteHeader(buf, true, n - m, newUsed);
        pages.SetLength(key, newUsed);
        store.Write(key, buf[..newUsed]);
        meta.Count -= (ulong)m;
        if (head) meta.LeftDelta -= m;
        else meta.RightDelta -= m;
        return m;
    }

    /// <summary>Bytes edge leaf <paramref name="leaf"/> (in hand) still takes without splitting.</summary>
    public static int EdgeRoom(in TreeMeta meta, ulong leaf, PageSet pages)
        => Capacity(meta) - (TreePage.UsedOf(pages.Get(PageOf(meta, leaf))) - TreePage.HeaderSize);

    /// <summary>The entry at the edge of leaf <paramref name="leaf"/> (in hand), and whether it is a reference.</summary>
    public static ReadOnlySpan<byte> EdgeEntry(in TreeMeta meta, ulong leaf, bool head, PageSet pages, out bool outOfLine)
    {
        var page = pages.Get(PageOf(meta, leaf));
        if (!TreePage.IsLeaf(page) || TreePage.CountOf(page) == 0) throw new InvalidDataException($"tree page {leaf} of collection {meta.Cid} is not an edge leaf");
        int at = head ? TreePage.HeaderSize : TreePage.UsedOf(page);
        return head ? TreePage.ElementAt(page, ref at, out outOfLine) : TreePage.ElementBefore(page, ref at, out outOfLine);
    }

    /// <summary>
    /// Pops from edge leaf <paramref name="leaf"/> of a tree of height 2 or more, in place, when it <see cref="EdgeKeeps"/>.
    /// True when the entry was a reference.
    /// </summary>
    public static bool EdgePop(ref TreeMeta meta, ulong leaf, bool head, PageSet pages, IPageStore store, IBufferWriter<byte>? removed)
    {
        if (meta.Height < 2 || !EdgeKeeps(meta, leaf, pages)) throw new InvalidOperationException("not an edge pop");
        var key = PageOf(meta, leaf);
        var page = pages.Get(key);
        if (!TreePage.IsLeaf(page)) throw new InvalidDataException($"tree page {leaf} of collection {meta.Cid} is not the edge leaf");
        int n = TreePage.CountOf(page), used = TreePage.UsedOf(page), start, end;
        bool outOfLine;
        if (head)
        {
            start = end = TreePage.HeaderSize;
            var e = TreePage.ElementAt(page, ref end, out outOfLine);
            removed?.Write(e);
        }
        else
        {
            end = start = used;
            var e = TreePage.ElementBefore(page, ref start, out outOfLine);
            removed?.Write(e);
        }
        var buf = pages.Edit(key, used);
        buf[end..used].CopyTo(buf[start..]);
        int newUsed = used - (end - start);
        TreePage.WriteHeader(buf, true, n - 1, newUsed);
        pages.SetLength(key, newUsed);
        store.Write(key, buf[..newUsed]);
        meta.Count--;
        if (head) meta.LeftDelta--;
        else meta.RightDelta--;
        return outOfLine;
    }
}

/// <summary>What <see cref="CountedTree.EdgePopMany"/> moves out of the leaf with the element it pops: false to stop.</summary>
public interface IEdgeTaker
{
    bool Take(ReadOnlySpan<byte> element);
}
