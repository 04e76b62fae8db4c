using System.Buffers;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// The sorted set commands over a paged set (<see cref="ZSetRoot"/>): each member is looked up in the hash, then
/// its tree key and hash entry change (<see cref="PagedSortedSet"/>), one element record a change; pops and rank
/// removals log one range record. A step that finds a page on disk stops the command (nothing written) and it
/// runs again. Replies come before the commit: a commit that waits discards them and the rerun writes them again.
/// </summary>
internal static unsafe partial class SortedSetCommands
{
    /// <summary>zaddGenericCommand's loop over a paged set (the arguments are checked and every score parses).</summary>
    private static void PagedAdd(ref CommandContext ctx, ZSetRoot root, AddFlags flags, bool ch, int scoreIdx, int elements)
    {
        bool incr = (flags & AddFlags.Incr) != 0, nx = (flags & AddFlags.Nx) != 0, xx = (flags & AddFlags.Xx) != 0;
        bool gt = (flags & AddFlags.Gt) != 0, lt = (flags & AddFlags.Lt) != 0;
        for (int j = 0; j < elements; j++)
            if (!PagedZSets.Fits(ref ctx, ctx[scoreIdx + 1 + j * 2].Length)) return;
        var pages = PagedAccess.Pages(ref ctx);
        pages.TrustTree(root.Cid, root.Seq);
        var fetch = pages.FetchAction;
        if (elements > 1)
        {
            // Every member's first pages in one round a level (a hint: INCR's and GT/LT's outcomes are not known yet).
            for (int round = 0; round < CountedTree.MaxHeight; round++)
            {
                for (int j = 0; j < elements; j++)
                {
                    ScoreText.TryParse(ctx[scoreIdx + j * 2], out double hint);
                    PagedSortedSet.NeedsAdd(root, ctx[scoreIdx + 1 + j * 2], hint, pages.Pages, pages.Needs);
                }
                if (pages.Needs.Count == 0) break;
                if (!pages.Fetch()) return;
            }
        }
        int added = 0, updated = 0, processed = 0;
        double score = 0;
        for (int j = 0; j < elements; j++)
        {
            ScoreText.TryParse(ctx[scoreIdx + j * 2], out score);
            var member = ctx[scoreIdx + 1 + j * 2];
            if (!PagedSortedSet.TryScore(root, member, pages.Pages, pages.Needs, fetch, out bool found, out double cur)) return;
            if (found)
            {
                if (nx) continue;
                if (incr)
                {
                    score += cur;
                    if (double.IsNaN(score))
                    {
                        ctx.Reply.Error("ERR resulting score is not a number (NaN)");
                        return;
                    }
                }
                if ((lt && score >= cur) || (gt && score <= cur)) continue;
                processed++;
                if (score == cur) continue;
                if (!PagedSortedSet.Set(ref root, member, score, true, cur, pages.Pages, pages.Needs, pages, fetch)) return;
                updated++;
            }
            else if (!xx)
            {
                if (!PagedZSets.BucketFits(ref ctx, pages, root, member, out _)) return;
                if (!PagedSortedSet.Set(ref root, member, score, false, 0, pages.Pages, pages.Needs, pages, fetch)) return;
                added++;
                processed++;
            }
            else continue;
            PagedZSets.Log(ref ctx, pages, ref root, ctx[1], ElementOp.ZAdd, 0, PagedSortedSet.AddValue(score, member));
        }
        ReplyAdd(ref ctx, incr, ch, processed, score, added, updated);
        if ((added > 0 || updated > 0) && PagedZSets.Commit(ref ctx, pages, root, ctx[1])) ZSetEvents.Added(ref ctx, false, incr, true);
    }

    /// <summary>
    /// Reads the buckets of the members ctx[2..] in one round (rounds: a bucket's out-of-line value after it). Each
    /// member's own look-up would wait on a cold bucket once a member, each wait running the command again from its
    /// first member. False when stopped.
    /// </summary>
    private static bool FetchBuckets(ref CommandContext ctx, CommandPages pages, in ZSetRoot root)
    {
        for (int round = 0; ctx.Count > 3 && root.Hash.Count > 0 && round < 4; round++)
        {
            for (int j = 2; j < ctx.Count; j++) PagedHash.NeedsLookup(root.Hash, ctx[j], pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return false;
        }
        return true;
    }

    /// <summary>zremCommand over a paged set: one ZRem record a member removed.</summary>
    private static void PagedRem(ref CommandContext ctx, ZSetRoot root)
    {
        var pages = PagedAccess.Pages(ref ctx);
        pages.TrustTree(root.Cid, root.Seq);
        var fetch = pages.FetchAction;
        // The tree keys need the scores in the buckets: those first, for every member at once.
        if (!FetchBuckets(ref ctx, pages, root)) return;
        int deleted = 0;
        for (int j = 2; j < ctx.Count && root.Count > 0; j++)
        {
            if (!PagedSortedSet.Remove(ref root, ctx[j], pages.Pages, pages.Needs, pages, fetch, out bool removed)) return;
            if (!removed) continue;
            deleted++;
            PagedZSets.Log(ref ctx, pages, ref root, ctx[1], ElementOp.ZRem, 0, ctx[j]);
        }
        ctx.Reply.Integer(deleted);
        if (deleted > 0 && PagedZSets.Commit(ref ctx, pages, root, ctx[1])) ZSetEvents.Removed(ref ctx, "zrem"u8, ctx[1], root.Count == 0);
    }

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_popped;
    [ThreadStatic] private static List<int>? t_ends;
    [ThreadStatic] private static List<double>? t_scores;

    /// <summary>
    /// ZREMRANGEBYRANK / ZREMRANGEBYSCORE on a paged set: the ranks by the tree's counts (zremrangeGenericCommand's
    /// index rules) or by two seeks to the score bounds, then one removal of that rank range (its members leave the
    /// hash too) and one range record, never the whole set read or rewritten.
    /// </summary>
    private static void PagedRemoveRange(ref CommandContext ctx, ZSetRoot root, RangeType type, long start, long end, in ScoreRange range)
    {
        ulong from, count;
        if (type == RangeType.Rank)
        {
            long llen = (long)root.Count;
            if (start < 0) start = llen + start;
            if (end < 0) end = llen + end;
            if (start < 0) start = 0;
            if (start > end || start >= llen)
            {
                ctx.Reply.Integer(0);
                return;
            }
            if (end >= llen) end = llen - 1;
            from = (ulong)start;
            count = (ulong)(end - start + 1);
        }
        else
        {
            if (!PagedScoreRanks(ref ctx, root, range, out ulong lo, out ulong hi)) return;
            from = lo;
            count = hi - lo;
        }
        PagedRemoveRanks(ref ctx, root, from, count);
    }

    /// <summary>Removes <paramref name="count"/> ranks from <paramref name="from"/> (one range record) and replies how many.</summary>
    private static void PagedRemoveRanks(ref CommandContext ctx, ZSetRoot root, ulong from, ulong count)
    {
        if (count == 0)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var pages = PagedAccess.Pages(ref ctx);
        pages.TrustTree(root.Cid, root.Seq);
        if (!PagedSortedSet.RemoveRange(ref root, from, count, pages.Pages, pages.Needs, pages, pages.FetchAction)) return;
        PagedZSets.LogRange(ref ctx, pages, ref root, ctx[1], from, count);
        if (!PagedZSets.Commit(ref ctx, pages, root, ctx[1])) return;
        ctx.Reply.Integer((long)count);
        ZSetEvents.RangeRemoved(ref ctx, root.Count == 0);
    }

    /// <summary>
    /// genericZpopCommand's removal from a paged set: <paramref name="n"/> keys from the low or high end (the
    /// reply's headers are written), replied lowest first (ZPOPMIN) or highest first (ZPOPMAX), one range record.
    /// </summary>
    private static void PagedPop(ref CommandContext ctx, ReadOnlySpan<byte> key, ZSetRoot root, int n, bool max, bool nested)
    {
        var pages = PagedAccess.Pages(ref ctx);
        pages.TrustTree(root.Cid, root.Seq);
        var popped = t_popped ??= new ArrayBufferWriter<byte>(256);
        var ends = t_ends ??= new List<int>();
        var scores = t_scores ??= new List<double>();
        popped.ResetWrittenCount();
        ends.Clear();
        scores.Clear();
        ulong from = max ? root.Count - (ulong)n : 0;
        if (!PagedSortedSet.RemoveRange(ref root, from, (ulong)n, pages.Pages, pages.Needs, pages, pages.FetchAction, popped, ends, scores)) return;
        PagedZSets.LogRange(ref ctx, pages, ref root, key, from, (ulong)n);
        for (int i = 0; i < n; i++)
        {
            int at = max ? n - 1 - i : i;
            int start = at == 0 ? 0 : ends[at - 1];
            var k = popped.WrittenSpan[start..ends[at]];
            if (nested) ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(TreeKeys.Member(k));
            ctx.Reply.Double(scores[at]);
        }
        if (PagedZSets.Commit(ref ctx, pages, root, key)) ZSetEvents.Removed(ref ctx, max ? "zpopmax"u8 : "zpopmin"u8, key, root.Count == 0);
    }
}
