using System.Buffers;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Ordered deletes and inserts that read their own pages through the caller's fetch as the descent meets them and
/// apply on the path that descent found. The needs -> fetch -> needs loop walked from the root once a missing level
/// and then once more to apply: a ZADD moving a member in a 100k-member set (height 3) made ~13 inner-page searches
/// and 4 leaf searches where this makes 4 and 2 (InnerByKey was 13% of its CPU, LeafLowerBound 6%).
/// </summary>
public static partial class CountedTree
{
    /// <summary>
    /// Walks to <paramref name="key"/>'s place, reading what is missing on the way. False when stopped: a read went to
    /// disk (the caller drops the attempt). A tie's chunk (long members) is fetched and the walk made again.
    /// </summary>
    private static bool TryDescend(in TreeMeta meta, ref TreePath path, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs, Func<bool> fetch)
    {
        if (needs.Count != 0) throw new InvalidOperationException("a descent began with needs not fetched");
        for (int rounds = 0; ; rounds++)
        {
            if (rounds > MaxHeight * 4) throw new InvalidOperationException("a descent's pages never came in hand");
            if (Walk(meta, ref path, 0, key, true, pages, needs, -1, fetch)) return true;
            // The walk's own fetch stopped (it empties the needs), or a tie named a chunk: fetch that and walk again.
            if (needs.Count == 0 || !fetch()) return false;
        }
    }

    /// <summary>
    /// Ordered mode: removes <paramref name="key"/> (full) when there (<paramref name="found"/>), reading the path and any
    /// sibling a rebalance may take through <paramref name="fetch"/>; its entry's bytes go to <paramref name="removed"/>
    /// when given and <paramref name="outOfLine"/> says whether they were a reference. False when stopped (nothing applied).
    /// </summary>
    public static bool TryDelete(ref TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch,
        IBufferWriter<byte>? removed, out bool found, out bool outOfLine)
    {
        CheckMode(meta, TreeMode.Ordered);
        found = outOfLine = false;
        if (meta.Height == 0) return true;
        Unsafe.SkipInit(out TreePath path);
        for (int rounds = 0; ; rounds++)
        {
            if (rounds > MaxHeight * 4) throw new InvalidOperationException("a delete's pages never came in hand");
            if (!TryDescend(meta, ref path, key, pages, needs, fetch)) return false;
            if (!path.Found) return true;
            NeedsLeafChange(meta, ref path, -1, 1, pages, needs);
            if (needs.Count == 0) break;
            // A sibling to read: the path is walked again after it (a fetch changes no page in hand, but cheaply safe).
            if (!fetch()) return false;
        }
        found = true;
        outOfLine = RemoveInLeaf(ref meta, ref path, 1, pages, store, removed);
        return true;
    }

    /// <summary>
    /// Ordered mode: adds <paramref name="key"/> (full; its leaf entry is the key itself: a short member), reading its path
    /// through <paramref name="fetch"/>. <paramref name="inserted"/> false when it was there already (nothing written).
    /// False when stopped (nothing applied).
    /// </summary>
    public static bool TryInsert(ref TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch, out bool inserted)
    {
        CheckMode(meta, TreeMode.Ordered);
        CheckLength(meta, key.Length);
        inserted = false;
        if (meta.Height == 0)
        {
            NewRoot(ref meta, key, pages, store);
            inserted = true;
            return true;
        }
        Unsafe.SkipInit(out TreePath path);
        if (!TryDescend(meta, ref path, key, pages, needs, fetch)) return false;
        if (path.Found) return true;
        InsertInLeaf(ref meta, ref path, key, pages, store);
        inserted = true;
        return true;
    }
}
