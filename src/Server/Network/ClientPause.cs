using System.Diagnostics;
using NativeKv.Server.Commands;
using NativeKv.Server.Protocol;
using NativeKv.Server.Scripting;

namespace NativeKv.Server.Network;

/// <summary>
/// CLIENT PAUSE and CLIENT UNPAUSE (networking.c pauseActions / unpauseActions, server.c processCommand's
/// blockPostponeClient). While paused, a command it holds is not run: the executor parks its client here
/// (<see cref="Client.Postponed"/>, its input unread past the command, like a client waiting for its locks)
/// and returns. The pause ends by CLIENT UNPAUSE on any reactor or by its deadline, a timer on the reactor
/// that ran the CLIENT PAUSE; every parked client is then posted to its own reactor's mailbox and runs its
/// command again. No reactor spins or sleeps for it. (Not to be mixed up with ReactorPause, which parks
/// reactors for the store's own work.) Active expiry is paused too, as PAUSE_ACTION_EXPIRE.
/// </summary>
public sealed class ClientPause(ServerContext server)
{
    /// <summary>PAUSE_ACTION_CLIENT_WRITE and PAUSE_ACTION_CLIENT_ALL (the latter wins when both were asked).</summary>
    public const int Write = 1, All = 2;

    /// <summary>What is paused now; 0 almost always (the executor's one read per command).</summary>
    public volatile int Actions;

    private readonly ServerContext _server = server;
    private readonly List<Client> _postponed = new();
    private int _requested;   // the CLIENT PAUSE purpose's actions (lock)
    private long _endMs;      // its end, unix ms (lock)

    /// <summary>Whether the pause holds this command now (processCommand: ALL, or WRITE and a command that may replicate).</summary>
    public bool Holds(CommandSpec spec, Client client, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, bool exec)
    {
        int actions = Actions;
        if ((actions & All) != 0) return true;
        if ((actions & Write) == 0) return false;
        if (exec) return client.MultiOrNull is { } t && QueuedMayReplicate(t);
        return MayReplicate(spec, input, args);
    }

    private static bool QueuedMayReplicate(Commands.Transactions.Transaction t)
    {
        var bytes = t.Bytes;
        for (int i = 0; i < t.Count; i++)
        {
            var spec = t.Command(i, out var args);
            if (MayReplicate(spec, bytes, args)) return true;
        }
        return false;
    }

    /// <summary>
    /// CMD_WRITE or CMD_MAY_REPLICATE, with a script's declared flags in place of EVAL's and FCALL's own
    /// (scriptFlagsToCmdFlags: a no-writes script is neither).
    /// </summary>
    private static bool MayReplicate(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        if ((spec.Flags & (CommandFlags.Write | CommandFlags.MayReplicate)) == 0) return false;
        if (spec.NumKeysIndex != 2 || args.Length < 2 || spec.Group != CommandGroup.Scripting) return true;
        var first = input.Slice(args[1].Offset, args[1].Length);
        ScriptFlags flags;
        if (spec.Name is "fcall") flags = FunctionCommands.EntryOf(first)?.Flags ?? ScriptFlags.Compat;
        else if (spec.Name is "evalsha") flags = Scripts.Cache.Find(first)?.Flags ?? ScriptFlags.Compat;
        else if (ScriptCache.ParseShebang(first, out flags, out _) is not null) flags = ScriptFlags.Compat;
        return (flags & ScriptFlags.Compat) != 0 || (flags & ScriptFlags.NoWrites) == 0;
    }

    /// <summary>
    /// blockPostponeClient: parks the client unless the pause ended meanwhile (false: run the command now).
    /// </summary>
    public bool Postpone(Client client, CommandSpec spec)
    {
        lock (_postponed)
        {
            if (Actions == 0) return false;
            client.Postponed = true;
            _postponed.Add(client);
        }
        client.LastCommand = spec.Name; // CLIENT LIST's cmd= (Redis sets c->lastcmd before postponing)
        return true;
    }

    /// <summary>A parked client closed.</summary>
    public void Forget(Client client)
    {
        lock (_postponed) _postponed.Remove(client);
    }

    public int PostponedCount
    {
        get { lock (_postponed) return _postponed.Count; }
    }

    /// <summary>
    /// pauseClientsByClient: until <paramref name="endMs"/> (the later of it and a pause already running),
    /// ALL if asked now or before. Timed by a timer on <paramref name="reactor"/>.
    /// </summary>
    public void Pause(long endMs, bool all, Reactor reactor)
    {
        lock (_postponed)
        {
            int actions = all || (_requested & All) != 0 ? All : Write;
            _requested = actions;
            if (_endMs < endMs) _endMs = endMs;
            Update();
        }
        Arm(reactor, endMs);
    }

    private void Arm(Reactor reactor, long endMs)
    {
        long left = endMs - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (left <= 0) return;
        long perMs = Stopwatch.Frequency / 1000;
        long ticks = left > long.MaxValue / 4 / perMs ? long.MaxValue / 4 : left * perMs;
        reactor.Timers.Add(new PauseTimer(this, reactor), Stopwatch.GetTimestamp() + ticks + 1);
    }

    /// <summary>unpauseActions(PAUSE_BY_CLIENT_COMMAND).</summary>
    public void Unpause()
    {
        lock (_postponed)
        {
            _requested = 0;
            _endMs = 0;
            Update();
        }
    }

    /// <summary>A pause timer fired: the pause ends if its (possibly later) deadline has passed.</summary>
    private void Expired(Reactor reactor)
    {
        long end;
        lock (_postponed)
        {
            Update();
            end = _endMs;
        }
        // The monotonic timer may fire a moment before the wall clock reaches the end: look again then.
        if (end != 0) Arm(reactor, end);
    }

    /// <summary>
    /// updatePausedActions (lock held): what is paused now; when that is less than before, every parked client
    /// runs its command again (and may be parked again).
    /// </summary>
    private void Update()
    {
        int before = Actions;
        int now = _endMs > DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() ? _requested : 0;
        if (now == 0)
        {
            _requested = 0;
            _endMs = 0;
        }
        Actions = now;
        _server.Store?.PauseExpiry(now != 0);
        if (now >= before || _postponed.Count == 0) return;
        foreach (var c in _postponed) c.Reactor.Mailbox.Post(new ResumePostponed(c));
        _postponed.Clear();
    }

    private sealed class PauseTimer(ClientPause pause, Reactor reactor) : IReactorTimer
    {
        public long TimerGeneration => 0;
        public void Expired() => pause.Expired(reactor);
    }

    private sealed class ResumePostponed(Client client) : IReactorWork
    {
        public void Run(Reactor reactor)
        {
            try
            {
                client.ResumePostponed();
            }
            catch (Exception e)
            {
                client.Fail(e);
            }
        }
    }
}
