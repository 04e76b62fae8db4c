using System.Buffers.Binary;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The after-images one command wrote, collected while it runs and appended to the AOF as one frame
/// when it ends (<see cref="StoreSession.EndCommand"/>), so recovery applies the command whole or not
/// at all. It belongs to the command (its client's <see cref="PendingState"/>), not to the thread: a
/// write that went to disk adds its record later, from FASTER's completion callback, and a replayed
/// command answers its finished writes from their slots, so each record is added exactly once.
/// Each record is kept as the bytes of the single entry it would otherwise be (Write or Delete).
/// </summary>
public sealed unsafe class CommandFrame
{
    private byte[] _buffer = new byte[256];

    /// <summary>Bytes of records collected.</summary>
    public int Length { get; private set; }
    public int Count { get; private set; }
    /// <summary>The command is running (or waiting on disk) and collects its records here.</summary>
    internal bool Active;
    /// <summary>The AOF the frame's records were collected for, null while it holds none.</summary>
    internal AppendOnlyFile? OpenIn;

    public ReadOnlySpan<byte> Records => _buffer.AsSpan(0, Length);

    internal void AddWrite(AppendOnlyFile aof, ref SpanByte key, ref SpanByte value, bool unpad)
    {
        Open(aof);
        int len = value.Length;
        if (unpad) len = ValueLayout.Header + ValueLayout.PayloadLength(ref value);
        var dst = Reserve(1 + 4 + key.Length + 4 + len);
        dst[0] = (byte)AofEntryKind.Write;
        BinaryPrimitives.WriteInt32LittleEndian(dst[1..], key.Length);
        key.AsReadOnlySpan().CopyTo(dst[5..]);
        var rest = dst[(5 + key.Length)..];
        BinaryPrimitives.WriteInt32LittleEndian(rest, len);
        new ReadOnlySpan<byte>(value.ToPointer(), len).CopyTo(rest[4..]);
        if (unpad) rest[4] &= unchecked((byte)~ValueLayout.Padded);
    }

    internal void AddDelete(AppendOnlyFile aof, ref SpanByte key)
    {
        Open(aof);
        var dst = Reserve(1 + 4 + key.Length);
        dst[0] = (byte)AofEntryKind.Delete;
        BinaryPrimitives.WriteInt32LittleEndian(dst[1..], key.Length);
        key.AsReadOnlySpan().CopyTo(dst[5..]);
    }

    internal void AddElement(AppendOnlyFile aof, in Values.Paged.ElementRecord record)
    {
        Open(aof);
        WriteElement(Reserve(5 + record.EncodedSize), record);
    }

    /// <summary>A record already encoded as its entry's bytes.</summary>
    internal void AddEncoded(AppendOnlyFile aof, ReadOnlySpan<byte> entry)
    {
        Open(aof);
        entry.CopyTo(Reserve(entry.Length));
    }

    /// <summary>An element record as the bytes of its entry: [Element][length i32][record].</summary>
    internal static void WriteElement(Span<byte> dest, in Values.Paged.ElementRecord record)
    {
        dest[0] = (byte)AofEntryKind.Element;
        int n = record.Encode(dest[5..]);
        BinaryPrimitives.WriteInt32LittleEndian(dest[1..], n);
    }

    private void Open(AppendOnlyFile aof) => OpenIn ??= aof;

    private Span<byte> Reserve(int size)
    {
        if (Length + size > _buffer.Length)
        {
            var grown = new byte[Math.Max(Length + size, Math.Min(_buffer.Length * 2, Array.MaxLength))];
            _buffer.AsSpan(0, Length).CopyTo(grown);
            _buffer = grown;
        }
        var span = _buffer.AsSpan(Length, size);
        Length += size;
        Count++;
        return span;
    }

    /// <summary>Appends what was collected (one record: its plain entry; more: a frame) and empties the frame.</summary>
    /// <param name="current">The store's AOF now: one turned off (and maybe on again) while the command ran
    /// does not take its frame.</param>
    internal void Flush(AppendOnlyFile? current)
    {
        if (OpenIn is { } aof)
        {
            try
            {
                if (Count > 0 && aof == current) aof.AppendFrame(this);
            }
            finally
            {
                OpenIn = null;
            }
        }
        Length = 0;
        Count = 0;
        // A large frame's buffer is not kept by an idle client (as OpSlot's buffers).
        if (_buffer.Length > 64 * 1024) _buffer = new byte[256];
    }

    /// <summary>Length of the record (an entry's bytes) at the start of <paramref name="records"/>.</summary>
    internal static int RecordLength(ReadOnlySpan<byte> records)
    {
        int keyLen = BinaryPrimitives.ReadInt32LittleEndian(records[1..]);
        var kind = (AofEntryKind)records[0];
        if (kind == AofEntryKind.Delete || kind == AofEntryKind.Element) return 5 + keyLen; // an element's is the record's length
        return 5 + keyLen + 4 + BinaryPrimitives.ReadInt32LittleEndian(records[(5 + keyLen)..]);
    }
}
