[assembly: NativeKv.Server.Commands.RespContainer("FUNCTION", Group = NativeKv.Server.Commands.CommandGroup.Scripting,
    Summary = "A container for function commands.", Since = "7.0.0")]
[assembly: NativeKv.Server.Commands.RespContainer("SCRIPT", Group = NativeKv.Server.Commands.CommandGroup.Scripting,
    Summary = "A container for Lua scripts management commands.", Since = "2.6.0")]

namespace NativeKv.Server.Commands;

/// <summary>
/// TIME, SHUTDOWN, and the scripting surface: FUNCTION answers as a Redis with no libraries
/// loaded; commands that need a script engine reply with <see cref="NoScripting"/>.
/// </summary>
internal static class ServerCommands
{
    /// <summary>The reply of every command that would need a script engine.</summary>
    internal const string NoScripting = "ERR scripting is not supported by this server";

    private const string NotBusy = "NOTBUSY No scripts in execution right now.";

    /// <summary>RDB_VERSION of Redis 7.2, used in the (empty) FUNCTION DUMP payload.</summary>
    private const int RdbVersion = 11;

    [RespCommand("TIME", Arity = 1, Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast,
        Group = CommandGroup.Server, Summary = "Returns the server time.", Since = "2.6.0", Complexity = "O(1)")]
    public static void Time(ref CommandContext ctx)
    {
        long us = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk(us / 1_000_000);
        ctx.Reply.Bulk(us % 1_000_000);
    }

    [RespCommand("SHUTDOWN", Arity = -1,
        Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoMulti | CommandFlags.AllowBusy,
        Group = CommandGroup.Server,
        Summary = "Synchronously saves the database(s) to disk and shuts down the Redis server.", Since = "1.0.0",
        Complexity = "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)")]
    public static void Shutdown(ref CommandContext ctx)
    {
        bool nosave = false, save = false, now = false, force = false, abort = false;
        for (int i = 1; i < ctx.Count; i++)
        {
            if (ctx.ArgIs(i, "NOSAVE"u8)) nosave = true;
            else if (ctx.ArgIs(i, "SAVE"u8)) save = true;
            else if (ctx.ArgIs(i, "NOW"u8)) now = true;
            else if (ctx.ArgIs(i, "FORCE"u8)) force = true;
            else if (ctx.ArgIs(i, "ABORT"u8)) abort = true;
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        if ((abort && (nosave || save || now || force)) || (nosave && save))
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        if (abort)
        {
            // Shutdown here is immediate once requested; there is never one to abort.
            ctx.Reply.Error("ERR No shutdown in progress.");
            return;
        }
        if (NativeKv.Server.Scripting.Scripts.Running.Busy)
        {
            // shutdownCommand under a busy script: only NOSAVE, and then at once (its reactor never comes back
            // to stop gracefully; the script's own writes are not in the AOF: its frame is appended at its end).
            if (!nosave)
            {
                ctx.Reply.Error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.");
                return;
            }
            ctx.Server.Log.Warning($"User requested shutdown while a script is busy: exiting now (client id={ctx.Client.Id} addr={ctx.Client.Address})");
            Environment.Exit(0);
        }
        ctx.Server.Log.Warning($"User requested shutdown... (client id={ctx.Client.Id} addr={ctx.Client.Address})");
        // No reply: the connection closes as the server stops, as with redis-server.
        ctx.Server.RequestShutdown(save: !nosave, forceSave: save);
    }

    // ------------------------------------------------------------------ FUNCTION

    [RespCommand("FUNCTION|FLUSH", Arity = -2, Flags = CommandFlags.NoScript | CommandFlags.Write, Group = CommandGroup.Scripting,
        Summary = "Deletes all libraries and functions.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions deleted")]
    public static void FunctionFlush(ref CommandContext ctx)
    {
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
        ctx.Reply.Ok();
    }

    [RespCommand("FUNCTION|LIST", Arity = -2, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Returns information about all libraries.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions")]
    public static void FunctionList(ref CommandContext ctx)
    {
        bool withCode = false, libraryName = false;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (!withCode && ctx.ArgIs(i, "WITHCODE"u8))
            {
                withCode = true;
                continue;
            }
            if (!libraryName && ctx.ArgIs(i, "LIBRARYNAME"u8))
            {
                if (i >= ctx.Count - 1)
                {
                    ctx.Reply.Error("ERR library name argument was not given");
                    return;
                }
                libraryName = true;
                i++;
                continue;
            }
            ErrorText.Quote(ctx.Reply, "ERR Unknown argument "u8, ctx[i], default);
            return;
        }
        ctx.Reply.EmptyArray();
    }

    [RespCommand("FUNCTION|DUMP", Arity = 2, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Dumps all libraries into a serialized binary payload.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions")]
    public static void FunctionDump(ref CommandContext ctx)
    {
        // No libraries: just the RDB version (2 bytes, little endian) and the CRC64 of what precedes.
        Span<byte> payload = stackalloc byte[10];
        payload[0] = RdbVersion & 0xff;
        payload[1] = (RdbVersion >> 8) & 0xff;
        ulong crc = Crc64.Compute(payload[..2]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(payload[2..], crc);
        ctx.Reply.Bulk(payload);
    }

    [RespCommand("FUNCTION|STATS", Arity = 2, Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Group = CommandGroup.Scripting,
        Summary = "Returns information about a function during execution.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionStats(ref CommandContext ctx)
    {
        var r = ctx.Reply;
        r.MapHeader(2);
        r.Bulk("running_script"u8);
        r.NullBulk();
        r.Bulk("engines"u8);
        r.MapHeader(1);
        r.Bulk("LUA"u8);
        r.MapHeader(2);
        r.Bulk("libraries_count"u8); r.Integer(0);
        r.Bulk("functions_count"u8); r.Integer(0);
    }

    [RespCommand("FUNCTION|KILL", Arity = 2, Flags = CommandFlags.NoScript | CommandFlags.AllowBusy, Group = CommandGroup.Scripting,
        Summary = "Terminates a function during execution.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionKill(ref CommandContext ctx) => ctx.Reply.Error(NotBusy);

    [RespCommand("FUNCTION|LOAD", Arity = -3, Flags = CommandFlags.NoScript | CommandFlags.Write | CommandFlags.DenyOom, Group = CommandGroup.Scripting,
        Summary = "Creates a library.", Since = "7.0.0", Complexity = "O(1) (considering compilation time is redundant)")]
    public static void FunctionLoad(ref CommandContext ctx) => ctx.Reply.Error(NoScripting);

    [RespCommand("FUNCTION|DELETE", Arity = 3, Flags = CommandFlags.NoScript | CommandFlags.Write, Group = CommandGroup.Scripting,
        Summary = "Deletes a library and its functions.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionDelete(ref CommandContext ctx) => ctx.Reply.Error(NoScripting);

    [RespCommand("FUNCTION|RESTORE", Arity = -3, Flags = CommandFlags.NoScript | CommandFlags.Write | CommandFlags.DenyOom, Group = CommandGroup.Scripting,
        Summary = "Restores all libraries from a payload.", Since = "7.0.0", Complexity = "O(N) where N is the number of functions on the payload")]
    public static void FunctionRestore(ref CommandContext ctx) => ctx.Reply.Error(NoScripting);

    [RespCommand("FUNCTION|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Scripting,
        Summary = "Returns helpful text about the different subcommands.", Since = "7.0.0", Complexity = "O(1)")]
    public static void FunctionHelp(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx,
    [
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
    ]);

    // ------------------------------------------------------------------ SCRIPT

    [RespCommand("SCRIPT|DEBUG", Arity = 3, Flags = CommandFlags.NoScript, Group = CommandGroup.Scripting,
        Summary = "Sets the debug mode of server-side Lua scripts.", Since = "3.2.0", Complexity = "O(1)")]
    public static void ScriptDebug(ref CommandContext ctx) => ctx.Reply.Error(NoScripting);

    [RespCommand("SCRIPT|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Scripting,
        Summary = "Returns helpful text about the different subcommands.", Since = "5.0.0", Complexity = "O(1)")]
    public static void ScriptHelp(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx,
    [
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
    ]);

    // ------------------------------------------------------------------ EVAL / FCALL

    private const CommandFlags EvalFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor | CommandFlags.MayReplicate
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.MovableKeys;
    private const CommandFlags EvalRoFlags = CommandFlags.NoScript | CommandFlags.SkipMonitor
        | CommandFlags.NoMandatoryKeys | CommandFlags.Stale | CommandFlags.ReadOnly | CommandFlags.MovableKeys;

    [RespCommand("FCALL", Arity = -3, Flags = EvalFlags, Group = CommandGroup.Scripting,
        Summary = "Invokes a function.", Since = "7.0.0", Complexity = "Depends on the function that is executed.")]
    [RespCommand("FCALL_RO", Arity = -3, Flags = EvalRoFlags, Group = CommandGroup.Scripting,
        Summary = "Invokes a read-only function.", Since = "7.0.0", Complexity = "Depends on the function that is executed.")]
    public static void Scripting(ref CommandContext ctx) => ctx.Reply.Error(NoScripting);

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

    /// <summary>Redis's crc64 (Jones polynomial, reflected, init 0), as used by DUMP payloads.</summary>
    private static class Crc64
    {
        private static readonly ulong[] Table = BuildTable();

        private static ulong[] BuildTable()
        {
            const ulong poly = 0x95AC9329AC4BC9B5UL; // 0xad93d23594c935a9 reflected
            var table = new ulong[256];
            for (ulong i = 0; i < 256; i++)
            {
                ulong crc = i;
                for (int j = 0; j < 8; j++) crc = (crc & 1) != 0 ? (crc >> 1) ^ poly : crc >> 1;
                table[i] = crc;
            }
            return table;
        }

        public static ulong Compute(ReadOnlySpan<byte> data, ulong crc = 0)
        {
            foreach (byte b in data) crc = Table[(byte)(crc ^ b)] ^ (crc >> 8);
            return crc;
        }
    }
}
