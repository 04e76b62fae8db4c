namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The main record's payload of a paged hash or set: [CollectionEncoding.Paged][PagedMeta], 49 bytes,
/// whatever the collection's size. RENAME and MOVE copy only this; the pages stay where the cid puts them.
/// </summary>
public static class PagedRoot
{
    public const int Size = 1 + PagedMeta.Size;

    public static bool IsPaged(ReadOnlySpan<byte> payload) => payload.Length == Size && payload[0] == (byte)CollectionEncoding.Paged;

    /// <summary>The meta of a paged payload; false for an inline payload (or bytes this build did not write).</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, out PagedMeta meta)
    {
        meta = default;
        return IsPaged(payload) && PagedMeta.TryRead(payload[1..], out meta);
    }

    public static void Write(in PagedMeta meta, Span<byte> dest)
    {
        dest[0] = (byte)CollectionEncoding.Paged;
        meta.Write(dest[1..]);
    }
}
