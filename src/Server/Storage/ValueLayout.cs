using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>The type a key holds. One key has exactly one type.</summary>
public enum KeyType : byte
{
    None = 0,
    String = 1,
    List = 2,
    Set = 3,
    ZSet = 4,
    Hash = 5,
    Stream = 6,
    /// <summary>A page of a paged collection (<see cref="Store.PagesNamespace"/>): never a user key.</summary>
    Page = 7,
}

/// <summary>
/// Record layout in the FASTER log (both are SpanBytes: a 4-byte length, then the bytes).
/// Key:   [namespace id: int32 LE][user key bytes]
/// Value: [type: u8][absolute expiry, unix ms, int64 LE, 0 = none][payload]
/// A counter's value may keep room to grow (<see cref="Padded"/> set in the type byte):
///        [type | Padded][expiry][payload][unused][n: u8], n = bytes after the payload, 1..255.
/// The SpanByte length (and so FASTER's record size) stays the allocated room; every reader goes
/// through <see cref="TypeOf"/> and <see cref="PayloadOf"/>, which see only the real value.
/// </summary>
public static unsafe class ValueLayout
{
    public const int KeyPrefix = 4;
    public const int Header = 9;

    /// <summary>Type-byte flag: the value's last byte counts the unused bytes after the payload.</summary>
    public const byte Padded = 0x80;

    /// <summary>
    /// Payload room a counter gets when it outgrows its record: the longest int64 text
    /// ("-9223372036854775808", 20 bytes; shorter ones are padded), so no later INCR copies it.
    /// </summary>
    public const int CounterRoom = 20;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KeyType TypeOf(ref SpanByte v) => (KeyType)(*v.ToPointer() & ~Padded);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsPadded(ref SpanByte v) => (*v.ToPointer() & Padded) != 0;

    /// <summary>The payload's real length (the SpanByte's length less the header and any room).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PayloadLength(ref SpanByte v)
    {
        byte* p = v.ToPointer();
        int len = v.Length - Header;
        if ((*p & Padded) != 0) len -= p[v.Length - 1];
        return len;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ExpiryOf(ref SpanByte v) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(v.ToPointer() + 1, 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> PayloadOf(ref SpanByte v) => new(v.ToPointer() + Header, PayloadLength(ref v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> MutablePayloadOf(ref SpanByte v) => new(v.ToPointer() + Header, PayloadLength(ref v));

    /// <summary>
    /// Writes a string payload into the value's whole room (its SpanByte length is left alone):
    /// exact, or padded when shorter. False when it does not fit, or leaves more than 255 bytes over.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryWriteInRoom(ref SpanByte v, long expiry, ReadOnlySpan<byte> payload)
    {
        int pad = v.Length - Header - payload.Length;
        if ((uint)pad > 255) return false;
        byte* p = v.ToPointer();
        *p = pad == 0 ? (byte)KeyType.String : (byte)((byte)KeyType.String | Padded);
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(p + 1, 8), expiry);
        payload.CopyTo(new Span<byte>(p + Header, payload.Length));
        if (pad != 0) p[v.Length - 1] = (byte)pad;
        return true;
    }

    /// <summary>As <see cref="TryWriteInRoom"/> for the decimal text of <paramref name="number"/>, written in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryWriteIntegerInRoom(ref SpanByte v, long expiry, long number)
    {
        int n = NumberFormat.DigitCount(number);
        int pad = v.Length - Header - n;
        if ((uint)pad > 255) return false;
        byte* p = v.ToPointer();
        *p = pad == 0 ? (byte)KeyType.String : (byte)((byte)KeyType.String | Padded);
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(p + 1, 8), expiry);
        NumberFormat.WriteDigits(number, p + Header, n);
        if (pad != 0) p[v.Length - 1] = (byte)pad;
        return true;
    }

    /// <summary>Payload room for a value of <paramref name="payload"/> bytes: FASTER rounds the record up to 8 bytes anyway.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int AlignedRoom(int payload) => ((sizeof(int) + Header + payload + 7) & ~7) - sizeof(int) - Header;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsExpired(long expiry, long now) => expiry != 0 && expiry <= now;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteHeader(ref SpanByte v, KeyType type, long expiry)
    {
        byte* p = v.ToPointer();
        *p = (byte)type;
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(p + 1, 8), expiry);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetExpiry(ref SpanByte v, long expiry) =>
        BinaryPrimitives.WriteInt64LittleEndian(new Span<byte>(v.ToPointer() + 1, 8), expiry);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NamespaceOf(ref SpanByte key) => BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(key.ToPointer(), 4));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> UserKeyOf(ref SpanByte key) => new(key.ToPointer() + KeyPrefix, key.Length - KeyPrefix);

    /// <summary>Approximate bytes one record occupies in the log (for the live-data estimate).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long RecordBytes(int keyLength, int valueLength) =>
        8 + ((4 + keyLength + 7) & ~7) + ((4 + valueLength + 7) & ~7);

    public static string TypeName(KeyType t) => t switch
    {
        KeyType.String => "string",
        KeyType.List => "list",
        KeyType.Set => "set",
        KeyType.ZSet => "zset",
        KeyType.Hash => "hash",
        KeyType.Stream => "stream",
        _ => "none",
    };
}
