namespace NativeKv.Server.Network;

/// <summary>
/// The operating-system half of a reactor: how bytes get in and out of its clients' sockets and
/// how the loop waits. Everything else (mailbox, clients, store, cron) is backend-neutral.
/// Used only from the reactor's own thread.
/// </summary>
public abstract class ReactorBackend : IDisposable
{
    /// <summary>"epoll" or "io_uring", as INFO's multiplexing_api reports it.</summary>
    public abstract string Name { get; }

    /// <summary>True when the backend reads the doorbell eventfd itself (io_uring), so the loop need not.</summary>
    public virtual bool ConsumesDoorbell => false;

    /// <summary>Starts serving a newly adopted client (it may already have data waiting).</summary>
    public abstract void Attach(Client client);

    /// <summary>The client has replies to send (now, or with the loop turn's batch).</summary>
    public abstract void Flush(Client client);

    /// <summary>The client may take input again after waiting on the store.</summary>
    public abstract void Resume(Client client);

    /// <summary>The client is closed: release its socket once no operation uses it.</summary>
    public abstract void Release(Client client);

    /// <summary>
    /// Submits what the turn produced, waits up to <paramref name="timeoutMs"/> (only when
    /// <paramref name="sleeping"/>), and dispatches events to clients. Returns true if the
    /// mailbox doorbell rang; the return value counts the I/O events handled.
    /// </summary>
    public abstract int WaitAndDispatch(int timeoutMs, bool sleeping, out bool rang);

    public abstract void Dispose();
}
