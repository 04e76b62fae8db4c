using System.Runtime.InteropServices;
using NativeKv.Interop;

namespace NativeKv.Server.Network;

/// <summary>
/// Accepts connections on every listener and deals them to reactors round-robin through their
/// mailboxes. Runs on its own thread; connections past maxclients get Redis's error and close.
/// </summary>
public sealed unsafe class Acceptor : IDisposable
{
    private readonly ServerContext _server;
    private readonly Listener[] _listeners;
    private readonly Epoll _epoll = new();
    private readonly EventFd _stop = new();
    private readonly Thread _thread;
    private int _next;
    private long _lastFullWarning = -1000;

    public Acceptor(ServerContext server, Listener[] listeners)
    {
        _server = server;
        _listeners = listeners;
        for (int i = 0; i < listeners.Length; i++) _epoll.Add(listeners[i].Fd, LibC.EPOLLIN, (ulong)i);
        _epoll.Add(_stop.Fd, LibC.EPOLLIN, ulong.MaxValue);
        _thread = new Thread(Run) { Name = "acceptor", IsBackground = true };
    }

    public void Start() => _thread.Start();

    public void Stop()
    {
        _stop.Signal();
        _thread.Join();
    }

    private void Run()
    {
        var events = stackalloc EpollEvent[16];
        while (true)
        {
            int n = _epoll.Wait(events, 16, -1);
            for (int i = 0; i < n; i++)
            {
                if (events[i].Data == ulong.MaxValue) return;
                AcceptAll(_listeners[(int)events[i].Data]);
            }
        }
    }

    private void AcceptAll(Listener listener)
    {
        while (true)
        {
            SockAddrStorage peer;
            int len = sizeof(SockAddrStorage);
            int fd = LibC.Accept4(listener.Fd, &peer, &len, LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC);
            if (fd < 0)
            {
                int e = Errno.Last;
                if (e == LibC.EAGAIN) return;
                if (e == LibC.EINTR || e == LibC.ECONNABORTED) continue;
                _server.Log.Warning($"Accepting client connection: {Errno.Describe(e)}");
                if (e == LibC.EMFILE || e == LibC.ENFILE) Thread.Sleep(10);
                return;
            }
            _server.Stats.ConnectionsReceived++;
            ConfigureSocket(fd);
            if (_server.Clients.Count >= _server.Config.MaxClients)
            {
                var msg = "-ERR max number of clients reached\r\n"u8;
                fixed (byte* p = msg) LibC.Send(fd, p, msg.Length, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
                LibC.Close(fd);
                Interlocked.Increment(ref _server.Stats.RejectedConnections);
                continue;
            }
            if (ProtectedMode.Refuses(_server.Config.ProtectedMode, _server.Config.RequirePass.Length > 0, peer))
            {
                fixed (byte* p = ProtectedMode.Denied) LibC.Send(fd, p, ProtectedMode.Denied.Length, LibC.MSG_NOSIGNAL | LibC.MSG_DONTWAIT);
                LibC.Close(fd);
                Interlocked.Increment(ref _server.Stats.RejectedConnections);
                continue;
            }
            SockAddrStorage local;
            int llen = sizeof(SockAddrStorage);
            LibC.GetSockName(fd, &local, &llen);
            var client = new Client(_server, fd, _server.Clients.NextId(), peer.Format(), local.Format());
            _server.Clients.Register(client);
            if (!Deal(new AdoptClient(client)))
            {
                // Every reactor's mailbox (4096 items) is full: the reactors are stuck. Spinning here
                // would also keep SIGTERM from stopping the acceptor; the connection is closed instead.
                _server.Clients.Unregister(client);
                LibC.Close(fd);
                Interlocked.Increment(ref _server.Stats.RejectedConnections);
                if (Environment.TickCount64 - _lastFullWarning >= 1000)
                {
                    _lastFullWarning = Environment.TickCount64;
                    _server.Log.Warning("Accepting client connection: every reactor's mailbox is full, connection closed");
                }
            }
        }
    }

    /// <summary>Round-robin, to the next reactor whose mailbox has room; false when none has.</summary>
    private bool Deal(AdoptClient work)
    {
        var reactors = _server.Reactors;
        for (int i = 0; i < reactors.Length; i++)
        {
            if (reactors[(int)((uint)_next++ % (uint)reactors.Length)].Mailbox.TryPost(work)) return true;
        }
        return false;
    }

    private void ConfigureSocket(int fd)
    {
        int one = 1;
        LibC.SetSockOpt(fd, LibC.IPPROTO_TCP, LibC.TCP_NODELAY, &one, sizeof(int));
        int keepalive = _server.Config.TcpKeepAlive;
        if (keepalive > 0)
        {
            // As Redis's anetKeepAlive: probe after `keepalive` s idle, every third of it, 3 times.
            LibC.SetSockOpt(fd, LibC.SOL_SOCKET, LibC.SO_KEEPALIVE, &one, sizeof(int));
            int idle = keepalive;
            int intvl = Math.Max(1, keepalive / 3);
            int cnt = 3;
            LibC.SetSockOpt(fd, LibC.IPPROTO_TCP, LibC.TCP_KEEPIDLE, &idle, sizeof(int));
            LibC.SetSockOpt(fd, LibC.IPPROTO_TCP, LibC.TCP_KEEPINTVL, &intvl, sizeof(int));
            LibC.SetSockOpt(fd, LibC.IPPROTO_TCP, LibC.TCP_KEEPCNT, &cnt, sizeof(int));
        }
    }

    public void Dispose()
    {
        _epoll.Dispose();
        _stop.Dispose();
    }
}
