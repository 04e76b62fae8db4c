namespace NativeKv.Server.Network.Blocking;

/// <summary>
/// Who waits on which key (Redis 7.2 blocked.c: db->blocking_keys), shared by every reactor: key -> FIFO of
/// waiters in the order they blocked, whatever reactor they are on. A write command that completed makes
/// its keys ready (<see cref="Signal"/>); readiness is a token handed along a key's queue: its holder
/// re-runs its command through the executor on its own reactor (posted to its mailbox) and, served or
/// not, passes the token on (<see cref="BlockState"/>). One short lock guards the map and the queues; it
/// is never held while anything blocks or runs a command, and mailbox posts happen after it is released
/// (a full mailbox makes Post spin, and its reactor may be waiting for this lock).
/// </summary>
public sealed class BlockingKeys
{
    private readonly Lock _lock = new();
    private readonly Dictionary<KeyId, KeyWaiters> _keys = new(KeyIdComparer.Instance);
    private readonly Dictionary<KeyId, KeyWaiters>.AlternateLookup<KeyRef> _byRef;
    [ThreadStatic] private static List<BlockState>? t_wakes;

    /// <summary>Blocked clients (INFO blocked_clients). Read without the lock by every write command: one volatile read.</summary>
    private int _blocked;
    private int _withTimeout;

    public BlockingKeys() => _byRef = _keys.GetAlternateLookup<KeyRef>();

    /// <summary>True when some client is blocked: the only cost a write pays when nobody waits.</summary>
    public bool AnyBlocked => Volatile.Read(ref _blocked) != 0;
    public int BlockedClients => Volatile.Read(ref _blocked);
    /// <summary>Blocked clients with a timeout (INFO clients_in_timeout_table).</summary>
    public int WithTimeout => Volatile.Read(ref _withTimeout);

    /// <summary>Keys some client waits on (INFO total_blocking_keys).</summary>
    public int Keys
    {
        get { lock (_lock) return _keys.Count; }
    }

    /// <summary>
    /// signalKeyAsReady: a write command that touched (db, key) completed. The head waiter gets the token
    /// unless a pass along the queue is under way, which then restarts from the head when it ends.
    /// </summary>
    public void Signal(int db, ReadOnlySpan<byte> key)
    {
        var wakes = Wakes();
        lock (_lock)
        {
            if (!_byRef.TryGetValue(new KeyRef(db, key), out var q) || q.Head is null) return;
            if (q.Token is not null) q.Again = true;
            else Give(q, q.Head, wakes);
        }
        Post(wakes);
    }

    /// <summary>
    /// scanDatabaseForReadyKeys: every key of <paramref name="db"/> some client waits on may hold data now
    /// (SWAPDB brought another database's keys under the same index; the waiters stay on their index, as in
    /// Redis). Each queue's head gets the token; its re-run's gate tells a key that holds the waited type.
    /// </summary>
    public void SignalDb(int db)
    {
        var wakes = Wakes();
        lock (_lock)
        {
            foreach (var q in _keys.Values)
            {
                if (q.Id.Db != db || q.Head is null) continue;
                if (q.Token is not null) q.Again = true;
                else Give(q, q.Head, wakes);
            }
        }
        Post(wakes);
    }

    /// <summary>blockForKeys: the first run of a command found nothing; it waits on these keys (its locks are still held).</summary>
    internal void Register(BlockState state, int db, ReadOnlySpan<byte> key, int argIndex)
    {
        lock (_lock)
        {
            if (!_byRef.TryGetValue(new KeyRef(db, key), out var q))
            {
                q = new KeyWaiters { Id = new KeyId(db, key.ToArray()) };
                _keys[q.Id] = q;
            }
            // A key named twice (BLPOP k k 0) waits once, as Redis's bstate.keys dictionary keeps it once.
            for (int i = 0; i < state.NodeCount; i++)
            {
                if (state.Nodes[i].Queue == q) return;
            }
            var node = new WaitNode(state, q, argIndex);
            node.Prev = q.Tail;
            if (q.Tail is null) q.Head = node;
            else q.Tail.Next = node;
            q.Tail = node;
            state.Add(node);
        }
    }

    /// <summary>blockClient: counted once all of its keys are registered.</summary>
    internal void Blocked(bool hasTimeout)
    {
        Interlocked.Increment(ref _blocked);
        if (hasTimeout) Interlocked.Increment(ref _withTimeout);
    }

    /// <summary>
    /// The owner's re-run ended and it waits again: each token it ran with goes back to the head when the key
    /// was written meanwhile (Again), so the oldest waiter sees the new data first; to the next waiter when
    /// the key holds another type, which the next waiters may want (a zset waiter behind a list waiter); and
    /// nowhere when the key was empty for it, as it is for the waiters behind it. Passed on then, a push
    /// landing while the next waiter held it served that waiter before the older one (a CI run: waiter 5
    /// popped "4" while waiter 4 still waited).
    /// True when the owner must run again (a token came while it ran, or an unblock is pending).
    /// </summary>
    internal bool Reblocked(BlockState state, bool otherType)
    {
        var wakes = Wakes();
        bool again;
        lock (_lock)
        {
            for (int i = 0; i < state.NodeCount; i++)
            {
                var node = state.Nodes[i];
                if (!node.InRun) continue;
                node.InRun = node.HasToken = false;
                var q = node.Queue;
                var next = otherType ? node.Next : q.Again ? q.Head : null;
                q.Again = false;
                q.Token = null;
                if (next is not null) Give(q, next, wakes);
            }
            state.Running = false;
            again = state.WantsRun;
            if (again) state.WakePosted = true;
        }
        Post(wakes);
        return again;
    }

    /// <summary>
    /// unblockClient: the owner was served, timed out, was unblocked or closed. It leaves every queue; a
    /// token it held goes on to the waiter after it (or the head when the key was written meanwhile).
    /// </summary>
    internal void Unregister(BlockState state, bool hasTimeout)
    {
        var wakes = Wakes();
        lock (_lock)
        {
            for (int i = 0; i < state.NodeCount; i++)
            {
                var node = state.Nodes[i];
                var q = node.Queue;
                var next = node.Next;
                // Unlink.
                if (node.Prev is null) q.Head = node.Next;
                else node.Prev.Next = node.Next;
                if (node.Next is null) q.Tail = node.Prev;
                else node.Next.Prev = node.Prev;
                if (q.Token == node)
                {
                    if (q.Again) next = q.Head;
                    q.Again = false;
                    q.Token = null;
                    if (next is not null) Give(q, next, wakes);
                }
                if (q.Head is null) _keys.Remove(q.Id);
                state.Nodes[i] = null!;
            }
            state.NodeCount = 0;
            state.Keyless = false;
            state.Running = false;
            state.WakePosted = false;
            state.Pending = UnblockMode.None;
        }
        Interlocked.Decrement(ref _blocked);
        if (hasTimeout) Interlocked.Decrement(ref _withTimeout);
        Post(wakes);
    }

    /// <summary>
    /// CLIENT UNBLOCK or the timeout, from any thread: true (and the owner is woken to reply) if the state was
    /// blocked and had no unblock pending. A re-run already under way may still serve it; the request then lapses.
    /// </summary>
    internal bool RequestUnblock(BlockState state, UnblockMode mode)
    {
        bool post;
        lock (_lock)
        {
            if ((state.NodeCount == 0 && !state.Keyless) || state.Pending != UnblockMode.None) return false;
            state.Pending = mode;
            post = !state.WakePosted && !state.Running;
            if (post) state.WakePosted = true;
        }
        if (post) state.Post();
        return true;
    }

    /// <summary>
    /// On the owner's reactor, before a re-run: the tokens it holds now are the ones this run answers for,
    /// and a pending unblock is taken. False when it is mid-run already (the run's end looks again).
    /// </summary>
    internal bool BeginRun(BlockState state, out UnblockMode unblock)
    {
        unblock = UnblockMode.None;
        lock (_lock)
        {
            state.WakePosted = false;
            if ((state.NodeCount == 0 && !state.Keyless) || state.Running) return false;
            unblock = state.Pending;
            state.Running = true;
            for (int i = 0; i < state.NodeCount; i++)
            {
                var node = state.Nodes[i];
                node.InRun = node.HasToken;
            }
            return true;
        }
    }

    private static void Give(KeyWaiters q, WaitNode node, List<BlockState> wakes)
    {
        q.Token = node;
        node.HasToken = true;
        var owner = node.Owner;
        if (owner.WakePosted || owner.Running) return; // the end of its run sees the token
        owner.WakePosted = true;
        wakes.Add(owner);
    }

    private static List<BlockState> Wakes()
    {
        var list = t_wakes ??= new List<BlockState>();
        list.Clear();
        return list;
    }

    private static void Post(List<BlockState> wakes)
    {
        foreach (var s in wakes) s.Post();
        wakes.Clear();
    }
}

/// <summary>How a blocked command is ended from outside (CLIENT UNBLOCK, or its timeout).</summary>
public enum UnblockMode : byte { None, Timeout, Error }

/// <summary>The waiters of one key, oldest first, and the readiness token passed along them.</summary>
internal sealed class KeyWaiters
{
    public KeyId Id;
    public WaitNode? Head, Tail;
    /// <summary>The waiter re-running for this key now; null when no pass is under way.</summary>
    public WaitNode? Token;
    /// <summary>The key was written while the token was out: the pass restarts from the head.</summary>
    public bool Again;
}

/// <summary>One waiter in one key's queue (a client blocked on three keys has three).</summary>
internal sealed class WaitNode(BlockState owner, KeyWaiters queue, int argIndex)
{
    public readonly BlockState Owner = owner;
    public readonly KeyWaiters Queue = queue;
    public readonly int ArgIndex = argIndex;
    public WaitNode? Prev, Next;
    public bool HasToken, InRun;
}

/// <summary>A key of one database, owned (the registry's map key).</summary>
internal readonly struct KeyId(int db, byte[] key)
{
    public readonly int Db = db;
    public readonly byte[] Key = key;
}

/// <summary>A key of one database as the request holds it (lookups allocate nothing).</summary>
internal readonly ref struct KeyRef(int db, ReadOnlySpan<byte> key)
{
    public readonly int Db = db;
    public readonly ReadOnlySpan<byte> Key = key;
}

internal sealed class KeyIdComparer : IEqualityComparer<KeyId>, IAlternateEqualityComparer<KeyRef, KeyId>
{
    public static readonly KeyIdComparer Instance = new();

    public bool Equals(KeyId x, KeyId y) => x.Db == y.Db && x.Key.AsSpan().SequenceEqual(y.Key);
    public int GetHashCode(KeyId k) => Hash(k.Db, k.Key);
    public bool Equals(KeyRef x, KeyId y) => x.Db == y.Db && x.Key.SequenceEqual(y.Key);
    public int GetHashCode(KeyRef k) => Hash(k.Db, k.Key);
    public KeyId Create(KeyRef k) => new(k.Db, k.Key.ToArray());

    private static int Hash(int db, ReadOnlySpan<byte> key)
    {
        var h = new HashCode();
        h.Add(db);
        h.AddBytes(key);
        return h.ToHashCode();
    }
}
