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
}

/// <summary>
/// Record layout in the FASTER log (both are SpanBytes: a 4-byte length, then the bytes).
/// Key:   [namespace id: int32 LE][user key bytes]
/// Value: [type: u8][absolute expiry, unix ms, int64 LE, 0 = none][payload]
/// </summary>
public static unsafe class ValueLayout
{
    public const int KeyPrefix = 4;
    public const int Header = 9;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static KeyType TypeOf(ref SpanByte v) => (KeyType)(*v.ToPointer());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ExpiryOf(ref SpanByte v) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(v.ToPointer() + 1, 8));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> PayloadOf(ref SpanByte v) => new(v.ToPointer() + Header, v.Length - Header);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Span<byte> MutablePayloadOf(ref SpanByte v) => new(v.ToPointer() + Header, v.Length - Header);

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
