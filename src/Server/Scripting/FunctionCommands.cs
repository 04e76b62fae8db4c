using System.Text;
using NativeKv.Server.Commands;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Scripting;

/// <summary>FUNCTION and FCALL (functions.c), on the EVAL engine: each reactor's state loads a library the first time it calls into it.</summary>
internal static class FunctionCommands
{
    private const CommandFlags FcallFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor | CommandFlags.MayReplicate
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.MovableKeys;
    private const CommandFlags FcallRoFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.ReadOnly | CommandFlags.MovableKeys;

    /// <summary>LOAD_TIMEOUT_MS: how long FUNCTION LOAD's code may run.</summary>
    private const long LoadTimeoutMs = 500;

    private const string BadName = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

    [RespCommand("FCALL", Arity = -3, Flags = FcallFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Invokes a function.", Since = "7.0.0", Complexity = "Depends on the function that is executed.")]
    public static void Fcall(ref CommandContext ctx) => FcallGeneric(ref ctx, ro: false);

    [RespCommand("FCALL_RO", Arity = -3, Flags = FcallRoFlags, NumKeysIndex = 2, Group = CommandGroup.Scripting,
        Summary = "Invokes a read-only function.", Since = "7.0.0", Complexity = "Depends on the function that is executed.")]
    public static void FcallRo(ref CommandContext ctx) => FcallGeneric(ref ctx, ro: true);

    /// <summary>fcallCommandGeneric and scriptPrepareForRun (a function is never in eval compat mode).</summary>
    private static void FcallGeneric(ref CommandContext ctx, bool ro)
    {
        ctx.Server.Watch.FeedBefore(ref ctx); // fcallCommandGeneric: fed before the function's commands
        var function = Functions.Current.Function(Encoding.UTF8.GetString(ctx[1]));
        if (function is null)
        {
            ctx.Reply.Error("ERR Function not found");
            return;
        }
        if (!ScriptCommands.TryNumKeys(ref ctx, "ERR Bad number of keys provided", out long numkeys)) return;
        bool noWrites = (function.Flags & ScriptFlags.NoWrites) != 0;
        if (!noWrites)
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
        var engine = LuaEngine.For(Scripts.Cache);
        engine.Server = ctx.Server;
        if (engine.EnsureFunction(function) is { } err)
        {
            ctx.Reply.Error("ERR " + err);
            return;
        }
        ScriptCommands.Run(ref ctx, engine, function.Entry, (int)numkeys, ro || noWrites, function);
    }

    /// <summary>CommandTable.NeedsKeyspace for FCALL: as an EVAL of its function's entry; not found or bad numkeys: no (it only replies).</summary>
    public static ScriptEntry? EntryOf(ReadOnlySpan<byte> name) => Functions.Current.Function(Encoding.UTF8.GetString(name))?.Entry;

    // ------------------------------------------------------------------ FUNCTION

    [RespCommand("FUNCTION|LOAD", Arity = -3, Flags = CommandFlags.NoScript | CommandFlags.Write | CommandFlags.DenyOom, Group = CommandGroup.Scripting,
        Summary = "Creates a library.", Since = "7.0.0", Complexity = "O(1) (considering compilation time is redundant)")]
    public static void FunctionLoad(ref CommandContext ctx)
    {
        var server = ctx.Server;
        bool replace = false;
        int pos = 2;
        while (pos < ctx.Count - 1)
        {
            if (ctx.ArgIs(pos, "REPLACE"u8))
            {
                replace = true;
                pos++;
                continue;
            }
            ctx.Reply.Error("ERR Unknown option given: " + Encoding.UTF8.GetString(ctx[pos]));
            return;
        }
        var code = ctx[pos].ToArray();
        var engine = LuaEngine.For(Scripts.Cache);
        engine.Server = ctx.Server;
        var current = Functions.Current;
        string? name = null;
        var err = Create(engine, code, lib => Check(current, lib, replace), out var library, LoadTimeoutMs);
        if (err is null)
        {
            name = library!.Name;
            err = Functions.Update(set =>
            {
                if (Check(set, name, replace) is { } e) return (null, e);
                var old = set.Library(name);
                return (old is null ? set : set.Without(old)).Join([library], replace: false);
            }, set => Persist(server, set));
        }
        if (err is not null)
        {
            ctx.Reply.Error("ERR " + err);
            return;
        }
        ctx.Client.Reactor.Store?.MarkDirty();
        ctx.Reply.Bulk(name!);
    }

    private static string? Check(FunctionSet set, string name, bool replace) =>
        !replace && set.Library(name) is not null ? $"Library '{name}' already exists" : null;

    /// <summary>The set reaches the store, which logs it (the AOF) and checkpoints keep it.</summary>
    private static void Persist(ServerContext server, FunctionSet set) => server.Store?.SetLibraries(FunctionPayload.Dump(set));

    /// <summary>
    /// functionsCreateWithLibraryCtx up to the link: the metadata, the name, the engine, <paramref name="precheck"/>
    /// (the library-exists check, before any code runs), the code run in <paramref name="engine"/>, at least one function.
    /// </summary>
    public static string? Create(LuaEngine engine, byte[] code, Func<string, string?> precheck, out FunctionLibrary? library, long timeoutMs = 0)
    {
        library = null;
        if (ExtractMetadata(code, out string name, out string engineName) is { } err) return err;
        if (!ValidName(name)) return BadName;
        if (!engineName.Equals("lua", StringComparison.OrdinalIgnoreCase)) return $"Engine '{engineName}' not found";
        if (precheck(name) is { } pre) return pre;
        var registered = new List<LuaEngine.Registered>();
        err = engine.LoadLibrary(LuaEngine.LibraryCode(code), registered, timeoutMs);
        engine.Release(registered); // each state loads its own copy when it first calls into the library
        if (err is not null) return err;
        if (registered.Count == 0) return "No functions registered";
        library = new FunctionLibrary(name, code);
        foreach (var r in registered) library.Functions.Add(new FunctionInfo(r.Name, r.Description, r.Flags, library));
        return null;
    }

    /// <summary>functionExtractLibMetaData: the shebang's engine and name=.</summary>
    private static string? ExtractMetadata(byte[] code, out string name, out string engine)
    {
        name = engine = "";
        if (code.Length < 2 || code[0] != '#' || code[1] != '!') return "Missing library metadata";
        int nl = Array.IndexOf(code, (byte)'\n');
        if (nl < 0) return "Invalid library metadata";
        var line = code.AsSpan(0, nl).ToArray();
        var ranges = new ArgRange[8];
        if (!SdsSplitArgs.Split(line, ref ranges, out int count) || count == 0) return "Invalid library metadata";
        engine = Encoding.UTF8.GetString(line.AsSpan(ranges[0].Offset, ranges[0].Length))[2..];
        string? found = null;
        for (int i = 1; i < count; i++)
        {
            string part = Encoding.UTF8.GetString(line.AsSpan(ranges[i].Offset, ranges[i].Length));
            if (part.StartsWith("name=", StringComparison.OrdinalIgnoreCase))
            {
                if (found is not null) return "Invalid metadata value, name argument was given multiple times";
                found = part[5..];
                continue;
            }
            return "Invalid metadata value given: " + part;
        }
        if (found is null) return "Library name was not given";
        name = found;
        return null;
    }

    /// <summary>functionsVerifyName: letters, digits and underscores, at least one.</summary>
    private static bool ValidName(string name)
    {
        if (name.Length == 0) return false;
        foreach (char c in name)
            if (!(c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_')) return false;
        return true;
    }

    [RespCommand("FUNCTION|DELETE", Arity = 3, Flags = CommandFlags.NoScript | CommandFlags.Write, Group = CommandGroup.Scripting,
        Summary = "Deletes a library and its functions.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionDelete(ref CommandContext ctx)
    {
        var server = ctx.Server;
        string name = Encoding.UTF8.GetString(ctx[2]);
        var err = Functions.Update(set => set.Library(name) is { } lib ? (set.Without(lib), null) : (null, "Library not found"),
            set => Persist(server, set));
        if (err is not null)
        {
            ctx.Reply.Error("ERR " + err);
            return;
        }
        ctx.Client.Reactor.Store?.MarkDirty();
        ctx.Reply.Ok();
    }

    [RespCommand("FUNCTION|FLUSH", Arity = -2, Flags = CommandFlags.NoScript | CommandFlags.Write, Group = CommandGroup.Scripting,
        Summary = "Deletes all libraries and functions.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions deleted")]
    public static void FunctionFlush(ref CommandContext ctx)
    {
        var server = ctx.Server;
        if (ctx.Count > 3)
        {
            SubcommandSyntaxError(ref ctx);
            return;
        }
        if (ctx.Count == 3 && !ctx.ArgIs(2, "SYNC"u8) && !ctx.ArgIs(2, "ASYNC"u8))
        {
            ctx.Reply.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
            return;
        }
        Functions.Update(_ => (FunctionSet.Empty, null), set => Persist(server, set));
        ctx.Client.Reactor.Store?.MarkDirty();
        ctx.Reply.Ok();
    }

    [RespCommand("FUNCTION|RESTORE", Arity = -3, Flags = CommandFlags.NoScript | CommandFlags.Write | CommandFlags.DenyOom, Group = CommandGroup.Scripting,
        Summary = "Restores all libraries from a payload.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions on the payload")]
    public static void FunctionRestore(ref CommandContext ctx)
    {
        var server = ctx.Server;
        if (ctx.Count > 4)
        {
            SubcommandSyntaxError(ref ctx);
            return;
        }
        bool flush = false, replace = false;
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "APPEND"u8)) { }
            else if (ctx.ArgIs(3, "REPLACE"u8)) replace = true;
            else if (ctx.ArgIs(3, "FLUSH"u8)) flush = true;
            else
            {
                ctx.Reply.Error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
                return;
            }
        }
        var payload = ctx[2];
        if (!FunctionPayload.Verify(payload))
        {
            ctx.Reply.Error("ERR DUMP payload version or checksum are wrong");
            return;
        }
        var engine = LuaEngine.For(Scripts.Cache);
        engine.Server = ctx.Server;
        var err = Load(engine, payload, out var loaded);
        err ??= Functions.Update(set => flush ? (loaded, null) : set.Join(loaded!.Libraries, replace), set => Persist(server, set));
        if (err is not null)
        {
            ctx.Reply.Error("ERR " + err);
            return;
        }
        ctx.Client.Reactor.Store?.MarkDirty();
        ctx.Reply.Ok();
    }

    /// <summary>A verified payload's libraries as a set of their own (rdbFunctionLoad into a new functionsLibCtx), or the error.</summary>
    public static string? Load(LuaEngine engine, ReadOnlySpan<byte> payload, out FunctionSet loaded)
    {
        loaded = FunctionSet.Empty;
        var codes = new List<byte[]>();
        if (FunctionPayload.ReadCodes(payload, codes) is { } err) return err;
        foreach (var code in codes)
        {
            var into = loaded;
            err = Create(engine, code, name => Check(into, name, replace: false), out var lib);
            if (err is null)
            {
                var (set, joinError) = loaded.Join([lib!], replace: false);
                err = joinError;
                if (set is not null) loaded = set;
            }
            if (err is not null) return err;
        }
        return null;
    }

    /// <summary>Start-up: the library set the store recovered (checkpoint, then the AOF's last change), loaded again.</summary>
    public static void Recover(ServerContext server)
    {
        var blob = server.Store?.Libraries;
        if (blob is null)
        {
            Functions.Update(_ => (FunctionSet.Empty, null));
            return;
        }
        var engine = LuaEngine.For(Scripts.Cache);
        engine.Server = server;
        var loaded = FunctionSet.Empty;
        string? err = FunctionPayload.Verify(blob) ? Load(engine, blob, out loaded) : "payload version or checksum are wrong";
        if (err is not null)
        {
            server.Log.Warning("Failed loading the FUNCTION libraries: " + err);
            return;
        }
        Functions.Update(_ => (loaded, null));
        if (loaded.Libraries.Count > 0) server.Log.Notice($"Loaded {loaded.Libraries.Count} FUNCTION libraries ({loaded.FunctionCount} functions)");
    }

    [RespCommand("FUNCTION|LIST", Arity = -2, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Returns information about all libraries.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions")]
    public static void FunctionList(ref CommandContext ctx)
    {
        bool withCode = false;
        byte[]? pattern = null;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (!withCode && ctx.ArgIs(i, "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }
            if (pattern is null && ctx.ArgIs(i, "LIBRARYNAME"u8))
            {
                if (i >= ctx.Count - 1)
                {
                    ctx.Reply.Error("ERR library name argument was not given");
                    return;
                }
                pattern = ctx[++i].ToArray();
                continue;
            }
            ErrorText.Quote(ctx.Reply, "ERR Unknown argument "u8, ctx[i], default);
            return;
        }
        var libs = Functions.Current.Libraries
            .Where(l => pattern is null || GlobMatcher.MatchNoCase(pattern, Encoding.UTF8.GetBytes(l.Name))).ToList();
        var r = ctx.Reply;
        r.ArrayHeader(libs.Count);
        foreach (var lib in libs)
        {
            r.MapHeader(withCode ? 4 : 3);
            r.Bulk("library_name"u8); r.Bulk(lib.Name);
            r.Bulk("engine"u8); r.Bulk("LUA"u8);
            r.Bulk("functions"u8);
            r.ArrayHeader(lib.Functions.Count);
            foreach (var f in lib.Functions)
            {
                r.MapHeader(3);
                r.Bulk("name"u8); r.Bulk(f.Name);
                r.Bulk("description"u8);
                if (f.Description is null) r.NullBulk();
                else r.Bulk(f.Description);
                r.Bulk("flags"u8);
                ReplyFlags(r, f.Flags);
            }
            if (withCode)
            {
                r.Bulk("library_code"u8);
                r.Bulk(lib.Code);
            }
        }
    }

    /// <summary>functionListReplyFlags: a set of status strings, in scripts_flags_def's order.</summary>
    private static void ReplyFlags(RespWriter r, ScriptFlags flags)
    {
        ReadOnlySpan<ScriptFlags> all = [ScriptFlags.NoWrites, ScriptFlags.AllowOom, ScriptFlags.AllowStale, ScriptFlags.NoCluster, ScriptFlags.AllowCrossSlot];
        int n = 0;
        foreach (var f in all) if ((flags & f) != 0) n++;
        r.SetHeader(n);
        if ((flags & ScriptFlags.NoWrites) != 0) r.SimpleString("no-writes"u8);
        if ((flags & ScriptFlags.AllowOom) != 0) r.SimpleString("allow-oom"u8);
        if ((flags & ScriptFlags.AllowStale) != 0) r.SimpleString("allow-stale"u8);
        if ((flags & ScriptFlags.NoCluster) != 0) r.SimpleString("no-cluster"u8);
        if ((flags & ScriptFlags.AllowCrossSlot) != 0) r.SimpleString("allow-cross-slot-keys"u8);
    }

    [RespCommand("FUNCTION|DUMP", Arity = 2, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Dumps all libraries into a serialized binary payload.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions")]
    public static void FunctionDump(ref CommandContext ctx) => ctx.Reply.Bulk(FunctionPayload.Dump(Functions.Current));

    [RespCommand("FUNCTION|STATS", Arity = 2, Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Group = CommandGroup.Scripting,
        Summary = "Returns information about a function during execution.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionStats(ref CommandContext ctx)
    {
        var r = ctx.Reply;
        var set = Functions.Current;
        r.MapHeader(2);
        r.Bulk("running_script"u8);
        if (Scripts.Running.RunningFunction() is { } run)
        {
            r.MapHeader(3);
            r.Bulk("name"u8); r.Bulk(run.Script.Sha);
            r.Bulk("command"u8);
            var command = run.Command ?? [];
            r.ArrayHeader(command.Length);
            foreach (var a in command) r.Bulk(a);
            r.Bulk("duration_ms"u8); r.Integer(run.ElapsedMs);
        }
        else r.NullBulk();
        r.Bulk("engines"u8);
        r.MapHeader(1);
        r.Bulk("LUA"u8);
        r.MapHeader(2);
        r.Bulk("libraries_count"u8); r.Integer(set.Libraries.Count);
        r.Bulk("functions_count"u8); r.Integer(set.FunctionCount);
    }

    [RespCommand("FUNCTION|KILL", Arity = 2, Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Group = CommandGroup.Scripting,
        Summary = "Terminates a function during execution.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionKill(ref CommandContext ctx)
    {
        if (Scripts.Running.Kill(eval: false) is { } err) ctx.Reply.Error(err);
        else ctx.Reply.Ok();
    }

    private static void SubcommandSyntaxError(ref CommandContext ctx)
    {
        var text = new ErrorText.Builder(200);
        text.Append("ERR unknown subcommand or wrong number of arguments for '"u8);
        text.Append(ErrorText.CString(ctx[1], 128));
        text.Append("'. Try "u8);
        text.AppendUpper(ctx[0]);
        text.Append(" HELP."u8);
        text.Reply(ctx.Reply, trimEnd: true);
    }
}
