using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>A leaf of a counted tree as its parent names it: the page, the rank of its first element, how many it holds.</summary>
public readonly record struct TreeLeaf(PageKey Key, ulong First, ulong Count);

public static partial class CountedTree
{
    /// <summary>
    /// The leaves from the one holding <paramref name="rank"/> on (towards rank 0 when <paramref name="reverse"/>),
    /// up to <paramref name="max"/> and no more than hold <paramref name="want"/> elements of the range, into
    /// <paramref name="into"/>, read off their parents' counts: a long range or a scan names a round of leaves at once
    /// (one disk round for all of them) instead of one leaf per round, and a short one (LRANGE 0 99) names the one or two
    /// it needs (naming a round of 64 for it, a walk of every entry of the parent, was a fifth of LRANGE_100's CPU).
    /// False after naming an inner page on the way that is not in hand (the leaves listed so far stay listed).
    /// The leaves themselves are not read.
    /// </summary>
    public static bool LeavesFrom(in TreeMeta meta, ulong rank, bool reverse, int max, PageSet pages, List<PageKey> needs, List<TreeLeaf> into, ulong want = ulong.MaxValue)
    {
        CheckMode(meta, TreeMode.Position);
        into.Clear();
        if (meta.Height == 0 || rank >= meta.Count) return true;
        if (meta.Height == 1)
        {
            into.Add(new TreeLeaf(PageOf(meta, meta.Root), 0, meta.Count));
            return true;
        }
        ulong from = rank, covered = 0;
        while (into.Count < max && covered < want)
        {
            Unsafe.SkipInit(out TreePath path);
            if (!Walk(meta, ref path, rank, default, false, pages, needs, meta.Height - 2)) return false;
            int d = meta.Height - 2;
            ref var st = ref path.S[d];
            var page = pages.Get(PageOf(meta, st.Page));
            int n = TreePage.CountOf(page);
            // Entries by position are fixed width: the chosen child's and its neighbours' are read where they are.
            // path.Rank is the chosen child's first rank.
            ulong at = path.Rank;
            if (!reverse)
            {
                for (int i = st.Index; i < n && into.Count < max && covered < want; i++)
                {
                    int off = TreePage.PositionInnerAt(i);
                    ulong c = Pending(meta, st, i, n, TreePage.CountAt(page, off));
                    into.Add(new TreeLeaf(PageOf(meta, TreePage.ChildAt(page, off)), at, c));
                    covered += at + c - Math.Max(at, from);
                    at += c;
                }
                if (at >= meta.Count) return true;
                rank = at;
            }
            else
            {
                ulong first = at;
                for (int i = st.Index; i >= 0 && into.Count < max && covered < want; i--)
                {
                    int off = TreePage.PositionInnerAt(i);
                    ulong c = Pending(meta, st, i, n, TreePage.CountAt(page, off));
                    if (i < st.Index) first -= c;
                    into.Add(new TreeLeaf(PageOf(meta, TreePage.ChildAt(page, off)), first, c));
                    covered += Math.Min(first + c - 1, from) - first + 1;
                }
                if (first == 0) return true;
                rank = first - 1;
            }
        }
        return true;
    }
}
