using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values;

/// <summary>The encoding thresholds of sorted sets (zset-max-listpack-entries / -value).</summary>
public readonly struct SortedSetLimits(long listpackEntries, long listpackValue)
{
    public long ListpackEntries { get; } = listpackEntries;
    public long ListpackValue { get; } = listpackValue;

    /// <summary>zsetTypeCreate: the encoding a new set starts in, from a size and a member length hint.</summary>
    public CollectionEncoding Create(long sizeHint, long valueLengthHint) =>
        sizeHint <= ListpackEntries && valueLengthHint <= ListpackValue ? CollectionEncoding.Listpack : CollectionEncoding.Skiplist;
}

/// <summary>
/// A sorted set's inline payload, the role Redis's zset listpack plays (member, score pairs ordered by
/// score, then member bytes):
/// [encoding: u8][count: u32 LE][entry]*, entry = [member length: LEB128 varint][member][score: f64 LE].
/// The encoding byte is <see cref="CollectionEncoding.Listpack"/> or, past the thresholds,
/// <see cref="CollectionEncoding.Skiplist"/> (the one-way conversion Redis makes; the entries stay the
/// same, only OBJECT ENCODING and the conversion rules see it). Scores are never NaN.
/// Pure span code: reads here, edits in <see cref="SortedSetBuilder"/>.
/// </summary>
public static class SortedSet
{
    public const int HeaderSize = Listpack.HeaderSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CollectionEncoding EncodingOf(ReadOnlySpan<byte> payload) => (CollectionEncoding)payload[0];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count(ReadOnlySpan<byte> payload) => Listpack.CountOf(payload);

    /// <summary>Bytes one entry takes.</summary>
    public static int EntrySize(int memberLength) => Listpack.EntrySize(memberLength) + 8;

    /// <summary>Writes one entry at the start of <paramref name="dest"/>; returns its size.</summary>
    public static int WriteEntry(Span<byte> dest, ReadOnlySpan<byte> member, double score)
    {
        int n = Listpack.WriteEntry(dest, member);
        BinaryPrimitives.WriteDoubleLittleEndian(dest[n..], score);
        return n + 8;
    }

    /// <summary>
    /// zslValueGteMin-style order of two entries: by score (with ==, so -0 and 0 tie), then by member
    /// bytes (sdscmp: memcmp, then length).
    /// </summary>
    public static int Compare(double scoreA, ReadOnlySpan<byte> memberA, double scoreB, ReadOnlySpan<byte> memberB)
    {
        if (scoreA < scoreB) return -1;
        if (scoreA > scoreB) return 1;
        return memberA.SequenceCompareTo(memberB);
    }

    /// <summary>The score of <paramref name="member"/>; false when absent.</summary>
    public static bool TryGetScore(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> member, out double score) =>
        Find(payload, member, out score) >= 0;

    /// <summary>The rank (0-based, ascending) of <paramref name="member"/> and its score, or -1.</summary>
    public static int Find(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> member, out double score)
    {
        var r = new Reader(payload);
        int rank = 0;
        while (r.Next(out var m, out score))
        {
            if (m.SequenceEqual(member)) return rank;
            rank++;
        }
        score = 0;
        return -1;
    }

    /// <summary>Reads the entries of a payload in order (ascending).</summary>
    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _payload;
        private int _offset;

        public Reader(ReadOnlySpan<byte> payload)
        {
            _payload = payload;
            _offset = HeaderSize;
        }

        /// <summary>Entries from <paramref name="offset"/> of <paramref name="payload"/> on.</summary>
        public Reader(ReadOnlySpan<byte> payload, int offset)
        {
            _payload = payload;
            _offset = offset;
        }

        /// <summary>Offset of the next entry.</summary>
        public readonly int Offset => _offset;

        public bool Next(out ReadOnlySpan<byte> member, out double score)
        {
            if (_offset >= _payload.Length)
            {
                member = default;
                score = 0;
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
            member = _payload.Slice(_offset, len);
            _offset += len;
            score = BinaryPrimitives.ReadDoubleLittleEndian(_payload[_offset..]);
            _offset += 8;
            return true;
        }
    }

    /// <summary>
    /// Random access by rank over a read-only payload: the offset of every entry, built in one pass.
    /// One per thread in the commands; valid for the payload it was built from.
    /// </summary>
    public sealed class Index
    {
        private int[] _offsets = new int[64];
        private int _count;

        public int Count => _count;

        public void Build(ReadOnlySpan<byte> payload)
        {
            _count = SortedSet.Count(payload);
            if (_offsets.Length < _count + 1) _offsets = new int[Math.Max(_count + 1, _offsets.Length * 2)];
            var r = new Reader(payload);
            int i = 0;
            _offsets[0] = r.Offset;
            while (r.Next(out _, out _)) _offsets[++i] = r.Offset;
        }

        public void At(ReadOnlySpan<byte> payload, int rank, out ReadOnlySpan<byte> member, out double score)
        {
            var r = new Reader(payload, _offsets[rank]);
            r.Next(out member, out score);
        }
    }
}
