namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>Receives the elements a scan or a random pick yields (a set's value is empty).</summary>
public interface IEntrySink
{
    void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value);
}

public static partial class PagedHash
{
    /// <summary>Most buckets one scan step reads: the research doc's bound on outstanding page reads.</summary>
    public const int MaxScanBuckets = 64;

    /// <summary>
    /// Buckets a scan step from <paramref name="cursor"/> visits: enough to yield about
    /// <paramref name="count"/> elements at the average load (COUNT is a hint, as in Redis), at least one.
    /// </summary>
    public static int ScanBuckets(in PagedMeta meta, ulong cursor, int count)
    {
        ulong buckets = meta.Buckets;
        if (cursor >= buckets) return 0;
        ulong want = meta.Count == 0 ? (ulong)MaxScanBuckets : ((ulong)Math.Max(count, 1) * buckets + meta.Count - 1) / meta.Count;
        return (int)Math.Min(Math.Min(Math.Max(want, 1), MaxScanBuckets), buckets - cursor);
    }

    /// <summary>Pages <see cref="Scan"/> still needs: the step's buckets, then the chunks of their out-of-line values.</summary>
    public static void NeedsScan(in PagedMeta meta, ulong cursor, int count, PageSet pages, List<PageKey> needs)
    {
        int n = ScanBuckets(meta, cursor, count);
        bool allInHand = true;
        for (int i = 0; i < n; i++)
        {
            var key = BucketKey(meta, cursor + (ulong)i);
            if (pages.State(key) != PageState.NotInHand) continue;
            Need(pages, needs, key);
            allInHand = false;
        }
        if (!allInHand || !HasValues(meta)) return;
        for (int i = 0; i < n; i++)
        {
            var r = new BucketPage.Reader(pages.Get(BucketKey(meta, cursor + (ulong)i)), true);
            while (r.Next(out var e))
                if (e.OutOfLine) NeedChunks(meta, e.FirstValuePage, e.ValueLength, pages, needs);
        }
    }

    /// <summary>
    /// One HSCAN/SSCAN step: yields every element of buckets cursor .. cursor+k-1 (k from
    /// <see cref="ScanBuckets"/>) and returns the next cursor, 0 after the last bucket. The cursor is a
    /// bucket index. The guarantee, over a full iteration from cursor 0 back to 0 while the collection
    /// changes between steps: every element present from start to end is yielded at least once (an
    /// element only ever moves on a split, from bucket s to s + 2^level = the bucket count before the
    /// split, never below the cursor, and a step reads whole buckets); a step never yields an element
    /// twice; an element is yielded more than once only if a split moved it from a bucket already
    /// visited to one not yet visited (at most once per split of its bucket, which growth by a factor
    /// g bounds by log2 g + 1); an element added or removed during the iteration may or may not be
    /// yielded. Shrinking never moves an element (buckets never merge). A cursor past the last bucket
    /// (not one this collection returned) yields nothing and returns 0.
    /// </summary>
    public static ulong Scan(in PagedMeta meta, ulong cursor, int count, PageSet pages, IEntrySink sink)
    {
        int n = ScanBuckets(meta, cursor, count);
        bool hasValues = HasValues(meta);
        for (int i = 0; i < n; i++)
        {
            var r = new BucketPage.Reader(pages.Get(BucketKey(meta, cursor + (ulong)i)), hasValues);
            while (r.Next(out var e))
            {
                if (!e.OutOfLine)
                {
                    sink.Entry(e.Field, e.InlineValue);
                    continue;
                }
                var scratch = pages.Scratch;
                CopyValue(meta, e, pages, scratch);
                sink.Entry(e.Field, scratch.WrittenSpan);
            }
        }
        ulong next = cursor + (ulong)n;
        return n == 0 || next >= meta.Buckets ? 0 : next;
    }

    // ---- random element -------------------------------------------------------------------------

    /// <summary>
    /// Tries a random pick makes before it settles for the first non-empty bucket it finds: each try
    /// draws a bucket and a slot in [0, K), K = 1.25 x the expected load of an unsplit bucket, and keeps
    /// the slot's element if the bucket has one there. Accepting in proportion to the bucket's size is
    /// what makes the pick uniform over elements rather than over buckets (unsplit buckets hold twice
    /// what split ones do); measured in PagedHashModelTests.Random_element_is_nearly_uniform.
    /// </summary>
    public const int RandomTries = 8;

    /// <summary>Pages <see cref="Random"/> still needs (the next bucket the pick will look at, then the value's chunks).</summary>
    public static void NeedsRandom(in PagedMeta meta, ulong seed, PageSet pages, List<PageKey> needs, int tries = RandomTries, int firstTry = 0)
    {
        if (meta.Count == 0) return;
        if (!Pick(meta, seed, tries, firstTry, pages, out var bucket, out int index))
        {
            // A draw needs its bucket; the walk (index -2) reads ahead, a scan step's worth a round, since
            // a collection far below its bucket count (buckets never merge) may have long empty runs.
            int ahead = index == -2 ? (int)Math.Min((ulong)MaxScanBuckets, meta.Buckets) : 1;
            for (int i = 0; i < ahead; i++) Need(pages, needs, BucketKey(meta, (bucket + (ulong)i) % meta.Buckets));
            return;
        }
        if (!HasValues(meta)) return;
        var r = new BucketPage.Reader(pages.Get(BucketKey(meta, bucket)), true);
        for (int i = 0; r.Next(out var e); i++)
            if (i == index && e.OutOfLine) NeedChunks(meta, e.FirstValuePage, e.ValueLength, pages, needs);
    }

    /// <summary>
    /// A random element (SRANDMEMBER, HRANDFIELD, SPOP's choice), drawn from <paramref name="seed"/>:
    /// a replayed command passes the same seed and so looks at the same buckets. False when empty.
    /// </summary>
    public static bool Random(in PagedMeta meta, ulong seed, PageSet pages, IEntrySink sink, int tries = RandomTries, int firstTry = 0)
    {
        if (meta.Count == 0) return false;
        if (!Pick(meta, seed, tries, firstTry, pages, out var bucket, out int index))
            throw new InvalidOperationException($"bucket {bucket} of collection {meta.Cid} is not in hand");
        var r = new BucketPage.Reader(pages.Get(BucketKey(meta, bucket)), HasValues(meta));
        for (int i = 0; r.Next(out var e); i++)
        {
            if (i != index) continue;
            if (!e.OutOfLine)
            {
                sink.Entry(e.Field, e.InlineValue);
                return true;
            }
            var scratch = pages.Scratch;
            CopyValue(meta, e, pages, scratch);
            sink.Entry(e.Field, scratch.WrittenSpan);
            return true;
        }
        throw new InvalidDataException($"bucket {bucket} of collection {meta.Cid} has no entry {index}");
    }

    /// <summary>Try <paramref name="t"/>'s draw of a pick from <paramref name="seed"/>: its bucket is the draw modulo the bucket count.</summary>
    public static ulong Draw(ulong seed, int t) => Mix(seed + (ulong)t * P1);

    /// <summary>K, the slots a draw picks among: 1.25 x the expected load of an unsplit bucket.</summary>
    public static ulong DrawBound(in PagedMeta meta) => Math.Max(1, meta.Count * 5 / 4 / (1UL << meta.Level) + 1);

    /// <summary>The entry a draw takes from its bucket of <paramref name="n"/> entries, or -1 (the slot is empty: the next try).</summary>
    public static int DrawnIndex(ulong draw, ulong k, int n)
    {
        // A bucket past K (rare): any of its entries, so none is unreachable.
        if ((ulong)n > k) return (int)(Mix(draw ^ P1) % (ulong)n);
        ulong slot = Mix(draw ^ P2) % k;
        return slot < (ulong)n ? (int)slot : -1;
    }

    /// <summary>
    /// The pick: true with the bucket and entry index, or false with the bucket it must read next
    /// (index -1 for a draw, -2 for the walk).
    /// After <paramref name="tries"/> draws it walks up from the last drawn bucket to the first
    /// non-empty one (the collection is not empty, so one exists) and takes a drawn slot in it. The draws before
    /// <paramref name="firstTry"/> are known to have missed (SPOP's in-record tries, on the same pages): not looked at again.
    /// </summary>
    private static bool Pick(in PagedMeta meta, ulong seed, int tries, int firstTry, PageSet pages, out ulong bucket, out int index)
    {
        ulong buckets = meta.Buckets;
        ulong k = DrawBound(meta);
        bucket = tries > 0 ? Draw(seed, tries - 1) % buckets : 0; // where the walk starts when every draw misses
        for (int t = firstTry; t < tries; t++)
        {
            ulong draw = Draw(seed, t);
            bucket = draw % buckets;
            var key = BucketKey(meta, bucket);
            if (pages.State(key) == PageState.NotInHand)
            {
                index = -1;
                return false;
            }
            index = DrawnIndex(draw, k, BucketPage.CountOf(pages.Get(key)));
            if (index >= 0) return true;
        }
        ulong rest = Mix(seed ^ P2);
        for (ulong j = 1; j <= buckets; j++)
        {
            ulong b = (bucket + j) % buckets;
            var key = BucketKey(meta, b);
            if (pages.State(key) == PageState.NotInHand)
            {
                bucket = b;
                index = -2;
                return false;
            }
            int n = BucketPage.CountOf(pages.Get(key));
            if (n == 0) continue;
            bucket = b;
            index = (int)(rest % (ulong)n);
            return true;
        }
        throw new InvalidDataException($"collection {meta.Cid} counts {meta.Count} elements and has none");
    }
}
