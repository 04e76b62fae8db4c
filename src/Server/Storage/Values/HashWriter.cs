namespace NativeKv.Server.Storage.Values;

/// <summary>Redis's thresholds for a listpack hash (hash-max-listpack-entries / -value).</summary>
public readonly record struct HashLimits(long MaxListpackEntries, long MaxListpackValue);

/// <summary>
/// A hash's payload, write side: edits a copy of the old payload in a growable pinned buffer (the
/// caller's, so a pending store write may keep pointing into it), one field at a time, and converts
/// Listpack to Hashtable when Redis would (hashTypeTryConversion / hashTypeSet), never back.
/// A look-up scans under <see cref="HashIndex.From"/> fields (as Redis's listpack), else goes through
/// an index built on the first one. A deleted pair of an indexed hash is left in place as dead bytes,
/// closed up in one pass when the payload is read (<see cref="Payload"/>): 100,000 HDELs in one
/// command were minutes of memmove. A set splices in place and keeps the listpack's order. Once the
/// encoding turns Hashtable the caller moves the fields to pages (PagedHashes.Convert): HSET stops
/// editing this copy at that point, so a writer holds at most the thresholds' fields and one command's more.
/// </summary>
public struct HashWriter
{
    private byte[] _buffer;
    private int _length;
    private readonly HashLimits _limits;
    private HashIndex? _index;
    private List<(int Start, int End)>? _dead;

    /// <param name="old">The current payload; empty for a new key.</param>
    /// <param name="buffer">Pinned scratch; replaced by a larger pinned array when it does not fit (read <see cref="Buffer"/>).</param>
    public HashWriter(ReadOnlySpan<byte> old, byte[] buffer, HashLimits limits)
    {
        if (old.IsEmpty) old = Hash.Empty;
        _buffer = buffer;
        _limits = limits;
        _length = 0;
        _index = null;
        _dead = null;
        Ensure(old.Length);
        old.CopyTo(_buffer);
        _length = old.Length;
    }

    public readonly byte[] Buffer => _buffer;

    /// <summary>The edited payload (dead bytes closed up first).</summary>
    public ReadOnlySpan<byte> Payload
    {
        get
        {
            Compact();
            return Raw;
        }
    }

    /// <summary>The buffer as it is, dead pairs included (only the index reads it then).</summary>
    private readonly ReadOnlySpan<byte> Raw => _buffer.AsSpan(0, _length);

    public readonly int Count => Listpack.CountOf(_buffer) / 2;

    public readonly CollectionEncoding Encoding => (CollectionEncoding)_buffer[0];

    public bool TryGet(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        int start = FindPair(field, out _, out _);
        if (start < 0)
        {
            value = default;
            return false;
        }
        Hash.At(Raw, start, out _, out value);
        return true;
    }

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
        int start = FindPair(field, out int end, out int hash);
        if (start >= 0)
        {
            int valueStart = start + Listpack.EntrySize(field.Length);
            int size = Listpack.EntrySize(value.Length);
            int delta = size - (end - valueStart);
            if (delta == 0)
            {
                Listpack.WriteEntry(_buffer.AsSpan(valueStart), value);
                return false;
            }
            // A listpack keeps its order: splice the value in place (dead bytes first closed up).
            if (_dead is { Count: > 0 })
            {
                Compact();
                start = FindPair(field, out end, out hash);
                valueStart = start + Listpack.EntrySize(field.Length);
            }
            Splice(valueStart, end, size);
            _index?.Shift(valueStart, delta);
            Listpack.WriteEntry(_buffer.AsSpan(valueStart), value);
            return false;
        }
        Append(field, value, hash);
        int count = Listpack.CountOf(_buffer) + 2;
        Listpack.WriteHeader(_buffer, Encoding, count);
        if (Encoding == CollectionEncoding.Listpack && count / 2 > _limits.MaxListpackEntries) Convert();
        return true;
    }

    /// <summary>hashTypeDelete: true when the field was there.</summary>
    public bool Delete(ReadOnlySpan<byte> field)
    {
        int start = FindPair(field, out int end, out int hash);
        if (start < 0) return false;
        if (_index is not null) Kill(start, end, hash);
        else Splice(start, end, 0);
        Listpack.WriteHeader(_buffer, Encoding, Listpack.CountOf(_buffer) - 2);
        return true;
    }

    /// <summary>Where the field's pair starts and ends (-1: absent); a large hash gets an index on its first look-up.</summary>
    private int FindPair(ReadOnlySpan<byte> field, out int end, out int hash)
    {
        hash = 0;
        if (_index is null && Count >= HashIndex.From) _index = HashIndex.Build(Raw);
        if (_index is null) return Hash.Find(Raw, field, out end);
        hash = HashIndex.HashOf(field);
        int start = _index.Find(Raw, field, hash);
        end = -1;
        if (start < 0) return -1;
        Hash.At(Raw, start, out var f, out var v);
        end = start + Listpack.EntrySize(f.Length) + Listpack.EntrySize(v.Length);
        return start;
    }

    /// <summary>Writes a pair at the end (the entry count is the caller's).</summary>
    private void Append(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, int hash)
    {
        Ensure(_length + Listpack.EntrySize(field.Length) + Listpack.EntrySize(value.Length));
        int at = _length;
        _length += Listpack.WriteEntry(_buffer.AsSpan(_length), field);
        _length += Listpack.WriteEntry(_buffer.AsSpan(_length), value);
        if (_index is not null && !_index.Add(at, hash))
        {
            Compact();
            _index.Rebuild(Raw);
        }
    }

    /// <summary>The pair [start, end) is dead: out of the index, its bytes closed up by <see cref="Compact"/>.</summary>
    private void Kill(int start, int end, int hash)
    {
        _index!.Remove(start, hash);
        (_dead ??= new()).Add((start, end));
    }

    /// <summary>Closes up the dead pairs in one pass over the payload, then re-indexes it.</summary>
    private void Compact()
    {
        if (_dead is not { Count: > 0 } dead) return;
        dead.Sort(static (a, b) => a.Start.CompareTo(b.Start));
        int write = dead[0].Start;
        for (int i = 0; i < dead.Count; i++)
        {
            int from = dead[i].End, to = i + 1 < dead.Count ? dead[i + 1].Start : _length;
            _buffer.AsSpan(from, to - from).CopyTo(_buffer.AsSpan(write));
            write += to - from;
        }
        _length = write;
        dead.Clear();
        _index?.Rebuild(Raw);
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

    /// <summary>hashTypeConvert: one way; the caller then moves the entries to pages.</summary>
    private readonly void Convert() => _buffer[0] = (byte)CollectionEncoding.Hashtable;

    private void Ensure(int size)
    {
        if (size <= _buffer.Length) return;
        var bigger = GC.AllocateUninitializedArray<byte>(Math.Max(size, Math.Min(_buffer.Length * 2, Array.MaxLength)), pinned: true);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }
}
