namespace NativeKv.Server.Storage.Locks;

/// <summary>
/// The lock over the whole keyspace, taken before any stripe: shared by every command with keys,
/// exclusive by the commands that change or read all keys without naming them (FLUSHDB, FLUSHALL,
/// SWAPDB, KEYS, SCAN, RANDOMKEY, DBSIZE). Parking the reactors instead (ReactorPause) would not do:
/// a command holding stripes across a disk read is between two of its operations while its reactor
/// sits parked at the top of its loop, and a FLUSHDB then would land in the middle of it.
///
/// <para>Shared holders count in one of 64 counters, one cache line each, picked by the owner's
/// reactor: a command's shared acquire is an uncontended increment on its own reactor's line and a
/// read of the shut flag (one shared word for all reactors would bounce between cores every command).
/// An exclusive acquirer shuts the gate, then waits (parked) until every counter is back to 0. Both
/// sides use full fences (Interlocked), so either the reader sees the gate shut or the writer sees the
/// reader's count. Waiters queue FIFO; while any waits or an exclusive holder is in, the gate stays
/// shut and new shared acquirers queue behind them.</para>
/// </summary>
internal sealed class KeyspaceGate
{
    public const int Slots = 64;
    private const int Stride = 16; // ints per 64-byte line

    private readonly int[] _readers = new int[Slots * Stride];
    /// <summary>1 while an exclusive holder is in or anyone waits: shared acquirers take the queue.</summary>
    private int _shut;
    private bool _exclusiveHeld; // under the monitor
    private readonly WaitQueue _queue = new();

    public bool Acquire(LockSet set)
    {
        ref int mine = ref _readers[(set.GateSlot & (Slots - 1)) * Stride];
        if (set.Gate == GateMode.Shared)
        {
            Interlocked.Increment(ref mine);
            if (Volatile.Read(ref _shut) == 0) return true;
            // Shut: step back out (an exclusive waiter may be counting on this counter reaching 0) and queue.
            Interlocked.Decrement(ref mine);
        }
        LockSet? granted;
        lock (_queue)
        {
            if (!_exclusiveHeld && _queue.Head is null)
            {
                if (set.Gate == GateMode.Shared)
                {
                    // Open (nothing held exclusively, nobody queued): _shut is 0 under the monitor.
                    Interlocked.Increment(ref mine);
                    return true;
                }
                Interlocked.Exchange(ref _shut, 1);
                if (ReadersGone())
                {
                    _exclusiveHeld = true;
                    return true;
                }
            }
            else
            {
                Interlocked.Exchange(ref _shut, 1);
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

    public void Release(LockSet set)
    {
        LockSet? granted;
        if (set.Gate == GateMode.Shared)
        {
            Interlocked.Decrement(ref _readers[(set.GateSlot & (Slots - 1)) * Stride]);
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
                Interlocked.Increment(ref _readers[(head.GateSlot & (Slots - 1)) * Stride]);
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
        for (int i = 0; i < Slots; i++)
            if (Volatile.Read(ref _readers[i * Stride]) != 0) return false;
        return true;
    }
}
