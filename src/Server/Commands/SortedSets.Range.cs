using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>
/// ZRANGE and its older forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY* (zrangeGenericCommand and its
/// result handlers, zremrangeGenericCommand). A range is resolved to the ranks it covers, in reply order,
/// over the payload's rank index; then replied or stored.
/// </summary>
internal static unsafe partial class SortedSetCommands
{
    private enum RangeType : byte { Auto, Rank, Score, Lex }

    private const CommandFlags RangeFlags = CommandFlags.ReadOnly;

    [RespCommand("ZRANGE", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "1.2.0",
        Summary = "Returns members in a sorted set within a range of indexes.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")]
    public static void ZRange(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Auto, null);

    [RespCommand("ZRANGESTORE", Arity = -5, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.SortedSet, Since = "6.2.0", Summary = "Stores a range of members from sorted set in a key.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.")]
    public static void ZRangeStore(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 2, 1, RangeType.Auto, null);

    [RespCommand("ZRANGEBYSCORE", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "1.0.5",
        Summary = "Returns members in a sorted set within a range of scores.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")]
    public static void ZRangeByScore(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Score, false);

    [RespCommand("ZREVRANGEBYSCORE", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "2.2.0",
        Summary = "Returns members in a sorted set within a range of scores in reverse order of score.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")]
    public static void ZRevRangeByScore(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Score, true);

    [RespCommand("ZRANGEBYLEX", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "2.8.9",
        Summary = "Returns members in a sorted set within a lexicographical range.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")]
    public static void ZRangeByLex(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Lex, false);

    [RespCommand("ZREVRANGEBYLEX", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "2.8.9",
        Summary = "Returns members in a sorted set within a lexicographical range in reverse order.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).")]
    public static void ZRevRangeByLex(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Lex, true);

    [RespCommand("ZREVRANGE", Arity = -4, Flags = RangeFlags, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet, Since = "1.2.0",
        Summary = "Returns members in a sorted set within a range of indexes in reverse order.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.")]
    public static void ZRevRange(ref CommandContext ctx) => ZRangeGeneric(ref ctx, 1, -1, RangeType.Rank, true);

    /// <summary>
    /// zrangeGenericCommand: the source key at <paramref name="src"/>, its min and max after it, options after
    /// those; <paramref name="dst"/> the ZRANGESTORE destination (-1: reply). <paramref name="reverse"/> null: REV may say.
    /// </summary>
    private static void ZRangeGeneric(ref CommandContext ctx, int src, int dst, RangeType type, bool? reverse)
    {
        bool store = dst >= 0;
        int minIdx = src + 1, maxIdx = src + 2;
        long offset = 0, limit = -1;
        bool withScores = false, rev = reverse ?? false;
        for (int j = src + 3; j < ctx.Count; j++)
        {
            int left = ctx.Count - j - 1;
            if (!store && ctx.ArgIs(j, "WITHSCORES"u8)) withScores = true;
            else if (ctx.ArgIs(j, "LIMIT"u8) && left >= 2)
            {
                if (!ctx.TryGetLong(j + 1, out offset) || !ctx.TryGetLong(j + 2, out limit))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                j += 2;
            }
            else if (reverse is null && !rev && ctx.ArgIs(j, "REV"u8)) rev = true;
            else if (type == RangeType.Auto && ctx.ArgIs(j, "BYLEX"u8)) type = RangeType.Lex;
            else if (type == RangeType.Auto && ctx.ArgIs(j, "BYSCORE"u8)) type = RangeType.Score;
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        if (type == RangeType.Auto) type = RangeType.Rank;
        if (limit != -1 && type == RangeType.Rank)
        {
            ctx.Reply.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
            return;
        }
        if (withScores && type == RangeType.Lex)
        {
            ctx.Reply.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
            return;
        }
        if (rev && type != RangeType.Rank) (minIdx, maxIdx) = (maxIdx, minIdx);

        long start = 0, end = 0;
        ScoreRange range = default;
        LexRange lex = default;
        switch (type)
        {
            case RangeType.Rank:
                if (!ctx.TryGetLong(minIdx, out start) || !ctx.TryGetLong(maxIdx, out end))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                break;
            case RangeType.Score:
                if (!TryScoreRange(ref ctx, minIdx, maxIdx, out range)) return;
                break;
            default:
                if (!LexRange.TryParse(ctx[minIdx], ctx[maxIdx], out lex))
                {
                    ctx.Reply.Error(NotLexRange);
                    return;
                }
                break;
        }

        var st = ReadRoot(ref ctx, ctx[src], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound && store) Notify.Miss(ref ctx, ctx[src]); // lookupKeyRead (ZRANGE's read fired it)
        bool existed = false;
        if (store && Notify.On)
        {
            var e = Notify.Existing(ref ctx, ctx[dst]);
            if (e == Lookup.Pending) return;
            existed = e == Lookup.Found;
        }
        if (st == Lookup.Found && type == RangeType.Rank && !store && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedRankRange(ref ctx, root, start, end, rev, withScores);
            return;
        }
        if (st == Lookup.Found && type == RangeType.Score && !store && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out root)
            && PagedScoreRange(ref ctx, root, range, offset, limit, rev, withScores))
            return;
        if (st == Lookup.Found && type == RangeType.Lex && !store && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out root)
            && PagedLexRange(ref ctx, root, lex, offset, limit, rev))
            return;
        if (st == Lookup.Found && !PagedZSets.Materialize(ref ctx, slot)) return;
        if (st == Lookup.NotFound)
        {
            if (!store) ctx.Reply.EmptyArray();
            else if (Delete(ref ctx, ctx[dst]))
            {
                ctx.Reply.Integer(0);
                Notify.Stored(ref ctx, Config.KeyspaceEvents.ZSet, "zrangestore"u8, ctx[dst], 0, existed);
            }
            return;
        }
        var s = SortedSetScratch.Current;
        var payload = slot.Value;
        s.Index.Build(payload);
        int n;
        long hint;
        switch (type)
        {
            case RangeType.Rank: n = RankRanks(s, start, end, rev, out hint); break;
            case RangeType.Score: n = ScoreRanks(s, payload, range, offset, limit, rev); hint = -1; break;
            default: n = LexRanks(s, payload, lex, offset, limit, rev); hint = -1; break;
        }
        if (store && StoreRanks(ref ctx, ctx[dst], payload, n, hint, s)) Notify.Stored(ref ctx, Config.KeyspaceEvents.ZSet, "zrangestore"u8, ctx[dst], n, existed);
        else ReplyRanks(ref ctx, payload, n, withScores, s);
    }

    private static bool TryScoreRange(ref CommandContext ctx, int minIdx, int maxIdx, out ScoreRange range)
    {
        range = default;
        if (!ScoreRange.TryParseBound(ctx[minIdx], out double min, out bool minEx) || !ScoreRange.TryParseBound(ctx[maxIdx], out double max, out bool maxEx))
        {
            ctx.Reply.Error("ERR min or max is not a float");
            return false;
        }
        range = new ScoreRange(min, max, minEx, maxEx);
        return true;
    }

    private const string NotLexRange = "ERR min or max not valid string range item";

    /// <summary>genericZrangebyrankCommand's sanitized indexes; <paramref name="hint"/> is the length it begins the result with.</summary>
    private static int RankRanks(SortedSetScratch s, long start, long end, bool reverse, out long hint)
    {
        long llen = s.Index.Count;
        if (start < 0) start = llen + start;
        if (end < 0) end = llen + end;
        if (start < 0) start = 0;
        hint = 0;
        if (start > end || start >= llen) return 0;
        if (end >= llen) end = llen - 1;
        int n = (int)(end - start + 1);
        hint = n;
        var ranks = s.RanksFor(n);
        for (int i = 0; i < n; i++) ranks[i] = reverse ? (int)(llen - 1 - (start + i)) : (int)(start + i);
        return n;
    }

    /// <summary>genericZrangebyscoreCommand: from the first entry in range, skip <paramref name="offset"/>, take up to <paramref name="limit"/> (negative: all).</summary>
    private static int ScoreRanks(SortedSetScratch s, ReadOnlySpan<byte> payload, in ScoreRange range, long offset, long limit, bool reverse)
        => InRange(s, new ScoreBounds(s, payload, range), offset, limit, reverse);

    /// <summary>genericZrangebylexCommand: as <see cref="ScoreRanks"/> over members (meant for equal scores).</summary>
    private static int LexRanks(SortedSetScratch s, ReadOnlySpan<byte> payload, LexRange range, long offset, long limit, bool reverse)
        => InRange(s, new LexBounds(s, payload, range), offset, limit, reverse);

    /// <summary>A score or lex range over the ranks of a payload.</summary>
    private interface IRankBounds
    {
        bool IsEmpty { get; }
        bool GteMin(int rank);
        bool LteMax(int rank);
    }

    private readonly ref struct ScoreBounds(SortedSetScratch s, ReadOnlySpan<byte> payload, ScoreRange range) : IRankBounds
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        public bool IsEmpty => range.IsEmpty;
        public bool GteMin(int rank) => range.GteMin(ScoreAt(s, _payload, rank));
        public bool LteMax(int rank) => range.LteMax(ScoreAt(s, _payload, rank));
    }

    private readonly ref struct LexBounds(SortedSetScratch s, ReadOnlySpan<byte> payload, LexRange range) : IRankBounds
    {
        private readonly ReadOnlySpan<byte> _payload = payload;
        private readonly LexRange _range = range;
        public bool IsEmpty => _range.IsEmpty;
        public bool GteMin(int rank) => _range.GteMin(MemberAt(s, _payload, rank));
        public bool LteMax(int rank) => _range.LteMax(MemberAt(s, _payload, rank));
    }

    /// <summary>The ranks in <paramref name="bounds"/>, from its low end (its high end when <paramref name="reverse"/>), past <paramref name="offset"/>, up to <paramref name="limit"/>.</summary>
    private static int InRange<T>(SortedSetScratch s, T bounds, long offset, long limit, bool reverse) where T : IRankBounds, allows ref struct
    {
        int count = s.Index.Count;
        if (bounds.IsEmpty || offset < 0) return 0;
        var ranks = s.RanksFor(count);
        int n = 0;
        if (!reverse)
        {
            int i = 0;
            while (i < count && !bounds.GteMin(i)) i++;
            for (i += (int)Math.Min(offset, count); i < count && limit != 0; i++, limit--)
            {
                if (!bounds.LteMax(i)) break;
                ranks[n++] = i;
            }
        }
        else
        {
            int i = count - 1;
            while (i >= 0 && !bounds.LteMax(i)) i--;
            for (i -= (int)Math.Min(offset, count); i >= 0 && limit != 0; i--, limit--)
            {
                if (!bounds.GteMin(i)) break;
                ranks[n++] = i;
            }
        }
        return n;
    }

    private static double ScoreAt(SortedSetScratch s, ReadOnlySpan<byte> payload, int rank)
    {
        s.Index.At(payload, rank, out _, out double score);
        return score;
    }

    private static ReadOnlySpan<byte> MemberAt(SortedSetScratch s, ReadOnlySpan<byte> payload, int rank)
    {
        s.Index.At(payload, rank, out var m, out _);
        return m;
    }

    /// <summary>The entries at the first <paramref name="n"/> ranks: RESP2 flat, RESP3 [member, score] pairs with scores.</summary>
    private static void ReplyRanks(ref CommandContext ctx, ReadOnlySpan<byte> payload, int n, bool withScores, SortedSetScratch s)
    {
        bool pairs = withScores && ctx.Reply.Protocol >= 3;
        ctx.Reply.ArrayHeader(withScores && !pairs ? n * 2 : n);
        var ranks = s.Ranks;
        for (int i = 0; i < n; i++)
        {
            s.Index.At(payload, ranks[i], out var m, out double score);
            ReplyEntry(ref ctx, m, score, withScores, pairs);
        }
    }

    private static void ReplyEntry(ref CommandContext ctx, ReadOnlySpan<byte> member, double score, bool withScores, bool pairs)
    {
        if (pairs) ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk(member);
        if (withScores) ctx.Reply.Double(score);
    }

    /// <summary>
    /// zrangeResultBeginStore/FinalizeStore: a new set begun as zsetTypeCreate(hint, 0) (Redis 7.2 passes -1
    /// for BYSCORE/BYLEX, so those always start as skiplist), each entry added as zsetAdd would; an empty
    /// result deletes the destination.
    /// </summary>
    private static bool StoreRanks(ref CommandContext ctx, ReadOnlySpan<byte> dst, ReadOnlySpan<byte> payload, int n, long hint, SortedSetScratch s)
    {
        if (n == 0)
        {
            if (!Delete(ref ctx, dst)) return false;
            ctx.Reply.Integer(0);
            return true;
        }
        var limits = Limits(ref ctx);
        var b = s.Write(Db.Store(ref ctx), 0);
        b.Create(hint < 0 ? CollectionEncoding.Skiplist : limits.Create(hint, 0));
        var ranks = s.Ranks.AsSpan(0, n);
        // Ascending, so each entry appends.
        if (ranks[0] > ranks[^1]) ranks.Reverse();
        foreach (int r in ranks)
        {
            s.Index.At(payload, r, out var m, out double score);
            AddNew(b, m, score, limits, append: true);
        }
        if (!Store(ref ctx, dst, b, keepTtl: false, s)) return false;
        ctx.Reply.Integer(n);
        return true;
    }

    [RespCommand("ZCOUNT", Arity = 4, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet,
        Since = "2.0.0", Summary = "Returns the count of members in a sorted set that have scores within a range.",
        Complexity = "O(log(N)) with N being the number of elements in the sorted set.")]
    public static void ZCount(ref CommandContext ctx)
    {
        // zcountCommand
        if (!TryScoreRange(ref ctx, 2, 3, out var range)) return;
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && !double.IsNaN(range.Min) && !double.IsNaN(range.Max) && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            // Two seeks: the ranks of the range's bounds.
            if (PagedScoreRanks(ref ctx, root, range, out ulong lo, out ulong hi)) ctx.Reply.Integer((long)(hi - lo));
            return;
        }
        if (st == Lookup.Found && !PagedZSets.Materialize(ref ctx, slot)) return;
        long count = 0;
        if (st == Lookup.Found && !range.IsEmpty)
        {
            var r = new SortedSet.Reader(slot.Value);
            while (r.Next(out _, out double score))
            {
                if (!range.LteMax(score)) break;
                if (range.GteMin(score)) count++;
            }
        }
        ctx.Reply.Integer(count);
    }

    [RespCommand("ZLEXCOUNT", Arity = 4, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet,
        Since = "2.8.9", Summary = "Returns the number of members in a sorted set within a lexicographical range.",
        Complexity = "O(log(N)) with N being the number of elements in the sorted set.")]
    public static void ZLexCount(ref CommandContext ctx)
    {
        // zlexcountCommand: from the first member >= min, count while <= max (the set's order, as Redis).
        if (!LexRange.TryParse(ctx[2], ctx[3], out var range))
        {
            ctx.Reply.Error(NotLexRange);
            return;
        }
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            if (!PagedLexRanks(ref ctx, root, range, out bool oneScore, out ulong lo, out ulong hi)) return;
            if (oneScore)
            {
                ctx.Reply.Integer((long)(hi - lo));
                return;
            }
        }
        if (st == Lookup.Found && !PagedZSets.Materialize(ref ctx, slot)) return;
        long count = 0;
        if (st == Lookup.Found && !range.IsEmpty)
        {
            var r = new SortedSet.Reader(slot.Value);
            bool started = false;
            while (r.Next(out var m, out _))
            {
                if (!started)
                {
                    if (!range.GteMin(m)) continue;
                    started = true;
                }
                if (!range.LteMax(m)) break;
                count++;
            }
        }
        ctx.Reply.Integer(count);
    }

    [RespCommand("ZREMRANGEBYRANK", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet,
        Since = "2.0.0", Summary = "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")]
    public static void ZRemRangeByRank(ref CommandContext ctx) => ZRemRangeGeneric(ref ctx, RangeType.Rank);

    [RespCommand("ZREMRANGEBYSCORE", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet,
        Since = "1.2.0", Summary = "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")]
    public static void ZRemRangeByScore(ref CommandContext ctx) => ZRemRangeGeneric(ref ctx, RangeType.Score);

    [RespCommand("ZREMRANGEBYLEX", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.SortedSet,
        Since = "2.8.9", Summary = "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
        Complexity = "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.")]
    public static void ZRemRangeByLex(ref CommandContext ctx) => ZRemRangeGeneric(ref ctx, RangeType.Lex);

    /// <summary>zremrangeGenericCommand: the range parsed first, then the key; the matching run of ranks goes.</summary>
    private static void ZRemRangeGeneric(ref CommandContext ctx, RangeType type)
    {
        long start = 0, end = 0;
        ScoreRange range = default;
        LexRange lex = default;
        switch (type)
        {
            case RangeType.Rank:
                if (!ctx.TryGetLong(2, out start) || !ctx.TryGetLong(3, out end))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                break;
            case RangeType.Score:
                if (!TryScoreRange(ref ctx, 2, 3, out range)) return;
                break;
            default:
                if (!LexRange.TryParse(ctx[2], ctx[3], out lex))
                {
                    ctx.Reply.Error(NotLexRange);
                    return;
                }
                break;
        }
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (type != RangeType.Lex && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root)
            && !(type == RangeType.Score && (double.IsNaN(range.Min) || double.IsNaN(range.Max))))
        {
            PagedRemoveRange(ref ctx, root, type, start, end, range);
            return;
        }
        if (type == RangeType.Lex && Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out root))
        {
            if (!PagedLexRanks(ref ctx, root, lex, out bool oneScore, out ulong lo, out ulong hi)) return;
            if (oneScore)
            {
                PagedRemoveRanks(ref ctx, root, lo, hi - lo);
                return;
            }
        }
        if (!PagedZSets.Materialize(ref ctx, slot)) return;
        var s = SortedSetScratch.Current;
        var payload = slot.Value;
        s.Index.Build(payload);
        int n = type switch
        {
            RangeType.Rank => RankRanks(s, start, end, false, out _),
            RangeType.Score => ScoreRanks(s, payload, range, 0, -1, false),
            _ => LexRanks(s, payload, lex, 0, -1, false),
        };
        if (n > 0)
        {
            var b = s.Write(Db.Store(ref ctx), 0);
            b.Load(payload);
            b.RemoveRange(s.Ranks[0], n);
            if (!Store(ref ctx, ctx[1], b, keepTtl: true, s)) return;
            ZSetEvents.RangeRemoved(ref ctx, b.Count == 0);
        }
        ctx.Reply.Integer(n);
    }
}
