using System.Text;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// The paged hash against a plain dictionary: random operation sequences (insert, overwrite, delete,
/// lookup, count, full scan), the scan guarantee while the structure grows and shrinks, random picks,
/// element records (codec, idempotence, crash and replay from a checkpoint), and its size.
/// </summary>
public partial class PagedHashModelTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    private static byte[] Value(Random rng, int maxLarge)
    {
        int roll = rng.Next(1000);
        int len = roll < 900 ? rng.Next(0, 40) : roll < 990 ? rng.Next(900, 1200) : rng.Next(1, maxLarge + 1);
        var v = new byte[len];
        rng.NextBytes(v);
        return v;
    }

    private static async Task AssertSameAsModel(PagedDriver d, Dictionary<string, byte[]> model, string when)
    {
        await Assert.That(d.Verify()).IsNull().Because(when);
        await Assert.That(d.Meta.Count).IsEqualTo((ulong)model.Count).Because(when);
        var seen = new Dictionary<string, byte[]>();
        foreach (var (f, v) in d.FullScan(count: 37))
            if (!seen.TryAdd(f, v)) await Assert.That(f).IsNull().Because($"{when}: a quiet full scan yields {f} twice");
        await Assert.That(seen.Count).IsEqualTo(model.Count).Because(when);
        foreach (var (f, v) in model)
            if (!seen.TryGetValue(f, out var got) || !got.AsSpan().SequenceEqual(v)) await Assert.That(f).IsNull().Because($"{when}: {f} differs");
    }

    /// <summary>
    /// Runs <paramref name="steps"/> random operations, growing towards <paramref name="peak"/> elements
    /// for the first half and shrinking after; every operation is checked against the model at once,
    /// the whole structure every <paramref name="fullEvery"/> steps.
    /// </summary>
    private static async Task RunModel(PagedKind kind, int seed, int steps, int peak, int fullEvery, int maxLarge)
    {
        var rng = new Random(seed);
        var d = new PagedDriver(PagedMeta.Create((ulong)seed * 1000 + 7, kind), new InMemoryPageStore());
        var model = new Dictionary<string, byte[]>();
        var keys = new List<string>();
        bool hash = kind == PagedKind.Hash;
        int next = 0;
        // A scan runs through the whole sequence, a step every eighth operation: at its end, every element
        // neither added nor removed since it began (present throughout) must have been yielded.
        ulong scanCursor = 0;
        var scanned = new HashSet<string>();
        var touched = new HashSet<string>();
        int scansDone = 0;
        var sink = new CollectingSink();
        var fieldSink = new FieldSink(scanned);
        for (int step = 0; step < steps; step++)
        {
            if (step % 8 == 0)
            {
                scanCursor = d.ScanStep(scanCursor, 10, fieldSink);
                if (scanCursor == 0)
                {
                    foreach (var f in model.Keys)
                        if (!touched.Contains(f) && !scanned.Contains(f)) await Assert.That(f).IsNull().Because($"step {step}: the scan missed {f}");
                    scanned.Clear();
                    touched.Clear();
                    scansDone++;
                }
            }
            if (step % 50 == 0 && model.Count > 0)
            {
                sink.Items.Clear();
                d.Random((ulong)rng.NextInt64(), sink);
                var (f, v) = sink.Items[0];
                if (!model.TryGetValue(f, out var mv) || !mv.AsSpan().SequenceEqual(v)) await Assert.That(f).IsNull().Because($"step {step}: random pick {f}");
            }
            bool growing = step < steps / 2 && model.Count < peak;
            int op = rng.Next(100);
            if (model.Count == 0 || (growing ? op < 55 : op < 10))
            {
                string f = $"f:{next++}:{rng.Next()}";
                var v = hash ? Value(rng, maxLarge) : [];
                if (d.Set(B(f), v) != SetResult.Added) await Assert.That(f).IsNull().Because($"step {step}: {f} is new");
                model[f] = v;
                keys.Add(f);
                touched.Add(f);
            }
            else if (op < (growing ? 70 : 25))
            {
                string f = keys[rng.Next(keys.Count)];
                var v = hash ? Value(rng, maxLarge) : [];
                var expected = !hash || v.AsSpan().SequenceEqual(model[f]) ? SetResult.Unchanged : SetResult.Updated;
                var got = d.Set(B(f), v);
                if (got != expected && !(expected == SetResult.Unchanged && got == SetResult.Updated && v.Length > 1024))
                    await Assert.That(got).IsEqualTo(expected).Because($"step {step}: overwrite {f}");
                model[f] = v;
            }
            else if (op < (growing ? 85 : 90))
            {
                int i = rng.Next(keys.Count);
                string f = keys[i];
                if (!d.Delete(B(f))) await Assert.That(f).IsNull().Because($"step {step}: delete {f}");
                model.Remove(f);
                touched.Add(f);
                string last = keys[^1];
                keys[i] = last;
                keys.RemoveAt(keys.Count - 1);
                if (d.Lookup(B(f)) is not null) await Assert.That(f).IsNull().Because($"step {step}: {f} was deleted");
            }
            else if (op < 93)
            {
                if (d.Delete(B($"absent:{rng.Next()}"))) await Assert.That(step).IsNegative().Because("an absent field deletes nothing");
            }
            else if (op < 96)
            {
                if (d.Lookup(B($"absent:{rng.Next()}")) is not null) await Assert.That(step).IsNegative().Because("an absent field is not found");
            }
            else
            {
                string f = keys[rng.Next(keys.Count)];
                var got = d.Lookup(B(f));
                if (got is null || !got.AsSpan().SequenceEqual(model[f])) await Assert.That(f).IsNull().Because($"step {step}: lookup {f}");
            }
            if (d.Meta.Count != (ulong)model.Count) await Assert.That(d.Meta.Count).IsEqualTo((ulong)model.Count).Because($"step {step}");
            if ((step + 1) % fullEvery == 0) await AssertSameAsModel(d, model, $"seed {seed} step {step}");
        }
        await AssertSameAsModel(d, model, $"seed {seed} end");
        await Assert.That(scansDone).IsGreaterThan(2);
        // A mutation reads its pages in one round; a read in at most two (the bucket, then value chunks).
        await Assert.That(d.MaxWriteRounds).IsLessThanOrEqualTo(1);
        await Assert.That(d.MaxReadRounds).IsLessThanOrEqualTo(2);
    }

    private sealed class FieldSink(HashSet<string> fields) : IEntrySink
    {
        public void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) => fields.Add(Encoding.Latin1.GetString(field));
    }

    [Test]
    public async Task Hash_matches_the_model_through_growth_and_shrink()
        => await RunModel(PagedKind.Hash, seed: 1, steps: 400_000, peak: 200_000, fullEvery: 50_000, maxLarge: 3000);

    [Test]
    public async Task Set_matches_the_model_through_growth_and_shrink()
        => await RunModel(PagedKind.Set, seed: 2, steps: 400_000, peak: 200_000, fullEvery: 50_000, maxLarge: 0);

    [Test]
    public async Task Hash_with_multi_chunk_values_matches_the_model()
        => await RunModel(PagedKind.Hash, seed: 3, steps: 6_000, peak: 1_500, fullEvery: 500, maxLarge: 3 * PagedHash.ValueChunkSize + 17);

    /// <summary>A hash loaded with 1-byte values and then rewritten with 400-byte ones (inline: under a quarter page) splits as its values grow.</summary>
    [Test]
    public async Task Overwrites_that_grow_values_split_buckets()
    {
        var store = new InMemoryPageStore();
        var d = new PagedDriver(PagedMeta.Create(45, PagedKind.Hash), store);
        var model = new Dictionary<string, byte[]>();
        for (int i = 0; i < 20_000; i++) d.Set(B($"f{i}"), model[$"f{i}"] = [(byte)i]);
        ulong before = d.Meta.Buckets;
        var big = new byte[400];
        for (int i = 0; i < 20_000; i++)
        {
            big[0] = (byte)i;
            await Assert.That(d.Set(B($"f{i}"), big)).IsEqualTo(SetResult.Updated);
            model[$"f{i}"] = (byte[])big.Clone();
        }
        int largest = store.Pages.Where(p => p.Key.Kind == PageKind.Bucket).Max(p => p.Value.Length);
        await Assert.That(d.Meta.Buckets).IsGreaterThan(before * 20);
        await Assert.That(largest).IsLessThan(4 * d.Meta.PageSize).Because($"largest bucket {largest} B");
        await AssertSameAsModel(d, model, "after growing overwrites");
    }

    [Test]
    public async Task Small_pages_and_long_fields_keep_the_invariants()
    {
        // 512-byte pages and 100-300 byte fields: buckets outgrow their nominal page and split several times per insert.
        var rng = new Random(4);
        var d = new PagedDriver(PagedMeta.Create(44, PagedKind.Hash, pageShift: 9), new InMemoryPageStore(512));
        var model = new Dictionary<string, byte[]>();
        for (int i = 0; i < 5000; i++)
        {
            string f = new string((char)('a' + i % 26), rng.Next(100, 300)) + i;
            var v = Value(rng, 2000);
            d.Set(B(f), v);
            model[f] = v;
            if (i % 3 == 0)
            {
                string g = model.Keys.ElementAt(rng.Next(model.Count));
                d.Delete(B(g));
                model.Remove(g);
            }
        }
        await AssertSameAsModel(d, model, "512-byte pages");
    }
}
