using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>SINTER, SUNION, SDIFF and their STORE and CARD forms (sinterGenericCommand, sunionDiffGenericCommand).</summary>
internal static unsafe partial class SetCommands
{
    [RespCommand("SINTER", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns the intersect of multiple sets.",
        Complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.")]
    public static void SInter(ref CommandContext ctx) => SInterGeneric(ref ctx, 1, ctx.Count - 1, -1, false, 0);

    [RespCommand("SINTERSTORE", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Stores the intersect of multiple sets in a key.",
        Complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.")]
    public static void SInterStore(ref CommandContext ctx) => SInterGeneric(ref ctx, 2, ctx.Count - 2, 1, false, 0);

    [RespCommand("SINTERCARD", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.MovableKeys, NumKeysIndex = 1,
        Group = CommandGroup.Set, Summary = "Returns the number of members of the intersect of multiple sets.", Since = "7.0.0",
        Complexity = "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.")]
    public static void SInterCard(ref CommandContext ctx)
    {
        // sinterCardCommand
        if (!ctx.TryGetLong(1, out long numkeys) || numkeys < 1)
        {
            ctx.Reply.Error("ERR numkeys should be greater than 0");
            return;
        }
        if (numkeys > ctx.Count - 2)
        {
            ctx.Reply.Error("ERR Number of keys can't be greater than number of args");
            return;
        }
        long limit = 0;
        for (int j = 2 + (int)numkeys; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "LIMIT"u8) && j < ctx.Count - 1)
            {
                j++;
                if (!ctx.TryGetLong(j, out limit) || limit < 0)
                {
                    ctx.Reply.Error("ERR LIMIT can't be negative");
                    return;
                }
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        SInterGeneric(ref ctx, 2, (int)numkeys, -1, true, limit);
    }

    [RespCommand("SUNION", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns the union of multiple sets.",
        Complexity = "O(N) where N is the total number of elements in all given sets.")]
    public static void SUnion(ref CommandContext ctx) => SUnionDiffGeneric(ref ctx, 1, ctx.Count - 1, -1, diff: false);

    [RespCommand("SUNIONSTORE", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Stores the union of multiple sets in a key.",
        Complexity = "O(N) where N is the total number of elements in all given sets.")]
    public static void SUnionStore(ref CommandContext ctx) => SUnionDiffGeneric(ref ctx, 2, ctx.Count - 2, 1, diff: false);

    [RespCommand("SDIFF", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns the difference of multiple sets.",
        Complexity = "O(N) where N is the total number of elements in all given sets.")]
    public static void SDiff(ref CommandContext ctx) => SUnionDiffGeneric(ref ctx, 1, ctx.Count - 1, -1, diff: true);

    [RespCommand("SDIFFSTORE", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Set, Summary = "Stores the difference of multiple sets in a key.",
        Complexity = "O(N) where N is the total number of elements in all given sets.")]
    public static void SDiffStore(ref CommandContext ctx) => SUnionDiffGeneric(ref ctx, 2, ctx.Count - 2, 1, diff: true);

    /// <summary>
    /// Reads every source (all issued before any waits, so disk reads overlap), then checks their types in
    /// order. False when the command stops here (pending, or WRONGTYPE written). A missing key is an empty set.
    /// </summary>
    private static bool ReadSources(ref CommandContext ctx, int first, int n, SetScratch s, out OpSlot[] slots)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        slots = s.SlotsFor(n);
        for (int i = 0; i < n; i++) store.Read(db, ctx[first + i], out slots[i]);
        if (store.AttemptPending) return false;
        for (int i = 0; i < n; i++)
        {
            if (!slots[i].Found) Notify.Miss(ref ctx, ctx[first + i]); // lookupKeyRead
            else if (slots[i].Type != KeyType.Set)
            {
                Db.WrongType(ref ctx);
                return false;
            }
        }
        return true;
    }

    /// <summary>Membership in source <paramref name="i"/>: a large entries set is copied once and looked up through its index.</summary>
    private static bool InSource(OpSlot[] slots, SetBuffer?[] probes, int i, ReadOnlySpan<byte> member)
    {
        if (probes[i] is { } probe) return probe.FindEntry(member) >= 0;
        return Set.IsMember(slots[i].Value, member);
    }

    /// <summary>Indexed copies of the sources the members of source <paramref name="iterated"/> are looked up in.</summary>
    private static SetBuffer?[] PrepareProbes(OpSlot[] slots, int n, int iterated, SetScratch s)
    {
        var probes = s.ProbesFor(n);
        long queries = Set.Count(slots[iterated].Value);
        for (int i = 0; i < n; i++)
        {
            probes[i] = null;
            if (!slots[i].Found || i == iterated) continue;
            var p = slots[i].Value;
            // Below that, scanning the entries costs less than copying them (128 x 128 compares, ~20 us).
            if (queries > 8 && Set.Count(p) >= SetBuffer.IndexFrom && Set.EncodingOf(p) != CollectionEncoding.IntSet)
            {
                var probe = s.Probe(i);
                probe.Load(p);
                probes[i] = probe;
            }
        }
        return probes;
    }

    /// <summary>Replies or stores a computed result; <paramref name="result"/> holds its members (a hashtable result is stored paged).</summary>
    private static void Finish(ref CommandContext ctx, int dstIndex, SetBuffer result, SetScratch s)
    {
        if (dstIndex < 0)
        {
            ReplyMembers(ref ctx, result.Payload);
            return;
        }
        int count = Set.Count(result.Payload);
        bool existed = false;
        if (Notify.On)
        {
            var e = Notify.Existing(ref ctx, ctx[dstIndex]);
            if (e == Lookup.Pending) return;
            existed = e == Lookup.Found;
        }
        if (count > 0 && Set.EncodingOf(result.Payload) == CollectionEncoding.Hashtable)
        {
            // Past the thresholds: a new paged set replaces whatever the key held (its TTL too).
            if (!PagedSets.Convert(ref ctx, ctx[dstIndex], result.Payload, 0, keepTtl: false)) return;
        }
        else if ((count > 0 && !CheckSize(ref ctx, result)) || !Store(ref ctx, ctx[dstIndex], result, keepTtl: false, s)) return;
        ctx.Reply.Integer(count);
        // sinterstore, sunionstore, sdiffstore: the command's name.
        if (Notify.On) Notify.Stored(ref ctx, Config.KeyspaceEvents.Set, System.Text.Encoding.ASCII.GetBytes(ctx.Spec.Name), ctx[dstIndex], count, existed);
    }

    /// <summary>sinterGenericCommand: the smallest set's members found in every other set.</summary>
    private static void SInterGeneric(ref CommandContext ctx, int first, int n, int dstIndex, bool cardinalityOnly, long limit)
    {
        var s = SetScratch.Current;
        if (!ReadSources(ref ctx, first, n, s, out var slots)) return;
        var store = Db.Store(ref ctx);
        var limits = Limits(ref ctx);
        var order = s.Order;
        bool anyPaged = ReadMetas(slots, n, s);
        for (int i = 0; i < n; i++)
        {
            if (!slots[i].Found)
            {
                // An empty set makes the intersection empty.
                if (cardinalityOnly) ctx.Reply.Integer(0);
                else if (dstIndex < 0) ctx.Reply.SetHeader(0);
                else
                {
                    var empty = s.Write(store, 0);
                    Set.CreateEmpty(empty, CollectionEncoding.Listpack);
                    Finish(ref ctx, dstIndex, empty, s);
                }
                return;
            }
            order[i] = i;
        }
        if (anyPaged)
        {
            SInterPaged(ref ctx, first, n, dstIndex, cardinalityOnly, limit, slots, s);
            return;
        }
        // Smallest first (a stable sort, as glibc's merge sort behind Redis's qsort).
        for (int i = 1; i < n; i++)
        {
            int v = order[i], c = Set.Count(slots[v].Value), j = i - 1;
            while (j >= 0 && Set.Count(slots[order[j]].Value) > c) { order[j + 1] = order[j]; j--; }
            order[j + 1] = v;
        }
        var smallest = slots[order[0]].Value;
        var probes = PrepareProbes(slots, n, order[0], s);
        SetBuffer result;
        if (dstIndex >= 0)
        {
            result = s.Write(store, 0);
            if (Set.EncodingOf(smallest) == CollectionEncoding.IntSet) Set.CreateEmpty(result, CollectionEncoding.IntSet);
            else Set.CreateEmpty(result, CollectionEncoding.Listpack);
        }
        else
        {
            result = s.Result;
            Set.CreateEmpty(result, CollectionEncoding.Listpack);
        }
        var firstKey = ctx[first + order[0]];
        long cardinality = 0;
        Span<byte> scratch = stackalloc byte[24];
        var e = new Set.Enumerator(smallest, scratch);
        while (e.Next(out var m))
        {
            int j = 1;
            for (; j < n; j++)
            {
                int idx = order[j];
                if (ctx[first + idx].SequenceEqual(firstKey)) continue;
                if (!InSource(slots, probes, idx, m)) break;
            }
            if (j < n) continue;
            cardinality++;
            if (cardinalityOnly)
            {
                if (limit > 0 && cardinality >= limit) break;
            }
            else if (dstIndex >= 0) Set.Add(result, m, limits);
            else result.AppendEntry(m);
        }
        if (cardinalityOnly)
        {
            ctx.Reply.Integer(cardinality);
            return;
        }
        if (dstIndex >= 0) Set.MaybeConvertToIntset(result, limits);
        Finish(ref ctx, dstIndex, result, s);
    }

    /// <summary>sunionDiffGenericCommand, with Redis's choice of diff algorithm (it decides the result's encoding).</summary>
    private static void SUnionDiffGeneric(ref CommandContext ctx, int first, int n, int dstIndex, bool diff)
    {
        var s = SetScratch.Current;
        if (!ReadSources(ref ctx, first, n, s, out var slots)) return;
        if (ReadMetas(slots, n, s))
        {
            SUnionDiffPaged(ref ctx, first, n, dstIndex, diff, slots, s);
            return;
        }
        var store = Db.Store(ref ctx);
        var limits = Limits(ref ctx);
        bool allIntsets = true, sameset = false;
        var firstKey = ctx[first];
        for (int i = 0; i < n; i++)
        {
            if (!slots[i].Found) continue;
            if (Set.EncodingOf(slots[i].Value) != CollectionEncoding.IntSet) allIntsets = false;
            if (i > 0 && slots[0].Found && ctx[first + i].SequenceEqual(firstKey)) sameset = true;
        }
        int algo = 1;
        if (diff && slots[0].Found && !sameset)
        {
            long one = 0, two = 0;
            for (int i = 0; i < n; i++)
            {
                if (!slots[i].Found) continue;
                one += Set.Count(slots[0].Value);
                two += Set.Count(slots[i].Value);
            }
            one /= 2;
            algo = one <= two ? 1 : 2;
        }
        // The result starts as an intset for a STORE (or when every source is one), else as a hashtable.
        var result = dstIndex >= 0 ? s.Write(store, 0) : s.Result;
        if (dstIndex >= 0 || allIntsets) Set.CreateEmpty(result, CollectionEncoding.IntSet);
        else Set.CreateEmpty(result, CollectionEncoding.Hashtable);
        Span<byte> scratch = stackalloc byte[24];
        if (!diff)
        {
            for (int i = 0; i < n; i++)
            {
                if (!slots[i].Found) continue;
                var e = new Set.Enumerator(slots[i].Value, scratch);
                while (e.Next(out var m)) Set.Add(result, m, limits);
            }
        }
        else if (sameset || !slots[0].Found)
        {
            // A set minus itself, or nothing minus anything: empty.
        }
        else if (algo == 1)
        {
            var probes = PrepareProbes(slots, n, 0, s);
            var e = new Set.Enumerator(slots[0].Value, scratch);
            while (e.Next(out var m))
            {
                int j = 1;
                for (; j < n; j++)
                {
                    if (!slots[j].Found) continue;
                    if (InSource(slots, probes, j, m)) break;
                }
                if (j == n) Set.Add(result, m, limits);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                if (!slots[i].Found) continue;
                var e = new Set.Enumerator(slots[i].Value, scratch);
                while (e.Next(out var m))
                {
                    if (i == 0) Set.Add(result, m, limits);
                    else Set.Remove(result, m);
                }
                if (Set.Count(result.Payload) == 0) break;
            }
        }
        Finish(ref ctx, dstIndex, result, s);
    }
}
