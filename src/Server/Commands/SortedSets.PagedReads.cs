using System.Buffers;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Rank ranges over a paged set (ZRANGE by rank, ZREVRANGE): the start rank's leaf is found by the tree's counts
/// and the range read leaf by leaf, so ZRANGE 0 99 of a million members reads a path and a leaf or two; a score
/// range (BYSCORE, ZRANGEBYSCORE, ZCOUNT) is two seeks to its bounds' ranks first. Lex ranges still read the whole
/// set (<see cref="PagedZSets.Materialize"/>).
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

    /// <summary>A score range's keys ([LIMIT offset count], REV from its high end) over a paged set. False when not answered here (NaN bounds).</summary>
    private static bool PagedScoreRange(ref CommandContext ctx, in ZSetRoot root, in ScoreRange range, long offset, long limit, bool reverse, bool withScores)
    {
        if (double.IsNaN(range.Min) || double.IsNaN(range.Max)) return false;
        if (!PagedScoreRanks(ref ctx, root, range, out ulong lo, out ulong hi)) return true;
        ulong count = hi - lo;
        if (offset < 0 || count == 0 || (ulong)offset >= count)
        {
            ctx.Reply.EmptyArray();
            return true;
        }
        ulong n = count - (ulong)offset;
        if (limit >= 0) n = Math.Min(n, (ulong)limit);
        if (n == 0)
        {
            ctx.Reply.EmptyArray();
            return true;
        }
        ReplyKeys(ref ctx, root, reverse ? hi - 1 - (ulong)offset : lo + (ulong)offset, n, reverse, withScores);
        return true;
    }

    /// <summary>Replies the keys of <paramref name="n"/> ranks from <paramref name="from"/> (downwards when <paramref name="reverse"/>).</summary>
    private static void ReplyKeys(ref CommandContext ctx, in ZSetRoot root, ulong from, ulong n, bool reverse, bool withScores)
    {
        var sink = t_keys ??= new KeySink();
        sink.Keys.ResetWrittenCount();
        sink.Ends.Clear();
        var pages = PagedAccess.Pages(ref ctx);
        ulong done = 0;
        if (!PagedSortedSet.Range(root, from, n, reverse, pages.Pages, pages.Needs, pages.FetchAction, sink, ref done)) return;
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
