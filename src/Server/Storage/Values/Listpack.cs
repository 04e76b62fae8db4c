using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values;

/// <summary>
/// How an inline collection's payload is encoded: its first byte, and what OBJECT ENCODING answers.
/// A collection converts to a larger encoding once (Redis's thresholds) and never back.
/// </summary>
public enum CollectionEncoding : byte
{
    /// <summary>Entries in insertion order ("listpack"): small hashes (field, value pairs) and small sets.</summary>
    Listpack = 1,
    /// <summary>Sorted 64-bit integers ("intset"): small sets of integers.</summary>
    IntSet = 2,
    /// <summary>Past the listpack/intset thresholds ("hashtable"): inline, the encoding byte records the one-way conversion.</summary>
    Hashtable = 3,
    /// <summary>
    /// Past the thresholds, paged (OBJECT ENCODING "hashtable"): the payload is only
    /// [Paged][PagedMeta], the elements live in page records (<see cref="Paged.PagedRoot"/>).
    /// </summary>
    Paged = 4,
    /// <summary>A list past list-max-listpack-size ("quicklist"): inline, the byte records Redis 7.2's conversion (<see cref="List"/>).</summary>
    Quicklist = 5,
    /// <summary>A sorted set past zset-max-listpack-entries/-value ("skiplist"): inline, the byte records the one-way conversion (<see cref="SortedSet"/>).</summary>
    Skiplist = 6,
    /// <summary>A list on pages (OBJECT ENCODING "quicklist"): the payload is only a <see cref="Paged.ListRoot"/>.</summary>
    PagedList = 7,
    /// <summary>A sorted set on pages (OBJECT ENCODING "skiplist"): the payload is only a <see cref="Paged.ZSetRoot"/>.</summary>
    PagedZSet = 8,
}

/// <summary>
/// The inline form of a small hash or set, the role Redis's listpack plays: a run of byte strings.
/// Payload: [encoding: u8][count: u32 LE][entry]*, entry = [length: LEB128 varint][bytes].
/// A hash stores field, value, field, value...; count is the number of entries (twice the fields).
/// Pure span code: it reads and writes payloads, the store moves them.
/// </summary>
public static class Listpack
{
    public const int HeaderSize = 5;

    public static CollectionEncoding EncodingOf(ReadOnlySpan<byte> payload) => (CollectionEncoding)payload[0];

    public static int CountOf(ReadOnlySpan<byte> payload) => BinaryPrimitives.ReadInt32LittleEndian(payload[1..]);

    public static void WriteHeader(Span<byte> dest, CollectionEncoding encoding, int count)
    {
        dest[0] = (byte)encoding;
        BinaryPrimitives.WriteInt32LittleEndian(dest[1..], count);
    }

    /// <summary>Bytes one entry of <paramref name="length"/> bytes takes.</summary>
    public static int EntrySize(int length) => VarintSize(length) + length;

    /// <summary>Writes one entry at the start of <paramref name="dest"/>; returns the bytes written.</summary>
    public static int WriteEntry(Span<byte> dest, ReadOnlySpan<byte> entry)
    {
        int n = 0;
        uint v = (uint)entry.Length;
        while (v >= 0x80)
        {
            dest[n++] = (byte)(v | 0x80);
            v >>= 7;
        }
        dest[n++] = (byte)v;
        entry.CopyTo(dest[n..]);
        return n + entry.Length;
    }

    private static int VarintSize(int length)
    {
        int n = 1;
        for (uint v = (uint)length; v >= 0x80; v >>= 7) n++;
        return n;
    }

    /// <summary>Reads the entries of a payload in order.</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _payload;
        private int _offset;

        public Reader(ReadOnlySpan<byte> payload)
        {
            _payload = payload;
            _offset = HeaderSize;
        }

        /// <summary>Entries from <paramref name="offset"/> on (0: a run of entries with no header).</summary>
        public Reader(ReadOnlySpan<byte> entries, int offset)
        {
            _payload = entries;
            _offset = offset;
        }

        /// <summary>Offset of the next entry in the payload (where an edit would start).</summary>
        public readonly int Offset => _offset;

        public bool Next(out ReadOnlySpan<byte> entry)
        {
            if (_offset >= _payload.Length)
            {
                entry = default;
                return false;
            }
            int len = 0, shift = 0;
            byte b;
            do
            {
                b = _payload[_offset++];
                len |= (b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            entry = _payload.Slice(_offset, len);
            _offset += len;
            return true;
        }
    }
}
