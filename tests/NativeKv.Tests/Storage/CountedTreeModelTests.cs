using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The counted tree against plain models: a List of byte arrays for the position mode, a sorted list for
/// the ordered mode. Seeded random operation sequences check every answer at once, and the whole
/// structure (<see cref="TreeDriver.Verify"/>: counts, order, fill, balance, no leaked page) and its full
/// contents every few hundred steps; the page store answers Pending at random, so the multi-round needs
/// path (a read landing in the page set, or the attempt starting again) runs throughout. Then crash and
/// replay: the logged element operations applied to a fresh tree rebuild it page for page.
/// </summary>
public class CountedTreeModelTests
{
    private enum Op : byte { InsertAt, RemoveAt, SetAt, RemoveRange, Insert, Delete }

    private readonly record struct Logged(Op Op, ulong Index, ulong Count, byte[] Element);

    private static int s_id;

    /// <summary>Mostly short, some long, a few at the limit; most carry a unique id, so an off-by-one shows.</summary>
    private static byte[] Element(Random rng, int max)
    {
        int roll = rng.Next(1000);
        int len = roll < 850 ? rng.Next(0, 25) : roll < 985 ? rng.Next(25, Math.Min(200, max) + 1) : rng.Next(max - 8, max + 1);
        var e = new byte[len];
        rng.NextBytes(e);
        if (len >= 4) BitConverter.TryWriteBytes(e, Interlocked.Increment(ref s_id));
        return e;
    }

    private static async Task SameAs(TreeDriver d, List<byte[]> model, string when)
    {
        await Assert.That(d.Verify()).IsNull().Because(when);
        await Assert.That(d.Meta.Count).IsEqualTo((ulong)model.Count).Because(when);
        var all = d.All();
        await Assert.That(all.Count).IsEqualTo(model.Count).Because(when);
        for (int i = 0; i < model.Count; i++)
            if (!all[i].AsSpan().SequenceEqual(model[i])) await Assert.That(i).IsNegative().Because($"{when}: element {i} differs");
    }

    private static async Task SameRange(List<byte[]> got, List<byte[]> model, int from, int n, bool reverse, string when)
    {
        var expected = new List<byte[]>();
        if (reverse) for (int i = from; i >= 0 && expected.Count < n; i--) expected.Add(model[i]);
        else for (int i = from; i < model.Count && expected.Count < n; i++) expected.Add(model[i]);
        await Assert.That(got.Count).IsEqualTo(expected.Count).Because(when);
        for (int i = 0; i < got.Count; i++)
            if (!got[i].AsSpan().SequenceEqual(expected[i])) await Assert.That(i).IsNegative().Because($"{when}: range element {i} differs");
    }

    /// <summary>Rounds a cold operation may take with no read pending: one per level, plus one for the siblings of a rebalance.</summary>
    private static async Task RoundsBounded(TreeDriver d, int heightBefore, int pendingPercent, string when)
    {
        if (pendingPercent != 0) return;
        int bound = Math.Max(heightBefore, d.Meta.Height) + 1;
        if (d.LastRounds > bound) await Assert.That(d.LastRounds).IsLessThanOrEqualTo(bound).Because(when);
    }

    /// <summary>A copy of the pages and the meta (through its bytes) at a step, and how much of the log it holds.</summary>
    private sealed record Checkpoint(Dictionary<PageKey, byte[]> Pages, byte[] Meta, int LogLength);

    private static Checkpoint Take(TreeDriver d, int logLength)
    {
        var meta = new byte[TreeMeta.Size];
        d.Meta.Write(meta);
        return new Checkpoint(d.Store.Pages.ToDictionary(p => p.Key, p => p.Value.ToArray()), meta, logLength);
    }

    /// <summary>By seed: the tests run in parallel.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<int, Checkpoint> s_checkpoints = new();

    private static async Task<(TreeDriver Driver, List<Logged> Log, List<byte[]> Model)> RunPosition(int seed, int steps, int peak, int pageShift, int pendingPercent, int checkEvery)
    {
        var rng = new Random(seed);
        var d = new TreeDriver(TreeMeta.Create((ulong)seed + 100, TreeMode.Position, pageShift), seed, pendingPercent);
        int max = CountedTree.MaxElementLength(d.Meta);
        var model = new List<byte[]>();
        var log = new List<Logged>();
        int peakSeen = 0;
        for (int step = 0; step < steps; step++)
        {
            string when = $"seed {seed} step {step}";
            int h = d.Meta.Height;
            bool growing = step < steps / 2 && model.Count < peak;
            int op = rng.Next(100);
            if (model.Count == 0 || op < (growing ? 30 : 12))
            {
                // A push at either end, or a run of them (how a big list is built).
                bool right = rng.Next(3) != 0;
                int run = rng.Next(10) == 0 ? rng.Next(50, Math.Max(51, peak / 20)) : 1;
                for (int i = 0; i < run; i++)
                {
                    var e = Element(rng, max);
                    ulong at = right ? (ulong)model.Count : 0;
                    d.InsertAt(at, e);
                    log.Add(new(Op.InsertAt, at, 0, e));
                    model.Insert((int)at, e);
                }
            }
            else if (op < (growing ? 45 : 22))
            {
                var e = Element(rng, max);
                int at = rng.Next(model.Count + 1);
                d.InsertAt((ulong)at, e);
                log.Add(new(Op.InsertAt, (ulong)at, 0, e));
                model.Insert(at, e);
            }
            else if (op < (growing ? 52 : 42))
            {
                // LPOP / RPOP, or a removal anywhere.
                int kind = rng.Next(3);
                int at = kind == 0 ? 0 : kind == 1 ? model.Count - 1 : rng.Next(model.Count);
                var got = d.RemoveAt((ulong)at);
                if (!got.AsSpan().SequenceEqual(model[at])) await Assert.That(at).IsNegative().Because($"{when}: removed element {at}");
                log.Add(new(Op.RemoveAt, (ulong)at, 0, []));
                model.RemoveAt(at);
            }
            else if (op < 60)
            {
                int at = rng.Next(model.Count);
                var e = Element(rng, max);
                d.SetAt((ulong)at, e);
                log.Add(new(Op.SetAt, (ulong)at, 0, e));
                model[at] = e;
            }
            else if (op < 75)
            {
                int at = rng.Next(model.Count);
                var got = d.GetAt((ulong)at);
                if (!got.AsSpan().SequenceEqual(model[at])) await Assert.That(at).IsNegative().Because($"{when}: element at {at}");
            }
            else if (op < 88)
            {
                int at = rng.Next(model.Count);
                int n = rng.Next(1, 300);
                bool reverse = rng.Next(2) == 0;
                await SameRange(d.Range((ulong)at, n, reverse), model, at, n, reverse, $"{when}: range {at} {n} {reverse}");
            }
            else if (op < (growing ? 90 : 97))
            {
                // LTRIM / LREM-like: mostly short, sometimes a third of the list (whole leaves go unread).
                int at = rng.Next(model.Count);
                int n = rng.Next(4) == 0 ? rng.Next(1, Math.Max(2, model.Count / 3)) : rng.Next(1, 60);
                n = Math.Min(n, model.Count - at);
                d.RemoveRange((ulong)at, (ulong)n);
                log.Add(new(Op.RemoveRange, (ulong)at, (ulong)n, []));
                model.RemoveRange(at, n);
            }
            else
            {
                // Out of range reads and removals name nothing and change nothing.
                var needs = new List<PageKey>();
                CountedTree.NeedsAt(d.Meta, (ulong)model.Count, new PageSet(), needs);
                CountedTree.NeedsRemoveAt(d.Meta, (ulong)model.Count + 3, new PageSet(), needs);
                await Assert.That(needs.Count).IsEqualTo(0);
            }
            await RoundsBounded(d, h, pendingPercent, when);
            peakSeen = Math.Max(peakSeen, model.Count);
            if (step == steps * 3 / 5) s_checkpoints[seed] = Take(d, log.Count);
            if (d.Meta.Count != (ulong)model.Count) await Assert.That(d.Meta.Count).IsEqualTo((ulong)model.Count).Because(when);
            if ((step + 1) % checkEvery == 0) await SameAs(d, model, when);
        }
        await SameAs(d, model, $"seed {seed} end");
        Console.WriteLine($"seed {seed}: {model.Count} elements (peak {peakSeen}), height {d.Meta.Height}, {d.Store.Pages.Count} pages, " +
            $"{d.Store.Pendings} reads pending, most rounds {d.MaxRounds}, {d.Store.Writes} writes, {d.Store.Deletes} deletes");
        return (d, log, model);
    }

    private static TreeDriver Replay(TreeDriver d, IEnumerable<Logged> log)
    {
        foreach (var l in log)
        {
            switch (l.Op)
            {
                case Op.InsertAt: d.InsertAt(l.Index, l.Element); break;
                case Op.RemoveAt: d.RemoveAt(l.Index); break;
                case Op.SetAt: d.SetAt(l.Index, l.Element); break;
                case Op.RemoveRange: d.RemoveRange(l.Index, l.Count); break;
                case Op.Insert: d.Insert(l.Element); break;
                case Op.Delete: d.Delete(l.Element); break;
            }
        }
        return d;
    }

    /// <summary>
    /// Rebuilt from the logged operations alone, with other reads pending: the same pages, byte for byte,
    /// and the model's contents. Then a crash after a checkpoint: its pages and meta, and the operations
    /// logged after it, give the same tree again.
    /// </summary>
    private static async Task SameRebuilt(TreeDriver d, List<Logged> log, List<byte[]> model, TreeMode mode, int pageShift, int seed)
    {
        var cp = s_checkpoints[seed];
        await Assert.That(TreeMeta.TryRead(cp.Meta, out var atCheckpoint)).IsTrue();
        var resumed = new TreeDriver(atCheckpoint, seed + 9, 30);
        foreach (var (key, page) in cp.Pages) resumed.Store.Pages[key] = page;
        await Assert.That(resumed.Verify()).IsNull().Because("the checkpoint");
        Replay(resumed, log.Skip(cp.LogLength));
        await SameAs(resumed, model, "resumed from the checkpoint");
        await SamePages(resumed, d, "resumed");
        var rebuilt = Replay(new TreeDriver(TreeMeta.Create(d.Meta.Cid, mode, pageShift), seed + 7, 35), log);
        await SameAs(rebuilt, model, "rebuilt");
        await SamePages(rebuilt, d, "rebuilt");
    }

    private static async Task SamePages(TreeDriver rebuilt, TreeDriver d, string when)
    {
        await Assert.That(rebuilt.Meta).IsEqualTo(d.Meta).Because(when);
        await Assert.That(rebuilt.Meta.Root).IsEqualTo(d.Meta.Root);
        await Assert.That(rebuilt.Meta.NextPage).IsEqualTo(d.Meta.NextPage);
        await Assert.That(rebuilt.Store.Pages.Count).IsEqualTo(d.Store.Pages.Count);
        foreach (var (key, page) in d.Store.Pages)
            if (!rebuilt.Store.Pages.TryGetValue(key, out var other) || !other.AsSpan().SequenceEqual(page))
                await Assert.That(key.PageNo).IsNegative().Because($"{when}: page {key.PageNo} differs");
    }

    [Test]
    public async Task Position_mode_matches_a_list_at_small_pages_with_reads_pending()
    {
        var (d, log, model) = await RunPosition(seed: 1, steps: 4000, peak: 60_000, pageShift: 9, pendingPercent: 25, checkEvery: 250);
        await Assert.That(d.Store.Pendings).IsGreaterThan(1000);
        await Assert.That(d.MaxRounds).IsGreaterThan(d.Meta.Height);
        await SameRebuilt(d, log, model, TreeMode.Position, 9, 1);
    }

    [Test]
    public async Task Position_mode_matches_a_list_at_4k_pages()
    {
        var (d, log, model) = await RunPosition(seed: 2, steps: 4000, peak: 100_000, pageShift: 12, pendingPercent: 0, checkEvery: 500);
        await Assert.That(d.Store.Pendings).IsEqualTo(0);
        await SameRebuilt(d, log, model, TreeMode.Position, 12, 2);
    }

    [Test]
    public async Task Position_mode_with_long_elements_at_the_limit()
    {
        // 512-byte pages and elements of 100-122 bytes: four or five a leaf, every operation splits or rebalances.
        var rng = new Random(3);
        var d = new TreeDriver(TreeMeta.Create(3, TreeMode.Position, 9), 3, 20);
        int max = CountedTree.MaxElementLength(d.Meta);
        var model = new List<byte[]>();
        for (int step = 0; step < 3000; step++)
        {
            if (model.Count < 10 || rng.Next(3) != 0)
            {
                var e = new byte[rng.Next(max - 22, max + 1)];
                rng.NextBytes(e);
                int at = rng.Next(model.Count + 1);
                d.InsertAt((ulong)at, e);
                model.Insert(at, e);
            }
            else
            {
                int at = rng.Next(model.Count);
                if (!d.RemoveAt((ulong)at).AsSpan().SequenceEqual(model[at])) await Assert.That(at).IsNegative();
                model.RemoveAt(at);
            }
            if (step % 100 == 0) await SameAs(d, model, $"step {step}");
        }
        await SameAs(d, model, "end");
        await Assert.That((int)d.Meta.Height).IsGreaterThanOrEqualTo(3);
    }

    // ---- ordered mode ----

    private static readonly Comparison<byte[]> ByBytes = (a, b) => a.AsSpan().SequenceCompareTo(b);

    private static byte[] Key(double score, byte[] member)
    {
        var k = new byte[TreeKeys.KeyLength(member.Length)];
        TreeKeys.Write(score, member, k);
        return k;
    }

    private static double Score(Random rng)
    {
        int roll = rng.Next(100);
        return roll switch
        {
            0 => double.NegativeInfinity,
            1 => double.PositiveInfinity,
            2 => -0.0,
            3 => 0.0,
            < 60 => rng.Next(-40, 40) * 0.5, // many ties: members order them
            _ => (rng.NextDouble() - 0.5) * 1e6,
        };
    }

    private static byte[] Member(Random rng, int max)
    {
        var m = Element(rng, max);
        return m;
    }

    private static int LowerBound(List<byte[]> model, ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = model.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (model[mid].AsSpan().SequenceCompareTo(key) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private static async Task<(TreeDriver, List<Logged>, List<byte[]>)> RunOrdered(int seed, int steps, int peak, int pageShift, int pendingPercent, int checkEvery)
    {
        var rng = new Random(seed);
        var d = new TreeDriver(TreeMeta.Create((ulong)seed + 200, TreeMode.Ordered, pageShift), seed, pendingPercent);
        int maxMember = CountedTree.MaxElementLength(d.Meta) - TreeKeys.ScoreSize;
        var model = new List<byte[]>();
        var log = new List<Logged>();
        int peakSeen = 0;
        var bound = new byte[TreeKeys.ScoreSize];
        for (int step = 0; step < steps; step++)
        {
            string when = $"seed {seed} step {step}";
            int h = d.Meta.Height;
            bool growing = step < steps / 2 && model.Count < peak;
            int op = rng.Next(100);
            if (model.Count == 0 || op < (growing ? 35 : 14))
            {
                int run = rng.Next(10) == 0 ? rng.Next(50, Math.Max(51, peak / 20)) : 1;
                // Rising scores now and then (a time-ordered set), random otherwise.
                bool rising = rng.Next(4) == 0;
                double top = model.Count > 0 ? TreeKeys.Score(model[^1]) : 0;
                if (double.IsInfinity(top)) rising = false;
                for (int i = 0; i < run; i++)
                {
                    var key = Key(rising ? top + i + 1 : Score(rng), Member(rng, maxMember));
                    int at = LowerBound(model, key);
                    bool exists = at < model.Count && model[at].AsSpan().SequenceEqual(key);
                    bool added = d.Insert(key);
                    if (added == exists) await Assert.That(added).IsNotEqualTo(exists).Because($"{when}: insert");
                    if (!added) continue;
                    log.Add(new(Op.Insert, 0, 0, key));
                    model.Insert(at, key);
                }
            }
            else if (op < (growing ? 40 : 20))
            {
                // An element already there: not added, nothing written.
                var key = model[rng.Next(model.Count)];
                long writes = d.Store.Writes;
                if (d.Insert(key)) await Assert.That(step).IsNegative().Because($"{when}: insert of a present key");
                await Assert.That(d.Store.Writes).IsEqualTo(writes);
            }
            else if (op < (growing ? 48 : 42))
            {
                int at = rng.Next(model.Count);
                var key = model[at];
                if (!d.Delete(key)) await Assert.That(at).IsNegative().Because($"{when}: delete");
                log.Add(new(Op.Delete, 0, 0, key));
                model.RemoveAt(at);
            }
            else if (op < 52)
            {
                var key = Key(Score(rng), Member(rng, 30));
                bool present = LowerBound(model, key) is int at && at < model.Count && model[at].AsSpan().SequenceEqual(key);
                if (d.Delete(key) != present) await Assert.That(present).IsFalse().Because($"{when}: delete of a random key");
                if (present)
                {
                    log.Add(new(Op.Delete, 0, 0, key));
                    model.RemoveAt(LowerBound(model, key));
                }
            }
            else if (op < 64)
            {
                // ZRANK of a member, and the rank of a key that is not there (a seek).
                int at = rng.Next(model.Count);
                var (rank, found) = d.Rank(model[at]);
                if (!found || rank != (ulong)at) await Assert.That(rank).IsEqualTo((ulong)at).Because($"{when}: rank, found {found}");
                var absent = Key(Score(rng), Member(rng, 30));
                int lb = LowerBound(model, absent);
                bool there = lb < model.Count && model[lb].AsSpan().SequenceEqual(absent);
                (rank, found) = d.Rank(absent);
                if (found != there || rank != (ulong)lb) await Assert.That(rank).IsEqualTo((ulong)lb).Because($"{when}: seek");
            }
            else if (op < 72)
            {
                // ZCOUNT: the difference of two bound ranks, inclusive and exclusive ends.
                double a = Score(rng), b = Score(rng);
                if (a > b) (a, b) = (b, a);
                bool ea = rng.Next(2) == 0, eb = rng.Next(2) == 0;
                TreeKeys.Lower(a, ea, bound);
                ulong from = d.Rank(bound.ToArray()).Rank;
                TreeKeys.Upper(b, eb, bound);
                ulong to = d.Rank(bound.ToArray()).Rank;
                long expected = model.Count(k =>
                {
                    double s = TreeKeys.Score(k);
                    return (ea ? s > a : s >= a) && (eb ? s < b : s <= b);
                });
                long got = to >= from ? (long)(to - from) : 0;
                if (got != expected) await Assert.That(got).IsEqualTo(expected).Because($"{when}: count {a} {ea} {b} {eb}");
            }
            else if (op < 78)
            {
                int at = rng.Next(model.Count);
                if (!d.GetAt((ulong)at).AsSpan().SequenceEqual(model[at])) await Assert.That(at).IsNegative().Because($"{when}: select by rank");
            }
            else if (op < 88)
            {
                int at = rng.Next(model.Count);
                int n = rng.Next(1, 200);
                bool reverse = rng.Next(2) == 0;
                await SameRange(d.Range((ulong)at, n, reverse), model, at, n, reverse, $"{when}: range");
            }
            else if (op < (growing ? 90 : 95))
            {
                // ZREMRANGEBYRANK.
                int at = rng.Next(model.Count);
                int n = rng.Next(4) == 0 ? rng.Next(1, Math.Max(2, model.Count / 3)) : rng.Next(1, 40);
                n = Math.Min(n, model.Count - at);
                d.RemoveRange((ulong)at, (ulong)n);
                log.Add(new(Op.RemoveRange, (ulong)at, (ulong)n, []));
                model.RemoveRange(at, n);
            }
            await RoundsBounded(d, h, pendingPercent, when);
            peakSeen = Math.Max(peakSeen, model.Count);
            if (step == steps * 3 / 5) s_checkpoints[seed] = Take(d, log.Count);
            if (d.Meta.Count != (ulong)model.Count) await Assert.That(d.Meta.Count).IsEqualTo((ulong)model.Count).Because(when);
            if ((step + 1) % checkEvery == 0) await SameAs(d, model, when);
        }
        await SameAs(d, model, $"seed {seed} end");
        Console.WriteLine($"seed {seed}: {model.Count} elements (peak {peakSeen}), height {d.Meta.Height}, {d.Store.Pages.Count} pages, " +
            $"{d.Store.Pendings} reads pending, most rounds {d.MaxRounds}, {d.Store.Writes} writes, {d.Store.Deletes} deletes");
        return (d, log, model);
    }

    [Test]
    public async Task Ordered_mode_matches_a_sorted_list_at_small_pages_with_reads_pending()
    {
        var (d, log, model) = await RunOrdered(seed: 11, steps: 4000, peak: 50_000, pageShift: 9, pendingPercent: 25, checkEvery: 250);
        await Assert.That(d.Store.Pendings).IsGreaterThan(1000);
        await SameRebuilt(d, log, model, TreeMode.Ordered, 9, 11);
    }

    [Test]
    public async Task Ordered_mode_matches_a_sorted_list_at_4k_pages()
    {
        var (d, log, model) = await RunOrdered(seed: 12, steps: 4000, peak: 80_000, pageShift: 12, pendingPercent: 0, checkEvery: 500);
        await SameRebuilt(d, log, model, TreeMode.Ordered, 12, 12);
    }

    [Test]
    public async Task Ordered_mode_with_long_keys_at_the_limit()
    {
        // 512-byte pages and 90-106 byte keys: long separators in inner pages, whose size changes on every redistribution.
        var rng = new Random(13);
        var d = new TreeDriver(TreeMeta.Create(13, TreeMode.Ordered, 9), 13, 20);
        int max = CountedTree.MaxElementLength(d.Meta);
        var model = new List<byte[]>();
        for (int step = 0; step < 3000; step++)
        {
            if (model.Count < 10 || rng.Next(3) != 0)
            {
                var member = new byte[rng.Next(1, max - TreeKeys.ScoreSize + 1)];
                rng.NextBytes(member);
                var key = Key(rng.Next(0, 5), member);
                int at = LowerBound(model, key);
                if (d.Insert(key)) model.Insert(at, key);
            }
            else
            {
                int at = rng.Next(model.Count);
                if (!d.Delete(model[at])) await Assert.That(at).IsNegative();
                model.RemoveAt(at);
            }
            if (step % 100 == 0) await SameAs(d, model, $"step {step}");
        }
        await SameAs(d, model, "end");
        await Assert.That((int)d.Meta.Height).IsGreaterThanOrEqualTo(3);
    }
}
