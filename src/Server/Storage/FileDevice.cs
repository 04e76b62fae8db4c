using FASTER.core;
using NativeKv.Interop;

namespace NativeKv.Server.Storage;

/// <summary>
/// The store's log device: segment files <c>{FileName}.{segment}</c>, as FASTER's own device names them,
/// so a data directory opens with either.
///
/// Reads try <c>preadv2(RWF_NOWAIT)</c> on the calling thread first: a page-cache hit (almost every read
/// of a 2M-field paged load under 32 MB: 1.04M reads) completes there and then, callback included.
/// FASTER's own device sent each read through Task.Run to a pool thread doing Seek + ReadAsync under a
/// lock: 22% of the server's CPU in that load, 6% more in context switches. FASTER registers a read as
/// pending before it issues it (record reads, the hash-chain walk that re-reads from inside the
/// callback, scan frames, recovery pages), so a callback that runs before ReadAsync returns is safe.
/// A miss (EAGAIN, or a short read short of the end of the file) goes on with a blocking pread on one of
/// <see cref="ReadThreads"/> threads, so the 64 reads a command may have in flight reach the disk several
/// at a time. Threads, not io_uring: a buffered read that misses is handed by io_uring to kernel worker
/// threads anyway, and FASTER's callback needs a thread of ours to run on.
///
/// Writes (page flushes, 4 MB and more) never run on the caller: a write thread does the pwrite, on an
/// fd opened O_DSYNC, so a completed write is on the disk as with FASTER's WriteThrough files (its
/// checkpoints count on that; IDevice has no flush). pwrite + fdatasync measured the same (dd, 50 x 4 MB:
/// 0.28-0.56 s either way), and O_DSYNC is one call.
/// </summary>
public sealed unsafe class FileDevice : StorageDeviceBase
{
    /// <summary>Threads doing the reads the page cache could not answer.</summary>
    public const int ReadThreads = 4;

    /// <summary>Page flushes go out one at a time: they are sequential at the log's tail.</summary>
    public const int WriteThreads = 1;

    /// <summary>Larger reads (whole pages for a scan) go to the read threads: a megabyte copied is 100 µs or more.</summary>
    public const uint InlineReadLimit = 256 * 1024;

    /// <summary>A hash-chain walk re-reads from inside the callback: past this depth the next read goes to a thread.</summary>
    private const int MaxInlineDepth = 8;

    [ThreadStatic] private static int t_inlineDepth;

    private readonly object _lock = new();
    private SegmentFile?[] _segments = new SegmentFile?[16]; // by segment id; replaced whole when it grows
    private volatile bool _disposed;
    private volatile bool _nowaitWorks = true;
    private readonly IoThreads _reads, _writes;
    private int _pendingReads;

    /// <summary>Reads completed on the calling thread / on a read thread (tests, INFO).</summary>
    public long InlineReads, BackgroundReads;

    /// <summary>Runs after each read's callback (the store's disk-read wake-up); null: nothing.</summary>
    public Action? AfterRead;

    /// <summary>Tests: every read goes to the read threads.</summary>
    internal bool ForceBackgroundReads { get; set; }

    /// <summary>Tests: I/O threads of this device still running.</summary>
    internal int LiveThreads => _reads.Live + _writes.Live;

    public FileDevice(string fileName, bool recover) : base(fileName, 512, Devices.CAPACITY_UNSPECIFIED)
    {
        // FASTER's device lets its handle pools bound it (120 each) and never throttles; a count of
        // reads waiting for a thread is the honest version of that.
        ThrottleLimit = 120;
        var dir = Path.GetDirectoryName(Path.GetFullPath(fileName));
        if (dir is not null) Directory.CreateDirectory(dir);
        _reads = new IoThreads(this, "store-read", ReadThreads);
        _writes = new IoThreads(this, "store-write", WriteThreads);
        if (recover) FindSegments();
    }

    public override bool Throttle() => Volatile.Read(ref _pendingReads) > ThrottleLimit;

    public override void ReadAsync(int segmentId, ulong sourceAddress, IntPtr destinationAddress, uint readLength,
                                   DeviceIOCompletionCallback callback, object context)
    {
        SegmentFile file;
        try
        {
            file = Acquire(segmentId);
        }
        catch (Exception e) when (e is NativeException or ObjectDisposedException)
        {
            Complete(new Op(null!, (byte*)destinationAddress, 0, 0, readLength, callback, context, write: false), ErrorOf(e));
            return;
        }
        var op = new Op(file, (byte*)destinationAddress, (long)sourceAddress, readLength, readLength, callback, context, write: false);
        if (_nowaitWorks && readLength <= InlineReadLimit && t_inlineDepth < MaxInlineDepth && !ForceBackgroundReads)
        {
            int status = ReadCached(ref op);
            if (status >= 0)
            {
                Interlocked.Increment(ref InlineReads);
                t_inlineDepth++;
                try
                {
                    Complete(op, status);
                }
                finally
                {
                    t_inlineDepth--;
                }
                return;
            }
        }
        Interlocked.Increment(ref _pendingReads);
        _reads.Enqueue(op);
    }

    /// <summary>
    /// What the page cache has, without blocking: 0 (all of it read, or up to the end of the file, the
    /// rest zeroed), an errno to complete with, or -1: the rest needs a blocking read (op moved on).
    /// </summary>
    private int ReadCached(ref Op op)
    {
        while (op.Length > 0)
        {
            nint n = FileIo.TryReadCached(op.File.Fd, op.Buffer, (nint)op.Length, op.Offset);
            if (n > 0)
            {
                op.Advance((uint)n);
                continue;
            }
            if (n == 0)
            {
                op.ZeroRest();
                return 0;
            }
            int e = (int)-n;
            if (e == LibC.EOPNOTSUPP || e == LibC.ENOSYS || e == LibC.EINVAL) _nowaitWorks = false; // kernel < 4.14, or the filesystem
            else if (e != LibC.EAGAIN) return e;
            return -1;
        }
        return 0;
    }

    /// <summary>A read thread: the blocking rest of a read; 0 or an errno.</summary>
    private static int ReadBlocking(ref Op op)
    {
        while (op.Length > 0)
        {
            nint n = FileIo.Read(op.File.Fd, op.Buffer, (nint)op.Length, op.Offset);
            if (n < 0) return (int)-n;
            if (n == 0)
            {
                op.ZeroRest();
                break;
            }
            op.Advance((uint)n);
        }
        return 0;
    }

    public override void WriteAsync(IntPtr sourceAddress, int segmentId, ulong destinationAddress, uint numBytesToWrite,
                                    DeviceIOCompletionCallback callback, object context)
    {
        HandleCapacity(segmentId);
        SegmentFile file;
        try
        {
            file = Acquire(segmentId);
        }
        catch (Exception e) when (e is NativeException or ObjectDisposedException)
        {
            Complete(new Op(null!, (byte*)sourceAddress, 0, 0, numBytesToWrite, callback, context, write: true), ErrorOf(e));
            return;
        }
        _writes.Enqueue(new Op(file, (byte*)sourceAddress, (long)destinationAddress, numBytesToWrite, numBytesToWrite, callback, context, write: true));
    }

    /// <summary>An I/O thread runs one operation to its completion.</summary>
    private void Execute(ref Op op)
    {
        int error = op.Write ? FileIo.WriteAll(op.File.Fd, op.Buffer, op.Length, op.Offset) : ReadBlocking(ref op);
        if (!op.Write)
        {
            Interlocked.Decrement(ref _pendingReads);
            Interlocked.Increment(ref BackgroundReads);
        }
        try
        {
            Complete(op, error);
        }
        catch (Exception)
        {
            // FASTER's device ran callbacks in a Task that swallowed what they threw; an I/O thread must live on.
            Interlocked.Increment(ref CallbackFailures);
        }
    }

    /// <summary>Callbacks that threw on an I/O thread (tests).</summary>
    public long CallbackFailures;

    /// <summary>Refused: the device is closing (no thread is left to run it); completes with an error here.</summary>
    private void Refuse(ref Op op)
    {
        if (!op.Write) Interlocked.Decrement(ref _pendingReads);
        Complete(op, ErrorDisposed);
    }

    private const int ErrorDisposed = 9; // EBADF

    private void Complete(in Op op, int error)
    {
        op.File?.Release();
        try
        {
            op.Callback(error == 0 ? 0 : (uint)error, error == 0 ? op.Total : 0, op.Context);
        }
        finally
        {
            if (!op.Write) AfterRead?.Invoke();
        }
    }

    private static int ErrorOf(Exception e) => e is NativeException n ? n.Number : ErrorDisposed;

    private SegmentFile Acquire(int id)
    {
        var table = Volatile.Read(ref _segments);
        if ((uint)id < (uint)table.Length && table[id] is { } file && file.TryAcquire()) return file;
        return Open(id);
    }

    private SegmentFile Open(int id)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(id);
            var table = _segments;
            if (id < table.Length && table[id] is { } open && open.TryAcquire()) return open;
            if (id >= table.Length)
            {
                var grown = new SegmentFile?[Math.Max(id + 1, table.Length * 2)];
                table.CopyTo(grown, 0);
                Volatile.Write(ref _segments, grown);
                table = grown;
            }
            var file = new SegmentFile(FileIo.OpenDataSync(GetSegmentFilename(FileName, id)));
            file.TryAcquire();
            table[id] = file;
            return file;
        }
    }

    /// <summary>Closes a segment's fd (once the reads still using it are done) and forgets it.</summary>
    private void Forget(int id)
    {
        SegmentFile? file;
        lock (_lock)
        {
            var table = _segments;
            if ((uint)id >= (uint)table.Length) return;
            file = table[id];
            table[id] = null;
        }
        file?.Release();
    }

    public override void RemoveSegmentAsync(int segment, AsyncCallback callback, IAsyncResult result)
    {
        RemoveSegment(segment);
        callback(result);
    }

    /// <summary>Synchronous: the file is gone on return (no epoch wait needed, as with FASTER's device).</summary>
    public override void RemoveSegment(int segment)
    {
        Forget(segment);
        try { File.Delete(GetSegmentFilename(FileName, segment)); }
        catch (IOException) { }
    }

    public override long GetFileSize(int segment)
    {
        if (segmentSize > 0) return segmentSize;
        var info = new FileInfo(GetSegmentFilename(FileName, segment));
        return info.Exists ? info.Length : 0;
    }

    /// <summary>Closes every segment's fd; the files stay (the next I/O reopens them).</summary>
    public override void Reset()
    {
        int count;
        lock (_lock) count = _segments.Length;
        for (int i = 0; i < count; i++) Forget(i);
    }

    /// <summary>The segment range on disk: the contiguous run of <c>{name}.N</c> that ends at the newest.</summary>
    private void FindSegments()
    {
        if (!SegmentFiles.FindRange(FileName, out int start, out int end)) return;
        startSegment = start;
        endSegment = end;
    }

    /// <summary>Queued operations complete first (their callbacks run), then the threads stop and every fd closes.</summary>
    public override void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _reads.Stop();
        _writes.Stop();
        Reset();
    }

    /// <summary>One read or write: where it stands now, and what to tell FASTER when it is done.</summary>
    private struct Op(SegmentFile file, byte* buffer, long offset, uint length, uint total,
                      DeviceIOCompletionCallback callback, object context, bool write)
    {
        public readonly SegmentFile File = file;
        public byte* Buffer = buffer;
        public long Offset = offset;
        public uint Length = length; // still to do
        public readonly uint Total = total; // what was asked: reported in full (a read past the end reads zeros)
        public readonly DeviceIOCompletionCallback Callback = callback;
        public readonly object Context = context;
        public readonly bool Write = write;

        public void Advance(uint n)
        {
            Buffer += n;
            Offset += n;
            Length -= n;
        }

        /// <summary>
        /// Past the end of the file reads as zeros: FASTER takes a record read's available bytes from the
        /// length it asked for, so stale bytes of its buffer must never look like a record.
        /// </summary>
        public void ZeroRest()
        {
            new Span<byte>(Buffer, (int)Length).Clear();
            Advance(Length);
        }
    }

    /// <summary>A segment's fd, closed when the table and every operation using it let go.</summary>
    private sealed class SegmentFile(int fd)
    {
        public readonly int Fd = fd;
        private int _refs = 1; // the table's

        public bool TryAcquire()
        {
            while (true)
            {
                int refs = Volatile.Read(ref _refs);
                if (refs == 0) return false;
                if (Interlocked.CompareExchange(ref _refs, refs + 1, refs) == refs) return true;
            }
        }

        public void Release()
        {
            if (Interlocked.Decrement(ref _refs) == 0) FileIo.Close(Fd);
        }
    }

    /// <summary>A few threads and their queue; started on the first operation, so a store that never misses the cache has none.</summary>
    private sealed class IoThreads(FileDevice device, string name, int count)
    {
        private readonly Queue<Op> _ops = new();
        private Thread[]? _threads;
        private int _idle;
        private bool _stopping;

        public int Live
        {
            get
            {
                Thread[]? threads;
                lock (_ops) threads = _threads;
                return threads?.Count(t => t.IsAlive) ?? 0;
            }
        }

        public void Enqueue(in Op op)
        {
            lock (_ops)
            {
                if (!_stopping)
                {
                    _threads ??= Start();
                    _ops.Enqueue(op);
                    if (_idle > 0) Monitor.Pulse(_ops);
                    return;
                }
            }
            var refused = op;
            device.Refuse(ref refused);
        }

        private Thread[] Start()
        {
            var threads = new Thread[count];
            for (int i = 0; i < count; i++)
            {
                threads[i] = new Thread(Run) { IsBackground = true, Name = $"{name}-{i}" };
                threads[i].Start();
            }
            return threads;
        }

        private void Run()
        {
            while (true)
            {
                Op op;
                lock (_ops)
                {
                    while (_ops.Count == 0)
                    {
                        if (_stopping) return;
                        _idle++;
                        Monitor.Wait(_ops);
                        _idle--;
                    }
                    op = _ops.Dequeue();
                }
                device.Execute(ref op);
            }
        }

        /// <summary>Lets the queue drain, then joins the threads (not one of its own: a callback that disposes).</summary>
        public void Stop()
        {
            Thread[]? threads;
            lock (_ops)
            {
                _stopping = true;
                threads = _threads;
                Monitor.PulseAll(_ops);
            }
            if (threads is null) return;
            foreach (var t in threads)
                if (t != Thread.CurrentThread) t.Join();
        }
    }
}
