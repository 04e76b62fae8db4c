namespace NativeKv.Interop;

/// <summary>An epoll instance; thin checked wrappers over epoll_ctl.</summary>
public sealed unsafe class Epoll : IDisposable
{
    public int Fd { get; }

    public Epoll()
    {
        Fd = Errno.Check(LibC.EpollCreate1(LibC.EPOLL_CLOEXEC), "epoll_create1");
    }

    public void Add(int fd, uint events, ulong data) => Control(LibC.EPOLL_CTL_ADD, fd, events, data);
    public void Modify(int fd, uint events, ulong data) => Control(LibC.EPOLL_CTL_MOD, fd, events, data);

    public void Remove(int fd)
    {
        EpollEvent ev = default;
        LibC.EpollCtl(Fd, LibC.EPOLL_CTL_DEL, fd, &ev);
    }

    private void Control(int op, int fd, uint events, ulong data)
    {
        EpollEvent ev;
        ev.Events = events;
        ev.Data = data;
        Errno.Check(LibC.EpollCtl(Fd, op, fd, &ev), "epoll_ctl");
    }

    /// <summary>Waits for events; returns the count (0 on timeout or EINTR).</summary>
    public int Wait(EpollEvent* events, int max, int timeoutMs)
    {
        int n = LibC.EpollWait(Fd, events, max, timeoutMs);
        if (n < 0)
        {
            int e = Errno.Last;
            if (e == LibC.EINTR) return 0;
            throw new NativeException($"epoll_wait: {Errno.Describe(e)}", e);
        }
        return n;
    }

    public void Dispose() => LibC.Close(Fd);
}
