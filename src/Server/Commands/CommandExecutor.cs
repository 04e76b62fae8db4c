using System.Diagnostics;
using NativeKv.Server.Network;
using NativeKv.Server.Network.Blocking;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage.Locks;

namespace NativeKv.Server.Commands;

/// <summary>
/// The one place a parsed request becomes a handler call: lookup (generated), subcommand
/// resolution, the arity check, authentication, CLIENT REPLY modes and per-command stats.
/// </summary>
public sealed class CommandExecutor(ServerContext server)
{
    private readonly ServerContext _server = server;

    /// <summary>The key-lock table every command with keys goes through (Storage/Locks).</summary>
    public KeyLockTable Locks { get; } = new();

    /// <summary>
    /// Runs one command. False when it waits, on disk or for its key locks (<c>client.Locks.IsParked</c>):
    /// nothing was replied or consumed, and the caller runs it again (same input, same args) once the
    /// client's store operations complete or its locks are granted. Locks, once held, stay held across
    /// those runs and are released when the command has finished.
    /// </summary>
    public bool Execute(Client client, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        var output = client.Output;
        var stats = client.Reactor.Stats;
        long carried = stats.LastCommandEnd; // the previous command's end, when it ran just before this one
        stats.LastCommandEnd = 0;
        var name = input.Slice(args[0].Offset, args[0].Length);

        // CLIENT REPLY SKIP silences exactly the next command.
        bool skipThis = client.ReplyMode == ReplyMode.Skip;
        if (skipThis) client.ReplyMode = ReplyMode.Off;
        output.Enabled = client.ReplyMode == ReplyMode.On;

        int index = CommandTable.Lookup(name);
        if (index < 0)
        {
            RejectUnknown(client, input, args, stats);
            FinishReplyMode(client, skipThis);
            return true;
        }
        var spec = CommandTable.Commands[index];
        if (spec.IsContainer && (args.Length >= 2 || !spec.HasHandler))
        {
            if (args.Length < 2)
            {
                Reject(client, spec, stats, $"ERR wrong number of arguments for '{spec.Name}' command");
                FinishReplyMode(client, skipThis);
                return true;
            }
            var subName = input.Slice(args[1].Offset, args[1].Length);
            int sub = CommandTable.LookupSubcommand(index, subName);
            if (sub < 0)
            {
                RejectUnknownSubcommand(client, spec, subName, stats);
                FinishReplyMode(client, skipThis);
                return true;
            }
            spec = CommandTable.Commands[sub];
        }

        int arity = spec.Arity;
        if ((arity > 0 && args.Length != arity) || args.Length < -arity)
        {
            Reject(client, spec, stats, $"ERR wrong number of arguments for '{spec.Name}' command");
            FinishReplyMode(client, skipThis);
            return true;
        }
        if (!client.Authenticated && (spec.Flags & CommandFlags.NoAuth) == 0)
        {
            Reject(client, spec, stats, "NOAUTH Authentication required.");
            FinishReplyMode(client, skipThis);
            return true;
        }

        // processCommand: a RESP2 client in pub/sub mode runs only the subscription commands, PING, QUIT and RESET.
        if (client.Restricted != 0 && RestrictedRefusal(client, spec) is { } refusal)
        {
            Reject(client, spec, stats, refusal);
            FinishReplyMode(client, skipThis);
            return true;
        }

        // processCommand's BUSY: a script past busy-reply-threshold on another reactor (this one's clients
        // wait for it: the reactor runs the script). allow-busy commands (SCRIPT KILL, SHUTDOWN...) pass.
        if (Scripting.Scripts.Running.Busy && (spec.Flags & CommandFlags.AllowBusy) == 0 && !Scripting.Scripts.Running.RunsOn(client.Reactor.Index))
        {
            Reject(client, spec, stats, Scripting.Scripts.Running.BusyError);
            FinishReplyMode(client, skipThis);
            return true;
        }

        var block = client.BlockOrNull;
        // (WAIT and WAITAOF answer their timeout themselves: they run again.)
        if (block is not null && block.Ending != UnblockMode.None && block.Kind != BlockKind.Wait)
        {
            EndBlocked(client, block, spec, stats, input, args);
            FinishReplyMode(client, skipThis);
            return true;
        }

        if (_server.WriteDenied is { } denied && ((spec.Flags & CommandFlags.Write) != 0 || spec.Name == "ping"))
        {
            // Nothing a write does may be acknowledged while the disk refuses it (Redis denies PING too).
            // (A write parked on its locks may come back here once the disk failed: it never ran.)
            if (client.Locks.IsHeld) Locks.Release(client.Locks);
            if (block is not null && block.IsBlocked) block.Unblock(_server.Blocking); // a re-run refused: it ends here
            Reject(client, spec, stats, denied);
            FinishReplyMode(client, skipThis);
            return true;
        }

        var multi = client.MultiOrNull;
        // processCommand's blockPostponeClient: CLIENT PAUSE holds the command (a first run only: a re-run
        // after a disk wait or a lock grant is already under way). It runs again when the pause ends.
        if (_server.Pause.Actions != 0 && !client.Locks.IsHeld && !client.Locks.IsParked && client.StoreState.Slots.Count == 0
            && (block is null || !block.IsBlocked)
            && _server.Pause.Holds(spec, client, input, args, spec.Index == ExecIndex && multi is { Active: true })
            && _server.Pause.Postpone(client, spec))
        {
            if (skipThis) client.ReplyMode = ReplyMode.Skip;
            output.Enabled = true;
            return false;
        }
        if (multi is { Active: true } && !RunsInMulti(spec))
        {
            // processCommand: inside MULTI a command is queued (queueMultiCommand), unless refused.
            if ((spec.Flags & CommandFlags.NoMulti) != 0) Reject(client, spec, stats, "ERR Command not allowed inside a transaction");
            else
            {
                // An aborted transaction keeps nothing (queueMultiCommand): EXEC will run none of it.
                if (!multi.Aborted && !multi.Dirty) multi.Queue(spec, input, args);
                output.SimpleString("QUEUED"u8);
            }
            FinishReplyMode(client, skipThis);
            return true;
        }
        bool exec = spec.Index == ExecIndex && multi is { Active: true };

        var locks = client.Locks;
        if (!locks.IsHeld && (exec || CommandTable.Locks(spec)))
        {
            var session = client.Reactor.Store;
            while (true)
            {
                // First run of the command (not a replay after disk, not a resumption after a grant).
                if (!locks.IsParked)
                {
                    if (exec) Transactions.TransactionCommands.CollectLocks(client, locks, session);
                    else CommandTable.CollectLocks(spec, client.Database, input, args, locks, session);
                }
                if (!Locks.Acquire(locks))
                {
                    // Parked: the waiter's Granted() resumes the client through its reactor's mailbox.
                    if (skipThis) client.ReplyMode = ReplyMode.Skip;
                    output.Enabled = true;
                    return false;
                }
                // Keys are striped by their namespace: a FLUSHDB or SWAPDB that ran before the keyspace gate
                // was ours gave their database another one. Hash them again under the new map (it cannot
                // change again while the gate is held).
                if (locks.NamespaceMap is null || ReferenceEquals(locks.NamespaceMap, session!.Store.NamespaceMapIdentity)) break;
                Locks.Release(locks);
            }
        }

        long errorsBefore = output.ErrorCount;
        long start = carried != 0 ? carried : Stopwatch.GetTimestamp();
        var ctx = new CommandContext(input, args, client, spec);
        var store = client.Reactor.Store;
        int mark = output.Mark;
        int db = client.Database;
        store?.BeginCommand(client.StoreState);
        // A write naming several keys (SMOVE, RENAME, MSET, DEL a b...) may write several records: they
        // reach the AOF as one frame, applied whole by recovery. Decided before its first record, in every run.
        // So do the records of an EXEC's commands.
        if (store is not null && locks.IsHeld && ((locks.KeyCount > 1 && (spec.Flags & CommandFlags.Write) != 0) || exec)) store.FrameWrites();
        block?.TakeRequest(); // a request from an attempt that then waited on disk is not this attempt's
        // A tracking client's keys go in the table before it reads them: a write beside it (SET shares the
        // key's lock with GET) that changes them after the read then finds them and invalidates.
        if (client.TrackingOrNull is { } tracking) Tracking.BeforeCommand(client, tracking, spec, input, args);
        CommandTable.Invoke(spec.Index, ref ctx);
        if (store is not null && store.EndCommand())
        {
            // Waits on disk: drop the partial reply; the same request runs again later. A walk over a
            // paged collection keeps its finished rounds' reply (it resumes after them: BucketWalk).
            output.Truncate(Math.Max(mark, client.StoreState.ReplyKept));
            if (client.Reactor.PubSub.HasStaged) client.Reactor.PubSub.DropStaged(); // published again by the next run
            _server.Watch.Monitors.DropStaged(client.Reactor); // so are its MONITOR lines
            if (skipThis) client.ReplyMode = ReplyMode.Skip;
            output.Enabled = true;
            return false;
        }
        long end = Stopwatch.GetTimestamp();
        long elapsed = end - start;
        if (store is not null && store.Dirty > 0 && _server.WriteLog is { } writeLog) writeLog.Append(db, input, args, client);
        block = client.BlockOrNull; // a client's first blocking command creates it in the handler
        bool blocks = block is not null && block.Requested;
        bool firstBlock = blocks && !block!.IsBlocked;
        // Waits registered while its locks are held: a push cannot land between its look and its registration.
        if (firstBlock) block!.Register(_server.Blocking, db, input, args);
        // touchWatchedKey, while its locks still shut out an EXEC watching these keys (EXEC touches for its own commands).
        if (store is not null && store.Dirty > 0 && _server.Watches.Any && !exec) TouchWatched(spec, db, input, args);
        // trackingInvalidateKey, told when the command has finished (EXEC tells for its own commands).
        if (store is not null && store.Dirty > 0 && _server.Tracking.Active && !exec) Tracking.Changed(client, spec, input, args);
        // Finished, its AOF records appended: other clients may see its keys now.
        if (locks.IsHeld) Locks.Release(locks);

        var watch = _server.Watch;
        if (blocks)
        {
            // Blocked: nothing replied, the command stays unconsumed and the client reads no further. Not
            // counted until it ends (Redis's call() skips the stats of a command that blocked). MONITOR sees
            // it now, the slow log when it ends.
            if (firstBlock && elapsed >= watch.GateTicks) AfterCall(watch, client, spec, input, args, elapsed, Diagnostics.CallKind.Blocked);
            block!.CalledTicks += elapsed;
            block.TakeRequest();
            if (!firstBlock) block.Reblocked(_server.Blocking);
            client.LastCommand = spec.Name;
            if (skipThis) client.ReplyMode = ReplyMode.Skip;
            output.Enabled = true;
            return false;
        }
        // A re-run that replied (served, or an error such as BLMOVE's WRONGTYPE destination) unblocks.
        bool rerun = block is not null && block.IsBlocked;
        if (rerun)
        {
            elapsed += block!.CalledTicks; // the runs that blocked count with this one (call()'s c->duration)
            block.Unblock(_server.Blocking);
        }
        // signalKeyAsReady for every key of a write that changed something, after it completed. A transaction
        // or script would signal here too, once, after EXEC or the script (there is no MULTI yet): its
        // waiters must see the whole of it. One volatile read when nobody is blocked.
        if (store is not null && store.Dirty > 0 && _server.Blocking.AnyBlocked) SignalKeys(spec, db, input, args);

        stats.CommandsProcessed++;
        stats.Calls[spec.Index]++;
        stats.Microseconds[spec.Index] += elapsed * 1_000_000 / Stopwatch.Frequency;
        if (output.ErrorCount != errorsBefore)
        {
            stats.FailedCalls[spec.Index]++;
            stats.CountError(output.LastErrorPrefix);
        }
        client.LastCommand = spec.Name;
        // call()'s latency sample, slow log entry and MONITOR line: one compare when nothing wants this one.
        if (elapsed >= watch.GateTicks)
            AfterCall(watch, client, spec, input, args, elapsed, rerun || client.Reprocessing ? Diagnostics.CallKind.Reprocessed : Diagnostics.CallKind.Completed);
        FinishReplyMode(client, skipThis);
        // What it published goes out now, after its reply (a subscriber publishing to itself reads the count first).
        if (client.Reactor.PubSub.HasStaged || client.SubscriptionsOrNull?.Deferred is not null) client.Reactor.PubSub.AfterCommand(client);
        stats.LastCommandEnd = end;
        return true;
    }

    /// <summary>The slow path of call()'s tail: the watchers, then the command's MONITOR lines go out.</summary>
    private static void AfterCall(Diagnostics.CommandWatch watch, Client client, CommandSpec spec, ReadOnlySpan<byte> input,
        ReadOnlySpan<ArgRange> args, long elapsed, Diagnostics.CallKind kind)
    {
        // The database after the call (SELECT shows the one it selected), as Redis's c->db.
        watch.AfterCall(client, lua: false, client.Database, spec, input, args, elapsed, kind);
        watch.Monitors.Publish(client.Reactor);
    }

    /// <summary>
    /// processCommand's refusals for a restricted client: a RESP2 client in pub/sub mode runs only the
    /// subscription commands, PING, QUIT and RESET; a monitor (CLIENT_SLAVE) touches no keyspace.
    /// </summary>
    private static string? RestrictedRefusal(Client client, CommandSpec spec)
    {
        if ((client.Restricted & 2) != 0 && (spec.Flags & (CommandFlags.Write | CommandFlags.ReadOnly | CommandFlags.MayReplicate)) != 0)
            return "ERR Replica can't interact with the keyspace";
        if (client.InPubSub && client.Output.Protocol == 2 && !AllowedInPubSub(spec))
            return $"ERR Can't execute '{spec.Name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";
        return null;
    }

    private static readonly int ExecIndex = CommandTable.Lookup("exec"u8);
    private static readonly int DiscardIndex = CommandTable.Lookup("discard"u8);
    private static readonly int MultiIndex = CommandTable.Lookup("multi"u8);
    private static readonly int WatchIndex = CommandTable.Lookup("watch"u8);
    private static readonly int QuitIndex = CommandTable.Lookup("quit"u8);
    private static readonly int ResetIndex = CommandTable.Lookup("reset"u8);

    private static readonly int PingIndex = CommandTable.Lookup("ping"u8);
    private static readonly int SubscribeIndex = CommandTable.Lookup("subscribe"u8);
    private static readonly int UnsubscribeIndex = CommandTable.Lookup("unsubscribe"u8);
    private static readonly int PsubscribeIndex = CommandTable.Lookup("psubscribe"u8);
    private static readonly int PunsubscribeIndex = CommandTable.Lookup("punsubscribe"u8);
    private static readonly int SsubscribeIndex = CommandTable.Lookup("ssubscribe"u8);
    private static readonly int SunsubscribeIndex = CommandTable.Lookup("sunsubscribe"u8);

    private static bool AllowedInPubSub(CommandSpec spec)
    {
        int i = spec.Index;
        return i == PingIndex || i == SubscribeIndex || i == UnsubscribeIndex || i == PsubscribeIndex || i == PunsubscribeIndex
            || i == SsubscribeIndex || i == SunsubscribeIndex || i == QuitIndex || i == ResetIndex;
    }

    /// <summary>The commands processCommand runs inside MULTI instead of queueing them.</summary>
    private static bool RunsInMulti(CommandSpec spec)
    {
        int i = spec.Index;
        return i == ExecIndex || i == DiscardIndex || i == MultiIndex || i == WatchIndex || i == QuitIndex || i == ResetIndex;
    }

    /// <summary>The transactions watching a key this write changed fail their EXEC.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private void TouchWatched(CommandSpec spec, int db, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        int other = CommandTable.OtherDatabaseOf(spec, input, args, db);
        foreach (int k in CommandTable.AllKeyIndexes(spec, input, args, stackalloc int[64]))
        {
            var key = input.Slice(args[k].Offset, args[k].Length);
            _server.Watches.Touch(db, key);
            if (other >= 0) _server.Watches.Touch(other, key);
        }
    }

    /// <summary>Makes the keys a write command names ready for the clients blocked on them.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private void SignalKeys(CommandSpec spec, int db, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        // MOVE key n, COPY src dst DB n: the keys are written in database n too (dbAdd there signals them).
        int other = CommandTable.OtherDatabaseOf(spec, input, args, db);
        foreach (int k in CommandTable.AllKeyIndexes(spec, input, args, stackalloc int[64]))
        {
            var key = input.Slice(args[k].Offset, args[k].Length);
            _server.Blocking.Signal(db, key);
            if (other >= 0) _server.Blocking.Signal(other, key);
        }
    }

    /// <summary>
    /// unblockClientOnTimeout / unblockClientOnError: the blocked command ends without running again, with
    /// replyToBlockedClientTimedOut's null array or CLIENT UNBLOCK ERROR's error, and is counted then
    /// (updateStatsOnUnblock).
    /// </summary>
    private void EndBlocked(Client client, BlockState block, CommandSpec spec, ReactorStats stats, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        var output = client.Output;
        bool error = block.Ending == UnblockMode.Error;
        if (error) output.Error("UNBLOCKED client unblocked via CLIENT UNBLOCK"u8);
        else output.NullArray();
        long elapsed = block.CalledTicks; // updateStatsOnUnblock(c, 0, 0, ...): the runs that blocked, not the wait
        block.Unblock(_server.Blocking);
        if (elapsed >= _server.Watch.GateTicks) AfterCall(_server.Watch, client, spec, input, args, elapsed, Diagnostics.CallKind.Reprocessed);
        stats.CommandsProcessed++;
        stats.Calls[spec.Index]++;
        stats.Microseconds[spec.Index] += elapsed * 1_000_000 / Stopwatch.Frequency;
        if (error)
        {
            stats.FailedCalls[spec.Index]++;
            stats.CountError(output.LastErrorPrefix);
        }
        client.LastCommand = spec.Name;
    }

    private static void FinishReplyMode(Client client, bool skipped)
    {
        // SKIP lasts one command; a CLIENT REPLY issued by this command already set the new mode.
        if (skipped && client.ReplyMode == ReplyMode.Off) client.ReplyMode = ReplyMode.On;
        client.Output.Enabled = true;
        if (client.TrackingOrNull is { } tracking) Tracking.AfterCommand(client, tracking);
    }

    private static void Reject(Client client, CommandSpec spec, ReactorStats stats, string error)
    {
        FlagTransaction(client);
        client.Output.Error(error);
        stats.RejectedCalls[spec.Index]++;
        stats.CountError(client.Output.LastErrorPrefix);
    }

    /// <summary>
    /// Redis's commandCheckExistence: "unknown command '%.128s', with args beginning with: " and
    /// "'%.*s' " per argument while the list is under 128 bytes; the client's bytes as sent.
    /// </summary>
    /// <summary>flagTransaction: a command refused inside MULTI makes its EXEC fail with EXECABORT.</summary>
    private static void FlagTransaction(Client client)
    {
        if (client.MultiOrNull is { Active: true } multi) multi.Aborted = true;
    }

    private static void RejectUnknown(Client client, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, ReactorStats stats)
    {
        FlagTransaction(client);
        var text = new ErrorText.Builder(320);
        text.Append("ERR unknown command '"u8);
        text.Append(ErrorText.CString(input.Slice(args[0].Offset, args[0].Length), 128));
        text.Append("', with args beginning with: "u8);
        int listStart = text.Length;
        for (int i = 1; i < args.Length && text.Length - listStart < 128; i++)
        {
            text.Append("'"u8);
            text.Append(ErrorText.CString(input.Slice(args[i].Offset, args[i].Length), 128 - (text.Length - 1 - listStart)));
            text.Append("' "u8);
        }
        text.Reply(client.Output, trimEnd: false);
        stats.CountError(client.Output.LastErrorPrefix);
    }

    /// <summary>"unknown subcommand '%.128s'. Try CONFIG HELP."</summary>
    private static void RejectUnknownSubcommand(Client client, CommandSpec spec, ReadOnlySpan<byte> subName, ReactorStats stats)
    {
        FlagTransaction(client);
        var text = new ErrorText.Builder(200);
        text.Append("ERR unknown subcommand '"u8);
        text.Append(ErrorText.CString(subName, 128));
        text.Append("'. Try "u8);
        text.Append(spec.Name.ToUpperInvariant());
        text.Append(" HELP."u8);
        text.Reply(client.Output, trimEnd: false);
        stats.RejectedCalls[spec.Index]++;
        stats.CountError(client.Output.LastErrorPrefix);
    }
}
