using NativeKv.Server.Commands;
using NativeKv.Server.Network;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage.Locks;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// redis.call inside a running script (scriptCall): the checks Redis makes before a script's command, the
/// lock check of its keys, then the handler run as EXEC runs its queued commands, its reply captured at the
/// end of the client's output and converted to Lua.
/// </summary>
internal static unsafe class ScriptCalls
{
    [ThreadStatic] private static byte[]? _bytes;
    [ThreadStatic] private static ArgRange[]? _args;

    private static int lua_upvalueindex(int i) => LUA_GLOBALSINDEX - i;

    /// <summary>Stack: the command's arguments (upvalue 1: whether errors raise, redis.call, or return, redis.pcall).</summary>
    public static int Call(LuaEngine e, nint L)
    {
        var run = e.Run!;
        bool raise = lua_toboolean(L, lua_upvalueindex(1)) != 0;
        int argc = lua_gettop(L);
        if (run.Abort != AbortReason.None) return Fail(L, true, "script aborted");
        if (argc == 0) return Fail(L, raise, "Please specify at least one argument for this redis lib call");
        // luaArgsToRedisArgv: numbers by fpconv_dtoa, strings as they are, anything else refused.
        var bytes = _bytes ??= new byte[1024];
        var args = _args ??= new ArgRange[16];
        if (args.Length < argc) args = _args = new ArgRange[Math.Max(argc, args.Length * 2)];
        int length = 0;
        Span<byte> num = stackalloc byte[32];
        for (int i = 0; i < argc; i++)
        {
            int idx = i + 1;
            scoped ReadOnlySpan<byte> a;
            int t = lua_type(L, idx);
            if (t == LUA_TNUMBER) a = num[..RespWriter.FormatDouble(lua_tonumber(L, idx), num)];
            else if (t == LUA_TSTRING)
            {
                nuint len;
                byte* s = lua_tostringbytes(L, idx, &len);
                a = new ReadOnlySpan<byte>(s, (int)len);
            }
            else return Fail(L, raise, "Lua redis lib command arguments must be strings or integers");
            if (length + a.Length > bytes.Length) Array.Resize(ref bytes, Math.Max(bytes.Length * 2, length + a.Length));
            a.CopyTo(bytes.AsSpan(length));
            args[i] = new ArgRange(length, a.Length);
            length += a.Length;
        }
        _bytes = bytes;
        lua_settop(L, 0);
        var input = bytes.AsSpan(0, length);
        var argv = args.AsSpan(0, argc);

        // scriptVerifyCommandArity, the noscript flag, writes from read-only scripts.
        int index = CommandTable.Lookup(input.Slice(argv[0].Offset, argv[0].Length));
        CommandSpec? spec = index < 0 ? null : CommandTable.Commands[index];
        if (spec is not null && spec.IsContainer && (argc >= 2 || !spec.HasHandler))
        {
            int sub = argc >= 2 ? CommandTable.LookupSubcommand(index, input.Slice(argv[1].Offset, argv[1].Length)) : -1;
            spec = sub < 0 ? null : CommandTable.Commands[sub];
        }
        if (spec is null) return Fail(L, raise, "Unknown Redis command called from script");
        if ((spec.Arity > 0 && argc != spec.Arity) || argc < -spec.Arity) return Fail(L, raise, "Wrong number of args calling Redis command from script");
        if ((spec.Flags & CommandFlags.NoScript) != 0) return Fail(L, raise, "This Redis command is not allowed from script");
        bool write = (spec.Flags & CommandFlags.Write) != 0;
        if (run.ReadOnly && (write || (spec.Flags & CommandFlags.MayReplicate) != 0))
            return Fail(L, raise, "Write commands are not allowed from read-only scripts.");
        var client = run.Client;
        var server = client.Server;
        if (write && !run.WriteDirty && server.WriteDenied is { } denied) return Fail(L, raise, "-" + denied.TrimStart('-'));

        // Its keys must be under the script's locks (docs/storage.md, Scripting).
        var store = client.Reactor.Store;
        if (store is not null && CheckKeys(e, run, spec, input, argv, store) is { } lockError)
        {
            run.Abort = AbortReason.LockBusy;
            run.LockError = lockError;
            e.StopScript();
            return Fail(L, true, lockError);
        }
        if (write) run.WriteDirty = true;

        var output = client.Output;
        int protocol = output.Protocol;
        bool enabled = output.Enabled;
        output.Protocol = run.Resp;
        output.Enabled = true;
        int mark = output.Mark;
        int db = client.Database;
        int dirty = store?.Dirty ?? 0;
        var ctx = new CommandContext(input, argv, client, spec);
        // call(): the keys a script reads are remembered for the client that runs it.
        if (client.TrackingOrNull is { } tracking) Commands.Tracking.RememberKeys(client, tracking, spec, input, argv);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        CommandTable.Invoke(spec.Index, ref ctx);
        long took = System.Diagnostics.Stopwatch.GetTimestamp() - started;
        if (store is not null && store.AttemptPending)
        {
            // Waits on disk: the whole script runs again once the read is in (its finished operations
            // answer from their slots); this run stops at its next instruction, whatever it catches.
            output.Truncate(mark);
            output.Protocol = protocol;
            output.Enabled = enabled;
            run.Abort = AbortReason.Pending;
            e.StopScript();
            return Fail(L, true, "script waits on disk");
        }
        if (client.BlockOrNull is { Requested: true } block)
        {
            // CLIENT_DENY_BLOCKING: a blocking command answers as if it timed out at once.
            block.TakeRequest();
            if (spec.Name is "blmove" or "brpoplpush") output.NullBulk();
            else output.NullArray();
        }
        if (store is not null && store.Dirty != dirty) ChangedKeys.Tell(client, spec, db, input, argv);
        // call() from the script's client: latency, slow log ("?:0") and MONITOR ("[db lua]").
        if (took >= server.Watch.GateTicks) server.Watch.AfterCall(client, lua: true, client.Database, spec, input, argv, took, Commands.Diagnostics.CallKind.Completed);
        var stats = client.Reactor.Stats;
        stats.CommandsProcessed++;
        stats.Calls[spec.Index]++;

        var reply = output.Written[mark..];
        bool error = reply.Length > 0 && reply[0] == '-';
        if (reply.Length > 0) LuaReplies.Push(L, reply, 0);
        else lua_pushnil(L);
        output.Truncate(mark);
        output.Protocol = protocol;
        output.Enabled = enabled;
        return error ? Finish(L, raise) : 1;
    }

    /// <summary>An error of redis.call raised in the script (<see cref="LuaEngine.RaiseLater"/>), or of redis.pcall returned.</summary>
    internal static int Fail(nint L, bool raise, string message)
    {
        lua_settop(L, 0);
        LuaReplies.PushError(L, message);
        return Finish(L, raise);
    }

    private static int Finish(nint L, bool raise)
    {
        if (!raise) return 1;
        LuaEngine.Current.RaiseLater(L);
        return 0;
    }

    /// <summary>
    /// Null when every key of the command is covered by the script's locks (or the script runs alone in
    /// the keyspace); a key outside them is taken now if nobody holds it, else the run stops with the error.
    /// </summary>
    private static string? CheckKeys(LuaEngine e, ScriptRun run, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, Storage.StoreSession store)
    {
        var locks = run.Client.Locks;
        if (CommandTable.NeedsKeyspace(spec, input, args))
        {
            // FLUSHDB, KEYS, SCAN, a SORT with patterns...: only a script alone in the keyspace may run them.
            run.TouchedUndeclared = true;
            return locks.HoldsKeyspace ? null : "Script attempted to run a command over the whole keyspace while holding only its declared keys (the script's next runs take the whole keyspace)";
        }
        if (spec.FirstKey <= 0 && spec.NumKeysIndex <= 0 && (spec.Lock & KeyLock.Movable) == 0) return null;
        var table = run.Client.Server.Executor.Locks;
        int db = run.Client.Database;
        bool exclusive = (spec.Flags & CommandFlags.ReadOnly) == 0;
        int other = CommandTable.OtherDatabaseOf(spec, input, args, db); // MOVE, COPY ... DB: the key there too
        foreach (int k in CommandTable.AllKeyIndexes(spec, input, args, stackalloc int[64]))
        {
            var key = input.Slice(args[k].Offset, args[k].Length);
            if (!Covered(run, locks, table, store, db, key, exclusive) || (other >= 0 && !Covered(run, locks, table, store, other, key, exclusive)))
                return "Script attempted to access a key not declared in KEYS while another client held it (the script's next runs take the whole keyspace)";
        }
        return null;
    }

    private static bool Covered(ScriptRun run, LockSet locks, KeyLockTable table, Storage.StoreSession store, int db, ReadOnlySpan<byte> key, bool exclusive)
    {
        int stripe = KeyLockTable.StripeOf(store.HashKey(db, key), 0);
        if (locks.HoldsKeyspace)
        {
            // Alone in the keyspace (a first run, or a script known to stray): learn whether it keeps to KEYS.
            if (!run.IsDeclared(db, stripe)) run.TouchedUndeclared = true;
            return true;
        }
        if (locks.Covers(stripe, exclusive)) return true;
        run.TouchedUndeclared = true;
        return table.TryAdd(locks, stripe, exclusive);
    }
}
