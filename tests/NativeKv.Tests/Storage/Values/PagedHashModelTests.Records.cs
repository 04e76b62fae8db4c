using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage.Values;

public partial class PagedHashModelTests
{
    private static byte[] Encode(ElementOp op, ulong cid, string field, byte[]? value = null)
    {
        var r = new ElementRecord(op, cid, B("key"), B(field), value);
        var buf = new byte[r.EncodedSize];
        int n = r.Encode(buf);
        return n == buf.Length ? buf : throw new InvalidOperationException($"encoded {n} of {buf.Length}");
    }

    /// <summary>
    /// A run of random writes that keeps its element records (what the AOF would log: an HSET/SADD for
    /// each element added or changed, an HDEL/SREM for each one removed).
    /// </summary>
    private sealed class LoggedRun
    {
        public readonly PagedDriver Driver;
        public readonly Dictionary<string, byte[]> Model = new();
        public readonly List<byte[]> Records = new();
        private readonly List<string> _keys = new();
        private readonly Random _rng;
        private readonly bool _hash;
        private int _next;

        public LoggedRun(PagedKind kind, int seed)
        {
            _rng = new Random(seed);
            _hash = kind == PagedKind.Hash;
            // A hash gets the 1 KB pages of a hash that left its listpack by count (values up to 5000 bytes: many out of line).
            int shift = _hash ? PagedHash.SmallPageShift : PagedHash.DefaultPageShift;
            Driver = new PagedDriver(PagedMeta.Create(900 + (ulong)seed, kind, shift), new InMemoryPageStore(1 << shift));
        }

        public void Step()
        {
            int op = _rng.Next(100);
            ulong cid = Driver.Meta.Cid;
            if (_keys.Count == 0 || op < 50)
            {
                // Mostly new fields, some re-adds of a few hot names (a delete and re-add between checkpoint and crash).
                string f = op < 10 ? $"hot:{_rng.Next(50)}" : $"f:{_next++}";
                var v = _hash ? Value(_rng, 5000) : [];
                if (Driver.Set(B(f), v) == SetResult.Unchanged) return;
                if (!Model.ContainsKey(f)) _keys.Add(f);
                Model[f] = v;
                Records.Add(Encode(_hash ? ElementOp.HSet : ElementOp.SAdd, cid, f, v));
            }
            else if (op < 70 && _hash)
            {
                string f = _keys[_rng.Next(_keys.Count)];
                var v = Value(_rng, 5000);
                Driver.Set(B(f), v);
                Model[f] = v;
                Records.Add(Encode(ElementOp.HSet, cid, f, v));
            }
            else
            {
                int i = _rng.Next(_keys.Count);
                string f = _keys[i];
                Driver.Delete(B(f));
                Model.Remove(f);
                _keys[i] = _keys[^1];
                _keys.RemoveAt(_keys.Count - 1);
                Records.Add(Encode(_hash ? ElementOp.HDel : ElementOp.SRem, cid, f));
            }
        }
    }

    /// <summary>
    /// Crash and replay: a checkpoint (a copy of the page store, and the meta through its binary
    /// form, as the main record would hold it) at a random point; the pages dropped at a later random
    /// point; the collection rebuilt from the checkpoint plus the element records from somewhat before
    /// the checkpoint (so some apply twice) up to the crash, a few of them repeated again; it must
    /// equal the model at the crash.
    /// </summary>
    [Test]
    [Arguments(PagedKind.Hash, 21)]
    [Arguments(PagedKind.Hash, 22)]
    [Arguments(PagedKind.Set, 23)]
    [Arguments(PagedKind.Set, 24)]
    public async Task Crash_and_replay_from_a_checkpoint_rebuilds_the_model(PagedKind kind, int seed)
    {
        var rng = new Random(seed * 31);
        var run = new LoggedRun(kind, seed);
        int steps = 30_000, checkpointAt = rng.Next(steps / 4, steps / 2), crashAt = rng.Next(checkpointAt, steps);
        InMemoryPageStore? pages = null;
        var meta = new byte[PagedMeta.Size];
        int recordsAtCheckpoint = 0;
        for (int step = 0; step < crashAt; step++)
        {
            if (step == checkpointAt)
            {
                pages = run.Driver.Store.Checkpoint();
                run.Driver.Meta.Write(meta);
                recordsAtCheckpoint = run.Records.Count;
            }
            run.Step();
        }
        await Assert.That(pages).IsNotNull();
        // The crash: the live pages are gone; what is left is the checkpoint and the log.
        await Assert.That(PagedMeta.TryRead(meta, out var restored)).IsTrue();
        var rebuilt = new PagedDriver(restored, pages!);
        int from = recordsAtCheckpoint - rng.Next(0, Math.Min(recordsAtCheckpoint, 2000) + 1);
        int repeats = 0;
        for (int i = from; i < run.Records.Count; i++)
        {
            await Assert.That(rebuilt.Apply(run.Records[i])).IsTrue();
            if (rng.Next(20) == 0)
            {
                rebuilt.Apply(run.Records[i]);
                repeats++;
            }
        }
        await Assert.That(recordsAtCheckpoint - from + repeats).IsGreaterThan(0).Because("some records applied twice");
        await AssertSameAsModel(rebuilt, run.Model, $"rebuilt from checkpoint at {checkpointAt}, crash at {crashAt}, replay from record {from}");
    }

    /// <summary>Applying every record twice in a row, or the whole log twice over, ends where applying it once does.</summary>
    [Test]
    [Arguments(PagedKind.Hash, 31)]
    [Arguments(PagedKind.Set, 32)]
    public async Task Element_records_are_idempotent(PagedKind kind, int seed)
    {
        var run = new LoggedRun(kind, seed);
        for (int i = 0; i < 8000; i++) run.Step();
        var once = new PagedDriver(PagedMeta.Create(run.Driver.Meta.Cid, kind, run.Driver.Meta.PageShift), new InMemoryPageStore(run.Driver.Meta.PageSize));
        var twiceEach = new PagedDriver(PagedMeta.Create(run.Driver.Meta.Cid, kind, run.Driver.Meta.PageShift), new InMemoryPageStore(run.Driver.Meta.PageSize));
        var logTwice = new PagedDriver(PagedMeta.Create(run.Driver.Meta.Cid, kind, run.Driver.Meta.PageShift), new InMemoryPageStore(run.Driver.Meta.PageSize));
        foreach (var r in run.Records)
        {
            once.Apply(r);
            twiceEach.Apply(r);
            twiceEach.Apply(r);
            logTwice.Apply(r);
        }
        foreach (var r in run.Records) logTwice.Apply(r);
        await AssertSameAsModel(once, run.Model, "applied once");
        await AssertSameAsModel(twiceEach, run.Model, "each record twice");
        await AssertSameAsModel(logTwice, run.Model, "the log twice");
    }

    [Test]
    public async Task A_record_of_another_collection_id_is_skipped()
    {
        var d = new PagedDriver(PagedMeta.Create(5, PagedKind.Hash), new InMemoryPageStore());
        d.Set(B("f"), B("live"));
        await Assert.That(d.Apply(Encode(ElementOp.HSet, 4, "f", B("old life")))).IsFalse();
        await Assert.That(d.Apply(Encode(ElementOp.HDel, 4, "f"))).IsFalse();
        await Assert.That(d.Lookup(B("f"))).IsEquivalentTo(B("live"));
        await Assert.That(d.Apply(Encode(ElementOp.HDel, 5, "f"))).IsTrue();
        await Assert.That(d.Lookup(B("f"))).IsNull();
        await Assert.That(d.Meta.Count).IsEqualTo(0UL);
    }

    [Test]
    public async Task Element_record_round_trips_and_rejects_a_cut_record()
    {
        var rng = new Random(6);
        foreach (var op in new[] { ElementOp.HSet, ElementOp.HDel, ElementOp.SAdd, ElementOp.SRem })
        {
            foreach (int len in new[] { 0, 1, 127, 128, 20_000 })
            {
                var field = new byte[len];
                var value = new byte[len / 2 + 3];
                rng.NextBytes(field);
                rng.NextBytes(value);
                var rec = new ElementRecord(op, 0x0102030405060708UL, B("user:1"), field, value);
                var buf = new byte[rec.EncodedSize + 5];
                int n = rec.Encode(buf);
                await Assert.That(n).IsEqualTo(rec.EncodedSize);
                bool decoded = ElementRecord.TryDecode(buf, out var back, out int consumed);
                var (bop, bcid, bkey, bfield, bvalue) = (back.Op, back.Cid, back.Key.ToArray(), back.Field.ToArray(), back.Value.ToArray());
                await Assert.That(decoded).IsTrue();
                await Assert.That(consumed).IsEqualTo(n);
                await Assert.That(bop).IsEqualTo(op);
                await Assert.That(bcid).IsEqualTo(0x0102030405060708UL);
                await Assert.That(bkey).IsEquivalentTo(B("user:1"));
                await Assert.That(bfield.SequenceEqual(field)).IsTrue();
                await Assert.That(bvalue.SequenceEqual(op == ElementOp.HSet ? value : [])).IsTrue();
                for (int cut = 0; cut < n; cut += Math.Max(1, n / 50))
                    await Assert.That(ElementRecord.TryDecode(buf.AsSpan(0, cut), out _, out _)).IsFalse().Because($"{op} cut at {cut} of {n}");
            }
        }
        var bad = new byte[20];
        bad[0] = 200; // no op has this byte
        await Assert.That(ElementRecord.TryDecode(bad, out _, out _)).IsFalse();
    }

    [Test]
    public async Task Meta_round_trips_through_its_fixed_layout()
    {
        var d = new PagedDriver(PagedMeta.Create(0xABCDEF0123UL, PagedKind.Hash, pageShift: 11, loadPercent: 90), new InMemoryPageStore(2048));
        for (int i = 0; i < 3000; i++) d.Set(B($"f{i}"), new byte[i % 700 == 0 ? 5000 : 10]);
        var buf = new byte[PagedMeta.Size];
        d.Meta.Write(buf);
        await Assert.That(PagedMeta.TryRead(buf, out var back)).IsTrue();
        await Assert.That(back).IsEqualTo(d.Meta);
        await Assert.That(back.Level).IsGreaterThan((byte)0);
        await Assert.That(back.NextValuePage).IsGreaterThan(0UL);
        var corrupt = (byte[])buf.Clone();
        corrupt[0] = 2;
        await Assert.That(PagedMeta.TryRead(corrupt, out _)).IsFalse().Because("unknown version");
        corrupt = (byte[])buf.Clone();
        corrupt[1] = 7;
        await Assert.That(PagedMeta.TryRead(corrupt, out _)).IsFalse().Because("unknown kind");
        corrupt = (byte[])buf.Clone();
        corrupt[32..40].AsSpan().Fill(0xFF);
        BitConverter.TryWriteBytes(corrupt.AsSpan(32), 1UL << back.Level);
        await Assert.That(PagedMeta.TryRead(corrupt, out _)).IsFalse().Because("split pointer past the round");
        await Assert.That(PagedMeta.TryRead(buf.AsSpan(0, PagedMeta.Size - 1), out _)).IsFalse().Because("cut short");
    }

    /// <summary>
    /// Size: 1M 16-byte fields with 32-byte values. Page bytes are what a store that keeps each bucket
    /// record at a whole number of pages holds (FASTER in-place updates need the room); Redis 7's
    /// hashtable encoding costs 70-90 bytes a field for the same data.
    /// </summary>
    [Test]
    public async Task Bytes_per_element_at_one_million_fields()
    {
        var store = new InMemoryPageStore();
        var d = new PagedDriver(PagedMeta.Create(1, PagedKind.Hash), store);
        var value = new byte[32];
        var field = new byte[16];
        for (int i = 0; i < 1_000_000; i++)
        {
            System.Text.Encoding.ASCII.GetBytes($"field:{i:D10}", field);
            value[0] = (byte)i;
            d.Set(field, value);
        }
        long used = 0, rounded = 0, oversized = 0, pages = 0;
        int pageSize = d.Meta.PageSize;
        foreach (var (key, page) in store.Pages)
        {
            pages++;
            used += page.Length;
            rounded += page.Buffer.Length;
            if (page.Length > pageSize) oversized++;
        }
        // A FASTER record around a page: an 8-byte header, the 4-byte-length key (namespace + 17) and the value length.
        const int RecordOverhead = 8 + 4 + 4 + PageKey.EncodedSize + 4;
        double perElement = (rounded + pages * RecordOverhead) / 1e6;
        Console.WriteLine($"1M fields: {d.Meta.Buckets} buckets, {oversized} past {pageSize} B, used {used / 1e6:F1} B/field, " +
            $"page bytes {rounded / 1e6:F1} B/field, with record headers {perElement:F1} B/field; writes {store.Writes}");
        await Assert.That(d.Meta.Count).IsEqualTo(1_000_000UL);
        await Assert.That(perElement).IsLessThan(80.0);
        await Assert.That(d.Verify()).IsNull();
    }
}
