using System.Buffers;
using System.Text;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// The page store of the model tests. A page keeps room to a whole number of nominal pages and is
/// overwritten in place while it fits, as a FASTER record would be (and a fresh 4 KB array per write
/// made the GC the cost of a 1M-field load).
/// </summary>
internal sealed class InMemoryPageStore : IPageStore
{
    public sealed class Page
    {
        public byte[] Buffer = [];
        public int Length;
        public ReadOnlySpan<byte> Bytes => Buffer.AsSpan(0, Length);
    }

    private readonly int _room;
    public Dictionary<PageKey, Page> Pages { get; } = new();
    public long Reads, Writes, Deletes, BytesRead, BytesWritten;

    /// <param name="room">The unit a page's room grows in (the collection's page size).</param>
    public InMemoryPageStore(int room = 4096) => _room = room;

    public PageRead Read(in PageKey key, PageSet into)
    {
        Reads++;
        if (Pages.TryGetValue(key, out var page))
        {
            into.Put(key, page.Bytes);
            BytesRead += page.Length;
            return PageRead.Found;
        }
        into.PutMissing(key);
        return PageRead.Missing;
    }

    public void Write(in PageKey key, ReadOnlySpan<byte> bytes)
    {
        Writes++;
        BytesWritten += bytes.Length;
        if (!Pages.TryGetValue(key, out var page)) Pages[key] = page = new Page();
        // A bucket's room = its bytes rounded up to whole pages; one that needs fewer pages than it has (the halves
        // of a split) is rewritten smaller. A value chunk is written once (an overwrite takes new ones): no room.
        int room = key.Kind != PageKind.Bucket ? bytes.Length : Math.Max(_room, (bytes.Length + _room - 1) / _room * _room);
        if (page.Buffer.Length != room) page.Buffer = new byte[room];
        bytes.CopyTo(page.Buffer);
        page.Length = bytes.Length;
    }

    public void Delete(in PageKey key)
    {
        Deletes++;
        Pages.Remove(key);
    }

    /// <summary>A copy of every page, as a checkpoint would hold them.</summary>
    public InMemoryPageStore Checkpoint()
    {
        var copy = new InMemoryPageStore(_room);
        foreach (var (key, page) in Pages) copy.Pages[key] = new Page { Buffer = page.Bytes.ToArray(), Length = page.Length };
        return copy;
    }
}

/// <summary>Collects what a scan or a random pick yields.</summary>
internal sealed class CollectingSink : IEntrySink
{
    public readonly List<(string Field, byte[] Value)> Items = new();

    public void Entry(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) => Items.Add((Encoding.Latin1.GetString(field), value.ToArray()));
}

/// <summary>
/// Drives a paged collection synchronously, as a command would across its replay rounds: each
/// operation starts with an empty page set, asks for the pages it needs, reads them, and asks again
/// until nothing is missing, then applies. An operation that touched a page it had not named would
/// throw from <see cref="PageSet.Get"/>, so the needs are checked on every call.
/// </summary>
internal sealed class PagedDriver
{
    public PagedMeta Meta;
    public InMemoryPageStore Store;
    private readonly PageSet _pages = new();
    private readonly List<PageKey> _needs = new();
    /// <summary>Most read rounds one operation took, by operation.</summary>
    public int MaxWriteRounds, MaxReadRounds;

    public PagedDriver(PagedMeta meta, InMemoryPageStore store)
    {
        Meta = meta;
        Store = store;
    }

    private int Fetch()
    {
        foreach (var key in _needs)
            if (Store.Read(key, _pages) == PageRead.Pending) throw new InvalidOperationException("in-memory reads never pend");
        _needs.Clear();
        _pages.ClearNeeded();
        return 1;
    }

    public SetResult Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        _pages.Clear();
        int rounds = 0;
        for (; ; rounds += Fetch())
        {
            PagedHash.NeedsSet(Meta, field, value.Length, _pages, _needs);
            if (_needs.Count == 0) break;
        }
        MaxWriteRounds = Math.Max(MaxWriteRounds, rounds);
        return PagedHash.Set(ref Meta, field, value, _pages, Store);
    }

    public bool Delete(ReadOnlySpan<byte> field)
    {
        _pages.Clear();
        int rounds = 0;
        for (; ; rounds += Fetch())
        {
            PagedHash.NeedsDelete(Meta, field, _pages, _needs);
            if (_needs.Count == 0) break;
        }
        MaxWriteRounds = Math.Max(MaxWriteRounds, rounds);
        return PagedHash.Delete(ref Meta, field, _pages, Store);
    }

    public byte[]? Lookup(ReadOnlySpan<byte> field)
    {
        _pages.Clear();
        int rounds = 0;
        for (; ; rounds += Fetch())
        {
            PagedHash.NeedsLookup(Meta, field, _pages, _needs);
            if (_needs.Count == 0) break;
        }
        MaxReadRounds = Math.Max(MaxReadRounds, rounds);
        var w = new ArrayBufferWriter<byte>();
        return PagedHash.Lookup(Meta, field, _pages, w) ? w.WrittenSpan.ToArray() : null;
    }

    public ulong ScanStep(ulong cursor, int count, IEntrySink sink)
    {
        _pages.Clear();
        int rounds = 0;
        for (; ; rounds += Fetch())
        {
            PagedHash.NeedsScan(Meta, cursor, count, _pages, _needs);
            if (_needs.Count == 0) break;
        }
        MaxReadRounds = Math.Max(MaxReadRounds, rounds);
        return PagedHash.Scan(Meta, cursor, count, _pages, sink);
    }

    public List<(string Field, byte[] Value)> FullScan(int count = 50)
    {
        var sink = new CollectingSink();
        ulong cursor = 0;
        do cursor = ScanStep(cursor, count, sink);
        while (cursor != 0);
        return sink.Items;
    }

    /// <summary>Read rounds the last random pick took.</summary>
    public int RandomRounds;

    public bool Random(ulong seed, IEntrySink sink, int tries = PagedHash.RandomTries)
    {
        _pages.Clear();
        for (RandomRounds = 0; ; RandomRounds += Fetch())
        {
            PagedHash.NeedsRandom(Meta, seed, _pages, _needs, tries);
            if (_needs.Count == 0) break;
        }
        return PagedHash.Random(Meta, seed, _pages, sink, tries);
    }

    public bool Apply(ReadOnlySpan<byte> encodedRecord)
    {
        if (!ElementRecord.TryDecode(encodedRecord, out var record, out _)) throw new InvalidDataException("bad record");
        _pages.Clear();
        for (; ; Fetch())
        {
            PagedHash.NeedsRecord(Meta, record, _pages, _needs);
            if (_needs.Count == 0) break;
        }
        return PagedHash.ApplyRecord(ref Meta, record, _pages, Store);
    }

    /// <summary>
    /// The structure's invariants, read straight from the store: every entry sits in the bucket its
    /// hash addresses, no bucket page at or past the bucket count, count and entry bytes agree with the
    /// pages, every out-of-line value's chunks exist and no value page is orphaned. Null when they hold.
    /// </summary>
    public string? Verify()
    {
        bool hasValues = Meta.Kind == PagedKind.Hash;
        ulong count = 0, bytes = 0;
        var referenced = new HashSet<ulong>();
        foreach (var (key, stored) in Store.Pages)
        {
            var page = stored.Bytes;
            if (key.Cid != Meta.Cid) return $"page {key} of another collection";
            if (key.Kind != PageKind.Bucket) continue;
            if (key.PageNo >= Meta.Buckets) return $"bucket page {key.PageNo} past the {Meta.Buckets} buckets";
            if (BucketPage.UsedOf(page) != page.Length) return $"bucket {key.PageNo}: used {BucketPage.UsedOf(page)} of {page.Length}";
            int n = 0;
            var r = new BucketPage.Reader(page, hasValues);
            while (r.Next(out var e))
            {
                n++;
                bytes += (ulong)e.Length;
                if (PagedHash.BucketOf(Meta, e.Field) != key.PageNo) return $"field in bucket {key.PageNo} addresses {PagedHash.BucketOf(Meta, e.Field)}";
                if (!e.OutOfLine) continue;
                for (int i = 0; i < BucketPage.ChunksOf(e.ValueLength); i++)
                {
                    ulong no = e.FirstValuePage + (ulong)i;
                    if (no >= Meta.NextValuePage) return $"value page {no} past the allocator ({Meta.NextValuePage})";
                    if (!Store.Pages.ContainsKey(PagedHash.ValueKey(Meta, no))) return $"value page {no} missing";
                    referenced.Add(no);
                }
            }
            if (n == 0) return $"bucket {key.PageNo} written empty";
            if (n != BucketPage.CountOf(page)) return $"bucket {key.PageNo} counts {BucketPage.CountOf(page)}, holds {n}";
            count += (ulong)n;
        }
        foreach (var key in Store.Pages.Keys)
            if (key.Kind == PageKind.Value && !referenced.Contains(key.PageNo)) return $"orphan value page {key.PageNo}";
        if (count != Meta.Count) return $"meta counts {Meta.Count}, pages hold {count}";
        if (bytes != Meta.EntryBytes) return $"meta entry bytes {Meta.EntryBytes}, pages hold {bytes}";
        return null;
    }
}
