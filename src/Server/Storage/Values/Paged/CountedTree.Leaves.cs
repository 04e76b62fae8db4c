using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>A leaf of a counted tree as its parent names it: the page, the rank of its first element, how many it holds.</summary>
public readonly record struct TreeLeaf(PageKey Key, ulong First, ulong Count);

public static partial class CountedTree
{
    [ThreadStatic] private static List<TreeLeaf>? t_children;

    /// <summary>
    /// The leaves from the one holding <paramref name="rank"/> on (towards rank 0 when <paramref name="reverse"/>),
    /// up to <paramref name="max"/>, into <paramref name="into"/>, read off their parents' counts: a long range or a
    /// scan names a round of leaves at once (one disk round for all of them) instead of one leaf per round.
    /// False after naming an inner page on the way that is not in hand (the leaves listed so far stay listed).
    /// The leaves themselves are not read.
    /// </summary>
    public static bool LeavesFrom(in TreeMeta meta, ulong rank, bool reverse, int max, PageSet pages, List<PageKey> needs, List<TreeLeaf> into)
    {
        CheckMode(meta, TreeMode.Position);
        into.Clear();
        if (meta.Height == 0 || rank >= meta.Count) return true;
        if (meta.Height == 1)
        {
            into.Add(new TreeLeaf(PageOf(meta, meta.Root), 0, meta.Count));
            return true;
        }
        while (into.Count < max)
        {
            Unsafe.SkipInit(out TreePath path);
            if (!Walk(meta, ref path, rank, default, false, pages, needs, meta.Height - 2)) return false;
            int d = meta.Height - 2;
            ref var st = ref path.S[d];
            var page = pages.Get(PageOf(meta, st.Page));
            // path.Rank is the parent's first rank plus what lies before the chosen child.
            ulong first = path.Rank - st.Before;
            var children = t_children ??= new List<TreeLeaf>(256);
            children.Clear();
            ulong at = first;
            var r = new TreePage.InnerReader(page);
            int n = TreePage.CountOf(page), i0 = 0;
            while (r.Next(out var e))
            {
                ulong c = Pending(meta, st, i0++, n, e.Count);
                children.Add(new TreeLeaf(PageOf(meta, e.Child), at, c));
                at += c;
            }
            if (!reverse)
            {
                for (int i = st.Index; i < children.Count && into.Count < max; i++) into.Add(children[i]);
                if (at >= meta.Count) return true;
                rank = at;
            }
            else
            {
                for (int i = st.Index; i >= 0 && into.Count < max; i--) into.Add(children[i]);
                if (first == 0) return true;
                rank = first - 1;
            }
        }
        return true;
    }
}
