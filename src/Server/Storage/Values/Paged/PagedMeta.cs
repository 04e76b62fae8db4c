using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>What a paged collection stores per element.</summary>
public enum PagedKind : byte
{
    /// <summary>field -> value (a hash).</summary>
    Hash = 1,
    /// <summary>member only (a set).</summary>
    Set = 2,
}

/// <summary>
/// The part of a paged hash or set that lives in the key's main record: everything needed to find an
/// element's page without reading another page. Fixed layout, little-endian, <see cref="Size"/> bytes:
/// <code>
/// [0]      version u8 (1)
/// [1]      kind u8 (PagedKind)
/// [2]      level u8: buckets = 2^level + split
/// [3]      page shift u8: nominal bucket page = 2^shift bytes (kept per collection, so a later build may change its default)
/// [4]      load percent u8: a bucket splits when entry bytes pass this share of the buckets' nominal room
/// [5..8)   reserved, 0
/// [8..16)  cid u64: the collection id, never reused
/// [16..24) count u64: elements
/// [24..32) entry bytes u64: bytes of bucket entries, the load the split rule reads
/// [32..40) split u64: linear hashing's split pointer, the next bucket to split
/// [40..48) next value page u64: allocator of out-of-line value chunk pages
/// </code>
/// </summary>
public struct PagedMeta
{
    public const int Size = 48;
    public const byte Version = 1;

    public PagedKind Kind;
    public byte Level;
    public byte PageShift;
    public byte LoadPercent;
    public ulong Cid;
    public ulong Count;
    public ulong EntryBytes;
    public ulong Split;
    public ulong NextValuePage;

    /// <summary>An empty collection: one bucket (level 0), no pages written yet.</summary>
    public static PagedMeta Create(ulong cid, PagedKind kind, int pageShift = PagedHash.DefaultPageShift, int loadPercent = PagedHash.DefaultLoadPercent)
    {
        if (pageShift is < 9 or > 20) throw new ArgumentOutOfRangeException(nameof(pageShift));
        if (loadPercent is < 10 or > 250) throw new ArgumentOutOfRangeException(nameof(loadPercent));
        return new PagedMeta { Kind = kind, PageShift = (byte)pageShift, LoadPercent = (byte)loadPercent, Cid = cid };
    }

    public readonly int PageSize => 1 << PageShift;

    /// <summary>Every field equal (a root rewritten with it would not change).</summary>
    public readonly bool SameAs(in PagedMeta other) =>
        Kind == other.Kind && Level == other.Level && PageShift == other.PageShift && LoadPercent == other.LoadPercent && Cid == other.Cid
        && Count == other.Count && EntryBytes == other.EntryBytes && Split == other.Split && NextValuePage == other.NextValuePage;

    /// <summary>Buckets in use: bucket indexes are 0 .. Buckets-1, and never go away (pages never merge).</summary>
    public readonly ulong Buckets => (1UL << Level) + Split;

    public readonly void Write(Span<byte> dest)
    {
        dest = dest[..Size];
        dest.Clear();
        dest[0] = Version;
        dest[1] = (byte)Kind;
        dest[2] = Level;
        dest[3] = PageShift;
        dest[4] = LoadPercent;
        BinaryPrimitives.WriteUInt64LittleEndian(dest[8..], Cid);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[16..], Count);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[24..], EntryBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[32..], Split);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[40..], NextValuePage);
    }

    /// <summary>Parses a meta; false when the bytes are not one this build wrote (version, kind, ranges).</summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out PagedMeta meta)
    {
        meta = default;
        if (src.Length < Size || src[0] != Version) return false;
        var kind = (PagedKind)src[1];
        if (kind is not (PagedKind.Hash or PagedKind.Set) || src[2] > 62 || src[3] is < 9 or > 20 || src[4] is < 10 or > 250) return false;
        meta.Kind = kind;
        meta.Level = src[2];
        meta.PageShift = src[3];
        meta.LoadPercent = src[4];
        meta.Cid = BinaryPrimitives.ReadUInt64LittleEndian(src[8..]);
        meta.Count = BinaryPrimitives.ReadUInt64LittleEndian(src[16..]);
        meta.EntryBytes = BinaryPrimitives.ReadUInt64LittleEndian(src[24..]);
        meta.Split = BinaryPrimitives.ReadUInt64LittleEndian(src[32..]);
        meta.NextValuePage = BinaryPrimitives.ReadUInt64LittleEndian(src[40..]);
        return meta.Split < 1UL << meta.Level;
    }
}
