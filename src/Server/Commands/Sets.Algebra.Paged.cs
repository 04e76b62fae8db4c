using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// SINTER, SUNION, SDIFF (and their STORE and CARD forms) when an operand is paged. A paged operand is
/// read a round at a time (64 buckets a fetch); a member is looked up in a paged operand through its
/// bucket, and a round names every bucket its members need before it fetches them (in rounds of 64 too),
/// so a small set against a huge one reads a bucket per member, never the huge set. The result is built
/// in a <see cref="SetBuffer"/> with Redis's encoding rules, as the inline path builds it (a result past
/// the thresholds is stored paged, see <see cref="Finish"/>). Operands' bucket pages stay in the command's
/// page set while it may still look members up in them; an operand that is only enumerated gives its
/// pages back after each round.
/// </summary>
internal static unsafe partial class SetCommands
{
    /// <summary>Which sources are paged (their metas in <see cref="SetScratch.Metas"/>); false when none is.</summary>
    private static bool ReadMetas(OpSlot[] slots, int n, SetScratch s)
    {
        var metas = s.MetasFor(n);
        bool any = false;
        for (int i = 0; i < n; i++)
        {
            s.Paged[i] = slots[i].Found && PagedRoot.TryRead(slots[i].Value, out metas[i]);
            any |= s.Paged[i];
        }
        return any;
    }

    /// <summary>Members of source <paramref name="i"/> (found, paged or not).</summary>
    private static long CountOf(OpSlot[] slots, SetScratch s, int i) => s.Paged[i] ? (long)s.Metas[i].Count : Set.Count(slots[i].Value);

    /// <summary>Membership in source <paramref name="i"/>; a paged source's bucket for the member is in hand.</summary>
    private static bool InOperand(CommandPages pages, OpSlot[] slots, SetScratch s, int i, ReadOnlySpan<byte> member)
        => s.Paged[i] ? PagedSets.Has(pages, s.Metas[i], member) : Set.IsMember(slots[i].Value, member);

    /// <summary>
    /// Names the buckets of the paged sources in <paramref name="lookIn"/> that the members of buckets
    /// <paramref name="from"/>.. of paged source <paramref name="src"/> (or of inline source <paramref name="src"/>, whole) need.
    /// </summary>
    private static void WantLookups(CommandPages pages, OpSlot[] slots, SetScratch s, int src, ulong from, int n, ReadOnlySpan<int> lookIn)
    {
        bool anyPaged = false;
        foreach (int j in lookIn) anyPaged |= s.Paged[j];
        if (!anyPaged) return;
        if (s.Paged[src])
        {
            for (int i = 0; i < n; i++)
            {
                var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(s.Metas[src], from + (ulong)i)), false);
                while (r.Next(out var e))
                    foreach (int j in lookIn)
                        if (s.Paged[j]) PagedSets.WantMember(pages, s.Metas[j], e.Field);
            }
            return;
        }
        WantLookups(pages, s, slots[src].Value, lookIn);
    }

    /// <summary>Names the buckets of the paged sources in <paramref name="lookIn"/> that the members of an inline payload need.</summary>
    private static void WantLookups(CommandPages pages, SetScratch s, ReadOnlySpan<byte> payload, ReadOnlySpan<int> lookIn)
    {
        Span<byte> scratch = stackalloc byte[24];
        var en = new Set.Enumerator(payload, scratch);
        while (en.Next(out var m))
            foreach (int j in lookIn)
                if (s.Paged[j]) PagedSets.WantMember(pages, s.Metas[j], m);
    }

    /// <summary>sinterGenericCommand with a paged source: the smallest set's members, round by round, looked up in the others.</summary>
    private static void SInterPaged(ref CommandContext ctx, int first, int n, int dstIndex, bool cardinalityOnly, long limit, OpSlot[] slots, SetScratch s)
    {
        var store = Db.Store(ref ctx);
        var limits = Limits(ref ctx);
        var order = s.Order;
        for (int i = 0; i < n; i++) order[i] = i;
        // Smallest first (a stable sort, as glibc's merge sort behind Redis's qsort).
        for (int i = 1; i < n; i++)
        {
            int v = order[i], j = i - 1;
            long c = CountOf(slots, s, v);
            while (j >= 0 && CountOf(slots, s, order[j]) > c) { order[j + 1] = order[j]; j--; }
            order[j + 1] = v;
        }
        int a = order[0];
        var firstKey = ctx[first + a];
        // The others, in order, without the smallest's own key named again.
        var lookIn = s.LookInFor(n);
        int others = 0;
        for (int j = 1; j < n; j++)
            if (!ctx[first + order[j]].SequenceEqual(firstKey)) lookIn[others++] = order[j];
        var look = lookIn.AsSpan(0, others);

        // A paged smallest set is walked round by round, the result (and the count) kept across the
        // command's reruns (BucketWalk): a rerun resumes at the round that waited on disk.
        var walk = BucketWalk.Of(store);
        SetBuffer result;
        bool fresh = true;
        if (s.Paged[a]) result = walk.HeldSet(out fresh);
        else result = dstIndex >= 0 ? s.Write(store, 0) : s.Result;
        if (fresh)
            Set.CreateEmpty(result, dstIndex >= 0 && !s.Paged[a] && Set.EncodingOf(slots[a].Value) == CollectionEncoding.IntSet ? CollectionEncoding.IntSet : CollectionEncoding.Listpack);
        var pages = PagedAccess.Pages(ref ctx);
        long cardinality = 0;
        bool done = false;
        if (s.Paged[a])
        {
            var meta = s.Metas[a];
            cardinality = (long)walk.A;
            // The other sets' buckets stay in the page set for the rounds after (a round's members meet most of them).
            walk.Begin(store, pages, meta, clearPages: false);
            while (walk.Next(out ulong b, out int nb))
            {
                WantLookups(pages, slots, s, a, b, nb, look);
                if (!PagedSets.FetchWanted(pages)) return;
                for (int i = 0; i < nb && !done; i++)
                {
                    var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, b + (ulong)i)), false);
                    while (!done && r.Next(out var e))
                        done = InterOne(pages, slots, s, look, e.Field, dstIndex, cardinalityOnly, limit, result, limits, ref cardinality);
                }
                walk.A = (ulong)cardinality;
                walk.Done();
                if (done) walk.Stop();
            }
            if (walk.Pending) return;
        }
        else
        {
            WantLookups(pages, slots, s, a, 0, 0, look);
            if (!PagedSets.FetchWanted(pages)) return;
            Span<byte> scratch = stackalloc byte[24];
            var en = new Set.Enumerator(slots[a].Value, scratch);
            while (!done && en.Next(out var m))
                done = InterOne(pages, slots, s, look, m, dstIndex, cardinalityOnly, limit, result, limits, ref cardinality);
        }
        if (cardinalityOnly)
        {
            ctx.Reply.Integer(cardinality);
            return;
        }
        if (dstIndex >= 0) Set.MaybeConvertToIntset(result, limits);
        Finish(ref ctx, dstIndex, result, s);
    }

    /// <summary>One member of the smallest set: kept when every other source has it; true when SINTERCARD's LIMIT is reached.</summary>
    private static bool InterOne(CommandPages pages, OpSlot[] slots, SetScratch s, ReadOnlySpan<int> look, ReadOnlySpan<byte> m,
        int dstIndex, bool cardinalityOnly, long limit, SetBuffer result, in SetLimits limits, ref long cardinality)
    {
        foreach (int j in look)
            if (!InOperand(pages, slots, s, j, m)) return false;
        cardinality++;
        if (cardinalityOnly) return limit > 0 && cardinality >= limit;
        if (dstIndex >= 0) Set.Add(result, m, limits);
        else result.AppendEntry(m);
        return false;
    }

    /// <summary>sunionDiffGenericCommand with a paged source; the same choice of diff algorithm as the inline path.</summary>
    private static void SUnionDiffPaged(ref CommandContext ctx, int first, int n, int dstIndex, bool diff, OpSlot[] slots, SetScratch s)
    {
        var store = Db.Store(ref ctx);
        var limits = Limits(ref ctx);
        bool sameset = false;
        var firstKey = ctx[first];
        for (int i = 1; i < n; i++)
            if (slots[i].Found && slots[0].Found && ctx[first + i].SequenceEqual(firstKey)) sameset = true;
        int algo = 1;
        if (diff && slots[0].Found && !sameset)
        {
            long one = 0, two = 0;
            for (int i = 0; i < n; i++)
            {
                if (!slots[i].Found) continue;
                one += CountOf(slots, s, 0);
                two += CountOf(slots, s, i);
            }
            one /= 2;
            algo = one <= two ? 1 : 2;
        }
        // A paged source is not an intset: the reply's result is a hashtable, a STORE's starts as an intset.
        // Kept across the command's reruns, which resume the walk that waited on disk (adding a member twice is a no-op).
        var result = BucketWalk.Of(store).HeldSet(out bool fresh);
        if (fresh) Set.CreateEmpty(result, dstIndex >= 0 ? CollectionEncoding.IntSet : CollectionEncoding.Hashtable);
        var pages = PagedAccess.Pages(ref ctx);
        if (!diff)
        {
            for (int i = 0; i < n; i++)
                if (slots[i].Found && !Enumerate(store, pages, slots, s, i, result, limits)) return;
        }
        else if (sameset || !slots[0].Found)
        {
            // A set minus itself, or nothing minus anything: empty.
        }
        else if (algo == 1)
        {
            var lookIn = s.LookInFor(n);
            int others = 0;
            for (int j = 1; j < n; j++)
                if (slots[j].Found) lookIn[others++] = j;
            var look = lookIn.AsSpan(0, others);
            if (s.Paged[0])
            {
                var meta = s.Metas[0];
                var walk = BucketWalk.Of(store).Begin(store, pages, meta, clearPages: false);
                while (walk.Next(out ulong b, out int nb))
                {
                    WantLookups(pages, slots, s, 0, b, nb, look);
                    if (!PagedSets.FetchWanted(pages)) return;
                    for (int i = 0; i < nb; i++)
                    {
                        var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, b + (ulong)i)), false);
                        while (r.Next(out var e))
                            if (!InAny(pages, slots, s, look, e.Field)) Set.Add(result, e.Field, limits);
                    }
                    walk.Done();
                }
                if (walk.Pending) return;
            }
            else
            {
                WantLookups(pages, slots, s, 0, 0, 0, look);
                if (!PagedSets.FetchWanted(pages)) return;
                Span<byte> scratch = stackalloc byte[24];
                var en = new Set.Enumerator(slots[0].Value, scratch);
                while (en.Next(out var m))
                    if (!InAny(pages, slots, s, look, m)) Set.Add(result, m, limits);
            }
        }
        else
        {
            // Algorithm 2: the first set whole (that decides the result's encoding), less what the others
            // hold, found by lookups and cut in one pass (a removal at a time rebuilds the buffer's index).
            if (!Enumerate(store, pages, slots, s, 0, result, limits)) return;
            var lookIn = s.LookInFor(n);
            int others = 0;
            for (int j = 1; j < n; j++)
                if (slots[j].Found) lookIn[others++] = j;
            var look = lookIn.AsSpan(0, others);
            WantLookups(pages, s, result.Payload, look);
            if (!PagedSets.FetchWanted(pages)) return;
            var cut = s.PicksFor(Set.Count(result.Payload));
            int cuts = 0, ordinal = 0;
            Span<byte> scratch = stackalloc byte[24];
            var en = new Set.Enumerator(result.Payload, scratch);
            while (en.Next(out var m))
            {
                if (InAny(pages, slots, s, look, m)) cut[cuts++] = ordinal;
                ordinal++;
            }
            if (cuts > 0) Set.RemoveAt(result, cut.AsSpan(0, cuts));
        }
        Finish(ref ctx, dstIndex, result, s);
    }

    private static bool InAny(CommandPages pages, OpSlot[] slots, SetScratch s, ReadOnlySpan<int> look, ReadOnlySpan<byte> m)
    {
        foreach (int j in look)
            if (InOperand(pages, slots, s, j, m)) return true;
        return false;
    }

    /// <summary>Adds every member of source <paramref name="i"/> to <paramref name="result"/> (a paged one in a <see cref="BucketWalk"/>); false when the command stopped.</summary>
    private static bool Enumerate(StoreSession store, CommandPages pages, OpSlot[] slots, SetScratch s, int i, SetBuffer result, in SetLimits limits)
    {
        if (!s.Paged[i])
        {
            Span<byte> scratch = stackalloc byte[24];
            var en = new Set.Enumerator(slots[i].Value, scratch);
            while (en.Next(out var m)) Set.Add(result, m, limits);
            return true;
        }
        var meta = s.Metas[i];
        // Only enumerated, never looked up in: a finished round's pages go back.
        var walk = BucketWalk.Of(store).Begin(store, pages, meta);
        while (walk.Next(out ulong b, out int nb))
        {
            for (int k = 0; k < nb; k++)
            {
                var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, b + (ulong)k)), false);
                while (r.Next(out var e)) Set.Add(result, e.Field, limits);
            }
            walk.Done();
        }
        return !walk.Pending;
    }
}
