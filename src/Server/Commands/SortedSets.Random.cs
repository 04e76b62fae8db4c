using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>ZRANDMEMBER (zrandmemberCommand, zrandmemberWithCountCommand).</summary>
internal static partial class SortedSetCommands
{
    [RespCommand("ZRANDMEMBER", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "6.2.0",
        Summary = "Returns one or more random members from a sorted set.", Complexity = "O(N) where N is the number of members returned")]
    public static void ZRandMember(ref CommandContext ctx)
    {
        bool withScores = false;
        if (ctx.Count >= 3)
        {
            if (!ctx.TryGetLong(2, out long l))
            {
                ctx.Reply.Error("ERR value is not an integer or out of range");
                return;
            }
            if (l == long.MinValue)
            {
                ctx.Reply.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
                return;
            }
            if (ctx.Count > 4 || (ctx.Count == 4 && !ctx.ArgIs(3, "WITHSCORES"u8)))
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
            if (ctx.Count == 4)
            {
                withScores = true;
                if (l < -long.MaxValue / 2 || l > long.MaxValue / 2)
                {
                    ctx.Reply.Error("ERR value is out of range");
                    return;
                }
            }
            RandWithCount(ref ctx, l, withScores);
            return;
        }
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedRandom(ref ctx, slot, root, 0, withCount: false, withScores: false);
            return;
        }
        var s = SortedSetScratch.Current;
        var payload = slot.Value;
        s.Index.Build(payload);
        var rng = s.NewRandom();
        s.Index.At(payload, rng.Next(s.Index.Count), out var m, out _);
        ctx.Reply.Bulk(m);
    }

    private static void RandWithCount(ref CommandContext ctx, long l, bool withScores)
    {
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        bool unique = l >= 0;
        long count = unique ? l : -l;
        if (count == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        if (Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedRandom(ref ctx, slot, root, l, withCount: true, withScores);
            return;
        }
        var s = SortedSetScratch.Current;
        var payload = slot.Value;
        s.Index.Build(payload);
        int size = s.Index.Count;
        var rng = s.NewRandom();
        bool pairs = withScores && ctx.Reply.Protocol >= 3;
        if (!unique || count == 1)
        {
            // CASE 1: count draws with repeats, up to RepeatedPicks' bound.
            ctx.Reply.ArrayHeader(withScores && !pairs ? count * 2 : count);
            long start = ctx.Reply.Length;
            for (long i = 0; i < count && !RepeatedPicks.Stop(ref ctx, start); i++)
            {
                s.Index.At(payload, rng.Next(size), out var m, out double score);
                ReplyEntry(ref ctx, m, score, withScores, pairs);
            }
            return;
        }
        int n = (int)Math.Min(count, size);
        ctx.Reply.ArrayHeader(withScores && !pairs ? n * 2 : n);
        if (count >= size)
        {
            // CASE 2: the whole set, from its highest entry down (zuiNext walks a sorted set from the tail).
            for (int i = size - 1; i >= 0; i--)
            {
                s.Index.At(payload, i, out var m, out double score);
                ReplyEntry(ref ctx, m, score, withScores, pairs);
            }
            return;
        }
        // Distinct members, in the set's order (as Redis's listpack sampling).
        var picks = s.RanksFor(n).AsSpan(0, n);
        rng.Sample(size, n, picks);
        foreach (int p in picks)
        {
            s.Index.At(payload, p, out var m, out double score);
            ReplyEntry(ref ctx, m, score, withScores, pairs);
        }
    }
}
