namespace NativeKv.Server.Storage.Values;

/// <summary>
/// A sorted set payload being built or edited (the new value of a write), in the <see cref="SortedSet"/>
/// layout: a pinned <see cref="SetBuffer"/> (a pending store write may keep pointing into it) plus the
/// offset of every entry, so ranks, binary searches by score and range deletes cost no parse. An insert
/// or delete moves the bytes after it, as Redis's listpack does.
/// </summary>
public sealed unsafe class SortedSetBuilder
{
    private SetBuffer _buf = new();
    // _offsets[i] = offset of entry i; _offsets[_count] = payload end.
    private int[] _offsets = new int[65];
    private int _count;

    public int Count => _count;
    public int Length => _buf.Length;
    public int Capacity => _buf.Capacity;
    public ReadOnlySpan<byte> Payload => _buf.Payload;
    public byte* Pointer => _buf.Pointer;

    public CollectionEncoding Encoding
    {
        get => SortedSet.EncodingOf(_buf.Payload);
        set => _buf.SetEncoding(value);
    }

    /// <summary>Starts an empty set in <paramref name="encoding"/>.</summary>
    public void Create(CollectionEncoding encoding)
    {
        Listpack.WriteHeader(_buf.Reset(SortedSet.HeaderSize), encoding, 0);
        _count = 0;
        _offsets[0] = SortedSet.HeaderSize;
    }

    /// <summary>Starts from a copy of <paramref name="payload"/>.</summary>
    public void Load(ReadOnlySpan<byte> payload)
    {
        _buf.Load(payload);
        _count = SortedSet.Count(payload);
        EnsureOffsets(_count + 1);
        var r = new SortedSet.Reader(_buf.Payload);
        int i = 0;
        _offsets[0] = r.Offset;
        while (r.Next(out _, out _)) _offsets[++i] = r.Offset;
    }

    public void MemberAt(int rank, out ReadOnlySpan<byte> member, out double score)
    {
        var r = new SortedSet.Reader(_buf.Payload, _offsets[rank]);
        r.Next(out member, out score);
    }

    public double ScoreAt(int rank)
    {
        MemberAt(rank, out _, out double score);
        return score;
    }

    /// <summary>The rank of <paramref name="member"/> and its score, or -1 (a scan: members are ordered by score).</summary>
    public int Find(ReadOnlySpan<byte> member, out double score)
    {
        for (int i = 0; i < _count; i++)
        {
            MemberAt(i, out var m, out score);
            if (m.SequenceEqual(member)) return i;
        }
        score = 0;
        return -1;
    }

    /// <summary>The rank <paramref name="member"/> with <paramref name="score"/> would take (first entry ordered after it).</summary>
    public int InsertionRank(ReadOnlySpan<byte> member, double score)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            MemberAt(mid, out var m, out double s);
            if (SortedSet.Compare(s, m, score, member) < 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    /// <summary>Inserts a member known to be absent, at its place (zzlInsert).</summary>
    public void Insert(ReadOnlySpan<byte> member, double score) => InsertAt(InsertionRank(member, score), member, score);

    /// <summary>Appends a member ordered after every entry (the caller builds from a sorted run).</summary>
    public void Append(ReadOnlySpan<byte> member, double score) => InsertAt(_count, member, score);

    private void InsertAt(int rank, ReadOnlySpan<byte> member, double score)
    {
        // Redis 7.2's listpack keeps an integral score as an integer, so -0 reads back as 0 (its skiplist keeps -0).
        if (score == 0 && Encoding == CollectionEncoding.Listpack) score = 0.0;
        int size = SortedSet.EntrySize(member.Length);
        int at = _offsets[rank];
        SortedSet.WriteEntry(_buf.Insert(at, size), member, score);
        EnsureOffsets(_count + 2);
        Array.Copy(_offsets, rank, _offsets, rank + 1, _count + 1 - rank);
        for (int i = rank + 1; i <= _count + 1; i++) _offsets[i] += size;
        _count++;
        _buf.SetCount(_count);
    }

    public void RemoveAt(int rank) => RemoveRange(rank, 1);

    /// <summary>Removes <paramref name="n"/> entries from <paramref name="start"/> (zzlDeleteRangeByRank).</summary>
    public void RemoveRange(int start, int n)
    {
        if (n <= 0) return;
        int from = _offsets[start], to = _offsets[start + n], size = to - from;
        _buf.Delete(from, size);
        for (int i = start + n; i <= _count; i++) _offsets[i - n] = _offsets[i] - size;
        _count -= n;
        _buf.SetCount(_count);
    }

    /// <summary>Changes the score of the member at <paramref name="rank"/>, moving it to its new place.</summary>
    public void UpdateScore(int rank, double score)
    {
        MemberAt(rank, out var m, out _);
        // Copy the member out: its bytes move with the delete.
        Span<byte> tmp = m.Length <= 256 ? stackalloc byte[m.Length] : new byte[m.Length];
        m.CopyTo(tmp);
        RemoveAt(rank);
        Insert(tmp, score);
    }

    /// <summary>A set far past the steady state does not keep its megabytes between commands.</summary>
    public void Shrink()
    {
        if (_buf.Capacity > 1 << 20) _buf = new SetBuffer();
        if (_offsets.Length > 1 << 16) _offsets = new int[65];
    }

    private void EnsureOffsets(int n)
    {
        if (_offsets.Length < n) Array.Resize(ref _offsets, Math.Max(n, _offsets.Length * 2));
    }
}
