using System.Buffers;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>Whether a page set holds a page.</summary>
public enum PageState : byte
{
    /// <summary>Not read yet: the operation must name it in its needs.</summary>
    NotInHand,
    /// <summary>Read, and the store has no such page (an empty bucket).</summary>
    Missing,
    Present,
}

/// <summary>
/// The pages one command holds: filled by <see cref="IPageStore.Read"/> (now, or when a disk read
/// completes), kept across the command's replay rounds, and written through by the operations that
/// change them, so a second operation of the same command (HSET k f1 v1 f2 v2) sees the first's
/// result. Buffers come from the shared array pool and go back on <see cref="Clear"/>. (A pool of
/// the reactor's own, which kept its buffers for good, cut the allocations of a 100-field HSET but
/// left RSS after a 2M-field load at 181-210 MB against 164: the GC kept more heap committed.)
/// </summary>
public sealed class PageSet
{
    private struct Slot
    {
        public PageKey Key;
        public byte[]? Buffer;
        public int Length;
        public bool Present;
        public bool Cold;
        /// <summary>Edited since it came in (a read or a kept copy put it here as the store holds it).</summary>
        public bool Dirty;
        /// <summary>The log address of the record it was read from (0: not read from the store).</summary>
        public long Address;
    }

    /// <summary>
    /// Bytes kept free before each page: a store record's header (<see cref="ValueLayout.Header"/>), so a page edited here is
    /// written from its own buffer (<see cref="Framed"/>) instead of being copied whole into a staging record first (a ZADD
    /// into a 100k-member set writes ~5 pages of 4 KB; memmove was 18% of its CPU).
    /// </summary>
    public const int Prefix = ValueLayout.Header;

    private Slot[] _slots = new Slot[8];
    private int _count;
    /// <summary>Up to this many pages are found by a scan of the slots, the index built past it: a list push or pop
    /// holds 3-4 pages, and the dictionary's lookups were 10% of RPOP.</summary>
    private const int ScanMax = 16;
    private readonly Dictionary<PageKey, int> _index = new();
    private readonly HashSet<PageKey> _needed = new();

    public int Count => _count;

    private ArrayBufferWriter<byte>? _scratch;

    /// <summary>Where an out-of-line value is gathered for a sink; reused, so a warm set allocates nothing.</summary>
    internal ArrayBufferWriter<byte> Scratch
    {
        get
        {
            _scratch ??= new ArrayBufferWriter<byte>(256);
            _scratch.ResetWrittenCount();
            return _scratch;
        }
    }

    /// <summary>The slot the last look-up found: a descent asks State, Get, Edit and SetLength of one page in a row.</summary>
    private int _last;

    private bool TryFind(in PageKey key, out int i)
    {
        i = _last;
        if (i < _count)
        {
            ref var l = ref _slots[i].Key;
            if (l.PageNo == key.PageNo && l.Cid == key.Cid && l.Kind == key.Kind) return true;
        }
        if (_count > ScanMax)
        {
            if (!_index.TryGetValue(key, out i)) return false;
            _last = i;
            return true;
        }
        for (i = 0; i < _count; i++)
        {
            ref var k = ref _slots[i].Key;
            if (k.PageNo == key.PageNo && k.Cid == key.Cid && k.Kind == key.Kind)
            {
                _last = i;
                return true;
            }
        }
        return false;
    }

    /// <summary>The i-th page held (in the order they came): its key, whether present, whether edited here, and its bytes when present.</summary>
    internal bool TryAt(int i, out PageKey key, out bool present, out bool dirty, out ReadOnlySpan<byte> page)
    {
        key = default;
        present = dirty = false;
        page = default;
        if ((uint)i >= (uint)_count) return false;
        ref var s = ref _slots[i];
        key = s.Key;
        present = s.Present;
        dirty = s.Dirty;
        if (present) page = s.Buffer.AsSpan(Prefix, s.Length);
        return true;
    }

    public PageState State(in PageKey key)
    {
        if (!TryFind(key, out int i)) return PageState.NotInHand;
        return _slots[i].Present ? PageState.Present : PageState.Missing;
    }

    /// <summary>The page's bytes; empty when it is missing. The page must be in hand.</summary>
    public ReadOnlySpan<byte> Get(scoped in PageKey key)
    {
        ref var s = ref _slots[IndexOf(key)];
        return s.Present ? s.Buffer.AsSpan(Prefix, s.Length) : default;
    }

    /// <summary>
    /// The page's whole buffer, its bytes at <see cref="Prefix"/>: room for a record header before them and for the bytes past
    /// them a record keeps. The page must be present.
    /// </summary>
    internal Span<byte> Framed(scoped in PageKey key)
    {
        ref var s = ref _slots[IndexOf(key)];
        if (!s.Present) throw new InvalidOperationException($"page {key} is not present");
        return s.Buffer;
    }

    /// <summary>
    /// Puts a page in hand (a read's result), replacing what the set held for it. <paramref name="cold"/>:
    /// the read found it outside the log's mutable region (on disk, or read-only in memory).
    /// </summary>
    public void Put(in PageKey key, ReadOnlySpan<byte> page, bool cold = false, long address = 0)
    {
        var dest = Edit(key, page.Length);
        page.CopyTo(dest);
        SetLength(key, page.Length);
        ref var s = ref _slots[IndexOf(key)];
        s.Cold = cold;
        s.Dirty = false;
        s.Address = address;
    }

    /// <summary>Where the store held the page when it was read (0: not read from the store): its rewrite supersedes that record.</summary>
    public long AddressOf(in PageKey key) => TryFind(key, out int i) ? _slots[i].Address : 0;

    /// <summary>
    /// Whether the page was read from outside the log's mutable region. Its rewrite is a new record at the
    /// tail however much room the old one had, and the next change finds it in place only if it comes
    /// before the region moves on, which for a collection larger than memory is rare.
    /// </summary>
    public bool IsCold(in PageKey key) => TryFind(key, out int i) && _slots[i].Cold;

    /// <summary>Records that the store has no such page.</summary>
    public void PutMissing(in PageKey key)
    {
        ref var s = ref Reserve(key);
        s.Present = false;
        s.Length = 0;
        s.Address = 0;
    }

    /// <summary>
    /// A writable buffer of at least <paramref name="capacity"/> bytes for the page, its current bytes
    /// kept at the start; the page is present from now on, with the length <see cref="SetLength"/> gives.
    /// </summary>
    public Span<byte> Edit(in PageKey key, int capacity)
    {
        ref var s = ref Reserve(key);
        if (s.Buffer is null || s.Buffer.Length < Prefix + capacity)
        {
            var b = ArrayPool<byte>.Shared.Rent(Prefix + RoomFor(key, capacity));
            if (s.Buffer is not null)
            {
                if (s.Present) s.Buffer.AsSpan(Prefix, s.Length).CopyTo(b.AsSpan(Prefix));
                ArrayPool<byte>.Shared.Return(s.Buffer);
            }
            s.Buffer = b;
        }
        if (!s.Present) s.Length = 0;
        s.Present = true;
        s.Dirty = true;
        return s.Buffer.AsSpan(Prefix);
    }

    /// <summary>
    /// What a buffer holds past the prefix at least: the room the page's record is written with (a tree page's 4 KB; a
    /// bucket's page size, the power of two at or above its used bytes), so <see cref="Framed"/> can write it whole.
    /// </summary>
    private static int RoomFor(in PageKey key, int capacity) => key.Kind switch
    {
        PageKind.Tree => Math.Max(capacity, 1 << CountedTree.DefaultPageShift),
        PageKind.Bucket => (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 256)),
        _ => Math.Max(capacity, 256),
    };

    public void SetLength(in PageKey key, int length) => _slots[IndexOf(key)].Length = length;

    /// <summary>Notes that a page not in hand is listed to be read; false when it was already (until <see cref="ClearNeeded"/>).</summary>
    public bool MarkNeeded(in PageKey key) => _needed.Add(key);

    /// <summary>The listed pages were read (or went to disk): they may be listed again.</summary>
    public void ClearNeeded() => _needed.Clear();

    /// <summary>Hands every buffer back; the set is empty again.</summary>
    public void Clear()
    {
        _needed.Clear();
        for (int i = 0; i < _count; i++)
        {
            if (_slots[i].Buffer is { } b) ArrayPool<byte>.Shared.Return(b);
            _slots[i] = default;
        }
        if (_count > ScanMax) _index.Clear();
        _count = 0;
    }

    private int IndexOf(in PageKey key)
        => TryFind(key, out int i) ? i : throw new InvalidOperationException($"page {key} is not in hand");

    private ref Slot Reserve(in PageKey key)
    {
        if (TryFind(key, out int i)) return ref _slots[i];
        if (_count == _slots.Length) Array.Resize(ref _slots, _count * 2);
        if (_count == ScanMax)
            for (int j = 0; j < _count; j++) _index[_slots[j].Key] = j;
        if (_count >= ScanMax) _index[key] = _count;
        ref var s = ref _slots[_count++];
        s.Key = key;
        return ref s;
    }
}
