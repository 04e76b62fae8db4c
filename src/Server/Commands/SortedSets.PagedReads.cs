using System.Buffers;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Rank ranges over a paged set (ZRANGE by rank, ZREVRANGE): the start rank's leaf is found by the tree's counts
/// and the range read leaf by leaf, so ZRANGE 0 99 of a million members reads a path and a leaf or two. The other
/// range forms still read the whole set (<see cref="PagedZSets.Materialize"/>).
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
        long n = end - start + 1;
        var sink = t_keys ??= new KeySink();
        sink.Keys.ResetWrittenCount();
        sink.Ends.Clear();
        var pages = PagedAccess.Pages(ref ctx);
        ulong done = 0;
        ulong from = reverse ? (ulong)(llen - 1 - start) : (ulong)start;
        if (!PagedSortedSet.Range(root, from, (ulong)n, reverse, pages.Pages, pages.Needs, pages.FetchAction, sink, ref done)) return;
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
