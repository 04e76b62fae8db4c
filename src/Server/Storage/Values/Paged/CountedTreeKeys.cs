using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A sorted set's tree key: the score as 8 bytes that sort as the double does, then the member bytes,
/// so the tree's byte order is Redis's (score, then member by memcmp, shorter first on a common prefix).
/// Range bounds are 8-byte score prefixes or score + member keys, and <see cref="CountedTree.Rank"/> of a
/// bound is the rank of the first element at or past it:
/// <code>
/// score range [min, max]:  ranks [Rank(Lower(min, excl)), Rank(Upper(max, excl)))   ZCOUNT = the difference
/// lex range (one score s): "[m" from = Key(s, m), "(m" from = Key(s, m + 0x00); "-" = Lower(s)
///                          "[m" to   = Key(s, m + 0x00), "(m" to = Key(s, m);   "+" = Upper(s)
/// </code>
/// </summary>
public static class TreeKeys
{
    public const int ScoreSize = 8;

    /// <summary>
    /// The order-preserving image of a score: sign bit flipped for positives, all bits for negatives;
    /// -0.0 maps as 0.0 (Redis holds them equal). NaN is not a score (Redis refuses it first).
    /// </summary>
    public static ulong ScoreBits(double score)
    {
        if (double.IsNaN(score)) throw new ArgumentException("NaN is not a sorted set score", nameof(score));
        if (score == 0) score = 0.0;
        ulong b = (ulong)BitConverter.DoubleToInt64Bits(score);
        return (b & 0x8000_0000_0000_0000UL) != 0 ? ~b : b | 0x8000_0000_0000_0000UL;
    }

    public static double ScoreOf(ulong bits)
        => BitConverter.Int64BitsToDouble((long)((bits & 0x8000_0000_0000_0000UL) != 0 ? bits & 0x7FFF_FFFF_FFFF_FFFFUL : ~bits));

    public static int KeyLength(int memberLength) => ScoreSize + memberLength;

    /// <summary>Writes score + member; returns the key's length.</summary>
    public static int Write(double score, ReadOnlySpan<byte> member, Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, ScoreBits(score));
        member.CopyTo(dest[ScoreSize..]);
        return ScoreSize + member.Length;
    }

    public static double Score(ReadOnlySpan<byte> key) => ScoreOf(BinaryPrimitives.ReadUInt64BigEndian(key));

    public static ReadOnlySpan<byte> Member(ReadOnlySpan<byte> key) => key[ScoreSize..];

    /// <summary>The first key of a range from <paramref name="score"/> (exclusive: every key past it).</summary>
    public static void Lower(double score, bool exclusive, Span<byte> dest8)
        => BinaryPrimitives.WriteUInt64BigEndian(dest8, ScoreBits(score) + (exclusive ? 1UL : 0UL));

    /// <summary>The first key past a range up to <paramref name="score"/> (exclusive: the first key at it).</summary>
    public static void Upper(double score, bool exclusive, Span<byte> dest8)
        => BinaryPrimitives.WriteUInt64BigEndian(dest8, ScoreBits(score) + (exclusive ? 0UL : 1UL));
}
