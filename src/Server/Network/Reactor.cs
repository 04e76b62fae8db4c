using System.Runtime.InteropServices;
using NativeKv.Interop;

namespace NativeKv.Server.Network;

/// <summary>Work another thread hands to a reactor through its mailbox.</summary>
public interface IReactorWork
{
    void Run(Reactor reactor);
}

/// <summary>
/// One event loop on one (optionally pinned) thread. It owns its clients end to end: reading,
/// parsing, executing and replying, through its backend (epoll or io_uring). Other threads reach
/// it only through <see cref="Mailbox"/>.
/// </summary>
public sealed unsafe class Reactor : Storage.IReactorTurn, IDisposable
{
    private readonly ServerContext _server;
    private readonly Dictionary<long, Client> _clients = new();
    private readonly Thread _thread;
    private volatile bool _stopping;
    private long _nextCron;
    private readonly List<Client> _waiting = new();
    private readonly List<Client> _resuming = new();
    private readonly List<Client> _cronScratch = new();
    private int _idleSpins;
    private long _diskCompletionsSeen;
    private long _nextTrim;
    private int _closedSinceCollect, _closedAtLastTrim;
    private const int CollectAfterCloses = 1000;

    public Reactor(ServerContext server, int index, int cpu)
    {
        _server = server;
        Index = index;
        Cpu = cpu;
        Stats = new ReactorStats(server);
        _thread = new Thread(Run) { Name = $"reactor-{index}", IsBackground = true };
    }

    public int Index { get; }
    /// <summary>CPU this reactor is pinned to, or -1.</summary>
    public int Cpu { get; }
    public Mailbox<IReactorWork> Mailbox { get; } = new();
    /// <summary>This reactor's subscribers and the messages its clients publish (made when the loop starts).</summary>
    public PubSub.ReactorPubSub PubSub { get; private set; } = null!;
    /// <summary>Keyspace notifications of this reactor's commands (staged with them in <see cref="PubSub"/>).</summary>
    public PubSub.KeyspaceNotifier Events { get; private set; } = null!;
    /// <summary>Client-side caching: the invalidations this reactor's commands cause.</summary>
    public Tracking.ReactorTracking Tracking { get; private set; } = null!;
    /// <summary>Input and output buffers lent to this reactor's clients while they have work (reactor thread only).</summary>
    public Protocol.BufferPool Buffers { get; } = new();
    public ReactorStats Stats { get; }
    /// <summary>The OS-facing half (epoll or io_uring), created on the reactor thread.</summary>
    public ReactorBackend Backend { get; private set; } = null!;
    public int ClientCount => _clients.Count;
    public bool IsCurrentThread => Thread.CurrentThread == _thread;
    /// <summary>This reactor's store session (own FASTER session, created on the reactor thread).</summary>
    public Storage.StoreSession Store { get; internal set; } = null!;

    /// <summary>Deadlines of this reactor's blocked clients (reactor thread only).</summary>
    internal ReactorTimers Timers { get; } = new();

    /// <summary>A client whose command waits on disk; resumed when its operations complete.</summary>
    internal void AddWaiting(Client client) => _waiting.Add(client);

    /// <summary>Clients whose turn ran out with commands left (Client.TurnTicks), continued after the turn's events.</summary>
    private List<Client> _yielded = new(), _continuing = new();

    internal void AddYielded(Client client) => _yielded.Add(client);

    /// <summary>Counts the reactor's turns: a client's time budget starts with its first command of a turn.</summary>
    internal long Turn;

    public void Start() => _thread.Start();

    /// <summary>Asks the loop to finish: flush what it can, close its clients, return.</summary>
    public void Stop()
    {
        _stopping = true;
        Mailbox.Post(new WakeUp());
    }

    public void Join() => _thread.Join();

    /// <summary>Called on this reactor's thread (via the mailbox) to adopt a new connection.</summary>
    internal void Adopt(Client client)
    {
        client.Reactor = this;
        if (_stopping || client.KillRequested)
        {
            client.Close();
            return;
        }
        _clients[client.Id] = client;
        try
        {
            Backend.Attach(client);
        }
        catch (Exception e)
        {
            client.Fail(e);
        }
    }

    internal void OnClosed(Client client)
    {
        _clients.Remove(client.Id);
        _closedSinceCollect++;
    }

    /// <summary>The backend the server chose (see ServerHost), or epoll if io_uring fails here.</summary>
    private ReactorBackend CreateBackend()
    {
        if (_server.IoBackend == "io_uring")
        {
            var uring = UringBackend.TryCreate(Mailbox.DoorbellFd, (ushort)_server.Config.IoUringBuffers, 16 * 1024, out var reason);
            if (uring is not null) return uring;
            _server.Log.Warning($"reactor {Index}: io_uring unavailable ({reason}); using epoll");
        }
        return new EpollBackend(Mailbox.DoorbellFd, _clients);
    }

    private void Run()
    {
        if (Cpu >= 0)
        {
            try { CpuAffinity.PinCurrentThread(Cpu); }
            catch (NativeException e) { _server.Log.Warning($"reactor {Index}: {e.Message}"); }
        }
        Backend = CreateBackend();
        PubSub = new PubSub.ReactorPubSub(this, _server);
        Tracking = new Tracking.ReactorTracking(this, _server);
        Store = _server.Store.NewSession($"reactor-{Index}");
        Events = new PubSub.KeyspaceNotifier(_server, PubSub, Tracking);
        Store.Events = Events;
        try
        {
            while (!_stopping)
            {
                DrainMailbox();
                PubSub.Receive();
                int timeout = TimeUntilCron();
                if (Timers.Count > 0) timeout = Timers.MillisecondsUntilNext(timeout);
                Turn++;
                if (_yielded.Count > 0) timeout = 0;
                if (_waiting.Count > 0 || Store.HasPending)
                {
                    // Disk reads in flight: poll, spinning briefly before sleeping a millisecond at a time.
                    timeout = _idleSpins < 64 ? 0 : Math.Min(timeout, 1);
                }
                Volatile.Write(ref _waitsOnDisk, Store.HasPending);
                bool sleeping = timeout > 0 && Mailbox.PrepareToSleep();
                if (sleeping && Store.HasPending && _server.Store.DiskCompletions != _diskCompletionsSeen)
                {
                    // A disk read completed after the last CompletePending: its wake-up may have come
                    // before the flag was up, so look again instead of sleeping.
                    Mailbox.Woke(false);
                    sleeping = false;
                    timeout = 0;
                }
                if (sleeping && PubSub.InboxPending)
                {
                    // Another reactor's messages came after the look above: their doorbell may have missed the flag.
                    Mailbox.Woke(false);
                    sleeping = false;
                }
                int n = Backend.WaitAndDispatch(timeout, sleeping, out bool rang);
                bool drain = rang && !Backend.ConsumesDoorbell;
                if (sleeping || drain) Mailbox.Woke(drain);
                if (_waiting.Count > 0 || Store.HasPending) ServiceStore(n);
                if (_yielded.Count > 0) ContinueYielded();
                if (Timers.Count > 0) Timers.RunExpired();
                PubSub.EndTurn();
                _server.Persistence?.EndTurn(this); // appendfsync always: one AOF commit for the turn's held replies
                if (Environment.TickCount64 >= _nextCron) Cron();
            }
            DrainMailbox();
            Shutdown();
            Store.Dispose();
        }
        catch (Exception e)
        {
            _server.Log.Warning($"reactor {Index} failed: {e}");
            _server.RequestShutdown(save: false, exitCode: 1);
        }
        finally
        {
            Backend?.Dispose();
        }
    }

    /// <summary>Any thread: a disk read of the store completed; wake this reactor if it sleeps waiting on one.</summary>
    public void DiskReadCompleted()
    {
        if (Volatile.Read(ref _waitsOnDisk) && Mailbox.Wake()) Interlocked.Increment(ref DiskWakeups);
    }

    /// <summary>Times a completed disk read woke this reactor (INFO store_disk_read_wakeups).</summary>
    public long DiskWakeups;

    private bool _waitsOnDisk;

    /// <summary>Completes FASTER's pending operations and re-runs the commands that were waiting on them.</summary>
    private void ServiceStore(int events)
    {
        int before = Store.Outstanding;
        _diskCompletionsSeen = _server.Store.DiskCompletions;
        Store.CompletePending();
        bool progressed = Store.Outstanding != before || events > 0;
        _resuming.Clear();
        for (int i = _waiting.Count - 1; i >= 0; i--)
        {
            var c = _waiting[i];
            if (c.Closed) { _waiting.RemoveAt(i); continue; }
            if (c.StoreState.Outstanding == 0)
            {
                _resuming.Add(c);
                _waiting.RemoveAt(i);
            }
        }
        // Oldest first.
        for (int i = _resuming.Count - 1; i >= 0; i--)
        {
            var c = _resuming[i];
            try
            {
                c.ResumeAfterStore();
            }
            catch (Exception e)
            {
                c.Fail(e);
            }
        }
        if (_resuming.Count > 0) progressed = true;
        _idleSpins = progressed ? 0 : _idleSpins + 1;
    }

    /// <summary>The clients whose turn ran out go on, oldest first, each with a new turn's budget.</summary>
    private void ContinueYielded()
    {
        Turn++;
        (_continuing, _yielded) = (_yielded, _continuing);
        foreach (var c in _continuing)
        {
            try
            {
                c.ContinueTurn();
            }
            catch (Exception e)
            {
                c.Fail(e);
            }
        }
        _continuing.Clear();
    }

    private void DrainMailbox()
    {
        while (Mailbox.TryTake(out var work)) work.Run(this);
    }

    private int TimeUntilCron()
    {
        long left = _nextCron - Environment.TickCount64;
        return left <= 0 ? 0 : (int)Math.Min(left, int.MaxValue);
    }

    private void Cron()
    {
        long now = Environment.TickCount64;
        _nextCron = now + 1000 / Math.Max(1, _server.Config.Hz);
        if (now >= _nextTrim) TrimMemory(now);
        if (_server.Tracking.Active) Tracking.Cron(); // serverCron's trackingLimitUsedSlots; keys the store expired
        if (_clients.Count == 0) return;
        int timeout = _server.Config.Timeout;
        // Clients may close during the walk: iterate a reused copy, not the dictionary.
        _cronScratch.Clear();
        _cronScratch.AddRange(_clients.Values);
        foreach (var client in _cronScratch)
        {
            try
            {
                if (client.KillRequested) { client.Close(); continue; }
                if (client.Limits.Cron(now)) continue; // closed for its output buffer limit
                client.Cron(now, timeout);
            }
            catch (Exception e)
            {
                client.Fail(e);
            }
        }
        _cronScratch.Clear();
    }

    /// <summary>
    /// Once a second: buffers no client needed for the whole second leave the pool, and once a wave
    /// of closes is over (1,000 or more, none in the last second) a full collection hands the dead
    /// clients' memory back to the OS. Without it, 10,000 closed idle connections kept their 9.9 MB
    /// for good (still there 8 s later): an idle server allocates too little to start a gen2 GC.
    /// With it, 0.6 MB of it remained 2 s after the closes.
    /// </summary>
    private void TrimMemory(long now)
    {
        _nextTrim = now + 1000;
        Buffers.Trim();
        if (_closedSinceCollect >= CollectAfterCloses && _closedSinceCollect == _closedAtLastTrim)
        {
            _closedSinceCollect = 0;
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        _closedAtLastTrim = _closedSinceCollect;
    }

    /// <summary>Graceful stop: give each client a last chance to take its pending replies.</summary>
    private void Shutdown()
    {
        long deadline = Environment.TickCount64 + 2000;
        var clients = _clients.Values.ToArray();
        foreach (var client in clients) client.Flush();
        while (Environment.TickCount64 < deadline && clients.Any(c => !c.Closed && c.HasPendingOutput()))
        {
            Backend.WaitAndDispatch(1, sleeping: true, out _);
        }
        foreach (var client in clients) client.Close();
        // Let the backend see its last completions (io_uring: receives ended by the closes).
        Backend.WaitAndDispatch(0, sleeping: false, out _);
    }

    public void Dispose() => Mailbox.Dispose();

    private sealed class WakeUp : IReactorWork
    {
        public void Run(Reactor reactor) { }
    }
}

/// <summary>Hands a freshly accepted connection to its reactor.</summary>
internal sealed class AdoptClient(Client client) : IReactorWork
{
    public void Run(Reactor reactor) => reactor.Adopt(client);
}

/// <summary>Closes a client on its own reactor (CLIENT KILL from another thread).</summary>
internal sealed class KillClient(Client client) : IReactorWork
{
    public void Run(Reactor reactor)
    {
        if (client.Closed) return;
        try
        {
            client.Close();
        }
        catch (Exception e)
        {
            client.Fail(e);
        }
    }
}

/// <summary>Runs the write path's release of held replies on the reactor (posted by Persistence).</summary>
internal sealed class ReleaseHeldReplies(Storage.Persistence persistence) : IReactorWork
{
    public void Run(Reactor reactor) => persistence.Release(reactor);
}
