using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// ZRANDMEMBER over a paged set: a pick is a rank, found by a descent on the tree's counts (O(log n) a member),
/// where the set was read whole into memory for every call. The ranks come from one seed kept across the
/// command's reruns (<see cref="HashSeeds"/>), so a rerun after a disk read draws the same ones.
/// </summary>
internal static partial class SortedSetCommands
{
    /// <summary>zrandmemberCommand (no count) and zrandmemberWithCountCommand's cases over a paged set.</summary>
    private static void PagedRandom(ref CommandContext ctx, OpSlot read, in ZSetRoot root, long l, bool withCount, bool withScores)
    {
        ulong seed = HashSeeds.For(read);
        if (!PagedRandom(ref ctx, seed, root, l, withCount, withScores)) HashSeeds.Keep(read, seed);
    }

    private static bool PagedRandom(ref CommandContext ctx, ulong seed, in ZSetRoot root, long l, bool withCount, bool withScores)
    {
        ulong size = root.Count;
        var r = ctx.Reply;
        bool pairs = withScores && r.Protocol >= 3;
        if (!withCount)
        {
            if (!KeyAtRank(PagedAccess.Pages(ref ctx), root, Draw(seed, 0, size), out var key)) return false;
            r.Bulk(TreeKeys.Member(key));
            return true;
        }
        bool unique = l >= 0;
        ulong count = unique ? (ulong)l : (ulong)(-l);
        if (!unique || count == 1)
        {
            // CASE 1: count draws with repeats, up to RepeatedPicks' bound.
            r.ArrayHeader(withScores && !pairs ? (long)count * 2 : (long)count);
            long start = r.Length;
            for (ulong i = 0; i < count && !RepeatedPicks.Stop(ref ctx, start); i++)
                if (!ReplyRank(ref ctx, root, Draw(seed, i, size), withScores, pairs)) return false;
            return true;
        }
        if (count >= size)
        {
            // CASE 2: the whole set, from its highest member down (zuiNext walks a sorted set from the tail).
            ReplyKeys(ref ctx, root, size - 1, size, reverse: true, withScores);
            return true;
        }
        // Distinct members: count ranks by Floyd's sampling (count draws, however near the size), replied in the set's order.
        var picked = new HashSet<ulong>();
        ulong i2 = 0;
        for (ulong j = size - count; j < size; j++)
        {
            ulong t = Draw(seed, i2++, j + 1);
            picked.Add(picked.Contains(t) ? j : t);
        }
        var ranks = new ulong[count];
        picked.CopyTo(ranks);
        Array.Sort(ranks);
        r.ArrayHeader(withScores && !pairs ? (long)count * 2 : (long)count);
        foreach (ulong rank in ranks)
            if (!ReplyRank(ref ctx, root, rank, withScores, pairs)) return false;
        return true;
    }

    /// <summary>Draw <paramref name="i"/> of the command's stream: uniform in [0, bound) by Lemire's multiply.</summary>
    private static ulong Draw(ulong seed, ulong i, ulong bound)
        => (ulong)((UInt128)PagedHash.Mix(seed + (i + 1) * 0x9E3779B97F4A7C15UL) * bound >> 64);

    /// <summary>The tree key at <paramref name="rank"/> (in the key sink until its next use). False when stopped.</summary>
    private static bool KeyAtRank(CommandPages pages, ZSetRoot root, ulong rank, out ReadOnlySpan<byte> key)
    {
        key = default;
        var sink = t_keys ??= new KeySink();
        sink.Keys.ResetWrittenCount();
        sink.Ends.Clear();
        ulong done = 0;
        if (!PagedSortedSet.Range(root, rank, 1, false, pages.Pages, pages.Needs, pages.FetchAction, sink, ref done)) return false;
        if (sink.Ends.Count != 1) throw new InvalidDataException($"no member at rank {rank} of collection {root.Cid}'s {root.Count}");
        key = sink.Keys.WrittenSpan;
        return true;
    }

    /// <summary>Replies the member at <paramref name="rank"/> (with its exact score: a tree key holds -0 as 0). False when stopped.</summary>
    private static bool ReplyRank(ref CommandContext ctx, in ZSetRoot root, ulong rank, bool withScores, bool pairs)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (!KeyAtRank(pages, root, rank, out var key)) return false;
        var member = TreeKeys.Member(key);
        double score = TreeKeys.Score(key);
        if (withScores && score == 0)
        {
            if (!PagedSortedSet.TryScore(root, member, pages.Pages, pages.Needs, pages.FetchAction, out _, out score)) return false;
        }
        ReplyEntry(ref ctx, member, score, withScores, pairs);
        return true;
    }
}
