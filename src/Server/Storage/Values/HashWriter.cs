namespace NativeKv.Server.Storage.Values;

/// <summary>Redis's thresholds for a listpack hash (hash-max-listpack-entries / -value).</summary>
public readonly record struct HashLimits(long MaxListpackEntries, long MaxListpackValue);

/// <summary>
/// A hash's payload, write side: edits a copy of the old payload in a growable pinned buffer (the
/// caller's, so a pending store write may keep pointing into it), one field at a time, and converts
/// Listpack to Hashtable when Redis would (hashTypeTryConversion / hashTypeSet), never back.
/// Each edit is a scan plus a splice, O(payload) as Redis's listpack; a Hashtable-encoded hash pays
/// the same this round (inline), the paged layout makes it O(page).
/// </summary>
public struct HashWriter
{
    private byte[] _buffer;
    private int _length;
    private readonly HashLimits _limits;

    /// <param name="old">The current payload; empty for a new key.</param>
    /// <param name="buffer">Pinned scratch; replaced by a larger pinned array when it does not fit (read <see cref="Buffer"/>).</param>
    public HashWriter(ReadOnlySpan<byte> old, byte[] buffer, HashLimits limits)
    {
        if (old.IsEmpty) old = Hash.Empty;
        _buffer = buffer;
        _limits = limits;
        _length = 0;
        Ensure(old.Length);
        old.CopyTo(_buffer);
        _length = old.Length;
    }

    public readonly byte[] Buffer => _buffer;

    /// <summary>The edited payload.</summary>
    public readonly ReadOnlySpan<byte> Payload => _buffer.AsSpan(0, _length);

    public readonly int Count => Listpack.CountOf(_buffer) / 2;

    public readonly CollectionEncoding Encoding => (CollectionEncoding)_buffer[0];

    public readonly bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value) => Hash.TryGet(Payload, field, out value);

    /// <summary>
    /// hashTypeTryConversion for arguments the command is about to write: a field or value longer than
    /// hash-max-listpack-value converts the hash, even when the field already exists (as HSET does).
    /// </summary>
    public void ConsiderLength(int length)
    {
        if (Encoding == CollectionEncoding.Listpack && length > _limits.MaxListpackValue) Convert();
    }

    /// <summary>hashTypeSet: inserts or overwrites; true when the field is new.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        ConsiderLength(field.Length);
        ConsiderLength(value.Length);
        int start = Hash.Find(Payload, field, out int end);
        if (start >= 0)
        {
            // Replace the value entry: it starts after the field's entry.
            int valueStart = start + Listpack.EntrySize(field.Length);
            Splice(valueStart, end, Listpack.EntrySize(value.Length));
            Listpack.WriteEntry(_buffer.AsSpan(valueStart), value);
            return false;
        }
        int need = Listpack.EntrySize(field.Length) + Listpack.EntrySize(value.Length);
        Ensure(_length + need);
        _length += Listpack.WriteEntry(_buffer.AsSpan(_length), field);
        _length += Listpack.WriteEntry(_buffer.AsSpan(_length), value);
        int count = Listpack.CountOf(_buffer) + 2;
        Listpack.WriteHeader(_buffer, Encoding, count);
        if (Encoding == CollectionEncoding.Listpack && count / 2 > _limits.MaxListpackEntries) Convert();
        return true;
    }

    /// <summary>hashTypeDelete: true when the field was there.</summary>
    public bool Delete(ReadOnlySpan<byte> field)
    {
        int start = Hash.Find(Payload, field, out int end);
        if (start < 0) return false;
        Splice(start, end, 0);
        Listpack.WriteHeader(_buffer, Encoding, Listpack.CountOf(_buffer) - 2);
        return true;
    }

    /// <summary>The bytes [start, end) become <paramref name="size"/> bytes (contents undefined).</summary>
    private void Splice(int start, int end, int size)
    {
        int delta = size - (end - start);
        if (delta == 0) return;
        Ensure(_length + delta);
        _buffer.AsSpan(end, _length - end).CopyTo(_buffer.AsSpan(start + size));
        _length += delta;
    }

    /// <summary>hashTypeConvert: one way; the entries stay as they are this round (inline).</summary>
    private readonly void Convert() => _buffer[0] = (byte)CollectionEncoding.Hashtable;

    private void Ensure(int size)
    {
        if (size <= _buffer.Length) return;
        var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(size, Math.Min(_buffer.Length * 2, Array.MaxLength)), pinned: true);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }
}
