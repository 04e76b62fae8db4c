using System.Diagnostics;
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
///
/// A failed write (ENOSPC) is never reported to FASTER: its allocator keeps a failed flush as a hole for
/// good (ErrorList) and every later commit fails. The write waits here instead, with every write after
/// it, until <see cref="RetryFailed"/> gets them out; meanwhile the server refuses writes (MISCONF) and
/// the replies that wait for them stay held, so nothing unstored is acknowledged.
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

    /// <summary>
    /// fdatasync after every write (appendfsync always). Off for everysec and no: a write then only
    /// reaches the page cache, which a crashed process does not lose, and <see cref="Sync"/> runs once a
    /// second (everysec) or never (no), as Redis writes its AOF buffer every loop turn and fsyncs apart.
    /// </summary>
    public volatile bool SyncEachWrite = true;

    /// <summary>errno of the write or sync that is failing (0 = none): INFO's aof_last_write_status, MISCONF.</summary>
    public int WriteErrno => _errno;

    /// <summary>Runs (on the thread that saw it) when writes start failing or work again.</summary>
    public Action<int>? WriteStateChanged;

    /// <summary>
    /// The latency monitor's AOF events, as flushAppendOnlyFile samples them: "aof-write" and "aof-write-alone" (or
    /// "aof-write-pending-fsync" while everysec's sync runs) for a write, "aof-fsync-always" for its fdatasync. Called only
    /// for a step of 1 ms or more (latency-monitor-threshold is in whole ms, 0 is off): the caller applies the threshold.
    /// </summary>
    public Action<string, long>? LatencySample;

    private volatile bool _syncing;

    private volatile int _errno;
    private readonly object _failLock = new();
    // Writes that failed (and every write after them, so nothing lands beyond a hole): FASTER never
    // sees the error, which would poison its log for good; they complete when RetryFailed gets them out.
    private readonly List<PendingWrite> _failed = new();
    private volatile bool _failing;

    private readonly record struct PendingWrite(IntPtr Source, int Segment, ulong Offset, uint Length, DeviceIOCompletionCallback Callback, object Context);

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite,
                                    DeviceIOCompletionCallback callback, object context)
    {
        var op = new PendingWrite(sourceAddress, segmentId, destinationAddress, numBytesToWrite, callback, context);
        if (numBytesToWrite <= InlineWriteLimit)
        {
            Write(op);
            return;
        }
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Device.Write(s.Op), (Device: this, Op: op), preferLocal: false);
    }

    private void Write(in PendingWrite op)
    {
        if (_failing && Park(op)) return;
        int errno = TryWrite(op);
        if (errno != 0)
        {
            Fail(op, errno);
            return;
        }
        op.Callback(0, op.Length, op.Context);
    }

    /// <summary>0, or the errno of the failed pwrite/fdatasync.</summary>
    private int TryWrite(in PendingWrite op)
    {
        try
        {
            int fd = (int)Segment(op.Segment).DangerousGetHandle();
            byte* p = (byte*)op.Source;
            long done = 0;
            long start = Stopwatch.GetTimestamp();
            bool pendingFsync = _syncing;
            while (done < op.Length)
            {
                nint n = LibC.PWrite(fd, p + done, (nint)(op.Length - done), (long)op.Offset + done);
                if (n < 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e == LibC.EINTR) continue;
                    return e;
                }
                if (n == 0) return LibC.ENOSPC; // a write that makes no progress: the device is full
                done += n;
            }
            long written = Stopwatch.GetTimestamp();
            if (LatencySample is { } sample && Stopwatch.GetElapsedTime(start, written).TotalMilliseconds >= 1)
            {
                long ms = (long)Stopwatch.GetElapsedTime(start, written).TotalMilliseconds;
                sample(pendingFsync ? "aof-write-pending-fsync" : "aof-write-alone", ms);
                sample("aof-write", ms);
            }
            if (!SyncEachWrite) return 0;
            if (LibC.FDataSync(fd) != 0) return Marshal.GetLastPInvokeError();
            if (LatencySample is { } synced && Stopwatch.GetElapsedTime(written).TotalMilliseconds >= 1)
                synced("aof-fsync-always", (long)Stopwatch.GetElapsedTime(written).TotalMilliseconds);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.HResult > 0 && e.HResult < 4096 ? e.HResult : 5; // EIO
        }
    }

    /// <summary>Queues a write behind the failed ones; false when they were just retried away.</summary>
    private bool Park(in PendingWrite op)
    {
        lock (_failLock)
        {
            if (!_failing) return false;
            _failed.Add(op);
            return true;
        }
    }

    private void Fail(in PendingWrite op, int errno)
    {
        bool first;
        lock (_failLock)
        {
            first = !_failing;
            _failing = true;
            _errno = errno;
            _failed.Add(op);
        }
        if (first) WriteStateChanged?.Invoke(errno);
    }

    /// <summary>
    /// Retries the failed writes in order (the persistence thread, once a second, as Redis retries its
    /// AOF write in serverCron); their completions run once all of them got out. True when none is left.
    /// </summary>
    public bool RetryFailed()
    {
        if (!_failing) return true;
        PendingWrite[] done;
        lock (_failLock)
        {
            for (int i = 0; i < _failed.Count; i++)
            {
                int errno = TryWrite(_failed[i]);
                if (errno != 0)
                {
                    _errno = errno;
                    return false;
                }
            }
            done = _failed.ToArray();
            _failed.Clear();
            _failing = false;
            _errno = 0;
        }
        WriteStateChanged?.Invoke(0);
        foreach (var op in done) op.Callback(0, op.Length, op.Context);
        return true;
    }

    /// <summary>
    /// fdatasync of every open segment (appendfsync everysec, and before switching to always).
    /// A failure holds writes back like a failed write (MISCONF) until a later sync succeeds.
    /// </summary>
    public void Sync()
    {
        _syncing = true;
        try { SyncSegments(); }
        finally { _syncing = false; }
    }

    private void SyncSegments()
    {
        int errno = 0;
        foreach (var handle in _segments.Values)
        {
            // A segment truncated away meanwhile is closed: the reference keeps its fd from being reused.
            bool added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                if (LibC.FDataSync((int)handle.DangerousGetHandle()) != 0) errno = Marshal.GetLastPInvokeError();
            }
            catch (ObjectDisposedException) { }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
        if (errno != 0)
        {
            bool first;
            lock (_failLock)
            {
                first = !_failing && _errno == 0;
                _errno = errno;
            }
            if (first) WriteStateChanged?.Invoke(errno);
        }
        else if (!_failing && _errno != 0)
        {
            _errno = 0;
            WriteStateChanged?.Invoke(0);
        }
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
        if (!SegmentFiles.FindRange(FileName, out int start, out int end)) return;
        startSegment = start;
        endSegment = end;
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
