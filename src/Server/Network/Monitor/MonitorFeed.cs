using System.Collections.Concurrent;

namespace NativeKv.Server.Network.Monitor;

/// <summary>
/// MONITOR across reactors (replicationFeedMonitors). A reactor stages the lines of the command it runs
/// (its own line, and those of the commands an EXEC or a script runs inside it) and drops them if the
/// command waits on disk and runs again; when the command has finished they go to every reactor that has a
/// monitor, its own included, into that reactor's inbox, with one wake-up item in its mailbox while the
/// inbox is not empty. The reactor writes them to its monitors at its next loop turn and flushes each once.
/// Monitors are normal clients for client-output-buffer-limit (Redis's getClientType), so a monitor that
/// does not read is closed by its limit (or NativeKv's 1 GB output cap); a reactor that does not drain its
/// inbox (a long script) gets at most <see cref="InboxLimit"/> queued, past which its monitors are closed.
/// </summary>
public sealed class MonitorFeed
{
    public const long InboxLimit = 256L * 1024 * 1024;

    private readonly ServerContext _server;
    private readonly Action _changed;
    private PerReactor[] _reactors = [];
    private int _count;

    public MonitorFeed(ServerContext server, Action changed)
    {
        _server = server;
        _changed = changed;
    }

    /// <summary>Any monitor anywhere (one volatile read).</summary>
    public bool Any => Volatile.Read(ref _count) != 0;

    public int Count => Volatile.Read(ref _count);

    private PerReactor Of(Reactor r)
    {
        var all = Volatile.Read(ref _reactors);
        if (all.Length != _server.Reactors.Length)
        {
            lock (this)
            {
                all = _reactors;
                if (all.Length != _server.Reactors.Length)
                {
                    var next = new PerReactor[_server.Reactors.Length];
                    for (int i = 0; i < next.Length; i++) next[i] = i < all.Length ? all[i] : new PerReactor(_server.Reactors[i]);
                    Volatile.Write(ref _reactors, next);
                    all = next;
                }
            }
        }
        return all[r.Index];
    }

    /// <summary>On the client's reactor: monitorCommand.</summary>
    public void Add(Client c)
    {
        var mine = Of(c.Reactor);
        mine.Locals.Add(c);
        Interlocked.Increment(ref mine.Monitors);
        Interlocked.Increment(ref _count);
        _changed();
    }

    /// <summary>On the client's reactor: RESET or close of a monitor.</summary>
    public void Remove(Client c)
    {
        var mine = Of(c.Reactor);
        if (!mine.Locals.Remove(c)) return;
        Interlocked.Decrement(ref mine.Monitors);
        Interlocked.Decrement(ref _count);
        _changed();
    }

    /// <summary>On the running reactor: a line for when the command ends.</summary>
    public void Stage(Reactor r, byte[] line) => Of(r).Staged.Add(line);

    /// <summary>The command waits on disk and runs again: its lines are made again then.</summary>
    public void DropStaged(Reactor r)
    {
        if (_reactors.Length > r.Index) _reactors[r.Index].Staged.Clear();
    }

    /// <summary>The command finished: its lines go to every reactor with a monitor.</summary>
    public void Publish(Reactor r)
    {
        var all = _reactors;
        if (all.Length <= r.Index) return;
        var staged = all[r.Index].Staged;
        if (staged.Count == 0) return;
        foreach (var target in all)
        {
            if (Volatile.Read(ref target.Monitors) == 0) continue;
            foreach (var line in staged) target.Post(line);
        }
        staged.Clear();
    }

    private sealed class PerReactor(Reactor reactor) : IReactorWork
    {
        public readonly List<Client> Locals = new();   // this reactor only
        public readonly List<byte[]> Staged = new();   // this reactor only
        public int Monitors;                           // read by every reactor
        private readonly ConcurrentQueue<byte[]> _inbox = new();
        private long _queued;
        private int _scheduled;
        private volatile bool _overflowed;
        private readonly List<Client> _written = new();

        /// <summary>Any thread.</summary>
        public void Post(byte[] line)
        {
            if (Interlocked.Add(ref _queued, line.Length) > InboxLimit)
            {
                Interlocked.Add(ref _queued, -line.Length);
                _overflowed = true;
            }
            else _inbox.Enqueue(line);
            if (Interlocked.Exchange(ref _scheduled, 1) == 0) reactor.Mailbox.Post(this);
        }

        /// <summary>On the reactor: what came goes to its monitors, one flush each.</summary>
        public void Run(Reactor r)
        {
            Volatile.Write(ref _scheduled, 0);
            while (_inbox.TryDequeue(out var line))
            {
                Interlocked.Add(ref _queued, -line.Length);
                foreach (var c in Locals)
                {
                    // After QUIT's +OK, or with CLIENT REPLY OFF, nothing more is written (prepareClientToWrite).
                    if (c.Closed || c.CloseAfterReply || c.ReplyMode != ReplyMode.On) continue;
                    c.Output.Raw(line);
                    if (!c.PubSubDirty)
                    {
                        c.PubSubDirty = true;
                        _written.Add(c);
                    }
                }
            }
            if (_overflowed)
            {
                _overflowed = false;
                foreach (var c in Locals.ToArray())
                {
                    c.Server.Log.Warning($"Closing monitor client id={c.Id} addr={c.Address}: its reactor fell {InboxLimit / (1024 * 1024)} MB of monitor lines behind");
                    c.Abort();
                }
            }
            foreach (var c in _written)
            {
                c.PubSubDirty = false;
                c.Flush();
            }
            _written.Clear();
        }
    }
}
