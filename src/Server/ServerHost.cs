using System.Diagnostics;
using NativeKv.Interop;
using NativeKv.Server.Config;
using NativeKv.Server.Commands;
using NativeKv.Server.Network;

namespace NativeKv.Server;

/// <summary>Builds the running server from a config: listeners, pinned reactors, the acceptor.</summary>
public sealed class ServerHost : IDisposable
{
    private Acceptor? _acceptor;

    public ServerHost(ServerConfig config, Log log)
    {
        Context = new ServerContext(config, log);
    }

    public ServerContext Context { get; }

    public void Start()
    {
        var config = Context.Config;
        var log = Context.Log;
        var listeners = new List<Listener>();
        int port = config.Port;
        foreach (var raw in config.Bind)
        {
            bool optional = raw.StartsWith('-');
            var address = optional ? raw[1..] : raw;
            try
            {
                var listener = Listener.Open(address, port, config.TcpBacklog);
                listeners.Add(listener);
                // Port 0: every address listens on the port the kernel picked for the first one.
                port = listener.Port;
            }
            catch (NativeException e) when (optional)
            {
                log.Verbose($"Skipping optional bind address {address}: {e.Message}");
            }
        }
        if (listeners.Count == 0) throw new NativeException("Failed listening on port " + config.Port + " (tcp), aborting.", 0);
        Context.Listeners = listeners.ToArray();

        // Creates the store and loads it (checkpoint + AOF); sets Context.Store and Context.WriteLog.
        Context.Persistence = Storage.Persistence.Open(Context);
        Context.Persistence.Locks = Context.Executor.Locks; // a checkpoint's cut takes the keyspace gate
        Context.Persistence.AofLatency = Context.Watch.AddSampleIfNeeded;
        Scripting.FunctionCommands.Recover(Context); // the libraries the store recovered
        Context.Store.Start();
        StoreInfo.Register();
        InfoSections.Persistence = Context.Persistence.WriteInfo;
        Storage.StoreSession.KeysOf = CommandTable.KeyPositions;

        Context.IoBackend = ChooseBackend(config.IoBackend, log);
        var cpus = ReactorCpus(config);
        int count = config.IoThreads > 0 ? config.IoThreads : Math.Max(1, cpus.allowed.Length);
        var reactors = new Reactor[count];
        for (int i = 0; i < count; i++)
        {
            int cpu = cpus.pinned.Length > 0 ? cpus.pinned[i % cpus.pinned.Length] : -1;
            reactors[i] = new Reactor(Context, i, cpu);
        }
        Context.Reactors = reactors;
        Context.Store.BackgroundEvents = new Network.PubSub.KeyspaceNotifier(Context, null); // active expiry's events
        Context.Executor.Locks.SingleThreaded = count == 1; // one reactor: the lock table's fast paths need no atomics
        foreach (var r in reactors) r.Start();
        Context.Store.DiskReadCompleted = () =>
        {
            foreach (var r in reactors) r.DiskReadCompleted();
        };
        Context.Store.ParkSessions = timeout => ReactorPause.Park(reactors, timeout);
        Context.Store.ExpiryListener = Context.Tracking; // expired keys invalidate what clients cached
        var releases = reactors.Select(r => new ReleaseHeldReplies(Context.Persistence)).ToArray();
        Context.Persistence.Start(count, i => reactors[i].Mailbox.Post(releases[i]));

        _acceptor = new Acceptor(Context, Context.Listeners);
        _acceptor.Start();
        var pinning = cpus.pinned.Length > 0 ? $" pinned to CPUs {string.Join(',', reactors.Select(r => r.Cpu))}" : "";
        log.Notice($"{count} reactor thread(s) ({Context.IoBackend}){pinning}");
        foreach (var l in Context.Listeners) log.Notice($"Listening on {l.Address}:{l.Port}");
        log.Notice("Ready to accept connections tcp");
    }

    /// <summary>
    /// io-backend. "epoll" and "io_uring" are taken as asked ("io_uring" refuses to start where the
    /// kernel lacks what the backend needs). "auto" is epoll: on these machines io_uring makes 3-10x
    /// fewer system calls per request but did not use measurably less CPU per request
    /// (./build.sh bench --backends), so it must be chosen explicitly. The log says which ran and why.
    /// </summary>
    private static string ChooseBackend(string wanted, Log log)
    {
        if (wanted == "epoll") return "epoll";
        var reason = UringBackend.Probe();
        if (wanted == "io_uring")
        {
            if (reason is null) return "io_uring";
            throw new NativeException($"io-backend io_uring is not available: {reason}", 0);
        }
        log.Notice(reason is null
            ? "io-backend auto: epoll (io_uring is available; --io-backend io_uring selects it)"
            : $"io-backend auto: epoll (io_uring unavailable: {reason})");
        return "epoll";
    }

    /// <summary>
    /// Reactor CPUs: --cpu-list pins reactor i to the i-th listed CPU; otherwise, when the process
    /// may run on fewer CPUs than the machine has (taskset), reactors are pinned to those CPUs.
    /// </summary>
    private static (int[] allowed, int[] pinned) ReactorCpus(ServerConfig config)
    {
        int[] allowed;
        try { allowed = CpuAffinity.GetAllowedCpus(); }
        catch (NativeException) { allowed = Enumerable.Range(0, Environment.ProcessorCount).ToArray(); }
        if (config.CpuList.Length > 0) return (allowed, config.CpuList);
        bool restricted = allowed.Length < Environment.ProcessorCount || allowed.Length < GetOnlineCpuCount();
        return (allowed, restricted ? allowed : []);
    }

    private static int GetOnlineCpuCount()
    {
        try
        {
            var text = File.ReadAllText("/sys/devices/system/cpu/online").Trim();
            return ConfigValues.ParseCpuList(text, out var cpus) is null ? cpus.Length : Environment.ProcessorCount;
        }
        catch (IOException) { return Environment.ProcessorCount; }
    }

    /// <summary>Stops accepting, lets reactors flush and close their clients.</summary>
    public void Stop()
    {
        _acceptor?.Stop();
        foreach (var l in Context.Listeners) l.Dispose();
        foreach (var r in Context.Reactors) r.Stop();
        foreach (var r in Context.Reactors) r.Join();
        Context.Persistence?.Shutdown(Context.ShutdownSave, Context.ShutdownForceSave);
        Context.Store?.Dispose();
    }

    public void Dispose()
    {
        _acceptor?.Dispose();
        foreach (var r in Context.Reactors) r.Dispose();
    }
}
