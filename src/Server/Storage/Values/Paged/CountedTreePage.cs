using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A counted tree page: <c>[type u8: 'l' leaf | 'I' inner][0 0 0][entries u32 LE][used bytes u32 LE]</c>,
/// then its entries in order.
/// Leaf entry:  <c>[tag: LEB128 = length x 2 + out-of-line bit][element][length: LEB128, bytes reversed]</c>
///              With the bit set the bytes are not the element but a reference to its chunks, which the tree
///              keeps and moves as it does any entry (a list's long elements: <see cref="ListChunks"/>). The
///              tree never looks inside; it tells its callers which entries are references. The trailing length lets a leaf be walked from its used end, so
///              an element near the end (RPOP's, RPUSH's place) is reached in O(1) where a walk from the
///              start read every tag before it (62% of RPOP's samples; 'L' pages had no trailer).
/// Inner entry: <c>[child page u64 LE][subtree elements u64 LE][separator length: LEB128][separator]</c>;
///              fixed-width child and count, so a push rewrites the counts on its path in place.
///              Separator (ordered mode): every key under this child is &gt;= it and every key under the
///              child before is &lt; it; entry 0's is never compared (a stale copy). Position mode: empty,
///              so every entry is <see cref="PositionInnerEntry"/> bytes and entry i is found by arithmetic.
/// The used bytes are in the header, so a store may keep room past them (as it does for buckets).
/// </summary>
public static class TreePage
{
    public const int HeaderSize = 12;
    public const byte LeafType = (byte)'l';
    public const byte InnerType = (byte)'I';
    /// <summary>Child page and subtree count of an inner entry.</summary>
    public const int InnerFixed = 16;
    /// <summary>An inner entry with an empty separator (every entry of a tree by position).</summary>
    public const int PositionInnerEntry = InnerFixed + 1;

    public static bool IsLeaf(ReadOnlySpan<byte> page) => page[0] == LeafType;

    public static int CountOf(ReadOnlySpan<byte> page) => (int)BinaryPrimitives.ReadUInt32LittleEndian(page[4..]);

    public static int UsedOf(ReadOnlySpan<byte> page) => (int)BinaryPrimitives.ReadUInt32LittleEndian(page[8..]);

    public static void WriteHeader(Span<byte> page, bool leaf, int count, int used)
    {
        page[0] = leaf ? LeafType : InnerType;
        page[1] = page[2] = page[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(page[4..], (uint)count);
        BinaryPrimitives.WriteUInt32LittleEndian(page[8..], (uint)used);
    }

    public static int LeafEntrySize(int length) => BucketPage.VarintSize((uint)length << 1) + length + BucketPage.VarintSize((uint)length);

    public static int InnerEntrySize(int sepLength) => InnerFixed + BucketPage.VarintSize((uint)sepLength) + sepLength;

    public static int WriteLeafEntry(Span<byte> dest, ReadOnlySpan<byte> element, bool outOfLine = false)
    {
        int n = BucketPage.WriteVarint(dest, (uint)element.Length << 1 | (outOfLine ? 1u : 0u));
        element.CopyTo(dest[n..]);
        n += element.Length;
        // The length again, its LEB128 bytes last to first: read from the entry's end backwards.
        int back = BucketPage.VarintSize((uint)element.Length);
        uint v = (uint)element.Length;
        for (int i = back - 1; i >= 0; i--, v >>= 7) dest[n + i] = (byte)(i > 0 ? (v & 0x7F) | 0x80 : v & 0x7F);
        return n + back;
    }

    public static int WriteInnerEntry(Span<byte> dest, ulong child, ulong count, ReadOnlySpan<byte> sep)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(dest, child);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[8..], count);
        int n = InnerFixed + BucketPage.WriteVarint(dest[InnerFixed..], (uint)sep.Length);
        sep.CopyTo(dest[n..]);
        return n + sep.Length;
    }

    /// <summary>Elements under a page: a leaf's entries, the sum of an inner page's counts.</summary>
    public static ulong Total(ReadOnlySpan<byte> page)
    {
        if (IsLeaf(page)) return (ulong)CountOf(page);
        ulong total = 0;
        var r = new InnerReader(page);
        while (r.Next(out var e)) total += e.Count;
        return total;
    }

    /// <summary>An entry of an inner page.</summary>
    public readonly ref struct InnerEntry
    {
        public readonly int Start, Length;
        public readonly ulong Child, Count;
        public readonly ReadOnlySpan<byte> Separator;

        public InnerEntry(int start, int length, ulong child, ulong count, ReadOnlySpan<byte> sep)
        {
            Start = start;
            Length = length;
            Child = child;
            Count = count;
            Separator = sep;
        }
    }

    public ref struct InnerReader
    {
        private readonly ReadOnlySpan<byte> _page;
        private readonly int _end;
        private int _offset;

        public InnerReader(ReadOnlySpan<byte> page)
        {
            _page = page;
            _end = UsedOf(page);
            _offset = HeaderSize;
        }

        public bool Next(out InnerEntry entry)
        {
            if (_offset >= _end)
            {
                entry = default;
                return false;
            }
            int start = _offset;
            ulong child = BinaryPrimitives.ReadUInt64LittleEndian(_page[_offset..]);
            ulong count = BinaryPrimitives.ReadUInt64LittleEndian(_page[(_offset + 8)..]);
            _offset += InnerFixed;
            int len = (int)BucketPage.ReadVarint(_page, ref _offset);
            var sep = _page.Slice(_offset, len);
            _offset += len;
            entry = new InnerEntry(start, _offset - start, child, count, sep);
            return true;
        }
    }

    /// <summary>
    /// Checks that an inner page of a tree by position has only empty separators, so its entries can be
    /// indexed (<see cref="PositionInnerEntry"/> bytes each): its used bytes say so, the byte is checked per entry read.
    /// </summary>
    public static void CheckPositionInner(ReadOnlySpan<byte> page, ulong pageNo)
    {
        if (UsedOf(page) != HeaderSize + CountOf(page) * PositionInnerEntry)
            throw new InvalidDataException($"tree page {pageNo} by position: {CountOf(page)} entries in {UsedOf(page)} bytes");
    }

    /// <summary>Offset of entry i of a position-mode inner page.</summary>
    public static int PositionInnerAt(int i) => HeaderSize + i * PositionInnerEntry;

    public static ulong ChildAt(ReadOnlySpan<byte> page, int at) => BinaryPrimitives.ReadUInt64LittleEndian(page[at..]);

    public static ulong CountAt(ReadOnlySpan<byte> page, int at) => BinaryPrimitives.ReadUInt64LittleEndian(page[(at + 8)..]);

    public ref struct LeafReader
    {
        private readonly ReadOnlySpan<byte> _page;
        private readonly int _end;
        private int _offset;

        public LeafReader(ReadOnlySpan<byte> page) : this(page, HeaderSize) { }

        /// <summary>A reader from the entry at <paramref name="offset"/> on.</summary>
        public LeafReader(ReadOnlySpan<byte> page, int offset)
        {
            _page = page;
            _end = UsedOf(page);
            _offset = offset;
        }

        /// <summary>Offset of the next entry.</summary>
        public readonly int Offset => _offset;

        public bool Next(out ReadOnlySpan<byte> element) => Next(out element, out _);

        /// <summary>The next entry's bytes, and whether they are a reference to an element kept out of line.</summary>
        public bool Next(out ReadOnlySpan<byte> element, out bool outOfLine)
        {
            if (_offset >= _end)
            {
                element = default;
                outOfLine = false;
                return false;
            }
            element = ElementAt(_page, ref _offset, out outOfLine);
            return true;
        }
    }

    /// <summary>The bytes of the entry at <paramref name="offset"/> (an element, or a reference); the offset moves past the entry.</summary>
    public static ReadOnlySpan<byte> ElementAt(ReadOnlySpan<byte> page, scoped ref int offset) => ElementAt(page, ref offset, out _);

    /// <summary><see cref="ElementAt(ReadOnlySpan{byte}, ref int)"/>, and whether the entry is a reference to an element kept out of line.</summary>
    public static ReadOnlySpan<byte> ElementAt(ReadOnlySpan<byte> page, scoped ref int offset, out bool outOfLine)
    {
        uint tag = page[offset] < 0x80 ? page[offset++] : BucketPage.ReadVarint(page, ref offset);
        outOfLine = (tag & 1) != 0;
        int len = (int)(tag >> 1);
        var element = page.Slice(offset, len);
        offset += len + (len < 0x80 ? 1 : BucketPage.VarintSize((uint)len));
        return element;
    }

    /// <summary>The bytes of the entry that ends at <paramref name="end"/>; <paramref name="end"/> moves to its start.</summary>
    public static ReadOnlySpan<byte> ElementBefore(ReadOnlySpan<byte> page, scoped ref int end) => ElementBefore(page, ref end, out _);

    /// <summary><see cref="ElementBefore(ReadOnlySpan{byte}, ref int)"/>, and whether the entry is a reference to an element kept out of line.</summary>
    public static ReadOnlySpan<byte> ElementBefore(ReadOnlySpan<byte> page, scoped ref int end, out bool outOfLine)
    {
        int at = end - 1;
        uint len = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (at < HeaderSize || shift > 28) throw new InvalidDataException("leaf entry's trailing length runs off the page");
            byte b = page[at];
            len |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
            at--;
        }
        int elementStart = at - (int)len;
        int start = elementStart - BucketPage.VarintSize(len << 1);
        if (start < HeaderSize) throw new InvalidDataException("leaf entry's trailing length runs off the page");
        outOfLine = (page[start] & 1) != 0; // the tag's first LEB128 byte holds its low bit
        end = start;
        return page.Slice(elementStart, (int)len);
    }

    /// <summary>The element at <paramref name="index"/> of a leaf, and where its entry starts and ends.</summary>
    public static ReadOnlySpan<byte> LeafAt(ReadOnlySpan<byte> page, int index, out int start, out int end)
    {
        if ((uint)index >= (uint)CountOf(page)) throw new InvalidDataException($"leaf has no element {index}");
        start = end = LeafOffset(page, index);
        return ElementAt(page, ref end);
    }

    /// <summary>
    /// Offset of the entry at <paramref name="index"/> (the used bytes when index = count), walked from
    /// whichever end of the leaf is nearer: the edges cost one entry.
    /// </summary>
    public static int LeafOffset(ReadOnlySpan<byte> page, int index)
    {
        int n = CountOf(page);
        if ((uint)index > (uint)n) throw new InvalidDataException($"leaf has no element {index}");
        if (index <= n / 2)
        {
            int at = HeaderSize;
            for (int i = 0; i < index; i++) ElementAt(page, ref at);
            return at;
        }
        int end = UsedOf(page);
        for (int i = n; i > index; i--) ElementBefore(page, ref end);
        return end;
    }

    /// <summary>
    /// Whether a leaf's entries agree both ways: its count of entries read forward to its used end, and the
    /// trailing lengths read backward land on every entry's start. Null when they do, else what is wrong.
    /// </summary>
    public static string? CheckLeaf(ReadOnlySpan<byte> page)
    {
        if (!IsLeaf(page)) return "not a leaf";
        int n = CountOf(page), used = UsedOf(page);
        var starts = new int[n + 1];
        int at = HeaderSize, k = 0;
        while (at < used)
        {
            if (k == n) return $"more than {n} entries";
            starts[k++] = at;
            ElementAt(page, ref at);
        }
        if (k != n || at != used) return $"{k} entries ending at {at}, header says {n} in {used}";
        int end = used;
        for (int i = n - 1; i >= 0; i--)
        {
            ElementBefore(page, ref end);
            if (end != starts[i]) return $"entry {i} starts at {starts[i]}, its trailing length says {end}";
        }
        return null;
    }
}

/// <summary>
/// A node's entries decoded into reusable arrays, for the changes that rebuild pages (a split, a merge,
/// a redistribution, an inner page gaining or losing entries): the bytes are copied out, so the pages
/// can be rewritten from it. One per thread (<see cref="CountedTree"/>'s work area), warm it allocates nothing.
/// </summary>
internal sealed class NodeImage
{
    public bool Leaf;
    public int N;
    public ulong[] Child = new ulong[256];
    public ulong[] Cnt = new ulong[256];
    private int[] _at = new int[256];
    private int[] _len = new int[256];
    private bool[] _outOfLine = new bool[256];
    private byte[] _keys = new byte[16 << 10];
    private int _keysUsed;

    public void Clear(bool leaf)
    {
        Leaf = leaf;
        N = 0;
        _keysUsed = 0;
    }

    public ReadOnlySpan<byte> Key(int i) => _keys.AsSpan(_at[i], _len[i]);

    /// <summary>Whether leaf entry i is a reference (its tag's out-of-line bit).</summary>
    public bool OutOfLine(int i) => _outOfLine[i];

    public int EntrySize(int i) => Leaf ? TreePage.LeafEntrySize(_len[i]) : TreePage.InnerEntrySize(_len[i]);

    /// <summary>Entry bytes of entries [from, to).</summary>
    public int Bytes(int from, int to)
    {
        int n = 0;
        for (int i = from; i < to; i++) n += EntrySize(i);
        return n;
    }

    public ulong Total(int from, int to)
    {
        if (Leaf) return (ulong)(to - from);
        ulong t = 0;
        for (int i = from; i < to; i++) t += Cnt[i];
        return t;
    }

    public void Add(ulong child, ulong cnt, ReadOnlySpan<byte> key, bool outOfLine = false)
    {
        if (N == Child.Length)
        {
            Array.Resize(ref Child, N * 2);
            Array.Resize(ref Cnt, N * 2);
            Array.Resize(ref _at, N * 2);
            Array.Resize(ref _len, N * 2);
            Array.Resize(ref _outOfLine, N * 2);
        }
        if (_keysUsed + key.Length > _keys.Length) Array.Resize(ref _keys, Math.Max(_keys.Length * 2, _keysUsed + key.Length));
        key.CopyTo(_keys.AsSpan(_keysUsed));
        Child[N] = child;
        Cnt[N] = cnt;
        _at[N] = _keysUsed;
        _len[N] = key.Length;
        _outOfLine[N] = outOfLine;
        _keysUsed += key.Length;
        N++;
    }

    /// <summary>Replaces entry i's key (the old bytes stay unused in the buffer until <see cref="Clear"/>).</summary>
    public void SetKey(int i, ReadOnlySpan<byte> key)
    {
        if (_keysUsed + key.Length > _keys.Length) Array.Resize(ref _keys, Math.Max(_keys.Length * 2, _keysUsed + key.Length));
        key.CopyTo(_keys.AsSpan(_keysUsed));
        _at[i] = _keysUsed;
        _len[i] = key.Length;
        _keysUsed += key.Length;
    }

    /// <summary>Appends every entry of a page (of this image's type).</summary>
    public void Append(ReadOnlySpan<byte> page)
    {
        if (TreePage.IsLeaf(page) != Leaf) throw new InvalidDataException("leaf and inner pages at one level");
        if (Leaf)
        {
            var r = new TreePage.LeafReader(page);
            while (r.Next(out var e, out bool outOfLine)) Add(0, 1, e, outOfLine);
        }
        else
        {
            var r = new TreePage.InnerReader(page);
            while (r.Next(out var e)) Add(e.Child, e.Count, e.Separator);
        }
    }

    /// <summary>Writes entries [from, to) as a page: returns its used bytes.</summary>
    public int Encode(Span<byte> dest, int from, int to)
    {
        int at = TreePage.HeaderSize;
        for (int i = from; i < to; i++)
            at += Leaf ? TreePage.WriteLeafEntry(dest[at..], Key(i), _outOfLine[i]) : TreePage.WriteInnerEntry(dest[at..], Child[i], Cnt[i], Key(i));
        TreePage.WriteHeader(dest, Leaf, to - from, at);
        return at;
    }

    /// <summary>
    /// Where to cut entries into two pages, by bytes as evenly as possible, each side keeping at least
    /// <paramref name="minEach"/> entries (an inner page keeps two, so every child has a sibling to rebalance with).
    /// </summary>
    public int BalancedCut(int minEach)
    {
        int total = Bytes(0, N), best = minEach, bestDiff = int.MaxValue, left = 0;
        for (int k = 1; k < N; k++)
        {
            left += EntrySize(k - 1);
            if (k < minEach || N - k < minEach) continue;
            int diff = Math.Abs(2 * left - total);
            if (diff < bestDiff)
            {
                bestDiff = diff;
                best = k;
            }
        }
        return best;
    }
}
