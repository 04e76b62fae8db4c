using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Sorted set commands (t_zset.c): ZADD, ZINCRBY, ZREM and the member look-ups. A sorted set lives inline
/// in its key's record (<see cref="SortedSet"/>); a write reads the record, edits a copy in a
/// <see cref="SortedSetBuilder"/> and writes it back whole (StoreOp.Set, type ZSet, the TTL kept), or
/// deletes the key when the set became empty; the key-lock table makes the steps atomic.
/// </summary>
internal static unsafe partial class SortedSetCommands
{
    private const string NotFloat = "ERR value is not a valid float";

    private static SortedSetLimits Limits(ref CommandContext ctx)
    {
        var c = ctx.Server.Config;
        return new SortedSetLimits(c.ZsetMaxListpackEntries, c.ZsetMaxListpackValue);
    }

    /// <summary>The sorted set at <paramref name="key"/> as an inline payload (a paged one read whole: <see cref="PagedZSets.Materialize"/>).</summary>
    private static Lookup Read(ref CommandContext ctx, ReadOnlySpan<byte> key, out OpSlot slot)
    {
        var st = Db.Read(ref ctx, key, KeyType.ZSet, out slot);
        if (st == Lookup.Found && !PagedZSets.Materialize(ref ctx, slot)) return Lookup.Pending;
        return st;
    }

    /// <summary>The sorted set at <paramref name="key"/> as stored: a paged set's root stays a root (<see cref="ZSetRoot.TryRead"/>).</summary>
    private static Lookup ReadRoot(ref CommandContext ctx, ReadOnlySpan<byte> key, out OpSlot slot) => Db.Read(ref ctx, key, KeyType.ZSet, out slot);

    /// <summary>
    /// Writes <paramref name="b"/> as the sorted set at <paramref name="key"/>, or deletes the key when it is
    /// empty. <paramref name="keepTtl"/>: an update; otherwise a new value with no TTL (*STORE).
    /// False when the command stops (pending, or too large: the error is written).
    /// </summary>
    private static bool Store(ref CommandContext ctx, ReadOnlySpan<byte> key, SortedSetBuilder b, bool keepTtl, SortedSetScratch s)
    {
        var store = Db.Store(ref ctx);
        if (b.Count == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete };
            return store.Rmw(ctx.Client.Database, key, ref del, out _) != OpStatus.Pending;
        }
        if (!Db.CheckValueSize(ref ctx, b.Length)) return false;
        var input = new StoreInput
        {
            Op = StoreOp.Set, Type = KeyType.ZSet, Flags = keepTtl ? OpFlags.KeepTtl : OpFlags.None,
            Data = b.Pointer, DataLength = b.Length,
        };
        if (store.Rmw(ctx.Client.Database, key, ref input, out _) != OpStatus.Pending) return true;
        s.Retire(b);
        return false;
    }

    /// <summary>Deletes <paramref name="key"/> (a *STORE whose result is empty); false when pending.</summary>
    private static bool Delete(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        var del = new StoreInput { Op = StoreOp.Delete };
        return Db.Store(ref ctx).Rmw(ctx.Client.Database, key, ref del, out _) != OpStatus.Pending;
    }

    /// <summary>
    /// zsetAdd's insert of a member known to be absent: a listpack converts (for good) when it would pass
    /// zset-max-listpack-entries or the member is longer than zset-max-listpack-value.
    /// </summary>
    private static void AddNew(SortedSetBuilder b, ReadOnlySpan<byte> member, double score, in SortedSetLimits limits, bool append = false)
    {
        if (b.Encoding == CollectionEncoding.Listpack && (b.Count + 1 > limits.ListpackEntries || member.Length > limits.ListpackValue))
            b.Encoding = CollectionEncoding.Skiplist;
        if (append) b.Append(member, score);
        else b.Insert(member, score);
    }

    [Flags]
    private enum AddFlags : byte { None = 0, Incr = 1, Nx = 2, Xx = 4, Gt = 8, Lt = 16 }

    [RespCommand("ZADD", Arity = -4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "1.2.0",
        Summary = "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
        Complexity = "O(log(N)) for each item added, where N is the number of elements in the sorted set.")]
    public static void ZAdd(ref CommandContext ctx) => ZAddGeneric(ref ctx, AddFlags.None);

    [RespCommand("ZINCRBY", Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "1.2.0", Summary = "Increments the score of a member in a sorted set.",
        Complexity = "O(log(N)) where N is the number of elements in the sorted set.")]
    public static void ZIncrBy(ref CommandContext ctx) => ZAddGeneric(ref ctx, AddFlags.Incr);

    /// <summary>zaddGenericCommand: options, then every score parsed before the key is looked at.</summary>
    private static void ZAddGeneric(ref CommandContext ctx, AddFlags flags)
    {
        int scoreIdx = 2;
        bool ch = false;
        for (; scoreIdx < ctx.Count; scoreIdx++)
        {
            if (ctx.ArgIs(scoreIdx, "NX"u8)) flags |= AddFlags.Nx;
            else if (ctx.ArgIs(scoreIdx, "XX"u8)) flags |= AddFlags.Xx;
            else if (ctx.ArgIs(scoreIdx, "CH"u8)) ch = true;
            else if (ctx.ArgIs(scoreIdx, "INCR"u8)) flags |= AddFlags.Incr;
            else if (ctx.ArgIs(scoreIdx, "GT"u8)) flags |= AddFlags.Gt;
            else if (ctx.ArgIs(scoreIdx, "LT"u8)) flags |= AddFlags.Lt;
            else break;
        }
        bool incr = (flags & AddFlags.Incr) != 0, nx = (flags & AddFlags.Nx) != 0, xx = (flags & AddFlags.Xx) != 0;
        bool gt = (flags & AddFlags.Gt) != 0, lt = (flags & AddFlags.Lt) != 0;
        int elements = ctx.Count - scoreIdx;
        if (elements % 2 != 0 || elements == 0)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        elements /= 2;
        if (nx && xx)
        {
            ctx.Reply.Error("ERR XX and NX options at the same time are not compatible");
            return;
        }
        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            ctx.Reply.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
            return;
        }
        if (incr && elements > 1)
        {
            ctx.Reply.Error("ERR INCR option supports a single increment-element pair");
            return;
        }
        for (int j = 0; j < elements; j++)
        {
            if (!ScoreText.TryParse(ctx[scoreIdx + j * 2], out _))
            {
                ctx.Reply.Error(NotFloat);
                return;
            }
        }

        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedAdd(ref ctx, root, flags, ch, scoreIdx, elements);
            return;
        }
        int added = 0, updated = 0, processed = 0;
        double score = 0;
        if (st == Lookup.NotFound && xx)
        {
            ReplyAdd(ref ctx, incr, ch, processed, score, added, updated);
            return;
        }
        var s = SortedSetScratch.Current;
        var b = s.Write(Db.Store(ref ctx), 0);
        var limits = Limits(ref ctx);
        CollectionEncoding before;
        if (st == Lookup.NotFound)
        {
            b.Create(limits.Create(elements, ctx[scoreIdx + 1].Length));
            before = 0; // a new key is always written
        }
        else
        {
            b.Load(slot.Value);
            before = b.Encoding;
            if (b.Encoding == CollectionEncoding.Listpack && elements > limits.ListpackEntries) b.Encoding = CollectionEncoding.Skiplist;
        }
        for (int j = 0; j < elements; j++)
        {
            ScoreText.TryParse(ctx[scoreIdx + j * 2], out score);
            var member = ctx[scoreIdx + 1 + j * 2];
            int rank = b.Find(member, out double cur);
            if (rank >= 0)
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
                if (score != cur)
                {
                    b.UpdateScore(rank, score);
                    updated++;
                }
            }
            else if (!xx)
            {
                AddNew(b, member, score, limits);
                added++;
                processed++;
            }
        }
        if (added > 0 || updated > 0 || b.Encoding != before)
        {
            // A skiplist goes to pages, for good, as Redis's skiplist stays one.
            if (PagedZSets.ShouldPage(b))
            {
                if (!PagedZSets.CreateFrom(ref ctx, ctx[1], b, st == Lookup.Found ? slot.Expiry : 0)) return;
            }
            else if (!Store(ref ctx, ctx[1], b, keepTtl: true, s)) return;
        }
        ReplyAdd(ref ctx, incr, ch, processed, score, added, updated);
        ZSetEvents.Added(ref ctx, created: st == Lookup.NotFound, incr, added > 0 || updated > 0);
    }

    private static void ReplyAdd(ref CommandContext ctx, bool incr, bool ch, int processed, double score, int added, int updated)
    {
        if (incr)
        {
            if (processed > 0) ctx.Reply.Double(score);
            else ctx.Reply.NullBulk();
        }
        else ctx.Reply.Integer(ch ? added + updated : added);
    }

    [RespCommand("ZREM", Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "1.2.0",
        Summary = "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
        Complexity = "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.")]
    public static void ZRem(ref CommandContext ctx)
    {
        // zremCommand
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedRem(ref ctx, root);
            return;
        }
        var s = SortedSetScratch.Current;
        var b = s.Write(Db.Store(ref ctx), 0);
        b.Load(slot.Value);
        int deleted = 0;
        for (int j = 2; j < ctx.Count && b.Count > 0; j++)
        {
            int rank = b.Find(ctx[j], out _);
            if (rank < 0) continue;
            b.RemoveAt(rank);
            deleted++;
        }
        if (deleted > 0 && !Store(ref ctx, ctx[1], b, keepTtl: true, s)) return;
        ctx.Reply.Integer(deleted);
        if (deleted > 0) ZSetEvents.Removed(ref ctx, "zrem"u8, ctx[1], b.Count == 0);
    }

    [RespCommand("ZCARD", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "1.2.0", Summary = "Returns the number of members in a sorted set.", Complexity = "O(1)")]
    public static void ZCard(ref CommandContext ctx)
    {
        switch (ReadRoot(ref ctx, ctx[1], out var slot))
        {
            case Lookup.Found: ctx.Reply.Integer(ZSetRoot.TryRead(slot.Value, out var root) ? (long)root.Count : SortedSet.Count(slot.Value)); break;
            case Lookup.NotFound: ctx.Reply.Integer(0); break;
        }
    }

    [RespCommand("ZSCORE", Arity = 3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "1.2.0", Summary = "Returns the score of a member in a sorted set.", Complexity = "O(1)")]
    public static void ZScore(ref CommandContext ctx)
    {
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        bool found = false;
        double score = 0;
        if (st == Lookup.Found && ZSetRoot.TryRead(slot.Value, out var root))
        {
            var pages = PagedAccess.Pages(ref ctx);
            if (!PagedSortedSet.TryScore(root, ctx[2], pages.Pages, pages.Needs, pages.FetchAction, out found, out score)) return;
        }
        else if (st == Lookup.Found) found = SortedSet.TryGetScore(slot.Value, ctx[2], out score);
        if (found) ctx.Reply.Double(score);
        else ctx.Reply.NullBulk();
    }

    [RespCommand("ZMSCORE", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "6.2.0", Summary = "Returns the score of one or more members in a sorted set.",
        Complexity = "O(N) where N is the number of members being requested.")]
    public static void ZMScore(ref CommandContext ctx)
    {
        // zmscoreCommand: a missing key answers a null per member.
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        ZSetRoot root = default;
        bool paged = st == Lookup.Found && ZSetRoot.TryRead(slot.Value, out root);
        var pages = paged ? PagedAccess.Pages(ref ctx) : null;
        if (paged && !FetchBuckets(ref ctx, pages!, root)) return;
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        for (int j = 2; j < ctx.Count; j++)
        {
            bool found = false;
            double score = 0;
            if (paged)
            {
                if (!PagedSortedSet.TryScore(root, ctx[j], pages!.Pages, pages.Needs, pages.FetchAction, out found, out score)) return;
            }
            else if (st == Lookup.Found) found = SortedSet.TryGetScore(slot.Value, ctx[j], out score);
            if (found) ctx.Reply.Double(score);
            else ctx.Reply.NullBulk();
        }
    }

    [RespCommand("ZRANK", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "2.0.0", Summary = "Returns the index of a member in a sorted set ordered by ascending scores.",
        Complexity = "O(log(N))")]
    public static void ZRank(ref CommandContext ctx) => ZRankGeneric(ref ctx, reverse: false);

    [RespCommand("ZREVRANK", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "2.0.0", Summary = "Returns the index of a member in a sorted set ordered by descending scores.",
        Complexity = "O(log(N))")]
    public static void ZRevRank(ref CommandContext ctx) => ZRankGeneric(ref ctx, reverse: true);

    /// <summary>zrankGenericCommand (7.2: WITHSCORE).</summary>
    private static void ZRankGeneric(ref CommandContext ctx, bool reverse)
    {
        if (ctx.Count > 4)
        {
            ctx.Reply.Error($"ERR wrong number of arguments for '{ctx.Spec.Name.ToLowerInvariant()}' command");
            return;
        }
        bool withScore = false;
        if (ctx.Count > 3)
        {
            if (!ctx.ArgIs(3, "WITHSCORE"u8))
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
            withScore = true;
        }
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        double score = 0;
        long rank, count;
        if (st == Lookup.Found && ZSetRoot.TryRead(slot.Value, out var root))
        {
            // The member's score from the hash, then its key's rank from the tree's counts.
            var pages = PagedAccess.Pages(ref ctx);
            pages.TrustTree(root.Cid, root.Seq);
            if (!PagedSortedSet.TryRank(root, ctx[2], pages.Pages, pages.Needs, pages.FetchAction, out bool found, out ulong r, out score)) return;
            // A read keeps the inner pages it read, as the store holds them (the seq stays).
            pages.RememberTree(root.Cid, root.Seq);
            rank = found ? (long)r : -1;
            count = (long)root.Count;
        }
        else
        {
            rank = st == Lookup.Found ? SortedSet.Find(slot.Value, ctx[2], out score) : -1;
            count = st == Lookup.Found ? SortedSet.Count(slot.Value) : 0;
        }
        if (rank < 0)
        {
            if (withScore) ctx.Reply.NullArray();
            else ctx.Reply.NullBulk();
            return;
        }
        if (reverse) rank = count - 1 - rank;
        if (!withScore)
        {
            ctx.Reply.Integer(rank);
            return;
        }
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Integer(rank);
        ctx.Reply.Double(score);
    }

    [RespCommand("ZSCAN", Arity = -3, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "2.8.0", Summary = "Iterates over members and scores of a sorted set.",
        Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")]
    public static void ZScan(ref CommandContext ctx)
    {
        // zscanCommand -> scanGenericCommand: an inline set is returned whole with cursor 0, as Redis's listpack.
        // A paged set scans its member hash (SortedSets.PagedScan.cs).
        if (!ScanArgs.TryParseCursor(ref ctx, 2, out ulong cursor)) return;
        var st = ReadRoot(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Raw("*2\r\n$1\r\n0\r\n*0\r\n"u8);
            return;
        }
        if (!ScanArgs.TryParse(ref ctx, 3, allowType: false, out var scan)) return;
        if (Storage.Values.Paged.ZSetRoot.TryRead(slot.Value, out var root))
        {
            PagedScan(ref ctx, root, cursor, scan.Count, scan.Pattern);
            return;
        }
        var payload = slot.Value;
        int matches = 0;
        var r = new SortedSet.Reader(payload);
        while (r.Next(out var m, out _))
        {
            if (scan.Matches(m)) matches++;
        }
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk("0"u8);
        ctx.Reply.ArrayHeader(matches * 2);
        r = new SortedSet.Reader(payload);
        Span<byte> text = stackalloc byte[32];
        while (r.Next(out var m, out double score))
        {
            if (!scan.Matches(m)) continue;
            ctx.Reply.Bulk(m);
            // A bulk string in RESP3 too: Redis scans the listpack's score text.
            ctx.Reply.Bulk(text[..Protocol.RespWriter.FormatDouble(score, text)]);
        }
    }
}
