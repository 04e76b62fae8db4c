using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Set commands (t_set.c). An inline set (intset or listpack): a write reads the record, computes the
/// new payload with <see cref="Set"/> and writes it back whole (StoreOp.Set, type Set, the TTL kept), or
/// deletes the key when the set became empty; the key-lock table makes the three steps atomic. A set
/// past the thresholds (Redis's hashtable encoding) moves to pages (<see cref="PagedSets"/>) and stays there.
/// </summary>
internal static unsafe partial class SetCommands
{
    private static SetLimits Limits(ref CommandContext ctx)
    {
        var c = ctx.Server.Config;
        return new SetLimits(c.SetMaxIntsetEntries, c.SetMaxListpackEntries, c.SetMaxListpackValue);
    }

    /// <summary>
    /// Writes <paramref name="buf"/> as the set at <paramref name="key"/> (deletes the key when empty).
    /// <paramref name="keepTtl"/>: an update; otherwise a new value with no TTL (*STORE). False when pending.
    /// </summary>
    private static bool Store(ref CommandContext ctx, ReadOnlySpan<byte> key, SetBuffer buf, bool keepTtl, SetScratch s)
    {
        var store = Db.Store(ref ctx);
        OpStatus st;
        if (Set.Count(buf.Payload) == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete };
            st = store.Rmw(ctx.Client.Database, key, ref del, out _);
            return st != OpStatus.Pending;
        }
        var input = new StoreInput
        {
            Op = StoreOp.Set, Type = KeyType.Set, Flags = keepTtl ? OpFlags.KeepTtl : OpFlags.None,
            Data = buf.Pointer, DataLength = buf.Length,
        };
        st = store.Rmw(ctx.Client.Database, key, ref input, out _);
        if (st != OpStatus.Pending) return true;
        s.Retire(buf);
        return false;
    }

    /// <summary>A set must fit a page of the store's log, as a string value (Db.CheckValueSize).</summary>
    private static bool CheckSize(ref CommandContext ctx, SetBuffer buf) => Db.CheckValueSize(ref ctx, buf.Length);

    /// <summary>Replies a payload's members as a set (RESP3 '~').</summary>
    private static void ReplyMembers(ref CommandContext ctx, ReadOnlySpan<byte> payload, bool array = false)
    {
        if (array) ctx.Reply.ArrayHeader(Set.Count(payload));
        else ctx.Reply.SetHeader(Set.Count(payload));
        Span<byte> scratch = stackalloc byte[24];
        var e = new Set.Enumerator(payload, scratch);
        while (e.Next(out var m)) ctx.Reply.Bulk(m);
    }

    [RespCommand("SADD", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Adds one or more members to a set. Creates the key if it doesn't exist.",
        Complexity = "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.")]
    public static void SAdd(ref CommandContext ctx)
    {
        // saddCommand
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            long n = PagedSets.Add(ref ctx, meta);
            if (n >= 0) ctx.Reply.Integer(n);
            if (n > 0) Notify.Event(ref ctx, Config.KeyspaceEvents.Set, "sadd"u8, ctx[1]);
            return;
        }
        // Members all there already: nothing to copy or write (a copy of the set was 9% of SADD's server
        // CPU at pipeline 16 when the member was there). A size hint that would convert the set still goes on.
        if (st == Lookup.Found && ctx.Count - 2 <= Math.Min(Set.Count(slot.Value), Limits(ref ctx).ListpackEntries) && AllMembers(ref ctx, slot.Value))
        {
            ctx.Reply.Integer(0);
            return;
        }
        var s = SetScratch.Current;
        var buf = s.Write(Db.Store(ref ctx), 0);
        var limits = Limits(ref ctx);
        long hint = ctx.Count - 2;
        var before = CollectionEncoding.Hashtable;
        if (st == Lookup.NotFound) Set.Create(buf, ctx[2], hint, limits);
        else
        {
            buf.Load(slot.Value);
            before = Set.EncodingOf(buf.Payload);
            Set.MaybeConvert(buf, hint, limits);
        }
        int added = 0;
        for (int j = 2; j < ctx.Count; j++)
        {
            if (Set.Add(buf, ctx[j], limits)) added++;
        }
        // A size hint may have converted the set with nothing added: Redis keeps the new encoding too.
        if (added > 0 || Set.EncodingOf(buf.Payload) != before)
        {
            // Past the thresholds the set moves to pages, all its members at once.
            if (Set.EncodingOf(buf.Payload) == CollectionEncoding.Hashtable)
            {
                if (!PagedSets.Convert(ref ctx, ctx[1], buf.Payload, st == Lookup.Found ? slot.Expiry : 0, keepTtl: true)) return;
            }
            else if (!CheckSize(ref ctx, buf) || !Store(ref ctx, ctx[1], buf, keepTtl: true, s)) return;
        }
        ctx.Reply.Integer(added);
        if (!Notify.On) return;
        if (st == Lookup.NotFound) Notify.New(ref ctx, ctx[1]);
        if (added > 0) Notify.Event(ref ctx, Config.KeyspaceEvents.Set, "sadd"u8, ctx[1]);
    }

    private static bool AllMembers(ref CommandContext ctx, ReadOnlySpan<byte> payload)
    {
        for (int j = 2; j < ctx.Count; j++)
        {
            if (!Set.IsMember(payload, ctx[j])) return false;
        }
        return true;
    }

    [RespCommand("SREM", Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Removes one or more members from a set. Deletes the set if the last member was removed.",
        Complexity = "O(N) where N is the number of members to be removed.")]
    public static void SRem(ref CommandContext ctx)
    {
        // sremCommand
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            long n = PagedSets.Remove(ref ctx, meta);
            if (n >= 0) ctx.Reply.Integer(n);
            if (n > 0) Removed(ref ctx, "srem"u8, n >= (long)meta.Count);
            return;
        }
        var s = SetScratch.Current;
        var buf = s.Write(Db.Store(ref ctx), 0);
        buf.Load(slot.Value);
        int deleted = 0;
        for (int j = 2; j < ctx.Count; j++)
        {
            if (Set.Remove(buf, ctx[j]))
            {
                deleted++;
                if (Set.Count(buf.Payload) == 0) break;
            }
        }
        if (deleted > 0 && !Store(ref ctx, ctx[1], buf, keepTtl: true, s)) return;
        ctx.Reply.Integer(deleted);
        if (deleted > 0) Removed(ref ctx, "srem"u8, Set.Count(buf.Payload) == 0);
    }

    /// <summary>srem/spop's events: the command's, then del when the set is gone.</summary>
    internal static void Removed(ref CommandContext ctx, ReadOnlySpan<byte> evt, bool emptied)
    {
        if (!Notify.On) return;
        Notify.Event(ref ctx, Config.KeyspaceEvents.Set, evt, ctx[1]);
        if (emptied) Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "del"u8, ctx[1]);
    }

    [RespCommand("SCARD", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns the number of members in a set.", Complexity = "O(1)")]
    public static void SCard(ref CommandContext ctx)
    {
        switch (Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot))
        {
            case Lookup.Found: ctx.Reply.Integer(PagedRoot.TryRead(slot.Value, out var meta) ? (long)meta.Count : Set.Count(slot.Value)); break;
            case Lookup.NotFound: ctx.Reply.Integer(0); break;
        }
    }

    [RespCommand("SISMEMBER", Arity = 3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Determines whether a member belongs to a set.", Complexity = "O(1)")]
    public static void SIsMember(ref CommandContext ctx)
    {
        switch (Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot))
        {
            case Lookup.Found when PagedRoot.TryRead(slot.Value, out var meta):
                if (PagedSets.Contains(ref ctx, meta, ctx[2], out bool found)) ctx.Reply.Integer(found ? 1 : 0);
                break;
            case Lookup.Found: ctx.Reply.Integer(Set.IsMember(slot.Value, ctx[2]) ? 1 : 0); break;
            case Lookup.NotFound: ctx.Reply.Integer(0); break;
        }
    }

    [RespCommand("SMISMEMBER", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Determines whether multiple members belong to a set.", Since = "6.2.0",
        Complexity = "O(N) where N is the number of elements being checked for membership")]
    public static void SMIsMember(ref CommandContext ctx)
    {
        // smismemberCommand: a missing key is an empty set, a zero per member.
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            PagedSets.ReplyContainsMany(ref ctx, meta);
            return;
        }
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        if (st == Lookup.NotFound)
        {
            for (int j = 2; j < ctx.Count; j++) ctx.Reply.Integer(0);
            return;
        }
        var payload = slot.Value;
        SetBuffer? probe = null;
        if (ctx.Count - 2 > 8 && Set.Count(payload) >= SetBuffer.IndexFrom && Set.EncodingOf(payload) != CollectionEncoding.IntSet)
        {
            probe = SetScratch.Current.Probe(0);
            probe.Load(payload);
        }
        for (int j = 2; j < ctx.Count; j++)
        {
            bool member = probe is null ? Set.IsMember(payload, ctx[j]) : probe.FindEntry(ctx[j]) >= 0;
            ctx.Reply.Integer(member ? 1 : 0);
        }
    }

    [RespCommand("SMEMBERS", Arity = 2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns all members of a set.", Complexity = "O(N) where N is the set cardinality.")]
    public static void SMembers(ref CommandContext ctx)
    {
        // smembersCommand
        switch (Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot))
        {
            case Lookup.Found when PagedRoot.TryRead(slot.Value, out var meta): PagedSets.ReplyMembers(ref ctx, meta, asSet: true); break;
            case Lookup.Found: ReplyMembers(ref ctx, slot.Value); break;
            case Lookup.NotFound: ctx.Reply.SetHeader(0); break;
        }
    }

    [RespCommand("SPOP", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
        Complexity = "Without the count argument O(1), otherwise O(N) where N is the value of the passed count.")]
    public static void SPop(ref CommandContext ctx)
    {
        // spopCommand
        if (ctx.Count == 3)
        {
            SPopWithCount(ref ctx);
            return;
        }
        if (ctx.Count > 3)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.NullBulk();
            return;
        }
        var s = SetScratch.Current;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            PopPaged(ref ctx, slot, meta, s);
            return;
        }
        var payload = slot.Value;
        var rng = s.RandomFor(slot, out ulong seed);
        int pick = rng.Next(Set.Count(payload));
        s.Locator.Build(payload);
        Span<byte> scratch = stackalloc byte[24];
        ctx.Reply.Bulk(s.Locator.MemberAt(payload, pick, scratch));
        var buf = s.Write(Db.Store(ref ctx), 0);
        buf.Load(payload);
        Set.RemoveAt(buf, [pick]);
        if (!Store(ref ctx, ctx[1], buf, keepTtl: true, s)) s.KeepSeed(slot, seed);
        else Removed(ref ctx, "spop"u8, Set.Count(buf.Payload) == 0);
    }

    /// <summary>spopWithCountCommand.</summary>
    private static void SPopWithCount(ref CommandContext ctx)
    {
        // getPositiveLongFromObjectOrReply: one message for both.
        if (!ctx.TryGetLong(2, out long l) || l < 0)
        {
            ctx.Reply.Error("ERR value is out of range, must be positive");
            return;
        }
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound || l == 0)
        {
            ctx.Reply.SetHeader(0);
            return;
        }
        var s = SetScratch.Current;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            PopPagedWithCount(ref ctx, slot, meta, l, s);
            return;
        }
        var payload = slot.Value;
        int size = Set.Count(payload);
        var buf = s.Write(Db.Store(ref ctx), 0);
        if (l >= size)
        {
            // CASE 1: the whole set, and the key goes.
            ReplyMembers(ref ctx, payload);
            Set.CreateEmpty(buf, CollectionEncoding.Listpack);
            if (Store(ref ctx, ctx[1], buf, keepTtl: true, s)) Removed(ref ctx, "spop"u8, true);
            return;
        }
        int count = (int)l;
        var rng = s.RandomFor(slot, out ulong seed);
        var picks = s.PicksFor(count).AsSpan(0, count);
        rng.Sample(size, count, picks);
        s.Locator.Build(payload);
        Span<byte> scratch = stackalloc byte[24];
        ctx.Reply.SetHeader(count);
        foreach (int p in picks) ctx.Reply.Bulk(s.Locator.MemberAt(payload, p, scratch));
        buf.Load(payload);
        Set.RemoveAt(buf, picks);
        if (!Store(ref ctx, ctx[1], buf, keepTtl: true, s)) s.KeepSeed(slot, seed);
        else Removed(ref ctx, "spop"u8, false);
    }

    [RespCommand("SRANDMEMBER", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Get one or multiple random members from a set",
        Complexity = "Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.")]
    public static void SRandMember(ref CommandContext ctx)
    {
        // srandmemberCommand
        if (ctx.Count == 3)
        {
            SRandMemberWithCount(ref ctx);
            return;
        }
        if (ctx.Count > 3)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.NullBulk();
            return;
        }
        var s = SetScratch.Current;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            RandomPaged(ref ctx, slot, meta, s);
            return;
        }
        var payload = slot.Value;
        var rng = s.RandomFor(slot, out _);
        s.Locator.Build(payload);
        Span<byte> scratch = stackalloc byte[24];
        ctx.Reply.Bulk(s.Locator.MemberAt(payload, rng.Next(Set.Count(payload)), scratch));
    }

    /// <summary>srandmemberWithCountCommand: a negative count may repeat members; the reply is an array.</summary>
    private static void SRandMemberWithCount(ref CommandContext ctx)
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
        bool unique = l >= 0;
        long count = unique ? l : -l;
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound || count == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        var s = SetScratch.Current;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            RandomPagedWithCount(ref ctx, slot, meta, count, unique, s);
            return;
        }
        var payload = slot.Value;
        int size = Set.Count(payload);
        Span<byte> scratch = stackalloc byte[24];
        var rng = s.RandomFor(slot, out _);
        s.Locator.Build(payload);
        if (!unique || count == 1)
        {
            // CASE 1: count draws with repeats, up to RepeatedPicks' bound.
            ctx.Reply.ArrayHeader(count);
            long start = ctx.Reply.Length;
            for (long i = 0; i < count && !RepeatedPicks.Stop(ref ctx, start); i++)
                ctx.Reply.Bulk(s.Locator.MemberAt(payload, rng.Next(size), scratch));
            return;
        }
        if (count >= size)
        {
            // CASE 2: the whole set, in its order.
            ctx.Reply.ArrayHeader(size);
            var e = new Set.Enumerator(payload, scratch);
            while (e.Next(out var m)) ctx.Reply.Bulk(m);
            return;
        }
        // CASE 2.5 (as Redis's listpack path): distinct members, in the set's order.
        int k = (int)count;
        var picks = s.PicksFor(k).AsSpan(0, k);
        rng.Sample(size, k, picks);
        ctx.Reply.ArrayHeader(k);
        foreach (int p in picks) ctx.Reply.Bulk(s.Locator.MemberAt(payload, p, scratch));
    }

    [RespCommand("SSCAN", Arity = -3, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Set, Summary = "Iterates over members of a set.", Since = "2.8.0",
        Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..")]
    public static void SScan(ref CommandContext ctx)
    {
        // sscanCommand, then scanGenericCommand's options.
        if (!ScanArgs.TryParseCursor(ref ctx, 2, out ulong cursor)) return;
        var st = Db.Read(ref ctx, ctx[1], KeyType.Set, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Raw("*2\r\n$1\r\n0\r\n*0\r\n"u8);
            return;
        }
        if (!ScanArgs.TryParse(ref ctx, 3, allowType: false, out var scan)) return;
        var s = SetScratch.Current;
        var page = s.Result;
        ulong next;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            if (!PagedSets.Scan(ref ctx, meta, cursor, scan.Count, page, out next)) return;
        }
        else
        {
            Set.ScanWhole(slot.Value, page);
            next = 0;
        }
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk(checked((long)next));
        int matches = 0;
        Span<byte> scratch = stackalloc byte[24];
        var e = new Set.Enumerator(page.Payload, scratch);
        while (e.Next(out var m))
        {
            if (scan.Matches(m)) matches++;
        }
        ctx.Reply.ArrayHeader(matches);
        e = new Set.Enumerator(page.Payload, scratch);
        while (e.Next(out var m))
        {
            if (scan.Matches(m)) ctx.Reply.Bulk(m);
        }
    }
}
