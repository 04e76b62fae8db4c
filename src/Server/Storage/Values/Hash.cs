namespace NativeKv.Server.Storage.Values;

/// <summary>
/// An inline hash's payload, read side: the only code that knows how fields and values are laid out
/// (commands never parse a payload): the <see cref="Listpack"/> format, field, value, field, value...,
/// under encoding Listpack. Past Redis's thresholds a hash is paged (its payload a
/// <see cref="Paged.PagedRoot"/>, read through <see cref="Paged.PagedHash"/>); an inline payload marked
/// Hashtable is only ever a writer's result on its way to pages (or one a build before pages stored).
/// </summary>
public static class Hash
{
    /// <summary>The payload of an empty listpack hash (what a new key starts from).</summary>
    public static ReadOnlySpan<byte> Empty => [(byte)CollectionEncoding.Listpack, 0, 0, 0, 0];

    public static CollectionEncoding EncodingOf(ReadOnlySpan<byte> payload) => Listpack.EncodingOf(payload);

    /// <summary>Fields in the hash (the payload counts entries, two a field).</summary>
    public static int Count(ReadOnlySpan<byte> payload) => Listpack.CountOf(payload) / 2;

    /// <summary>HGET: the value of <paramref name="field"/>; false when the hash has no such field.</summary>
    public static bool TryGet(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        var r = new Listpack.Reader(payload);
        while (r.Next(out var f))
        {
            r.Next(out value);
            if (f.SequenceEqual(field)) return true;
        }
        value = default;
        return false;
    }

    /// <summary>Where <paramref name="field"/>'s entry starts and its value's entry ends; -1 when absent.</summary>
    internal static int Find(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> field, out int end)
    {
        var r = new Listpack.Reader(payload);
        while (true)
        {
            int start = r.Offset;
            if (!r.Next(out var f)) break;
            r.Next(out _);
            if (f.SequenceEqual(field))
            {
                end = r.Offset;
                return start;
            }
        }
        end = -1;
        return -1;
    }

    public static Enumerator Enumerate(ReadOnlySpan<byte> payload) => new(payload);

    /// <summary>The fields in order (insertion order, as a listpack's), each with its value.</summary>
    public ref struct Enumerator
    {
        private Listpack.Reader _reader;

        public Enumerator(ReadOnlySpan<byte> payload) => _reader = new Listpack.Reader(payload);

        /// <summary>Offset of the next pair (for <see cref="At"/>: random picks remember offsets).</summary>
        public readonly int Offset => _reader.Offset;

        public bool Next(out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
        {
            if (!_reader.Next(out field))
            {
                value = default;
                return false;
            }
            _reader.Next(out value);
            return true;
        }
    }

    /// <summary>The pair whose entry starts at <paramref name="offset"/> (an <see cref="Enumerator.Offset"/>).</summary>
    public static void At(ReadOnlySpan<byte> payload, int offset, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        var r = new Listpack.Reader(payload[(offset - Listpack.HeaderSize)..]);
        r.Next(out field);
        r.Next(out value);
    }

    /// <summary>The offsets of every pair, in order, into <paramref name="dest"/> (Count(payload) long).</summary>
    public static void Offsets(ReadOnlySpan<byte> payload, Span<int> dest)
    {
        var e = new Enumerator(payload);
        int i = 0;
        while (i < dest.Length)
        {
            int at = e.Offset;
            if (!e.Next(out _, out _)) break;
            dest[i++] = at;
        }
    }

    /// <summary>Many look-ups in one payload (HMGET): past <see cref="HashIndex.From"/> fields they go through an index.</summary>
    public readonly struct Lookups
    {
        private readonly HashIndex? _index;

        public Lookups(ReadOnlySpan<byte> payload, int lookups) =>
            _index = lookups > 4 && Count(payload) >= HashIndex.From ? HashIndex.Build(payload) : null;

        public bool TryGet(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
        {
            if (_index is null) return Hash.TryGet(payload, field, out value);
            int at = _index.Find(payload, field, HashIndex.HashOf(field));
            if (at < 0)
            {
                value = default;
                return false;
            }
            At(payload, at, out _, out value);
            return true;
        }
    }
}
