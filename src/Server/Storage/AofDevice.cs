using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FASTER.core;
using Microsoft.Win32.SafeHandles;
using NativeKv.Interop;

namespace NativeKv.Server.Storage;

/// <summary>
/// The AOF's FASTER device: segment files <c>name.N</c> (the names FASTER's own device uses), each
/// write followed by fdatasync before its completion runs.
///
/// Small writes (a group commit's few sectors) run inline, on the thread that asked for the flush:
/// under <c>appendfsync always</c> that is the reactor ending its turn, which then blocks for the
/// fdatasync as Redis's event loop does, instead of handing the write to a pool thread and waiting
/// for that thread, its completion and a mailbox wake-up (about 18 context switches per commit
/// measured with FASTER's device). Large writes (a full page leaving memory) go to the thread pool,
/// so a reactor never stalls on megabytes. Reads are synchronous (replay and the tail check).
/// </summary>
public sealed unsafe class AofDevice : StorageDeviceBase
{
    /// <summary>Writes up to this size run on the calling thread.</summary>
    public const int InlineWriteLimit = 256 * 1024;

    private readonly ConcurrentDictionary<int, SafeFileHandle> _segments = new();
    private readonly object _openLock = new();
    private volatile bool _disposed;

    public AofDevice(string fileName, bool recover) : base(fileName, AppendOnlyFile.SectorSize, -1)
    {
        if (recover) FindSegments();
    }

    /// <summary>Whether the latest write failed (INFO persistence: aof_last_write_status).</summary>
    public bool LastWriteFailed { get; private set; }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite,
                                    DeviceIOCompletionCallback callback, object context)
    {
        if (numBytesToWrite <= InlineWriteLimit)
        {
            Write(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(_ => Write(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context), null);
    }

    private void Write(IntPtr source, int segmentId, ulong offset, uint length, DeviceIOCompletionCallback callback, object context)
    {
        uint error = 0;
        try
        {
            var handle = Segment(segmentId);
            RandomAccess.Write(handle, new ReadOnlySpan<byte>((void*)source, (int)length), (long)offset);
            if (LibC.FDataSync((int)handle.DangerousGetHandle()) != 0)
                throw new IOException($"fdatasync: {Errno.Describe(Marshal.GetLastPInvokeError())}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            error = 1;
        }
        LastWriteFailed = error != 0;
        callback(error, error == 0 ? length : 0, context);
    }

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength,
                                   DeviceIOCompletionCallback callback, object context)
    {
        uint error = 0, read = 0;
        try
        {
            var handle = Segment(segmentId);
            var buffer = new Span<byte>((void*)destinationAddress, (int)readLength);
            while (read < readLength)
            {
                int n = RandomAccess.Read(handle, buffer[(int)read..], (long)sourceAddress + read);
                if (n <= 0) break;
                read += (uint)n;
            }
            // Past the end of the file reads as zeros, as a sparse preallocated segment would.
            if (read < readLength) buffer[(int)read..].Clear();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            error = 1;
        }
        callback(error, error == 0 ? readLength : 0, context);
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        if (_segments.TryRemove(segment, out var handle)) handle.Dispose();
        try { File.Delete(GetSegmentFilename(FileName, segment)); }
        catch (IOException) { }
        callback(result);
    }

    /// <summary>Removal is synchronous here already: no epoch dance needed to wait for it.</summary>
    public override void RemoveSegment(int segment) => RemoveSegmentAsync(segment, static _ => { }, null!);

    public override long GetFileSize(int segment)
    {
        var info = new FileInfo(GetSegmentFilename(FileName, segment));
        return info.Exists ? info.Length : 0;
    }

    private SafeFileHandle Segment(int id)
    {
        if (_segments.TryGetValue(id, out var handle)) return handle;
        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_segments.TryGetValue(id, out handle)) return handle;
            handle = File.OpenHandle(GetSegmentFilename(FileName, id), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
            _segments[id] = handle;
            return handle;
        }
    }

    /// <summary>The segment range already on disk (what FASTER's own device reports on recovery).</summary>
    private void FindSegments()
    {
        var file = new FileInfo(FileName);
        if (file.Directory is not { Exists: true } dir) return;
        var ids = new List<int>();
        foreach (var f in dir.GetFiles(file.Name + ".*"))
            if (int.TryParse(f.Name.AsSpan(file.Name.Length + 1), out int id) && id >= 0) ids.Add(id);
        if (ids.Count == 0) return;
        ids.Sort();
        // The contiguous run that ends at the newest segment.
        int end = ids.Count - 1, start = end;
        while (start > 0 && ids[start - 1] == ids[start] - 1) start--;
        startSegment = ids[start];
        endSegment = ids[end];
    }

    public override void Dispose()
    {
        lock (_openLock)
        {
            _disposed = true;
            foreach (var handle in _segments.Values) handle.Dispose();
            _segments.Clear();
        }
    }
}
