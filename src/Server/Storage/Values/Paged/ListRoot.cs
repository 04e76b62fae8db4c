using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The main record's payload of a paged list, 2146 bytes whatever the list's length (OBJECT ENCODING "quicklist"):
/// <code>
/// [0]       CollectionEncoding.PagedList
/// [1..41)   TreeMeta (the counted tree by position)
/// [41..49)  redis bytes i64
/// [49..57)  seq u64
/// [57]      format u8 (<see cref="Format"/>)
/// [58..66)  left leaf u64, [66..74) right leaf u64: the edge leaves' page numbers (<see cref="NoLeaf"/>: not known)
/// [74..82)  left delta i64, [82..90) right delta i64: the tree's pending edge counts (<see cref="TreeMeta.LeftDelta"/>)
/// [90..2146) the edge sides (<see cref="ListEdges"/>): short elements pushed at the ends, not in the tree yet
/// </code>
/// RENAME and MOVE copy only this. The size is fixed, so a push rewrites the record in place.
/// <list type="bullet">
/// <item>redis bytes: what Redis's listpack would weigh the elements (<see cref="List.RedisBytes"/>), so a list
/// that shrinks converts back to listpack exactly where Redis's does; -1 when unknown (LTRIM deletes whole
/// leaves unread), counted again from the elements once the list is short enough to convert.</item>
/// <item>seq: the number of the last element record applied to this life of the list. Every change logs
/// records numbered seq + 1, seq + 2, ..., and replay applies only a record past the root's seq, so a record
/// replayed twice (or one a checkpoint already holds) changes nothing.</item>
/// <item>edge leaves and deltas: a push or pop at an edge reads and writes only the edge leaf (and this root),
/// <see cref="PagedList.TryPush"/>. Any other change forgets the leaves (found again by the next edge change's walk).</item>
/// <item>edge sides: the elements at either end that the tree does not hold; <see cref="Count"/> includes them.</item>
/// </list>
/// </summary>
public struct ListRoot
{
    public const int Size = V2Size + ListEdges.Size;

    /// <summary>
    /// 4: edge sides of 1 KB, their outer ends last (<see cref="ListEdges"/>). 3 (574 bytes: sides of 240, outer ends first)
    /// reads into this layout and is written back as 4; 2 (90 bytes: the edge leaves and deltas) is read as a root with
    /// empty sides; format 1 (57 bytes, no format byte) is refused, not misread. The layout is never logged (replay
    /// pushes and pops through the same code), so an AOF reads the same under any of them.
    /// </summary>
    public const byte Format = 4;

    private const byte Format2 = 2, Format3 = 3;
    private const int Format3Size = V2Size + ListEdges.Format3Size;
    private const int V2Size = 1 + TreeMeta.Size + 16 + 1 + 32;

    /// <summary>An edge leaf not known: the next edge change walks to it.</summary>
    public const ulong NoLeaf = ulong.MaxValue;

    private const int V1Size = 1 + TreeMeta.Size + 16;

    /// <summary>A leaf's record room in the mutable region (<see cref="CommandPages.WritePages"/>): the default page.</summary>
    public const int TreeRoom = 1 << CountedTree.DefaultPageShift;

    public TreeMeta Tree;
    public long RedisBytes;
    public ulong Seq;
    public ulong LeftLeaf, RightLeaf;
    public ListEdges Edges;

    public readonly ulong Cid => Tree.Cid;

    /// <summary>The list's length: the tree's and the edge sides'.</summary>
    public readonly ulong Count => Tree.Count + Edges.Total;

    /// <summary>An empty paged list (no pages yet) under <paramref name="cid"/>.</summary>
    public static ListRoot Create(ulong cid, int pageShift = CountedTree.DefaultPageShift)
        => new() { Tree = TreeMeta.Create(cid, TreeMode.Position, pageShift), RedisBytes = RedisEmptyBytes, LeftLeaf = NoLeaf, RightLeaf = NoLeaf };

    /// <summary>After a change that may move the edges (a split, a merge, a change by position): the leaves are found again.</summary>
    public void ForgetEdges() => LeftLeaf = RightLeaf = NoLeaf;

    /// <summary>Redis's empty listpack: a 6-byte header and the end byte.</summary>
    public const long RedisEmptyBytes = 7;

    public static bool IsPaged(ReadOnlySpan<byte> payload)
    {
        if (payload.Length == 0 || payload[0] != (byte)CollectionEncoding.PagedList) return false;
        if (payload.Length == Size && payload[V1Size] == Format) return true;
        if (payload.Length == V2Size && payload[V1Size] == Format2) return true;
        if (payload.Length == Format3Size && payload[V1Size] == Format3) return true;
        // Not an inline list either: read as one it would be garbage.
        throw new InvalidDataException(payload.Length == V1Size
            ? "paged list root of format 1 (before the edge leaves, issue 13): this build reads formats 2 and 3"
            : $"paged list root of {payload.Length} bytes, format {(payload.Length > V1Size ? payload[V1Size] : 0)}: this build reads format {Format} ({Size} bytes), {Format3} ({Format3Size}) and {Format2} ({V2Size})");
    }

    /// <summary>The root of a paged list payload; false for an inline payload (or bytes this build did not write).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ListRoot root) => TryRead(payload, out root, sides: true);

    /// <summary>
    /// As <see cref="TryRead(ReadOnlySpan{byte}, out ListRoot)"/>; without <paramref name="sides"/> the edge sides stay
    /// empty (what a write's accounting needs is the cid and the weight: copying and checking 484 bytes was 11% of an LPUSH).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out ListRoot root, bool sides)
    {
        root = default;
        if (!IsPaged(payload) || !TreeMeta.TryRead(payload[1..], out root.Tree) || root.Tree.Mode != TreeMode.Position) return false;
        root.RedisBytes = BinaryPrimitives.ReadInt64LittleEndian(payload[(1 + TreeMeta.Size)..]);
        root.Seq = BinaryPrimitives.ReadUInt64LittleEndian(payload[(9 + TreeMeta.Size)..]);
        root.LeftLeaf = BinaryPrimitives.ReadUInt64LittleEndian(payload[(V1Size + 1)..]);
        root.RightLeaf = BinaryPrimitives.ReadUInt64LittleEndian(payload[(V1Size + 9)..]);
        root.Tree.LeftDelta = BinaryPrimitives.ReadInt64LittleEndian(payload[(V1Size + 17)..]);
        root.Tree.RightDelta = BinaryPrimitives.ReadInt64LittleEndian(payload[(V1Size + 25)..]);
        if (payload.Length == V2Size || !sides) return true;
        // Read as an inline list (false) it would be garbage.
        bool read = payload.Length == Format3Size ? ListEdges.TryReadFormat3(payload[V2Size..], out root.Edges) : ListEdges.TryRead(payload[V2Size..], out root.Edges);
        if (!read) throw new InvalidDataException("paged list root with edge sides that do not add up");
        return true;
    }

    /// <summary>Whether <see cref="TryPushInPlace"/> may take this payload: a format 4 root (a format 3 one goes through the general path once, which writes it as 4).</summary>
    public static bool IsEditable(ReadOnlySpan<byte> payload)
        => payload.Length == Size && payload[0] == (byte)CollectionEncoding.PagedList && payload[V1Size] == Format;

    /// <summary>
    /// LPUSH/RPUSH of short elements (listpack entries, in push order) onto the root's edge side, on the payload's bytes
    /// (<see cref="PagedList.TryPush"/>'s first step, as replay does it: the same sides, weight and seq). False, nothing
    /// changed, when the root is not <see cref="IsEditable"/> or the side does not take them all (the general path flushes
    /// it). The list's new length, its cid and its seq before the pushes (their records are numbered from seq + 1) come out.
    /// </summary>
    public static bool TryPushInPlace(Span<byte> payload, bool head, ReadOnlySpan<byte> elements, out ulong count, out ulong cid, out ulong seqBefore)
    {
        count = cid = seqBefore = 0;
        if (!IsEditable(payload) || !ListEdges.TryPushEncoded(payload[V2Size..], head, elements, out int added, out long weight)) return false;
        var weightAt = payload[(1 + TreeMeta.Size)..];
        long redis = BinaryPrimitives.ReadInt64LittleEndian(weightAt);
        if (redis >= 0) BinaryPrimitives.WriteInt64LittleEndian(weightAt, redis + weight);
        var seqAt = payload[(9 + TreeMeta.Size)..];
        seqBefore = BinaryPrimitives.ReadUInt64LittleEndian(seqAt);
        BinaryPrimitives.WriteUInt64LittleEndian(seqAt, seqBefore + (ulong)added);
        cid = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 8)..]);
        var edges = payload[V2Size..];
        count = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 24)..]) + (ulong)ListEdges.EncodedCount(edges, true) + (ulong)ListEdges.EncodedCount(edges, false);
        return true;
    }

    /// <summary>
    /// LPOP/RPOP of <paramref name="take"/> elements from the root's edge side, on the payload's bytes (<see cref="PagedList.TryPop"/>'s
    /// first step): their side entries to <paramref name="popped"/> (<see cref="ListEdges.SideBytes"/> bytes at most). False, nothing
    /// changed, when the side holds fewer, the list would be left empty (a delete), or it might go back inline under list-max-listpack-size
    /// <paramref name="fill"/> (what <c>Shrunk</c> checks: the general path decides). Its new length, cid and seq before the pop come out.
    /// </summary>
    public static bool TryPopInPlace(Span<byte> payload, bool head, int take, long fill, Span<byte> popped, out int poppedBytes, out ulong count, out ulong cid, out ulong seqBefore)
    {
        poppedBytes = 0;
        count = cid = seqBefore = 0;
        if (!IsEditable(payload)) return false;
        var edges = payload[V2Size..];
        int side = ListEdges.EncodedCount(edges, head);
        ulong before = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 24)..]) + (ulong)side + (ulong)ListEdges.EncodedCount(edges, !head);
        if ((ulong)take >= before || side < take) return false;
        count = before - (ulong)take;
        var weightAt = payload[(1 + TreeMeta.Size)..];
        long redis = BinaryPrimitives.ReadInt64LittleEndian(weightAt);
        // Stays paged for sure (Shrunk's first checks; the weight less the popped ones' is at least what is left).
        List.Limits(fill, out long sizeLimit, out long countLimit);
        bool stays = (long)count > countLimit / 2 || (sizeLimit != long.MaxValue && RedisEmptyBytes + 2 * (long)count > sizeLimit / 2)
            || (redis >= 0 && redis - ListEdges.SideBytes * 3 > sizeLimit / 2);
        if (!stays || !ListEdges.TryPopEncoded(edges, head, take, popped, out poppedBytes, out long weight)) return false;
        if (redis >= 0) BinaryPrimitives.WriteInt64LittleEndian(weightAt, redis - weight);
        var seqAt = payload[(9 + TreeMeta.Size)..];
        seqBefore = BinaryPrimitives.ReadUInt64LittleEndian(seqAt);
        BinaryPrimitives.WriteUInt64LittleEndian(seqAt, seqBefore + 1);
        cid = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 8)..]);
        return true;
    }

    public readonly void Write(Span<byte> dest)
    {
        dest[0] = (byte)CollectionEncoding.PagedList;
        Tree.Write(dest[1..]);
        BinaryPrimitives.WriteInt64LittleEndian(dest[(1 + TreeMeta.Size)..], RedisBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[(9 + TreeMeta.Size)..], Seq);
        dest[V1Size] = Format;
        BinaryPrimitives.WriteUInt64LittleEndian(dest[(V1Size + 1)..], LeftLeaf);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[(V1Size + 9)..], RightLeaf);
        BinaryPrimitives.WriteInt64LittleEndian(dest[(V1Size + 17)..], Tree.LeftDelta);
        BinaryPrimitives.WriteInt64LittleEndian(dest[(V1Size + 25)..], Tree.RightDelta);
        Edges.Write(dest[V2Size..]);
    }

    /// <summary>
    /// <see cref="EstimatedBytes"/> of an <see cref="IsEditable"/> payload as <see cref="LiveCollections.ListCidOf"/> reads it
    /// (the tree's count, not the sides'), from the three fields it needs: an edge edit in the record changes only the
    /// weight, and parsing the root twice around it was 4% of an LPUSH.
    /// </summary>
    public static long EstimatedBytesOf(ReadOnlySpan<byte> payload)
    {
        var root = new ListRoot
        {
            Tree = { PageShift = payload[1 + 3], Count = BinaryPrimitives.ReadUInt64LittleEndian(payload[(1 + 24)..]) },
            RedisBytes = BinaryPrimitives.ReadInt64LittleEndian(payload[(1 + TreeMeta.Size)..]),
        };
        return root.EstimatedBytes();
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
