namespace NativeKv.Server.Storage.Locks;

/// <summary>
/// The lock over the whole keyspace, taken before any stripe: shared by every command with keys,
/// exclusive by the commands that change or read all keys without naming them (FLUSHDB, FLUSHALL,
/// SWAPDB, KEYS, SCAN, RANDOMKEY, DBSIZE). Parking the reactors instead (ReactorPause) would not do:
/// a command holding stripes across a disk read is between two of its operations while its reactor
/// sits parked at the top of its loop, and a FLUSHDB then would land in the middle of it.
///
/// <para>Shared holders count on one of 128 cache lines, by reactor (io-threads is at most 128), and only
/// that reactor's thread writes its line: the shared acquire is a plain increment and a plain read of
/// the shut flag, no atomic instruction, no line bouncing between cores (every command pays it, so
/// two Interlocked operations here would have been a third of the lock table's cost). The exclusive
/// side pays instead: it shuts the gate, then runs a process-wide memory barrier
/// (<see cref="Interlocked.MemoryBarrierProcessWide"/>, an IPI to every core, a few microseconds) before
/// it sums the counters, so either a reader's increment is visible to it or the reader sees the gate
/// shut (asymmetric Dekker). Waiters queue FIFO; while any waits or an exclusive holder is in, the gate
/// stays shut and new shared acquirers queue behind them. Shared holders admitted from the queue, and
/// owners past the 128 lines, count on one Interlocked counter.</para>
/// </summary>
internal sealed class KeyspaceGate
{
    public const int Slots = 128;
    private const int Stride = 16; // ints per 64-byte line

    private readonly int[] _readers = new int[(Slots + 1) * Stride];
    /// <summary>Shared holders admitted by <see cref="Grant"/> or owning no line of their own (Interlocked).</summary>
    private int _atomicReaders;
    /// <summary>1 while an exclusive holder is in or anyone waits: shared acquirers take the queue.</summary>
    private int _shut;
    private bool _exclusiveHeld; // under the monitor
    private readonly WaitQueue _queue = new();

    public bool Acquire(LockSet set)
    {
        bool own = set.GateSlot is >= 0 and < Slots;
        if (set.Gate == GateMode.Shared)
        {
            if (own)
            {
                ref int mine = ref _readers[(set.GateSlot + 1) * Stride];
                Volatile.Write(ref mine, mine + 1);
                if (Volatile.Read(ref _shut) == 0) return true;
                // Shut: step back out (an exclusive waiter may be counting on this counter reaching 0) and queue.
                Volatile.Write(ref mine, mine - 1);
            }
            else
            {
                Interlocked.Increment(ref _atomicReaders);
                if (Volatile.Read(ref _shut) == 0)
                {
                    set.GateAtomic = true;
                    return true;
                }
                Interlocked.Decrement(ref _atomicReaders);
            }
        }
        LockSet? granted;
        lock (_queue)
        {
            if (!_exclusiveHeld && _queue.Head is null)
            {
                if (set.Gate == GateMode.Shared)
                {
                    // Open (nothing held exclusively, nobody queued): _shut is 0 under the monitor.
                    set.GateAtomic = true;
                    Interlocked.Increment(ref _atomicReaders);
                    return true;
                }
                Shut();
                if (ReadersGone())
                {
                    _exclusiveHeld = true;
                    return true;
                }
            }
            set.WaitStripe = -1;
            set.WaitExclusive = set.Gate == GateMode.Exclusive;
            _queue.Enqueue(set);
            // A shared holder may have left between our shutting and queueing: look again.
            granted = Grant();
        }
        KeyLockTable.Notify(granted);
        return false;
    }

    /// <summary>Under the monitor: shuts the gate and makes every reader's counter visible (see the class comment).</summary>
    private void Shut()
    {
        if (Volatile.Read(ref _shut) != 0) return;
        Volatile.Write(ref _shut, 1);
        Interlocked.MemoryBarrierProcessWide();
    }

    public void Release(LockSet set)
    {
        LockSet? granted;
        if (set.Gate == GateMode.Shared)
        {
            if (set.GateAtomic)
            {
                set.GateAtomic = false;
                Interlocked.Decrement(ref _atomicReaders);
            }
            else
            {
                ref int mine = ref _readers[(set.GateSlot + 1) * Stride];
                Volatile.Write(ref mine, mine - 1);
            }
            if (Volatile.Read(ref _shut) == 0) return;
            lock (_queue) granted = Grant();
        }
        else
        {
            lock (_queue)
            {
                _exclusiveHeld = false;
                granted = Grant();
            }
        }
        KeyLockTable.Notify(granted);
    }

    public bool Cancel(LockSet set)
    {
        LockSet? granted;
        lock (_queue)
        {
            if (!set.Queued) return false;
            _queue.Remove(set);
            granted = Grant();
        }
        KeyLockTable.Notify(granted);
        return true;
    }

    /// <summary>Under the monitor: admits waiters from the head in FIFO order; reopens the gate when none is left.</summary>
    private LockSet? Grant()
    {
        LockSet? granted = null, last = null;
        while (_queue.Head is { } head)
        {
            if (_exclusiveHeld) break;
            if (head.WaitExclusive)
            {
                if (!ReadersGone()) break;
                _exclusiveHeld = true;
            }
            else
            {
                // Another thread admits it: it cannot touch the owner's line.
                head.GateAtomic = true;
                Interlocked.Increment(ref _atomicReaders);
            }
            _queue.Remove(head);
            head.GateHeld = true;
            KeyLockTable.Append(ref granted, ref last, head);
        }
        if (_queue.Head is null && !_exclusiveHeld) Volatile.Write(ref _shut, 0);
        return granted;
    }

    private bool ReadersGone()
    {
        if (Volatile.Read(ref _atomicReaders) != 0) return false;
        for (int i = 1; i <= Slots; i++)
            if (Volatile.Read(ref _readers[i * Stride]) != 0) return false;
        return true;
    }
}
