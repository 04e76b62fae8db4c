namespace NativeKv.Interop;

/// <summary>A non-blocking eventfd used as a doorbell: Signal adds 1, Drain reads the counter to 0.</summary>
public sealed unsafe class EventFd : IDisposable
{
    public int Fd { get; }

    public EventFd()
    {
        Fd = Errno.Check(LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK), "eventfd");
    }

    public void Signal()
    {
        ulong one = 1;
        // EAGAIN means the counter is saturated: a wake-up is pending anyway.
        LibC.Write(Fd, &one, 8);
    }

    public void Drain()
    {
        ulong value;
        LibC.Read(Fd, &value, 8);
    }

    public void Dispose() => LibC.Close(Fd);
}
