using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>What an element record does.</summary>
public enum ElementOp : byte
{
    HSet = 1,
    HDel = 2,
    SAdd = 3,
    SRem = 4,
    // A paged list's records (PagedList.Record): the field is [seq u64][argument u64], the value the element.
    /// <summary>An element pushed at the head.</summary>
    LPush = 5,
    /// <summary>An element pushed at the tail.</summary>
    RPush = 6,
    /// <summary>Argument elements popped from the head.</summary>
    LPop = 7,
    /// <summary>Argument elements popped from the tail.</summary>
    RPop = 8,
    /// <summary>The element at index argument replaced by the value (LSET).</summary>
    LSet = 9,
    /// <summary>The value inserted so that it has index argument (LINSERT).</summary>
    LInsert = 10,
    /// <summary>The element at index argument removed (LREM, one record a match).</summary>
    LRemAt = 11,
    /// <summary>Elements [argument, argument + value as u64) removed (LTRIM).</summary>
    LRemRange = 12,
    // A paged sorted set's records (PagedSortedSet.Record): the field is [seq u64][argument u64], as a list's.
    /// <summary>The member (value: [score f64 LE][member]) present with that score.</summary>
    ZAdd = 13,
    /// <summary>The member (value) absent.</summary>
    ZRem = 14,
    /// <summary>Ranks [argument, argument + value as u64) removed (pops, ZREMRANGEBY*).</summary>
    ZRemRange = 15,
}

/// <summary>
/// An AOF record for one element of a paged collection: its after-image, never a page. Pages are
/// derived state (a checkpoint holds them; replay rebuilds them), so every record is idempotent:
/// HSET/SADD say "the element is present (with this value)", HDEL/SREM "it is absent", and applying a
/// record twice leaves what applying it once left, whatever came between that a later record undoes.
/// Layout (the AOF's framing goes around it):
/// <code>
/// [op: u8][cid: u64 LE][key length: LEB128][key][field length: LEB128][field][value length: LEB128][value]
/// </code>
/// The value is present for HSET and the list records that carry an element (<see cref="HasValue"/>). The key is the store key the main record lives under, so replay
/// finds the meta; the cid says which life of that key the record belongs to: a record whose cid is not
/// the meta's (the key was deleted and made again since) is skipped.
/// </summary>
public readonly ref struct ElementRecord
{
    public readonly ElementOp Op;
    public readonly ulong Cid;
    public readonly ReadOnlySpan<byte> Key;
    public readonly ReadOnlySpan<byte> Field;
    public readonly ReadOnlySpan<byte> Value;

    public ElementRecord(ElementOp op, ulong cid, ReadOnlySpan<byte> key, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value = default)
    {
        Op = op;
        Cid = cid;
        Key = key;
        Field = field;
        Value = HasValue(op) ? value : default;
    }

    /// <summary>Records that carry a value: HSET's, a list's element (or LTRIM's count), a sorted set's member (or a range's count).</summary>
    public static bool HasValue(ElementOp op) => op is ElementOp.HSet or ElementOp.LPush or ElementOp.RPush or ElementOp.LSet or ElementOp.LInsert or ElementOp.LRemRange
        or ElementOp.ZAdd or ElementOp.ZRem or ElementOp.ZRemRange;

    public bool IsList => Op is >= ElementOp.LPush and <= ElementOp.LRemRange;

    public bool IsSortedSet => Op is >= ElementOp.ZAdd and <= ElementOp.ZRemRange;

    public bool IsHash => Op is ElementOp.HSet or ElementOp.HDel;

    public bool IsRemoval => Op is ElementOp.HDel or ElementOp.SRem;

    public int EncodedSize
    {
        get
        {
            int n = 1 + 8 + Part(Key.Length) + Part(Field.Length);
            return HasValue(Op) ? n + Part(Value.Length) : n;
        }
    }

    private static int Part(int length) => BucketPage.VarintSize((uint)length) + length;

    /// <summary>Writes the record; returns its size (<see cref="EncodedSize"/>).</summary>
    public int Encode(Span<byte> dest)
    {
        dest[0] = (byte)Op;
        BinaryPrimitives.WriteUInt64LittleEndian(dest[1..], Cid);
        int n = 9;
        n += WritePart(dest[n..], Key);
        n += WritePart(dest[n..], Field);
        if (HasValue(Op)) n += WritePart(dest[n..], Value);
        return n;
    }

    private static int WritePart(Span<byte> dest, ReadOnlySpan<byte> part)
    {
        int n = BucketPage.WriteVarint(dest, (uint)part.Length);
        part.CopyTo(dest[n..]);
        return n + part.Length;
    }

    /// <summary>Reads a record from the start of <paramref name="src"/>; false when it is cut short or not a record.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> src, out ElementRecord record, out int consumed)
    {
        record = default;
        consumed = 0;
        if (src.Length < 9 || src[0] is < (byte)ElementOp.HSet or > (byte)ElementOp.ZRemRange) return false;
        var op = (ElementOp)src[0];
        ulong cid = BinaryPrimitives.ReadUInt64LittleEndian(src[1..]);
        int at = 9;
        if (!TryPart(src, ref at, out var key) || !TryPart(src, ref at, out var field)) return false;
        ReadOnlySpan<byte> value = default;
        if (HasValue(op) && !TryPart(src, ref at, out value)) return false;
        record = new ElementRecord(op, cid, key, field, value);
        consumed = at;
        return true;
    }

    private static bool TryPart(ReadOnlySpan<byte> src, scoped ref int at, out ReadOnlySpan<byte> part)
    {
        part = default;
        uint len = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (at >= src.Length || shift > 28) return false;
            byte b = src[at++];
            len |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (len > (uint)(src.Length - at)) return false;
        part = src.Slice(at, (int)len);
        at += (int)len;
        return true;
    }
}

public static partial class PagedHash
{
    /// <summary>Pages <see cref="ApplyRecord"/> needs (none for a record of another life of the key).</summary>
    public static void NeedsRecord(in PagedMeta meta, in ElementRecord record, PageSet pages, List<PageKey> needs)
    {
        if (record.Cid != meta.Cid) return;
        if (record.IsRemoval) NeedsDelete(meta, record.Field, pages, needs);
        else NeedsSet(meta, record.Field, record.Value.Length, pages, needs);
    }

    /// <summary>
    /// Replays an element record: idempotent (set = "present with this value", delete = "absent").
    /// False when the record belongs to another collection id and was skipped.
    /// </summary>
    public static bool ApplyRecord(ref PagedMeta meta, in ElementRecord record, PageSet pages, IPageStore store)
    {
        if (record.Cid != meta.Cid) return false;
        if (record.IsHash != (meta.Kind == PagedKind.Hash))
            throw new InvalidDataException($"{record.Op} record for collection {meta.Cid}, a {meta.Kind}");
        if (record.IsRemoval) Delete(ref meta, record.Field, pages, store);
        else Set(ref meta, record.Field, record.Value, pages, store);
        return true;
    }
}
