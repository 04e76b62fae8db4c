using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The key and value lengths FASTER's log uses, SpanByte's own except for the first read of a record on
/// disk: FASTER reads "a record of average size" (8 bytes of header, the initial key length and the
/// initial value length, to a 512-byte sector), then, if the record is longer, reads it again whole. With
/// SpanByte's 4-byte initial lengths that is 512 bytes, so every bucket page (2 KB) took two reads, and a
/// 2M-field paged HSET load under maxmemory 32mb issued 3.9M preads for 1.04M records from disk. The initial
/// lengths here cover a key of 64 bytes and a whole bucket record, so a page is one read; a small string
/// record reads 2.5 KB where it read 512 bytes (one page-cache copy, no second system call when it is long).
/// </summary>
public sealed class RecordReadSize : IVariableLengthStruct<SpanByte>
{
    /// <summary>Page keys are 21 bytes with their prefix; most string keys fit too.</summary>
    public const int InitialKeyBytes = 64;

    /// <summary>A bucket record: its length prefix, the value header and a whole page (PagedHash keeps bucket records a page long).</summary>
    public const int InitialValueBytes = sizeof(int) + ValueLayout.Header + (1 << Values.Paged.PagedHash.DefaultPageShift);

    private readonly int _initial;

    private RecordReadSize(int initial) => _initial = initial;

    public static RecordReadSize ForKeys { get; } = new(InitialKeyBytes);
    public static RecordReadSize ForValues { get; } = new(InitialValueBytes);

    public int GetInitialLength() => _initial;

    public int GetLength(ref SpanByte t) => sizeof(int) + t.Length;

    public unsafe void Serialize(ref SpanByte source, void* destination) => source.CopyTo((byte*)destination);

    public unsafe ref SpanByte AsRef(void* source) => ref System.Runtime.CompilerServices.Unsafe.AsRef<SpanByte>(source);

    public unsafe void Initialize(void* source, void* dest) => *(int*)source = (int)((byte*)dest - (byte*)source) - sizeof(int);
}
