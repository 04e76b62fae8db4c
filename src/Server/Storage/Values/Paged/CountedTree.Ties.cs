namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Ordered keys too long for an entry (a sorted set's members past <see cref="ZSetLongMembers.PrefixLength"/>): the leaf holds
/// <c>[first TieLength bytes of the key][12-byte reference to chunks holding the member]</c> with its tag's out-of-line
/// bit set (<see cref="ZSetLongMembers"/>), and its bytes compare as the full key's only up to <see cref="TieLength"/>.
/// A search key is always the full key in hand, so memcmp is Redis's order except where a search key ties a long
/// entry's first <see cref="TieLength"/> bytes: that tie compares the full member, read from the entry's chunks, and a
/// chunk not in hand is named as a need exactly as a missing page is (the descent stops; the caller fetches and
/// descends again).
///
/// Separators are copies of keys (a long one carries its reference), but a separator outlives the key it was copied
/// from, whose chunks die with it: a separator's reference is never read. A separator longer than
/// <see cref="TieLength"/> that a search key ties is decided by the first key under its child instead (entry 0 down to
/// the leaf, then that entry's chunks when it is long). Any threshold t with (every key under the child before) &lt; t
/// &lt;= (every key under the child) routes the stored keys as the separator does, and the first key of the child is
/// one; an insert routed by it keeps the child before below it, and a removal of that first key only moves the
/// threshold across keys that are no longer there. So a stale separator of a removed long key still descends right,
/// and (old trees held members up to the whole entry inline) a short separator past <see cref="TieLength"/> bytes too.
/// Ties cost reads only for members that share their score and first <see cref="ZSetLongMembers.PrefixLength"/> bytes.
/// </summary>
public static partial class CountedTree
{
    /// <summary>Bytes of an ordered key that compare as they are: past them a long entry holds its reference (990 at 4 KB pages).</summary>
    public static int TieLength(in TreeMeta meta) => TieLengths[meta.PageShift];

    /// <summary>By page shift (an ordered tree's element limit is a loop over varint sizes: every descent by key wants it).</summary>
    private static readonly int[] TieLengths = Enumerable.Range(0, 17)
        .Select(shift => shift < 9 ? 0 : MaxElementLength(TreeMeta.Create(1, TreeMode.Ordered, shift)) - ZSetLongMembers.ReferenceSize).ToArray();

    /// <summary>
    /// Compares a leaf entry with a full search key (&lt; 0: the entry is less). A long entry (<paramref name="outOfLine"/>)
    /// that ties the key's first bytes reads its chunks: false when one is not in hand (named; an apply throws).
    /// </summary>
    private static bool CompareLeaf(in TreeMeta meta, ReadOnlySpan<byte> entry, bool outOfLine, ReadOnlySpan<byte> key, PageSet pages, List<PageKey>? needs, out int c)
    {
        if (!outOfLine)
        {
            c = entry.SequenceCompareTo(key);
            return true;
        }
        int tie = entry.Length - ZSetLongMembers.ReferenceSize;
        // A key shorter than the prefix and equal on its length is less: the entry's member is longer still.
        c = entry[..tie].SequenceCompareTo(key[..Math.Min(tie, key.Length)]);
        if (c != 0) return true;
        var reference = entry[tie..];
        if (needs is null) ZSetLongMembers.CheckInHand(meta, reference, pages);
        else if (!ListChunks.Needs(meta, reference, pages, needs)) return false;
        c = ZSetLongMembers.CompareMember(meta, reference, pages, key[TreeKeys.ScoreSize..]);
        return true;
    }

    /// <summary>
    /// Compares separator <paramref name="sep"/> of an entry whose child is <paramref name="child"/> (at depth
    /// <paramref name="depth"/>) with a full search key. Past <paramref name="tie"/> bytes a tie is decided by the child's
    /// first key. False when a page or chunk that needs is not in hand (named; an apply throws).
    /// </summary>
    private static bool CompareSeparator(in TreeMeta meta, ReadOnlySpan<byte> sep, ulong child, int depth, int tie, ReadOnlySpan<byte> key, PageSet pages, List<PageKey>? needs, out int c)
    {
        if (sep.Length <= tie)
        {
            c = sep.SequenceCompareTo(key);
            return true;
        }
        c = sep[..tie].SequenceCompareTo(key[..Math.Min(tie, key.Length)]);
        if (c != 0) return true;
        for (int d = depth; ; d++)
        {
            var pk = PageOf(meta, child);
            var state = pages.State(pk);
            if (state != PageState.Present)
            {
                if (state == PageState.Missing) throw new InvalidDataException($"tree page {child} of collection {meta.Cid} is missing");
                if (needs is null) throw new InvalidOperationException($"tree page {child} is not in hand");
                Need(pages, needs, pk);
                return false;
            }
            var page = pages.Get(pk);
            if (TreePage.IsLeaf(page) != (d == meta.Height - 1)) throw new InvalidDataException($"tree page {child} of collection {meta.Cid} at depth {d} of {meta.Height}");
            if (d < meta.Height - 1)
            {
                child = TreePage.ChildAt(page, TreePage.HeaderSize);
                continue;
            }
            int at = TreePage.HeaderSize;
            var first = TreePage.ElementAt(page, ref at, out bool outOfLine);
            return CompareLeaf(meta, first, outOfLine, key, pages, needs, out c);
        }
    }

    /// <summary>
    /// The separator for a cut of <paramref name="img"/> before entry <paramref name="k"/>: that entry's key, except that a
    /// long leaf key gives only as much of itself as tells it from the key before, when that is within its first
    /// <see cref="TieLength"/> bytes (a value between the two, compared exactly). A set of long members at distinct scores
    /// then has separators of a few bytes, where copies of 1,002-byte entries left inner pages four children wide.
    /// </summary>
    private static ReadOnlySpan<byte> SeparatorFor(in TreeMeta meta, NodeImage img, int k)
    {
        var right = img.Key(k);
        if (!img.Leaf || !img.OutOfLine(k) || k == 0) return right;
        int tie = TieLength(meta);
        var left = img.Key(k - 1);
        // The left key's bytes past its own tie length are a reference, not its member's.
        int comparable = Math.Min(tie, img.OutOfLine(k - 1) ? left.Length - ZSetLongMembers.ReferenceSize : left.Length);
        int common = right[..tie].CommonPrefixLength(left[..comparable]);
        return common < tie ? right[..(common + 1)] : right;
    }
}
