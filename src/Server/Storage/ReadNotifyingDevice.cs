using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The store's log device, FASTER's own underneath, that says when a read has completed: FASTER
/// queues the result for the session that asked and tells no one, so a reactor whose client waits on
/// disk could only poll, and slept a millisecond at a time once its 64 quick polls found nothing. Each
/// of the 543-1,300 new-key SETs of a 5M-key load that read a chain from disk stalled the whole
/// pipeline for that millisecond. Writes and everything else pass straight through.
/// </summary>
public sealed class ReadNotifyingDevice(IDevice inner) : IDevice
{
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

    public void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        => inner.WriteAsync(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);

    public void WriteAsync(IntPtr alignedSourceAddress, ulong alignedDestinationAddress, uint numBytesToWrite, DeviceIOCompletionCallback callback, object context)
        => inner.WriteAsync(alignedSourceAddress, alignedDestinationAddress, numBytesToWrite, callback, context);

    public void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(segmentId, sourceAddress, destinationAddress, readLength, new Completion(this, callback).Invoke, context);

    public void ReadAsync(ulong alignedSourceAddress, IntPtr alignedDestinationAddress, uint alignedReadLength, DeviceIOCompletionCallback callback, object context)
        => inner.ReadAsync(alignedSourceAddress, alignedDestinationAddress, alignedReadLength, new Completion(this, callback).Invoke, context);

    public void TruncateUntilAddressAsync(long toAddress, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilAddressAsync(toAddress, callback, result);
    public void TruncateUntilAddress(long toAddress) => inner.TruncateUntilAddress(toAddress);
    public void TruncateUntilSegmentAsync(int toSegment, AsyncCallback callback, IAsyncResult result) => inner.TruncateUntilSegmentAsync(toSegment, callback, result);
    public void TruncateUntilSegment(int toSegment) => inner.TruncateUntilSegment(toSegment);
    public void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result) => inner.RemoveSegmentAsync(segment, callback, result);
    public void RemoveSegment(int segment) => inner.RemoveSegment(segment);
    public long GetFileSize(int segment) => inner.GetFileSize(segment);
    public void Reset() => inner.Reset();
    public void Dispose() => inner.Dispose();

    /// <summary>
    /// FASTER's callback first (it queues the result), then the count and the wake-up. One small
    /// object per disk read, beside the pool thread and system call the read itself costs.
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
                Interlocked.Increment(ref device.Completions);
                device.Completed?.Invoke();
            }
        }
    }
}
