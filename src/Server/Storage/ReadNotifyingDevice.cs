using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The store's log device (<see cref="FileDevice"/> underneath) that says when a read has completed: FASTER
/// queues the result for the session that asked and tells no one, so a reactor whose client waits on
/// disk could only poll, and slept a millisecond at a time once its 64 quick polls found nothing. Each
/// of the 543-1,300 new-key SETs of a 5M-key load that read a chain from disk stalled the whole
/// pipeline for that millisecond. A completed write (a page flush) wakes too; everything else passes
/// straight through.
/// </summary>
public sealed class ReadNotifyingDevice : IDevice
{
    private readonly IDevice inner;

    // Our own device calls back after each read, so a read needs no wrapper objects: with reads completing
    // inline on a reactor (FileDevice), that is the whole per-read cost here besides the count.
    private readonly bool _direct;

    public ReadNotifyingDevice(IDevice inner)
    {
        this.inner = inner;
        if (inner is FileDevice file)
        {
            file.AfterRead = ReadDone;
            _direct = true;
        }
    }

    /// <summary>
    /// Counts and wakes. On a reactor whose read completed inline this is one atomic add and a flag read
    /// per reactor: <see cref="Completed"/> rings a reactor's doorbell only while it sleeps waiting on disk.
    /// </summary>
    private void ReadDone()
    {
        Interlocked.Increment(ref Completions);
        Completed?.Invoke();
    }

    /// <summary>Called on the I/O thread after each read completed; cheap and non-blocking.</summary>
    public Action? Completed { get; set; }

    /// <summary>Reads completed so far (a reactor compares it before and after deciding to sleep).</summary>
    public long Completions;

    public uint SectorSize => inner.SectorSize;
    public string FileName => inner.FileName;
    public long Capacity => inner.Capacity;
    public long SegmentSize => inner.SegmentSize;
    public int StartSegment => inner.StartSegment;
    public int EndSegment => inner.EndSegment;
    public int ThrottleLimit { get => inner.ThrottleLimit; set => inner.ThrottleLimit = value; }

    public void Initialize(long segmentSize, LightEpoch? epoch = null, bool omitSegmentIdFromFilename = false)
        => inner.Initialize(segmentSize, epoch, omitSegmentIdFromFilename);

    public bool TryComplete() => inner.TryComplete();
    public bool Throttle() => inner.Throttle();

    // A write's completion wakes too: a command waiting for room at the log's tail (Store.LogHasRoom)
    // goes on once a page flush lands. Writes are page flushes (4 MB and more), so the objects are rare.
    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        DeviceIOCompletionCallback done = new WriteCompletion(this, callback, Started(segmentId * inner.SegmentSize + (long)destinationAddress)).Invoke;
        if (HoldWrites && Hold(() => inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, done, context))) return;
        inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, done, context);
    }

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
    {
        DeviceIOCompletionCallback done = new WriteCompletion(this, callback, Started((long)alignedDestinationAddress)).Invoke;
        if (HoldWrites && Hold(() => inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, done, context))) return;
        inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, done, context);
    }

    private readonly List<long> _writesInFlight = new();
    private long _lowestInFlight = long.MaxValue;

    /// <summary>
    /// Where the lowest write still in flight starts (long.MaxValue: none). The log is flushed at least up
    /// to there once its read-only part is: FASTER keeps its flushed-until address internal.
    /// </summary>
    public long LowestWriteInFlight => Volatile.Read(ref _lowestInFlight);

    private long Started(long start)
    {
        lock (_writesInFlight)
        {
            _writesInFlight.Add(start);
            if (start < _lowestInFlight) Volatile.Write(ref _lowestInFlight, start);
        }
        return start;
    }

    private void Landed(long start)
    {
        lock (_writesInFlight)
        {
            _writesInFlight.Remove(start);
            long lowest = long.MaxValue;
            foreach (long s in _writesInFlight) lowest = Math.Min(lowest, s);
            Volatile.Write(ref _lowestInFlight, lowest);
        }
    }

    private readonly List<Action> _held = new();
    private bool _holdWrites;

    /// <summary>Tests: writes are queued, not issued, while set; clearing it issues them (Store.HoldLogFlushes).</summary>
    internal bool HoldWrites
    {
        get => Volatile.Read(ref _holdWrites);
        set
        {
            Action[] release;
            lock (_held)
            {
                _holdWrites = value;
                if (value) return;
                release = _held.ToArray();
                _held.Clear();
            }
            foreach (var write in release) write();
        }
    }

    private bool Hold(Action write)
    {
        lock (_held)
        {
            if (!_holdWrites) return false;
            _held.Add(write);
            return true;
        }
    }

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, _direct ? callback : new Completion(this, callback).Invoke, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint alignedReadLength, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, alignedReadLength, _direct ? callback : new Completion(this, callback).Invoke, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);
    public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);
    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);
    public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);
    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);
    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);
    public long GetFileSize(int segment) => inner.GetFileSize(segment);
    public void Reset() => inner.Reset();
    public void Dispose() => inner.Dispose();

    /// <summary>FASTER's callback first (it moves its flushed-until address), then the wake-up; not counted as a read.</summary>
    private sealed class WriteCompletion(ReadNotifyingDevice device, DeviceIOCompletionCallback callback, long start)
    {
        public void Invoke(uint errorCode, uint numBytes, object context)
        {
            try
            {
                callback(errorCode, numBytes, context);
            }
            finally
            {
                device.Landed(start);
                device.Completed?.Invoke();
            }
        }
    }

    /// <summary>
    /// FASTER's callback first (it queues the result), then the count and the wake-up: for a device other
    /// than <see cref="FileDevice"/>, one small object per disk read.
    /// </summary>
    private sealed class Completion(ReadNotifyingDevice device, DeviceIOCompletionCallback callback)
    {
        public void Invoke(uint errorCode, uint numBytes, object context)
        {
            try
            {
                callback(errorCode, numBytes, context);
            }
            finally
            {
                device.ReadDone();
            }
        }
    }
}
