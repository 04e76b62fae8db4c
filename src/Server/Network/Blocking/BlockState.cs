using System.Diagnostics;

namespace NativeKv.Server.Network.Blocking;

/// <summary>What a blocked command waits for (Redis's bstate.btype): it decides the timeout's reply.</summary>
public enum BlockKind : byte { None, List, SortedSet, Stream, Wait }

/// <summary>
/// One client's blocking state (Redis 7.2 blocked.c: c->bstate). A command that finds nothing asks to block
/// (<see cref="Request"/>); the executor then registers it on its keys while it still holds their locks, so
/// a write cannot slip between the look and the registration. The command stays in the client's input,
/// unconsumed, and the client reads nothing past it (its pipelined commands wait behind it). When a key is
/// ready the command runs again from the start through the executor, locks and all; it replies and
/// unblocks, or asks to block again and keeps its place in every queue and its first deadline.
/// Fields marked "registry lock" are guarded by <see cref="BlockingKeys"/>' lock; the rest belong to the
/// client's reactor.
/// </summary>
public sealed class BlockState : IReactorWork, IReactorTimer
{
    private readonly Client _client;
    private volatile bool _blocked;
    private long _generation;
    private bool _timerArmed;

    internal WaitNode[] Nodes = new WaitNode[2];
    internal int NodeCount;                 // registry lock
    internal bool Running;                  // registry lock: a re-run is under way (maybe waiting on disk or locks)
    internal bool WakePosted;               // registry lock: this is in its reactor's mailbox
    internal UnblockMode Pending;           // registry lock: CLIENT UNBLOCK or the timeout asked
    internal bool Keyless;                  // blocked on no key (WAIT): registered without nodes

    internal BlockState(Client client) => _client = client;

    /// <summary>Registered on keys (CLIENT LIST flag b). Any thread may read it.</summary>
    public bool IsBlocked => _blocked;
    /// <summary>Blocked and not re-running: its input waits.</summary>
    internal bool Idle => _blocked && !Running;
    public BlockKind Kind { get; private set; }
    /// <summary>Stopwatch ticks of the deadline; 0 = none (timeout 0 waits forever).</summary>
    public long Deadline { get; private set; }

    /// <summary>The run that is executing asked to block (set by the handler, taken by the executor).</summary>
    public bool Requested { get; private set; }
    /// <summary>A re-run found a waited key holding another type (the token then goes on, not back to the head).</summary>
    public bool OtherType { get; set; }
    /// <summary>Taken by the run that is starting: the command ends now, with a timeout's or CLIENT UNBLOCK ERROR's reply.</summary>
    public UnblockMode Ending { get; set; }

    private long _timeoutMs;
    private int _firstKey, _keyCount;

    /// <summary>
    /// blockForKeys, from a handler that found nothing: wait on the keys at arguments
    /// [<paramref name="firstKey"/>, +<paramref name="keyCount"/>) for <paramref name="timeoutMs"/> ms (0 = forever).
    /// Nothing is replied. On a re-run the keys and the first deadline are kept, as Redis keeps bstate.timeout
    /// when CLIENT_REPROCESSING_COMMAND.
    /// </summary>
    public void Request(BlockKind kind, long timeoutMs, int firstKey, int keyCount)
    {
        Requested = true;
        if (_blocked) return;
        Kind = kind;
        _timeoutMs = timeoutMs;
        _firstKey = firstKey;
        _keyCount = keyCount;
    }

    /// <summary>
    /// Stopwatch ticks the command's runs that blocked took (the first and every re-block), as Redis's c->duration adds
    /// them up: its end counts them with the run that answers (updateStatsOnUnblock), a timeout with none.
    /// </summary>
    public long CalledTicks;

    /// <summary>Executor, while the command still holds its key locks: registers its waits (first time only).</summary>
    public void Register(BlockingKeys registry, int db, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> args)
    {
        if (_blocked) return;
        // WAIT and WAITAOF wait on no key: woken by their timeout, CLIENT UNBLOCK or an AOF sync.
        Keyless = _keyCount == 0;
        for (int i = 0; i < _keyCount; i++)
        {
            var r = args[_firstKey + i];
            registry.Register(this, db, input.Slice(r.Offset, r.Length), _firstKey + i);
        }
        _blocked = true;
        CalledTicks = 0;
        Deadline = 0;
        if (_timeoutMs > 0)
        {
            long ticks = _timeoutMs > long.MaxValue / Stopwatch.Frequency ? long.MaxValue / 2 : _timeoutMs * Stopwatch.Frequency / 1000;
            Deadline = Stopwatch.GetTimestamp() + ticks;
            _timerArmed = true;
            _client.Reactor.Timers.Add(this, Deadline);
        }
        registry.Blocked(Deadline != 0);
    }

    /// <summary>Executor: the run that asked to block is over; its request is taken.</summary>
    public void TakeRequest()
    {
        Requested = false;
        OtherType = false;
    }

    /// <summary>Executor: a re-run that asked to block again. Its tokens go on; it runs again if one came meanwhile.</summary>
    public void Reblocked(BlockingKeys registry)
    {
        if (registry.Reblocked(this, OtherType)) Post();
    }

    /// <summary>Served, ended by CLIENT UNBLOCK or its timeout, or closed: leaves every queue.</summary>
    public void Unblock(BlockingKeys registry)
    {
        if (!_blocked) return;
        _blocked = false;
        if (_timerArmed)
        {
            _timerArmed = false;
            _generation++;
            _client.Reactor.Timers.Cancelled();
        }
        else _generation++;
        registry.Unregister(this, Deadline != 0);
        Deadline = 0;
        Kind = BlockKind.None;
        Ending = UnblockMode.None;
        Requested = false;
    }

    internal void Add(WaitNode node)
    {
        if (NodeCount == Nodes.Length) Array.Resize(ref Nodes, NodeCount * 2);
        Nodes[NodeCount++] = node;
    }

    /// <summary>Registry lock: a token waits for a run, or an unblock was asked.</summary>
    internal bool WantsRun
    {
        get
        {
            if (Pending != UnblockMode.None) return true;
            for (int i = 0; i < NodeCount; i++)
            {
                if (Nodes[i].HasToken) return true;
            }
            return false;
        }
    }

    /// <summary>Wakes the client on its reactor (any thread); once per registration of WakePosted.</summary>
    internal void Post() => _client.Reactor.Mailbox.Post(this);

    void IReactorWork.Run(Reactor reactor)
    {
        try
        {
            _client.ResumeBlocked();
        }
        catch (Exception e)
        {
            _client.Fail(e);
        }
    }

    long IReactorTimer.TimerGeneration => _generation;

    void IReactorTimer.Expired()
    {
        _timerArmed = false;
        _client.Server.Blocking.RequestUnblock(this, UnblockMode.Timeout);
    }
}
