using System.Buffers;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// The reads of many fields of a paged hash: HMGET, HGETALL/HKEYS/HVALS, HSCAN and HRANDFIELD. Those
/// that read many buckets do it in rounds of at most <see cref="RoundReads"/> reads (a cold hash then
/// waits on disk once a round, the rounds before answered from their slots when it runs again). A
/// full read (HGETALL) is a <see cref="BucketWalk"/>: a rerun resumes at the round that waited, the
/// finished rounds' reply kept and their slots and pages given back.
/// </summary>
internal static partial class PagedHashes
{
    /// <summary>
    /// Fields an HMGET (SMISMEMBER: members) looks up each in its bucket's record (<see cref="BucketEdits.Find"/>): a few, as
    /// an application's HMGET of a record's fields; the read of one field copied its 2 KB bucket (14% of an HGET). More go in
    /// rounds of page reads.
    /// </summary>
    public const int FindsAtMost = 8;

    /// <summary>HMGET: a value or a null per field, the fields' buckets read in rounds. False when the command stopped.</summary>
    public static bool MultiGet(ref CommandContext ctx, in PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var r = ctx.Reply;
        int mark = r.Mark;
        r.ArrayHeader(ctx.Count - 2);
        if (ctx.Count - 2 <= FindsAtMost)
        {
            var found = FindEach(ref ctx, pages, meta, values: true);
            if (found != InlineEdits.Outcome.General) return found == InlineEdits.Outcome.Done;
            r.Truncate(mark); // a value out of line: the rounds below, with the page in hand
            r.ArrayHeader(ctx.Count - 2);
        }
        for (int i = 2; i < ctx.Count;)
        {
            int end = i;
            for (; end < ctx.Count && pages.Needs.Count < RoundReads; end++) PagedHash.NeedsLookup(meta, ctx[end], pages.Pages, pages.Needs);
            // The round's buckets, then the chunks of the out-of-line values they hold.
            while (pages.Needs.Count > 0)
            {
                if (!pages.Fetch()) return false;
                for (int k = i; k < end; k++) PagedHash.NeedsLookup(meta, ctx[k], pages.Pages, pages.Needs);
            }
            for (; i < end; i++)
            {
                var value = PagedAccess.Value;
                if (PagedHash.Lookup(meta, ctx[i], pages.Pages, value)) r.Bulk(value.WrittenSpan);
                else r.NullBulk();
            }
        }
        return true;
    }

    /// <summary>
    /// Every field from ctx[2] on looked up in its bucket's record and replied in order (a bulk or a null, or 1/0 without
    /// <paramref name="values"/>). Stopped: a read went to disk; the reads after it are issued still, so a cold collection
    /// waits once, and the run that follows answers them from their slots. General: a value is out of line (its page is
    /// in the page set), for the rounds.
    /// </summary>
    public static InlineEdits.Outcome FindEach(ref CommandContext ctx, CommandPages pages, in PagedMeta meta, bool values)
    {
        bool stopped = false;
        for (int i = 2; i < ctx.Count; i++)
        {
            switch (BucketEdits.Find(ref ctx, pages, meta, ctx[i], out bool found, out var value))
            {
                case InlineEdits.Outcome.Stopped:
                    stopped = true;
                    break;
                case InlineEdits.Outcome.General:
                    return InlineEdits.Outcome.General;
                default:
                    if (stopped) break;
                    if (!values) ctx.Reply.Integer(found ? 1 : 0);
                    else if (found) ctx.Reply.Bulk(value);
                    else ctx.Reply.NullBulk();
                    break;
            }
        }
        return stopped ? InlineEdits.Outcome.Stopped : InlineEdits.Outcome.Done;
    }

    /// <summary>
    /// HGETALL (a map in RESP3), HKEYS, HVALS: every bucket, in rounds, the reply streamed (its length is
    /// the meta's count, known up front). False when the command stopped.
    /// </summary>
    public static bool GetAll(ref CommandContext ctx, in PagedMeta meta, bool fields, bool values)
    {
        var r = ctx.Reply;
        var walk = BucketWalk.Of(Db.Store(ref ctx));
        if (walk.IsNew)
        {
            if (fields && values) r.MapHeader((long)meta.Count);
            else r.ArrayHeader((long)meta.Count);
        }
        var sink = EntryWriter.For(r, fields, values, pairs: false);
        return ReadAll(ref ctx, PagedAccess.Pages(ref ctx), walk, meta, sink);
    }

    /// <summary>
    /// Every element into <paramref name="sink"/> (the reply), bucket by bucket, a round of 64 buckets
    /// (and their out-of-line values) at a time. The walk resumes at the round that went to disk; each
    /// finished round's reply is kept, its slots and pages given back. A sampling sink's state is kept
    /// across the rounds in the walk's numbers.
    /// </summary>
    private static bool ReadAll(ref CommandContext ctx, CommandPages pages, BucketWalk walk, in PagedMeta meta, EntryWriter sink)
    {
        var r = ctx.Reply;
        if (walk.IsNew) sink.Save(walk);
        else sink.Load(walk);
        walk.Begin(Db.Store(ref ctx), pages, meta, r.Mark);
        while (walk.Next(out ulong from, out _))
        {
            while (true)
            {
                PagedHash.NeedsScan(meta, from, int.MaxValue, pages.Pages, pages.Needs);
                if (pages.Needs.Count == 0) break;
                if (!walk.Fetch()) return false;
            }
            PagedHash.Scan(meta, from, int.MaxValue, pages.Pages, sink);
            sink.Save(walk);
            walk.Done(r.Mark);
        }
        return !walk.Pending;
    }

    /// <summary>
    /// HSCAN on a paged hash: the cursor is a bucket index (<see cref="PagedHash.Scan"/> has the guarantee);
    /// a step reads whole buckets, as many as COUNT needs at the average load (at most 64). Matches are
    /// counted first (the reply's array header), then written. False when the command stopped.
    /// </summary>
    public static bool Scan(ref CommandContext ctx, in PagedMeta meta, ulong cursor, long count, scoped ReadOnlySpan<byte> pattern)
    {
        var pages = PagedAccess.Pages(ref ctx);
        int n = (int)Math.Min(count, int.MaxValue);
        while (true)
        {
            PagedHash.NeedsScan(meta, cursor, n, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return false;
        }
        var r = ctx.Reply;
        var sink = EntryWriter.For(r, fields: true, values: true, pairs: false);
        sink.Filter(pattern);
        sink.CountOnly = true;
        ulong next = PagedHash.Scan(meta, cursor, n, pages.Pages, sink);
        r.ArrayHeader(2);
        r.Bulk((long)next);
        r.ArrayHeader(sink.Counted * 2);
        sink.CountOnly = false;
        PagedHash.Scan(meta, cursor, n, pages.Pages, sink);
        return true;
    }

    /// <summary>HRANDFIELD key: one random field (drawn from a seed kept across the command's reruns). False when the command stopped.</summary>
    public static bool RandomField(ref CommandContext ctx, OpSlot read, in PagedMeta meta)
    {
        ulong seed = HashSeeds.For(read);
        var pages = PagedAccess.Pages(ref ctx);
        while (true)
        {
            PagedHash.NeedsRandom(meta, seed, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch())
            {
                HashSeeds.Keep(read, seed);
                return false;
            }
        }
        PagedHash.Random(meta, seed, pages.Pages, EntryWriter.For(ctx.Reply, fields: true, values: false, pairs: false));
        return true;
    }

    /// <summary>
    /// hrandfieldWithCountCommand's four cases on a paged hash (count not 0). Every draw comes from one seed
    /// kept across the command's reruns, so a rerun reads the same buckets in the same order. False when the command stopped.
    /// </summary>
    public static bool RandomFields(ref CommandContext ctx, OpSlot read, in PagedMeta meta, long l, bool withValues)
    {
        ulong seed = HashSeeds.For(read);
        if (RandomFields(ref ctx, seed, meta, l, withValues)) return true;
        HashSeeds.Keep(read, seed);
        return false;
    }

    private static bool RandomFields(ref CommandContext ctx, ulong seed, in PagedMeta meta, long l, bool withValues)
    {
        var r = ctx.Reply;
        bool pairs = withValues && r.Protocol >= 3;
        ulong count = l >= 0 ? (ulong)l : (ulong)(-l);
        ulong size = meta.Count;
        var pages = PagedAccess.Pages(ref ctx);
        var sink = EntryWriter.For(r, fields: true, values: withValues, pairs);
        // Case 1: repeats allowed (negative count), or one field: count independent picks, a round of them at a time.
        if (l < 0 || count == 1)
        {
            r.ArrayHeader(withValues && !pairs ? (long)count * 2 : (long)count);
            long start = r.Length;
            for (ulong i = 0; i < count;)
            {
                if (RepeatedPicks.Stop(ref ctx, start)) return true;
                ulong end = Math.Min(count, i + RoundReads);
                if (!FetchPicks(pages, meta, seed, i, end)) return false;
                for (; i < end && !RepeatedPicks.Stop(ref ctx, start); i++) PagedHash.Random(meta, PickSeed(seed, i), pages.Pages, sink);
            }
            return true;
        }
        // Case 2: the whole hash.
        if (count >= size)
        {
            var all = BucketWalk.Of(Db.Store(ref ctx));
            if (all.IsNew) r.ArrayHeader(withValues && !pairs ? (long)size * 2 : (long)size);
            return ReadAll(ref ctx, pages, all, meta, sink);
        }
        // Case 4 (count well under the size): distinct picks until there are count of them.
        if (count * 3 <= size)
        {
            var picked = PickSet.For(meta.Cid);
            // Each draw is new with odds of 2/3 or more: 16 draws a field without enough is a broken pick, read it all instead.
            ulong draws = 0, maxDraws = count * 16 + 1024;
            while ((ulong)picked.Count < count && draws < maxDraws)
            {
                ulong end = draws + RoundReads;
                if (!FetchPicks(pages, meta, seed, draws, end)) return false;
                for (; draws < end && (ulong)picked.Count < count; draws++) PagedHash.Random(meta, PickSeed(seed, draws), pages.Pages, picked);
            }
            if ((ulong)picked.Count == count)
            {
                r.ArrayHeader(withValues && !pairs ? (long)count * 2 : (long)count);
                for (int i = 0; i < picked.Count; i++)
                {
                    picked.At(i, out var f, out var v);
                    sink.Entry(f, v);
                }
                return true;
            }
            pages.Pages.Clear();
        }
        // Case 3 (count near the size): every bucket, count fields kept by selection sampling, in bucket order.
        var walk = BucketWalk.Of(Db.Store(ref ctx));
        if (walk.IsNew) r.ArrayHeader(withValues && !pairs ? (long)count * 2 : (long)count);
        sink.Sample(count, size, seed);
        return ReadAll(ref ctx, pages, walk, meta, sink);
    }

    /// <summary>Reads the buckets (and value chunks) picks [from, end) land on; false when the command stopped.</summary>
    private static bool FetchPicks(CommandPages pages, in PagedMeta meta, ulong seed, ulong from, ulong end)
    {
        while (true)
        {
            for (ulong p = from; p < end; p++) PagedHash.NeedsRandom(meta, PickSeed(seed, p), pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) return true;
            if (!pages.Fetch()) return false;
        }
    }

    /// <summary>The seed of pick <paramref name="i"/>: a SplitMix64 stream from the command's seed.</summary>
    private static ulong PickSeed(ulong seed, ulong i) => PagedHash.Mix(seed + (i + 1) * 0x9E3779B97F4A7C15UL);

    /// <summary>Writes the elements a scan or pick yields into the reply, filtered or sampled as the command asks.</summary>
    private sealed class EntryWriter : IEntrySink
    {
        [ThreadStatic] private static EntryWriter? t_writer;

        private Protocol.RespWriter _reply = null!;
        private bool _fields, _values, _pairs;
        private byte[] _pattern = new byte[64];
        private int _patternLength = -1;
        private ulong _want, _left, _rng;
        private bool _sampling;
        /// <summary>Count matching elements instead of writing them (HSCAN's first pass).</summary>
        public bool CountOnly;
        public long Counted;

        public static EntryWriter For(Protocol.RespWriter reply, bool fields, bool values, bool pairs)
        {
            var w = t_writer ??= new EntryWriter();
            w._reply = reply;
            w._fields = fields;
            w._values = values;
            w._pairs = pairs;
            w._patternLength = -1;
            w._sampling = false;
            w.CountOnly = false;
            w.Counted = 0;
            return w;
        }

        /// <summary>MATCH: only fields the pattern matches (an empty pattern matches all).</summary>
        public void Filter(ReadOnlySpan<byte> pattern)
        {
            if (pattern.IsEmpty) return;
            if (_pattern.Length < pattern.Length) _pattern = new byte[pattern.Length];
            pattern.CopyTo(_pattern);
            _patternLength = pattern.Length;
        }

        /// <summary>Knuth's selection sampling: of the <paramref name="size"/> elements to come, keep <paramref name="want"/>.</summary>
        public void Sample(ulong want, ulong size, ulong seed)
        {
            _sampling = true;
            _want = want;
            _left = size;
            _rng = seed;
        }

        /// <summary>The sampler's state into the walk's numbers (kept across the command's reruns).</summary>
        public void Save(BucketWalk walk)
        {
            walk.A = _sampling ? _want : 0;
            walk.B = _left;
            walk.C = _rng;
        }

        /// <summary>The sampler's state as the finished rounds left it.</summary>
        public void Load(BucketWalk walk)
        {
            if (!_sampling) return;
            _want = walk.A;
            _left = walk.B;
            _rng = walk.C;
        }

        public void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            if (_patternLength >= 0 && !GlobMatcher.Match(_pattern.AsSpan(0, _patternLength), field)) return;
            if (_sampling)
            {
                if (_want == 0) return;
                // Uniform in [0, left) by Lemire's multiply: keep with odds want / left.
                ulong draw = (ulong)((UInt128)PagedHash.Mix(_rng += 0x9E3779B97F4A7C15UL) * _left >> 64);
                _left--;
                if (draw >= _want) return;
                _want--;
            }
            if (CountOnly)
            {
                Counted++;
                return;
            }
            if (_pairs) _reply.ArrayHeader(2);
            if (_fields) _reply.Bulk(field);
            if (_values) _reply.Bulk(value);
        }
    }

    /// <summary>HRANDFIELD's distinct picks (case 4): each new field once, in the order drawn.</summary>
    private sealed class PickSet : IEntrySink
    {
        [ThreadStatic] private static PickSet? t_set;

        private readonly System.Buffers.ArrayBufferWriter<byte> _bytes = new(1024);
        private readonly List<(int Start, int FieldLength, int ValueLength)> _entries = new();
        private readonly Dictionary<ulong, int> _first = new();
        private readonly List<int> _next = new(); // the next entry of the same field hash, -1 at the end
        private ulong _seed;

        public int Count => _entries.Count;

        public static PickSet For(ulong seed)
        {
            var s = t_set ??= new PickSet();
            // A set kept at a big HRANDFIELD's size would pin it per reactor: dropped past 1 MB.
            if (s._bytes.Capacity > 1 << 20) t_set = s = new PickSet();
            s._bytes.ResetWrittenCount();
            s._entries.Clear();
            s._first.Clear();
            s._next.Clear();
            s._seed = seed;
            return s;
        }

        public void At(int i, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
        {
            var (start, fl, vl) = _entries[i];
            field = _bytes.WrittenSpan.Slice(start, fl);
            value = _bytes.WrittenSpan.Slice(start + fl, vl);
        }

        public void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
        {
            ulong h = PagedHash.Hash(field, _seed);
            bool seen = _first.TryGetValue(h, out int head);
            for (int i = seen ? head : -1; i >= 0; i = _next[i])
            {
                At(i, out var f, out _);
                if (f.SequenceEqual(field)) return;
            }
            _entries.Add((_bytes.WrittenCount, field.Length, value.Length));
            _next.Add(seen ? head : -1);
            _first[h] = _entries.Count - 1;
            _bytes.Write(field);
            _bytes.Write(value);
        }
    }
}

/// <summary>
/// The random seed of a hash command that waits on disk (HRANDFIELD on a paged hash), kept under its
/// first read's slot (the key's record, which its reruns are answered from): a rerun draws the same
/// buckets, already read, instead of new ones that might be on disk too.
/// </summary>
internal static class HashSeeds
{
    [ThreadStatic] private static Dictionary<OpSlot, ulong>? t_seeds;

    public static ulong For(OpSlot read)
    {
        if (t_seeds is { Count: > 0 } seeds && seeds.Remove(read, out ulong seed)) return seed;
        return (ulong)Random.Shared.NextInt64() ^ ((ulong)Random.Shared.Next() << 63);
    }

    public static void Keep(OpSlot read, ulong seed)
    {
        var seeds = t_seeds ??= new();
        // A client that closed while waiting leaves its entry; a stale seed is only a seed.
        if (seeds.Count > 4096) seeds.Clear();
        seeds[read] = seed;
    }
}
