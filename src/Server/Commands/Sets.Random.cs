using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// SPOP and SRANDMEMBER over a paged set (Redis's hashtable cases). Every pick is
/// <see cref="PagedHash.Random"/> from a seed drawn once per command and kept across its reruns
/// (<see cref="SetScratch.KeepSeed"/>), so a rerun reads the same buckets and pops what the first attempt chose.
/// </summary>
internal static unsafe partial class SetCommands
{
    /// <summary>spopCommand on a hashtable: one random member, removed.</summary>
    private static void PopPaged(ref CommandContext ctx, OpSlot slot, PagedMeta meta, SetScratch s)
    {
        var rng = s.RandomFor(slot, out ulong seed);
        var pages = PagedAccess.Pages(ref ctx);
        if (!PopOne(ref ctx, pages, ref meta, rng.NextSeed(), ctx[1]))
        {
            s.KeepSeed(slot, seed);
            return;
        }
        if (!PagedAccess.Commit(ref ctx, pages, KeyType.Set, meta)) s.KeepSeed(slot, seed);
        else Removed(ref ctx, "spop"u8, meta.Count == 0);
    }

    /// <summary>
    /// One member drawn from <paramref name="pick"/>, replied, removed and logged: in its bucket's record when it can
    /// (<see cref="BucketEdits.Pop"/>), else through the page set. False when the command stopped.
    /// </summary>
    private static bool PopOne(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ulong pick, ReadOnlySpan<byte> key)
    {
        var outcome = BucketEdits.Pop(ref ctx, pages, ref meta, pick, out var member, out int tried);
        if (outcome == InlineEdits.Outcome.Stopped) return false;
        if (outcome == InlineEdits.Outcome.General)
        {
            if (!PagedSets.Pick(pages, meta, pick, tried)) return false;
            member = PagedSets.Current.Member.WrittenSpan;
            PagedHash.Delete(ref meta, member, pages.Pages, pages);
        }
        ctx.Reply.Bulk(member);
        pages.Log(new ElementRecord(ElementOp.SRem, meta.Cid, PagedAccess.StoreKey(ref ctx, key), member));
        return true;
    }

    /// <summary>
    /// spopWithCountCommand on a hashtable. CASE 1 (count >= size): every member, and the key goes. CASE 2
    /// (remaining * 5 > count): count members picked and removed one by one. CASE 3: the members to keep are
    /// picked instead, into a new set that starts as a listpack (a hashtable member is a string to Redis) and
    /// converts as it grows; the others are replied and the new set replaces the old one, inline when small.
    /// </summary>
    private static void PopPagedWithCount(ref CommandContext ctx, OpSlot slot, PagedMeta meta, long count, SetScratch s)
    {
        var store = Db.Store(ref ctx);
        if ((ulong)count >= meta.Count)
        {
            if (!PagedSets.ReplyMembers(ref ctx, meta, asSet: true)) return;
            // The pages stay behind with the cid (the graveyard's, once there is one).
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            if (store.Rmw(ctx.Client.Database, ctx[1], ref del, out _) != OpStatus.Pending) Removed(ref ctx, "spop"u8, true);
            return;
        }
        var rng = s.RandomFor(slot, out ulong seed);
        var pages = PagedAccess.Pages(ref ctx);
        var picked = PagedSets.Current.Member;
        long remaining = (long)meta.Count - count;
        if (remaining * 5 > count)
        {
            ctx.Reply.SetHeader(count);
            var key = ctx[1];
            for (long i = 0; i < count; i++)
            {
                if (!PopOne(ref ctx, pages, ref meta, rng.NextSeed(), key))
                {
                    s.KeepSeed(slot, seed);
                    return;
                }
            }
            if (!PagedAccess.Commit(ref ctx, pages, KeyType.Set, meta)) s.KeepSeed(slot, seed);
            else Removed(ref ctx, "spop"u8, false);
            return;
        }
        // CASE 3: distinct picks from the unchanged set (a repeat is drawn again) are the keepers.
        var limits = Limits(ref ctx);
        var keep = s.Write(store, 0);
        Set.CreateEmpty(keep, CollectionEncoding.Listpack);
        while (Set.Count(keep.Payload) < remaining)
        {
            if (!PagedSets.Pick(pages, meta, rng.NextSeed()))
            {
                s.KeepSeed(slot, seed);
                return;
            }
            Set.Add(keep, picked.WrittenSpan, limits);
        }
        // The others, streamed: a rerun resumes at the round that waited (the keepers are drawn again from their slots).
        var walk = BucketWalk.Of(store);
        if (walk.IsNew) ctx.Reply.SetHeader(count);
        walk.Begin(store, pages, meta, ctx.Reply.Mark);
        while (walk.Next(out ulong from, out int n))
        {
            for (int i = 0; i < n; i++)
            {
                var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, from + (ulong)i)), false);
                while (r.Next(out var e))
                    if (keep.FindEntry(e.Field) < 0) ctx.Reply.Bulk(e.Field);
            }
            walk.Done(ctx.Reply.Mark);
        }
        if (walk.Pending)
        {
            s.KeepSeed(slot, seed);
            return;
        }
        bool written = Set.EncodingOf(keep.Payload) == CollectionEncoding.Hashtable
            ? PagedSets.Convert(ref ctx, ctx[1], keep.Payload, slot.Expiry, keepTtl: true)
            : CheckSize(ref ctx, keep) && Store(ref ctx, ctx[1], keep, keepTtl: true, s);
        if (!written) s.KeepSeed(slot, seed);
        else Removed(ref ctx, "spop"u8, false);
    }

    /// <summary>srandmemberCommand on a hashtable: one random member.</summary>
    private static void RandomPaged(ref CommandContext ctx, OpSlot slot, in PagedMeta meta, SetScratch s)
    {
        var rng = s.RandomFor(slot, out ulong seed);
        var pages = PagedAccess.Pages(ref ctx);
        if (!PagedSets.Pick(pages, meta, rng.NextSeed()))
        {
            // A read: another seed would be as good, but the same one reads the buckets this attempt asked for.
            s.KeepSeed(slot, seed);
            return;
        }
        ctx.Reply.Bulk(PagedSets.Current.Member.WrittenSpan);
    }

    /// <summary>
    /// srandmemberWithCountCommand on a hashtable. CASE 1 (negative count): independent picks. CASE 2
    /// (count >= size): the whole set. CASE 3 (count * 3 > size): every member read, count of them sampled.
    /// CASE 4: distinct picks until there are count of them.
    /// </summary>
    private static void RandomPagedWithCount(ref CommandContext ctx, OpSlot slot, in PagedMeta meta, long count, bool unique, SetScratch s)
    {
        var rng = s.RandomFor(slot, out ulong seed);
        var pages = PagedAccess.Pages(ref ctx);
        var picked = PagedSets.Current.Member;
        ulong size = meta.Count;
        if (!unique || count == 1)
        {
            ctx.Reply.ArrayHeader(count);
            long start = ctx.Reply.Length;
            for (long i = 0; i < count && !RepeatedPicks.Stop(ref ctx, start); i++)
            {
                if (!PagedSets.Pick(pages, meta, rng.NextSeed()))
                {
                    s.KeepSeed(slot, seed);
                    return;
                }
                ctx.Reply.Bulk(picked.WrittenSpan);
            }
            return;
        }
        if ((ulong)count >= size)
        {
            PagedSets.ReplyMembers(ref ctx, meta, asSet: false);
            return;
        }
        int k = (int)count;
        var result = s.Result;
        Set.CreateEmpty(result, CollectionEncoding.Listpack);
        if ((ulong)count * 3 > size)
        {
            // Every member once (kept across the command's reruns: a rerun resumes the walk), then k ordinals of them.
            var store = Db.Store(ref ctx);
            var walk = BucketWalk.Of(store);
            var all = walk.HeldSet(out bool fresh);
            if (fresh) Set.CreateEmpty(all, CollectionEncoding.Listpack);
            walk.Begin(store, pages, meta);
            while (walk.Next(out ulong from, out int n))
            {
                for (int i = 0; i < n; i++)
                {
                    var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, from + (ulong)i)), false);
                    while (r.Next(out var e)) all.AppendEntry(e.Field);
                }
                walk.Done();
            }
            if (walk.Pending)
            {
                s.KeepSeed(slot, seed);
                return;
            }
            var payload = all.Payload;
            var picks = s.PicksFor(k).AsSpan(0, k);
            rng.Sample(Set.Count(payload), k, picks);
            s.Locator.Build(payload);
            Span<byte> scratch = stackalloc byte[24];
            ctx.Reply.ArrayHeader(k);
            foreach (int p in picks) ctx.Reply.Bulk(s.Locator.MemberAt(payload, p, scratch));
            return;
        }
        while (Set.Count(result.Payload) < k)
        {
            if (!PagedSets.Pick(pages, meta, rng.NextSeed()))
            {
                s.KeepSeed(slot, seed);
                return;
            }
            if (result.FindEntry(picked.WrittenSpan) < 0) result.AppendEntry(picked.WrittenSpan);
        }
        ReplyMembers(ref ctx, result.Payload, array: true);
    }
}
