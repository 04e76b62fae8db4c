using System.Runtime.CompilerServices;
using static NativeKv.Interop.IoUringNative;

namespace NativeKv.Interop;

/// <summary>
/// One io_uring instance with its mmap'd submission and completion rings, used by a single thread.
/// Ring protocol: the kernel reads SQ entries up to the SQ tail we publish with a store-release,
/// and publishes CQ entries up to a CQ tail we read with a load-acquire; we hand consumed CQ
/// entries back by storing the CQ head with a store-release.
/// </summary>
public sealed unsafe class IoUring : IDisposable
{
    private readonly int _fd;
    private readonly uint _features;
    private readonly void* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly void* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly IoUringSqe* _sqes;
    private readonly nuint _sqesSize;

    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint _sqEntries;
    private uint _sqLocalTail;   // entries prepared but not yet published

    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly IoUringCqe* _cqes;

    private IoUring(int fd, in IoUringParams p)
    {
        _fd = fd;
        _features = p.Features;
        _sqRingSize = p.SqOff.Array + p.SqEntries * sizeof(uint);
        _cqRingSize = p.CqOff.Cqes + p.CqEntries * (uint)sizeof(IoUringCqe);
        bool single = (p.Features & IORING_FEAT_SINGLE_MMAP) != 0;
        if (single) _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);

        _sqRing = Map(fd, _sqRingSize, IORING_OFF_SQ_RING);
        _cqRing = single ? _sqRing : Map(fd, _cqRingSize, IORING_OFF_CQ_RING);
        _sqesSize = p.SqEntries * (uint)sizeof(IoUringSqe);
        _sqes = (IoUringSqe*)Map(fd, _sqesSize, IORING_OFF_SQES);

        byte* sq = (byte*)_sqRing;
        _sqHead = (uint*)(sq + p.SqOff.Head);
        _sqTail = (uint*)(sq + p.SqOff.Tail);
        _sqMask = *(uint*)(sq + p.SqOff.RingMask);
        _sqEntries = *(uint*)(sq + p.SqOff.RingEntries);
        // We always use SQEs in ring order, so the indirection array is the identity.
        uint* array = (uint*)(sq + p.SqOff.Array);
        for (uint i = 0; i < _sqEntries; i++) array[i] = i;
        _sqLocalTail = *_sqTail;

        byte* cq = (byte*)_cqRing;
        _cqHead = (uint*)(cq + p.CqOff.Head);
        _cqTail = (uint*)(cq + p.CqOff.Tail);
        _cqMask = *(uint*)(cq + p.CqOff.RingMask);
        _cqes = (IoUringCqe*)(cq + p.CqOff.Cqes);
    }

    public int Fd => _fd;
    public bool SupportsExtArg => (_features & IORING_FEAT_EXT_ARG) != 0;

    private static void* Map(int fd, nuint size, long offset)
    {
        void* p = Mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset);
        if (p == (void*)-1) throw new NativeException($"io_uring mmap: {Errno.Describe(Errno.Last)}", Errno.Last);
        return p;
    }

    /// <summary>
    /// Creates a ring, or returns null with the reason (kernel too old, io_uring disabled by sysctl
    /// or seccomp, a setup flag refused).
    /// </summary>
    public static IoUring? TryCreate(uint entries, uint flags, uint cqEntries, out string? error)
    {
        var p = new IoUringParams { Flags = flags };
        if (cqEntries > 0)
        {
            p.Flags |= 1u << 3; // IORING_SETUP_CQSIZE
            p.CqEntries = cqEntries;
        }
        int fd = Setup(entries, &p);
        if (fd < 0)
        {
            int e = Errno.Last;
            error = $"io_uring_setup: {Errno.Describe(e)} (errno {e})";
            return null;
        }
        if ((p.Features & IORING_FEAT_EXT_ARG) == 0 || (p.Features & IORING_FEAT_NODROP) == 0)
        {
            LibC.Close(fd);
            error = "io_uring lacks IORING_FEAT_EXT_ARG/NODROP (kernel older than 5.11)";
            return null;
        }
        try
        {
            error = null;
            return new IoUring(fd, p);
        }
        catch (NativeException e)
        {
            LibC.Close(fd);
            error = e.Message;
            return null;
        }
    }

    /// <summary>Number of prepared SQEs not yet handed to the kernel.</summary>
    public uint Pending => _sqLocalTail - Volatile.Read(ref *_sqTail);

    /// <summary>A zeroed SQE to fill, or null when the ring is full (submit, then retry).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IoUringSqe* GetSqe()
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= _sqEntries) return null;
        IoUringSqe* sqe = &_sqes[_sqLocalTail & _sqMask];
        *sqe = default;
        _sqLocalTail++;
        return sqe;
    }

    /// <summary>An SQE, submitting what is queued first if the ring is full.</summary>
    public IoUringSqe* GetSqeOrSubmit()
    {
        var sqe = GetSqe();
        if (sqe != null) return sqe;
        SubmitAndWait(0, 0);
        sqe = GetSqe();
        if (sqe == null) throw new NativeException("io_uring submission queue stuck full", 0);
        return sqe;
    }

    /// <summary>
    /// Publishes prepared SQEs and, in the same system call, runs deferred completions and waits
    /// for at least <paramref name="waitFor"/> of them (up to <paramref name="timeoutMs"/>; &lt;0 = forever).
    /// Returns the number submitted, or a negative errno (EINTR/ETIME/EBUSY are normal).
    /// </summary>
    public int SubmitAndWait(uint waitFor, int timeoutMs)
    {
        uint toSubmit = _sqLocalTail - *_sqTail;
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        uint flags = IORING_ENTER_GETEVENTS;
        int r;
        if (waitFor > 0 && timeoutMs >= 0)
        {
            var ts = new KernelTimespec { Sec = timeoutMs / 1000, Nsec = (timeoutMs % 1000) * 1_000_000L };
            var arg = new IoUringGeteventsArg { Ts = (ulong)&ts };
            r = Enter(_fd, toSubmit, waitFor, flags | IORING_ENTER_EXT_ARG, &arg, (nuint)sizeof(IoUringGeteventsArg));
        }
        else
        {
            r = Enter(_fd, toSubmit, waitFor, flags, null, 0);
        }
        return r < 0 ? -Errno.Last : r;
    }

    /// <summary>Next completion, or null when the CQ is empty. Call <see cref="AdvanceCq"/> after use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public IoUringCqe* PeekCqe(uint index)
    {
        uint head = *_cqHead + index;
        uint tail = Volatile.Read(ref *_cqTail);
        if (head == tail) return null;
        return &_cqes[head & _cqMask];
    }

    /// <summary>How many completions are ready.</summary>
    public uint ReadyCqes => Volatile.Read(ref *_cqTail) - *_cqHead;

    public void AdvanceCq(uint count) => Volatile.Write(ref *_cqHead, *_cqHead + count);

    /// <summary>Registers a provided-buffer ring of <paramref name="count"/> buffers of <paramref name="size"/> bytes.</summary>
    public BufferRing RegisterBufferRing(ushort groupId, ushort count, int size) => new(this, groupId, count, size);

    public void Dispose()
    {
        Munmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing) Munmap(_cqRing, _cqRingSize);
        Munmap(_sqRing, _sqRingSize);
        LibC.Close(_fd);
    }

    /// <summary>
    /// A provided-buffer ring: the kernel picks a buffer for each multishot receive and tells us its
    /// id in the CQE; we give it back with <see cref="Recycle"/> and publish with <see cref="Publish"/>.
    /// </summary>
    public sealed class BufferRing : IDisposable
    {
        private readonly IoUring _ring;
        private readonly IoUringBuf* _bufs;
        private readonly nuint _ringBytes;
        private readonly byte* _memory;
        private readonly nuint _memoryBytes;
        private readonly ushort _mask;
        private ushort _tail;

        internal BufferRing(IoUring ring, ushort groupId, ushort count, int size)
        {
            if (count == 0 || (count & (count - 1)) != 0) throw new ArgumentException("count must be a power of two");
            _ring = ring;
            GroupId = groupId;
            Count = count;
            BufferSize = size;
            _mask = (ushort)(count - 1);
            _ringBytes = (nuint)(count * sizeof(IoUringBuf));
            _bufs = (IoUringBuf*)Mmap(null, _ringBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
            if (_bufs == (void*)-1) throw new NativeException($"buffer ring mmap: {Errno.Describe(Errno.Last)}", Errno.Last);
            _memoryBytes = (nuint)count * (nuint)size;
            _memory = (byte*)Mmap(null, _memoryBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (_memory == (void*)-1) throw new NativeException($"buffer memory mmap: {Errno.Describe(Errno.Last)}", Errno.Last);

            var reg = new IoUringBufReg { RingAddr = (ulong)_bufs, RingEntries = count, Bgid = groupId };
            int r = Register(ring.Fd, IORING_REGISTER_PBUF_RING, &reg, 1);
            if (r < 0) throw new NativeException($"IORING_REGISTER_PBUF_RING: {Errno.Describe(Errno.Last)}", Errno.Last);
            for (ushort i = 0; i < count; i++) Recycle(i);
            Publish();
        }

        public ushort GroupId { get; }
        public ushort Count { get; }
        public int BufferSize { get; }

        public ReadOnlySpan<byte> Get(ushort bid, int length) => new(_memory + (nuint)bid * (nuint)BufferSize, length);

        /// <summary>Queues buffer <paramref name="bid"/> for reuse (visible to the kernel after Publish).</summary>
        public void Recycle(ushort bid)
        {
            ref IoUringBuf b = ref _bufs[(ushort)(_tail & _mask)];
            b.Addr = (ulong)(_memory + (nuint)bid * (nuint)BufferSize);
            b.Len = (uint)BufferSize;
            b.Bid = bid;
            _tail++;
        }

        /// <summary>Store-release of the ring tail (it lives in the Resv field of entry 0).</summary>
        public void Publish() => Volatile.Write(ref _bufs[0].Resv, _tail);

        public void Dispose()
        {
            var reg = new IoUringBufReg { Bgid = GroupId };
            Register(_ring.Fd, IORING_UNREGISTER_PBUF_RING, &reg, 1);
            Munmap(_bufs, _ringBytes);
            Munmap(_memory, _memoryBytes);
        }
    }
}
