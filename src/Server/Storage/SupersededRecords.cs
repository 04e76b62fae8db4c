namespace NativeKv.Server.Storage;

/// <summary>
/// Log addresses of page records known to have a newer version, so compaction drops them without asking
/// FASTER. FASTER's lookup compaction tells a record's liveness by walking its key's hash chain down from the
/// newest record to it, and a chain that leaves memory first costs a read from disk per record: loading one
/// hash of 5M fields under maxmemory 32mb, 3.2M of compaction's 5.2M records took that read (a heap copy of the
/// key and value, a pread, a callback), 9% of the server's CPU. A command that rewrites a page knows the
/// address it read the page from; once its write made a new record (a copy, not an update in place), that
/// address is dead for good, and is marked here.
/// <para>
/// A mark is a bit per 32 bytes of log: every page record is longer (54 bytes or more), so no two of them
/// start in one unit, and compaction asks only about page records. Bits exist for a window of the log from
/// its begin (<see cref="WindowBytes"/>, at most 4 MB of bits, allocated as marks come); a mark outside it
/// is dropped, and a record without a mark goes through FASTER's check as before, so a lost mark costs time,
/// never a record. Reactors mark, the compaction thread reads: bits are set with an atomic or, segments are
/// swapped under a lock.
/// </para>
/// </summary>
public sealed class SupersededRecords
{
    private const int UnitShift = 5;
    private const int SegmentShift = 22; // 4 MB of log a segment: 2^17 units, 16 KB of bits
    private const int SegmentCount = 256;
    private const int WordsPerSegment = 1 << (SegmentShift - UnitShift - 6);

    /// <summary>The part of the log, from its begin, that marks are kept for (1 GB).</summary>
    public const long WindowBytes = (long)SegmentCount << SegmentShift;

    private sealed class Segment(long number)
    {
        public readonly long Number = number;
        public readonly ulong[] Bits = new ulong[WordsPerSegment];
    }

    private readonly Segment?[] _ring = new Segment?[SegmentCount];
    private long _floor; // the segment the log's begin is in

    /// <summary>Marks the page record at <paramref name="address"/> as having a newer version of its key.</summary>
    public void Mark(long address)
    {
        if (address <= 0) return;
        long number = address >> SegmentShift;
        var segment = SegmentFor(number);
        if (segment is null) return;
        Interlocked.Or(ref segment.Bits[Word(address)], Bit(address));
    }

    /// <summary>Whether the record at <paramref name="address"/> was marked (only meaningful for a page record).</summary>
    public bool Contains(long address)
    {
        if (address <= 0) return false;
        long number = address >> SegmentShift;
        var segment = Volatile.Read(ref _ring[number & (SegmentCount - 1)]);
        if (segment is null || segment.Number != number) return false;
        return (Volatile.Read(ref segment.Bits[Word(address)]) & Bit(address)) != 0;
    }

    /// <summary>The address's 32-byte unit within its segment: the word of bits it is in, and its bit there.</summary>
    private static int Word(long address) => (int)((address >> (UnitShift + 6)) & (WordsPerSegment - 1));

    private static ulong Bit(long address) => 1UL << (int)((address >> UnitShift) & 63);

    /// <summary>The log now begins at <paramref name="begin"/>: the marks below it go, the window moves up.</summary>
    public void BeginMoved(long begin)
    {
        long floor = begin >> SegmentShift;
        lock (_ring)
        {
            if (floor <= _floor) return;
            Volatile.Write(ref _floor, floor);
            for (int i = 0; i < SegmentCount; i++)
                if (_ring[i] is { } s && s.Number < floor) Volatile.Write(ref _ring[i], null);
        }
    }

    /// <summary>Bytes of bits held (INFO).</summary>
    public long Bytes
    {
        get
        {
            long n = 0;
            for (int i = 0; i < SegmentCount; i++)
                if (Volatile.Read(ref _ring[i]) is not null) n += WordsPerSegment * sizeof(ulong);
            return n;
        }
    }

    private Segment? SegmentFor(long number)
    {
        ref var slot = ref _ring[number & (SegmentCount - 1)];
        var segment = Volatile.Read(ref slot);
        if (segment is not null && segment.Number == number) return segment;
        lock (_ring)
        {
            long floor = _floor;
            if (number < floor || number >= floor + SegmentCount) return null;
            segment = slot;
            if (segment is not null && segment.Number == number) return segment;
            // Inside the window each segment has its own slot: what is there is from below the floor.
            segment = new Segment(number);
            Volatile.Write(ref slot, segment);
            return segment;
        }
    }
}
