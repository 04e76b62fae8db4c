using System.Text;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage.Values;

public partial class PagedHashModelTests
{
    /// <summary>
    /// The SCAN guarantee while the collection grows 20-fold and then shrinks to a tenth during one
    /// iteration: every element present from start to end is yielded at least once; no step yields an
    /// element twice; nothing is yielded that was never there; and an element is yielded at most once
    /// more than the times a split could have moved it (log2 of the bucket growth, plus one).
    /// </summary>
    [Test]
    [Arguments(PagedKind.Set, 11)]
    [Arguments(PagedKind.Hash, 12)]
    public async Task Scan_yields_every_stable_element_while_growing_and_shrinking(PagedKind kind, int seed)
    {
        var rng = new Random(seed);
        // 512-byte pages: ~50 elements a bucket, so the scan crosses thousands of buckets and splits.
        var d = new PagedDriver(PagedMeta.Create((ulong)seed, kind, pageShift: 9), new InMemoryPageStore(512));
        var stable = new List<string>();
        for (int i = 0; i < 5000; i++)
        {
            string f = $"stable:{i}";
            d.Set(B(f), kind == PagedKind.Hash ? B(f) : []);
            stable.Add(f);
        }
        var transient = new List<string>();
        var ever = new HashSet<string>(stable);
        int made = 0;
        var returned = new Dictionary<string, int>();
        ulong startBuckets = d.Meta.Buckets, cursor = 0;
        int steps = 0;
        do
        {
            var sink = new CollectingSink();
            cursor = d.ScanStep(cursor, rng.Next(1, 60), sink);
            var inStep = new HashSet<string>();
            foreach (var (f, v) in sink.Items)
            {
                if (!inStep.Add(f)) await Assert.That(f).IsNull().Because($"step {steps} yields {f} twice");
                if (!ever.Contains(f)) await Assert.That(f).IsNull().Because($"{f} was never present");
                if (kind == PagedKind.Hash && Encoding.Latin1.GetString(v) != f) await Assert.That(Encoding.Latin1.GetString(v)).IsEqualTo(f);
                returned[f] = returned.GetValueOrDefault(f) + 1;
            }
            steps++;
            // Grow to ~100k over the first part of the scan (thousands of splits behind and ahead of the cursor), then shrink.
            bool grow = made < 100_000 && cursor < d.Meta.Buckets / 2;
            int adds = grow ? rng.Next(1000, 3000) : rng.Next(0, 3);
            for (int i = 0; i < adds; i++)
            {
                string f = $"t:{made++}";
                d.Set(B(f), kind == PagedKind.Hash ? B(f) : []);
                transient.Add(f);
                ever.Add(f);
            }
            int dels = grow ? rng.Next(0, 100) : Math.Min(transient.Count - 5000, rng.Next(500, 3000));
            for (int i = 0; i < dels && transient.Count > 0; i++)
            {
                int j = rng.Next(transient.Count);
                if (!d.Delete(B(transient[j]))) await Assert.That(transient[j]).IsNull().Because("a present element deletes");
                transient[j] = transient[^1];
                transient.RemoveAt(transient.Count - 1);
            }
        } while (cursor != 0 && steps < 1_000_000);

        await Assert.That(cursor).IsEqualTo(0UL);
        await Assert.That(made).IsGreaterThan(90_000);
        await Assert.That(d.Meta.Count).IsLessThan(20_000UL).Because("the collection shrank again before the scan ended");
        int maxReturns = 1 + (int)Math.Ceiling(Math.Log2((double)d.Meta.Buckets / startBuckets)) + 1;
        foreach (var f in stable)
        {
            int n = returned.GetValueOrDefault(f);
            if (n < 1 || n > maxReturns) await Assert.That(n).IsBetween(1, maxReturns).Because($"{f} was present for the whole scan");
        }
        await Assert.That(d.Verify()).IsNull();
    }

    [Test]
    public async Task Scan_cursor_past_the_end_yields_nothing_and_an_empty_collection_ends_at_once()
    {
        var d = new PagedDriver(PagedMeta.Create(5, PagedKind.Set), new InMemoryPageStore());
        var sink = new CollectingSink();
        await Assert.That(d.ScanStep(0, 10, sink)).IsEqualTo(0UL);
        await Assert.That(sink.Items.Count).IsEqualTo(0);
        for (int i = 0; i < 1000; i++) d.Set(B($"m{i}"), []);
        await Assert.That(d.ScanStep(d.Meta.Buckets + 5, 10, sink)).IsEqualTo(0UL);
        await Assert.That(sink.Items.Count).IsEqualTo(0);
        // COUNT is a hint: a step of COUNT 10 reads one bucket at ~60 elements a bucket, COUNT 1000 about 1000 elements' worth.
        await Assert.That(PagedHash.ScanBuckets(d.Meta, 0, 10)).IsEqualTo(1);
        ulong next = d.ScanStep(0, 1000, sink);
        await Assert.That(sink.Items.Count).IsGreaterThan(500);
        await Assert.That(next).IsEqualTo(0UL).Because("1000 elements' worth of buckets is all of them");
    }

    /// <summary>
    /// Random picks against the ideal (each element 1/n): the chi-square per degree of freedom of the
    /// pick counts, measured at the middle of a linear-hashing round (half the buckets split, so
    /// unsplit buckets hold twice what split ones do), for a plain "random bucket, random entry" pick
    /// and for the size-weighted pick with <see cref="PagedHash.RandomTries"/> tries.
    /// </summary>
    [Test]
    public async Task Random_element_is_nearly_uniform()
    {
        // 512-byte pages: ~50 elements a bucket, so a round of 64+ buckets holds a few thousand.
        var d = new PagedDriver(PagedMeta.Create(77, PagedKind.Set, pageShift: 9), new InMemoryPageStore(512));
        int n = 0;
        // Grow until the split pointer is half way through a round of at least 64 buckets.
        while (d.Meta.Level < 6 || d.Meta.Split < (1UL << d.Meta.Level) / 2) d.Set(B($"m{n++}"), []);
        var rng = new Random(9);
        const int PerElement = 100;
        double Chi(int tries)
        {
            var counts = new Dictionary<string, int>();
            var sink = new CollectingSink();
            for (int i = 0; i < n * PerElement; i++)
            {
                sink.Items.Clear();
                d.Random((ulong)rng.NextInt64(), sink, tries);
                counts[sink.Items[0].Field] = counts.GetValueOrDefault(sink.Items[0].Field) + 1;
            }
            double chi = 0;
            for (int i = 0; i < n; i++)
            {
                double c = counts.GetValueOrDefault($"m{i}");
                chi += (c - PerElement) * (c - PerElement) / PerElement;
            }
            return chi / (n - 1);
        }
        double plain = Chi(1);
        long reads = d.Store.Reads;
        double weighted = Chi(PagedHash.RandomTries);
        double readsPerPick = (d.Store.Reads - reads) / (double)(n * PerElement);
        Console.WriteLine($"random pick over {n} elements in {d.Meta.Buckets} buckets, {PerElement} picks each: chi2/df plain {plain:F2}, " +
            $"weighted ({PagedHash.RandomTries} tries) {weighted:F2} (uniform: 1.00 +- {Math.Sqrt(2.0 / n):F2}), {readsPerPick:F2} bucket reads a pick");
        await Assert.That(readsPerPick).IsLessThan(2.5);
        await Assert.That(plain).IsGreaterThan(3.0).Because("the plain pick is biased by bucket size (this test can tell)");
        await Assert.That(weighted).IsLessThan(1.5);
    }

    [Test]
    public async Task Random_element_of_a_sparse_collection_walks_past_empty_buckets()
    {
        var d = new PagedDriver(PagedMeta.Create(78, PagedKind.Hash), new InMemoryPageStore());
        for (int i = 0; i < 100_000; i++) d.Set(B($"f{i}"), B($"v{i}"));
        for (int i = 0; i < 100_000; i++) if (i != 12_345) d.Delete(B($"f{i}"));
        var sink = new CollectingSink();
        await Assert.That(d.Random(42, sink)).IsTrue();
        await Assert.That(sink.Items[0].Field).IsEqualTo("f12345");
        // Hundreds of empty buckets: the walk reads them 64 a round (one a round took a round per bucket).
        await Assert.That(d.Meta.Buckets).IsGreaterThan(300UL);
        await Assert.That(d.RandomRounds).IsLessThanOrEqualTo(PagedHash.RandomTries + (int)(d.Meta.Buckets / PagedHash.MaxScanBuckets) + 2);
        await Assert.That(Encoding.Latin1.GetString(sink.Items[0].Value)).IsEqualTo("v12345");
        d.Delete(B("f12345"));
        sink.Items.Clear();
        await Assert.That(d.Random(42, sink)).IsFalse();
    }
}
