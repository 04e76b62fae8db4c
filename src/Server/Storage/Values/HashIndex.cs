namespace NativeKv.Server.Storage.Values;

/// <summary>
/// A hash table over one payload's pairs (field hash -> pair offset), for edits and lookups of many
/// fields in a large inline hash: an HSET of 100,000 new fields scanned the growing payload once
/// per field (O(n^2), tens of seconds on the reactor); with the index each field costs O(1).
/// Linear probing; a removed pair leaves a tombstone. Reused per thread, so steady state allocates nothing.
/// </summary>
internal sealed class HashIndex
{
    /// <summary>Below this many fields a scan is as fast as hashing (listpacks of Redis's default 512 at most still scan up to 64).</summary>
    public const int From = 64;

    private const int Empty = 0, Tombstone = -1;

    [ThreadStatic] private static HashIndex? t_shared;

    private int[] _offsets = [];
    private int[] _hashes = [];
    private int _mask;
    private int _used; // live + tombstones

    /// <summary>The thread's index, built over <paramref name="payload"/>.</summary>
    public static HashIndex Build(ReadOnlySpan<byte> payload)
    {
        var index = t_shared ??= new HashIndex();
        index.Rebuild(payload);
        return index;
    }

    public static int HashOf(ReadOnlySpan<byte> field)
    {
        var h = new HashCode();
        h.AddBytes(field);
        return h.ToHashCode();
    }

    public void Rebuild(ReadOnlySpan<byte> payload)
    {
        int count = Hash.Count(payload);
        int size = 16;
        while (size < count * 2 + 16) size <<= 1;
        // A table 4x too large for this hash is dropped: a thread keeps at most its largest recent hash's.
        if (_offsets.Length < size || _offsets.Length > size * 4)
        {
            _offsets = new int[size];
            _hashes = new int[size];
        }
        else
        {
            Array.Clear(_offsets);
            size = _offsets.Length;
        }
        _mask = size - 1;
        _used = 0;
        var e = Hash.Enumerate(payload);
        while (true)
        {
            int at = e.Offset;
            if (!e.Next(out var f, out _)) break;
            Add(at, HashOf(f));
        }
    }

    /// <summary>Offset of <paramref name="field"/>'s pair in <paramref name="payload"/>, -1 when absent.</summary>
    public int Find(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> field, int hash)
    {
        for (int i = hash & _mask; ; i = (i + 1) & _mask)
        {
            int o = _offsets[i];
            if (o == Empty) return -1;
            if (o != Tombstone && _hashes[i] == hash)
            {
                Hash.At(payload, o - 1, out var f, out _);
                if (f.SequenceEqual(field)) return o - 1;
            }
        }
    }

    /// <summary>Records a pair at <paramref name="offset"/>; false when the table is too full (rebuild it).</summary>
    public bool Add(int offset, int hash)
    {
        if ((_used + 1) * 2 > _offsets.Length) return false;
        int i = hash & _mask;
        while (_offsets[i] > 0) i = (i + 1) & _mask;
        if (_offsets[i] == Empty) _used++;
        _offsets[i] = offset + 1;
        _hashes[i] = hash;
        return true;
    }

    public void Remove(int offset, int hash)
    {
        for (int i = hash & _mask; _offsets[i] != Empty; i = (i + 1) & _mask)
        {
            if (_offsets[i] == offset + 1)
            {
                _offsets[i] = Tombstone;
                return;
            }
        }
    }

    /// <summary>Pairs after <paramref name="from"/> moved by <paramref name="delta"/> bytes (a splice before them).</summary>
    public void Shift(int from, int delta)
    {
        var offsets = _offsets;
        for (int i = 0; i < offsets.Length; i++)
        {
            if (offsets[i] > from + 1) offsets[i] += delta;
        }
    }
}
