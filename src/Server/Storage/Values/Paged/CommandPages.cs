using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The pages one command works on, over its reactor's <see cref="StoreSession"/>: reads are the
/// command's reads (a page on disk makes it wait and run again, the pages read so far answered from
/// their slots); writes are held back until the command has applied every change, then written blind
/// (<see cref="Commit"/>), with the meta last and the element records logged after. So an attempt
/// that stops for a disk read has written nothing, and a rerun computes the same pages again.
/// One per reactor thread (<see cref="For"/>), reused: warm, it allocates nothing.
/// </summary>
public sealed partial class CommandPages : IPageStore
{
    [ThreadStatic] private static CommandPages? t_pages;

    /// <summary>This thread's instance, emptied for a new command (or a new attempt of one).</summary>
    public static CommandPages For(StoreSession session)
    {
        var pages = t_pages ??= new CommandPages();
        pages.Begin(session);
        return pages;
    }

    private StoreSession _session = null!;
    public readonly PageSet Pages = new();
    /// <summary>Pages an operation still lacks (filled by a <c>PagedHash.Needs*</c> call, emptied by <see cref="Fetch"/>).</summary>
    public readonly List<PageKey> Needs = new();
    private ulong _freshCid;

    private struct Staged
    {
        public PageKey Key;
        public byte[]? Bytes; // null and not InPages: a delete
        public int Length;
        /// <summary>The page is the page set's (a bucket the operation edited there): written from it, not copied.</summary>
        public bool InPages;
    }

    private readonly List<Staged> _staged = new();
    private readonly Dictionary<PageKey, int> _stagedAt = new();
    private readonly ArrayBufferWriter<byte> _log = new(256);

    private int _createDb = -1;
    private byte[] _createKey = [];
    private int _createKeyLength;
    private KeyType _createType;
    private long _createExpiry;
    private readonly byte[] _createRoot = new byte[Math.Max(Math.Max(PagedRoot.Size, ListRoot.Size), ZSetRoot.Size)];
    private int _createRootLength;
    private Func<bool>? _fetch;

    /// <summary><see cref="Fetch"/> as a delegate (made once), for code that reads in rounds it does not own (a list record's replay).</summary>
    public Func<bool> FetchAction => _fetch ??= Fetch;

    private void Begin(StoreSession session)
    {
        _createDb = -1;
        _trusted = false;
        _writtenTree.Clear();
        _session = session;
        Pages.Clear();
        Needs.Clear();
        _freshCid = 0;
        DropStaged();
        _log.ResetWrittenCount();
    }

    /// <summary>The collection was made by this command: it has no pages yet, none is read.</summary>
    public void Fresh(ulong cid) => _freshCid = cid;

    /// <summary>Reads every page in <see cref="Needs"/>; false when one went to disk (the command stops and runs again).</summary>
    public bool Fetch()
    {
        bool inHand = true;
        foreach (var key in Needs)
            if (Read(key, Pages) == PageRead.Pending) inHand = false;
        Needs.Clear();
        Pages.ClearNeeded();
        return inHand;
    }

    public PageRead Read(in PageKey key, PageSet into)
    {
        if (into.State(key) != PageState.NotInHand) return into.State(key) == PageState.Present ? PageRead.Found : PageRead.Missing;
        if (key.Cid == _freshCid)
        {
            into.PutMissing(key);
            return PageRead.Missing;
        }
        if (TryKept(key, into)) return PageRead.Found;
        switch (_session.ReadPage(key, out var slot))
        {
            case OpStatus.Pending:
                return PageRead.Pending;
            case OpStatus.NotFound:
                into.PutMissing(key);
                return PageRead.Missing;
            default:
                var page = slot.Value;
                // A bucket's record keeps room past its used bytes (StoreSession.WritePage).
                if (key.Kind == PageKind.Bucket) page = page[..Math.Min(page.Length, BucketPage.UsedOf(page))];
                else if (key.Kind == PageKind.Tree && page.Length >= TreePage.HeaderSize) page = page[..Math.Min(page.Length, TreePage.UsedOf(page))];
                into.Put(key, page, cold: !_session.InMutableRegion(slot.Address), slot.Address);
                return PageRead.Found;
        }
    }

    public void Write(in PageKey key, ReadOnlySpan<byte> page)
    {
        ref var s = ref Stage(key);
        // A bucket is edited in the page set and written from there: staging it by key saves a copy of
        // the page per change (2 KB a field of a load larger than memory); a later edit of the same page
        // in this command is what gets written, as a later Write of it would be.
        if (IsPageSetsCopy(key, page))
        {
            Release(ref s);
            s.InPages = true;
            return;
        }
        s.InPages = false;
        if (s.Bytes is null || s.Bytes.Length < page.Length)
        {
            if (s.Bytes is not null) ArrayPool<byte>.Shared.Return(s.Bytes);
            s.Bytes = ArrayPool<byte>.Shared.Rent(Math.Max(page.Length, 256));
        }
        page.CopyTo(s.Bytes);
        s.Length = page.Length;
    }

    private bool IsPageSetsCopy(in PageKey key, ReadOnlySpan<byte> page)
    {
        if (Pages.State(key) != PageState.Present) return false;
        var held = Pages.Get(key);
        return held.Length == page.Length && Unsafe.AreSame(ref MemoryMarshal.GetReference(held), ref MemoryMarshal.GetReference(page));
    }

    public void Delete(in PageKey key)
    {
        ref var s = ref Stage(key);
        Release(ref s);
        s.InPages = false;
    }

    private void Release(ref Staged s)
    {
        if (s.Bytes is not null) ArrayPool<byte>.Shared.Return(s.Bytes);
        s.Bytes = null;
        s.Length = 0;
    }

    private ref Staged Stage(in PageKey key)
    {
        if (!_stagedAt.TryGetValue(key, out int i))
        {
            i = _staged.Count;
            _staged.Add(new Staged { Key = key });
            _stagedAt[key] = i;
        }
        return ref CollectionsMarshal.AsSpan(_staged)[i];
    }

    /// <summary>Queues an element record for the AOF (logged by <see cref="Commit"/>, once the meta is written).</summary>
    public void Log(in ElementRecord record)
    {
        var dest = _log.GetSpan(5 + record.EncodedSize);
        CommandFrame.WriteElement(dest, record);
        _log.Advance(5 + record.EncodedSize);
    }

    /// <summary>
    /// Writes the staged pages. A bucket read from the log's mutable region keeps a whole page of room
    /// (<paramref name="bucketRoom"/>), so the next insert updates it in place; one read from outside it
    /// (from disk, in a collection larger than memory) is written at its size: its new record's room would
    /// rarely be used before the region moves on (FlushBehind moves it to the tail), and written and
    /// compacted it cost 2 KB a field where a bucket holds about 1.5 KB (72% of its page at 85% load).
    /// A tree page (a paged list's leaf) gets <paramref name="treeRoom"/> the same way: the edge leaf that single
    /// pushes grow is then updated in place instead of copied to a new record a push.
    /// </summary>
    public void WritePages(int bucketRoom, int treeRoom = 0)
    {
        // No room at the log's tail: nothing is written, the command waits and runs again (it stages the same pages).
        if (!_session.RoomToWrite()) { DropStaged(); return; }
        foreach (var s in _staged)
        {
            int room = Pages.IsCold(s.Key) ? 0 : s.Key.Kind == PageKind.Bucket ? bucketRoom : s.Key.Kind == PageKind.Tree ? treeRoom : 0;
            long replaces = Pages.AddressOf(s.Key);
            if (s.InPages)
            {
                _session.WriteFramedPage(s.Key, Pages.Framed(s.Key), Pages.Get(s.Key).Length, room, replaces);
                if (_trusted && s.Key.Kind == PageKind.Tree && s.Key.Cid == _keptCid) _writtenTree.Add(s.Key.PageNo);
            }
            else if (s.Bytes is null) _session.DeletePage(s.Key);
            else _session.WritePage(s.Key, s.Bytes.AsSpan(0, s.Length), room, replaces);
        }
        DropStaged();
    }

    /// <summary>Queues the image of a collection this command creates (logged first by <see cref="LogRecords"/>).</summary>
    public void LogCreation(int db, ReadOnlySpan<byte> key, KeyType type, long expiry, ReadOnlySpan<byte> root)
    {
        _createDb = db;
        if (_createKey.Length < key.Length) _createKey = new byte[Math.Max(key.Length, 64)];
        key.CopyTo(_createKey);
        _createKeyLength = key.Length;
        _createType = type;
        _createExpiry = expiry;
        root.CopyTo(_createRoot);
        _createRootLength = root.Length;
    }

    /// <summary>Logs the queued creation and element records (after the meta's write went through).</summary>
    public void LogRecords()
    {
        if (_createDb >= 0)
        {
            _session.LogImage(_createDb, _createKey.AsSpan(0, _createKeyLength), _createType, _createExpiry, _createRoot.AsSpan(0, _createRootLength));
            _createDb = -1;
        }
        _session.LogElements(_log.WrittenSpan);
        _log.ResetWrittenCount();
    }

    public bool HasStaged => _staged.Count > 0;

    private void DropStaged()
    {
        foreach (var s in _staged)
            if (s.Bytes is not null) ArrayPool<byte>.Shared.Return(s.Bytes);
        _staged.Clear();
        _stagedAt.Clear();
    }
}
