using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The main record's payload of a paged list: [CollectionEncoding.PagedList][TreeMeta][redis bytes i64][seq u64],
/// 57 bytes whatever the list's length (OBJECT ENCODING "quicklist"). RENAME and MOVE copy only this.
/// <list type="bullet">
/// <item>redis bytes: what Redis's listpack would weigh the elements (<see cref="List.RedisBytes"/>), so a list
/// that shrinks converts back to listpack exactly where Redis's does; -1 when unknown (LTRIM deletes whole
/// leaves unread), counted again from the elements once the list is short enough to convert.</item>
/// <item>seq: the number of the last element record applied to this life of the list. Every change logs
/// records numbered seq + 1, seq + 2, ..., and replay applies only a record past the root's seq, so a record
/// replayed twice (or one a checkpoint already holds) changes nothing.</item>
/// </list>
/// </summary>
public struct ListRoot
{
    public const int Size = 1 + TreeMeta.Size + 16;

    /// <summary>A leaf's record room in the mutable region (<see cref="CommandPages.WritePages"/>): the default page.</summary>
    public const int TreeRoom = 1 << CountedTree.DefaultPageShift;

    public TreeMeta Tree;
    public long RedisBytes;
    public ulong Seq;

    public readonly ulong Cid => Tree.Cid;
    public readonly ulong Count => Tree.Count;

    /// <summary>An empty paged list (no pages yet) under <paramref name="cid"/>.</summary>
    public static ListRoot Create(ulong cid, int pageShift = CountedTree.DefaultPageShift)
        => new() { Tree = TreeMeta.Create(cid, TreeMode.Position, pageShift), RedisBytes = RedisEmptyBytes };

    /// <summary>Redis's empty listpack: a 6-byte header and the end byte.</summary>
    public const long RedisEmptyBytes = 7;

    public static bool IsPaged(ReadOnlySpan<byte> payload) => payload.Length == Size && payload[0] == (byte)CollectionEncoding.PagedList;

    /// <summary>The root of a paged list payload; false for an inline payload (or bytes this build did not write).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ListRoot root)
    {
        root = default;
        if (!IsPaged(payload) || !TreeMeta.TryRead(payload[1..], out root.Tree) || root.Tree.Mode != TreeMode.Position) return false;
        root.RedisBytes = BinaryPrimitives.ReadInt64LittleEndian(payload[(1 + TreeMeta.Size)..]);
        root.Seq = BinaryPrimitives.ReadUInt64LittleEndian(payload[(9 + TreeMeta.Size)..]);
        return true;
    }

    public readonly void Write(Span<byte> dest)
    {
        dest[0] = (byte)CollectionEncoding.PagedList;
        Tree.Write(dest[1..]);
        BinaryPrimitives.WriteInt64LittleEndian(dest[(1 + TreeMeta.Size)..], RedisBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[(9 + TreeMeta.Size)..], Seq);
    }

    /// <summary>
    /// The pages' estimated bytes (what <see cref="LiveCollections"/> counts as live): Redis's listpack weight is
    /// close to a leaf entry's (a length byte and the element, where Redis has two), and leaves built by pushes
    /// are full, so the weight in whole page records (a 5M-element load: 87 MB of log appended, full pages
    /// estimated 90 MB, two-thirds-full pages had said 137 MB). Unknown weight: 24 bytes an element.
    /// </summary>
    public readonly long EstimatedBytes()
    {
        long elements = RedisBytes >= 0 ? RedisBytes : (long)Math.Min(Count, long.MaxValue / 64) * 24;
        long leaves = elements / (Tree.PageSize - TreePage.HeaderSize) + 1;
        return leaves * ValueLayout.RecordBytes(ValueLayout.KeyPrefix + PageKey.EncodedSize, ValueLayout.Header + Tree.PageSize);
    }
}
