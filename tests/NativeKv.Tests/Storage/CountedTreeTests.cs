using System.Buffers.Binary;
using System.Diagnostics;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The counted tree's edges and costs: the score key's order, the meta's codec, the element limit, what
/// a push, a pop, a rank read and a range removal read and write, that the invariant check catches a wrong
/// count, and the pages and bytes a 1M-element tree takes at 2 KB and 4 KB pages.
/// </summary>
public class CountedTreeTests
{
    private static byte[] E(int i, int length = 16)
    {
        var e = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(e, i);
        return e;
    }

    [Test]
    public async Task Score_keys_sort_as_the_scores_then_the_members()
    {
        double[] scores = [double.NegativeInfinity, double.MinValue, -1e10, -1, -double.Epsilon, 0.0, double.Epsilon, 0.5, 1, 3.14, 1e300, double.MaxValue, double.PositiveInfinity];
        for (int i = 0; i + 1 < scores.Length; i++)
            await Assert.That(TreeKeys.ScoreBits(scores[i])).IsLessThan(TreeKeys.ScoreBits(scores[i + 1])).Because($"{scores[i]} < {scores[i + 1]}");
        foreach (var s in scores) await Assert.That(TreeKeys.ScoreOf(TreeKeys.ScoreBits(s))).IsEqualTo(s);
        await Assert.That(TreeKeys.ScoreBits(-0.0)).IsEqualTo(TreeKeys.ScoreBits(0.0));
        await Assert.That(double.IsNegative(TreeKeys.ScoreOf(TreeKeys.ScoreBits(-0.0)))).IsFalse();
        await Assert.That(() => TreeKeys.ScoreBits(double.NaN)).Throws<ArgumentException>();
        static byte[] K(double s, string m)
        {
            var k = new byte[TreeKeys.KeyLength(m.Length)];
            TreeKeys.Write(s, System.Text.Encoding.Latin1.GetBytes(m), k);
            return k;
        }
        // Equal scores order by member bytes, a prefix first; any member of a lower score first.
        await Assert.That(K(1, "b").AsSpan().SequenceCompareTo(K(1, "ba"))).IsLessThan(0);
        await Assert.That(K(1, "ba").AsSpan().SequenceCompareTo(K(1, "c"))).IsLessThan(0);
        await Assert.That(K(1, "zzz").AsSpan().SequenceCompareTo(K(2, ""))).IsLessThan(0);
        await Assert.That(K(-2, "zzz").AsSpan().SequenceCompareTo(K(-1, "a"))).IsLessThan(0);
        await Assert.That(TreeKeys.Member(K(7, "abc")).SequenceEqual("abc"u8)).IsTrue();
        await Assert.That(TreeKeys.Score(K(-7.25, "abc"))).IsEqualTo(-7.25);
        // Bounds: an exclusive lower bound sorts past every member of its score, an inclusive upper one too.
        var b = new byte[8];
        TreeKeys.Lower(1, true, b);
        await Assert.That(b.AsSpan().SequenceCompareTo(K(1, "\xff\xff\xff"))).IsGreaterThan(0);
        await Assert.That(b.AsSpan().SequenceCompareTo(K(double.BitIncrement(1), ""))).IsLessThanOrEqualTo(0);
        TreeKeys.Lower(1, false, b);
        await Assert.That(b.AsSpan().SequenceCompareTo(K(1, ""))).IsLessThanOrEqualTo(0);
        await Assert.That(b.AsSpan().SequenceCompareTo(K(double.BitDecrement(1), "\xff"))).IsGreaterThan(0);
    }

    [Test]
    public async Task Leaf_entries_read_the_same_from_either_end_and_a_wrong_trailing_length_is_caught()
    {
        // Lengths either side of the 1- and 2-byte LEB128 boundaries of the tag (64) and the trailer (128).
        int[] lengths = [0, 1, 63, 64, 65, 127, 128, 129, 500, 1017];
        var page = new byte[TreePage.HeaderSize + lengths.Sum(TreePage.LeafEntrySize)];
        int at = TreePage.HeaderSize;
        for (int i = 0; i < lengths.Length; i++) at += TreePage.WriteLeafEntry(page.AsSpan(at), E(i, Math.Max(lengths[i], 4))[..lengths[i]]);
        TreePage.WriteHeader(page, true, lengths.Length, at);
        await Assert.That(at).IsEqualTo(page.Length);
        await Assert.That(TreePage.CheckLeaf(page)).IsNull();
        var forward = new List<int>();
        for (int i = 0; i <= lengths.Length; i++) forward.Add(TreePage.LeafOffset(page, i));
        // Offsets walked from the start (the front half) and from the end (the back half) agree with the forward sums.
        int expect = TreePage.HeaderSize;
        for (int i = 0; i <= lengths.Length; i++)
        {
            await Assert.That(forward[i]).IsEqualTo(expect);
            if (i < lengths.Length) expect += TreePage.LeafEntrySize(lengths[i]);
        }
        int end = page.Length;
        for (int i = lengths.Length - 1; i >= 0; i--)
        {
            int len = TreePage.ElementBefore(page, ref end).Length;
            await Assert.That(len).IsEqualTo(lengths[i]);
            await Assert.That(end).IsEqualTo(forward[i]);
        }
        // The 129-byte element's trailer (2 bytes, last to first) says 1 more: the backward walk no longer lands on its start.
        int trailer = forward[8] - 2;
        page[trailer + 1]++;
        await Assert.That(TreePage.CheckLeaf(page)).IsNotNull();
    }

    [Test]
    public async Task Tree_meta_round_trips_and_refuses_foreign_bytes()
    {
        var m = TreeMeta.Create(0x1122334455667788, TreeMode.Ordered);
        m.Height = 3;
        m.Root = 77;
        m.Count = 123_456_789;
        m.NextPage = 9999;
        var bytes = new byte[TreeMeta.Size];
        m.Write(bytes);
        await Assert.That(TreeMeta.TryRead(bytes, out var back)).IsTrue();
        await Assert.That(back).IsEqualTo(m);
        var bad = (byte[])bytes.Clone();
        bad[0] = 1; // a tree whose leaves had no trailing lengths
        await Assert.That(TreeMeta.TryRead(bad, out _)).IsFalse();
        bad[0] = 3;
        await Assert.That(TreeMeta.TryRead(bad, out _)).IsFalse();
        bad = (byte[])bytes.Clone();
        bad[1] = 9;
        await Assert.That(TreeMeta.TryRead(bad, out _)).IsFalse();
        bad = (byte[])bytes.Clone();
        bad[2] = 0; // height 0 with elements
        await Assert.That(TreeMeta.TryRead(bad, out _)).IsFalse();
        await Assert.That(TreeMeta.TryRead(bytes.AsSpan(0, TreeMeta.Size - 1), out _)).IsFalse();
        await Assert.That(CountedTree.MaxElementLength(TreeMeta.Create(1, TreeMode.Ordered))).IsEqualTo(1002);
        await Assert.That(CountedTree.MaxElementLength(TreeMeta.Create(1, TreeMode.Position))).IsEqualTo(1017);
    }

    [Test]
    public async Task An_element_past_the_limit_is_refused_before_anything_changes()
    {
        foreach (var mode in new[] { TreeMode.Position, TreeMode.Ordered })
        {
            var d = new TreeDriver(TreeMeta.Create(5, mode), 5, 0);
            int max = CountedTree.MaxElementLength(d.Meta);
            for (int i = 0; i < 300; i++)
            {
                if (mode == TreeMode.Position) d.InsertAt(d.Meta.Count, E(i, max));
                else d.Insert(E(i, max));
            }
            var before = d.Meta;
            long writes = d.Store.Writes;
            var tooLong = new byte[max + 1];
            var thrown = mode == TreeMode.Position
                ? Assert.Throws<ElementTooLargeException>(() => d.InsertAt(7, tooLong))
                : Assert.Throws<ElementTooLargeException>(() => d.Insert(tooLong));
            await Assert.That(thrown.Max).IsEqualTo(max);
            await Assert.That(thrown.Message).Contains($"{max + 1} bytes");
            if (mode == TreeMode.Position) Assert.Throws<ElementTooLargeException>(() => d.SetAt(3, tooLong));
            await Assert.That(d.Meta).IsEqualTo(before);
            await Assert.That(d.Store.Writes).IsEqualTo(writes);
            await Assert.That(d.Verify()).IsNull();
        }
    }

    [Test]
    public async Task An_empty_tree_reads_nothing_and_refuses_a_removal()
    {
        var d = new TreeDriver(TreeMeta.Create(6, TreeMode.Ordered), 6, 0);
        await Assert.That(d.Rank([1, 2, 3])).IsEqualTo((0UL, false));
        await Assert.That(d.Delete([1])).IsFalse();
        await Assert.That(d.All().Count).IsEqualTo(0);
        await Assert.That(() => d.RemoveAt(0)).Throws<ArgumentOutOfRangeException>();
        await Assert.That(d.RemoveRange(0, 10)).IsEqualTo(0);
        // Filled and emptied again: no page left behind, height back to 0.
        for (int i = 0; i < 5000; i++) d.Insert(E(i));
        await Assert.That((int)d.Meta.Height).IsGreaterThan(1);
        for (int i = 0; i < 5000; i += 2) d.Delete(E(i));
        d.RemoveRange(0, d.Meta.Count);
        await Assert.That(d.Meta.Count).IsEqualTo(0UL);
        await Assert.That((int)d.Meta.Height).IsEqualTo(0);
        await Assert.That(d.Store.Pages.Count).IsEqualTo(0);
        await Assert.That(d.Verify()).IsNull();
    }

    /// <summary>Counts the reads and writes of each operation on a tree page key basis.</summary>
    private static (long Reads, long Writes) Cost(TreeDriver d, Action op)
    {
        long r = d.Store.Reads, w = d.Store.Writes;
        op();
        return (d.Store.Reads - r, d.Store.Writes - w);
    }

    [Test]
    public async Task Pushes_and_pops_touch_the_edge_leaf_and_its_path_and_reads_walk_one_page_a_level()
    {
        var d = new TreeDriver(TreeMeta.Create(7, TreeMode.Position), 7, 0);
        for (int i = 0; i < 200_000; i++) d.InsertAt(d.Meta.Count, E(i));
        int h = d.Meta.Height;
        await Assert.That(h).IsEqualTo(3);
        long splits = 0;
        for (int i = 0; i < 2000; i++)
        {
            // RPUSH, LPUSH, RPOP, LPOP, LINDEX anywhere: each reads exactly its path, cold.
            var (r, w) = Cost(d, () => d.InsertAt(d.Meta.Count, E(-i)));
            await Assert.That(r).IsEqualTo(h);
            if (w > h) splits++;
            (r, w) = Cost(d, () => d.InsertAt(0, E(-i)));
            await Assert.That(r).IsEqualTo(h);
            if (w > h) splits++;
            (r, _) = Cost(d, () => d.RemoveAt(d.Meta.Count - 1));
            await Assert.That(r).IsLessThanOrEqualTo(h + 1);
            (r, w) = Cost(d, () => d.GetAt((ulong)(i * 97) % d.Meta.Count));
            await Assert.That(r).IsEqualTo(h);
            await Assert.That(w).IsEqualTo(0);
        }
        // A push writes its leaf and the counts above it; a split (one push in ~240 at 16 bytes) a page more, and its parent.
        await Assert.That(splits).IsLessThan(4000 / 100);
        await Assert.That(d.Verify()).IsNull();
    }

    [Test]
    public async Task The_invariant_check_catches_a_wrong_count()
    {
        var d = new TreeDriver(TreeMeta.Create(8, TreeMode.Position, 9), 8, 0);
        for (int i = 0; i < 3000; i++) d.InsertAt((ulong)(i / 2), E(i, 8));
        await Assert.That(d.Verify()).IsNull();
        var model = d.All();
        // One inner entry's count off by one: the check names it, and a read by rank past it lands on the wrong element.
        var root = CountedTree.PageOf(d.Meta, d.Meta.Root);
        var page = d.Store.Pages[root];
        ulong c = BinaryPrimitives.ReadUInt64LittleEndian(page.AsSpan(TreePage.HeaderSize + 8));
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(TreePage.HeaderSize + 8), c - 1);
        await Assert.That(d.Verify()).Contains("counts");
        await Assert.That(d.GetAt(c).AsSpan().SequenceEqual(model[(int)c])).IsFalse();
    }

    [Test]
    public async Task Removing_a_long_range_deletes_whole_leaves_unread()
    {
        var d = new TreeDriver(TreeMeta.Create(9, TreeMode.Position), 9, 0);
        var model = new List<byte[]>();
        for (int i = 0; i < 200_000; i++)
        {
            d.InsertAt(d.Meta.Count, E(i));
            model.Add(E(i));
        }
        int leaves = d.Store.Pages.Count;
        long reads = d.Store.Reads, deletes = d.Store.Deletes;
        int steps = d.RemoveRange(1234, 150_000);
        model.RemoveRange(1234, 150_000);
        long read = d.Store.Reads - reads, deleted = d.Store.Deletes - deletes;
        Console.WriteLine($"150k of 200k removed in {steps} steps: {read} page reads, {deleted} pages deleted, of {leaves}");
        // ~620 leaves go; the reads are the steps' paths (a few inner pages each) and the two boundary leaves.
        await Assert.That(deleted).IsGreaterThan(500);
        await Assert.That(read).IsLessThan(deleted / 4);
        await Assert.That(d.Verify()).IsNull();
        var all = d.All();
        await Assert.That(all.Count).IsEqualTo(model.Count);
        for (int i = 0; i < model.Count; i++)
            if (!all[i].AsSpan().SequenceEqual(model[i])) await Assert.That(i).IsNegative();
    }

    /// <summary>
    /// The numbers behind <see cref="CountedTree.DefaultPageShift"/>: 1M 16-byte elements pushed at the end
    /// (a list built by RPUSH) and inserted at random keys (a sorted set of random scores), at 2 KB and 4 KB.
    /// Page bytes as stored (exact records), plus FASTER's record header and key per page.
    /// </summary>
    [Test]
    public async Task Pages_and_bytes_per_element_at_one_million()
    {
        const int N = 1_000_000;
        const int RecordOverhead = 8 + 4 + 4 + PageKey.EncodedSize + 4;
        foreach (int shift in new[] { 11, 12 })
        {
            foreach (bool random in new[] { false, true })
            {
                var sw = Stopwatch.StartNew();
                var d = new TreeDriver(TreeMeta.Create(10, random ? TreeMode.Ordered : TreeMode.Position, shift), 10, 0) { Warm = true };
                var rng = new Random(10);
                var e = new byte[16];
                for (int i = 0; i < N; i++)
                {
                    if (random)
                    {
                        rng.NextBytes(e);
                        d.Insert(e);
                    }
                    else
                    {
                        BinaryPrimitives.WriteInt32BigEndian(e, i);
                        d.InsertAt(d.Meta.Count, e);
                    }
                }
                long bytes = d.Store.Pages.Values.Sum(p => (long)p.Length);
                int pages = d.Store.Pages.Count;
                double perElement = (bytes + (double)pages * RecordOverhead) / N;
                // As a store keeping room to a whole page would hold them (FASTER's in-place updates need it).
                double rounded = ((double)pages * ((1 << shift) + RecordOverhead)) / N;
                Console.WriteLine($"{1 << shift} B pages, {(random ? "random keys" : "pushed at the end")}: height {d.Meta.Height}, {pages} pages, " +
                    $"{bytes / (double)N:F1} B/element of page bytes, {perElement:F1} with record headers, {rounded:F1} at whole pages, {d.Store.BytesWritten / (double)N:F0} B written/element, {sw.ElapsedMilliseconds} ms");
                await Assert.That(d.Meta.Count).IsEqualTo((ulong)N);
                await Assert.That(d.Verify()).IsNull();
                await Assert.That(perElement).IsLessThan(random ? 30.0 : 20.0);
            }
        }
    }
}
