using NativeKv.Server.Network;
using NativeKv.Server.Network.Blocking;

namespace NativeKv.Server.Commands;

/// <summary>
/// WAIT and WAITAOF (replication.c waitCommand / waitaofCommand) on a server without replicas: WAIT counts
/// no replica, WAITAOF counts the local AOF once it is synced past the client's last write. Either blocks
/// (BlockKind.Wait, on no key) until its timeout, CLIENT UNBLOCK, or for WAITAOF the sync that covers it,
/// and then runs again to answer with what holds then (replyToBlockedClientTimedOut / processClientsWaitingReplicas).
/// </summary>
internal static class Waits
{
    [RespCommand("WAIT", Arity = 3, Flags = CommandFlags.None, Group = CommandGroup.Generic, Since = "3.0.0",
        Summary = "Blocks until the asynchronous replication of all preceding write commands sent by the connection is completed.",
        Complexity = "O(1)")]
    public static void Wait(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(1, out long numreplicas))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (!TryTimeout(ref ctx, 2, out long timeout)) return;
        var client = ctx.Client;
        var block = client.BlockOrNull;
        if (block is { IsBlocked: true } && block.Ending != UnblockMode.None)
        {
            if (block.Ending == UnblockMode.Error) ctx.Reply.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"u8);
            else ctx.Reply.Integer(0);
            return;
        }
        const long ackReplicas = 0; // replicationCountAcksByOffset: no replica
        if (ackReplicas >= numreplicas || client.DenyBlocking)
        {
            ctx.Reply.Integer(ackReplicas);
            return;
        }
        client.Block.Request(BlockKind.Wait, timeout, 0, 0);
    }

    [RespCommand("WAITAOF", Arity = 4, Flags = CommandFlags.NoScript, Group = CommandGroup.Generic, Since = "7.2.0",
        Summary = "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas.",
        Complexity = "O(1)")]
    public static void WaitAof(ref CommandContext ctx)
    {
        if (!TryRange(ref ctx, 1, 1, out long numlocal) || !TryRange(ref ctx, 2, long.MaxValue, out long numreplicas)) return;
        if (!TryTimeout(ref ctx, 3, out long timeout)) return;
        var client = ctx.Client;
        var server = ctx.Server;
        var persistence = server.Persistence;
        bool aofOn = server.Config.AppendOnly;
        if (numlocal != 0 && !aofOn)
        {
            if (client.BlockOrNull is { IsBlocked: true }) AofWaiters.Of(server).Remove(client);
            ctx.Reply.Error("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.");
            return;
        }
        long synced = aofOn && persistence is not null ? persistence.LocalSyncedUntil : -1;
        long acklocal = synced >= client.WriteOffset ? 1 : 0;
        const long ackReplicas = 0;
        var block = client.BlockOrNull;
        if (block is { IsBlocked: true } && block.Ending != UnblockMode.None)
        {
            AofWaiters.Of(server).Remove(client);
            if (block.Ending == UnblockMode.Error) ctx.Reply.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"u8);
            else Reply(ref ctx, acklocal, ackReplicas);
            return;
        }
        if ((ackReplicas >= numreplicas && acklocal >= numlocal) || client.DenyBlocking)
        {
            Reply(ref ctx, acklocal, ackReplicas);
            return;
        }
        client.Block.Request(BlockKind.Wait, timeout, 0, 0);
        // Only a local sync can satisfy it (no replica ever will): wait for one past the client's write.
        if (ackReplicas >= numreplicas && numlocal > 0 && persistence is not null) AofWaiters.Of(server).Add(client, client.WriteOffset, persistence);
    }

    private static void Reply(ref CommandContext ctx, long acklocal, long ackReplicas)
    {
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Integer(acklocal);
        ctx.Reply.Integer(ackReplicas);
    }

    /// <summary>getRangeLongFromObjectOrReply(0, max) with Redis's default message.</summary>
    private static bool TryRange(ref CommandContext ctx, int i, long max, out long value)
    {
        if (!ctx.TryGetLong(i, out value))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return false;
        }
        if (value < 0 || value > max)
        {
            ctx.Reply.Error($"ERR value is out of range, value must between 0 and {max}");
            return false;
        }
        return true;
    }

    /// <summary>getTimeoutFromObjectOrReply in milliseconds: the relative timeout (0 = none).</summary>
    internal static bool TryTimeout(ref CommandContext ctx, int i, out long timeoutMs)
    {
        if (!ctx.TryGetLong(i, out timeoutMs))
        {
            ctx.Reply.Error("ERR timeout is not an integer or out of range");
            return false;
        }
        if (timeoutMs < 0)
        {
            ctx.Reply.Error("ERR timeout is negative");
            return false;
        }
        if (timeoutMs > 0 && timeoutMs > long.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
        {
            ctx.Reply.Error("ERR timeout is out of range");
            return false;
        }
        return true;
    }
}

/// <summary>Clients in WAITAOF waiting for an AOF sync past their last write; the persistence thread wakes them.</summary>
internal sealed class AofWaiters
{
    private readonly List<(Client Client, long Offset)> _waiting = new();
    private readonly ServerContext _server;
    private bool _subscribed;

    public AofWaiters(ServerContext server) => _server = server;

    public static AofWaiters Of(ServerContext server) => server.AofWaiters;

    public void Add(Client client, long offset, Storage.Persistence persistence)
    {
        lock (_waiting)
        {
            _waiting.Add((client, offset));
            if (_subscribed) return;
            _subscribed = true;
        }
        persistence.AofSynced += Synced;
    }

    public void Remove(Client client)
    {
        lock (_waiting) _waiting.RemoveAll(w => w.Client == client);
    }

    /// <summary>Persistence thread: every waiter the sync covers runs again (and answers [1, 0]).</summary>
    private void Synced()
    {
        long synced = _server.Persistence?.LocalSyncedUntil ?? -1;
        lock (_waiting)
        {
            for (int i = _waiting.Count - 1; i >= 0; i--)
            {
                var (c, offset) = _waiting[i];
                if (c.Closed) { _waiting.RemoveAt(i); continue; }
                if (offset > synced || c.BlockOrNull is not { } block) continue;
                // Not registered yet (between the handler and the executor): the next sync looks again.
                if (_server.Blocking.RequestUnblock(block, UnblockMode.Timeout)) _waiting.RemoveAt(i);
            }
        }
    }
}
