using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE: checkpoints of the store (see Storage/Persistence).</summary>
internal static class PersistenceCommands
{
    // Keyspace: it runs once no command is between two store operations, as its checkpoint's cut needs.
    [RespCommand("SAVE", Lock = KeyLock.Keyspace, Arity = 1, Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading | CommandFlags.NoMulti,
        Group = CommandGroup.Server, Summary = "Synchronously saves the database(s) to disk.", Complexity = "O(N) where N is the total number of keys in all databases")]
    public static void Save(ref CommandContext ctx)
    {
        var client = ctx.Client;
        var locks = ctx.Server.Executor.Locks;
        var error = ctx.Server.Persistence!.SaveNow(client.Reactor, () => locks.Release(client.Locks));
        if (error is null) ctx.Reply.Ok();
        else ctx.Reply.Error(error);
    }

    [RespCommand("BGSAVE", Arity = -1, Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading,
        Group = CommandGroup.Server, Summary = "Asynchronously saves the database(s) to disk.", Complexity = "O(1)")]
    public static void BgSave(ref CommandContext ctx)
    {
        bool schedule = false;
        if (ctx.Count > 1)
        {
            if (ctx.Count == 2 && ctx.ArgIs(1, "SCHEDULE"u8)) schedule = true;
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        if (!ctx.Server.Persistence!.TryStartJob(PersistenceJob.Save, schedule, out var reply)) ctx.Reply.Error(reply!);
        else ctx.Reply.SimpleString(reply ?? "Background saving started");
    }

    [RespCommand("BGREWRITEAOF", Arity = 1, Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoAsyncLoading,
        Group = CommandGroup.Server, Summary = "Asynchronously rewrites the append-only file to disk.", Complexity = "O(1)")]
    public static void BgRewriteAof(ref CommandContext ctx)
    {
        if (!ctx.Server.Persistence!.TryStartJob(PersistenceJob.Rewrite, schedule: false, out var reply)) ctx.Reply.Error(reply!);
        else ctx.Reply.SimpleString(reply ?? "Background append only file rewriting started");
    }

    [RespCommand("LASTSAVE", Arity = 1, Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast,
        Group = CommandGroup.Server, Summary = "Returns the Unix timestamp of the last successful save to disk.", Complexity = "O(1)")]
    public static void LastSave(ref CommandContext ctx) => ctx.Reply.Integer(ctx.Server.Persistence!.LastSaveUnix);
}
