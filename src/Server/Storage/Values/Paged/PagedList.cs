using System.Buffers;
using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A list past list-max-listpack-size on a counted B+tree by position (<see cref="CountedTree"/>), its root
/// (<see cref="ListRoot"/>) in the key's record. Pure code over pages in hand, as the tree: each change is a
/// <c>Needs*</c> call and an apply; the callers loop needs -> fetch until nothing is missing. Every apply keeps
/// the root's Redis listpack weight (when known) and returns nothing about the AOF: the commands log one
/// <see cref="ElementRecord"/> per change (<see cref="Record"/>), numbered by the root's seq, and replay applies
/// them with <see cref="ApplyRecord"/>.
/// </summary>
public static class PagedList
{
    /// <summary>
    /// Pages <see cref="GetAt"/> needs: none for an element an edge side holds, else the tree's path to it, then (in a
    /// second round) the chunks of an element kept out of line.
    /// </summary>
    public static void NeedsAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs)
    {
        if (root.Edges.TryAtRank(index, root.Tree.Count, out _, out ulong rank)) return;
        CountedTree.NeedsAt(root.Tree, rank, pages, needs);
        if (needs.Count > 0 || root.Tree.OutOfLine == 0) return;
        var entry = CountedTree.EntryAt(root.Tree, rank, pages, out bool outOfLine);
        if (outOfLine) ListChunks.Needs(root.Tree, entry, pages, needs);
    }

    public static void GetAt(in ListRoot root, ulong index, PageSet pages, IBufferWriter<byte> dest)
    {
        if (root.Edges.TryAtRank(index, root.Tree.Count, out var element, out ulong rank))
        {
            dest.Write(element);
            return;
        }
        var entry = CountedTree.EntryAt(root.Tree, rank, pages, out bool outOfLine);
        if (outOfLine) ListChunks.Gather(root.Tree, entry, pages, dest);
        else dest.Write(entry);
    }

    /// <summary>Redis's listpack weight of a tree entry's element: a reference's (a long string's) from its length.</summary>
    private static long WeightOf(ReadOnlySpan<byte> entry, bool outOfLine)
        => outOfLine ? List.RedisStringEntryBytes(ListChunks.LengthOf(entry)) : List.RedisEntryBytes(entry);

    /// <summary>
    /// LPUSH/RPUSH of one element: a short one goes into the root's edge side (nothing else is read or written); a side
    /// that is full, or an element too long for it, moves the side into the tree first. False after naming the pages it
    /// needs in <paramref name="needs"/>: what it did so far stays in <paramref name="root"/> and the pages, so the caller
    /// fetches and calls again (or, when the attempt stops, starts over from the stored root).
    /// </summary>
    public static bool TryPush(ref ListRoot root, bool head, ReadOnlySpan<byte> element, PageSet pages, IPageStore store, List<PageKey> needs)
    {
        if (!root.Edges.TryAdd(head, element))
        {
            if (!Flush(ref root, head, pages, store, needs)) return false;
            if (!root.Edges.TryAdd(head, element))
            {
                NeedsTreePush(root, head, ListChunks.EntryLength(root.Tree, element.Length), pages, needs);
                if (needs.Count > 0) return false;
                TreePush(ref root, head, element, pages, store);
            }
        }
        if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element);
        return true;
    }

    /// <summary>
    /// LPOP/RPOP of one element (its bytes to <paramref name="removed"/> when given): from the edge side at that end, else
    /// the tree's edge, else (the tree empty) the other side's innermost. False after naming the pages it needs, as <see cref="TryPush"/>
    /// (an element kept out of line needs its chunks only when its bytes are wanted).
    /// </summary>
    public static bool TryPop(ref ListRoot root, bool head, PageSet pages, IPageStore store, List<PageKey> needs, ArrayBufferWriter<byte>? removed = null)
    {
        if (root.Count == 0) return true;
        var into = removed ?? (t_removed ??= new ArrayBufferWriter<byte>(256));
        int before = into.WrittenCount;
        long weight = -1;
        if (root.Edges.Count(head) > 0)
        {
            into.Write(root.Edges.At(head, 0));
            root.Edges.RemoveOuter(head);
        }
        else if (root.Tree.Count > 0)
        {
            NeedsTreePop(root, head, pages, needs);
            if (needs.Count > 0) return false;
            ulong leaf = 0;
            bool edge = root.Tree.Height >= 2 && EdgeKeeps(ref root, head, pages, out leaf);
            if (root.Tree.OutOfLine > 0 && PopsReference(root, head, edge, leaf, pages, out var reference))
            {
                if (removed is not null && !ListChunks.Needs(root.Tree, reference, pages, needs)) return false;
                if (removed is not null) ListChunks.Gather(root.Tree, reference, pages, removed);
                TreeRemoveAt(ref root, head ? 0 : root.Tree.Count - 1, pages, store, null);
                ListChunks.Delete(ref root.Tree, reference, pages, store);
                weight = WeightOf(reference, true);
            }
            else if (edge)
            {
                // The side is empty: the short elements next to the popped one come out of the leaf with it, so the
                // pops after this one are the root's alone (as the pushes are).
                var taker = SideTaker.For(head, root.Edges);
                CountedTree.EdgePopMany(ref root.Tree, leaf, head, pages, store, into, taker);
                taker.Into(ref root.Edges, head);
            }
            else
            {
                TreeRemoveAt(ref root, head ? 0 : root.Tree.Count - 1, pages, store, into);
                // The edge leaf emptied and the fold forgot both edges: found again from the paths in hand.
                if (root.LeftLeaf == ListRoot.NoLeaf && CountedTree.TryEdgeLeafInHand(root.Tree, true, pages, out ulong left)) root.LeftLeaf = left;
                if (root.RightLeaf == ListRoot.NoLeaf && CountedTree.TryEdgeLeafInHand(root.Tree, false, pages, out ulong right)) root.RightLeaf = right;
            }
        }
        else
        {
            into.Write(root.Edges.At(!head, root.Edges.Count(!head) - 1));
            root.Edges.RemoveInner(!head);
        }
        if (root.RedisBytes >= 0) root.RedisBytes -= weight >= 0 ? weight : List.RedisEntryBytes(into.WrittenSpan[before..]);
        if (removed is null) into.ResetWrittenCount();
        if (root.Count == 0) root.RedisBytes = ListRoot.RedisEmptyBytes;
        return true;
    }

    [ThreadStatic] private static byte[]? t_reference;

    /// <summary>
    /// Whether the tree's element at the popping end (its leaf and path in hand, as a pop needs) is kept out of line: then
    /// its reference, copied out of the page the pop rewrites, in <paramref name="reference"/>.
    /// </summary>
    private static bool PopsReference(in ListRoot root, bool head, bool edge, ulong leaf, PageSet pages, out ReadOnlySpan<byte> reference)
    {
        var entry = edge ? CountedTree.EdgeEntry(root.Tree, leaf, head, pages, out bool outOfLine)
            : CountedTree.EntryAt(root.Tree, head ? 0 : root.Tree.Count - 1, pages, out outOfLine);
        reference = default;
        if (!outOfLine) return false;
        var copy = t_reference ??= new byte[ListChunks.ReferenceSize];
        entry.CopyTo(copy);
        reference = copy;
        return true;
    }

    /// <summary>
    /// Moves both edge sides into the tree, before a change by position (LSET, LINSERT, LREM, LTRIM), which the tree's
    /// code makes on a root with empty sides only. False after naming pages, as <see cref="TryPush"/>.
    /// </summary>
    public static bool TrySettle(ref ListRoot root, PageSet pages, IPageStore store, List<PageKey> needs)
        => Flush(ref root, true, pages, store, needs) && Flush(ref root, false, pages, store, needs);

    /// <summary>
    /// Moves a side into the tree, innermost element first (the list's order and weight do not change): as many as the
    /// edge leaf has room for in one move, the rest one push at a time (a split, then the new edge leaf).
    /// </summary>
    private static bool Flush(ref ListRoot root, bool head, PageSet pages, IPageStore store, List<PageKey> needs)
    {
        int n = root.Edges.Count(head);
        if (n == 0) return true;
        Span<int> offsets = stackalloc int[n]; // not SideBytes: a 4 KB stackalloc is zeroed on every call
        root.Edges.Offsets(head, offsets);
        Span<byte> element = stackalloc byte[ListEdges.MaxElement];
        Span<byte> encoded = stackalloc byte[2 * ListEdges.SideBytes]; // a leaf entry is at most twice its side entry (an empty one: 2 bytes, 1)
        for (int k = n - 1; k >= 0;)
        {
            var entry = root.Edges.EntryAt(head, offsets[k]);
            NeedsTreePush(root, head, entry.Length, pages, needs);
            if (needs.Count > 0)
            {
                // What went into the tree leaves the side; the rest waits for the pages.
                root.Edges.KeepOuter(head, k + 1);
                return false;
            }
            int bytes = 0, many = root.Tree.Height >= 2 ? EdgeBatch(ref root, head, offsets, k, pages, encoded, out bytes) : 0;
            if (many > 1)
            {
                CountedTree.EdgePushEntries(ref root.Tree, Edge(ref root, head, pages), head, encoded[..bytes], many, pages, store);
                k -= many;
                continue;
            }
            var e = element[..entry.Length];
            entry.CopyTo(e);
            TreePush(ref root, head, e, pages, store);
            k--;
        }
        root.Edges.KeepOuter(head, 0);
        return true;
    }

    /// <summary>
    /// How many of the side's entries from <paramref name="k"/> outwards go into the edge leaf (in hand, its path known)
    /// at once, encoded as leaf entries in <paramref name="encoded"/> in the leaf's order: at the head the outermost first.
    /// </summary>
    private static int EdgeBatch(ref ListRoot root, bool head, ReadOnlySpan<int> offsets, int k, PageSet pages, Span<byte> encoded, out int bytes)
    {
        bytes = 0;
        ulong leaf = Edge(ref root, head, pages);
        int room = CountedTree.EdgeRoom(root.Tree, leaf, pages), many = 0;
        for (int j = k; j >= 0; j--)
        {
            int size = TreePage.LeafEntrySize(root.Edges.EntryAt(head, offsets[j]).Length);
            if (bytes + size > room) break;
            bytes += size;
            many++;
        }
        // At the head the leaf starts with the outermost of them (entry k - many + 1); at the tail the innermost (k) comes first.
        int at = 0;
        for (int i = 0; i < many; i++)
            at += TreePage.WriteLeafEntry(encoded[at..], root.Edges.EntryAt(head, offsets[head ? k - many + 1 + i : k - i]));
        return many;
    }

    /// <summary>
    /// Gathers the elements a refilling pop takes from the edge leaf, as many as the root's side has room for, for one move
    /// into the side's inner end (<see cref="ListEdges.AddInnerEntries"/>): they come outermost first, so they are laid
    /// down from the scratch's end (a side is innermost first).
    /// </summary>
    private sealed class SideTaker : IEdgeTaker
    {
        [ThreadStatic] private static SideTaker? t_taker;
        private readonly byte[] _scratch = new byte[ListEdges.SideBytes];
        private int _low, _room, _count;

        public static SideTaker For(bool head, in ListEdges edges)
        {
            var t = t_taker ??= new SideTaker();
            t._low = ListEdges.SideBytes;
            t._room = ListEdges.SideBytes - edges.UsedBytes(head);
            t._count = 0;
            return t;
        }

        public bool Take(ReadOnlySpan<byte> element)
        {
            int size = 1 + element.Length;
            if (element.Length > ListEdges.MaxElement || ListEdges.SideBytes - _low + size > _room) return false;
            _low -= size;
            element.CopyTo(_scratch.AsSpan(_low));
            _scratch[_low + element.Length] = (byte)element.Length;
            _count++;
            return true;
        }

        public void Into(ref ListEdges edges, bool head) => edges.AddInnerEntries(head, _scratch.AsSpan(_low), _count);
    }

    private static void RequireSettled(in ListRoot root)
    {
        if (!root.Edges.IsEmpty) throw new InvalidOperationException($"a change by position to paged list {root.Cid} before its edge sides went into the tree (TrySettle)");
    }

    /// <summary>
    /// Pages a push into the tree of an element of <paramref name="length"/> bytes needs: the edge leaf alone when the
    /// root knows it and it has room; the path to it when it is not known yet; the spines (to fold the pending
    /// counts) and the path when the leaf must split.
    /// </summary>
    private static void NeedsTreePush(in ListRoot root, bool head, int length, PageSet pages, List<PageKey> needs)
    {
        var t = root.Tree;
        if (t.Height >= 2 && EdgeInHand(root, head, pages, needs, out ulong leaf))
        {
            if (CountedTree.EdgeFits(t, leaf, length, pages)) return;
            NeedsFolded(root, pages, needs);
        }
        if (needs.Count == 0) CountedTree.NeedsInsertAt(t, head ? 0 : t.Count, pages, needs);
    }

    /// <summary>
    /// A push into the tree. With two levels or more, onto the edge leaf in place when it has room (the leaf and the
    /// root are all it writes: the count waits in the root's delta); else the deltas are folded and the tree inserts
    /// (the leaf splits), and the edges are found again by the next push or pop. The weight is the caller's.
    /// </summary>
    private static void TreePush(ref ListRoot root, bool head, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        bool outOfLine = ListChunks.IsLong(root.Tree, element.Length);
        Span<byte> reference = stackalloc byte[ListChunks.ReferenceSize];
        if (outOfLine) ListChunks.Write(ref root.Tree, element, reference, pages, store);
        ReadOnlySpan<byte> entry = outOfLine ? reference : element;
        if (root.Tree.Height >= 2)
        {
            ulong leaf = Edge(ref root, head, pages);
            if (CountedTree.EdgeFits(root.Tree, leaf, entry.Length, pages))
            {
                CountedTree.EdgePush(ref root.Tree, leaf, head, entry, pages, store, outOfLine);
                return;
            }
        }
        Folded(ref root, pages, store);
        CountedTree.InsertAt(ref root.Tree, head ? 0 : root.Tree.Count, entry, pages, store, outOfLine);
    }

    /// <summary>The edge leaf, known or (its path in hand) found now and kept in the root.</summary>
    private static ulong Edge(ref ListRoot root, bool head, PageSet pages)
    {
        ref ulong leaf = ref head ? ref root.LeftLeaf : ref root.RightLeaf;
        if (leaf == ListRoot.NoLeaf) leaf = CountedTree.EdgeLeaf(root.Tree, head, pages);
        return leaf;
    }

    /// <summary>
    /// Whether the edge leaf is in hand (its number in <paramref name="leaf"/>); false after naming what is missing:
    /// the leaf, or the path to it when the root does not know it.
    /// </summary>
    private static bool EdgeInHand(in ListRoot root, bool head, PageSet pages, List<PageKey> needs, out ulong leaf)
    {
        leaf = head ? root.LeftLeaf : root.RightLeaf;
        if (leaf == ListRoot.NoLeaf)
        {
            CountedTree.NeedsEdgeLeaf(root.Tree, head, pages, needs);
            if (needs.Count > 0) return false;
            leaf = CountedTree.EdgeLeaf(root.Tree, head, pages);
        }
        var key = CountedTree.PageOf(root.Tree, leaf);
        if (pages.State(key) == PageState.Present) return true;
        if (pages.State(key) == PageState.Missing) throw new InvalidDataException($"edge leaf {leaf} of collection {root.Cid} is missing");
        if (pages.MarkNeeded(key)) needs.Add(key);
        return false;
    }

    /// <summary>The pages folding the pending edge counts needs (every change but an edge push or pop folds first).</summary>
    private static void NeedsFolded(in ListRoot root, PageSet pages, List<PageKey> needs) => CountedTree.NeedsFold(root.Tree, pages, needs);

    /// <summary>Folds the pending edge counts before a change by position, which may move the edges: they are found again.</summary>
    private static void Folded(ref ListRoot root, PageSet pages, IPageStore store)
    {
        CountedTree.Fold(ref root.Tree, pages, store);
        root.ForgetEdges();
    }

    public static void NeedsInsertAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs)
    {
        RequireSettled(root);
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsInsertAt(root.Tree, index, pages, needs);
    }

    public static void InsertAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        RequireSettled(root);
        Folded(ref root, pages, store);
        bool outOfLine = ListChunks.IsLong(root.Tree, element.Length);
        Span<byte> reference = stackalloc byte[ListChunks.ReferenceSize];
        if (outOfLine) ListChunks.Write(ref root.Tree, element, reference, pages, store);
        CountedTree.InsertAt(ref root.Tree, index, outOfLine ? reference : element, pages, store, outOfLine);
        if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element);
    }

    /// <summary>Pages a pop from the tree needs: the edge leaf alone while it keeps an element, else the spines and the path.</summary>
    private static void NeedsTreePop(in ListRoot root, bool head, PageSet pages, List<PageKey> needs)
    {
        if (root.Tree.Count == 0) return;
        if (root.Tree.Height >= 2 && EdgeInHand(root, head, pages, needs, out ulong leaf) && CountedTree.EdgeKeeps(root.Tree, leaf, pages)) return;
        if (needs.Count == 0) NeedsTreeRemoveAt(root, head ? 0 : root.Tree.Count - 1, pages, needs);
    }

    public static void NeedsRemoveAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs)
    {
        RequireSettled(root);
        NeedsTreeRemoveAt(root, index, pages, needs);
    }

    private static void NeedsTreeRemoveAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs)
    {
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsRemoveAt(root.Tree, index, pages, needs);
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_removed;

    /// <summary>Removes the element at <paramref name="index"/> (LREM; its chunks go with it when kept out of line).</summary>
    public static void RemoveAt(ref ListRoot root, ulong index, PageSet pages, IPageStore store)
    {
        RequireSettled(root);
        var into = t_removed ??= new ArrayBufferWriter<byte>(256);
        into.ResetWrittenCount();
        bool outOfLine = TreeRemoveAt(ref root, index, pages, store, into);
        if (root.RedisBytes >= 0) root.RedisBytes -= WeightOf(into.WrittenSpan, outOfLine);
        if (outOfLine) ListChunks.Delete(ref root.Tree, into.WrittenSpan, pages, store);
        into.ResetWrittenCount();
        if (root.Count == 0) root.RedisBytes = ListRoot.RedisEmptyBytes;
    }

    /// <summary>
    /// Removes the tree's element at <paramref name="index"/>, its entry's bytes into <paramref name="into"/> when given: at an
    /// edge from the edge leaf alone when it keeps one. True when the entry was a reference (its chunks are the caller's).
    /// </summary>
    private static bool TreeRemoveAt(ref ListRoot root, ulong index, PageSet pages, IPageStore store, ArrayBufferWriter<byte>? into)
    {
        if (root.Tree.Height >= 2 && (index == 0 || index == root.Tree.Count - 1) && EdgeKeeps(ref root, index == 0, pages, out ulong leaf))
            return CountedTree.EdgePop(ref root.Tree, leaf, index == 0, pages, store, into);
        Folded(ref root, pages, store);
        return CountedTree.RemoveAt(ref root.Tree, index, pages, store, into);
    }

    /// <summary>Whether the edge leaf is known (or found, its path in hand) and keeps an element after a pop.</summary>
    private static bool EdgeKeeps(ref ListRoot root, bool head, PageSet pages, out ulong leaf)
    {
        leaf = head ? root.LeftLeaf : root.RightLeaf;
        if (leaf == ListRoot.NoLeaf && pages.State(CountedTree.PageOf(root.Tree, root.Tree.Root)) != PageState.Present) return false;
        leaf = Edge(ref root, head, pages);
        return pages.State(CountedTree.PageOf(root.Tree, leaf)) == PageState.Present && CountedTree.EdgeKeeps(root.Tree, leaf, pages);
    }

    /// <summary>Pages <see cref="SetAt"/> needs (the path, and the siblings a shrinking leaf may take).</summary>
    public static void NeedsSetAt(in ListRoot root, ulong index, int newLength, PageSet pages, List<PageKey> needs)
    {
        RequireSettled(root);
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsSetAt(root.Tree, index, ListChunks.EntryLength(root.Tree, newLength), pages, needs);
    }

    /// <summary>LSET: the old element's chunks go when it was kept out of line, and a long new one gets chunks of its own.</summary>
    public static void SetAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        RequireSettled(root);
        var old = CountedTree.EntryAt(root.Tree, index, pages, out bool oldOutOfLine);
        if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element) - WeightOf(old, oldOutOfLine);
        Span<byte> oldReference = stackalloc byte[ListChunks.ReferenceSize];
        if (oldOutOfLine) old.CopyTo(oldReference); // the page is rewritten below
        Folded(ref root, pages, store);
        bool outOfLine = ListChunks.IsLong(root.Tree, element.Length);
        Span<byte> reference = stackalloc byte[ListChunks.ReferenceSize];
        if (outOfLine) ListChunks.Write(ref root.Tree, element, reference, pages, store);
        CountedTree.SetAt(ref root.Tree, index, outOfLine ? reference : element, pages, store, outOfLine);
        if (oldOutOfLine) ListChunks.Delete(ref root.Tree, oldReference, pages, store);
    }

    public static void NeedsRemoveRange(in ListRoot root, ulong rank, ulong count, PageSet pages, List<PageKey> needs)
    {
        RequireSettled(root);
        NeedsFolded(root, pages, needs);
        if (needs.Count > 0) return;
        if (root.Tree.OutOfLine > 0) CountedTree.NeedsRemoveAt(root.Tree, rank, pages, needs);
        else CountedTree.NeedsRemoveRange(root.Tree, rank, count, pages, needs);
    }

    /// <summary>
    /// One step of removing [rank, rank + count) (see <see cref="CountedTree.RemoveRange"/>): how many went. The Redis weight
    /// becomes unknown. While the tree keeps elements out of line a step removes one element, whose chunks must go with
    /// it (whole leaves are dropped unread, their references with them).
    /// </summary>
    public static ulong RemoveRange(ref ListRoot root, ulong rank, ulong count, PageSet pages, IPageStore store)
    {
        RequireSettled(root);
        if (root.Tree.OutOfLine > 0)
        {
            if (rank >= root.Tree.Count || count == 0) return 0;
            RemoveAt(ref root, rank, pages, store);
            return 1;
        }
        Folded(ref root, pages, store);
        ulong n = CountedTree.RemoveRange(ref root.Tree, rank, count, pages, store);
        root.RedisBytes = root.Count == 0 ? ListRoot.RedisEmptyBytes : -1;
        return n;
    }

    // ---- element records ------------------------------------------------------------------------

    public const int FieldSize = 16;

    /// <summary>The record of a change numbered <paramref name="seq"/>; <paramref name="field"/> is its 16-byte buffer.</summary>
    public static ElementRecord Record(ElementOp op, ulong cid, ReadOnlySpan<byte> key, Span<byte> field, ulong seq, ulong arg, ReadOnlySpan<byte> value = default)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(field, seq);
        BinaryPrimitives.WriteUInt64LittleEndian(field[8..], arg);
        return new ElementRecord(op, cid, key, field[..FieldSize], value);
    }

    public static ulong SeqOf(in ElementRecord record) => BinaryPrimitives.ReadUInt64LittleEndian(record.Field);

    public static ulong ArgOf(in ElementRecord record) => BinaryPrimitives.ReadUInt64LittleEndian(record.Field[8..]);

    /// <summary>
    /// Replays one element record: applied when it is this life's (same cid) and past the root's seq, else
    /// skipped (false). <paramref name="fetch"/> reads the needs into the page set (replay's reads never wait).
    /// </summary>
    public static bool ApplyRecord(ref ListRoot root, in ElementRecord record, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        if (record.Cid != root.Cid || !record.IsList || record.Field.Length != FieldSize) return false;
        ulong seq = SeqOf(record), arg = ArgOf(record);
        if (seq <= root.Seq) return false;
        var op = record.Op;
        bool head = op is ElementOp.LPush or ElementOp.LPop;
        int round = 0;
        switch (op)
        {
            case ElementOp.LPush:
            case ElementOp.RPush:
                while (!TryPush(ref root, head, record.Value, pages, store, needs)) Fetched(ref round, fetch);
                break;
            case ElementOp.LPop:
            case ElementOp.RPop:
                for (ulong i = 0; i < arg && root.Count > 0; i++)
                    while (!TryPop(ref root, head, pages, store, needs)) Fetched(ref round, fetch);
                break;
            case ElementOp.LSet:
            case ElementOp.LRemAt:
                if (arg >= root.Count) throw new InvalidDataException($"{op} record at {arg} of a {root.Count}-element list");
                while (!TrySettle(ref root, pages, store, needs)) Fetched(ref round, fetch);
                Ensure(root, op, arg, record.Value.Length, 0, pages, needs, fetch);
                if (op == ElementOp.LSet) SetAt(ref root, arg, record.Value, pages, store);
                else RemoveAt(ref root, arg, pages, store);
                break;
            case ElementOp.LInsert:
                if (arg > root.Count) throw new InvalidDataException($"LINSERT record at {arg} of a {root.Count}-element list");
                while (!TrySettle(ref root, pages, store, needs)) Fetched(ref round, fetch);
                Ensure(root, op, arg, 0, 0, pages, needs, fetch);
                InsertAt(ref root, arg, record.Value, pages, store);
                break;
            case ElementOp.LRemRange:
                ulong left = BinaryPrimitives.ReadUInt64LittleEndian(record.Value);
                while (!TrySettle(ref root, pages, store, needs)) Fetched(ref round, fetch);
                while (left > 0 && arg < root.Count)
                {
                    Ensure(root, op, arg, 0, left, pages, needs, fetch);
                    left -= RemoveRange(ref root, arg, left, pages, store);
                }
                break;
            default:
                return false;
        }
        root.Seq = seq;
        return true;
    }

    /// <summary>One more round of reads for a step that named what it needs (replay's reads complete before fetch returns).</summary>
    private static void Fetched(ref int round, Func<bool> fetch)
    {
        // Each round brings a level's pages; a flush of both edge sides takes a few (a split's pages are new, in hand).
        if (++round > CountedTree.MaxHeight * 16) throw new InvalidOperationException("a list record's pages never came in hand");
        fetch();
    }

    /// <summary>Reads what the record's next step needs, round after round (replay's reads complete before they return).</summary>
    private static void Ensure(in ListRoot root, ElementOp op, ulong arg, int length, ulong left, PageSet pages, List<PageKey> needs, Func<bool> fetch)
    {
        for (int round = 0; ; round++)
        {
            switch (op)
            {
                case ElementOp.LSet: NeedsSetAt(root, arg, length, pages, needs); break;
                case ElementOp.LInsert: NeedsInsertAt(root, arg, pages, needs); break;
                case ElementOp.LRemAt: NeedsRemoveAt(root, arg, pages, needs); break;
                case ElementOp.LRemRange: NeedsRemoveRange(root, arg, left, pages, needs); break;
            }
            if (needs.Count == 0) return;
            if (round > CountedTree.MaxHeight * 4) throw new InvalidOperationException("a list record's pages never came in hand");
            fetch();
        }
    }
}
