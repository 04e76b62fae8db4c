using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>How a counted tree orders its elements.</summary>
public enum TreeMode : byte
{
    /// <summary>By position only (a list): an element's place is its rank; elements are opaque bytes.</summary>
    Position = 1,
    /// <summary>By the element's bytes, compared as unsigned bytes, shorter first on a common prefix (a sorted set's (score, member) key).</summary>
    Ordered = 2,
}

/// <summary>
/// The part of a counted B+tree that lives in its owner's main record: enough to reach any element by
/// rank or key from the root. Its own fixed layout, little-endian, <see cref="Size"/> bytes, so a meta
/// carries it beside (not inside) a <see cref="PagedMeta"/>: a list's root payload is
/// [encoding][TreeMeta]; a sorted set's is [encoding][PagedMeta of the member -> score hash][TreeMeta],
/// both under one cid (tree pages are kind <see cref="PageKind.Tree"/>, hash pages kind Bucket/Value,
/// so their page numbers never meet).
/// <code>
/// [0]      version u8 (2)
/// [1]      mode u8 (TreeMode)
/// [2]      height u8: 0 = empty (no pages), 1 = the root is a leaf
/// [3]      page shift u8: nominal page = 2^shift bytes (kept per tree, so a later default does not break old ones)
/// [4..8)   out-of-line u32: entries that are references to elements kept out of line (a list's long elements, a sorted set's long members)
/// [8..16)  cid u64: the collection id, never reused
/// [16..24) root page u64 (meaningless at height 0)
/// [24..32) count u64: elements
/// [32..40) next page u64: the page allocator (numbers are never reused; a freed page is a delete)
/// </code>
/// </summary>
public struct TreeMeta
{
    public const int Size = 40;
    /// <summary>2: leaf entries carry a trailing length (TreePage); a version 1 tree is refused, not misread.</summary>
    public const byte Version = 2;

    public TreeMode Mode;
    public byte Height;
    public byte PageShift;
    public ulong Cid;
    public ulong Root;
    public ulong Count;
    public ulong NextPage;

    /// <summary>
    /// Entries that are references to elements kept out of line (<see cref="ListChunks"/>, <see cref="ZSetLongMembers"/>): while there are none, a
    /// range removal drops whole leaves unread and a range read looks at no entry's tag. (Bytes 4..8 were zero before.)
    /// </summary>
    public uint OutOfLine;

    /// <summary>
    /// Position mode: counts pushes and pops at the left (right) edge added to the edge leaf and not yet to the
    /// inner entries above it (<see cref="CountedTree.Fold"/>). The true count of entry 0 (the last entry) of
    /// every page on the left (right) spine is its stored count plus this; <see cref="Count"/> is always exact.
    /// Not part of this layout: the list's root keeps them (<see cref="ListRoot"/>); a sorted set's are 0.
    /// </summary>
    public long LeftDelta, RightDelta;

    /// <summary>An empty tree: no pages yet.</summary>
    public static TreeMeta Create(ulong cid, TreeMode mode, int pageShift = CountedTree.DefaultPageShift)
    {
        if (pageShift is < 9 or > 16) throw new ArgumentOutOfRangeException(nameof(pageShift));
        if (mode is not (TreeMode.Position or TreeMode.Ordered)) throw new ArgumentOutOfRangeException(nameof(mode));
        return new TreeMeta { Mode = mode, PageShift = (byte)pageShift, Cid = cid };
    }

    public readonly int PageSize => 1 << PageShift;

    public readonly void Write(Span<byte> dest)
    {
        dest = dest[..Size];
        dest.Clear();
        dest[0] = Version;
        dest[1] = (byte)Mode;
        dest[2] = Height;
        dest[3] = PageShift;
        BinaryPrimitives.WriteUInt32LittleEndian(dest[4..], OutOfLine);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[8..], Cid);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[16..], Root);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[24..], Count);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[32..], NextPage);
    }

    /// <summary>Parses a tree meta; false when the bytes are not one this build wrote (version, mode, ranges).</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out TreeMeta meta)
    {
        meta = default;
        if (src.Length < Size || src[0] != Version) return false;
        var mode = (TreeMode)src[1];
        if (mode is not (TreeMode.Position or TreeMode.Ordered) || src[2] > CountedTree.MaxHeight || src[3] is < 9 or > 16) return false;
        meta.Mode = mode;
        meta.Height = src[2];
        meta.PageShift = src[3];
        meta.OutOfLine = BinaryPrimitives.ReadUInt32LittleEndian(src[4..]);
        meta.Cid = BinaryPrimitives.ReadUInt64LittleEndian(src[8..]);
        meta.Root = BinaryPrimitives.ReadUInt64LittleEndian(src[16..]);
        meta.Count = BinaryPrimitives.ReadUInt64LittleEndian(src[24..]);
        meta.NextPage = BinaryPrimitives.ReadUInt64LittleEndian(src[32..]);
        return (meta.Height == 0) == (meta.Count == 0);
    }
}
