using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace NativeKv.Server.Storage.Locks;

/// <summary>
/// NativeKv's key locks (DESIGN.md, Atomicity): every command holds shared or exclusive locks on its
/// keys from before its first store operation until it has finished, across its pending disk rounds,
/// so that multi-key commands are atomic to every other client on any reactor.
///
/// <para>Keys map to 2^16 stripes by hash (of key and database). Each stripe is one int: an exclusive
/// bit, a waiters bit and a shared count, so an uncontended acquire or release is one CAS. 2^16 ints
/// are 256 KB, which stays in a core's L2 beside the store's hot data; 2^18 would be 1 MB. A false
/// conflict (two keys, one stripe, one of them exclusive) needs two commands holding locks at once:
/// with the ~100 commands that can wait on disk per reactor it is a 1-in-650 chance for one command
/// and costs only a park; shared/shared never conflicts.</para>
///
/// <para>Stripes are taken in ascending order (after the keyspace gate), each once, so two commands
/// never wait on each other in a cycle. A stripe that cannot be had makes the command park: it is put
/// at the tail of the stripe's FIFO (kept per bucket of stripes under a short monitor) and the stripe's
/// waiters bit sends every later acquirer to that queue too, so nobody overtakes it and nobody starves.
/// The releaser grants the head (all consecutive shared waiters, or one exclusive) and calls their
/// <see cref="ILockWaiter.Granted"/> outside the monitor; nothing spins or sleeps waiting for a lock.</para>
///
/// <para>FASTER's own LockableContext is not used: BeginLockable spins while a checkpoint is in
/// PREPARE, and a plain operation on a locked bucket retries with Thread.Yield.</para>
/// </summary>
public sealed class KeyLockTable
{
    public const int StripeBits = 16;
    public const int Stripes = 1 << StripeBits;
    private const int BucketBits = 8; // 256 queues: parking is rare; a monitor per bucket keeps the queues' memory small
    private const int ExclusiveBit = 1 << 31;
    private const int WaitersBit = 1 << 30;
    private const int SharedMask = WaitersBit - 1;

    private readonly int[] _words = new int[Stripes];
    private readonly WaitQueue[] _queues;
    private readonly KeyspaceGate _gate = new();

    public KeyLockTable()
    {
        _queues = new WaitQueue[1 << BucketBits];
        for (int i = 0; i < _queues.Length; i++) _queues[i] = new WaitQueue();
    }

    /// <summary>
    /// Only one thread ever acquires or releases (one reactor): the fast paths use plain loads and stores
    /// instead of lock-prefixed CAS. Each CAS was 1.3% of a pipelined GET's CPU (2 per command, about 9 ns
    /// apiece here); one reactor needs no atomics, as Redis's one thread takes no locks. Set before the
    /// reactors start; the slow paths (monitor, FIFO, grants through the mailbox) are the same either way.
    /// </summary>
    public bool SingleThreaded { get; set; }

    /// <summary>Parks so far (INFO-style counter for tests and stats).</summary>
    public long Parks;

    /// <summary>A stripe from a key's 64-bit hash (KeyComparer.Hash) and its database.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int StripeOf(long keyHash, int db)
        => (int)(((ulong)keyHash + (ulong)(uint)db * 0x9E3779B97F4A7C15UL) >> (64 - StripeBits));

    /// <summary>
    /// Takes the set's locks, continuing where it stopped. True when all are held; false when it parked:
    /// its waiter's Granted() is then called exactly once, from whichever thread releases, and the owner
    /// calls Acquire again on its own thread.
    /// </summary>
    public unsafe bool Acquire(LockSet set)
    {
        if (set.State == LockSetState.Held) return true;
        set.Prepare();
        if (set.Gate != GateMode.None && !set.GateHeld)
        {
            if (!_gate.Acquire(set))
            {
                Park(set);
                return false;
            }
            set.GateHeld = true;
        }
        var entries = set.Entries;
        // Random stripes of a 256 KB table miss the cache: the misses of several keys (an EVALSHA's, an
        // EXEC's) overlap instead of coming one after another (the lock words were 3.8% of an EVALSHA of three INCRs).
        if (set.Count - set.Acquired > 1 && Sse.IsSupported)
            for (int i = set.Acquired; i < set.Count; i++)
                Sse.Prefetch0(Unsafe.AsPointer(ref _words[LockSet.StripeOfEntry(entries[i])]));
        while (set.Acquired < set.Count)
        {
            uint e = entries[set.Acquired];
            int stripe = LockSet.StripeOfEntry(e);
            bool x = LockSet.IsExclusive(e);
            if (!TryFast(stripe, x) && !AcquireSlow(set, stripe, x))
            {
                Park(set);
                return false;
            }
            set.Acquired++;
        }
        set.State = LockSetState.Held;
        return true;
    }

    /// <summary>
    /// Takes one more stripe for a held set without waiting (a script's key found while it runs): false
    /// when someone holds or waits for it, or the set holds no shared gate (waiting could deadlock: the set
    /// holds stripes out of order by now).
    /// </summary>
    public bool TryAdd(LockSet set, int stripe, bool exclusive)
    {
        if (set.State != LockSetState.Held || !set.GateHeld || set.Gate != GateMode.Shared) return false;
        for (int i = 0; i < set.Acquired; i++)
            if (LockSet.StripeOfEntry(set.Entries[i]) == stripe) return false; // held shared, wanted exclusive: no upgrade
        if (!TryFast(stripe, exclusive)) return false;
        set.AppendHeld(stripe, exclusive);
        return true;
    }

    private void Park(LockSet set)
    {
        set.State = LockSetState.Parked;
        Interlocked.Increment(ref Parks);
    }

    /// <summary>Releases everything the set holds (the command finished, or its client closed while it held them).</summary>
    public void Release(LockSet set)
    {
        if (set.State == LockSetState.Parked) throw new InvalidOperationException("a parked lock set is cancelled, not released");
        ReleaseHeld(set);
    }

    /// <summary>
    /// The owner goes away (client closed): leaves the queue it is parked in, or, if a releaser granted it
    /// meanwhile, gives that lock back too, and releases what it holds. Idempotent.
    /// </summary>
    public void Cancel(LockSet set)
    {
        if (set.State == LockSetState.Parked)
        {
            bool removed = set.WaitStripe < 0 ? _gate.Cancel(set) : CancelStripe(set);
            // Not removed: the grant came first; the lock is held (Acquired/GateHeld already say so).
            _ = removed;
        }
        ReleaseHeld(set);
    }

    private void ReleaseHeld(LockSet set)
    {
        var entries = set.Entries;
        for (int i = set.Acquired - 1; i >= 0; i--)
        {
            uint e = entries[i];
            int stripe = LockSet.StripeOfEntry(e);
            bool x = LockSet.IsExclusive(e);
            if (!TryReleaseFast(stripe, x)) ReleaseSlow(stripe, x);
        }
        if (set.GateHeld) _gate.Release(set);
        set.Acquired = 0;
        set.GateHeld = false;
        set.Count = 0;
        set.Gate = GateMode.None;
        set.State = LockSetState.Idle;
    }

    // ------------------------------------------------------------ one stripe

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryFast(int stripe, bool exclusive)
    {
        ref int word = ref _words[stripe];
        if (SingleThreaded)
        {
            int v = word;
            if (exclusive ? v != 0 : (v & (ExclusiveBit | WaitersBit)) != 0) return false;
            word = exclusive ? ExclusiveBit : v + 1;
            return true;
        }
        if (exclusive) return Interlocked.CompareExchange(ref word, ExclusiveBit, 0) == 0;
        int w = Volatile.Read(ref word);
        while ((w & (ExclusiveBit | WaitersBit)) == 0)
        {
            int seen = Interlocked.CompareExchange(ref word, w + 1, w);
            if (seen == w) return true;
            w = seen;
        }
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReleaseFast(int stripe, bool exclusive)
    {
        ref int word = ref _words[stripe];
        if (SingleThreaded)
        {
            int v = word;
            if ((v & WaitersBit) != 0) return false;
            word = exclusive ? 0 : v - 1;
            return true;
        }
        if (exclusive) return Interlocked.CompareExchange(ref word, 0, ExclusiveBit) == ExclusiveBit;
        int w = Volatile.Read(ref word);
        while ((w & WaitersBit) == 0)
        {
            int seen = Interlocked.CompareExchange(ref word, w - 1, w);
            if (seen == w) return true;
            w = seen;
        }
        return false;
    }

    private static bool Compatible(int w, bool exclusive)
        => exclusive ? (w & (ExclusiveBit | SharedMask)) == 0 : (w & ExclusiveBit) == 0;

    /// <summary>Under the bucket's monitor: take the stripe if free and nobody queues for it, else queue.</summary>
    private bool AcquireSlow(LockSet set, int stripe, bool exclusive)
    {
        ref int word = ref _words[stripe];
        var queue = _queues[stripe & ((1 << BucketBits) - 1)];
        lock (queue)
        {
            while (true)
            {
                int w = Volatile.Read(ref word);
                if ((w & WaitersBit) == 0)
                {
                    if (Compatible(w, exclusive))
                    {
                        if (Interlocked.CompareExchange(ref word, exclusive ? w | ExclusiveBit : w + 1, w) == w) return true;
                        continue;
                    }
                    // From here on every acquirer and releaser of this stripe comes through the monitor.
                    if (Interlocked.CompareExchange(ref word, w | WaitersBit, w) != w) continue;
                }
                set.WaitStripe = stripe;
                set.WaitExclusive = exclusive;
                queue.Enqueue(set);
                return false;
            }
        }
    }

    private void ReleaseSlow(int stripe, bool exclusive)
    {
        ref int word = ref _words[stripe];
        var queue = _queues[stripe & ((1 << BucketBits) - 1)];
        LockSet? granted;
        lock (queue)
        {
            // The waiters bit is set: the word changes only under this monitor now.
            int w = Volatile.Read(ref word);
            w = exclusive ? w & ~ExclusiveBit : w - 1;
            granted = Grant(queue, stripe, ref w);
            Volatile.Write(ref word, w);
        }
        Notify(granted);
    }

    /// <summary>
    /// Under the monitor: grants the stripe's waiters from the head while they fit (consecutive shared
    /// ones, or one exclusive), clears the waiters bit when none is left. Returns them, linked.
    /// </summary>
    private static LockSet? Grant(WaitQueue queue, int stripe, ref int w)
    {
        LockSet? granted = null, last = null;
        bool more = false;
        for (var s = queue.Head; s is not null;)
        {
            var next = s.Next;
            if (s.WaitStripe == stripe)
            {
                if (!Compatible(w, s.WaitExclusive)) { more = true; break; }
                w = s.WaitExclusive ? w | ExclusiveBit : w + 1;
                queue.Remove(s);
                s.Acquired++;
                Append(ref granted, ref last, s);
                if (s.WaitExclusive)
                {
                    more = queue.Waits(next, stripe);
                    break;
                }
            }
            s = next;
        }
        if (!more) w &= ~WaitersBit;
        return granted;
    }

    /// <summary>Links a granted set at the end of the list, so owners are told in arrival order.</summary>
    internal static void Append(ref LockSet? head, ref LockSet? last, LockSet s)
    {
        s.NextGranted = null;
        if (last is null) head = s;
        else last.NextGranted = s;
        last = s;
    }

    internal static void Notify(LockSet? granted)
    {
        while (granted is not null)
        {
            var next = granted.NextGranted;
            granted.NextGranted = null;
            granted.Waiter.Granted();
            granted = next;
        }
    }

    private bool CancelStripe(LockSet set)
    {
        int stripe = set.WaitStripe;
        ref int word = ref _words[stripe];
        var queue = _queues[stripe & ((1 << BucketBits) - 1)];
        LockSet? granted;
        lock (queue)
        {
            if (!set.Queued) return false;
            queue.Remove(set);
            // It may have been the head that held back shared waiters behind it.
            int w = Volatile.Read(ref word);
            granted = Grant(queue, stripe, ref w);
            Volatile.Write(ref word, w);
        }
        Notify(granted);
        return true;
    }

    /// <summary>For tests: the raw word of a stripe (exclusive bit, waiters bit, shared count).</summary>
    internal int WordOf(int stripe) => Volatile.Read(ref _words[stripe]);
}

/// <summary>An intrusive FIFO of parked lock sets (guarded by locking the queue itself).</summary>
internal sealed class WaitQueue
{
    public LockSet? Head, Tail;

    public void Enqueue(LockSet s)
    {
        s.Next = null;
        s.Prev = Tail;
        if (Tail is null) Head = s;
        else Tail.Next = s;
        Tail = s;
        s.Queued = true;
    }

    public void Remove(LockSet s)
    {
        if (s.Prev is null) Head = s.Next;
        else s.Prev.Next = s.Next;
        if (s.Next is null) Tail = s.Prev;
        else s.Next.Prev = s.Prev;
        s.Next = s.Prev = null;
        s.Queued = false;
    }

    /// <summary>Whether any set from <paramref name="from"/> on waits for <paramref name="stripe"/>.</summary>
    public bool Waits(LockSet? from, int stripe)
    {
        for (var s = from; s is not null; s = s.Next)
            if (s.WaitStripe == stripe) return true;
        return false;
    }
}
