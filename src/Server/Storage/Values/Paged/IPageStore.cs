using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>What a page record holds; the byte is part of its store key.</summary>
public enum PageKind : byte
{
    /// <summary>A linear-hash bucket: page number = bucket index.</summary>
    Bucket = (byte)'B',
    /// <summary>A chunk of a value kept out of line: page numbers come from the meta's allocator.</summary>
    Value = (byte)'V',
    /// <summary>A counted B+tree node (leaf or inner): page numbers from the tree's allocator.</summary>
    Tree = (byte)'T',
    /// <summary>A chunk of a tree element kept out of line (<see cref="ListChunks"/>): exact bytes, numbers from the tree's allocator.</summary>
    Chunk = (byte)'C',
}

/// <summary>
/// A page's identity: the collection id (u64, allocated once and never reused), the kind and the
/// page number. Never the user key, so RENAME and MOVE move only the main record, and DEL retires
/// the cid (its pages go with compaction).
/// </summary>
public readonly record struct PageKey(ulong Cid, PageKind Kind, ulong PageNo)
{
    /// <summary>Bytes of <see cref="Write"/>: cid(8) kind(1) page(8); the store adds its namespace prefix.</summary>
    public const int EncodedSize = 17;

    /// <summary>Big-endian, so a collection's pages sort together in any ordered view (a log dump).</summary>
    public void Write(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt64BigEndian(dest, Cid);
        dest[8] = (byte)Kind;
        BinaryPrimitives.WriteUInt64BigEndian(dest[9..], PageNo);
    }

    public static PageKey Read(ReadOnlySpan<byte> src)
        => new(BinaryPrimitives.ReadUInt64BigEndian(src), (PageKind)src[8], BinaryPrimitives.ReadUInt64BigEndian(src[9..]));
}

/// <summary>How a page read ended.</summary>
public enum PageRead : byte
{
    /// <summary>The page is now in the page set.</summary>
    Found,
    /// <summary>No such page (an empty bucket is never written); the page set records it as missing.</summary>
    Missing,
    /// <summary>The read went to disk: the page lands in the page set when it completes, and the command runs again.</summary>
    Pending,
}

/// <summary>
/// Where pages live; the paged structures see the store only through this. Reads fill the caller's
/// <see cref="PageSet"/> (the pages a command holds across its replay rounds); writes and deletes are
/// blind (an upsert and a tombstone in FASTER, never pending).
/// </summary>
public interface IPageStore
{
    PageRead Read(in PageKey key, PageSet into);

    /// <summary>
    /// Writes the page's used bytes. A store may keep room past a bucket page's bytes (to a page-size
    /// multiple) so later writes stay in place; a value chunk is written once (an overwrite of the value
    /// takes new chunk pages), so it needs none.
    /// </summary>
    void Write(in PageKey key, ReadOnlySpan<byte> page);

    void Delete(in PageKey key);
}
