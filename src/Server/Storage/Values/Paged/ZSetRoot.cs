using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The main record's payload of a paged sorted set, 97 bytes whatever its size (OBJECT ENCODING "skiplist"):
/// <code>
/// [0]        CollectionEncoding.PagedZSet
/// [1..49)    PagedMeta (kind Hash): member -> score, the score as 8 bytes (f64 LE, -0 kept)
/// [49..89)   TreeMeta (Ordered): the (score, member) keys of <see cref="TreeKeys"/>, for ranks and ranges
/// [89..97)   seq u64: the number of the last element record applied to this life of the set
/// </code>
/// Both structures live under one cid: tree pages are kind Tree, hash pages kind Bucket/Value, so their page
/// numbers never meet. RENAME and MOVE copy only this. The seq makes replay idempotent for the records that
/// name ranks (pops, ZREMRANGEBY*): a record at or under the root's seq is skipped, as a paged list's.
/// </summary>
public struct ZSetRoot
{
    public const int Size = 1 + PagedMeta.Size + TreeMeta.Size + 8;

    public PagedMeta Hash;
    public TreeMeta Tree;
    public ulong Seq;

    public readonly ulong Cid => Tree.Cid;
    public readonly ulong Count => Tree.Count;

    /// <summary>An empty paged sorted set (no pages yet) under <paramref name="cid"/>.</summary>
    public static ZSetRoot Create(ulong cid, int treeShift = CountedTree.DefaultPageShift, int hashShift = PagedHash.DefaultPageShift)
        => new() { Hash = PagedMeta.Create(cid, PagedKind.Hash, hashShift), Tree = TreeMeta.Create(cid, TreeMode.Ordered, treeShift) };

    public static bool IsPaged(ReadOnlySpan<byte> payload) => payload.Length == Size && payload[0] == (byte)CollectionEncoding.PagedZSet;

    /// <summary>The root of a paged sorted set payload; false for an inline payload (or bytes this build did not write).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ZSetRoot root)
    {
        root = default;
        if (!IsPaged(payload) || !PagedMeta.TryRead(payload[1..], out root.Hash) || !TreeMeta.TryRead(payload[(1 + PagedMeta.Size)..], out root.Tree)) return false;
        root.Seq = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + PagedMeta.Size + TreeMeta.Size)..]);
        return root.Tree.Mode == TreeMode.Ordered && root.Hash.Kind == PagedKind.Hash && root.Hash.Cid == root.Tree.Cid && root.Hash.Count == root.Tree.Count;
    }

    public readonly void Write(Span<byte> dest)
    {
        dest[0] = (byte)CollectionEncoding.PagedZSet;
        Hash.Write(dest[1..]);
        Tree.Write(dest[(1 + PagedMeta.Size)..]);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[(1 + PagedMeta.Size + TreeMeta.Size)..], Seq);
    }
}
