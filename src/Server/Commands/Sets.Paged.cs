using System.Buffers;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Set commands over a paged set (past set-max-intset-entries / set-max-listpack-*: Redis's hashtable
/// encoding): each member lives in a bucket page, so a write reads and writes its member's bucket (and
/// the one a split takes), never the whole set. Every read of a command comes before its first write
/// (page edits are staged in <see cref="CommandPages"/> and written by one commit at the end); false
/// (or -1) from a step means the command stopped: it waits on disk and runs again from the start,
/// the pages read so far answered from their slots.
/// </summary>
internal static partial class PagedSets
{
    /// <summary>Most page reads one Fetch issues: the research doc's bound on outstanding page reads (64).</summary>
    public const int Round = PagedHash.MaxScanBuckets;

    [ThreadStatic] private static Scratch? t_scratch;

    public static Scratch Current => t_scratch ??= new Scratch();

    /// <summary>A reactor's working lists for paged set commands (reused: warm, nothing is allocated).</summary>
    internal sealed class Scratch : IEntrySink
    {
        /// <summary>Pages a step will read, in the order it names them (deduplicated by <see cref="WantSet"/>).</summary>
        public readonly List<PageKey> Want = new();
        public readonly HashSet<PageKey> WantSet = new();
        /// <summary>The member a random pick or a scan handed over (a copy: the page may change after).</summary>
        public readonly ArrayBufferWriter<byte> Member = new(64);
        /// <summary>Where <see cref="Entry"/> appends scanned members, when set; else it keeps the last one in <see cref="Member"/>.</summary>
        public SetBuffer? Into;

        public void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            if (Into is { } buf)
            {
                buf.AppendEntry(field);
                return;
            }
            Member.ResetWrittenCount();
            Member.Write(field);
        }
    }

    // ------------------------------------------------------------ reading pages

    /// <summary>Names the bucket <paramref name="member"/> lives in, unless in hand or named already.</summary>
    public static void WantMember(CommandPages pages, in PagedMeta meta, ReadOnlySpan<byte> member)
    {
        var key = PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, member));
        var s = Current;
        // Our own set: NeedsLookup's list scan is quadratic over a round's 20k members.
        if (pages.Pages.State(key) == PageState.NotInHand && s.WantSet.Add(key)) s.Want.Add(key);
    }

    /// <summary>
    /// Names the buckets the split rule would take if <paramref name="bytes"/> of entries were added (linear
    /// hashing's split pointer walks up from the meta's: <see cref="PagedHash.NeedsSet"/>'s rule, for a batch).
    /// </summary>
    public static void WantSplits(CommandPages pages, in PagedMeta meta, long bytes)
    {
        var m = meta;
        ulong load = m.EntryBytes + (ulong)bytes;
        var s = Current;
        while (load > m.Buckets * (ulong)(m.PageSize - BucketPage.HeaderSize) * m.LoadPercent / 100)
        {
            var key = PagedHash.BucketKey(m, m.Split);
            if (pages.Pages.State(key) == PageState.NotInHand && s.WantSet.Add(key)) s.Want.Add(key);
            if (++m.Split == 1UL << m.Level)
            {
                m.Level++;
                m.Split = 0;
            }
        }
    }

    /// <summary>Reads what <see cref="WantMember"/> named, <see cref="Round"/> pages a fetch; false when the command stopped.</summary>
    public static bool FetchWanted(CommandPages pages)
    {
        var s = Current;
        var want = s.Want;
        int i = 0;
        bool inHand = true;
        while (i < want.Count && inHand)
        {
            for (; i < want.Count && pages.Needs.Count < Round; i++)
                if (pages.Pages.State(want[i]) == PageState.NotInHand) pages.Needs.Add(want[i]);
            if (pages.Needs.Count > 0) inHand = pages.Fetch();
        }
        want.Clear();
        s.WantSet.Clear();
        return inHand;
    }

    /// <summary>Whether <paramref name="member"/> is in the set; its bucket must be in hand.</summary>
    public static bool Has(CommandPages pages, in PagedMeta meta, ReadOnlySpan<byte> member) => PagedHash.Lookup(meta, member, pages.Pages, null);

    // ------------------------------------------------------------ writes

    /// <summary>SADD into a paged set: the number of members added, or -1 when the command stopped.</summary>
    public static long Add(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (ctx.Count == 3)
        {
            var was = meta;
            switch (BucketEdits.Set(ref ctx, pages, ref meta, ctx[2], default, out var result))
            {
                case InlineEdits.Outcome.Stopped:
                    return -1;
                case InlineEdits.Outcome.Done:
                    if (result == SetResult.Added) pages.Log(new ElementRecord(ElementOp.SAdd, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), ctx[2]));
                    return PagedAccess.Commit(ref ctx, pages, KeyType.Set, was, meta) ? (result == SetResult.Added ? 1 : 0) : -1;
            }
        }
        // Read-ahead: every member's bucket under the meta as it is, and the buckets the splits would take
        // if every member were new, in rounds of reads. Without the splits' buckets, 1000-member SADDs of
        // 60-byte members into a set on disk stopped for a split bucket ~18 times each, every rerun
        // redoing the members before (a 200k-member load under maxmemory took minutes).
        long bytes = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            WantMember(pages, meta, ctx[i]);
            bytes += BucketPage.EntrySize(false, ctx[i].Length, 0, false);
        }
        WantSplits(pages, meta, bytes);
        if (!FetchWanted(pages)) return -1;
        long added = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            int r = AddOne(ref ctx, pages, ref meta, ctx[1], ctx[i]);
            if (r < 0) return -1;
            added += r;
        }
        return PagedAccess.Commit(ref ctx, pages, KeyType.Set, meta) ? added : -1;
    }

    /// <summary>Adds one member (its bucket and the split's read first): 1 when it was new, 0 when there, -1 when the command stopped.</summary>
    public static int AddOne(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ReadOnlySpan<byte> key, ReadOnlySpan<byte> member)
    {
        // A split by an earlier member may have moved this one's bucket: a second round then.
        PagedHash.NeedsSet(meta, member, 0, pages.Pages, pages.Needs);
        if (pages.Needs.Count > 0 && !pages.Fetch()) return -1;
        if (PagedHash.Set(ref meta, member, default, pages.Pages, pages) != SetResult.Added) return 0;
        pages.Log(new ElementRecord(ElementOp.SAdd, meta.Cid, PagedAccess.StoreKey(ref ctx, key), member));
        return 1;
    }

    /// <summary>
    /// A new paged set at <paramref name="key"/> holding the members of an inline payload (an inline set
    /// that passed the thresholds, or a computed result), its pages staged in <paramref name="pages"/>.
    /// </summary>
    public static PagedMeta Fill(ref CommandContext ctx, CommandPages pages, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, long expiry)
    {
        Span<byte> scratch = stackalloc byte[24];
        int longest = 0;
        var scan = new Set.Enumerator(payload, scratch);
        while (scan.Next(out var member)) longest = Math.Max(longest, member.Length);
        var meta = PagedAccess.Create(ref ctx, pages, PagedKind.Set, KeyType.Set, expiry, key, PagedHash.PageShiftFor(longest));
        var recordKey = PagedAccess.StoreKey(ref ctx, key);
        var e = new Set.Enumerator(payload, scratch);
        while (e.Next(out var m))
        {
            PagedHash.NeedsSet(meta, m, 0, pages.Pages, pages.Needs);
            pages.Fetch(); // a fresh collection's pages are never read
            if (PagedHash.Set(ref meta, m, default, pages.Pages, pages) == SetResult.Added)
                pages.Log(new ElementRecord(ElementOp.SAdd, meta.Cid, recordKey, m));
        }
        return meta;
    }

    /// <summary>
    /// The set at <paramref name="key"/> becomes paged with the members of <paramref name="payload"/> (SADD past
    /// the thresholds keeps the TTL; a *STORE result replaces the key's value: <paramref name="keepTtl"/> false).
    /// False when the command stopped.
    /// </summary>
    public static bool Convert(ref CommandContext ctx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> payload, long expiry, bool keepTtl)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var meta = Fill(ref ctx, pages, key, payload, expiry);
        return PagedAccess.Commit(ref ctx, pages, KeyType.Set, meta, key, keepTtl);
    }

    /// <summary>SREM from a paged set: the number removed, or -1 when the command stopped. The last one deletes the key.</summary>
    public static long Remove(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (ctx.Count == 3 && RemoveOne(ref ctx, pages, ref meta, ctx[2], ElementOp.SRem, KeyType.Set) is var one and >= -1) return one;
        for (int i = 2; i < ctx.Count; i++) WantMember(pages, meta, ctx[i]);
        if (!FetchWanted(pages)) return -1;
        long removed = 0;
        for (int i = 2; i < ctx.Count && meta.Count > 0; i++)
        {
            if (!PagedHash.Delete(ref meta, ctx[i], pages.Pages, pages)) continue;
            removed++;
            pages.Log(new ElementRecord(ElementOp.SRem, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), ctx[i]));
        }
        if (removed == 0) return 0;
        return PagedAccess.Commit(ref ctx, pages, KeyType.Set, meta) ? removed : -1;
    }

    /// <summary>
    /// HDEL of one field, SREM of one member, in its bucket's record (<see cref="BucketEdits.Remove"/>): 1 or 0, -1 when the
    /// command stopped, -2 when the general path must remove it (the page it read is in the page set).
    /// </summary>
    public static long RemoveOne(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, ReadOnlySpan<byte> field, ElementOp op, KeyType type)
    {
        switch (BucketEdits.Remove(ref ctx, pages, ref meta, field, out bool removed))
        {
            case InlineEdits.Outcome.Stopped: return -1;
            case InlineEdits.Outcome.General: return -2;
        }
        if (!removed) return 0;
        pages.Log(new ElementRecord(op, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), field));
        return PagedAccess.Commit(ref ctx, pages, type, meta) ? 1 : -1;
    }

    // ------------------------------------------------------------ reads

    /// <summary>SISMEMBER: false when the command stopped.</summary>
    public static bool Contains(ref CommandContext ctx, in PagedMeta meta, ReadOnlySpan<byte> member, out bool found)
    {
        var pages = PagedAccess.Pages(ref ctx);
        switch (BucketEdits.Find(ref ctx, pages, meta, member, out found, out _))
        {
            case InlineEdits.Outcome.Stopped: return false;
            case InlineEdits.Outcome.Done: return true;
        }
        found = false;
        WantMember(pages, meta, member);
        if (!FetchWanted(pages)) return false;
        found = Has(pages, meta, member);
        return true;
    }

    /// <summary>SMISMEMBER over a paged set: every member's bucket read first, then the replies.</summary>
    public static void ReplyContainsMany(ref CommandContext ctx, in PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (ctx.Count - 2 <= PagedHashes.FindsAtMost)
        {
            int mark = ctx.Reply.Mark;
            ctx.Reply.ArrayHeader(ctx.Count - 2);
            if (PagedHashes.FindEach(ref ctx, pages, meta, values: false) != InlineEdits.Outcome.General) return;
            ctx.Reply.Truncate(mark); // not for a set as built (no values out of line): the rounds below answer all the same
        }
        for (int i = 2; i < ctx.Count; i++) WantMember(pages, meta, ctx[i]);
        if (!FetchWanted(pages)) return;
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++) ctx.Reply.Integer(Has(pages, meta, ctx[i]) ? 1 : 0);
    }

    /// <summary>
    /// SMEMBERS (and SPOP/SRANDMEMBER of the whole set): every member, a <see cref="BucketWalk"/> of 64
    /// buckets a round, the reply streamed (its length is the meta's count): a rerun resumes at the round
    /// that waited on disk. False when the command stopped.
    /// </summary>
    public static bool ReplyMembers(ref CommandContext ctx, in PagedMeta meta, bool asSet)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var reply = ctx.Reply;
        var walk = BucketWalk.Of(Db.Store(ref ctx));
        if (walk.IsNew)
        {
            if (asSet) reply.SetHeader((long)meta.Count);
            else reply.ArrayHeader((long)meta.Count);
        }
        walk.Begin(Db.Store(ref ctx), pages, meta, reply.Mark);
        while (walk.Next(out ulong from, out int n))
        {
            for (int i = 0; i < n; i++)
            {
                var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(meta, from + (ulong)i)), false);
                while (r.Next(out var e)) reply.Bulk(e.Field);
            }
            walk.Done(reply.Mark);
        }
        return !walk.Pending;
    }

    /// <summary>
    /// SSCAN over a paged set: the members of the step's buckets into <paramref name="into"/> (cursor = bucket
    /// index, <see cref="PagedHash.Scan"/>'s guarantee); false when the command stopped.
    /// </summary>
    public static bool Scan(ref CommandContext ctx, in PagedMeta meta, ulong cursor, long count, SetBuffer into, out ulong next)
    {
        next = 0;
        var pages = PagedAccess.Pages(ref ctx);
        int c = (int)Math.Min(count, int.MaxValue);
        PagedHash.NeedsScan(meta, cursor, c, pages.Pages, pages.Needs);
        if (pages.Needs.Count > 0 && !pages.Fetch()) return false;
        Set.CreateEmpty(into, CollectionEncoding.Listpack);
        var s = Current;
        s.Into = into;
        try { next = PagedHash.Scan(meta, cursor, c, pages.Pages, s); }
        finally { s.Into = null; }
        return true;
    }

    /// <summary>
    /// One random member (a copy in <see cref="Scratch.Member"/>), drawn from <paramref name="seed"/> over the
    /// set as the page set holds it now (a pop's earlier removals included), the draws before <paramref name="firstTry"/>
    /// known to miss. False when the command stopped.
    /// </summary>
    public static bool Pick(CommandPages pages, in PagedMeta meta, ulong seed, int firstTry = 0)
    {
        while (true)
        {
            PagedHash.NeedsRandom(meta, seed, pages.Pages, pages.Needs, firstTry: firstTry);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return false;
        }
        PagedHash.Random(meta, seed, pages.Pages, Current, firstTry: firstTry);
        return true;
    }
}
