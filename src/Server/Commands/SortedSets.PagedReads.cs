using System.Buffers;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Rank ranges over a paged set (ZRANGE by rank, ZREVRANGE): the start rank's leaf is found by the tree's counts
/// and the range read leaf by leaf, so ZRANGE 0 99 of a million members reads a path and a leaf or two; a score
/// range (BYSCORE, ZRANGEBYSCORE, ZCOUNT) is two seeks to its bounds' ranks first, and so is a lex range
/// (BYLEX, ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX) over a set whose members share one score, the case Redis's
/// lex commands are defined for. A set of several scores is read whole (<see cref="PagedZSets.Materialize"/>)
/// and walked as a listpack is, from its first member at or past the low bound.
/// </summary>
internal static partial class SortedSetCommands
{
    private sealed class KeySink : ITreeSink
    {
        public readonly ArrayBufferWriter<byte> Keys = new(4096);
        public readonly List<int> Ends = new();

        public void Element(ReadOnlySpan<byte> key)
        {
            Keys.Write(key);
            Ends.Add(Keys.WrittenCount);
        }
    }

    [ThreadStatic] private static KeySink? t_keys;

    /// <summary>genericZrangebyrankCommand over a paged set: the same index rules as <see cref="RankRanks"/>, then the keys of the range.</summary>
    private static void PagedRankRange(ref CommandContext ctx, in ZSetRoot root, long start, long end, bool reverse, bool withScores)
    {
        long llen = (long)root.Count;
        if (start < 0) start = llen + start;
        if (end < 0) end = llen + end;
        if (start < 0) start = 0;
        if (start > end || start >= llen)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        if (end >= llen) end = llen - 1;
        ReplyKeys(ref ctx, root, reverse ? (ulong)(llen - 1 - start) : (ulong)start, (ulong)(end - start + 1), reverse, withScores);
    }

    /// <summary>The ranks a score range covers, [lo, hi), by two seeks; false when stopped. NaN bounds are not asked for here.</summary>
    private static bool PagedScoreRanks(ref CommandContext ctx, in ZSetRoot root, in ScoreRange range, out ulong lo, out ulong hi)
    {
        lo = hi = 0;
        if (range.IsEmpty) return true;
        var pages = PagedAccess.Pages(ref ctx);
        Span<byte> bound = stackalloc byte[TreeKeys.ScoreSize];
        TreeKeys.Lower(range.Min, range.MinExclusive, bound);
        if (!PagedSortedSet.TryRankOf(root, bound, pages.Pages, pages.Needs, pages.FetchAction, out lo, out _)) return false;
        TreeKeys.Upper(range.Max, range.MaxExclusive, bound);
        if (!PagedSortedSet.TryRankOf(root, bound, pages.Pages, pages.Needs, pages.FetchAction, out hi, out _)) return false;
        if (hi < lo) hi = lo;
        return true;
    }

    /// <summary>
    /// The ranks a lex range covers, [lo, hi), in a paged set whose members all have one score (the first's and
    /// the last's are equal): two seeks to [score][bound]. <paramref name="oneScore"/> false: several scores, not
    /// answered here. False when stopped.
    /// </summary>
    private static bool PagedLexRanks(ref CommandContext ctx, in ZSetRoot root, LexRange range, out bool oneScore, out ulong lo, out ulong hi)
    {
        lo = hi = 0;
        oneScore = root.Count == 0;
        if (oneScore) return true;
        var pages = PagedAccess.Pages(ref ctx);
        if (!KeyAtRank(pages, root, 0, out var first)) return false;
        ulong score = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(first);
        if (!KeyAtRank(pages, root, root.Count - 1, out var last)) return false;
        if (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(last) != score) return true;
        oneScore = true;
        if (range.IsEmpty) return true;
        sbyte minInf = range.Min(out var min, out bool minEx), maxInf = range.Max(out var max, out bool maxEx);
        // "(m" from: past m, the first key at m + 0x00; "[m" to: up to m, the first key past it is m + 0x00.
        if (minInf == 0 && !LexBoundRank(ref ctx, root, score, min, minEx, out lo)) return false;
        hi = root.Count;
        if (maxInf == 0 && !LexBoundRank(ref ctx, root, score, max, !maxEx, out hi)) return false;
        if (hi < lo) hi = lo;
        return true;
    }

    /// <summary>The rank of the first key at or past [score][member] (past: [score][member][0]).</summary>
    private static bool LexBoundRank(ref CommandContext ctx, in ZSetRoot root, ulong score, ReadOnlySpan<byte> member, bool past, out ulong rank)
    {
        int length = TreeKeys.ScoreSize + member.Length + (past ? 1 : 0);
        Span<byte> key = length <= 512 ? stackalloc byte[length] : new byte[length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(key, score);
        member.CopyTo(key[TreeKeys.ScoreSize..]);
        if (past) key[^1] = 0;
        var pages = PagedAccess.Pages(ref ctx);
        return PagedSortedSet.TryRankOf(root, key, pages.Pages, pages.Needs, pages.FetchAction, out rank, out _);
    }

    /// <summary>A lex range's members ([LIMIT offset count], REV from its high end) over a paged set of one score. False when not answered here.</summary>
    private static bool PagedLexRange(ref CommandContext ctx, in ZSetRoot root, LexRange range, long offset, long limit, bool reverse)
    {
        if (!PagedLexRanks(ref ctx, root, range, out bool oneScore, out ulong lo, out ulong hi)) return true;
        if (!oneScore) return false;
        ReplyWindow(ref ctx, root, lo, hi, offset, limit, reverse, withScores: false);
        return true;
    }

    /// <summary>A score range's keys ([LIMIT offset count], REV from its high end) over a paged set. False when not answered here (NaN bounds).</summary>
    private static bool PagedScoreRange(ref CommandContext ctx, in ZSetRoot root, in ScoreRange range, long offset, long limit, bool reverse, bool withScores)
    {
        if (double.IsNaN(range.Min) || double.IsNaN(range.Max)) return false;
        if (!PagedScoreRanks(ref ctx, root, range, out ulong lo, out ulong hi)) return true;
        ReplyWindow(ref ctx, root, lo, hi, offset, limit, reverse, withScores);
        return true;
    }

    /// <summary>Replies the ranks [lo, hi) after LIMIT's offset and count, from the high end when <paramref name="reverse"/>.</summary>
    private static void ReplyWindow(ref CommandContext ctx, in ZSetRoot root, ulong lo, ulong hi, long offset, long limit, bool reverse, bool withScores)
    {
        ulong count = hi - lo;
        if (offset < 0 || count == 0 || (ulong)offset >= count)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        ulong n = count - (ulong)offset;
        if (limit >= 0) n = Math.Min(n, (ulong)limit);
        if (n == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        ReplyKeys(ref ctx, root, reverse ? hi - 1 - (ulong)offset : lo + (ulong)offset, n, reverse, withScores);
    }

    /// <summary>Replies the keys of <paramref name="n"/> ranks from <paramref name="from"/> (downwards when <paramref name="reverse"/>).</summary>
    private static void ReplyKeys(ref CommandContext ctx, in ZSetRoot root, ulong from, ulong n, bool reverse, bool withScores)
    {
        var sink = t_keys ??= new KeySink();
        sink.Keys.ResetWrittenCount();
        sink.Ends.Clear();
        var pages = PagedAccess.Pages(ref ctx);
        pages.TrustTree(root.Cid, root.Seq);
        ulong done = 0;
        if (!PagedSortedSet.Range(root, from, n, reverse, pages.Pages, pages.Needs, pages.FetchAction, sink, ref done)) return;
        pages.RememberTree(root.Cid, root.Seq);
        bool pairs = withScores && ctx.Reply.Protocol >= 3;
        int count = sink.Ends.Count;
        ctx.Reply.ArrayHeader(withScores && !pairs ? count * 2 : count);
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            var key = sink.Keys.WrittenSpan[at..sink.Ends[i]];
            at = sink.Ends[i];
            var member = TreeKeys.Member(key);
            double score = TreeKeys.Score(key);
            // A tree key holds -0 as 0: the hash has the exact score.
            if (withScores && score == 0 && !PagedSortedSet.TryScore(root, member, pages.Pages, pages.Needs, pages.FetchAction, out _, out score)) return;
            ReplyEntry(ref ctx, member, score, withScores, pairs);
        }
    }
}
