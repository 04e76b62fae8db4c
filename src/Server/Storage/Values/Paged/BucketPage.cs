using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>One entry of a bucket page, as <see cref="BucketPage.Reader"/> found it.</summary>
public readonly ref struct BucketEntry
{
    /// <summary>Offset of the entry in the page, and its size there.</summary>
    public readonly int Start, Length;
    public readonly ReadOnlySpan<byte> Field;
    /// <summary>The value's length (0 in a set).</summary>
    public readonly int ValueLength;
    /// <summary>The value when it is inline; empty when out of line.</summary>
    public readonly ReadOnlySpan<byte> InlineValue;
    /// <summary>The value lives in <see cref="BucketPage.ChunksOf"/> value pages from this one.</summary>
    public readonly bool OutOfLine;
    public readonly ulong FirstValuePage;

    public BucketEntry(int start, int length, ReadOnlySpan<byte> field, int valueLength, ReadOnlySpan<byte> inlineValue, bool outOfLine, ulong firstValuePage)
    {
        Start = start;
        Length = length;
        Field = field;
        ValueLength = valueLength;
        InlineValue = inlineValue;
        OutOfLine = outOfLine;
        FirstValuePage = firstValuePage;
    }
}

/// <summary>
/// A bucket page: [used bytes: u32 LE][entries: u32 LE][entry]*, in no order.
/// Set entry:  [length: LEB128][member].
/// Hash entry: [length: LEB128][field][tag: LEB128][value], tag = value length * 2 + out-of-line bit;
///             value = the bytes (inline), or the first value page u64 LE (out of line: the value fills
///             ceil(length / ValueChunkSize) pages numbered from there, the last one short).
/// A bucket is one page record whatever its size: one read finds any of its fields. Its nominal size
/// is the meta's page size; one that outgrows it (an unsplit bucket near the end of a round, a long
/// field) is written larger rather than chained, since a chain costs a second dependent read.
/// </summary>
public static class BucketPage
{
    public const int HeaderSize = 8;

    public static int UsedOf(ReadOnlySpan<byte> page) => page.IsEmpty ? HeaderSize : (int)BinaryPrimitives.ReadUInt32LittleEndian(page);

    public static int CountOf(ReadOnlySpan<byte> page) => page.IsEmpty ? 0 : (int)BinaryPrimitives.ReadUInt32LittleEndian(page[4..]);

    public static void WriteHeader(Span<byte> page, int used, int count)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(page, (uint)used);
        BinaryPrimitives.WriteUInt32LittleEndian(page[4..], (uint)count);
    }

    public static int ChunksOf(int valueLength) => (valueLength + PagedHash.ValueChunkSize - 1) / PagedHash.ValueChunkSize;

    public static int VarintSize(uint v)
    {
        int n = 1;
        for (; v >= 0x80; v >>= 7) n++;
        return n;
    }

    public static int WriteVarint(Span<byte> dest, uint v)
    {
        int n = 0;
        for (; v >= 0x80; v >>= 7) dest[n++] = (byte)(v | 0x80);
        dest[n++] = (byte)v;
        return n;
    }

    internal static uint ReadVarint(ReadOnlySpan<byte> src, ref int offset)
    {
        uint v = 0;
        int shift = 0;
        byte b;
        do
        {
            b = src[offset++];
            v |= (uint)(b & 0x7F) << shift;
            shift += 7;
        } while ((b & 0x80) != 0);
        return v;
    }

    /// <summary>Bytes an entry takes in its page.</summary>
    public static int EntrySize(bool hasValues, int fieldLength, int valueLength, bool outOfLine)
    {
        int n = VarintSize((uint)fieldLength) + fieldLength;
        if (!hasValues) return n;
        n += VarintSize(((uint)valueLength << 1) | (outOfLine ? 1u : 0u));
        return n + (outOfLine ? 8 : valueLength);
    }

    /// <summary>Writes an entry at the start of <paramref name="dest"/>; returns its size.</summary>
    public static int WriteEntry(Span<byte> dest, bool hasValues, ReadOnlySpan<byte> field, ReadOnlySpan<byte> inlineValue,
        bool outOfLine, int valueLength, ulong firstValuePage)
    {
        int n = WriteVarint(dest, (uint)field.Length);
        field.CopyTo(dest[n..]);
        n += field.Length;
        if (!hasValues) return n;
        n += WriteVarint(dest[n..], ((uint)valueLength << 1) | (outOfLine ? 1u : 0u));
        if (outOfLine)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(dest[n..], firstValuePage);
            return n + 8;
        }
        inlineValue.CopyTo(dest[n..]);
        return n + inlineValue.Length;
    }

    /// <summary>Finds a field's entry in a page (an empty span is an empty bucket).</summary>
    public static bool Find(ReadOnlySpan<byte> page, bool hasValues, ReadOnlySpan<byte> field, out BucketEntry entry)
    {
        // Skips entries by their lengths alone and compares only fields of the same length: every write
        // into a big hash scans its bucket (about 30 entries at 2 KB), and decoding each entry whole was
        // 4.5% of a 2M-field load's CPU.
        // Fields of one length often differ only at their end (f:00000001234): their last 8 bytes are compared
        // first, as one word, and only a match is compared whole (SequenceEqual's call on every entry of a bucket
        // of 16-byte members was most of this scan).
        int end = UsedOf(page), offset = HeaderSize;
        bool tail = field.Length >= 8;
        ulong last = tail ? BinaryPrimitives.ReadUInt64LittleEndian(field[^8..]) : 0;
        while (offset < end)
        {
            int start = offset;
            int flen = page[offset] < 0x80 ? page[offset++] : (int)ReadVarint(page, ref offset);
            int fieldAt = offset;
            offset += flen;
            if (hasValues)
            {
                uint tag = page[offset] < 0x80 ? page[offset++] : ReadVarint(page, ref offset);
                offset += (tag & 1) != 0 ? 8 : (int)(tag >> 1);
            }
            if (flen == field.Length && (!tail || BinaryPrimitives.ReadUInt64LittleEndian(page[(fieldAt + flen - 8)..]) == last)
                && page.Slice(fieldAt, flen).SequenceEqual(field))
                return new Reader(page, hasValues, start).Next(out entry);
        }
        entry = default;
        return false;
    }

    /// <summary>Reads a page's entries in page order.</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _page;
        private readonly bool _hasValues;
        private readonly int _end;
        private int _offset;

        public Reader(ReadOnlySpan<byte> page, bool hasValues) : this(page, hasValues, HeaderSize) { }

        /// <summary>A reader from the entry at <paramref name="offset"/> (an entry's start).</summary>
        internal Reader(ReadOnlySpan<byte> page, bool hasValues, int offset)
        {
            _page = page;
            _hasValues = hasValues;
            _end = UsedOf(page);
            _offset = offset;
        }

        public bool Next(out BucketEntry entry)
        {
            if (_offset >= _end)
            {
                entry = default;
                return false;
            }
            int start = _offset;
            int flen = (int)ReadVarint(_page, ref _offset);
            var field = _page.Slice(_offset, flen);
            _offset += flen;
            if (!_hasValues)
            {
                entry = new BucketEntry(start, _offset - start, field, 0, default, false, 0);
                return true;
            }
            uint tag = ReadVarint(_page, ref _offset);
            int vlen = (int)(tag >> 1);
            if ((tag & 1) != 0)
            {
                ulong first = BinaryPrimitives.ReadUInt64LittleEndian(_page[_offset..]);
                _offset += 8;
                entry = new BucketEntry(start, _offset - start, field, vlen, default, true, first);
            }
            else
            {
                var value = _page.Slice(_offset, vlen);
                _offset += vlen;
                entry = new BucketEntry(start, _offset - start, field, vlen, value, false, 0);
            }
            return true;
        }
    }
}
