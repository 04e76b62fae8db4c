using System.Buffers;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The paged sorted set (<see cref="PagedSortedSet"/>: a counted tree of (score, member) keys and a paged hash
/// member -> score under one <see cref="ZSetRoot"/>) against a plain sorted list and a dictionary: seeded random
/// ZADD with every flag combination (NX/XX/GT/LT/INCR/CH, decided as zsetAdd does), ZINCRBY, ZREM, pops at
/// both ends, range removals by rank and by score bounds, ZRANK, ZSCORE, score-bound ranks (ZCOUNT), lex-key
/// ranks, and rank ranges both ways. Reads answer Pending at random: an operation that stops starts again from
/// the root it began with and an empty page set, its staged writes dropped, as a command's rerun. Every change is
/// logged as the element record a command logs; at a random step the pages and root are copied (a checkpoint),
/// and at the end a crash: the copy replayed with the records from up to 2,000 before it (held ones skipped by
/// seq) must give the model's set, and a second replay of the whole log applies nothing.
/// </summary>
public class PagedSortedSetModelTests
{
    private delegate bool Op(ref ZSetRoot root, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch);

    /// <summary>Redis's order: score (-0 = 0), then member bytes, shorter first on a common prefix.</summary>
    private sealed class Order : IComparer<(double Score, byte[] Member)>
    {
        public static readonly Order Instance = new();

        public int Compare((double Score, byte[] Member) a, (double Score, byte[] Member) b)
        {
            if (a.Score < b.Score) return -1;
            if (a.Score > b.Score) return 1;
            return a.Member.AsSpan().SequenceCompareTo(b.Member);
        }
    }

    private sealed class Run(int seed, int treeShift, int hashShift)
    {
        public readonly FlakyPageStore Store = new(seed, 25);
        public ZSetRoot Root = ZSetRoot.Create(91, treeShift, hashShift);
        public readonly List<(double Score, byte[] Member)> Sorted = new();
        public readonly Dictionary<string, double> Scores = new();
        public readonly List<byte[]> Log = new();
        private readonly PageSet _pages = new();
        private readonly List<PageKey> _needs = new();
        private readonly byte[] _field = new byte[PagedSortedSet.FieldSize];
        private readonly Random _rng = new(seed + 1);
        private static readonly byte[] Key = [0, 0, 0, 0, (byte)'z'];
        public int Restarts, MostAttempts;

        /// <summary>Runs <paramref name="op"/> until it completes without a pending read; its writes are committed then.</summary>
        public void Do(Op op)
        {
            Store.BeginOperation();
            for (int attempt = 0; ; attempt++)
            {
                // Every attempt reads a page no attempt of the operation read before, so it ends; a range of 100 long members, each
                // with its leaf, bucket and chunks, pending a quarter of the time, takes a few hundred.
                if (attempt > 5000) throw new InvalidOperationException("an operation never completed");
                MostAttempts = Math.Max(MostAttempts, attempt);
                _pages.Clear();
                _needs.Clear();
                var staging = new StagingStore(Store);
                var root = Root;
                // A read that went to disk either lands while the operation waits (half the time) or stops it: it runs again from the start.
                bool Fetch()
                {
                    bool inHand = true;
                    foreach (var k in _needs)
                        if (Store.Read(k, _pages) == PageRead.Pending) inHand = false;
                    _needs.Clear();
                    _pages.ClearNeeded();
                    if (inHand || _rng.Next(2) == 0) return inHand;
                    Store.Land(_pages);
                    return true;
                }
                if (!op(ref root, _pages, _needs, staging, Fetch))
                {
                    // The stopped attempt's reads complete elsewhere (the rerun finds them answered at once).
                    Store.Land(new PageSet());
                    Restarts++;
                    continue;
                }
                staging.Commit();
                Root = root;
                return;
            }
        }

        public void Record(ElementOp op, ulong arg, ReadOnlySpan<byte> value = default)
        {
            Root.Seq++;
            var r = PagedSortedSet.Record(op, Root.Cid, Key, _field, Root.Seq, arg, value);
            var bytes = new byte[r.EncodedSize];
            r.Encode(bytes);
            Log.Add(bytes);
        }

        public (bool Found, double Score) Score(byte[] member)
        {
            bool found = false;
            double score = 0;
            Do((ref ZSetRoot r, PageSet p, List<PageKey> n, IPageStore s, Func<bool> f) => PagedSortedSet.TryScore(r, member, p, n, f, out found, out score));
            return (found, score);
        }

        public List<byte[]> Range(ulong from, ulong count, bool reverse)
        {
            // What went out stays out across a rerun (a streamed reply), and the rerun goes on from there.
            var sink = new ListSink();
            ulong done = 0;
            Do((ref ZSetRoot r, PageSet p, List<PageKey> n, IPageStore s, Func<bool> f) => PagedSortedSet.Range(r, from, count, reverse, p, n, f, sink, ref done));
            return sink.Items;
        }

        public ulong RankOf(byte[] key)
        {
            ulong rank = 0;
            Do((ref ZSetRoot r, PageSet p, List<PageKey> n, IPageStore s, Func<bool> f) => PagedSortedSet.TryRankOf(r, key, p, n, f, out rank, out _));
            return rank;
        }

        public int ModelIndex(double score, byte[] member) => Sorted.BinarySearch((score, member), Order.Instance);

        public void ModelSet(byte[] member, double score)
        {
            string k = Convert.ToHexString(member);
            if (Scores.TryGetValue(k, out double old)) Sorted.RemoveAt(ModelIndex(old, member));
            Scores[k] = score;
            int at = ModelIndex(score, member);
            Sorted.Insert(~at, (score, member));
        }

        public void ModelRemoveAt(int rank)
        {
            Scores.Remove(Convert.ToHexString(Sorted[rank].Member));
            Sorted.RemoveAt(rank);
        }

        /// <summary>Elements below a key (score prefix, or score + member), as the tree's rank of it counts.</summary>
        public int ModelRankOfKey(byte[] key)
        {
            int lo = 0, hi = Sorted.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                var k = new byte[TreeKeys.KeyLength(Sorted[mid].Member.Length)];
                TreeKeys.Write(Sorted[mid].Score, Sorted[mid].Member, k);
                if (k.AsSpan().SequenceCompareTo(key) < 0) lo = mid + 1;
                else hi = mid;
            }
            return lo;
        }
    }

    private static readonly double[] Special = [0.0, -0.0, double.PositiveInfinity, double.NegativeInfinity, 1.5, -2.25, 1e300, -1e-300];

    private static double RandomScore(Random rng) => rng.Next(10) switch
    {
        0 => Special[rng.Next(Special.Length)],
        1 => rng.NextDouble() * 2000 - 1000,
        _ => rng.Next(-50, 50),
    };

    private static byte[] RandomMember(Random rng, int max, List<(double, byte[] Member)> present)
    {
        if (present.Count > 0 && rng.Next(3) == 0) return present[rng.Next(present.Count)].Member;
        return rng.Next(12) switch
        {
            0 => [],
            1 => Enumerable.Range(0, rng.Next(1, max + 1)).Select(_ => (byte)rng.Next(256)).ToArray(),
            2 => Enumerable.Range(0, max).Select(_ => (byte)'x').ToArray(),
            _ => System.Text.Encoding.ASCII.GetBytes("m" + rng.Next(30_000)),
        };
    }

    /// <summary>
    /// Members past the tree's prefix (kept in chunks, <see cref="ZSetLongMembers"/>) and the ones around it. A group's
    /// members share their first <paramref name="prefix"/> bytes and differ after them only (tails of 'a' and 'b', so
    /// some are prefixes of others), so at equal scores their order is decided from the chunks; the group's prefix itself
    /// (a short member of exactly that length) sorts before all of them.
    /// </summary>
    private static byte[] LongMember(Random rng, int prefix, byte[][] groups)
    {
        byte[] Bytes(int n)
        {
            var b = new byte[n];
            rng.NextBytes(b);
            return b;
        }
        int Long() => rng.Next(25) == 0 ? rng.Next(ListChunks.ChunkSize + 1, 2 * ListChunks.ChunkSize + 5000) : rng.Next(1024, 5 * 1024);
        if (rng.Next(3) == 0) return rng.Next(3) == 0 ? Bytes(prefix + rng.Next(-2, 3)) : Bytes(Long());
        var g = groups[rng.Next(groups.Length)];
        int tail = rng.Next(5) switch { 0 => 0, 1 => 1, 2 => rng.Next(1, 8), 3 => Long() - prefix, _ => rng.Next(1, 3000) };
        var m = new byte[prefix + Math.Max(tail, 0)];
        g.CopyTo(m, 0);
        for (int i = prefix; i < m.Length; i++) m[i] = (byte)(rng.Next(2) == 0 ? 'a' : 'b');
        // Most of a long tail alike, so two members may share far more than the prefix.
        if (tail > 16) m.AsSpan(prefix, tail - rng.Next(1, 8)).Fill((byte)'a');
        return m;
    }

    private static bool InGroup(byte[] member, int prefix, byte[][] groups)
        => member.Length >= prefix && groups.Any(g => member.AsSpan(0, prefix).SequenceEqual(g));

    /// <summary>
    /// The tree's long entries are exactly the model's members past the prefix, counted in its meta, and the store holds
    /// exactly their chunks (none leaked by a removal, a move to another score, a pop or a rank range).
    /// </summary>
    private static void ChunksMatch(ZSetRoot root, Dictionary<PageKey, byte[]> store, List<(double Score, byte[] Member)> model, string when)
    {
        int prefix = ZSetLongMembers.PrefixLength(root.Tree), refs = 0;
        var expected = new HashSet<PageKey>();
        foreach (var (k, page) in store)
        {
            if (k.Cid != root.Cid || k.Kind != PageKind.Tree || !TreePage.IsLeaf(page)) continue;
            if (TreePage.CheckLeaf(page) is { } bad) throw new InvalidOperationException($"{when}: leaf {k.PageNo}: {bad}");
            var r = new TreePage.LeafReader(page);
            while (r.Next(out var e, out bool outOfLine))
            {
                if (!outOfLine) continue;
                refs++;
                var reference = ZSetLongMembers.ReferenceOf(e);
                ulong first = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(reference);
                int length = ListChunks.LengthOf(reference);
                if (e.Length != CountedTree.MaxElementLength(root.Tree) || length <= prefix) throw new InvalidOperationException($"{when}: a long entry of {e.Length} bytes for {length}");
                for (int i = 0; i < ListChunks.ChunksOf(length); i++) expected.Add(ListChunks.ChunkKey(root.Tree, first + (ulong)i));
            }
        }
        int longOnes = model.Count(m => m.Member.Length > prefix);
        var held = store.Keys.Where(k => k.Cid == root.Cid && k.Kind == PageKind.Chunk).ToHashSet();
        if (refs != longOnes || root.Tree.OutOfLine != (uint)longOnes || !held.SetEquals(expected))
            throw new InvalidOperationException($"{when}: {refs} long entries, meta {root.Tree.OutOfLine}, model {longOnes}; chunks {held.Count} held, {expected.Count} referenced");
    }

    private static byte[] KeyBytes(double score, byte[] member)
    {
        var k = new byte[TreeKeys.KeyLength(member.Length)];
        TreeKeys.Write(score, member, k);
        return k;
    }

    private static void Same(Run run, string when)
    {
        if (run.Root.Count != (ulong)run.Sorted.Count || run.Root.Hash.Count != run.Root.Count)
            throw new InvalidOperationException($"{when}: tree {run.Root.Count}, hash {run.Root.Hash.Count}, model {run.Sorted.Count}");
        var all = run.Range(0, run.Root.Count, false);
        for (int i = 0; i < all.Count; i++)
            if (!all[i].AsSpan().SequenceEqual(KeyBytes(run.Sorted[i].Score, run.Sorted[i].Member)))
                throw new InvalidOperationException($"{when}: rank {i} differs");
        if (all.Count != run.Sorted.Count) throw new InvalidOperationException($"{when}: {all.Count} keys walked");
        foreach (var (score, member) in run.Sorted)
        {
            var (found, got) = run.Score(member);
            if (!found || BitConverter.DoubleToInt64Bits(got) != BitConverter.DoubleToInt64Bits(score)) throw new InvalidOperationException($"{when}: score differs");
        }
    }

    [Test]
    [Arguments(1, 12, 11, 15_000)]
    [Arguments(2, 9, 9, 12_000)]
    [Arguments(3, 10, 12, 10_000)]
    public async Task Random_operations_match_a_sorted_set_through_a_crash_and_replay(int seed, int treeShift, int hashShift, int steps)
    {
        var run = new Run(seed, treeShift, hashShift);
        var rng = new Random(seed);
        int prefix = ZSetLongMembers.PrefixLength(run.Root.Tree), max = prefix;
        var groups = Enumerable.Range(0, 3).Select(g => Enumerable.Range(0, prefix).Select(i => (byte)(i < prefix - 3 ? 'g' : 'a' + g + i % 2)).ToArray()).ToArray();
        // A member of the run: long ones (and the ones around the prefix) a fifth of the time.
        byte[] Member() => rng.Next(5) == 0 ? LongMember(rng, prefix, groups) : RandomMember(rng, max, run.Sorted);
        int longSeen = 0, tiedSeen = 0;
        int checkpointAt = rng.Next(steps / 4, steps * 3 / 4);
        Dictionary<PageKey, byte[]>? savedPages = null;
        ZSetRoot savedRoot = default;
        int savedLog = 0, maxCount = 0; // the largest the set got: it must reach thousands
        for (int step = 0; step < steps; step++)
        {
            if (step % 2000 == 1999) ChunksMatch(run.Root, run.Store.Pages, run.Sorted, $"step {step}");
            if (step == checkpointAt)
            {
                savedPages = run.Store.Pages.ToDictionary(p => p.Key, p => p.Value.ToArray());
                savedRoot = run.Root;
                savedLog = run.Log.Count;
            }
            var sorted = run.Sorted;
            int n = sorted.Count;
            maxCount = Math.Max(maxCount, n);
            int op = rng.Next(100);
            if (op < 45 || n < 20)
            {
                // ZADD member score with random flags (zsetAdd's rules), or ZINCRBY; in runs, so the set grows to thousands.
                int runOf = rng.Next(4) == 0 ? rng.Next(20, 100) : 1;
                for (int one = 0; one < runOf; one++)
                {
                var member = Member();
                bool grouped = InGroup(member, prefix, groups);
                // A group's members mostly at one of three scores: ties that only their chunks decide.
                double score = grouped && rng.Next(4) != 0 ? rng.Next(3) : RandomScore(rng);
                if (member.Length > prefix) longSeen++;
                if (grouped && member.Length > prefix && sorted.Any(e => e.Score == score && e.Member.Length > prefix && InGroup(e.Member, prefix, groups))) tiedSeen++;
                bool nx = rng.Next(6) == 0, xx = !nx && rng.Next(6) == 0, gt = !nx && rng.Next(6) == 0, lt = !nx && !gt && rng.Next(6) == 0, incr = rng.Next(5) == 0;
                bool found = false, changed = false;
                double old = 0, next = score;
                run.Do((ref ZSetRoot r, PageSet p, List<PageKey> nd, IPageStore s, Func<bool> f) =>
                {
                    changed = false;
                    if (!PagedSortedSet.TryScore(r, member, p, nd, f, out found, out old)) return false;
                    if ((nx && found) || (xx && !found)) return true;
                    next = score;
                    if (found && incr) next = old + score;
                    if (double.IsNaN(next)) return true;
                    if (found && ((gt && next <= old) || (lt && next >= old))) return true;
                    if (found && BitConverter.DoubleToInt64Bits(next) == BitConverter.DoubleToInt64Bits(old)) return true;
                    changed = true;
                    return PagedSortedSet.Set(ref r, member, next, found, old, p, nd, s, f);
                });
                var model = run.Scores.TryGetValue(Convert.ToHexString(member), out double mOld);
                if (model != found || (found && BitConverter.DoubleToInt64Bits(mOld) != BitConverter.DoubleToInt64Bits(old))) throw new InvalidOperationException($"step {step}: look-up differs");
                if (changed)
                {
                    run.ModelSet(member, next);
                    run.Record(ElementOp.ZAdd, 0, PagedSortedSet.AddValue(next, member));
                }
                }
            }
            else if (op < 57)
            {
                var member = Member();
                bool removed = false;
                run.Do((ref ZSetRoot r, PageSet p, List<PageKey> nd, IPageStore s, Func<bool> f) => PagedSortedSet.Remove(ref r, member, p, nd, s, f, out removed));
                int at = run.Scores.TryGetValue(Convert.ToHexString(member), out double sc) ? run.ModelIndex(sc, member) : -1;
                if (removed != at >= 0) throw new InvalidOperationException($"step {step}: ZREM differs");
                if (removed)
                {
                    run.ModelRemoveAt(at);
                    run.Record(ElementOp.ZRem, 0, member);
                }
            }
            else if (op < 64)
            {
                // ZPOPMIN / ZPOPMAX of k: the removed keys are the model's ends.
                bool min = rng.Next(2) == 0;
                int k = Math.Min(n, rng.Next(3) == 0 ? rng.Next(1, 80) : 1);
                ulong from = min ? 0 : (ulong)(n - k);
                var removed = new ArrayBufferWriter<byte>();
                var ends = new List<int>();
                var exact = new List<double>();
                run.Do((ref ZSetRoot r, PageSet p, List<PageKey> nd, IPageStore s, Func<bool> f) =>
                {
                    removed.ResetWrittenCount();
                    ends.Clear();
                    exact.Clear();
                    return PagedSortedSet.RemoveRange(ref r, from, (ulong)k, p, nd, s, f, removed, ends, exact);
                });
                int start = 0;
                for (int i = 0; i < k; i++)
                {
                    var want = sorted[(int)from + i];
                    if (!removed.WrittenSpan[start..ends[i]].SequenceEqual(KeyBytes(want.Score, want.Member))) throw new InvalidOperationException($"step {step}: popped other than the model's");
                    if (BitConverter.DoubleToInt64Bits(exact[i]) != BitConverter.DoubleToInt64Bits(want.Score)) throw new InvalidOperationException($"step {step}: popped score {exact[i]}, model {want.Score}");
                    start = ends[i];
                }
                for (int i = 0; i < k; i++) run.ModelRemoveAt((int)from);
                run.Record(ElementOp.ZRemRange, from, BitConverter.GetBytes((ulong)k));
            }
            else if (op < 67)
            {
                // ZREMRANGEBYSCORE: the bounds' ranks, then a rank range; or ZREMRANGEBYRANK.
                ulong from, count;
                if (rng.Next(2) == 0)
                {
                    double a = RandomScore(rng), b = a + rng.Next(0, 5);
                    bool ea = rng.Next(2) == 0, eb = rng.Next(2) == 0;
                    var lo = new byte[8];
                    var hi = new byte[8];
                    TreeKeys.Lower(a, ea, lo);
                    TreeKeys.Upper(b, eb, hi);
                    ulong rlo = run.RankOf(lo), rhi = run.RankOf(hi);
                    int mlo = sorted.Count(e => ea ? e.Score > a : e.Score >= a), mhi = sorted.Count(e => eb ? e.Score >= b : e.Score > b);
                    mlo = n - mlo;
                    mhi = n - mhi;
                    if (rlo != (ulong)mlo || rhi != (ulong)mhi) throw new InvalidOperationException($"step {step}: score bound ranks {rlo},{rhi} against {mlo},{mhi}");
                    from = rlo;
                    // The first 100 of the range at most: a removal that stops starts over, so its cost grows as the square of its length.
                    count = rhi > rlo ? Math.Min(rhi - rlo, 100) : 0;
                }
                else
                {
                    from = (ulong)rng.Next(n);
                    // Up to 100: a removal that stops starts over, and each long member's chunks are reads that may pend.
                    count = (ulong)rng.Next(1, Math.Min(n - (int)from, 100) + 1);
                }
                if (count > 0)
                {
                    run.Do((ref ZSetRoot r, PageSet p, List<PageKey> nd, IPageStore s, Func<bool> f) => PagedSortedSet.RemoveRange(ref r, from, count, p, nd, s, f));
                    for (ulong i = 0; i < count; i++) run.ModelRemoveAt((int)from);
                    run.Record(ElementOp.ZRemRange, from, BitConverter.GetBytes(count));
                }
            }
            else if (op < 80)
            {
                // ZRANK / ZSCORE of a member (present or not).
                var member = Member();
                bool found = false;
                ulong rank = 0;
                double score = 0;
                run.Do((ref ZSetRoot r, PageSet p, List<PageKey> nd, IPageStore s, Func<bool> f) => PagedSortedSet.TryRank(r, member, p, nd, f, out found, out rank, out score));
                int at = run.Scores.TryGetValue(Convert.ToHexString(member), out double sc) ? run.ModelIndex(sc, member) : -1;
                if (found != at >= 0 || (found && (rank != (ulong)at || BitConverter.DoubleToInt64Bits(score) != BitConverter.DoubleToInt64Bits(sc))))
                    throw new InvalidOperationException($"step {step}: ZRANK differs");
            }
            else if (op < 87)
            {
                // A lex or score + member bound: the rank of the first key at or past it.
                // Lex bounds of any length: a long one ties the long members of its group at its score; "(m" is m + 0x00.
                var bound = Member();
                if (rng.Next(4) == 0) bound = [.. bound, 0];
                var key = rng.Next(2) == 0 ? KeyBytes(InGroup(bound, prefix, groups) ? rng.Next(3) : RandomScore(rng), bound) : new byte[8];
                if (key.Length == 8) TreeKeys.Lower(RandomScore(rng), rng.Next(2) == 0, key);
                if (run.RankOf(key) != (ulong)run.ModelRankOfKey(key)) throw new InvalidOperationException($"step {step}: key rank differs");
            }
            else
            {
                bool reverse = rng.Next(2) == 0;
                ulong at = (ulong)rng.Next(n);
                ulong len = (ulong)rng.Next(1, 2000);
                var got = run.Range(at, len, reverse);
                ulong want = reverse ? Math.Min(len, at + 1) : Math.Min(len, (ulong)n - at);
                if ((ulong)got.Count != want) throw new InvalidOperationException($"step {step}: range of {got.Count}, model {want}");
                for (int i = 0; i < got.Count; i++)
                {
                    var e = sorted[(int)(reverse ? at - (ulong)i : at + (ulong)i)];
                    if (!got[i].AsSpan().SequenceEqual(KeyBytes(e.Score, e.Member))) throw new InvalidOperationException($"step {step}: range differs at {i}");
                }
            }
        }
        Same(run, "end");
        ChunksMatch(run.Root, run.Store.Pages, run.Sorted, "end");
        Console.WriteLine($"seed {seed}: {run.Sorted.Count} members, {run.Root.Tree.OutOfLine} long, height {run.Root.Tree.Height}, most attempts {run.MostAttempts}, ties {tiedSeen}");
        await Assert.That(run.Restarts).IsGreaterThan(0);
        await Assert.That(longSeen).IsGreaterThan(steps / 40);
        await Assert.That(tiedSeen).IsGreaterThan(50);
        await Assert.That(run.Sorted.Count(e => e.Member.Length > ListChunks.ChunkSize)).IsGreaterThan(0);
        await Assert.That(run.Root.Tree.Height).IsGreaterThanOrEqualTo((byte)2);
        await Assert.That(maxCount).IsGreaterThan(3000);

        // The crash: the checkpoint's pages and root, then the log from up to 2,000 records before it (already held: skipped by seq).
        var replay = new FlakyPageStore(seed, 0);
        foreach (var (k, v) in savedPages!) replay.Pages[k] = v;
        var root = savedRoot;
        var pages = new PageSet();
        var needs = new List<PageKey>();
        Func<bool> fetch = () =>
        {
            foreach (var k in needs) replay.Read(k, pages);
            needs.Clear();
            pages.ClearNeeded();
            return true;
        };
        int applied = 0;
        for (int i = Math.Max(0, savedLog - rng.Next(0, 2000)); i < run.Log.Count; i++)
        {
            if (!ElementRecord.TryDecode(run.Log[i], out var record, out _)) throw new InvalidOperationException("record does not decode");
            pages.Clear();
            if (PagedSortedSet.ApplyRecord(ref root, record, pages, needs, replay, fetch)) applied++;
        }
        await Assert.That(applied).IsEqualTo(run.Log.Count - savedLog);
        await Assert.That(root.Count).IsEqualTo(run.Root.Count);
        await Assert.That(root.Seq).IsEqualTo(run.Root.Seq);
        var check = new Run(seed, treeShift, hashShift) { Root = root };
        foreach (var (k, v) in replay.Pages) check.Store.Pages[k] = v;
        check.Sorted.AddRange(run.Sorted);
        foreach (var (k, v) in run.Scores) check.Scores[k] = v;
        Same(check, "replayed");
        ChunksMatch(root, replay.Pages, run.Sorted, "replayed");
        // A second replay of the whole log changes nothing (every seq is past).
        int again = 0;
        foreach (var bytes in run.Log)
        {
            ElementRecord.TryDecode(bytes, out var record, out _);
            pages.Clear();
            if (PagedSortedSet.ApplyRecord(ref root, record, pages, needs, replay, fetch)) again++;
        }
        await Assert.That(again).IsEqualTo(0);
    }

    [Test]
    public async Task The_root_round_trips_and_refuses_other_payloads()
    {
        var root = ZSetRoot.Create(0x1234_5678_9ABC);
        root.Tree.Count = 5;
        root.Tree.Height = 1;
        root.Hash.Count = 5;
        root.Seq = 99;
        var bytes = new byte[ZSetRoot.Size];
        root.Write(bytes);
        await Assert.That(ZSetRoot.TryRead(bytes, out var back)).IsTrue();
        await Assert.That(back.Cid).IsEqualTo(root.Cid);
        await Assert.That(back.Count).IsEqualTo(5UL);
        await Assert.That(back.Seq).IsEqualTo(99UL);
        await Assert.That(ZSetRoot.TryRead(bytes.AsSpan(0, ZSetRoot.Size - 1), out _)).IsFalse();
        bytes[0] = (byte)CollectionEncoding.PagedList;
        await Assert.That(ZSetRoot.TryRead(bytes, out _)).IsFalse();
        bytes[0] = (byte)CollectionEncoding.PagedZSet;
        root.Hash.Count = 4; // the hash and the tree disagree: not a root this build wrote
        root.Write(bytes);
        await Assert.That(ZSetRoot.TryRead(bytes, out _)).IsFalse();
    }
}
