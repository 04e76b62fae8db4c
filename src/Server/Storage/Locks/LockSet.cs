using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Locks;

/// <summary>
/// Told, from any thread, that the lock a parked <see cref="LockSet"/> waited for is now its own. The
/// owner (Network's client) continues on its own thread: it calls <see cref="KeyLockTable.Acquire"/>
/// again for the rest of its locks, then runs its command.
/// </summary>
public interface ILockWaiter
{
    void Granted();
}

/// <summary>Where a lock set stands.</summary>
public enum LockSetState : byte
{
    /// <summary>Holds nothing (between commands).</summary>
    Idle,
    /// <summary>Some locks taken in order, parked in the queue of the next one.</summary>
    Parked,
    /// <summary>Every lock of the command is held (until the command has finished).</summary>
    Held,
}

/// <summary>
/// The locks of one command of one owner (a client): the keyspace gate (shared, or exclusive for
/// commands over the whole keyspace) and stripes sorted by index, each once, exclusive when any key
/// on it wants exclusive. Reused command after command: steady state allocates nothing.
/// </summary>
public sealed class LockSet(ILockWaiter waiter, int gateSlot)
{
    /// <summary>Stripe index shifted left by one, low bit set for exclusive; sorted and unique once prepared.</summary>
    internal uint[] Entries = new uint[8];
    internal int Count;
    /// <summary>Entries held, in order (the gate counts as held separately).</summary>
    internal int Acquired;
    internal GateMode Gate;
    internal bool GateHeld;
    /// <summary>Holds the gate shared on its Interlocked counter, not on its reactor's line (admitted from the queue).</summary>
    internal bool GateAtomic;
    internal bool Prepared;
    internal LockSetState State;

    // Queue links while parked (guarded by the queue's lock).
    internal LockSet? Next, Prev;
    internal LockSet? NextGranted;
    internal bool Queued;
    /// <summary>Stripe waited for; -1 for the gate.</summary>
    internal int WaitStripe;
    internal bool WaitExclusive;

    public ILockWaiter Waiter { get; } = waiter;
    /// <summary>
    /// The gate's reader line this owner writes (its reactor's index): only one thread may use a slot, and
    /// Acquire, Release and Cancel of a set run on its owner's thread.
    /// </summary>
    public int GateSlot { get; } = gateSlot;
    public LockSetState Status => State;
    public bool IsHeld => State == LockSetState.Held;
    public bool IsParked => State == LockSetState.Parked;
    /// <summary>True when the command asked for nothing (no keys, not a keyspace command).</summary>
    public bool IsEmpty => Count == 0 && Gate == GateMode.None;
    /// <summary>Keys named by the command (before stripes are merged): a write of more than one is framed in the AOF.</summary>
    public int KeyCount { get; private set; }

    /// <summary>Starts collecting the locks of a new command.</summary>
    public void Begin()
    {
        if (State != LockSetState.Idle) throw new InvalidOperationException("the previous command's locks are still taken");
        Count = 0;
        KeyCount = 0;
        NamespaceMap = null;
        Acquired = 0;
        Gate = GateMode.None;
        GateHeld = false;
        GateAtomic = false;
        Prepared = false;
    }

    /// <summary>A key of the command: <paramref name="db"/> is part of its identity (SELECT).</summary>
    /// <summary>
    /// A key by the hash the store files it under (namespace and key: <see cref="StoreSession.HashKey"/>),
    /// so its first store operation reuses the hash instead of computing it again. Every owner of one
    /// table must stripe keys one way: the server always comes here; <see cref="AddKey"/> is for a table
    /// without a store.
    /// </summary>
    public void AddHashed(long storeHash, bool exclusive)
    {
        KeyCount++;
        AddStripe(KeyLockTable.StripeOf(storeHash, 0), exclusive);
    }

    /// <summary>
    /// The store's namespace map the keys were hashed under (<see cref="Store.NamespaceMapIdentity"/>): a SWAPDB or
    /// FLUSHDB between hashing and holding the keyspace gate moves the keys to other namespaces.
    /// </summary>
    public object? NamespaceMap { get; set; }

    public unsafe void AddKey(int db, ReadOnlySpan<byte> key, bool exclusive)
    {
        long h;
        fixed (byte* p = key) h = KeyComparer.Hash(p, key.Length);
        KeyCount++;
        AddStripe(KeyLockTable.StripeOf(h, db), exclusive);
    }

    public void AddStripe(int stripe, bool exclusive)
    {
        if (Count == Entries.Length) Array.Resize(ref Entries, Count * 2);
        Entries[Count++] = ((uint)stripe << 1) | (exclusive ? 1u : 0u);
        if (Gate == GateMode.None) Gate = GateMode.Shared;
    }

    /// <summary>The command reads or changes the whole keyspace: exclusive on the gate, no stripes needed.</summary>
    public void AddKeyspace() => Gate = GateMode.Exclusive;

    /// <summary>
    /// Whether the held set covers <paramref name="stripe"/> (exclusively when asked), or holds the whole
    /// keyspace: a script checks each key its redis.call names.
    /// </summary>
    public bool Covers(int stripe, bool exclusive)
    {
        if (State != LockSetState.Held) return false;
        if (GateHeld && Gate == GateMode.Exclusive) return true;
        for (int i = 0; i < Acquired; i++)
        {
            uint e = Entries[i];
            if (StripeOfEntry(e) == stripe && (!exclusive || IsExclusive(e))) return true;
        }
        return false;
    }

    /// <summary>Holds the keyspace gate exclusively: alone in the keyspace.</summary>
    public bool HoldsKeyspace => State == LockSetState.Held && GateHeld && Gate == GateMode.Exclusive;

    /// <summary>A stripe taken after the set was held (<see cref="KeyLockTable.TryAdd"/>): released with the rest.</summary>
    internal void AppendHeld(int stripe, bool exclusive)
    {
        if (Count == Entries.Length) Array.Resize(ref Entries, Count * 2);
        Entries[Count++] = ((uint)stripe << 1) | (exclusive ? 1u : 0u);
        Acquired = Count;
    }

    /// <summary>Sorts by stripe and merges duplicates (exclusive wins): the order every owner takes stripes in.</summary>
    internal void Prepare()
    {
        if (Prepared) return;
        Prepared = true;
        if (Count <= 1) return;
        var e = Entries;
        for (int i = 1; i < Count; i++)
        {
            uint v = e[i];
            int j = i - 1;
            while (j >= 0 && e[j] > v) { e[j + 1] = e[j]; j--; }
            e[j + 1] = v;
        }
        int n = 0;
        for (int i = 0; i < Count; i++)
        {
            if (n > 0 && (e[n - 1] >> 1) == (e[i] >> 1)) e[n - 1] |= e[i] & 1;
            else e[n++] = e[i];
        }
        Count = n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int StripeOfEntry(uint entry) => (int)(entry >> 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsExclusive(uint entry) => (entry & 1) != 0;
}

/// <summary>How a command holds the keyspace gate.</summary>
public enum GateMode : byte
{
    None,
    /// <summary>Every command with keys: shuts out keyspace commands only.</summary>
    Shared,
    /// <summary>FLUSHDB, SWAPDB, KEYS, SCAN...: alone in the keyspace.</summary>
    Exclusive,
}
