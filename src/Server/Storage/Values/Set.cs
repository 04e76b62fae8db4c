using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values;

/// <summary>The encoding thresholds of sets (set-max-intset-entries, set-max-listpack-entries/-value).</summary>
public readonly struct SetLimits(long intsetEntries, long listpackEntries, long listpackValue)
{
    /// <summary>intsetMaxEntries: capped at 2^30, as Redis ("intset internals").</summary>
    public long IntsetEntries { get; } = Math.Min(intsetEntries, 1L << 30);
    public long ListpackEntries { get; } = listpackEntries;
    public long ListpackValue { get; } = listpackValue;
}

/// <summary>
/// A set's operations over its inline payload, as Redis's setType* functions (t_set.c) over its three
/// encodings: <see cref="CollectionEncoding.IntSet"/> (<see cref="IntSet"/>), <see cref="CollectionEncoding.Listpack"/>
/// (members in insertion order, <see cref="Listpack"/>'s entries) and <see cref="CollectionEncoding.Hashtable"/>
/// (the same entries, only ever in a buffer being built: a set that reaches it is written as a paged set,
/// <c>PagedSets</c> in Commands).
/// Conversions follow Redis 7.2: intset -> listpack when a non-integer arrives and the set still fits
/// one, else -> hashtable; listpack -> hashtable past the thresholds; never back, except
/// <see cref="MaybeConvertToIntset"/> (SINTERSTORE of integers). Commands never parse a payload.
/// </summary>
public static class Set
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CollectionEncoding EncodingOf(ReadOnlySpan<byte> payload) => (CollectionEncoding)payload[0];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Count(ReadOnlySpan<byte> payload) => Listpack.CountOf(payload);

    /// <summary>What OBJECT ENCODING answers.</summary>
    public static string EncodingName(ReadOnlySpan<byte> payload) => EncodingOf(payload) switch
    {
        CollectionEncoding.IntSet => "intset",
        CollectionEncoding.Listpack => "listpack",
        _ => "hashtable",
    };

    /// <summary>string2ll: the member as an intset holds it (canonical decimal, fits a long).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool TryInteger(ReadOnlySpan<byte> member, out long value) => NumberFormat.TryParseLong(member, out value);

    /// <summary>setTypeIsMember.</summary>
    public static bool IsMember(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> member)
    {
        if (EncodingOf(payload) == CollectionEncoding.IntSet)
            return TryInteger(member, out long v) && IntSet.Contains(payload, v);
        return FindEntry(payload, member) >= 0;
    }

    /// <summary>Offset of the entry equal to <paramref name="member"/> in a listpack or hashtable payload, or -1.</summary>
    public static int FindEntry(ReadOnlySpan<byte> payload, ReadOnlySpan<byte> member)
    {
        var r = new Listpack.Reader(payload);
        int offset = r.Offset;
        while (r.Next(out var entry))
        {
            if (entry.Length == member.Length && entry.SequenceEqual(member)) return offset;
            offset = r.Offset;
        }
        return -1;
    }

    // ------------------------------------------------------------ writes (into a SetBuffer)

    /// <summary>
    /// setTypeCreate: an empty set able to hold <paramref name="first"/>, sized for <paramref name="sizeHint"/>
    /// members: intset when it is an integer and the hint fits one, else listpack when the hint fits, else hashtable.
    /// </summary>
    public static void Create(SetBuffer buf, ReadOnlySpan<byte> first, long sizeHint, in SetLimits limits)
    {
        if (TryInteger(first, out _) && sizeHint <= limits.IntsetEntries) IntSet.Create(buf);
        else CreateEmpty(buf, sizeHint <= limits.ListpackEntries ? CollectionEncoding.Listpack : CollectionEncoding.Hashtable);
    }

    /// <summary>An empty set of <paramref name="encoding"/> (the result sets of SINTERSTORE, SUNIONSTORE...).</summary>
    public static void CreateEmpty(SetBuffer buf, CollectionEncoding encoding)
    {
        if (encoding == CollectionEncoding.IntSet) IntSet.Create(buf);
        else Listpack.WriteHeader(buf.Reset(Listpack.HeaderSize), encoding, 0);
    }

    /// <summary>setTypeMaybeConvert: to hashtable at once when <paramref name="sizeHint"/> members will not fit.</summary>
    public static void MaybeConvert(SetBuffer buf, long sizeHint, in SetLimits limits)
    {
        var e = EncodingOf(buf.Payload);
        if ((e == CollectionEncoding.Listpack && sizeHint > limits.ListpackEntries) ||
            (e == CollectionEncoding.IntSet && sizeHint > limits.IntsetEntries))
            ConvertToEntries(buf, CollectionEncoding.Hashtable);
    }

    /// <summary>setTypeAdd: false when the member was there already.</summary>
    public static bool Add(SetBuffer buf, ReadOnlySpan<byte> member, in SetLimits limits)
    {
        var e = EncodingOf(buf.Payload);
        if (e == CollectionEncoding.IntSet)
        {
            if (TryInteger(member, out long v))
            {
                if (!IntSet.Add(buf, v)) return false;
                // maybeConvertIntset: an intset past its limit becomes a hashtable (never a listpack).
                if (Count(buf.Payload) > limits.IntsetEntries) ConvertToEntries(buf, CollectionEncoding.Hashtable);
                return true;
            }
            var p = buf.Payload;
            int n = Count(p);
            int maxDigits = IntSet.MaxDigits(p);
            bool fits = n < limits.ListpackEntries && member.Length <= limits.ListpackValue && maxDigits <= limits.ListpackValue;
            ConvertToEntries(buf, fits ? CollectionEncoding.Listpack : CollectionEncoding.Hashtable);
            buf.AppendEntry(member);
            return true;
        }
        if (buf.FindEntry(member) >= 0) return false;
        if (e == CollectionEncoding.Listpack &&
            (Count(buf.Payload) >= limits.ListpackEntries || member.Length > limits.ListpackValue))
            buf.SetEncoding(CollectionEncoding.Hashtable);
        buf.AppendEntry(member);
        return true;
    }

    /// <summary>setTypeRemove: false when the member was not there. The encoding stays.</summary>
    public static bool Remove(SetBuffer buf, ReadOnlySpan<byte> member)
    {
        if (EncodingOf(buf.Payload) == CollectionEncoding.IntSet)
            return TryInteger(member, out long v) && IntSet.Remove(buf, v);
        int offset = buf.FindEntry(member);
        if (offset < 0) return false;
        buf.DeleteEntry(offset);
        return true;
    }

    /// <summary>Removes the members at the ascending <paramref name="ordinals"/> (SPOP), in one pass.</summary>
    public static void RemoveAt(SetBuffer buf, ReadOnlySpan<int> ordinals)
    {
        if (EncodingOf(buf.Payload) == CollectionEncoding.IntSet)
        {
            IntSet.RemoveAt(buf, ordinals);
            return;
        }
        var span = buf.Span;
        int count = Count(span);
        var r = new Listpack.Reader(span);
        int write = Listpack.HeaderSize, next = 0, ordinal = 0, from = r.Offset;
        while (r.Next(out _))
        {
            int end = r.Offset;
            if (next < ordinals.Length && ordinals[next] == ordinal) next++;
            else
            {
                if (from != write) span[from..end].CopyTo(span[write..]);
                write += end - from;
            }
            from = end;
            ordinal++;
        }
        buf.Truncate(write);
        buf.SetCount(count - ordinals.Length);
    }

    /// <summary>
    /// setTypeConvert from an intset: its members as entries (ascending, as Redis iterates it); from a
    /// listpack to a hashtable only the encoding changes (same entries inline this round).
    /// </summary>
    public static void ConvertToEntries(SetBuffer buf, CollectionEncoding encoding)
    {
        var p = buf.Payload;
        if (EncodingOf(p) != CollectionEncoding.IntSet)
        {
            buf.SetEncoding(encoding);
            return;
        }
        int n = Count(p);
        int size = Listpack.HeaderSize;
        for (int i = 0; i < n; i++) size += 1 + NumberFormat.DigitCount(IntSet.Get(p, i));
        var tmp = new byte[size];
        Listpack.WriteHeader(tmp, encoding, n);
        int at = Listpack.HeaderSize;
        Span<byte> digits = stackalloc byte[24];
        for (int i = 0; i < n; i++)
        {
            int len = NumberFormat.FormatLong(IntSet.Get(p, i), digits);
            at += Listpack.WriteEntry(tmp.AsSpan(at), digits[..len]);
        }
        buf.Load(tmp);
    }

    /// <summary>maybeConvertToIntset: an all-integer set that fits one becomes an intset (SINTERSTORE).</summary>
    public static void MaybeConvertToIntset(SetBuffer buf, in SetLimits limits)
    {
        var p = buf.Payload;
        if (EncodingOf(p) == CollectionEncoding.IntSet || Count(p) > limits.IntsetEntries) return;
        var r = new Listpack.Reader(p);
        while (r.Next(out var entry))
        {
            if (!TryInteger(entry, out _)) return;
        }
        var copy = p.ToArray();
        IntSet.Create(buf);
        r = new Listpack.Reader(copy);
        while (r.Next(out var entry))
        {
            TryInteger(entry, out long v);
            IntSet.Add(buf, v);
        }
    }

    // ------------------------------------------------------------ reads

    /// <summary>
    /// The members in the set's order (intset ascending, listpack as inserted). An intset member is
    /// formatted into the caller's <c>scratch</c> (at least 20 bytes).
    /// </summary>
    public ref struct Enumerator
    {
        private readonly ReadOnlySpan<byte> _payload;
        private readonly Span<byte> _scratch;
        private readonly bool _ints;
        private readonly int _count;
        private int _index;
        private Listpack.Reader _reader;

        public Enumerator(ReadOnlySpan<byte> payload, Span<byte> scratch)
        {
            _payload = payload;
            _scratch = scratch;
            _ints = EncodingOf(payload) == CollectionEncoding.IntSet;
            _count = Count(payload);
            _index = 0;
            _reader = new Listpack.Reader(_ints ? default : payload);
        }

        public bool Next(out ReadOnlySpan<byte> member)
        {
            if (!_ints)
            {
                _index++;
                return _reader.Next(out member);
            }
            if (_index >= _count)
            {
                member = default;
                return false;
            }
            int len = NumberFormat.FormatLong(IntSet.Get(_payload, _index++), _scratch);
            member = _scratch[..len];
            return true;
        }
    }

    /// <summary>
    /// Members by ordinal, for random picks: built once per payload (offsets of the entries), then
    /// O(1) a member. One per reactor; <see cref="Build"/> must see the payload later calls pass.
    /// </summary>
    public sealed class Locator
    {
        private int[] _offsets = new int[64];
        private bool _ints;

        public void Build(ReadOnlySpan<byte> payload)
        {
            _ints = EncodingOf(payload) == CollectionEncoding.IntSet;
            if (_ints) return;
            int n = Count(payload);
            // A big set's table (64k members: 256 KB) is not kept for the small ones after it.
            if (_offsets.Length < n) _offsets = new int[Math.Max(n, _offsets.Length * 2)];
            else if (_offsets.Length > 65536 && n <= 65536) _offsets = new int[Math.Max(n, 64)];
            var r = new Listpack.Reader(payload);
            int i = 0, offset = r.Offset;
            while (r.Next(out _))
            {
                _offsets[i++] = offset;
                offset = r.Offset;
            }
        }

        public ReadOnlySpan<byte> MemberAt(ReadOnlySpan<byte> payload, int ordinal, Span<byte> scratch)
        {
            if (_ints) return scratch[..NumberFormat.FormatLong(IntSet.Get(payload, ordinal), scratch)];
            var r = new Listpack.Reader(payload[(_offsets[ordinal] - Listpack.HeaderSize)..]);
            r.Next(out var entry);
            return entry;
        }
    }

    /// <summary>
    /// SSCAN over an inline set: every member in one step (cursor 0 after it), as Redis answers a listpack
    /// or an intset. (A hashtable is paged: its SSCAN walks buckets, <c>PagedHash.Scan</c>.)
    /// </summary>
    public static void ScanWhole(ReadOnlySpan<byte> payload, SetBuffer result)
    {
        CreateEmpty(result, CollectionEncoding.Listpack);
        Span<byte> scratch = stackalloc byte[24];
        var e = new Enumerator(payload, scratch);
        while (e.Next(out var m)) result.AppendEntry(m);
    }
}
