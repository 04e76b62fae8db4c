using System.Runtime.CompilerServices;
using NativeKv.Interop;

namespace NativeKv.Server.Network;

/// <summary>
/// Bounded lock-free multi-producer single-consumer queue (Vyukov's sequence-numbered ring) with
/// an eventfd doorbell. The consumer announces it is about to sleep with <see cref="PrepareToSleep"/>;
/// a producer rings the doorbell only if it sees that announcement, so a busy consumer costs
/// producers no system call. No wake-up is lost: the consumer re-checks the queue after raising
/// its flag (both sides use full fences), so either the producer sees the flag or the consumer
/// sees the item.
/// </summary>
public sealed class Mailbox<T> : IDisposable where T : class
{
    private struct Cell
    {
        public long Sequence;
        public T? Item;
    }

    private readonly Cell[] _cells;
    private readonly int _mask;
    private PaddedLong _enqueuePos;
    private PaddedLong _dequeuePos;
    private int _sleeping;
    private readonly EventFd _doorbell = new();

    public Mailbox(int capacity = 4096)
    {
        if (capacity < 2 || (capacity & (capacity - 1)) != 0) throw new ArgumentException("capacity must be a power of two", nameof(capacity));
        _cells = new Cell[capacity];
        _mask = capacity - 1;
        for (int i = 0; i < capacity; i++) _cells[i].Sequence = i;
    }

    /// <summary>The eventfd the consumer polls (epoll or io_uring) while asleep.</summary>
    public int DoorbellFd => _doorbell.Fd;

    /// <summary>Number of doorbell rings (system calls) made; for tests and stats.</summary>
    public long Rings;

    /// <summary>Adds an item; false when the queue is full (the caller decides: retry or refuse).</summary>
    public bool TryPost(T item)
    {
        long pos = Volatile.Read(ref _enqueuePos.Value);
        while (true)
        {
            ref Cell cell = ref _cells[pos & _mask];
            long seq = Volatile.Read(ref cell.Sequence);
            long diff = seq - pos;
            if (diff == 0)
            {
                if (Interlocked.CompareExchange(ref _enqueuePos.Value, pos + 1, pos) == pos)
                {
                    cell.Item = item;
                    Volatile.Write(ref cell.Sequence, pos + 1);
                    break;
                }
                pos = Volatile.Read(ref _enqueuePos.Value);
            }
            else if (diff < 0)
            {
                return false;
            }
            else
            {
                pos = Volatile.Read(ref _enqueuePos.Value);
            }
        }
        // Full fence between publishing the item and reading the flag (pairs with PrepareToSleep).
        if (Interlocked.CompareExchange(ref _sleeping, 0, 1) == 1)
        {
            Interlocked.Increment(ref Rings);
            _doorbell.Signal();
        }
        return true;
    }

    /// <summary>Any thread: rings the doorbell if the consumer sleeps (something it polls for is ready).</summary>
    public bool Wake()
    {
        if (Volatile.Read(ref _sleeping) != 1 || Interlocked.CompareExchange(ref _sleeping, 0, 1) != 1) return false;
        Interlocked.Increment(ref Rings);
        _doorbell.Signal();
        return true;
    }

    /// <summary>Posts, spinning while the queue is full.</summary>
    public void Post(T item)
    {
        var spin = new SpinWait();
        while (!TryPost(item)) spin.SpinOnce();
    }

    /// <summary>Consumer only: takes the next item.</summary>
    public bool TryTake([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? item)
    {
        long pos = _dequeuePos.Value;
        ref Cell cell = ref _cells[pos & _mask];
        long seq = Volatile.Read(ref cell.Sequence);
        if (seq - (pos + 1) < 0)
        {
            item = null;
            return false;
        }
        item = cell.Item!;
        cell.Item = null;
        _dequeuePos.Value = pos + 1;
        Volatile.Write(ref cell.Sequence, pos + _mask + 1);
        return true;
    }

    public bool IsEmpty
    {
        get
        {
            long pos = Volatile.Read(ref _dequeuePos.Value);
            return Volatile.Read(ref _cells[pos & _mask].Sequence) - (pos + 1) < 0;
        }
    }

    /// <summary>
    /// Consumer only, before blocking: raises the sleeping flag. Returns false if items arrived
    /// meanwhile (the flag is lowered again and the consumer must not block).
    /// </summary>
    public bool PrepareToSleep()
    {
        Interlocked.Exchange(ref _sleeping, 1);
        if (!IsEmpty)
        {
            Interlocked.Exchange(ref _sleeping, 0);
            return false;
        }
        return true;
    }

    /// <summary>Consumer only, after waking: lowers the flag and clears the doorbell if it rang.</summary>
    public void Woke(bool doorbellRang)
    {
        Volatile.Write(ref _sleeping, 0);
        if (doorbellRang) _doorbell.Drain();
    }

    public void Dispose() => _doorbell.Dispose();

}

/// <summary>A long alone on its cache line, so producer and consumer counters don't false-share.</summary>
[System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
internal struct PaddedLong
{
    [System.Runtime.InteropServices.FieldOffset(64)] public long Value;
}
