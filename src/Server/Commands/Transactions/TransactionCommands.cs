using NativeKv.Server.Network;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Locks;

namespace NativeKv.Server.Commands.Transactions;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH, UNWATCH (multi.c). The executor queues a client's commands while MULTI is
/// active (<see cref="Transaction.Queue"/>) and, for EXEC, takes the locks of every queued command and every
/// watched key at once (<see cref="CollectLocks"/>): the queued commands then run one after the other with
/// no other client's command between them on any reactor, and their store records reach the AOF as one frame.
/// </summary>
internal static class TransactionCommands
{
    private const CommandFlags Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.AllowBusy;

    [RespCommand("MULTI", Arity = 1, Flags = Flags, Group = CommandGroup.Transactions, Since = "1.2.0",
        Summary = "Starts a transaction.", Complexity = "O(1)")]
    public static void Multi(ref CommandContext ctx)
    {
        // multiCommand
        var t = ctx.Client.Multi;
        if (t.Active)
        {
            ctx.Reply.Error("ERR MULTI calls can not be nested");
            return;
        }
        t.Begin();
        ctx.Reply.Ok();
    }

    [RespCommand("DISCARD", Arity = 1, Flags = Flags, Group = CommandGroup.Transactions, Since = "2.0.0",
        Summary = "Discards a transaction.", Complexity = "O(N), when N is the number of queued commands")]
    public static void Discard(ref CommandContext ctx)
    {
        // discardCommand
        if (ctx.Client.MultiOrNull is not { Active: true } t)
        {
            ctx.Reply.Error("ERR DISCARD without MULTI");
            return;
        }
        End(ref ctx, t);
        ctx.Reply.Ok();
    }

    [RespCommand("WATCH", Arity = -2, Flags = Flags, FirstKey = 1, LastKey = -1, Step = 1, Group = CommandGroup.Transactions, Since = "2.2.0",
        Summary = "Monitors changes to keys to determine the execution of a transaction.", Complexity = "O(1) for every key.")]
    public static void Watch(ref CommandContext ctx)
    {
        // watchCommand
        var t = ctx.Client.Multi;
        if (t.Active)
        {
            ctx.Reply.Error("ERR WATCH inside MULTI is not allowed");
            return;
        }
        // What each key is now (a read may wait on disk: the command runs again, nothing is watched yet).
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        var seen = new (bool Found, long Expiry)[ctx.Count];
        for (int i = 1; i < ctx.Count; i++)
        {
            bool found = store.Read(db, ctx[i], out var slot, OpFlags.HeaderOnly) == OpStatus.Found;
            seen[i] = (found, found ? slot.Expiry : 0);
        }
        if (store.AttemptPending) return;
        for (int i = 1; i < ctx.Count; i++)
        {
            var w = new WatchedKey(db, ctx[i].ToArray(), seen[i].Found, seen[i].Expiry, t);
            if (ctx.Server.Watches.Add(w)) t.Watched.Add(w);
        }
        ctx.Reply.Ok();
    }

    [RespCommand("UNWATCH", Arity = 1, Flags = Flags, Group = CommandGroup.Transactions, Since = "2.2.0",
        Summary = "Forgets about watched keys of a transaction.", Complexity = "O(1)")]
    public static void Unwatch(ref CommandContext ctx)
    {
        // unwatchCommand
        if (ctx.Client.MultiOrNull is { } t) Unwatch(ctx.Server, t);
        ctx.Reply.Ok();
    }

    [RespCommand("EXEC", Arity = 1, Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.SkipSlowlog,
        Group = CommandGroup.Transactions, Since = "1.2.0", Summary = "Executes all commands in a transaction.",
        Complexity = "Depends on commands in the transaction")]
    public static void Exec(ref CommandContext ctx)
    {
        // execCommand
        if (ctx.Client.MultiOrNull is not { Active: true } t)
        {
            ctx.Reply.Error("ERR EXEC without MULTI");
            return;
        }
        if (t.Aborted)
        {
            ctx.Reply.Error("EXECABORT Transaction discarded because of previous errors.");
            End(ref ctx, t);
            return;
        }
        // processCommand's MISCONF check for an EXEC of writes: execCommandAbort.
        if (ctx.Server.WriteDenied is { } denied && HasWrite(t))
        {
            End(ref ctx, t);
            ctx.Reply.Error("EXECABORT Transaction discarded because of: " + denied.TrimStart('-'));
            return;
        }
        // One execution unit (enterExecutionUnit): the expiry of the watched keys, and every queued command,
        // see the time EXEC started (a run that waited on disk, its first run's).
        var store = Db.Store(ref ctx);
        bool froze = store.FreezeClock();
        try { Run(ref ctx, t, store); }
        finally { if (froze) CommandClock.Thaw(); }
    }

    private static void Run(ref CommandContext ctx, Transaction t, StoreSession store)
    {
        // isWatchedKeyExpired: the locks are held, so nothing changes these keys meanwhile.
        if (t.Watched.Count > 0)
        {
            long now = CommandClock.NowMs();
            foreach (var w in t.Watched)
            {
                if (w.Expiry != 0 && w.Expiry <= now) t.Dirty = true;
            }
        }
        if (t.Dirty)
        {
            ctx.Reply.NullArray();
            End(ref ctx, t);
            return;
        }
        var client = ctx.Client;
        // A run that waited on disk starts over from the first command (their finished store operations
        // answer from their slots), in the database the first run started in.
        if (t.ExecDatabase < 0) t.ExecDatabase = client.Database;
        else client.Database = t.ExecDatabase;
        var bytes = t.Bytes;
        ctx.Reply.ArrayHeader(t.Count);
        client.DenyBlocking = true;
        try
        {
            for (int i = 0; i < t.Count; i++)
            {
                var spec = t.Command(i, out var args);
                int db = client.Database;
                int dirty = store.Dirty;
                var inner = new CommandContext(bytes, args, client, spec);
                if (client.TrackingOrNull is { } tracking) Tracking.RememberKeys(client, tracking, spec, bytes, args);
                long started = System.Diagnostics.Stopwatch.GetTimestamp();
                CommandTable.Invoke(spec.Index, ref inner);
                if (store.AttemptPending) return; // the executor runs EXEC again when the reads are in
                long took = System.Diagnostics.Stopwatch.GetTimestamp() - started;
                // call() for each queued command: latency, slow log, MONITOR (their lines before EXEC's).
                var watch = ctx.Server.Watch;
                if (took >= watch.GateTicks) watch.AfterCall(client, lua: false, client.Database, spec, bytes, args, took, Diagnostics.CallKind.Completed);
                // A blocking command in a transaction answers as if it timed out at once (CLIENT_DENY_BLOCKING).
                if (client.BlockOrNull is { Requested: true } block)
                {
                    block.TakeRequest();
                    if (spec.Name is "blmove" or "brpoplpush") ctx.Reply.NullBulk();
                    else ctx.Reply.NullArray();
                }
                if (store.Dirty != dirty) ChangedKeys.Tell(client, spec, db, bytes, args);
            }
        }
        finally { client.DenyBlocking = false; }
        // call() counts each queued command as it runs; here once the whole EXEC has run.
        var stats = client.Reactor.Stats;
        for (int i = 0; i < t.Count; i++)
        {
            stats.CommandsProcessed++;
            stats.Calls[t.Command(i, out _).Index]++;
        }
        End(ref ctx, t);
    }

    private static bool HasWrite(Transaction t)
    {
        for (int i = 0; i < t.Count; i++)
        {
            if ((t.Command(i, out _).Flags & CommandFlags.Write) != 0) return true;
        }
        return false;
    }

    /// <summary>discardTransaction: the queue goes and so do the watches.</summary>
    private static void End(ref CommandContext ctx, Transaction t)
    {
        t.EndMulti();
        Unwatch(ctx.Server, t);
    }

    private static void Unwatch(ServerContext server, Transaction t)
    {
        server.Watches.RemoveAll(t);
        t.Dirty = false;
    }

    /// <summary>A client that closes or RESETs leaves its transaction and its watches.</summary>
    public static void Forget(ServerContext server, Transaction t)
    {
        t.EndMulti();
        Unwatch(server, t);
    }

    /// <summary>
    /// The locks of an EXEC: every queued command's, as that command would take them, exclusive for any that
    /// is not read-only (a SET beside another reactor's SET may not share), and the watched keys shared; a
    /// queued command over the whole keyspace (FLUSHDB, KEYS...) takes the keyspace gate for all of it. The
    /// database of each follows the queued SELECTs.
    /// </summary>
    public static void CollectLocks(Client client, LockSet set, StoreSession? store)
    {
        var t = client.Multi;
        set.Begin();
        set.NamespaceMap = store?.Store.NamespaceMapIdentity;
        if (!t.Active || t.Aborted || t.Dirty) return; // EXEC answers without running anything
        int db = t.ExecDatabase >= 0 ? t.ExecDatabase : client.Database;
        var bytes = t.Bytes;
        for (int i = 0; i < t.Count; i++)
        {
            var spec = t.Command(i, out var args);
            if (CommandTable.NeedsKeyspace(spec, bytes, args))
            {
                set.AddKeyspace();
                continue;
            }
            if (spec.Name == "select" && args.Length == 2 && RespNumber.TryParseInt64(bytes.Slice(args[1].Offset, args[1].Length), out long next)
                && next >= 0 && next < client.Server.Config.Databases)
            {
                db = (int)next;
                continue;
            }
            CommandTable.AddLocks(spec, db, bytes, args, set, store, forceExclusive: (spec.Flags & CommandFlags.ReadOnly) == 0);
        }
        foreach (var w in t.Watched) CommandTable.AddKeyLock(set, store, w.Database, w.Key, exclusive: false);
    }
}
