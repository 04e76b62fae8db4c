using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Reading many elements of a paged list: the leaves of a rank range named off their parents' counts
/// (<see cref="CountedTree.LeavesFrom"/>) and read a round of <see cref="Round"/> at once, then visited in order.
/// </summary>
internal static class ListScan
{
    /// <summary>Leaves a round names (one disk round for all of them): the research doc's bound on outstanding page reads.</summary>
    public const int Round = 64;

    /// <summary>
    /// Reads of one attempt that may wait on disk before it stops (as COPY's): the command runs again when they are in,
    /// its earlier reads answering from their slots; 1024 leaves (4 MB) keep a cold scan of 4,000 leaves at a few reruns.
    /// </summary>
    public const int MaxWaiting = 1024;

    /// <summary>Elements a streamed or stopping scan takes at a time (tens of leaves of short elements).</summary>
    public const ulong Chunk = 8192;

    [ThreadStatic] private static List<TreeLeaf>? t_leaves;

    private static List<TreeLeaf> Leaves => t_leaves ??= new List<TreeLeaf>(Round);

    /// <summary>
    /// Every leaf holding ranks [from, from + count) (walked from the far end when <paramref name="reverse"/>: from is then
    /// the highest rank) in hand, for a command that needs them together (LPOS, LREM, LINSERT, a conversion back inline);
    /// the ranks the root's edge sides hold need nothing. The reads go out in the same order each attempt, so a rerun
    /// answers from its slots. False when some wait on disk.
    /// </summary>
    public static bool FetchRange(CommandPages pages, in ListRoot root, ulong from, ulong count, bool reverse)
    {
        if (count == 0 || from >= root.Count) return true;
        Bounds(from, count, reverse, root.Count, out ulong lo, out ulong hi);
        ulong left = (ulong)root.Edges.Count(true), tree = root.Tree.Count;
        if (tree == 0 || hi < left || lo >= left + tree) return true;
        ulong tlo = Math.Max(lo, left) - left, thi = Math.Min(hi, left + tree - 1) - left;
        if (!FetchTree(pages, root, reverse ? thi : tlo, thi - tlo + 1, reverse)) return false;
        if (root.Tree.OutOfLine == 0) return true;
        // The leaves are in hand: the chunks of the elements among them kept out of line, in one more round.
        VisitTree(root, tlo, thi - tlo + 1, false, pages.Pages, ListChunks.Namer.For(root.Tree, pages.Pages, pages.Needs));
        return pages.Needs.Count == 0 || pages.Fetch();
    }

    /// <summary>The inclusive ranks [lo, hi] a range names, inside the list's <paramref name="total"/>.</summary>
    private static void Bounds(ulong from, ulong count, bool reverse, ulong total, out ulong lo, out ulong hi)
    {
        if (reverse)
        {
            hi = Math.Min(from, total - 1);
            lo = hi + 1 >= count ? hi + 1 - count : 0;
        }
        else
        {
            lo = from;
            hi = count - 1 >= total - from ? total - 1 : from + count - 1;
        }
    }

    /// <summary><see cref="FetchRange"/> over the tree's own ranks.</summary>
    private static bool FetchTree(CommandPages pages, in ListRoot root, ulong from, ulong count, bool reverse)
    {
        var leaves = Leaves;
        ulong rank = from, left = count;
        int waiting = 0;
        bool inHand = true;
        while (left > 0 && rank < root.Tree.Count)
        {
            if (!CountedTree.LeavesFrom(root.Tree, rank, reverse, Round, pages.Pages, pages.Needs, leaves, left))
            {
                // An inner page is not in hand: read it (and the leaves named so far) first.
                if (!pages.Fetch()) return false;
                continue;
            }
            ulong covered = 0;
            foreach (var leaf in leaves)
            {
                if (pages.Pages.State(leaf.Key) == PageState.NotInHand && pages.Pages.MarkNeeded(leaf.Key)) pages.Needs.Add(leaf.Key);
                covered += reverse ? Math.Min(leaf.Count, rank - leaf.First + 1) : leaf.First + leaf.Count - Math.Max(leaf.First, rank);
                if (covered >= left) break;
            }
            int named = pages.Needs.Count;
            if (named > 0 && !pages.Fetch())
            {
                inHand = false;
                if ((waiting += named) >= MaxWaiting) return false;
            }
            if (covered >= left) break;
            left -= covered;
            var last = leaves[^1];
            if (reverse)
            {
                if (last.First == 0) break;
                rank = last.First - 1;
            }
            else rank = last.First + last.Count;
        }
        return inHand;
    }

    /// <summary>
    /// Yields ranks [from, from + count) (from downwards when <paramref name="reverse"/>) to <paramref name="sink"/>: the
    /// edge sides' from the root, the tree's from its leaves (every one in hand: FetchRange).
    /// </summary>
    public static void Visit(in ListRoot root, ulong from, ulong count, bool reverse, PageSet pages, ITreeSink sink)
    {
        if (count == 0 || from >= root.Count) return;
        Bounds(from, count, reverse, root.Count, out ulong lo, out ulong hi);
        ulong left = (ulong)root.Edges.Count(true), tree = root.Tree.Count;
        Span<int> offsets = stackalloc int[Math.Max(root.Edges.Count(true), root.Edges.Count(false))]; // not SideBytes: zeroed every call
        // Three runs in the order visited: ranks below the tree, in it, above it (the reverse order when reverse).
        for (int part = 0; part < 3; part++)
        {
            int which = reverse ? 2 - part : part; // 0: left side, 1: tree, 2: right side
            ulong plo = which == 0 ? 0 : which == 1 ? left : left + tree;
            ulong phi = which == 0 ? left : which == 1 ? left + tree : root.Count; // exclusive
            ulong a = Math.Max(lo, plo), b = Math.Min(hi + 1, phi);
            if (a >= b) continue;
            if (which == 1)
            {
                VisitTree(root, (reverse ? b - 1 : a) - left, b - a, reverse, pages, root.Tree.OutOfLine > 0 ? ListChunks.Resolver.For(root.Tree, pages, sink) : sink);
                continue;
            }
            // A side's entries by their offsets, found once (an element by rank walks the side from its outer end).
            bool head = which == 0;
            root.Edges.Offsets(head, offsets);
            int sideCount = root.Edges.Count(head);
            for (ulong k = 0; k < b - a; k++)
            {
                ulong r = reverse ? b - 1 - k : a + k;
                int at = head ? (int)r : sideCount - 1 - (int)(r - left - tree);
                sink.Element(root.Edges.EntryAt(head, offsets[at]));
            }
        }
    }

    private static void VisitTree(in ListRoot root, ulong from, ulong count, bool reverse, PageSet pages, ITreeSink sink)
    {
        ulong rank = from;
        while (count > 0)
        {
            int n = CountedTree.Visit(root.Tree, rank, (int)Math.Min(count, int.MaxValue), reverse, pages, sink);
            if (n == 0) return;
            count -= (ulong)n;
            if (reverse)
            {
                if (rank < (ulong)n) return;
                rank -= (ulong)n;
            }
            else rank += (ulong)n;
        }
    }

    /// <summary>Appends every element it is given to an inline payload (a list converting back to listpack).</summary>
    public sealed class Copier : ITreeSink
    {
        [ThreadStatic] private static Copier? t_copier;
        private SetBuffer _buf = null!;
        private int _count;

        public static Copier For(SetBuffer buf)
        {
            var c = t_copier ??= new Copier();
            c._buf = buf;
            c._count = List.Count(buf.Payload);
            return c;
        }

        public void Element(ReadOnlySpan<byte> element)
        {
            var room = _buf.Insert(_buf.Length, Listpack.EntrySize(element.Length));
            Listpack.WriteEntry(room, element);
            _buf.SetCount(++_count);
        }
    }

    /// <summary>Writes every element it is given as a bulk reply.</summary>
    public sealed class Replier : ITreeSink
    {
        [ThreadStatic] private static Replier? t_replier;
        private Protocol.RespWriter _reply = null!;

        public static Replier For(Protocol.RespWriter reply)
        {
            var r = t_replier ??= new Replier();
            r._reply = reply;
            return r;
        }

        public void Element(ReadOnlySpan<byte> element) => _reply.Bulk(element);
    }
}
