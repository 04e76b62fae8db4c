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
    /// <summary>The longest element a paged list holds (a quarter page less the entry's framing: 1017 bytes at 4 KB pages).</summary>
    public static int MaxElementLength(in ListRoot root) => CountedTree.MaxElementLength(root.Tree);

    /// <summary>The longest element a new paged list would hold: a list with a longer one stays inline.</summary>
    public static readonly int NewMaxElementLength = CountedTree.MaxElementLength(TreeMeta.Create(1, TreeMode.Position));

    public static void NeedsAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs) => CountedTree.NeedsAt(root.Tree, index, pages, needs);

    public static void GetAt(in ListRoot root, ulong index, PageSet pages, IBufferWriter<byte> dest) => CountedTree.GetAt(root.Tree, index, pages, dest);

    /// <summary>
    /// Pages <see cref="Push"/> of an element of <paramref name="length"/> bytes needs: the edge leaf alone when the
    /// root knows it and it has room; the path to it when it is not known yet; the spines (to fold the pending
    /// counts) and the path when the leaf must split.
    /// </summary>
    public static void NeedsPush(in ListRoot root, bool head, int length, PageSet pages, List<PageKey> needs)
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
    /// LPUSH/RPUSH of one element. With two levels or more, onto the edge leaf in place when it has room (the leaf
    /// and the root are all it writes: the count waits in the root's delta); else the deltas are folded and the
    /// tree inserts (the leaf splits), and the edges are found again by the next push or pop.
    /// </summary>
    public static void Push(ref ListRoot root, bool head, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        if (root.Tree.Height >= 2)
        {
            ulong leaf = Edge(ref root, head, pages);
            if (CountedTree.EdgeFits(root.Tree, leaf, element.Length, pages))
            {
                CountedTree.EdgePush(ref root.Tree, leaf, head, element, pages, store);
                if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element);
                return;
            }
        }
        InsertAt(ref root, head ? 0 : root.Count, element, pages, store);
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
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsInsertAt(root.Tree, index, pages, needs);
    }

    public static void InsertAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        Folded(ref root, pages, store);
        CountedTree.InsertAt(ref root.Tree, index, element, pages, store);
        if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element);
    }

    /// <summary>Pages <see cref="Pop"/> needs: the edge leaf alone while it keeps an element, else the spines and the path.</summary>
    public static void NeedsPop(in ListRoot root, bool head, PageSet pages, List<PageKey> needs)
    {
        if (root.Count == 0) return;
        if (root.Tree.Height >= 2 && EdgeInHand(root, head, pages, needs, out ulong leaf) && CountedTree.EdgeKeeps(root.Tree, leaf, pages)) return;
        if (needs.Count == 0) NeedsRemoveAt(root, head ? 0 : root.Count - 1, pages, needs);
    }

    public static void NeedsRemoveAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs)
    {
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsRemoveAt(root.Tree, index, pages, needs);
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_removed;

    /// <summary>Removes the element at <paramref name="index"/>; its bytes go to <paramref name="removed"/> when given.</summary>
    public static void RemoveAt(ref ListRoot root, ulong index, PageSet pages, IPageStore store, ArrayBufferWriter<byte>? removed = null)
    {
        var into = removed ?? (t_removed ??= new ArrayBufferWriter<byte>(256));
        int before = into.WrittenCount;
        if (root.Tree.Height >= 2 && (index == 0 || index == root.Count - 1) && EdgeKeeps(ref root, index == 0, pages, out ulong leaf))
            CountedTree.EdgePop(ref root.Tree, leaf, index == 0, pages, store, into);
        else
        {
            Folded(ref root, pages, store);
            CountedTree.RemoveAt(ref root.Tree, index, pages, store, into);
        }
        if (root.RedisBytes >= 0) root.RedisBytes -= List.RedisEntryBytes(into.WrittenSpan[before..]);
        if (removed is null) into.ResetWrittenCount();
        if (root.Count == 0) root.RedisBytes = ListRoot.RedisEmptyBytes;
    }

    /// <summary>Whether the edge leaf is known (or found, its path in hand) and keeps an element after a pop.</summary>
    private static bool EdgeKeeps(ref ListRoot root, bool head, PageSet pages, out ulong leaf)
    {
        leaf = head ? root.LeftLeaf : root.RightLeaf;
        if (leaf == ListRoot.NoLeaf && pages.State(CountedTree.PageOf(root.Tree, root.Tree.Root)) != PageState.Present) return false;
        leaf = Edge(ref root, head, pages);
        return pages.State(CountedTree.PageOf(root.Tree, leaf)) == PageState.Present && CountedTree.EdgeKeeps(root.Tree, leaf, pages);
    }

    /// <summary>LPOP/RPOP of one element (its bytes to <paramref name="removed"/> when given).</summary>
    public static void Pop(ref ListRoot root, bool head, PageSet pages, IPageStore store, ArrayBufferWriter<byte>? removed = null)
        => RemoveAt(ref root, head ? 0 : root.Count - 1, pages, store, removed);

    /// <summary>Pages <see cref="SetAt"/> needs (the path, and the siblings a shrinking leaf may take).</summary>
    public static void NeedsSetAt(in ListRoot root, ulong index, int newLength, PageSet pages, List<PageKey> needs)
    {
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsSetAt(root.Tree, index, newLength, pages, needs);
    }

    public static void SetAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        if (root.RedisBytes >= 0)
        {
            var old = t_removed ??= new ArrayBufferWriter<byte>(256);
            old.ResetWrittenCount();
            CountedTree.GetAt(root.Tree, index, pages, old);
            root.RedisBytes += List.RedisEntryBytes(element) - List.RedisEntryBytes(old.WrittenSpan);
        }
        Folded(ref root, pages, store);
        CountedTree.SetAt(ref root.Tree, index, element, pages, store);
    }

    public static void NeedsRemoveRange(in ListRoot root, ulong rank, ulong count, PageSet pages, List<PageKey> needs)
    {
        NeedsFolded(root, pages, needs);
        if (needs.Count == 0) CountedTree.NeedsRemoveRange(root.Tree, rank, count, pages, needs);
    }

    /// <summary>One step of removing [rank, rank + count) (see <see cref="CountedTree.RemoveRange"/>): how many went. The Redis weight becomes unknown.</summary>
    public static ulong RemoveRange(ref ListRoot root, ulong rank, ulong count, PageSet pages, IPageStore store)
    {
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
        switch (op)
        {
            case ElementOp.LPush:
            case ElementOp.RPush:
                Ensure(root, op, 0, record.Value.Length, 0, pages, needs, fetch);
                Push(ref root, op == ElementOp.LPush, record.Value, pages, store);
                break;
            case ElementOp.LPop:
            case ElementOp.RPop:
                for (ulong i = 0; i < arg && root.Count > 0; i++)
                {
                    Ensure(root, op, 0, 0, 0, pages, needs, fetch);
                    Pop(ref root, op == ElementOp.LPop, pages, store);
                }
                break;
            case ElementOp.LSet:
            case ElementOp.LRemAt:
                if (arg >= root.Count) throw new InvalidDataException($"{op} record at {arg} of a {root.Count}-element list");
                Ensure(root, op, arg, record.Value.Length, 0, pages, needs, fetch);
                if (op == ElementOp.LSet) SetAt(ref root, arg, record.Value, pages, store);
                else RemoveAt(ref root, arg, pages, store);
                break;
            case ElementOp.LInsert:
                if (arg > root.Count) throw new InvalidDataException($"LINSERT record at {arg} of a {root.Count}-element list");
                Ensure(root, op, arg, 0, 0, pages, needs, fetch);
                InsertAt(ref root, arg, record.Value, pages, store);
                break;
            case ElementOp.LRemRange:
                ulong left = BinaryPrimitives.ReadUInt64LittleEndian(record.Value);
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

    /// <summary>Reads what the record's next step needs, round after round (replay's reads complete before they return).</summary>
    private static void Ensure(in ListRoot root, ElementOp op, ulong arg, int length, ulong left, PageSet pages, List<PageKey> needs, Func<bool> fetch)
    {
        for (int round = 0; ; round++)
        {
            switch (op)
            {
                case ElementOp.LPush: NeedsPush(root, true, length, pages, needs); break;
                case ElementOp.RPush: NeedsPush(root, false, length, pages, needs); break;
                case ElementOp.LPop: NeedsPop(root, true, pages, needs); break;
                case ElementOp.RPop: NeedsPop(root, false, pages, needs); break;
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
