using System.Buffers;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A paged sorted set's members longer than <see cref="PrefixLength"/> (982 bytes at 4 KB pages): the member goes whole
/// into write-once chunk records <c>(cid, 'C', n)</c> as a paged list's long element does (<see cref="ListChunks"/>:
/// numbered by the tree's allocator, <see cref="TreeMeta.OutOfLine"/> counting them), and its tree entry is
/// <code>[score 8][the member's first PrefixLength bytes][first chunk u64 LE][member length u32 LE]</code>
/// with the leaf tag's out-of-line bit set: exactly the tree's <see cref="CountedTree.MaxElementLength"/>. memcmp of
/// such entries is Redis's order up to their reference; the tree resolves ties past it from the chunks
/// (<see cref="CountedTree.TieLength"/>). Members of PrefixLength bytes or less are inline as before, and the bit, not
/// the length, says which entries are long (a tree written before held members up to 994 bytes inline).
/// Readers get full keys: <see cref="PagedSortedSet.Range"/> names the chunks of a leaf's long entries, then
/// <see cref="Resolver"/> hands its sink <c>[score][member]</c>; removals gather the member before deleting its chunks.
/// </summary>
public static class ZSetLongMembers
{
    public const int ReferenceSize = ListChunks.ReferenceSize;

    /// <summary>Member bytes a long entry keeps before its reference; a longer member is long.</summary>
    public static int PrefixLength(in TreeMeta meta) => CountedTree.TieLength(meta) - TreeKeys.ScoreSize;

    public static bool IsLong(in TreeMeta meta, int memberLength) => memberLength > PrefixLength(meta);

    /// <summary>The reference a long entry ends with.</summary>
    public static ReadOnlySpan<byte> ReferenceOf(ReadOnlySpan<byte> entry) => entry[^ReferenceSize..];

    /// <summary>
    /// Writes a long member's chunks (new numbers from the tree's allocator, in hand from now on) and its entry into
    /// <paramref name="dest"/> (<see cref="CountedTree.MaxElementLength"/> bytes): its length.
    /// </summary>
    public static int WriteEntry(ref TreeMeta tree, double score, ReadOnlySpan<byte> member, Span<byte> dest, PageSet pages, IPageStore store)
    {
        int prefix = PrefixLength(tree);
        int at = TreeKeys.Write(score, member[..prefix], dest);
        ListChunks.Write(ref tree, member, dest.Slice(at, ReferenceSize), pages, store);
        return at + ReferenceSize;
    }

    /// <summary>Throws unless every chunk of <paramref name="reference"/> is in hand (an apply after its needs).</summary>
    public static void CheckInHand(in TreeMeta meta, ReadOnlySpan<byte> reference, PageSet pages)
    {
        ulong first = ListChunks.FirstOf(reference);
        for (int i = 0, n = ListChunks.ChunksOf(ListChunks.LengthOf(reference)); i < n; i++)
            if (pages.State(ListChunks.ChunkKey(meta, first + (ulong)i)) != PageState.Present)
                throw new InvalidOperationException($"chunk {first + (ulong)i} of collection {meta.Cid} is not in hand");
    }

    /// <summary>memcmp of the member a reference names (its chunks in hand) with <paramref name="member"/>, shorter first on a common prefix.</summary>
    public static int CompareMember(in TreeMeta meta, ReadOnlySpan<byte> reference, PageSet pages, ReadOnlySpan<byte> member)
    {
        ulong first = ListChunks.FirstOf(reference);
        int length = ListChunks.LengthOf(reference), done = 0;
        for (int i = 0, n = ListChunks.ChunksOf(length); i < n; i++)
        {
            var chunk = pages.Get(ListChunks.ChunkKey(meta, first + (ulong)i));
            if (chunk.Length != Math.Min(ListChunks.ChunkSize, length - done))
                throw new InvalidDataException($"chunk {first + (ulong)i} of collection {meta.Cid} holds {chunk.Length} bytes of a {length}-byte member");
            var against = member[Math.Min(done, member.Length)..];
            int c = chunk.SequenceCompareTo(against[..Math.Min(chunk.Length, against.Length)]);
            if (c != 0) return c;
            if (against.Length < chunk.Length) return 1; // the member ends inside this chunk
            done += chunk.Length;
        }
        return length.CompareTo(member.Length);
    }

    /// <summary>Appends the full key <c>[score][member]</c> of a long entry (its chunks in hand) to <paramref name="dest"/>.</summary>
    public static void AppendKey(in TreeMeta meta, ReadOnlySpan<byte> entry, PageSet pages, IBufferWriter<byte> dest)
    {
        dest.Write(entry[..TreeKeys.ScoreSize]);
        ListChunks.Gather(meta, ReferenceOf(entry), pages, dest);
    }
}
