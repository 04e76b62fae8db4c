using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The paged list (<see cref="PagedList"/> over the counted tree, its <see cref="ListRoot"/> and element records)
/// against a List of byte arrays: seeded random pushes at both ends (runs of them), pops of one or many, LSET,
/// LINSERT-style inserts and LREM-style removals anywhere, LTRIM-style range removals, LINDEX, and range reads
/// through <see cref="CountedTree.LeavesFrom"/> both ways; reads answer Pending at random and the apply's writes are
/// staged, as in a command. Every change is logged as the element record a command logs; at a random step the pages
/// and the root are copied (a checkpoint), and at the end a crash: the copy replayed with the records from up to
/// 2,000 before the checkpoint (those it holds are skipped by their seq) must give the model's list and root.
/// The root goes through its bytes now and then between steps and at the checkpoint, as format 4 or (sides that fit
/// 240 bytes) the format 3 an older build wrote, so the replay also starts from an old root.
/// </summary>
public class PagedListModelTests
{
    private sealed class Run(int seed, int pageShift)
    {
        public readonly FlakyPageStore Store = new(seed, 25);
        public ListRoot Root = ListRoot.Create(77, pageShift);
        public readonly List<byte[]> Model = new();
        public readonly List<byte[]> Log = new();
        private readonly PageSet _pages = new();
        private readonly List<PageKey> _needs = new();
        private readonly Random _rng = new(seed + 1);
        private readonly byte[] _field = new byte[PagedList.FieldSize];
        private static readonly byte[] Key = [0, 0, 0, 0, (byte)'k'];

        public delegate void NeedsFn(in ListRoot root, PageSet pages, List<PageKey> needs);

        /// <summary>needs -> fetch until nothing is missing (a pending read lands, or the attempt starts again empty), then the staged apply.</summary>
        public void Do(NeedsFn needs, Action<PageSet, IPageStore> apply)
        {
            _pages.Clear();
            Store.BeginOperation();
            for (int rounds = 0; ; rounds++)
            {
                needs(Root, _pages, _needs);
                if (_needs.Count == 0) break;
                if (rounds > 200) throw new InvalidOperationException("needs never settle");
                bool pending = false;
                foreach (var k in _needs)
                    if (Store.Read(k, _pages) == PageRead.Pending) pending = true;
                _needs.Clear();
                _pages.ClearNeeded();
                if (!pending) continue;
                if (_rng.Next(2) == 0) _pages.Clear();
                else Store.Land(_pages);
            }
            var staging = new StagingStore(Store);
            apply(_pages, staging);
            staging.Commit();
        }

        public delegate bool TryFn(ref ListRoot root, PageSet pages, IPageStore store, List<PageKey> needs);

        /// <summary>
        /// A <c>Try*</c> step as a command runs it: called again after each fetch with what it did so far (a copy of the
        /// root, staged writes); an attempt that starts again empty starts from the stored root.
        /// </summary>
        /// <summary>Called when an attempt starts again empty (a step that keeps its own progress resets it).</summary>
        public Action? OnRestart;

        public void DoTry(TryFn step)
        {
            _pages.Clear();
            Store.BeginOperation();
            var root = Root;
            var staging = new StagingStore(Store);
            for (int rounds = 0; !step(ref root, _pages, staging, _needs); rounds++)
            {
                if (rounds > 200) throw new InvalidOperationException("a step never finished");
                bool pending = false;
                foreach (var k in _needs)
                    if (Store.Read(k, _pages) == PageRead.Pending) pending = true;
                _needs.Clear();
                _pages.ClearNeeded();
                if (!pending) continue;
                if (_rng.Next(2) == 0)
                {
                    _pages.Clear();
                    Store.Restart();
                    root = Root;
                    staging = new StagingStore(Store);
                    OnRestart?.Invoke();
                }
                else Store.Land(_pages);
            }
            Root = root;
            staging.Commit();
        }

        /// <summary>The edge sides into the tree, as a change by position does first.</summary>
        public void Settle() => DoTry((ref ListRoot r, PageSet p, IPageStore s, List<PageKey> nd) => PagedList.TrySettle(ref r, p, s, nd));

        public void Record(ElementOp op, ulong arg, ReadOnlySpan<byte> value = default)
        {
            Root.Seq++;
            var r = PagedList.Record(op, Root.Cid, Key, _field, Root.Seq, arg, value);
            var bytes = new byte[r.EncodedSize];
            r.Encode(bytes);
            Log.Add(bytes);
        }

        /// <summary>Ranks [from, from + n) (towards 0 when reverse): the edge sides' from the root, the tree's leaf by leaf through LeavesFrom.</summary>
        public List<byte[]> Range(ulong from, ulong n, bool reverse)
        {
            var all = new List<byte[]>();
            ulong tree = Root.Tree.Count;
            for (ulong i = 0; i < n; i++)
            {
                ulong rank = reverse ? from - i : from + i;
                if (Root.Edges.TryAtRank(rank, tree, out var element, out ulong treeRank))
                {
                    all.Add(element.ToArray());
                    continue;
                }
                // A run of the tree's ranks at once.
                ulong run = reverse ? Math.Min(n - i, treeRank + 1) : Math.Min(n - i, tree - treeRank);
                all.AddRange(TreeRange(treeRank, run, reverse));
                i += run - 1;
            }
            return all;
        }

        private List<byte[]> TreeRange(ulong from, ulong n, bool reverse)
        {
            var sink = new ListSink();
            var leaves = new List<TreeLeaf>();
            ulong rank = from;
            while ((ulong)sink.Items.Count < n)
            {
                Do((in ListRoot r, PageSet p, List<PageKey> needs) =>
                {
                    if (!CountedTree.LeavesFrom(r.Tree, rank, reverse, 1, p, needs, leaves)) return;
                    if (p.State(leaves[0].Key) == PageState.NotInHand && p.MarkNeeded(leaves[0].Key)) needs.Add(leaves[0].Key);
                    // The leaf in hand: the chunks of its elements kept out of line (as ListScan.FetchRange names them).
                    if (needs.Count == 0 && r.Tree.OutOfLine > 0)
                        CountedTree.Visit(r.Tree, rank, (int)(n - (ulong)sink.Items.Count), reverse, p, ListChunks.Namer.For(r.Tree, p, needs));
                }, (p, _) =>
                {
                    var leaf = leaves[0];
                    if (rank < leaf.First || rank >= leaf.First + leaf.Count) throw new InvalidOperationException($"leaf [{leaf.First}, +{leaf.Count}) does not hold {rank}");
                    int got = CountedTree.Visit(Root.Tree, rank, (int)(n - (ulong)sink.Items.Count), reverse, p, ListChunks.Resolver.For(Root.Tree, p, sink));
                    if ((ulong)got != Math.Min(n - (ulong)(sink.Items.Count - got), reverse ? rank - leaf.First + 1 : leaf.First + leaf.Count - rank))
                        throw new InvalidOperationException("a leaf yielded other than its part of the range");
                    rank = reverse ? rank - (ulong)got : rank + (ulong)got;
                });
            }
            return sink.Items;
        }
    }

    /// <summary>
    /// An element: empty, an integer, random bytes up to the tree's entry limit or (a sixth of those) past it, kept out
    /// of line, now and then past a chunk (several chunks), or a short string.
    /// </summary>
    private static byte[] El(Random rng, int max) => rng.Next(8) switch
    {
        0 => [],
        1 => System.Text.Encoding.ASCII.GetBytes(rng.Next(-5000, 5000).ToString()),
        2 => Bytes(rng, rng.Next(6) != 0 ? rng.Next(1, max + 1)
            : rng.Next(40) == 0 ? rng.Next(ListChunks.ChunkSize - 2, 2 * ListChunks.ChunkSize + 3) : rng.Next(max + 1, 3 * max)),
        _ => System.Text.Encoding.ASCII.GetBytes("e" + rng.Next(1_000_000)),
    };

    private static byte[] Bytes(Random rng, int length)
    {
        var b = new byte[length];
        rng.NextBytes(b);
        return b;
    }

    /// <summary>
    /// The chunks the store holds are exactly those of the model's long elements (none leaked by a pop, LSET, LREM or
    /// range removal, none missing), and the tree counts its references.
    /// </summary>
    private static async Task ChunksMatch(ListRoot root, Dictionary<PageKey, byte[]> store, List<byte[]> model)
    {
        var longOnes = model.Where(e => ListChunks.IsLong(root.Tree, e.Length)).ToList();
        await Assert.That(root.Tree.OutOfLine).IsEqualTo((uint)longOnes.Count);
        long chunks = store.Keys.Count(k => k.Kind == PageKind.Chunk && k.Cid == root.Cid);
        await Assert.That(chunks).IsEqualTo(longOnes.Sum(e => (long)ListChunks.ChunksOf(e.Length)));
    }

    /// <summary>
    /// The root through its bytes, as a checkpoint or a restart reads it: format 4 (<see cref="ListRoot.Write"/>), or
    /// when <paramref name="format3"/> and the sides fit 240 bytes, the format 3 an older build wrote (<see cref="Format3"/>).
    /// </summary>
    private static ListRoot ThroughBytes(in ListRoot root, bool format3)
    {
        var bytes = (format3 ? Format3(root) : null) ?? new byte[ListRoot.Size];
        if (bytes.Length == ListRoot.Size) root.Write(bytes);
        if (!ListRoot.TryRead(bytes, out var back)) throw new InvalidOperationException("a root that does not read back");
        return back;
    }

    /// <summary>A format 3 root (574 bytes; sides of 240, entries <c>[u8 length][bytes]</c> outermost first), or null when a side does not fit it.</summary>
    internal static byte[]? Format3(in ListRoot root)
    {
        var v4 = new byte[ListRoot.Size];
        root.Write(v4);
        var bytes = new byte[90 + 4 + 2 * 240];
        v4.AsSpan(0, 90).CopyTo(bytes);
        bytes[57] = 3;
        for (int s = 0; s < 2; s++)
        {
            bool head = s == 0;
            int n = root.Edges.Count(head), at = 0;
            var side = bytes.AsSpan(94 + (head ? 0 : 240), 240);
            for (int k = 0; k < n; k++)
            {
                var e = root.Edges.At(head, k);
                if (at + 1 + e.Length > 240 || n > 255) return null;
                side[at] = (byte)e.Length;
                e.CopyTo(side[(at + 1)..]);
                at += 1 + e.Length;
            }
            bytes[90 + s] = (byte)at;
            bytes[92 + s] = (byte)n;
        }
        return bytes;
    }

    private static long RedisBytes(List<byte[]> model) => ListRoot.RedisEmptyBytes + model.Sum(e => (long)List.RedisEntryBytes(e));

    private static async Task Same(Run run)
    {
        await Assert.That(run.Root.Count).IsEqualTo((ulong)run.Model.Count);
        if (run.Model.Count == 0) return;
        var all = run.Range(0, (ulong)run.Model.Count, false);
        await Assert.That(all.Zip(run.Model).All(p => p.First.AsSpan().SequenceEqual(p.Second))).IsTrue();
        if (run.Root.RedisBytes >= 0) await Assert.That(run.Root.RedisBytes).IsEqualTo(RedisBytes(run.Model));
    }

    [Test]
    [Arguments(1, 9, 20_000, false)]
    [Arguments(2, 12, 30_000, false)]
    [Arguments(3, 10, 20_000, false)]
    // Edge-heavy (issue 13): long runs of pushes and pops at the edges (counts pending in the root, edge leaves
    // filling, splitting and emptying) between the positional ops that fold them.
    [Arguments(4, 9, 6_000, true)]
    [Arguments(5, 12, 4_000, true)]
    [Arguments(6, 10, 6_000, true)]
    public async Task Random_operations_match_a_list_through_a_crash_and_replay(int seed, int pageShift, int steps, bool edges)
    {
        var run = new Run(seed, pageShift);
        var rng = new Random(seed);
        int max = CountedTree.MaxElementLength(run.Root.Tree);
        int checkpointAt = rng.Next(steps / 4, steps * 3 / 4);
        Dictionary<PageKey, byte[]>? savedPages = null;
        ListRoot savedRoot = default;
        int savedLog = 0, pendingSteps = 0;
        for (int step = 0; step < steps; step++)
        {
            if (run.Root.Tree.LeftDelta != 0 || run.Root.Tree.RightDelta != 0) pendingSteps++;
            if (step == checkpointAt)
            {
                savedPages = run.Store.Pages.ToDictionary(p => p.Key, p => p.Value.ToArray());
                // The checkpoint holds the root's bytes: format 4, or (a third of the seeds, when the sides fit) an older build's 3.
                savedRoot = ThroughBytes(run.Root, seed % 3 == 0);
                savedLog = run.Log.Count;
            }
            // A root read back from its record between commands (a restart, or the general path after an in-record edit).
            if (rng.Next(8) == 0) run.Root = ThroughBytes(run.Root, rng.Next(4) == 0);
            var m = run.Model;
            ulong n = (ulong)m.Count;
            int op = rng.Next(100);
            bool longRun = false;
            if (edges)
            {
                // 45% push runs, 35% pop runs (up to a few leaves' worth), the rest positional.
                longRun = op < 80 && rng.Next(3) == 0;
                op = op < 45 ? 0 : op < 80 ? 45 : 55 + rng.Next(45);
            }
            // Grow towards tens of thousands, with stretches that shrink.
            if (op < 40 || n < 10)
            {
                bool head = rng.Next(3) == 0;
                int runOf = longRun ? rng.Next(50, 1500) : rng.Next(4) == 0 ? rng.Next(20, 200) : 1;
                for (int i = 0; i < runOf; i++)
                {
                    // A quarter of the time several elements in one attempt, as LPUSH k a b c pushes them.
                    var batch = new List<byte[]> { El(rng, max) };
                    if (rng.Next(4) == 0)
                        for (int more = rng.Next(1, 5); more > 0 && i + 1 < runOf; more--, i++) batch.Add(El(rng, max));
                    int done = 0;
                    run.OnRestart = () => done = 0;
                    run.DoTry((ref ListRoot r, PageSet p, IPageStore s, List<PageKey> nd) =>
                    {
                        for (; done < batch.Count; done++)
                            if (!PagedList.TryPush(ref r, head, batch[done], p, s, nd)) return false;
                        return true;
                    });
                    run.OnRestart = null;
                    foreach (var e in batch)
                    {
                        run.Record(head ? ElementOp.LPush : ElementOp.RPush, 0, e);
                        if (head) m.Insert(0, e); else m.Add(e);
                    }
                }
            }
            else if (op < 55)
            {
                bool head = rng.Next(2) == 0;
                int take = Math.Min(m.Count, longRun ? rng.Next(50, 1200) : rng.Next(3) == 0 ? rng.Next(1, 60) : 1);
                for (int i = 0; i < take; i++)
                {
                    var popped = new System.Buffers.ArrayBufferWriter<byte>();
                    run.DoTry((ref ListRoot r, PageSet p, IPageStore s, List<PageKey> nd) =>
                    {
                        popped.ResetWrittenCount(); // a step called again after a fetch has not popped yet
                        return PagedList.TryPop(ref r, head, p, s, nd, popped);
                    });
                    var want = head ? m[0] : m[^1];
                    if (!popped.WrittenSpan.SequenceEqual(want)) throw new InvalidOperationException($"step {step}: popped other than the model's end");
                    m.RemoveAt(head ? 0 : m.Count - 1);
                }
                run.Record(head ? ElementOp.LPop : ElementOp.RPop, (ulong)take);
            }
            else if (op < 65)
            {
                ulong at = (ulong)rng.NextInt64((long)n);
                var e = El(rng, max);
                run.Settle();
                run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsSetAt(r, at, e.Length, p, nd), (p, s) => PagedList.SetAt(ref run.Root, at, e, p, s));
                run.Record(ElementOp.LSet, at, e);
                m[(int)at] = e;
            }
            else if (op < 73)
            {
                ulong at = (ulong)rng.NextInt64((long)n + 1);
                var e = El(rng, max);
                run.Settle();
                run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsInsertAt(r, at, p, nd), (p, s) => PagedList.InsertAt(ref run.Root, at, e, p, s));
                run.Record(ElementOp.LInsert, at, e);
                m.Insert((int)at, e);
            }
            else if (op < 81)
            {
                ulong at = (ulong)rng.NextInt64((long)n);
                run.Settle();
                run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsRemoveAt(r, at, p, nd), (p, s) => PagedList.RemoveAt(ref run.Root, at, p, s));
                run.Record(ElementOp.LRemAt, at);
                m.RemoveAt((int)at);
            }
            else if (op < 84)
            {
                ulong at = (ulong)rng.NextInt64((long)n);
                ulong count = (ulong)rng.NextInt64(1, (long)Math.Min(n - at, rng.Next(2) == 0 ? 50UL : 5000UL) + 1);
                run.Settle();
                for (ulong left = count; left > 0;)
                {
                    ulong l = left;
                    ulong removed = 0;
                    run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsRemoveRange(r, at, l, p, nd), (p, s) => removed = PagedList.RemoveRange(ref run.Root, at, l, p, s));
                    left -= removed;
                }
                var bytes = BitConverter.GetBytes(count);
                run.Record(ElementOp.LRemRange, at, bytes);
                m.RemoveRange((int)at, (int)count);
            }
            else if (op < 92)
            {
                ulong at = (ulong)rng.NextInt64((long)n);
                var got = new System.Buffers.ArrayBufferWriter<byte>();
                run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsAt(r, at, p, nd), (p, _) => PagedList.GetAt(run.Root, at, p, got));
                if (!got.WrittenSpan.SequenceEqual(m[(int)at])) throw new InvalidOperationException($"step {step}: LINDEX {at} differs");
            }
            else
            {
                bool reverse = rng.Next(2) == 0;
                ulong at = (ulong)rng.NextInt64((long)n);
                ulong len = (ulong)rng.NextInt64(1, (long)Math.Min(reverse ? at + 1 : n - at, 3000UL) + 1);
                var got = run.Range(at, len, reverse);
                for (int i = 0; i < got.Count; i++)
                    if (!got[i].AsSpan().SequenceEqual(m[(int)(reverse ? at - (ulong)i : at + (ulong)i)])) throw new InvalidOperationException($"step {step}: range differs at {i}");
            }
            if (edges && step % 50 == 0)
            {
                // LLEN and both ends, straight after the edge runs (the walk adds the pending counts).
                foreach (ulong at in (ulong[])[0, n > 0 ? (ulong)m.Count - 1 : 0, (ulong)m.Count / 2])
                {
                    if (m.Count == 0) break;
                    var got = new System.Buffers.ArrayBufferWriter<byte>();
                    run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => PagedList.NeedsAt(r, at, p, nd), (p, _) => PagedList.GetAt(run.Root, at, p, got));
                    if (!got.WrittenSpan.SequenceEqual(m[(int)at])) throw new InvalidOperationException($"step {step}: LINDEX {at} after edge runs differs");
                }
                if (run.Root.Count != (ulong)m.Count) throw new InvalidOperationException($"step {step}: count {run.Root.Count}, model {m.Count}");
            }
            if (run.Root.RedisBytes >= 0 && step % 500 == 0 && run.Root.RedisBytes != RedisBytes(m)) throw new InvalidOperationException($"step {step}: redis bytes {run.Root.RedisBytes}, model {RedisBytes(m)}");
        }
        await Same(run);
        await ChunksMatch(run.Root, run.Store.Pages, run.Model);
        await Assert.That(run.Root.Tree.OutOfLine).IsGreaterThan(0U); // the model ends holding long elements
        if (edges)
        {
            // The edge runs did leave counts pending (the fast path ran), and positional ops folded them.
            await Assert.That(pendingSteps).IsGreaterThan(steps / 4);
            await Assert.That(pendingSteps).IsLessThan(steps);
            // Settled and folded, the inner pages' own counts hold the whole list.
            run.Settle();
            await Assert.That(run.Root.Edges.IsEmpty).IsTrue();
            run.Do((in ListRoot r, PageSet p, List<PageKey> nd) => CountedTree.NeedsFold(r.Tree, p, nd), (p, s) => CountedTree.Fold(ref run.Root.Tree, p, s));
            await Assert.That(run.Root.Tree.LeftDelta).IsEqualTo(0L);
            await Assert.That(run.Root.Tree.RightDelta).IsEqualTo(0L);
            await Same(run);
        }

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
        int skipped = 0, applied = 0;
        for (int i = Math.Max(0, savedLog - rng.Next(0, 2000)); i < run.Log.Count; i++)
        {
            if (!ElementRecord.TryDecode(run.Log[i], out var record, out _)) throw new InvalidOperationException("record does not decode");
            pages.Clear();
            if (PagedList.ApplyRecord(ref root, record, pages, needs, replay, fetch)) applied++;
            else skipped++;
        }
        await Assert.That(applied).IsEqualTo(run.Log.Count - savedLog);
        await Assert.That(root.Count).IsEqualTo(run.Root.Count);
        await Assert.That(root.Seq).IsEqualTo(run.Root.Seq);
        // The replayed tree holds the same elements in the same order.
        var check = new Run(seed, pageShift) { Root = root };
        foreach (var (k, v) in replay.Pages) check.Store.Pages[k] = v;
        check.Model.AddRange(run.Model);
        await Same(check);
        await ChunksMatch(root, replay.Pages, run.Model);
        // A second replay of the whole log changes nothing (every seq is past).
        int again = 0;
        foreach (var bytes in run.Log)
        {
            ElementRecord.TryDecode(bytes, out var record, out _);
            pages.Clear();
            if (PagedList.ApplyRecord(ref root, record, pages, needs, replay, fetch)) again++;
        }
        await Assert.That(again).IsEqualTo(0);
    }

    [Test]
    public async Task The_root_round_trips_and_refuses_other_payloads()
    {
        var root = ListRoot.Create(0x1234_5678_9ABC, 12);
        root.Tree.Count = 5;
        root.Tree.Height = 1;
        root.RedisBytes = -1;
        root.Seq = 99;
        root.LeftLeaf = 7;
        root.Tree.LeftDelta = -3;
        root.Tree.RightDelta = 1L << 40;
        await Assert.That(root.Edges.TryAdd(true, "b"u8)).IsTrue();
        await Assert.That(root.Edges.TryAdd(true, "a"u8)).IsTrue();
        await Assert.That(root.Edges.TryAdd(false, ""u8)).IsTrue();
        await Assert.That(root.Edges.TryAdd(false, new byte[ListEdges.MaxElement + 1])).IsFalse();
        var bytes = new byte[ListRoot.Size];
        root.Write(bytes);
        await Assert.That(ListRoot.TryRead(bytes, out var back)).IsTrue();
        await Assert.That(back.Cid).IsEqualTo(root.Cid);
        await Assert.That(back.Count).IsEqualTo(8UL); // the tree's 5 and the sides' 3
        await Assert.That(back.Edges.At(true, 0).SequenceEqual("a"u8)).IsTrue();
        await Assert.That(back.Edges.At(true, 1).SequenceEqual("b"u8)).IsTrue();
        await Assert.That(back.Edges.TryAtRank(7, 5, out var last, out _) && last.Length == 0).IsTrue();
        await Assert.That(back.Edges.TryAtRank(2, 5, out _, out ulong treeRank)).IsFalse();
        await Assert.That(treeRank).IsEqualTo(0UL);
        // A format 2 root (90 bytes, before the edge sides) reads with empty sides.
        var format2 = bytes.AsSpan(0, 90).ToArray();
        format2[57] = 2;
        await Assert.That(ListRoot.TryRead(format2, out var old)).IsTrue();
        await Assert.That(old.Count).IsEqualTo(5UL);
        await Assert.That(old.Edges.IsEmpty).IsTrue();
        // Sides whose entries do not add up are refused.
        var torn = (byte[])bytes.Clone();
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(torn.AsSpan(90), ListEdges.SideBytes + 1);
        await Assert.That(() => ListRoot.TryRead(torn, out _)).Throws<InvalidDataException>();
        // A format 3 root (574 bytes, sides of 240 outermost first) reads into the same list, and writes back as format 4.
        var format3 = PagedListModelTests.Format3(root)!;
        await Assert.That(format3.Length).IsEqualTo(574);
        await Assert.That(ListRoot.IsEditable(format3)).IsFalse();
        await Assert.That(ListRoot.TryRead(format3, out var three)).IsTrue();
        await Assert.That(three.Count).IsEqualTo(8UL);
        await Assert.That(three.Edges.At(true, 0).SequenceEqual("a"u8) && three.Edges.At(true, 1).SequenceEqual("b"u8)).IsTrue();
        await Assert.That(three.Edges.Count(false) == 1 && three.Edges.At(false, 0).Length == 0).IsTrue();
        var rewritten = new byte[ListRoot.Size];
        three.Write(rewritten);
        await Assert.That(rewritten.AsSpan().SequenceEqual(bytes)).IsTrue();
        var torn3 = (byte[])format3.Clone();
        torn3[94] = 200; // the first entry's length runs past the side's used bytes
        await Assert.That(() => ListRoot.TryRead(torn3, out _)).Throws<InvalidDataException>();
        await Assert.That(back.RedisBytes).IsEqualTo(-1L);
        await Assert.That(back.Seq).IsEqualTo(99UL);
        await Assert.That(back.LeftLeaf).IsEqualTo(7UL);
        await Assert.That(back.RightLeaf).IsEqualTo(ListRoot.NoLeaf);
        await Assert.That(back.Tree.LeftDelta).IsEqualTo(-3L);
        await Assert.That(back.Tree.RightDelta).IsEqualTo(1L << 40);
        // A paged list's root of another size or format is refused loudly (read as an inline list it would be garbage).
        await Assert.That(() => ListRoot.TryRead(bytes.AsSpan(0, ListRoot.Size - 1), out _)).Throws<InvalidDataException>();
        await Assert.That(() => ListRoot.TryRead(bytes.AsSpan(0, 57), out _)).Throws<InvalidDataException>();
        var format1 = (byte[])bytes.Clone();
        format1[57] = 1;
        await Assert.That(() => ListRoot.TryRead(format1, out _)).Throws<InvalidDataException>();
        await Assert.That(ListRoot.TryRead(List.Empty, out _)).IsFalse();
        bytes[0] = (byte)CollectionEncoding.Paged;
        await Assert.That(ListRoot.TryRead(bytes, out _)).IsFalse();
    }
}

/// <summary>
/// The root's edits made inside the store's RMW (<see cref="ListRoot.TryPushInPlace"/>, <see cref="ListRoot.TryPopInPlace"/>)
/// against <see cref="PagedList.TryPush"/>/<see cref="PagedList.TryPop"/> on the parsed root: the same bytes, or a refusal
/// that changes nothing where the general path must run (a full side, a long element, an emptied or shrinking list).
/// </summary>
public class ListRootInPlaceTests
{
    [Test]
    public async Task In_place_pushes_and_pops_give_the_parsed_roots_bytes()
    {
        var rng = new Random(5);
        var store = new FlakyPageStore(5, 0);
        var pages = new PageSet();
        var needs = new List<PageKey>();
        var root = ListRoot.Create(9);
        root.Tree.Count = 5000; // a tree the edges never reach in this test (pushes that fit and pops the side holds)
        root.Tree.Height = 2;
        root.RedisBytes = 60_000;
        var bytes = new byte[ListRoot.Size];
        int pushes = 0, pops = 0, refused = 0;
        for (int step = 0; step < 20_000; step++)
        {
            bool head = rng.Next(2) == 0;
            root.Write(bytes);
            var before = (byte[])bytes.Clone();
            // Phases of mostly pushes and mostly pops, so the 1 KB sides run full (refused pushes) and empty (refused pops).
            if ((step / 2000 % 2 == 0) == (rng.Next(3) != 0))
            {
                var elements = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => new byte[rng.Next(0, rng.Next(10) == 0 ? 80 : 20)]).ToList();
                foreach (var e in elements) rng.NextBytes(e);
                var data = new byte[elements.Sum(e => Listpack.EntrySize(e.Length))];
                int at = 0;
                foreach (var e in elements) at += Listpack.WriteEntry(data.AsSpan(at), e);
                var copy = root;
                bool fits = elements.All(e => copy.Edges.TryAdd(head, e));
                bool done = ListRoot.TryPushInPlace(bytes, head, data, out ulong count, out ulong cid, out ulong seq);
                if (done != fits) throw new InvalidOperationException($"step {step}: in place {done}, parsed {fits}");
                if (!done)
                {
                    if (!bytes.AsSpan().SequenceEqual(before)) throw new InvalidOperationException($"step {step}: a refused push changed the root");
                    refused++;
                    continue;
                }
                foreach (var e in elements)
                    if (!PagedList.TryPush(ref root, head, e, pages, store, needs)) throw new InvalidOperationException("a push onto the side named pages");
                root.Seq += (ulong)elements.Count;
                if (cid != root.Cid || seq != root.Seq - (ulong)elements.Count || count != root.Count) throw new InvalidOperationException($"step {step}: ids");
                pushes++;
            }
            else
            {
                int take = rng.Next(1, 4);
                var popped = new byte[ListEdges.SideBytes];
                bool done = ListRoot.TryPopInPlace(bytes, head, take, -2, popped, out int poppedBytes, out ulong count, out ulong cid, out ulong seq);
                if (done != (root.Edges.Count(head) >= take)) throw new InvalidOperationException($"step {step}: in place pop {done} of {take}, side {root.Edges.Count(head)}");
                if (!done)
                {
                    if (!bytes.AsSpan().SequenceEqual(before)) throw new InvalidOperationException($"step {step}: a refused pop changed the root");
                    refused++;
                    continue;
                }
                var want = new System.Buffers.ArrayBufferWriter<byte>();
                int o = 0;
                for (int i = 0; i < take; i++)
                {
                    want.ResetWrittenCount();
                    if (!PagedList.TryPop(ref root, head, pages, store, needs, want)) throw new InvalidOperationException("a pop from the side named pages");
                    int length = popped[o];
                    if (!popped.AsSpan(o + 1, length).SequenceEqual(want.WrittenSpan)) throw new InvalidOperationException($"step {step}: popped other bytes");
                    o += 1 + length;
                }
                if (o != poppedBytes) throw new InvalidOperationException($"step {step}: popped {poppedBytes} bytes, entries {o}");
                root.Seq++;
                if (cid != root.Cid || seq != root.Seq - 1 || count != root.Count) throw new InvalidOperationException($"step {step}: ids");
                pops++;
            }
            var parsed = new byte[ListRoot.Size];
            root.Write(parsed);
            if (!parsed.AsSpan().SequenceEqual(bytes)) throw new InvalidOperationException($"step {step}: in-place root differs from the parsed root's");
        }
        await Assert.That(pushes).IsGreaterThan(1000);
        await Assert.That(pops).IsGreaterThan(1000);
        await Assert.That(refused).IsGreaterThan(1000);
        // A pop that would empty the list, or let it go back inline, is the general path's.
        var small = ListRoot.Create(10);
        small.Edges.TryAdd(true, "a"u8);
        small.Edges.TryAdd(true, "b"u8);
        small.Write(bytes);
        await Assert.That(ListRoot.TryPopInPlace(bytes, true, 2, -2, new byte[ListEdges.SideBytes], out _, out _, out _, out _)).IsFalse();
        await Assert.That(ListRoot.TryPopInPlace(bytes, true, 1, -2, new byte[ListEdges.SideBytes], out _, out _, out _, out _)).IsFalse();
    }
}
