using System.Runtime.CompilerServices;
using NativeKv.Interop;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Network;

/// <summary>How CLIENT REPLY left the connection.</summary>
public enum ReplyMode { On, Off, Skip }

/// <summary>
/// One client connection. Owned by exactly one reactor, which alone reads, parses, executes and
/// writes for it; other threads only read its descriptive fields (CLIENT LIST) or ask its reactor
/// to act on it through the mailbox.
/// </summary>
public sealed unsafe class Client : Storage.IHeldReplies
{
    // A read gets at least this much room; less and the buffer is compacted or grown first.
    private const int MinFree = 4 * 1024;

    // Borrowed from the reactor's pool while unconsumed input is pending (see MakeReadSpace),
    // empty otherwise: an idle connection holds no buffer.
    private byte[] _input = [];
    private int _inputStart;  // first unconsumed byte (start of the current command)
    private int _inputEnd;    // end of received data
    private int _outputSent;  // bytes of Output already sent
    private int _waitConsumed; // bytes of the command that waits on the store
    private int _prefetchedAhead; // input bytes past _inputStart whose keys were prefetched
    private bool _inputEnded;  // the peer shut its sending side: no more input will come
    private Reactor _reactor = null!;

    public Client(ServerContext server, int fd, long id, string address, string localAddress)
    {
        Server = server;
        Fd = fd;
        Id = id;
        Address = address;
        LocalAddress = localAddress;
        Created = Environment.TickCount64;
        LastInteraction = Created;
        Parser.MaxBulkLength = server.Config.ProtoMaxBulkLen;
        Authenticated = server.Config.RequirePass.Length == 0;
        Parser.Unauthenticated = !Authenticated;
        Limits = new OutputLimits(this);
        Output.Watcher = Limits;
    }

    public ServerContext Server { get; }
    public Reactor Reactor
    {
        get => _reactor;
        internal set
        {
            _reactor = value;
            Output.Pool = value.Buffers;
            Locks = new Storage.Locks.LockSet(new LockWake(this), value.Index);
        }
    }
    public int Fd { get; }
    public long Id { get; }
    public string Address { get; }
    public string LocalAddress { get; }
    public long Created { get; }
    public long LastInteraction { get; private set; }

    public RespWriter Output { get; } = new((BufferPool?)null);
    /// <summary>client-output-buffer-limit for this client; Output tells it when it grows past its mark.</summary>
    public OutputLimits Limits { get; }
    public RequestParser Parser { get; } = new();
    /// <summary>The store operations of the command in progress (kept while it waits on disk).</summary>
    internal Storage.PendingState StoreState { get; } = new();
    /// <summary>The key locks of the command in progress (held across its disk rounds; parked while it waits for them).</summary>
    internal Storage.Locks.LockSet Locks { get; private set; } = null!;
    /// <summary>The current command waits: on the store, parked for its key locks, or blocked (BLPOP). Input stays unparsed meanwhile.</summary>
    internal bool CommandWaiting => StoreState.Waiting || Locks.IsParked || (_block is not null && _block.IsBlocked) || _yielded || Postponed;

    /// <summary>CLIENT PAUSE holds the current command (Redis's BLOCKED_POSTPONE): it runs again when the pause ends.</summary>
    internal bool Postponed;
    /// <summary>The current command runs again after a pause: not fed to MONITOR again (7.2's CMD_CALL_REPROCESSING).</summary>
    internal bool Reprocessing;
    /// <summary>
    /// Anything limiting which commands this client may run (1: RESP2 pub/sub, 2: MONITOR): the executor's
    /// one check for both.
    /// </summary>
    internal byte Restricted;
    /// <summary>CLIENT_MONITOR: a normal client for the output limits, CLIENT LIST's O flag, no keyspace commands.</summary>
    public bool Monitoring
    {
        get => Limits.Monitor;
        set
        {
            if (Limits.Monitor == value) return;
            Limits.Monitor = value;
            Restricted = (byte)(value ? Restricted | 2 : Restricted & ~2);
            Limits.ClassChanged();
        }
    }

    /// <summary>
    /// How long one client's commands may run in a reactor turn before its other clients are served. A
    /// `redis-cli --pipe` of 100-element RPUSHes into a paged list held its reactor 60-130 ms a turn under the
    /// 256 KB read budget alone (a PING probe beside it: p50 166 ms); Redis bounds a turn by its 16 KB read,
    /// which at Redis's per-element cost is well under a millisecond.
    /// </summary>
    private static readonly long TurnTicks = System.Diagnostics.Stopwatch.Frequency / 1000;
    private long _turn = -1, _turnStart;
    /// <summary>The client's turn ran out with complete commands left: the reactor continues it after the others (<see cref="ContinueTurn"/>).</summary>
    private bool _yielded;

    private Blocking.BlockState? _block;
    /// <summary>This client's blocking state (created by its first blocking command).</summary>
    public Blocking.BlockState Block => _block ??= new Blocking.BlockState(this);
    /// <summary>The blocking state if the client ever blocked: the executor's one check for every command.</summary>
    public Blocking.BlockState? BlockOrNull => _block;

    private Commands.Transactions.Transaction? _multi;
    /// <summary>Its MULTI queue and WATCHed keys, made on first use.</summary>
    public Commands.Transactions.Transaction Multi => _multi ??= new Commands.Transactions.Transaction();
    public Commands.Transactions.Transaction? MultiOrNull => _multi;
    private PubSub.ClientSubscriptions? _subs;
    /// <summary>Its pub/sub subscriptions, made by its first SUBSCRIBE.</summary>
    public PubSub.ClientSubscriptions Subscriptions => _subs ??= new PubSub.ClientSubscriptions();
    public PubSub.ClientSubscriptions? SubscriptionsOrNull => _subs;
    private Tracking.ClientTracking? _tracking;
    /// <summary>Its CLIENT TRACKING state, made by its first CLIENT TRACKING ON.</summary>
    public Tracking.ClientTracking Tracking => _tracking ??= new Tracking.ClientTracking();
    /// <summary>The tracking state if the client ever tracked: the executor's one check for every command.</summary>
    public Tracking.ClientTracking? TrackingOrNull => _tracking;
    private bool _inPubSub;
    /// <summary>
    /// CLIENT_PUBSUB: set by (P|S)SUBSCRIBE, cleared when the last subscription goes. It limits a RESP2
    /// client's commands, is CLIENT LIST's P flag and the pubsub class of client-output-buffer-limit.
    /// </summary>
    public bool InPubSub
    {
        get => _inPubSub;
        set
        {
            if (_inPubSub == value) return;
            _inPubSub = value;
            Restricted = (byte)(value ? Restricted | 1 : Restricted & ~1);
            Limits.PubSub = value;
            Limits.ClassChanged();
        }
    }
    /// <summary>Written by a pub/sub delivery and not flushed yet (ReactorPubSub's list).</summary>
    internal bool PubSubDirty;
    /// <summary>CLIENT_DENY_BLOCKING: inside EXEC, a blocking command answers as if it timed out at once.</summary>
    public bool DenyBlocking { get; set; }
    /// <summary>Blocked and not re-running its command: nothing to resume on disk or locks.</summary>
    internal bool BlockedIdle => _block is not null && _block.Idle;

    // --- state that commands change ---
    public string Name { get; set; } = "";
    public string LibName { get; set; } = "";
    public string LibVersion { get; set; } = "";
    public int Database { get; set; }
    public bool Authenticated { get; set; }
    public string User { get; set; } = "default";
    public ReplyMode ReplyMode { get; set; } = ReplyMode.On;
    public bool NoEvict { get; set; }
    public bool NoTouch { get; set; }
    /// <summary>Lower-cased full name of the last command run ("client|list"), for CLIENT LIST.</summary>
    public string LastCommand { get; set; } = "NULL";
    /// <summary>Set by QUIT, protocol errors and kills: reply what is pending, then close.</summary>
    public bool CloseAfterReply { get; set; }
    /// <summary>Set by CLIENT KILL from any thread; the owning reactor closes the client.</summary>
    public volatile bool KillRequested;
    public bool Closed { get; private set; }

    public long QueryBufferLength => _inputEnd - _inputStart;
    public long QueryBufferCapacity => _input.Length;
    public int OutputLength => Output.Length - _outputSent;
    public long IdleSeconds => (Environment.TickCount64 - LastInteraction) / 1000;
    public long AgeSeconds => (Environment.TickCount64 - Created) / 1000;
    public int CommandsInLastRead { get; private set; }

    public long TotalNetInput;
    public long TotalNetOutput;

    // --- transport state, touched only by the reactor's backend ---
    /// <summary>epoll: EPOLLOUT is armed because a send would block.</summary>
    internal bool WriteArmed;
    /// <summary>io_uring: the multishot receive is active.</summary>
    internal bool RecvArmed;
    /// <summary>io_uring: a send is queued for the turn's submission / in flight in the kernel.</summary>
    internal bool SendQueued, SendInFlight;
    /// <summary>io_uring: the output array a send in flight points into (kept alive until it completes).</summary>
    internal byte[]? InflightBuffer;
    private byte[]? _stash;   // io_uring: input that arrived while a command waited on the store
    private int _stashLength;

    /// <summary>True while input may be parsed: not closing and not waiting on the store.</summary>
    internal bool CanReceive => !Closed && !CloseAfterReply && !CommandWaiting;

    /// <summary>The epoll backend ended this client's turn with input left to read (EpollBackend.TurnBudget).</summary>
    internal bool ReadAgain;

    /// <summary>The epoll backend holds this client's replies for the send at the end of its event batch.</summary>
    internal bool FlushQueued;

    /// <summary>Free space at the end of the input buffer (pinned), at least 4 KB.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal Span<byte> ReceiveSpace()
    {
        if (_input.Length - _inputEnd < MinFree) MakeReadSpace();
        return _input.AsSpan(_inputEnd);
    }

    /// <summary><paramref name="count"/> bytes were received into <see cref="ReceiveSpace"/>: execute what is complete.</summary>
    internal void Received(int count)
    {
        _inputEnd += count;
        TotalNetInput += count;
        Reactor.Stats.NetInputBytes += count;
        Reactor.Stats.ReadsProcessed++;
        LastInteraction = Environment.TickCount64;
        ProcessInput();
    }

    /// <summary>A read found the socket empty: with no input pending, the borrowed buffer goes back.</summary>
    internal void NothingReceived()
    {
        if (_inputStart == _inputEnd && !CommandWaiting) ReleaseInput();
    }

    /// <summary>Bytes received elsewhere (an io_uring provided buffer): copy in and execute.</summary>
    internal void ReceiveCopy(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0 && !Closed)
        {
            if (!CanReceive)
            {
                if (!CloseAfterReply) Stash(data);
                return;
            }
            var space = ReceiveSpace();
            int take = Math.Min(space.Length, data.Length);
            data[..take].CopyTo(space);
            data = data[take..];
            Received(take);
        }
    }

    private void Stash(ReadOnlySpan<byte> data)
    {
        if ((long)_stashLength + data.Length > Server.Config.ClientQueryBufferLimit)
        {
            // io_uring keeps receiving while a command waits on disk; the limit holds here too.
            Server.Log.Warning($"Closing client that reached max query buffer length: id={Id} addr={Address} qbuf={_inputEnd - _inputStart + _stashLength + data.Length}");
            Abort();
            return;
        }
        if (_stash is null || _stash.Length - _stashLength < data.Length)
        {
            var next = new byte[Math.Max(_stashLength + data.Length, (_stash?.Length ?? 0) * 2)];
            if (_stash is not null) System.Buffer.BlockCopy(_stash, 0, next, 0, _stashLength);
            _stash = next;
        }
        data.CopyTo(_stash.AsSpan(_stashLength));
        _stashLength += data.Length;
    }

    /// <summary>io_uring: feeds input stashed while waiting on the store.</summary>
    internal void DrainStash()
    {
        if (_stashLength == 0) return;
        var stash = _stash!;
        int length = _stashLength;
        _stash = null;
        _stashLength = 0;
        ReceiveCopy(stash.AsSpan(0, length));
    }

    /// <summary>Replies not yet sent.</summary>
    internal ReadOnlySpan<byte> Unsent => Output.Written[_outputSent..];
    internal byte[] OutputArray => Output.Buffer;
    internal int OutputSent => _outputSent;

    internal void Sent(int count)
    {
        _outputSent += count;
        TotalNetOutput += count;
        Reactor.Stats.NetOutputBytes += count;
        Reactor.Stats.WritesProcessed++;
    }

    /// <summary>
    /// Everything was sent and no send is in flight: the output buffer goes back to the pool; a
    /// closing client closes now.
    /// </summary>
    internal void OutputDrained()
    {
        Output.Clear();
        Output.Release();
        _outputSent = 0;
        if (CloseAfterReply) Close();
    }

    /// <summary>Hands pending replies to the backend (sent now or with the loop turn's batch).</summary>
    internal void Flush()
    {
        if (Closed) return;
        try
        {
            Reactor.Backend.Flush(this);
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    /// <summary>
    /// The peer shut its sending side (a read returned 0). What is complete still runs and gets its
    /// replies (Redis answers `printf 'PING\r\n' | nc -q1`); then the connection closes.
    /// </summary>
    internal void InputEnded()
    {
        if (BlockedIdle)
        {
            // io_uring keeps receiving while a command is blocked: the end of input frees it, as in Redis.
            Close();
            return;
        }
        _inputEnded = true;
        FinishIfEnded();
    }

    private void FinishIfEnded()
    {
        if (!_inputEnded || CommandWaiting || _stashLength > 0 || Closed) return;
        // An incomplete command left at the end can never complete: drop it.
        CloseAfterReply = true;
        _inputStart = _inputEnd = 0;
        ReleaseInput();
    }

    /// <summary>
    /// Something failed while working for this client alone (parsing, executing, growing a buffer):
    /// log it and drop the connection; the reactor and its other clients go on.
    /// </summary>
    internal void Fail(Exception e)
    {
        Server.Log.Warning($"Closing client id={Id} addr={Address} after an error: {e.GetType().Name}: {e.Message}");
        try
        {
            Abort();
        }
        catch (Exception again)
        {
            Server.Log.Warning($"Closing client id={Id} failed: {again.GetType().Name}: {again.Message}");
        }
    }

    /// <summary>
    /// appendfsync always: true while this client's replies must wait for the AOF commit covering its
    /// writes (the client is then parked in its reactor's commit gate and flushed when the commit is done).
    /// Every backend's Flush starts with this check.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HoldForCommit() => CommitWait != 0 && Server.Persistence!.HoldReply(this);

    /// <summary>AOF address this client's pending replies wait for (appendfsync always); 0 = none.</summary>
    public long CommitWait { get; set; }
    /// <summary>AOF address just past this client's last write (WAITAOF).</summary>
    public long WriteOffset { get; set; }
    /// <summary>The client is parked in its reactor's commit gate (Persistence).</summary>
    public bool CommitHeld { get; set; }

    int Storage.IHeldReplies.ReactorIndex => Reactor.Index;
    Storage.StoreSession Storage.IHeldReplies.Store => Reactor.Store;
    void Storage.IHeldReplies.Flush() => Flush();

    /// <summary>
    /// Room for the next read. The buffer is borrowed from the reactor's pool and grows only with
    /// what actually arrived: at most doubling, and never past what the pending command announced
    /// (plus a read). Growing to the announced size up front let 40 connections sending only
    /// "$536870000" headers commit 21 GB; doubling keeps a real 512 MB bulk at O(n) copying.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void MakeReadSpace()
    {
        int pending = _inputEnd - _inputStart;
        var pool = Reactor.Buffers;
        if (_input.Length == 0)
        {
            _input = pool.Rent();
            _inputStart = _inputEnd = 0;
            return;
        }
        if (pending + MinFree <= _input.Length)
        {
            // Enough room once the pending bytes move to the front.
            System.Buffer.BlockCopy(_input, _inputStart, _input, 0, pending);
        }
        else
        {
            long needed = Parser.BytesNeeded; // total bytes the pending command needs from its start; 0 = unknown
            long size = (long)_input.Length * 2;
            if (needed > 0) size = Math.Min(size, needed + MinFree);
            size = Math.Min(Math.Max(size, (long)pending + MinFree), Array.MaxLength);
            var next = GC.AllocateUninitializedArray<byte>((int)size, pinned: true);
            System.Buffer.BlockCopy(_input, _inputStart, next, 0, pending);
            if (_input.Length == pool.BufferSize) pool.Return(_input);
            _input = next;
        }
        _inputStart = 0;
        _inputEnd = pending;
    }

    /// <summary>No input pending: a pool-sized buffer goes back (a larger one stays until the cron).</summary>
    private void ReleaseInput()
    {
        var pool = Reactor.Buffers;
        if (_input.Length == pool.BufferSize)
        {
            pool.Return(_input);
            _input = [];
        }
    }

    /// <summary>Parses and executes every complete command in the input buffer.</summary>
    private void ProcessInput()
    {
        int commands = 0;
        long now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (_turn != Reactor.Turn)
        {
            _turn = Reactor.Turn;
            _turnStart = now;
        }
        Reactor.Stats.LastCommandEnd = now; // the first command's start: the executor need not read the clock
        while (!CloseAfterReply && !Closed && !CommandWaiting)
        {
            var pubsub = Reactor.PubSub;
            if (pubsub.Backlogged && _inputStart < _inputEnd)
            {
                // Another reactor is far behind on this one's messages: read on after it catches up.
                _yielded = true;
                Reactor.AddYielded(this);
                break;
            }
            pubsub.Receive(); // messages published elsewhere come before the command read next
            var span = _input.AsSpan(_inputStart, _inputEnd - _inputStart);
            var result = Parser.Parse(span, out int consumed);
            if (result == ParseResult.Command)
            {
                commands++;
                if (!Server.Executor.Execute(this, span, Parser.Args))
                {
                    // Waits on disk (the reactor runs it again when its reads are in) or for its locks
                    // (the grant posts LockWake to the reactor's mailbox): not consumed.
                    _waitConsumed = consumed;
                    if (!Locks.IsParked && !BlockedIdle && !Postponed) Reactor.AddWaiting(this);
                    PrefetchBehind(consumed);
                    break;
                }
                _inputStart += consumed;
                if (_prefetchedAhead > 0) _prefetchedAhead = Math.Max(0, _prefetchedAhead - consumed);
                if (Reactor.Stats.LastCommandEnd - _turnStart > TurnTicks && _inputStart < _inputEnd && !CommandWaiting)
                {
                    _yielded = true;
                    Reactor.AddYielded(this);
                    break;
                }
            }
            else if (result == ParseResult.Empty)
            {
                _inputStart += consumed;
            }
            else if (result == ParseResult.Incomplete)
            {
                break;
            }
            else
            {
                Output.Enabled = true;
                Output.Error(Parser.Error!);
                Reactor.Stats.CountError(Output.LastErrorPrefix);
                Server.Log.Verbose($"Protocol error ({Parser.Error}) from client: id={Id} addr={Address}");
                CloseAfterReply = true;
                _inputStart = _inputEnd;
                break;
            }
        }
        CommandsInLastRead = commands;
        Reactor.PubSub.EndInput(); // before these replies are sent, what they published is in its reactors' inboxes
        Reactor.Stats.LastCommandEnd = 0; // the next batch's first command reads the clock itself
        if (_inputStart == _inputEnd)
        {
            _inputStart = _inputEnd = 0;
            if (!CommandWaiting) ReleaseInput();
        }
        else if (_inputEnd - _inputStart > Server.Config.ClientQueryBufferLimit)
        {
            Server.Log.Warning($"Closing client that reached max query buffer length: id={Id} addr={Address} qbuf={_inputEnd - _inputStart}");
            Abort();
            return;
        }
        if (_inputEnded) FinishIfEnded();
    }

    /// <summary>
    /// The current command waits on disk: start reading the keys of the commands pipelined behind
    /// it, so their disk reads overlap instead of queueing one by one.
    /// </summary>
    private void PrefetchBehind(int currentLength)
    {
        int from = Math.Max(currentLength, _prefetchedAhead);
        int available = _inputEnd - _inputStart;
        if (from >= available) return;
        int looked = Reactor.Store.Prefetch(_input.AsSpan(_inputStart + from, available - from), Database);
        _prefetchedAhead = from + looked;
    }

    /// <summary>Runs the command that waited on the store again, then carries on with the input.</summary>
    internal void ResumeAfterStore()
    {
        if (Closed) return;
        StoreState.Waiting = false;
        var span = _input.AsSpan(_inputStart, _inputEnd - _inputStart);
        if (!Server.Executor.Execute(this, span, Parser.Args))
        {
            if (BlockedIdle || Postponed) { Flush(); return; }
            if (!Locks.IsParked) Reactor.AddWaiting(this);
            PrefetchBehind(_waitConsumed);
            return;
        }
        Reprocessing = false;
        _inputStart += _waitConsumed;
        _prefetchedAhead = Math.Max(0, _prefetchedAhead - _waitConsumed);
        ContinueInput();
    }

    /// <summary>On this reactor, after its other clients were served: the turn that ran out goes on.</summary>
    internal void ContinueTurn()
    {
        if (Closed || !_yielded) return;
        _yielded = false;
        ContinueInput();
    }

    /// <summary>Runs the input already received, then reads what arrived meanwhile (or flushes, if it stopped again).</summary>
    private void ContinueInput()
    {
        ProcessInput();
        if (Closed) return;
        if (!CommandWaiting && !CloseAfterReply) Reactor.Backend.Resume(this); // input that arrived meanwhile
        else Flush();
    }

    /// <summary>
    /// On this reactor (BlockState's wake-up): a key the blocked command waits on is ready, or its timeout or
    /// CLIENT UNBLOCK ends it. The command runs again from the start (blocked.c unblockClientOnKey ->
    /// processCommandAndResetClient); served, the client carries on with its pipelined input.
    /// </summary>
    internal void ResumeBlocked()
    {
        if (Closed || _block is null || !Server.Blocking.BeginRun(_block, out var ending)) return;
        _block.Ending = ending;
        ResumeAfterStore();
    }

    /// <summary>
    /// On this reactor (LockWake): the lock the parked command waited for is granted. It takes the rest of
    /// its locks (it may park again, on a later stripe) and then runs as after a disk wait.
    /// </summary>
    /// <summary>On this reactor: the pause that held the current command ended; it runs again (it may be held again).</summary>
    internal void ResumePostponed()
    {
        if (Closed || !Postponed) return;
        Postponed = false;
        Reprocessing = true;
        ResumeAfterStore();
    }

    internal void LocksGranted()
    {
        if (Closed || !Locks.IsParked) return;
        if (!Server.Executor.Locks.Acquire(Locks)) return;
        ResumeAfterStore();
    }

    /// <summary>
    /// Closes with a reset, for a client whose input is thrown away while it may still be sending.
    /// io_uring's multishot receive drains the socket after the close, so a plain close ended in a
    /// FIN with a zero window: the sender sat blocked in FIN-WAIT-2's orphan for 30 s and more.
    /// </summary>
    internal void Abort()
    {
        if (Closed) return;
        int* linger = stackalloc int[2] { 1, 0 }; // struct linger { l_onoff = 1, l_linger = 0 }
        LibC.SetSockOpt(Fd, LibC.SOL_SOCKET, LibC.SO_LINGER, linger, 2 * sizeof(int));
        Close();
    }

    /// <summary>Releases the socket now; pending output is dropped.</summary>
    internal void Close()
    {
        if (Closed) return;
        Closed = true;
        try
        {
            // Operations still in flight in FASTER may read their values from the input buffer
            // (StoreInput.Data): it must not be lent to another client then.
            // Held or awaited key locks go back first: other clients' commands may be parked behind them.
            if (Locks is not null) Server.Executor.Locks.Cancel(Locks);
            // Its waits go too: a token it held passes to the next waiter (blocked.c freeClient -> unblockClient).
            _block?.Unblock(Server.Blocking);
            if (_multi is not null) Commands.Transactions.TransactionCommands.Forget(Server, _multi);
            if (_subs is not null) Reactor.PubSub.LeaveAll(this);
            if (_tracking is { On: true }) Server.Tracking.Disable(this, _tracking);
            if (Monitoring) Server.Watch.Monitors.Remove(this);
            if (Postponed) Server.Pause.Forget(this);
            bool storeBusy = StoreState.Waiting || StoreState.Slots.Count > 0;
            if (storeBusy) Reactor.Store?.Abandon(StoreState);
            else ReleaseInput();
            _input = [];
            _inputStart = _inputEnd = 0;
            // io_uring: a send in flight still reads the output buffer; it goes to the GC afterwards.
            if (!SendInFlight)
            {
                Output.Clear();
                Output.Release();
            }
        }
        finally
        {
            // Out of CLIENT LIST before the socket closes: a client that saw its connection end must not
            // find it listed any more (CLIENT KILL from another reactor, then CLIENT LIST, listed it).
            Server.Clients.Unregister(this);
            Reactor.Backend.Release(this);
            Reactor.OnClosed(this);
        }
    }

    /// <summary>Periodic housekeeping from the reactor: idle timeout and buffer trimming.</summary>
    internal void Cron(long now, int timeoutSeconds)
    {
        if (timeoutSeconds > 0 && (now - LastInteraction) / 1000 >= timeoutSeconds)
        {
            Server.Log.Verbose($"Closing idle client id={Id}");
            Close();
            return;
        }
        if (_inputStart == _inputEnd && !CommandWaiting)
        {
            // A buffer grown for a big command is dropped once idle; the next read borrows again.
            ReleaseInput();
            _input = [];
            _inputStart = _inputEnd = 0;
            Parser.TrimIfIdle();
        }
        if (_outputSent == 0 && !SendInFlight) Output.TrimIfIdle(BufferPool.DefaultBufferSize);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal bool HasPendingOutput() => Output.Length > _outputSent;
}

/// <summary>
/// A client's parked command was granted its lock (on whichever thread released it): the client continues
/// on its own reactor. One per client, posted at most once per park, so a wake-up allocates nothing.
/// </summary>
internal sealed class LockWake(Client client) : IReactorWork, Storage.Locks.ILockWaiter
{
    public void Granted() => client.Reactor.Mailbox.Post(this);

    public void Run(Reactor reactor)
    {
        try
        {
            client.LocksGranted();
        }
        catch (Exception e)
        {
            client.Fail(e);
        }
    }
}
