using System.Buffers;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>Receives the elements a tree read yields, in the order asked for.</summary>
public interface ITreeSink
{
    void Element(ReadOnlySpan<byte> element);

    /// <summary>An entry that is a reference to an element kept out of line (a paged list's long one: <see cref="ListChunks"/>).</summary>
    void OutOfLine(ReadOnlySpan<byte> reference) => throw new InvalidDataException("an out-of-line tree element where this tree keeps none");
}

/// <summary>An element too long for a tree page (the tree refuses it before changing anything).</summary>
public sealed class ElementTooLargeException(int length, int max)
    : ArgumentException($"tree element of {length} bytes exceeds the page's limit of {max} bytes")
{
    public int Length { get; } = length;
    public int Max { get; } = max;
}

/// <summary>One level of a descent: the node's page, the child taken (the element's place in a leaf), and what lies before it.</summary>
internal struct TreeStep
{
    public ulong Page;
    /// <summary>Inner: the entry taken. Leaf: the element's position (an insert's place).</summary>
    public int Index;
    /// <summary>Elements under the entries before <see cref="Index"/> (inner pages).</summary>
    public ulong Before;
    /// <summary>Entries of the node, and their bytes, as the walk found it.</summary>
    public int Entries, Used;
    /// <summary>Offset in the page of the entry taken (a leaf: of the element at <see cref="Index"/>, the used bytes past the last).</summary>
    public int At;
    /// <summary>The node is on the left (right) spine: its first (last) entry's count lacks the tree's pending LeftDelta (RightDelta).</summary>
    public bool OnLeft, OnRight;
}

[InlineArray(CountedTree.MaxHeight)]
internal struct TreeSteps
{
    private TreeStep _step;
}

/// <summary>A root-to-leaf descent, on the caller's stack.</summary>
internal struct TreePath
{
    public TreeSteps S;
    /// <summary>Levels walked (the tree's height once complete).</summary>
    public int Depth;
    /// <summary>Elements before the place reached: a key's rank, or the rank asked for.</summary>
    public ulong Rank;
    /// <summary>Ordered mode: the leaf holds the key exactly, at the place reached.</summary>
    public bool Found;
    /// <summary>Every level took its first (last) entry: the place is in the leftmost (rightmost) leaf.</summary>
    public bool LeftEdge, RightEdge;
}

/// <summary>
/// A counted B+tree over pages (DESIGN.md, Storage; research doc section C, "CBTree"): every inner
/// entry carries its subtree's element count, so rank -> element and key -> rank walk the counts from
/// the root in one page per level, never the elements. Two modes behind one structure
/// (<see cref="TreeMode"/>): by position (a list: insert/remove/get/set at an index, pushes at either
/// end) and ordered by bytes (a sorted set's (score, member) key, <see cref="TreeKeys"/>: insert,
/// delete, rank of a key, select by rank, seek). Node i of collection cid is the page record
/// (cid, Tree, i); numbers come from the meta's allocator and are never reused.
///
/// Pure code over pages in hand, as <see cref="PagedHash"/>: every operation is a <c>Needs*</c> method,
/// which names the pages it still lacks given a <see cref="PageSet"/>, and an apply method that runs
/// once they are all in hand. A descent names the first page on its way that is not in hand and stops,
/// so the caller loops "needs -> fetch -> needs" until nothing is missing (one round per cold level;
/// the root and inner pages are usually hot), then applies. A removal may also need siblings to
/// rebalance with: named in the round after its path is in hand, all levels at once. Writes go to
/// the page set and, blind, to the <see cref="IPageStore"/> (staged by the caller).
/// </summary>
[SkipLocalsInit] // a descent's TreePath is 48 levels, Walk writes the ones it takes: zeroing it was 4% of RPOP
public static partial class CountedTree
{
    /// <summary>
    /// 4 KB pages. 1M 16-byte elements (CountedTreeTests.Pages_and_bytes_per_element_at_one_million), bytes
    /// a element with FASTER's record header, exact records / records kept at whole pages:
    /// pushed at the end, 2 KB: 9,000 pages, height 4, 18.6 / 18.8; 4 KB: 4,462 pages, height 3, 18.3 / 18.4;
    /// random keys (pages ~70% full), 2 KB: 12,988 pages, 19.1 / 27.1; 4 KB: 6,565 pages, 18.5 / 27.1 (leaf
    /// entries of 19 bytes, the trailing length included).
    /// Bytes barely move; what decides is the element limit (<see cref="MaxElementLength"/>: 1002 ordered,
    /// 1017 by position at 4 KB, against 490 / 505 at 2 KB) and the levels a cold read may pay (3 against 4
    /// for 1M-5M short elements). The cost: 1.5x the bytes written per change (the leaf and its path are
    /// rewritten: 5.4 KB against 3.6 KB an element pushed, 7.0 against 4.3 inserted at random).
    /// </summary>
    public const int DefaultPageShift = 12;

    /// <summary>Levels a descent may take: far past any real tree (fanout >= 2 per level keeps 2^64 elements under 64).</summary>
    public const int MaxHeight = 48;

    public static PageKey PageOf(in TreeMeta meta, ulong page) => new(meta.Cid, PageKind.Tree, page);

    /// <summary>Entry bytes a page holds before it splits.</summary>
    public static int Capacity(in TreeMeta meta) => meta.PageSize - TreePage.HeaderSize;

    /// <summary>
    /// A page under a quarter of its capacity (not the first or last of its level, nor the root) is
    /// rebalanced with a sibling: merged when both fit in one page, else shared evenly. Elements are at
    /// most a quarter page, so a shared pair leaves each side at least this.
    /// </summary>
    public static int MinFill(in TreeMeta meta) => Capacity(meta) / 4;

    /// <summary>
    /// Longest element a tree takes: an entry (a leaf's, and in ordered mode the separator copy an inner
    /// page may hold) stays within a quarter page, which is what keeps splits and redistributions inside
    /// the fill bounds and every inner page at two children or more. 1002 bytes ordered, 1017 by position
    /// at 4 KB pages. Longer ones are refused (<see cref="ElementTooLargeException"/>) before anything
    /// changes: a paged list keeps them out of line and gives the tree a reference (<see cref="ListChunks"/>), a sorted
    /// set a prefix and a reference (<see cref="ZSetLongMembers"/>).
    /// </summary>
    public static int MaxElementLength(in TreeMeta meta)
    {
        int quarter = Capacity(meta) / 4, max = quarter;
        while (TreePage.LeafEntrySize(max) > quarter) max--;
        // Ordered: a separator copy is an inner entry (16 fixed bytes and a length of up to 3).
        return meta.Mode == TreeMode.Ordered ? Math.Min(max, quarter - 19) : max;
    }

    private static void CheckLength(in TreeMeta meta, int length)
    {
        int max = MaxElementLength(meta);
        if (length > max) throw new ElementTooLargeException(length, max);
    }

    private static void CheckMode(in TreeMeta meta, TreeMode mode)
    {
        if (meta.Mode != mode) throw new InvalidOperationException($"a {mode} operation on a {meta.Mode} tree");
    }

    private static void Need(PageSet pages, List<PageKey> needs, in PageKey key)
    {
        if (pages.State(key) == PageState.NotInHand && pages.MarkNeeded(key)) needs.Add(key);
    }

    /// <summary>
    /// Walks from the root to the node at <paramref name="stopDepth"/> (-1: the leaf) towards a rank or a
    /// key. True when every page on the way was in hand; false after naming the first one that is not
    /// (<paramref name="needs"/> null: an apply, which throws instead). By rank, <paramref name="insert"/>
    /// lets the rank equal the count (a place after the last element).
    /// </summary>
    private static bool Walk(in TreeMeta meta, ref TreePath path, ulong rank, ReadOnlySpan<byte> key, bool byKey,
        PageSet pages, List<PageKey>? needs, int stopDepth = -1, Func<bool>? fetch = null)
    {
        path.Rank = 0;
        path.Found = false;
        path.LeftEdge = path.RightEdge = true;
        path.Depth = 0;
        if (stopDepth < 0) stopDepth = meta.Height - 1;
        ulong pageNo = meta.Root, sub = meta.Count;
        int tie = byKey ? TieLength(meta) : 0;
        for (int d = 0; d <= stopDepth && d < meta.Height; d++)
        {
            var pk = PageOf(meta, pageNo);
            var state = pages.State(pk);
            // With the caller's fetch the page is read here and the walk goes on (a stop empties the needs: see TryDescend).
            if (state == PageState.NotInHand && fetch is not null && needs is not null && needs.Count == 0)
            {
                Need(pages, needs, pk);
                if (!fetch()) return false;
                state = pages.State(pk);
            }
            if (state != PageState.Present)
            {
                if (state == PageState.Missing) throw new InvalidDataException($"tree page {pageNo} of collection {meta.Cid} is missing");
                if (needs is null) throw new InvalidOperationException($"tree page {pageNo} is not in hand");
                Need(pages, needs, pk);
                return false;
            }
            var page = pages.Get(pk);
            bool leaf = d == meta.Height - 1;
            if (TreePage.IsLeaf(page) != leaf) throw new InvalidDataException($"tree page {pageNo} of collection {meta.Cid} at depth {d} of {meta.Height}");
            ref var st = ref path.S[d];
            st.Page = pageNo;
            st.OnLeft = path.LeftEdge;
            st.OnRight = path.RightEdge;
            int n = st.Entries = TreePage.CountOf(page);
            st.Used = TreePage.UsedOf(page) - TreePage.HeaderSize;
            path.Depth = d + 1;
            if (leaf)
            {
                int pos;
                if (byKey)
                {
                    if (!LeafLowerBound(meta, page, n, key, pages, needs, out pos, out st.At, out bool found)) return false;
                    path.Found = found;
                }
                else
                {
                    if (rank > (ulong)n) throw new InvalidDataException($"rank {rank} past leaf {pageNo}'s {n} elements");
                    pos = (int)rank;
                    st.At = TreePage.LeafOffset(page, pos);
                }
                st.Index = pos;
                st.Before = 0;
                path.Rank += (ulong)pos;
                return true;
            }
            int chosen = 0, chosenAt = TreePage.HeaderSize;
            ulong chosenBefore = 0, child = 0;
            if (!byKey && meta.Mode == TreeMode.Position)
            {
                // Fixed-size entries: walked from the end nearer the rank, the node's total known from above.
                TreePage.CheckPositionInner(page, pageNo);
                if (rank < sub / 2)
                {
                    ulong before = 0;
                    for (int i = 0; ; i++)
                    {
                        int at = TreePage.PositionInnerAt(i);
                        ulong c = Pending(meta, st, i, n, TreePage.CountAt(page, at));
                        if (rank < before + c || i == n - 1)
                        {
                            chosen = i;
                            chosenAt = at;
                            chosenBefore = before;
                            break;
                        }
                        before += c;
                    }
                }
                else
                {
                    ulong before = sub;
                    for (int i = n - 1; ; i--)
                    {
                        int at = TreePage.PositionInnerAt(i);
                        ulong c = Pending(meta, st, i, n, TreePage.CountAt(page, at));
                        if (c > before) throw new InvalidDataException($"tree page {pageNo} counts more than its parent says ({sub})");
                        before -= c;
                        if (rank >= before || i == 0)
                        {
                            chosen = i;
                            chosenAt = at;
                            chosenBefore = before;
                            break;
                        }
                    }
                }
                child = TreePage.ChildAt(page, chosenAt);
                sub = Pending(meta, st, chosen, n, TreePage.CountAt(page, chosenAt));
            }
            else if (byKey)
            {
                if (!InnerByKey(meta, page, n, d, tie, key, pages, needs, out chosen, out chosenAt, out chosenBefore)) return false;
                child = TreePage.ChildAt(page, chosenAt);
                sub = TreePage.CountAt(page, chosenAt);
            }
            else
            {
                var ir = new TreePage.InnerReader(page);
                int i = 0;
                ulong before = 0;
                while (ir.Next(out var e))
                {
                    if (rank < before + e.Count || i == n - 1)
                    {
                        chosen = i;
                        chosenAt = e.Start;
                        chosenBefore = before;
                        child = e.Child;
                        sub = e.Count;
                        break;
                    }
                    before += e.Count;
                    i++;
                }
            }
            st.At = chosenAt;
            st.Index = chosen;
            st.Before = chosenBefore;
            path.Rank += chosenBefore;
            rank -= chosenBefore;
            path.LeftEdge &= chosen == 0;
            path.RightEdge &= chosen == n - 1;
            pageNo = child;
        }
        return true;
    }

    /// <summary>The true count of entry <paramref name="i"/> of <paramref name="n"/> of the inner node at <paramref name="st"/>: its stored count and the edge's pending delta.</summary>
    internal static ulong Pending(in TreeMeta meta, in TreeStep st, int i, int n, ulong stored)
    {
        long d = 0;
        if (st.OnLeft && i == 0) d += meta.LeftDelta;
        if (st.OnRight && i == n - 1) d += meta.RightDelta;
        return (ulong)((long)stored + d);
    }

    // ---- reads ----------------------------------------------------------------------------------

    /// <summary>Pages a read at <paramref name="rank"/> still needs (<see cref="GetAt"/>, <see cref="Visit"/>): the path to its leaf.</summary>
    public static void NeedsAt(in TreeMeta meta, ulong rank, PageSet pages, List<PageKey> needs)
    {
        if (rank >= meta.Count) return;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, rank, default, false, pages, needs);
    }

    /// <summary>Copies the element at <paramref name="rank"/> (0-based, &lt; Count) to <paramref name="dest"/> (LINDEX; ZRANGE's select by rank).</summary>
    public static void GetAt(in TreeMeta meta, ulong rank, PageSet pages, IBufferWriter<byte> dest)
    {
        if (rank >= meta.Count) throw new ArgumentOutOfRangeException(nameof(rank));
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, rank, default, false, pages, null);
        ref var st = ref path.S[path.Depth - 1];
        int at = st.At;
        dest.Write(TreePage.ElementAt(pages.Get(PageOf(meta, st.Page)), ref at));
    }

    /// <summary>The entry at <paramref name="rank"/> (its path in hand): its bytes in the page set, and whether they are a reference.</summary>
    public static ReadOnlySpan<byte> EntryAt(in TreeMeta meta, ulong rank, PageSet pages, out bool outOfLine)
    {
        if (rank >= meta.Count) throw new ArgumentOutOfRangeException(nameof(rank));
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, rank, default, false, pages, null);
        ref var st = ref path.S[path.Depth - 1];
        int at = st.At;
        return TreePage.ElementAt(pages.Get(PageOf(meta, st.Page)), ref at, out outOfLine);
    }

    /// <summary>Pages <see cref="Rank"/> (a seek to a key) still needs: the path to the key's leaf.</summary>
    public static void NeedsSeek(in TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs)
    {
        CheckMode(meta, TreeMode.Ordered);
        if (meta.Height == 0) return;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, 0, key, true, pages, needs);
    }

    /// <summary>
    /// Ordered mode: elements less than <paramref name="key"/>, so the rank of the first element &gt;= it
    /// (a seek: ZRANK when <paramref name="found"/>, a range's start; ZCOUNT = the difference of two).
    /// </summary>
    public static ulong Rank(in TreeMeta meta, ReadOnlySpan<byte> key, PageSet pages, out bool found)
    {
        CheckMode(meta, TreeMode.Ordered);
        found = false;
        if (meta.Height == 0) return 0;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, 0, key, true, pages, null);
        found = path.Found;
        return path.Rank;
    }

    /// <summary>
    /// Yields up to <paramref name="max"/> elements from <paramref name="rank"/> on (towards rank 0 when
    /// <paramref name="reverse"/>), as far as the leaf holding that rank goes: returns how many. A long
    /// range reads leaf by leaf: NeedsAt(next rank) -> fetch -> Visit, the inner pages staying in hand,
    /// so each further leaf is one read and a streamed reply can be kept between them.
    /// </summary>
    public static int Visit(in TreeMeta meta, ulong rank, int max, bool reverse, PageSet pages, ITreeSink sink)
    {
        if (rank >= meta.Count || max <= 0) return 0;
        Unsafe.SkipInit(out TreePath path);
        Walk(meta, ref path, rank, default, false, pages, null);
        ref var st = ref path.S[path.Depth - 1];
        var page = pages.Get(PageOf(meta, st.Page));
        int pos = st.Index, emitted = 0;
        if (!reverse)
        {
            var r = new TreePage.LeafReader(page, st.At);
            while (emitted < max && r.Next(out var e, out bool outOfLine))
            {
                if (outOfLine) sink.OutOfLine(e);
                else sink.Element(e);
                emitted++;
            }
            return emitted;
        }
        // Backwards from the end of the element at pos, by the entries' trailing lengths.
        int end = st.At;
        TreePage.ElementAt(page, ref end);
        for (int i = pos; i >= 0 && emitted < max; i--, emitted++)
        {
            var e = TreePage.ElementBefore(page, ref end, out bool outOfLine);
            if (outOfLine) sink.OutOfLine(e);
            else sink.Element(e);
        }
        return emitted;
    }
}
