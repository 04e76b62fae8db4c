using System.Runtime.InteropServices;
using NativeKv.Interop;
using static NativeKv.Interop.IoUringNative;

namespace NativeKv.Server.Network;

/// <summary>
/// io_uring: one system call per loop turn. Each client has one multishot receive into a shared
/// provided-buffer ring; the replies a turn produces are queued and submitted together with the
/// wait of the next turn; the mailbox doorbell (eventfd) is read through the ring. The ring is
/// single-issuer with deferred task running, so completions are produced only inside our own
/// io_uring_enter.
/// </summary>
public sealed unsafe class UringBackend : ReactorBackend
{
    private const ulong KindRecv = 1, KindSend = 2, KindDoorbell = 3;
    private const ushort BufferGroup = 1;

    private readonly IoUring _ring;
    private readonly IoUring.BufferRing _buffers;
    private readonly int _doorbellFd;
    private readonly ulong* _doorbellValue;
    private readonly Dictionary<long, Client> _conns = new(); // clients with operations in flight
    private readonly List<Client> _sendQueue = new();
    private readonly List<Client> _rearm = new();

    /// <summary>Times the buffer ring ran dry (a multishot receive ended with ENOBUFS).</summary>
    public long BufferExhaustions;

    private UringBackend(IoUring ring, IoUring.BufferRing buffers, int doorbellFd)
    {
        _ring = ring;
        _buffers = buffers;
        _doorbellFd = doorbellFd;
        _doorbellValue = (ulong*)NativeMemory.Alloc(8);
        ArmDoorbell();
    }

    public override string Name => "io_uring";
    public override bool ConsumesDoorbell => true;

    public const uint SetupFlags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL;

    /// <summary>Creates the backend on the calling (reactor) thread, or null with the reason.</summary>
    public static UringBackend? TryCreate(int doorbellFd, ushort bufferCount, int bufferSize, out string? reason)
    {
        var ring = IoUring.TryCreate(1024, SetupFlags, 8192, out reason);
        if (ring is null) return null;
        try
        {
            var buffers = ring.RegisterBufferRing(BufferGroup, bufferCount, bufferSize);
            return new UringBackend(ring, buffers, doorbellFd);
        }
        catch (NativeException e)
        {
            ring.Dispose();
            reason = e.Message;
            return null;
        }
    }

    /// <summary>
    /// Checks, from any thread, that this kernel offers everything the backend needs: the ring
    /// flags, provided-buffer rings and multishot receive (tried on a socketpair). Null if it does.
    /// </summary>
    public static string? Probe()
    {
        var ring = IoUring.TryCreate(8, SetupFlags, 0, out var reason);
        if (ring is null) return reason;
        int* fds = stackalloc int[2];
        try
        {
            using var buffers = ring.RegisterBufferRing(BufferGroup, 2, 64);
            if (LibC.SocketPair(LibC.AF_UNIX, LibC.SOCK_STREAM | LibC.SOCK_CLOEXEC, 0, fds) < 0) return "socketpair failed";
            var sqe = ring.GetSqe();
            PrepareRecv(sqe, fds[0], 7);
            byte* msg = stackalloc byte[4] { (byte)'p', (byte)'i', (byte)'n', (byte)'g' };
            LibC.Send(fds[1], msg, 4, LibC.MSG_NOSIGNAL);
            int r = ring.SubmitAndWait(1, 1000);
            if (r < 0) return $"io_uring_enter: {Errno.Describe(-r)}";
            var cqe = ring.PeekCqe(0);
            if (cqe == null) return "multishot receive did not complete";
            int res = cqe->Res;
            uint flags = cqe->Flags;
            ring.AdvanceCq(1);
            if (res != 4) return $"multishot receive into a provided buffer failed: {Errno.Describe(-res)}";
            if ((flags & IORING_CQE_F_MORE) == 0) return "multishot receive not supported (kernel older than 6.0)";
            return null;
        }
        catch (NativeException e)
        {
            return e.Message;
        }
        finally
        {
            if (fds[0] > 0) { LibC.Close(fds[0]); LibC.Close(fds[1]); }
            ring.Dispose();
        }
    }

    private static void PrepareRecv(IoUringSqe* sqe, int fd, ulong userData)
    {
        sqe->Opcode = IORING_OP_RECV;
        sqe->Fd = fd;
        sqe->IoPrio = IORING_RECV_MULTISHOT;
        sqe->Flags = IOSQE_BUFFER_SELECT;
        sqe->BufGroup = BufferGroup;
        sqe->UserData = userData;
    }

    private static ulong Token(Client c, ulong kind) => ((ulong)c.Id << 3) | kind;

    private void ArmDoorbell()
    {
        var sqe = _ring.GetSqeOrSubmit();
        sqe->Opcode = IORING_OP_READ;
        sqe->Fd = _doorbellFd;
        sqe->Addr = (ulong)_doorbellValue;
        sqe->Len = 8;
        sqe->UserData = KindDoorbell;
    }

    private void ArmRecv(Client client)
    {
        PrepareRecv(_ring.GetSqeOrSubmit(), client.Fd, Token(client, KindRecv));
        client.RecvArmed = true;
    }

    public override void Attach(Client client)
    {
        _conns[client.Id] = client;
        ArmRecv(client);
    }

    public override void Flush(Client client)
    {
        if (client.HoldForCommit()) return; // appendfsync always: replies wait for the AOF commit (Persistence)
        // Sends go out together with the turn's wait; one in flight per client keeps them ordered.
        if (!client.SendQueued && !client.SendInFlight && client.HasPendingOutput())
        {
            client.SendQueued = true;
            _sendQueue.Add(client);
        }
        else if (!client.HasPendingOutput() && !client.SendInFlight)
        {
            client.OutputDrained();
        }
    }

    public override void Resume(Client client)
    {
        client.DrainStash();
        if (!client.Closed) Flush(client);
    }

    public override void Release(Client client)
    {
        // Ends the multishot receive (it completes with 0); a send in flight fails or finishes.
        // The ring holds its own file reference, so the descriptor can go now.
        LibC.Shutdown(client.Fd, LibC.SHUT_RDWR);
        LibC.Close(client.Fd);
        if (!client.RecvArmed && !client.SendInFlight) _conns.Remove(client.Id);
    }

    private void QueueSends()
    {
        foreach (var client in _sendQueue)
        {
            client.SendQueued = false;
            if (client.Closed || client.SendInFlight || !client.HasPendingOutput()) continue;
            var sqe = _ring.GetSqeOrSubmit();
            var pinned = client.OutputArray; // pinned; kept referenced until the send completes
            client.InflightBuffer = pinned;
            sqe->Opcode = IORING_OP_SEND;
            sqe->Fd = client.Fd;
            fixed (byte* p = pinned) sqe->Addr = (ulong)(p + client.OutputSent);
            sqe->Len = (uint)client.Unsent.Length;
            sqe->OpFlags = (uint)LibC.MSG_NOSIGNAL;
            sqe->UserData = Token(client, KindSend);
            client.SendInFlight = true;
        }
        _sendQueue.Clear();
    }

    public override int WaitAndDispatch(int timeoutMs, bool sleeping, out bool rang)
    {
        QueueSends();
        int r = _ring.SubmitAndWait(sleeping ? 1u : 0u, sleeping ? timeoutMs : 0);
        if (r < 0 && r != -LibC.EINTR && r != -ETIME && r != -16 /*EBUSY*/)
            throw new NativeException($"io_uring_enter: {Errno.Describe(-r)}", -r);

        rang = false;
        uint seen = 0, total = 0;
        IoUringCqe* cqe;
        while ((cqe = _ring.PeekCqe(seen)) != null)
        {
            ulong ud = cqe->UserData;
            int res = cqe->Res;
            uint flags = cqe->Flags;
            seen++;
            total++;
            ulong kind = ud & 7;
            if (kind == KindDoorbell)
            {
                rang = true;
                ArmDoorbell();
                continue;
            }
            if (!_conns.TryGetValue((long)(ud >> 3), out var client))
            {
                if ((flags & IORING_CQE_F_BUFFER) != 0) _buffers.Recycle((ushort)(flags >> IORING_CQE_BUFFER_SHIFT));
                continue;
            }
            // One client's failure closes that client only (one try region per completion costs nothing).
            try
            {
                if (kind == KindRecv) OnRecv(client, res, flags);
                else OnSend(client, res);
            }
            catch (Exception e)
            {
                client.Fail(e);
            }
            if (client.Closed && !client.RecvArmed && !client.SendInFlight) _conns.Remove(client.Id);
            // Hand consumed entries back in batches so the kernel never sees the CQ full.
            if (seen == 256)
            {
                _ring.AdvanceCq(seen);
                seen = 0;
            }
        }
        _ring.AdvanceCq(seen);
        _buffers.Publish();
        foreach (var c in _rearm)
        {
            if (!c.Closed && !c.RecvArmed) ArmRecv(c);
        }
        _rearm.Clear();
        return (int)total;
    }

    private void OnRecv(Client client, int res, uint flags)
    {
        if ((flags & IORING_CQE_F_MORE) == 0) client.RecvArmed = false;
        if (res > 0)
        {
            ushort bid = (ushort)(flags >> IORING_CQE_BUFFER_SHIFT);
            try
            {
                if (!client.Closed) client.ReceiveCopy(_buffers.Get(bid, res));
            }
            finally
            {
                _buffers.Recycle(bid); // the ring's buffer is ours to give back whatever the client did
            }
            if (!client.Closed)
            {
                Flush(client);
                if (!client.RecvArmed) _rearm.Add(client); // the multishot ended (e.g. CQ pressure)
            }
            return;
        }
        if (res == -ENOBUFS && !client.Closed)
        {
            // Every provided buffer was in use: re-arm once the turn's buffers are recycled.
            BufferExhaustions++;
            if (!client.RecvArmed) _rearm.Add(client);
            return;
        }
        if (client.Closed) return;
        if (res == 0)
        {
            // EOF: the peer half-closed (or closed); what it sent before still gets its replies.
            client.InputEnded();
            Flush(client);
            return;
        }
        client.Close(); // error
    }

    private void OnSend(Client client, int res)
    {
        client.SendInFlight = false;
        client.InflightBuffer = null;
        if (client.Closed) return;
        if (res < 0)
        {
            client.Close();
            return;
        }
        client.Sent(res);
        if (client.HasPendingOutput()) Flush(client); // short send, or replies added meanwhile
        else client.OutputDrained();
    }

    public override void Dispose()
    {
        _buffers.Dispose();
        _ring.Dispose();
        NativeMemory.Free(_doorbellValue);
    }
}
