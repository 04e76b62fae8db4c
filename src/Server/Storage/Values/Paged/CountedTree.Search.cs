namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Descents by key in an ordered tree: a page's entries have variable lengths, so a first pass notes where
/// each starts (lengths only, no comparisons) and a binary search compares about log2(n) keys where the
/// scan compared half the page. Loading 200k members into one sorted set spent 30% of its CPU in the
/// scans' comparisons of ~150 leaf and ~100 inner entries a 4 KB page (perf of ZADD, 100 members a command).
/// </summary>
public static partial class CountedTree
{
    /// <summary>Entries a page's offsets are kept for on the stack (4 KB pages hold at most ~1,360 one-byte elements).</summary>
    private const int StackEntries = 1024;

    /// <summary>
    /// The first entry of a leaf whose element is &gt;= <paramref name="key"/> (n when none): its index, its
    /// offset (the used end when n), and whether its element equals the key. False when a long entry's tie needs a
    /// chunk not in hand (named: <see cref="CompareLeaf"/>).
    /// </summary>
    private static bool LeafLowerBound(in TreeMeta meta, ReadOnlySpan<byte> page, int n, ReadOnlySpan<byte> key, PageSet pages, List<PageKey>? needs,
        out int pos, out int at, out bool found)
    {
        Span<int> starts = n < StackEntries ? stackalloc int[n + 1] : new int[n + 1];
        int offset = TreePage.HeaderSize, end = TreePage.UsedOf(page), count = 0;
        while (offset < end && count < n)
        {
            starts[count++] = offset;
            // Inline for an element under 64 bytes (a one-byte tag and trailer): the call was 10% of a load's CPU.
            byte tag = page[offset];
            if (tag < 0x80 && (tag & 1) == 0) offset += 2 + (tag >> 1);
            else TreePage.ElementAt(page, ref offset);
        }
        if (count != n || offset != end) throw new InvalidDataException($"leaf of {n} entries has {count} in its used bytes");
        starts[n] = end;
        int lo = 0, hi = n;
        found = false;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1, o = starts[mid];
            var e = TreePage.ElementAt(page, ref o, out bool outOfLine);
            int c;
            if (!outOfLine) c = e.SequenceCompareTo(key);
            else if (!CompareLeaf(meta, e, true, key, pages, needs, out c))
            {
                pos = at = 0;
                return false;
            }
            if (c < 0) lo = mid + 1;
            else
            {
                hi = mid;
                found |= c == 0; // keys are unique: an equal one is the lower bound
            }
        }
        at = starts[lo];
        pos = lo;
        return true;
    }

    /// <summary>
    /// The child of an ordered inner page a key descends to: the last entry whose separator is &lt;= the key
    /// (entry 0's separator is never compared). Its index and offset, and the elements under the entries before it.
    /// False when a separator's tie needs a page or chunk not in hand (named: <see cref="CompareSeparator"/>); the page
    /// is at <paramref name="depth"/>.
    /// </summary>
    private static bool InnerByKey(in TreeMeta meta, ReadOnlySpan<byte> page, int n, int depth, int tie, ReadOnlySpan<byte> key, PageSet pages, List<PageKey>? needs,
        out int chosen, out int at, out ulong before)
    {
        Span<int> starts = n < StackEntries ? stackalloc int[n] : new int[n];
        int offset = TreePage.HeaderSize, end = TreePage.UsedOf(page), count = 0;
        while (offset < end && count < n)
        {
            starts[count++] = offset;
            offset += TreePage.InnerFixed;
            int len = page[offset] < 0x80 ? page[offset++] : (int)BucketPage.ReadVarint(page, ref offset);
            offset += len;
        }
        if (count != n || offset != end || n == 0) throw new InvalidDataException($"inner page of {n} entries has {count} in its used bytes");
        // The first entry in [1, n) whose separator is > key; the child is the one before it.
        int lo = 1, hi = n;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            var sep = SeparatorAt(page, starts[mid]);
            int c;
            if (sep.Length <= tie) c = sep.SequenceCompareTo(key);
            else if (!CompareSeparator(meta, sep, TreePage.ChildAt(page, starts[mid]), depth + 1, tie, key, pages, needs, out c))
            {
                chosen = at = 0;
                before = 0;
                return false;
            }
            if (c > 0) hi = mid;
            else lo = mid + 1;
        }
        chosen = lo - 1;
        before = 0;
        for (int i = 0; i < chosen; i++) before += TreePage.CountAt(page, starts[i]);
        at = starts[chosen];
        return true;
    }

    private static ReadOnlySpan<byte> SeparatorAt(ReadOnlySpan<byte> page, int at)
    {
        int offset = at + TreePage.InnerFixed;
        int len = page[offset] < 0x80 ? page[offset++] : (int)BucketPage.ReadVarint(page, ref offset);
        return page.Slice(offset, len);
    }
}
