using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values;

/// <summary>
/// A set payload being built or edited (the new value of a write): a growable pinned buffer, so a
/// store write that goes to disk may keep pointing into it (the commands retire a buffer whose write
/// went pending). For sets past <see cref="IndexFrom"/> members it keeps a transient hash index of
/// its entries, so a command adding or removing many members is not quadratic.
/// </summary>
public sealed unsafe class SetBuffer
{
    private byte[] _data;
    private int _length;

    // Open addressing over entry offsets + 1 (0 = empty), valid while _indexed.
    private int[] _slots = [];
    private bool _indexed;

    /// <summary>Members from which lookups build the index: 128 x 128 compares was ~20 us.</summary>
    public const int IndexFrom = 128;

    public SetBuffer(int capacity = 256) => _data = GC.AllocateUninitializedArray<byte>(capacity, pinned: true);

    public int Length => _length;
    public int Capacity => _data.Length;
    public ReadOnlySpan<byte> Payload => _data.AsSpan(0, _length);
    public Span<byte> Span => _data.AsSpan(0, _length);

    /// <summary>Address of the payload (the buffer is pinned).</summary>
    public byte* Pointer => (byte*)Unsafe.AsPointer(ref _data[0]);

    /// <summary>Starts a new payload of <paramref name="length"/> bytes (contents undefined).</summary>
    public Span<byte> Reset(int length)
    {
        _indexed = false;
        _length = 0;
        Ensure(length);
        _length = length;
        return _data.AsSpan(0, length);
    }

    /// <summary>Starts from a copy of <paramref name="payload"/>.</summary>
    public void Load(ReadOnlySpan<byte> payload) => payload.CopyTo(Reset(payload.Length));

    public void SetCount(int count) => BinaryPrimitives.WriteInt32LittleEndian(_data.AsSpan(1), count);

    public void SetEncoding(CollectionEncoding encoding) => _data[0] = (byte)encoding;

    /// <summary>Opens <paramref name="count"/> bytes at <paramref name="offset"/>; returns them.</summary>
    public Span<byte> Insert(int offset, int count)
    {
        Ensure(_length + count);
        if (offset < _length) _data.AsSpan(offset, _length - offset).CopyTo(_data.AsSpan(offset + count));
        _length += count;
        if (_indexed && offset < _length - count) _indexed = false;
        return _data.AsSpan(offset, count);
    }

    public void Delete(int offset, int count)
    {
        _data.AsSpan(offset + count, _length - offset - count).CopyTo(_data.AsSpan(offset));
        _length -= count;
        _indexed = false;
    }

    public void Truncate(int length)
    {
        _length = length;
        _indexed = false;
    }

    private void Ensure(int size)
    {
        if (size <= _data.Length) return;
        var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(size, (int)Math.Min(_data.Length * 2L, Array.MaxLength)), pinned: true);
        _data.AsSpan(0, _length).CopyTo(bigger);
        _data = bigger;
    }

    // ------------------------------------------------------------ entries (listpack / hashtable)

    /// <summary>Offset of the entry equal to <paramref name="member"/>, or -1.</summary>
    public int FindEntry(ReadOnlySpan<byte> member)
    {
        int count = Listpack.CountOf(Payload);
        if (count < IndexFrom) return Set.FindEntry(Payload, member);
        if (!_indexed) BuildIndex(count);
        int mask = _slots.Length - 1;
        for (int i = (int)Hash(member) & mask; ; i = (i + 1) & mask)
        {
            int s = _slots[i];
            if (s == 0) return -1;
            if (EntryAt(s - 1).SequenceEqual(member)) return s - 1;
        }
    }

    /// <summary>Appends an entry (the caller checked it is absent) and counts it.</summary>
    public void AppendEntry(ReadOnlySpan<byte> member)
    {
        int count = Listpack.CountOf(Payload);
        int offset = _length;
        bool keep = _indexed;
        Listpack.WriteEntry(Insert(_length, Listpack.EntrySize(member.Length)), member);
        SetCount(count + 1);
        _indexed = keep;
        if (_indexed)
        {
            if ((count + 1) * 2 > _slots.Length) _indexed = false;
            else Place(offset, member);
        }
    }

    /// <summary>Removes the entry at <paramref name="offset"/> and uncounts it.</summary>
    public void DeleteEntry(int offset)
    {
        var r = new Listpack.Reader(Payload[(offset - Listpack.HeaderSize)..]);
        r.Next(out _);
        int size = r.Offset - Listpack.HeaderSize;
        int count = Listpack.CountOf(Payload);
        Delete(offset, size);
        SetCount(count - 1);
    }

    private ReadOnlySpan<byte> EntryAt(int offset)
    {
        var r = new Listpack.Reader(Payload[(offset - Listpack.HeaderSize)..]);
        r.Next(out var entry);
        return entry;
    }

    private void BuildIndex(int count)
    {
        int size = 256;
        while (size < count * 4) size <<= 1;
        if (_slots.Length != size) _slots = new int[size];
        else Array.Clear(_slots);
        var r = new Listpack.Reader(Payload);
        int offset = r.Offset;
        while (r.Next(out var entry))
        {
            Place(offset, entry);
            offset = r.Offset;
        }
        _indexed = true;
    }

    private void Place(int offset, ReadOnlySpan<byte> member)
    {
        int mask = _slots.Length - 1;
        int i = (int)Hash(member) & mask;
        while (_slots[i] != 0) i = (i + 1) & mask;
        _slots[i] = offset + 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint Hash(ReadOnlySpan<byte> member)
    {
        fixed (byte* p = member) return (uint)KeyComparer.Hash(p, member.Length);
    }
}
