using System.Text;
using NativeKv.Server.Commands;
using NativeKv.Server.Protocol;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (eval.c).</summary>
internal static unsafe class ScriptCommands
{
    private const CommandFlags EvalFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor | CommandFlags.MayReplicate
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.MovableKeys;
    private const CommandFlags EvalRoFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.ReadOnly | CommandFlags.MovableKeys;

    private const string NoScript = "NOSCRIPT No matching script. Please use EVAL.";

    [RespCommand("EVAL", Arity = -3, Flags = EvalFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Executes a server-side Lua script.", Since = "2.6.0", Complexity = "Depends on the script that is executed.")]
    public static void Eval(ref CommandContext ctx) => EvalGeneric(ref ctx, sha: false, ro: false);

    [RespCommand("EVALSHA", Arity = -3, Flags = EvalFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Executes a server-side Lua script by SHA1 digest.", Since = "2.6.0", Complexity = "Depends on the script that is executed.")]
    public static void EvalSha(ref CommandContext ctx) => EvalGeneric(ref ctx, sha: true, ro: false);

    [RespCommand("EVAL_RO", Arity = -3, Flags = EvalRoFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Executes a read-only server-side Lua script.", Since = "7.0.0", Complexity = "Depends on the script that is executed.")]
    public static void EvalRo(ref CommandContext ctx) => EvalGeneric(ref ctx, sha: false, ro: true);

    [RespCommand("EVALSHA_RO", Arity = -3, Flags = EvalRoFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Executes a read-only server-side Lua script by SHA1 digest.", Since = "7.0.0", Complexity = "Depends on the script that is executed.")]
    public static void EvalShaRo(ref CommandContext ctx) => EvalGeneric(ref ctx, sha: true, ro: true);

    /// <summary>
    /// Whether an EVAL must run alone in the keyspace (CommandTable.NeedsKeyspace): a script never seen to
    /// the end, or one that touched keys outside KEYS. A bad numkeys or unknown SHA: no (it only replies).
    /// </summary>
    public static bool NeedsKeyspace(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        if (spec.NumKeysIndex != 2 || args.Length < 3) return false;
        if (!RespNumber.TryParseInt64(input.Slice(args[2].Offset, args[2].Length), out long numkeys) || numkeys < 0 || numkeys > args.Length - 3) return false;
        var first = input.Slice(args[1].Offset, args[1].Length);
        if (spec.Name is "fcall" or "fcall_ro") return FunctionCommands.EntryOf(first) is { } fn && fn.Keys != ScriptKeys.Declared;
        bool bySha = spec.Name is "evalsha" or "evalsha_ro";
        var entry = bySha ? Scripts.Cache.Find(first) : Scripts.Cache.Find(ScriptCache.Sha1Hex(first));
        if (entry is null) return !bySha; // a new EVAL body runs once alone
        return entry.Keys != ScriptKeys.Declared;
    }

    /// <summary>
    /// numkeys at ctx[2] as evalGenericCommand and fcallCommandGeneric check it, in their order; false after the error
    /// (<paramref name="notInteger"/>: EVAL's getLongLongFromObjectOrReply text, FCALL's own).
    /// </summary>
    internal static bool TryNumKeys(ref CommandContext ctx, string notInteger, out long numkeys)
    {
        if (!ctx.TryGetLong(2, out numkeys))
        {
            ctx.Reply.Error(notInteger);
            return false;
        }
        if (numkeys > ctx.Count - 3)
        {
            ctx.Reply.Error("ERR Number of keys can't be greater than number of args");
            return false;
        }
        if (numkeys < 0)
        {
            ctx.Reply.Error("ERR Number of keys can't be negative");
            return false;
        }
        return true;
    }

    private static void EvalGeneric(ref CommandContext ctx, bool sha, bool ro)
    {
        ctx.Server.Watch.FeedBefore(ref ctx); // evalCommand: the script's line before its commands' lines
        // evalGenericCommand
        if (!TryNumKeys(ref ctx, "ERR value is not an integer or out of range", out long numkeys)) return;
        var cache = Scripts.Cache;
        var engine = LuaEngine.For(cache);
        engine.Server = ctx.Server;
        ScriptEntry? entry;
        if (sha)
        {
            entry = ctx[1].Length == 40 ? cache.Find(ctx[1]) : null;
            if (entry is null)
            {
                ctx.Reply.Error(NoScript);
                return;
            }
        }
        else
        {
            entry = Create(ref ctx, engine, ctx[1]);
            if (entry is null) return;
        }
        if (engine.Compile(entry) is { } compileError)
        {
            ctx.Reply.Error(compileError);
            return;
        }
        // scriptPrepareForRun
        if ((entry.Flags & ScriptFlags.Compat) == 0 && (entry.Flags & ScriptFlags.NoWrites) == 0)
        {
            if (ctx.Server.WriteDenied is not null)
            {
                ctx.Reply.Error("MISCONF Redis is configured to persist data to AOF, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts. AOF error: " + ctx.Server.WriteDenied.TrimStart('-'));
                return;
            }
            if (ro)
            {
                ctx.Reply.Error("ERR Can not execute a script with write flag using *_ro command.");
                return;
            }
        }
        Run(ref ctx, engine, entry, (int)numkeys, ro || ((entry.Flags & ScriptFlags.Compat) == 0 && (entry.Flags & ScriptFlags.NoWrites) != 0));
    }

    /// <summary>luaCreateFunction's cache half: the entry of a body, compiled here first when new. Null: replied.</summary>
    private static ScriptEntry? Create(ref CommandContext ctx, LuaEngine engine, ReadOnlySpan<byte> body)
    {
        var cache = Scripts.Cache;
        string sha = ScriptCache.Sha1Hex(body);
        if (cache.Find(sha) is { } known) return known;
        if (ScriptCache.ParseShebang(body, out var flags, out int shebang) is { } err)
        {
            ctx.Reply.Error("ERR " + err);
            return null;
        }
        var entry = new ScriptEntry(sha, body.ToArray(), flags, shebang);
        if (engine.Compile(entry) is { } compileError)
        {
            ctx.Reply.Error(compileError);
            return null;
        }
        return cache.Add(entry);
    }

    internal static void Run(ref CommandContext ctx, LuaEngine engine, ScriptEntry entry, int numkeys, bool readOnly, FunctionInfo? function = null)
    {
        var client = ctx.Client;
        var store = client.Reactor.Store;
        var run = engine.Reusable;
        run.Begin(entry, function, readOnly, client);
        if (function is not null)
        {
            var command = new byte[ctx.Count][];
            for (int i = 0; i < ctx.Count; i++) command[i] = ctx[i].ToArray();
            run.Command = command;
        }
        int db = client.Database;
        // What the script declares, to learn whether it keeps to it (the first run holds the whole keyspace).
        if (store is not null && entry.Keys == ScriptKeys.Unknown)
            for (int i = 0; i < numkeys; i++)
                run.Declared.Add((db, Storage.Locks.KeyLockTable.StripeOf(store.HashKey(db, ctx[3 + i]), 0)));
        // Several records reach the AOF as one frame, applied whole by recovery (decided before the first write).
        if (store is not null && !readOnly) store.FrameWrites();

        ArgSpans(ref ctx, numkeys, out var bytes, out var keys, out var argv);
        int reactor = client.Reactor.Index;
        Scripts.Running.Enter(reactor, run);
        client.DenyBlocking = true;
        // One execution unit: the script runs at the time it started (a key does not expire in it, TIME stands).
        bool froze = store?.FreezeClock() ?? false;
        bool failed;
        try
        {
            failed = engine.Call(run, bytes, keys, argv, ctx.Server.Config.BusyReplyThreshold);
        }
        finally
        {
            if (froze) Storage.CommandClock.Thaw();
            client.DenyBlocking = false;
            client.Database = db;
            Scripts.Running.Exit(reactor, run);
        }
        var L = engine.State;
        try
        {
            if (run.Abort == AbortReason.Pending) return; // the executor runs it again when the read is in
            if (failed) ReplyError(ref ctx, L, run);
            else LuaReplies.Reply(L, ctx.Reply, run.Resp);
        }
        finally { engine.EndCall(); }
        if (entry.Keys != ScriptKeys.Undeclared && (run.TouchedUndeclared || run.Abort == AbortReason.LockBusy)) entry.Keys = ScriptKeys.Undeclared;
        else if (entry.Keys == ScriptKeys.Unknown && run.Abort == AbortReason.None) entry.Keys = ScriptKeys.Declared;
        run.End();
    }

    // A reactor runs one script at a time (EVAL is noscript): its KEYS and ARGV are copied into these, not into new arrays a run.
    [ThreadStatic] private static byte[]? t_argBytes;
    [ThreadStatic] private static ArgRange[]? t_argRanges;
    private const int KeptArgBytes = 64 * 1024, KeptArgRanges = 1024;

    /// <summary>KEYS and ARGV as ranges over one copy of their bytes (the client's input may move while the script runs).</summary>
    private static void ArgSpans(ref CommandContext ctx, int numkeys, out ReadOnlySpan<byte> bytes, out ReadOnlySpan<ArgRange> keys, out ReadOnlySpan<ArgRange> argv)
    {
        int total = 0, count = ctx.Count - 3;
        for (int i = 3; i < ctx.Count; i++) total += ctx[i].Length;
        var buffer = t_argBytes;
        if (total > KeptArgBytes) buffer = new byte[total]; // a one-off: a reactor keeps no large buffer after it
        else if (buffer is null || buffer.Length < total) t_argBytes = buffer = new byte[KeptArgBytes];
        var ranges = t_argRanges;
        if (count > KeptArgRanges) ranges = new ArgRange[count];
        else if (ranges is null || ranges.Length < count) t_argRanges = ranges = new ArgRange[KeptArgRanges];
        int at = 0;
        for (int i = 3; i < ctx.Count; i++)
        {
            var a = ctx[i];
            a.CopyTo(buffer.AsSpan(at));
            ranges[i - 3] = new ArgRange(at, a.Length);
            at += a.Length;
        }
        bytes = buffer.AsSpan(0, total);
        keys = ranges.AsSpan(0, numkeys);
        argv = ranges.AsSpan(numkeys, count - numkeys);
    }

    /// <summary>luaCallFunction's error reply: "-%s script: %s, on %s:%s." from the handler's table.</summary>
    private static void ReplyError(ref CommandContext ctx, nint L, ScriptRun run)
    {
        string sha = run.Script.Sha;
        if (run.Abort == AbortReason.LockBusy)
        {
            ctx.Reply.Error("ERR " + run.LockError);
            return;
        }
        if (run.Killed)
        {
            // scriptInterrupt's luaPushError: the hook's own error object is never shown.
            string? at = lua_type(L, -1) == LUA_TTABLE ? Field(L, "line"u8) : null;
            string where = run.Function is null ? "@user_script" : "@user_function";
            ctx.Reply.Error("ERR Script killed by user with SCRIPT KILL..." + (at is null ? "" : $" script: {sha}, on {where}:{at}."));
            return;
        }
        if (lua_type(L, -1) != LUA_TTABLE)
        {
            string msg = lua_isstring(L, -1) != 0 ? LuaEngine.ToString(L, -1) : "execution failure";
            if (msg.Length > 100) msg = msg[..100];
            ctx.Reply.Error($"ERR Error running script {sha}, {msg}\n");
            return;
        }
        string? err = Field(L, "err"u8), source = Field(L, "source"u8), line = Field(L, "line"u8);
        var text = err ?? "";
        if (line is not null && source is not null) text += $" script: {sha}, on {source}:{line}.";
        ctx.Reply.Error(Encoding.Latin1.GetBytes(text)); // Latin-1 both ways: the error's bytes as Lua had them
    }

    private static string? Field(nint L, ReadOnlySpan<byte> name)
    {
        LuaEngine.PushString(L, name);
        lua_rawget(L, -2);
        string? v = null;
        if (lua_isstring(L, -1) != 0)
        {
            nuint len;
            byte* p = lua_tolstring(L, -1, &len);
            v = Encoding.Latin1.GetString(p, (int)len);
        }
        lua_settop(L, -2);
        return v;
    }

    // ------------------------------------------------------------------ SCRIPT

    [RespCommand("SCRIPT|LOAD", Arity = 3, Flags = CommandFlags.NoScript | CommandFlags.Stale, Group = CommandGroup.Scripting,
        Summary = "Loads a server-side Lua script to the script cache.", Since = "2.6.0",
        Complexity = "O(N) with N being the length in bytes of the script body.")]
    public static void ScriptLoad(ref CommandContext ctx)
    {
        var engine = LuaEngine.For(Scripts.Cache);
        engine.Server = ctx.Server;
        var entry = Create(ref ctx, engine, ctx[2]);
        if (entry is null) return;
        ctx.Reply.Bulk(entry.Sha);
    }

    [RespCommand("SCRIPT|EXISTS", Arity = -3, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Determines whether server-side Lua scripts exist in the script cache.", Since = "2.6.0",
        Complexity = "O(N) with N being the number of scripts to check (so checking a single script is an O(1) operation).")]
    public static void ScriptExists(ref CommandContext ctx)
    {
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        for (int j = 2; j < ctx.Count; j++) ctx.Reply.Integer(ExactFind(ctx[j]) ? 1 : 0);
    }

    /// <summary>dictFind(lctx.lua_scripts, sha): the dictionary is case-insensitive (dictSdsKeyCaseCompare).</summary>
    private static bool ExactFind(ReadOnlySpan<byte> sha) => Scripts.Cache.Find(sha) is not null;

    [RespCommand("SCRIPT|FLUSH", Arity = -2, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Removes all server-side Lua scripts from the script cache.", Since = "2.6.0",
        Complexity = "O(N) with N being the number of scripts in cache")]
    public static void ScriptFlush(ref CommandContext ctx)
    {
        if (!(ctx.Count == 2 || (ctx.Count == 3 && (ctx.ArgIs(2, "SYNC"u8) || ctx.ArgIs(2, "ASYNC"u8)))))
        {
            ctx.Reply.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
            return;
        }
        // scriptingReset: every reactor's state starts over at its next script (ASYNC frees no differently here).
        Scripts.Cache.Flush();
        ctx.Reply.Ok();
    }

    [RespCommand("SCRIPT|KILL", Arity = 2, Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Group = CommandGroup.Scripting,
        Summary = "Terminates a server-side Lua script during execution.", Since = "2.6.0", Complexity = "O(1)")]
    public static void ScriptKill(ref CommandContext ctx)
    {
        if (Scripts.Running.Kill(eval: true) is { } err) ctx.Reply.Error(err);
        else ctx.Reply.Ok();
    }
}
