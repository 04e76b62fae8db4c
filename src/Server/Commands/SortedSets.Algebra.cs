using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (zunionInterDiffGenericCommand). Sources are
/// sorted sets or sets (a set member scores 1); a missing key is empty. The result is collected, sorted by
/// score then member, and replied or stored (skiplist, or listpack when it fits: zsetConvertToListpackIfNeeded).
/// </summary>
internal static unsafe partial class SortedSetCommands
{
    private enum SetOp : byte { Union, Inter, Diff }
    private enum Aggregate : byte { Sum, Min, Max }

    /// <summary>One source: its payload (sorted set or inline set), weight and size.</summary>
    private sealed class Source
    {
        public int Arg;
        public bool Found, IsSet;
        public double Weight = 1;
        public int Count;
        // Members -> scores, built for sources looked up often.
        public Dictionary<byte[], double>? Map;
        // A set past the thresholds: its buckets are walked once, its members kept here.
        public bool Paged;
        public PagedMeta Meta;
        public List<(byte[], double)>? PagedMembers;
    }

    private const CommandFlags AlgebraRead = CommandFlags.ReadOnly | CommandFlags.MovableKeys;
    private const CommandFlags AlgebraStore = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.MovableKeys;

    [RespCommand("ZUNION", Arity = -3, Flags = AlgebraRead, NumKeysIndex = 1, Group = CommandGroup.SortedSet, Since = "6.2.0",
        Summary = "Returns the union of multiple sorted sets.",
        Complexity = "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")]
    public static void ZUnion(ref CommandContext ctx) => Algebra(ref ctx, -1, 1, SetOp.Union, false);

    [RespCommand("ZUNIONSTORE", Arity = -4, Flags = AlgebraStore, FirstKey = 1, LastKey = 1, Step = 1, NumKeysIndex = 2, Group = CommandGroup.SortedSet, Since = "2.0.0",
        Summary = "Stores the union of multiple sorted sets in a key.",
        Complexity = "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.")]
    public static void ZUnionStore(ref CommandContext ctx) => Algebra(ref ctx, 1, 2, SetOp.Union, false);

    [RespCommand("ZINTER", Arity = -3, Flags = AlgebraRead, NumKeysIndex = 1, Group = CommandGroup.SortedSet, Since = "6.2.0",
        Summary = "Returns the intersect of multiple sorted sets.",
        Complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")]
    public static void ZInter(ref CommandContext ctx) => Algebra(ref ctx, -1, 1, SetOp.Inter, false);

    [RespCommand("ZINTERSTORE", Arity = -4, Flags = AlgebraStore, FirstKey = 1, LastKey = 1, Step = 1, NumKeysIndex = 2, Group = CommandGroup.SortedSet, Since = "2.0.0",
        Summary = "Stores the intersect of multiple sorted sets in a key.",
        Complexity = "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.")]
    public static void ZInterStore(ref CommandContext ctx) => Algebra(ref ctx, 1, 2, SetOp.Inter, false);

    [RespCommand("ZINTERCARD", Arity = -3, Flags = AlgebraRead, NumKeysIndex = 1, Group = CommandGroup.SortedSet, Since = "7.0.0",
        Summary = "Returns the number of members of the intersect of multiple sorted sets.",
        Complexity = "O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.")]
    public static void ZInterCard(ref CommandContext ctx) => Algebra(ref ctx, -1, 1, SetOp.Inter, true);

    [RespCommand("ZDIFF", Arity = -3, Flags = AlgebraRead, NumKeysIndex = 1, Group = CommandGroup.SortedSet, Since = "6.2.0",
        Summary = "Returns the difference between multiple sorted sets.",
        Complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")]
    public static void ZDiff(ref CommandContext ctx) => Algebra(ref ctx, -1, 1, SetOp.Diff, false);

    [RespCommand("ZDIFFSTORE", Arity = -4, Flags = AlgebraStore, FirstKey = 1, LastKey = 1, Step = 1, NumKeysIndex = 2, Group = CommandGroup.SortedSet, Since = "6.2.0",
        Summary = "Stores the difference of multiple sorted sets in a key.",
        Complexity = "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.")]
    public static void ZDiffStore(ref CommandContext ctx) => Algebra(ref ctx, 1, 2, SetOp.Diff, false);

    private static void Algebra(ref CommandContext ctx, int dst, int numkeysIdx, SetOp op, bool cardOnly)
    {
        if (!ctx.TryGetLong(numkeysIdx, out long setnum))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (setnum < 1)
        {
            ctx.Reply.Error($"ERR at least 1 input key is needed for '{ctx.Spec.Name.ToLowerInvariant()}' command");
            return;
        }
        if (setnum > ctx.Count - (numkeysIdx + 1))
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        int n = (int)setnum, firstKey = numkeysIdx + 1;
        // Every source read before any is looked at (disk reads overlap), then the types in order.
        var store = Db.Store(ref ctx);
        var s = SortedSetScratch.Current;
        var slots = s.SlotsFor(n);
        for (int i = 0; i < n; i++) store.Read(ctx.Client.Database, ctx[firstKey + i], out slots[i]);
        if (store.AttemptPending) return;
        var src = new Source[n];
        for (int i = 0; i < n; i++)
        {
            var slot = slots[i];
            src[i] = new Source { Arg = firstKey + i, Found = slot.Found };
            if (!slot.Found)
            {
                Notify.Miss(ref ctx, ctx[firstKey + i]); // lookupKeyRead
                continue;
            }
            if (slot.Type != KeyType.ZSet && slot.Type != KeyType.Set)
            {
                Db.WrongType(ref ctx);
                return;
            }
            src[i].IsSet = slot.Type == KeyType.Set;
            // A paged sorted set is read whole (the algebra collects every source's members in memory anyway).
            if (!src[i].IsSet && !PagedZSets.Materialize(ref ctx, slot)) return;
            if (src[i].IsSet && PagedRoot.TryRead(slot.Value, out var meta))
            {
                src[i].Paged = true;
                src[i].Meta = meta;
                src[i].Count = (int)Math.Min(meta.Count, int.MaxValue);
            }
            else src[i].Count = src[i].IsSet ? Set.Count(slot.Value) : SortedSet.Count(slot.Value);
        }
        if (!TryAlgebraOptions(ref ctx, firstKey + n, src, op, dst >= 0, cardOnly, out var aggregate, out bool withScores, out long limit)) return;
        if (!CollectPaged(ref ctx, src)) return;

        // Sources in size order (a stable sort: qsort's order among equal sizes is unspecified).
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (op != SetOp.Diff) Array.Sort(order, (a, b) => src[a].Count != src[b].Count ? src[a].Count.CompareTo(src[b].Count) : a.CompareTo(b));
        var result = new List<(byte[] Member, double Score)>();
        long cardinality = 0;
        switch (op)
        {
            case SetOp.Inter:
                cardinality = Inter(ref ctx, slots, src, order, aggregate, cardOnly, limit, result);
                break;
            case SetOp.Union:
                Union(slots, src, order, aggregate, result);
                break;
            default:
                Diff(ref ctx, slots, src, result);
                break;
        }
        if (cardOnly)
        {
            ctx.Reply.Integer(cardinality);
            return;
        }
        result.Sort((x, y) => SortedSet.Compare(x.Score, x.Member, y.Score, y.Member));
        if (dst < 0)
        {
            bool pairs = withScores && ctx.Reply.Protocol >= 3;
            ctx.Reply.ArrayHeader(withScores && !pairs ? result.Count * 2 : result.Count);
            foreach (var (m, sc) in result) ReplyEntry(ref ctx, m, sc, withScores, pairs);
            return;
        }
        StoreResult(ref ctx, ctx[dst], result, s);
    }

    /// <summary>WEIGHTS, AGGREGATE, WITHSCORES (reply forms), LIMIT (ZINTERCARD), each where Redis accepts it.</summary>
    private static bool TryAlgebraOptions(ref CommandContext ctx, int j, Source[] src, SetOp op, bool store, bool cardOnly,
        out Aggregate aggregate, out bool withScores, out long limit)
    {
        aggregate = Aggregate.Sum;
        withScores = false;
        limit = 0;
        int n = src.Length;
        while (j < ctx.Count)
        {
            int remaining = ctx.Count - j;
            if (op != SetOp.Diff && !cardOnly && remaining >= n + 1 && ctx.ArgIs(j, "WEIGHTS"u8))
            {
                j++;
                for (int i = 0; i < n; i++, j++)
                {
                    if (!ScoreText.TryParse(ctx[j], out src[i].Weight))
                    {
                        ctx.Reply.Error("ERR weight value is not a float");
                        return false;
                    }
                }
            }
            else if (op != SetOp.Diff && !cardOnly && remaining >= 2 && ctx.ArgIs(j, "AGGREGATE"u8))
            {
                j++;
                if (ctx.ArgIs(j, "SUM"u8)) aggregate = Aggregate.Sum;
                else if (ctx.ArgIs(j, "MIN"u8)) aggregate = Aggregate.Min;
                else if (ctx.ArgIs(j, "MAX"u8)) aggregate = Aggregate.Max;
                else
                {
                    ctx.Reply.Error("ERR syntax error");
                    return false;
                }
                j++;
            }
            else if (!store && !cardOnly && ctx.ArgIs(j, "WITHSCORES"u8))
            {
                j++;
                withScores = true;
            }
            else if (cardOnly && remaining >= 2 && ctx.ArgIs(j, "LIMIT"u8))
            {
                j++;
                if (!ctx.TryGetLong(j, out limit) || limit < 0)
                {
                    ctx.Reply.Error("ERR LIMIT can't be negative");
                    return false;
                }
                j++;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return false;
            }
        }
        return true;
    }

    /// <summary>zunionInterAggregate: a SUM that is NaN (inf + -inf) is 0.</summary>
    private static void Combine(ref double target, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                target += value;
                if (double.IsNaN(target)) target = 0;
                break;
            case Aggregate.Min: target = value < target ? value : target; break;
            default: target = value > target ? value : target; break;
        }
    }

    /// <summary>Weighted score, NaN (0 * inf) read as 0.</summary>
    private static double Weighted(double weight, double score)
    {
        double v = weight * score;
        return double.IsNaN(v) ? 0 : v;
    }

    /// <summary>
    /// The members of every paged set source, walked bucket by bucket (<see cref="BucketWalk"/>: a round that
    /// waits on disk stops the attempt and the rerun resumes there). What the finished rounds found is kept
    /// across reruns in the walk's held buffer as [source: u16][member entry]. False when the command waits.
    /// </summary>
    private static bool CollectPaged(ref CommandContext ctx, Source[] src)
    {
        bool any = false;
        foreach (var x in src) any |= x.Paged;
        if (!any) return true;
        var store = Db.Store(ref ctx);
        var walk = BucketWalk.Of(store);
        var held = walk.HeldSet(out bool fresh);
        if (fresh) held.Reset(0);
        var pages = PagedAccess.Pages(ref ctx);
        for (int i = 0; i < src.Length; i++)
        {
            if (!src[i].Paged) continue;
            var meta = src[i].Meta;
            walk.Begin(store, pages, meta);
            while (walk.Next(out ulong b, out int nb))
            {
                for (int k = 0; k < nb; k++)
                {
                    var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, b + (ulong)k)), false);
                    while (r.Next(out var e))
                    {
                        var span = held.Insert(held.Length, 2 + Listpack.EntrySize(e.Field.Length));
                        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)i);
                        Listpack.WriteEntry(span[2..], e.Field);
                    }
                }
                walk.Done();
            }
            if (walk.Pending) return false;
        }
        foreach (var x in src)
            if (x.Paged) x.PagedMembers = new List<(byte[], double)>(x.Count);
        var all = held.Payload;
        int at = 0;
        while (at < all.Length)
        {
            int i = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(all[at..]);
            var reader = new Listpack.Reader(all, at + 2);
            reader.Next(out var m);
            src[i].PagedMembers!.Add((m.ToArray(), 1.0));
            at = reader.Offset;
        }
        return true;
    }

    /// <summary>Every member of a source with its score (1 for a set member), in the source's order.</summary>
    private static List<(byte[] Member, double Score)> Members(OpSlot slot, Source src)
    {
        if (src.PagedMembers is { } paged) return paged;
        var list = new List<(byte[], double)>(src.Count);
        if (!src.Found) return list;
        if (src.IsSet)
        {
            Span<byte> scratch = stackalloc byte[24];
            var e = new Set.Enumerator(slot.Value, scratch);
            while (e.Next(out var m)) list.Add((m.ToArray(), 1.0));
            return list;
        }
        var r = new SortedSet.Reader(slot.Value);
        while (r.Next(out var m, out double score)) list.Add((m.ToArray(), score));
        return list;
    }

    /// <summary>zuiFind: the member's score in a source.</summary>
    private static bool Find(OpSlot slot, Source src, byte[] member, out double score)
    {
        score = 0;
        if (!src.Found) return false;
        if (src.Map is null)
        {
            src.Map = new Dictionary<byte[], double>(src.Count, ByteArrayComparer.Instance);
            foreach (var (m, sc) in Members(slot, src)) src.Map[m] = sc;
        }
        return src.Map.TryGetValue(member, out score);
    }

    private static bool SameKey(ref CommandContext ctx, Source a, Source b) => a.Found && b.Found && ctx[a.Arg].SequenceEqual(ctx[b.Arg]);

    private static long Inter(ref CommandContext ctx, OpSlot[] slots, Source[] src, int[] order, Aggregate aggregate, bool cardOnly, long limit,
        List<(byte[] Member, double Score)> result)
    {
        var first = src[order[0]];
        if (first.Count == 0) return 0;
        long cardinality = 0;
        foreach (var (m, sc) in Members(slots[order[0]], first))
        {
            double score = Weighted(first.Weight, sc);
            int j = 1;
            for (; j < order.Length; j++)
            {
                var other = src[order[j]];
                double value;
                if (SameKey(ref ctx, other, first)) value = sc * other.Weight;
                else if (Find(slots[order[j]], other, m, out value)) value *= other.Weight;
                else break;
                Combine(ref score, value, aggregate);
            }
            if (j < order.Length) continue;
            if (cardOnly)
            {
                cardinality++;
                if (limit > 0 && cardinality >= limit) break;
            }
            else result.Add((m, score));
        }
        return cardinality;
    }

    private static void Union(OpSlot[] slots, Source[] src, int[] order, Aggregate aggregate, List<(byte[] Member, double Score)> result)
    {
        var at = new Dictionary<byte[], int>(ByteArrayComparer.Instance);
        foreach (int i in order)
        {
            if (src[i].Count == 0) continue;
            foreach (var (m, sc) in Members(slots[i], src[i]))
            {
                double score = Weighted(src[i].Weight, sc);
                if (at.TryGetValue(m, out int k))
                {
                    double cur = result[k].Score;
                    Combine(ref cur, score, aggregate);
                    result[k] = (result[k].Member, cur);
                }
                else
                {
                    at[m] = result.Count;
                    result.Add((m, score));
                }
            }
        }
    }

    /// <summary>zdiff: the first source's members found in no other (a source repeating the first empties it).</summary>
    private static void Diff(ref CommandContext ctx, OpSlot[] slots, Source[] src, List<(byte[] Member, double Score)> result)
    {
        var first = src[0];
        if (first.Count == 0) return;
        for (int j = 1; j < src.Length; j++)
        {
            if (SameKey(ref ctx, src[j], first)) return;
        }
        foreach (var (m, sc) in Members(slots[0], first))
        {
            bool exists = false;
            for (int j = 1; j < src.Length && !exists; j++) exists = Find(slots[j], src[j], m, out _);
            if (!exists) result.Add((m, sc));
        }
    }

    /// <summary>A *STORE result: created as a skiplist, a listpack when it fits; an empty one deletes the key.</summary>
    private static void StoreResult(ref CommandContext ctx, ReadOnlySpan<byte> dst, List<(byte[] Member, double Score)> result, SortedSetScratch s)
    {
        bool existed = false;
        if (Notify.On)
        {
            var e = Notify.Existing(ref ctx, dst);
            if (e == Lookup.Pending) return;
            existed = e == Lookup.Found;
        }
        if (result.Count == 0)
        {
            if (!Delete(ref ctx, dst)) return;
            ctx.Reply.Integer(0);
            Stored(ref ctx, dst, 0, existed);
            return;
        }
        var limits = Limits(ref ctx);
        int maxLen = 0;
        foreach (var (m, _) in result) maxLen = Math.Max(maxLen, m.Length);
        var b = s.Write(Db.Store(ref ctx), 0);
        b.Create(result.Count <= limits.ListpackEntries && maxLen <= limits.ListpackValue ? CollectionEncoding.Listpack : CollectionEncoding.Skiplist);
        foreach (var (m, sc) in result) b.Append(m, sc);
        if (!Store(ref ctx, dst, b, keepTtl: false, s)) return;
        ctx.Reply.Integer(result.Count);
        Stored(ref ctx, dst, result.Count, existed);
    }

    /// <summary>zunionInterDiffGenericCommand's events: zunionstore, zinterstore, zdiffstore (the command's name), or del.</summary>
    private static void Stored(ref CommandContext ctx, ReadOnlySpan<byte> dst, long count, bool existed)
    {
        if (Notify.On) Notify.Stored(ref ctx, Config.KeyspaceEvents.ZSet, System.Text.Encoding.ASCII.GetBytes(ctx.Spec.Name), dst, count, existed);
    }
}

/// <summary>Byte-array keys by content (the algebra's member maps).</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] obj)
    {
        var h = new HashCode();
        h.AddBytes(obj);
        return h.ToHashCode();
    }
}
