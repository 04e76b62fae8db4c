using System.Buffers;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The tree's page store in the tests: pages in a dictionary, and a read that goes "to disk" at random
/// (<see cref="PendingPercent"/>): it answers Pending, and the page lands afterwards, as FASTER's
/// completion would. Within one operation a page pends at most once (a replayed command finds it in its slot).
/// </summary>
internal sealed class FlakyPageStore(int seed, int pendingPercent) : IPageStore
{
    public readonly Dictionary<PageKey, byte[]> Pages = new();
    private readonly Random _rng = new(seed);
    private readonly HashSet<PageKey> _landed = new();
    private readonly List<PageKey> _landing = new();
    public int PendingPercent = pendingPercent;
    public long Reads, Pendings, Writes, Deletes, BytesWritten;

    public void BeginOperation()
    {
        _landed.Clear();
        _landing.Clear();
    }

    public PageRead Read(in PageKey key, PageSet into)
    {
        Reads++;
        if (PendingPercent > 0 && !_landed.Contains(key) && _rng.Next(100) < PendingPercent)
        {
            Pendings++;
            _landed.Add(key);
            _landing.Add(key);
            return PageRead.Pending;
        }
        return Answer(key, into);
    }

    private PageRead Answer(in PageKey key, PageSet into)
    {
        if (Pages.TryGetValue(key, out var page))
        {
            into.Put(key, page);
            return PageRead.Found;
        }
        into.PutMissing(key);
        return PageRead.Missing;
    }

    /// <summary>
    /// The attempt starts again: reads that went to disk are done (answered at once when asked again) and land nowhere,
    /// so a later <see cref="Land"/> does not put a stale copy over a page the new attempt has edited.
    /// </summary>
    public void Restart() => _landing.Clear();

    /// <summary>The reads that went to disk complete into the page set.</summary>
    public void Land(PageSet into)
    {
        foreach (var key in _landing) Answer(key, into);
        _landing.Clear();
    }

    public void Write(in PageKey key, ReadOnlySpan<byte> page)
    {
        Writes++;
        BytesWritten += page.Length;
        // An inner page's count update keeps its length: rewritten in place (a fresh 4 KB array per level made a 1M load the GC's).
        if (Pages.TryGetValue(key, out var old) && old.Length == page.Length) page.CopyTo(old);
        else Pages[key] = page.ToArray();
    }

    public void Delete(in PageKey key)
    {
        Deletes++;
        Pages.Remove(key);
    }
}

/// <summary>Holds an operation's writes until it is over, as CommandPages does: an attempt that stopped writes nothing.</summary>
internal sealed class StagingStore(FlakyPageStore target) : IPageStore
{
    private readonly Dictionary<PageKey, byte[]?> _staged = new();

    public PageRead Read(in PageKey key, PageSet into) => throw new InvalidOperationException("an apply never reads");

    public void Write(in PageKey key, ReadOnlySpan<byte> page) => _staged[key] = page.ToArray();

    public void Delete(in PageKey key) => _staged[key] = null;

    public void Commit()
    {
        foreach (var (key, bytes) in _staged)
        {
            if (bytes is null) target.Delete(key);
            else target.Write(key, bytes);
        }
        _staged.Clear();
    }
}

internal sealed class ListSink : ITreeSink
{
    public readonly List<byte[]> Items = new();

    public void Element(ReadOnlySpan<byte> element) => Items.Add(element.ToArray());
}

/// <summary>
/// Drives a counted tree as a command would across its replay rounds: needs -> fetch -> needs until
/// nothing is missing, a pending read either landing in the page set or starting the attempt again with
/// an empty one (half each), then the apply, whose writes are staged and committed after it.
/// </summary>
internal sealed class TreeDriver
{
    public TreeMeta Meta;
    public readonly FlakyPageStore Store;
    private readonly PageSet _pages = new();
    private readonly List<PageKey> _needs = new();
    private readonly Random _rng;
    /// <summary>Most fetch rounds one operation took (a restart counts its rounds again).</summary>
    public int MaxRounds, LastRounds;
    /// <summary>Rounds of the last operation that found nothing pending (the cold path's rounds).</summary>
    public int LastCleanRounds;

    public TreeDriver(TreeMeta meta, int seed, int pendingPercent)
    {
        Meta = meta;
        Store = new FlakyPageStore(seed, pendingPercent);
        _rng = new Random(seed + 1);
    }

    public delegate void NeedsFn(in TreeMeta meta, PageSet pages, List<PageKey> needs);

    /// <summary>Keep the page set across operations and write straight to the store (a bulk load's speed, for the size measurements).</summary>
    public bool Warm;

    public T Run<T>(NeedsFn needs, Func<PageSet, IPageStore, T> apply)
    {
        if (!Warm) _pages.Clear();
        Store.BeginOperation();
        int rounds = 0, clean = 0;
        while (true)
        {
            needs(Meta, _pages, _needs);
            if (_needs.Count == 0) break;
            if (++rounds > 200) throw new InvalidOperationException("needs never settle");
            clean++;
            bool pending = false;
            foreach (var key in _needs)
                if (Store.Read(key, _pages) == PageRead.Pending) pending = true;
            _needs.Clear();
            _pages.ClearNeeded();
            if (!pending) continue;
            if (_rng.Next(2) == 0)
            {
                // The command runs again from the start: a fresh page set, the landed pages answer at once.
                _pages.Clear();
                clean = 0;
            }
            else Store.Land(_pages);
        }
        LastRounds = rounds;
        LastCleanRounds = clean;
        MaxRounds = Math.Max(MaxRounds, rounds);
        if (Warm) return apply(_pages, Store);
        var staging = new StagingStore(Store);
        var result = apply(_pages, staging);
        staging.Commit();
        return result;
    }

    // ---- position mode ----

    public void InsertAt(ulong index, byte[] e)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsInsertAt(m, index, p, n),
            (p, s) => { CountedTree.InsertAt(ref Meta, index, e, p, s); return 0; });

    public byte[] RemoveAt(ulong index)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsRemoveAt(m, index, p, n),
            (p, s) =>
            {
                var w = new ArrayBufferWriter<byte>();
                CountedTree.RemoveAt(ref Meta, index, p, s, w);
                return w.WrittenSpan.ToArray();
            });

    public void SetAt(ulong index, byte[] e)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsSetAt(m, index, e.Length, p, n),
            (p, s) => { CountedTree.SetAt(ref Meta, index, e, p, s); return 0; });

    public byte[] GetAt(ulong rank)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsAt(m, rank, p, n),
            (p, s) =>
            {
                var w = new ArrayBufferWriter<byte>();
                CountedTree.GetAt(Meta, rank, p, w);
                return w.WrittenSpan.ToArray();
            });

    /// <summary>Removes ranks [rank, rank + count) step by step; returns the steps taken.</summary>
    public int RemoveRange(ulong rank, ulong count)
    {
        int steps = 0;
        while (count > 0 && rank < Meta.Count)
        {
            ulong c = count;
            ulong removed = Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsRemoveRange(m, rank, c, p, n),
                (p, s) => CountedTree.RemoveRange(ref Meta, rank, c, p, s));
            if (removed == 0 || removed > count) throw new InvalidOperationException($"a step removed {removed} of {count}");
            count -= removed;
            steps++;
        }
        return steps;
    }

    /// <summary>Up to <paramref name="max"/> elements from rank on (backward when reverse), leaf by leaf.</summary>
    public List<byte[]> Range(ulong rank, int max, bool reverse)
    {
        var sink = new ListSink();
        while (max > 0 && rank < Meta.Count)
        {
            ulong r = rank;
            int m = max;
            int got = Run((in TreeMeta meta, PageSet p, List<PageKey> n) => CountedTree.NeedsAt(meta, r, p, n),
                (p, s) => CountedTree.Visit(Meta, r, m, reverse, p, sink));
            if (got <= 0) throw new InvalidOperationException("a visit yielded nothing");
            max -= got;
            if (reverse)
            {
                if ((ulong)got > rank) break;
                rank -= (ulong)got;
            }
            else rank += (ulong)got;
        }
        return sink.Items;
    }

    // ---- ordered mode ----

    public bool Insert(byte[] key)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsInsert(m, key, p, n),
            (p, s) => CountedTree.Insert(ref Meta, key, p, s));

    public bool Delete(byte[] key)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsDelete(m, key, p, n),
            (p, s) => CountedTree.Delete(ref Meta, key, p, s));

    public (ulong Rank, bool Found) Rank(byte[] key)
        => Run((in TreeMeta m, PageSet p, List<PageKey> n) => CountedTree.NeedsSeek(m, key, p, n),
            (p, s) => (CountedTree.Rank(Meta, key, p, out bool found), found));

    /// <summary>Every element, in order, through the range reader.</summary>
    public List<byte[]> All() => Range(0, int.MaxValue, false);

    /// <summary>
    /// The structure's invariants, read from the store: every page reached once from the root and none
    /// other of the tree left; leaves all at the tree's height; every inner count equal to its subtree's
    /// elements; keys in order across leaves and within each separator's bounds (ordered mode); no page past
    /// its capacity; every non-root page at its fill except the first and last of its level; inner pages of
    /// two entries or more; the meta's count and allocator. Null when they hold.
    /// </summary>
    public string? Verify()
    {
        var m = Meta;
        var treePages = Store.Pages.Keys.Where(k => k.Cid == m.Cid && k.Kind == PageKind.Tree).ToHashSet();
        if (m.Height == 0) return m.Count != 0 ? $"empty tree counts {m.Count}" : treePages.Count != 0 ? $"empty tree leaves {treePages.Count} pages" : null;
        var seen = new HashSet<ulong>();
        var levels = new List<List<(ulong Page, int Used, int Entries)>>();
        for (int i = 0; i < m.Height; i++) levels.Add(new());
        byte[]? last = null;
        string? error = null;
        ulong Walk(ulong pageNo, int depth, byte[]? low, byte[]? high)
        {
            if (error is not null) return 0;
            if (!seen.Add(pageNo)) { error = $"page {pageNo} reached twice"; return 0; }
            if (pageNo >= m.NextPage) { error = $"page {pageNo} past the allocator {m.NextPage}"; return 0; }
            if (!Store.Pages.TryGetValue(CountedTree.PageOf(m, pageNo), out var page)) { error = $"page {pageNo} missing"; return 0; }
            int used = TreePage.UsedOf(page), n = TreePage.CountOf(page);
            if (used != page.Length) { error = $"page {pageNo}: used {used} of {page.Length}"; return 0; }
            if (used - TreePage.HeaderSize > CountedTree.Capacity(m)) { error = $"page {pageNo} over capacity: {used}"; return 0; }
            levels[depth].Add((pageNo, used - TreePage.HeaderSize, n));
            bool leaf = depth == m.Height - 1;
            if (TreePage.IsLeaf(page) != leaf) { error = $"page {pageNo} at depth {depth} of {m.Height}: leaf {TreePage.IsLeaf(page)}"; return 0; }
            if (leaf)
            {
                if (TreePage.CheckLeaf(page) is { } bad) { error = $"leaf {pageNo}: {bad}"; return 0; }
                var r = new TreePage.LeafReader(page);
                int k = 0;
                while (r.Next(out var e))
                {
                    k++;
                    if (m.Mode != TreeMode.Ordered) continue;
                    if (last is not null && e.SequenceCompareTo(last) <= 0) { error = $"leaf {pageNo}: keys out of order"; return 0; }
                    if (low is not null && e.SequenceCompareTo(low) < 0) { error = $"leaf {pageNo}: key under its separator"; return 0; }
                    if (high is not null && e.SequenceCompareTo(high) >= 0) { error = $"leaf {pageNo}: key at or past the next separator"; return 0; }
                    last = e.ToArray();
                }
                if (k != n) { error = $"leaf {pageNo} counts {n}, holds {k}"; return 0; }
                if (n == 0) { error = $"leaf {pageNo} empty"; return 0; }
                return (ulong)n;
            }
            var entries = new List<(ulong Child, ulong Count, byte[] Sep)>();
            var ir = new TreePage.InnerReader(page);
            while (ir.Next(out var e)) entries.Add((e.Child, e.Count, e.Separator.ToArray()));
            if (entries.Count != n) { error = $"inner {pageNo} counts {n} entries, holds {entries.Count}"; return 0; }
            if (n < 2) { error = $"inner {pageNo} (depth {depth}) has {n} entries"; return 0; }
            ulong total = 0;
            for (int i = 0; i < n; i++)
            {
                var lo = i == 0 ? low : entries[i].Sep;
                var hi = i + 1 < n ? entries[i + 1].Sep : high;
                if (m.Mode == TreeMode.Position && entries[i].Sep.Length != 0) { error = $"inner {pageNo}: a separator by position"; return 0; }
                ulong sub = Walk(entries[i].Child, depth + 1, m.Mode == TreeMode.Ordered ? lo : null, m.Mode == TreeMode.Ordered ? hi : null);
                if (error is not null) return 0;
                if (sub != entries[i].Count) { error = $"inner {pageNo} entry {i} counts {entries[i].Count}, its subtree holds {sub}"; return 0; }
                total += sub;
            }
            return total;
        }
        ulong count = Walk(m.Root, 0, null, null);
        if (error is not null) return error;
        if (count != m.Count) return $"meta counts {m.Count}, the tree holds {count}";
        if (seen.Count != treePages.Count) return $"{treePages.Count - seen.Count} tree pages not reachable from the root";
        int min = CountedTree.MinFill(m);
        for (int d = 1; d < m.Height; d++)
        {
            var level = levels[d];
            for (int i = 1; i < level.Count - 1; i++)
                if (level[i].Used < min) return $"page {level[i].Page} at depth {d} ({i} of {level.Count}) holds {level[i].Used} bytes, under {min}";
        }
        return null;
    }
}
