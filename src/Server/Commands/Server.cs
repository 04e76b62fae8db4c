[assembly: NativeKv.Server.Commands.RespContainer("FUNCTION", Group = NativeKv.Server.Commands.CommandGroup.Scripting,
    Summary = "A container for function commands.", Since = "7.0.0")]
[assembly: NativeKv.Server.Commands.RespContainer("SCRIPT", Group = NativeKv.Server.Commands.CommandGroup.Scripting,
    Summary = "A container for Lua scripts management commands.", Since = "2.6.0")]

namespace NativeKv.Server.Commands;

/// <summary>
/// TIME, SHUTDOWN, FUNCTION HELP and SCRIPT HELP/DEBUG (SCRIPT DEBUG replies <see cref="NoScripting"/>: the
/// debugger is not built).
/// </summary>
internal static class ServerCommands
{
    /// <summary>The reply of every command that would need a script engine.</summary>
    internal const string NoScripting = "ERR scripting is not supported by this server";

    [RespCommand("TIME", Arity = 1, Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast,
        Group = CommandGroup.Server, Summary = "Returns the server time.", Since = "2.6.0", Complexity = "O(1)")]
    public static void Time(ref CommandContext ctx)
    {
        // timeCommand answers server.ustime: inside a script or an EXEC, the time it started.
        long us = Storage.CommandClock.NowUs();
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

    // ------------------------------------------------------------------ FUNCTION (the rest: Scripting/FunctionCommands.cs)

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
}
