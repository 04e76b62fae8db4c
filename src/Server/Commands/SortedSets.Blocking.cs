using NativeKv.Server.Network.Blocking;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>
/// BZPOPMIN, BZPOPMAX, BZMPOP (blockingGenericZpopCommand). A first run that finds a set is ZPOPMIN & co.;
/// one that finds nothing asks to block and replies nothing; a ZADD (any write that changed a waited key)
/// makes the command run again from the start (docs/blocking.md).
/// </summary>
internal static partial class SortedSetCommands
{
    private const CommandFlags BlockingPopFlags = CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Blocking | CommandFlags.Fast;

    [RespCommand("BZPOPMIN", Arity = -3, Flags = BlockingPopFlags, FirstKey = 1, LastKey = -2, Step = 1, Group = CommandGroup.SortedSet, Since = "5.0.0",
        Summary = "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        Complexity = "O(log(N)) with N being the number of elements in the sorted set.")]
    public static void BZPopMin(ref CommandContext ctx) => BlockingPop(ref ctx, max: false);

    [RespCommand("BZPOPMAX", Arity = -3, Flags = BlockingPopFlags, FirstKey = 1, LastKey = -2, Step = 1, Group = CommandGroup.SortedSet, Since = "5.0.0",
        Summary = "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.",
        Complexity = "O(log(N)) with N being the number of elements in the sorted set.")]
    public static void BZPopMax(ref CommandContext ctx) => BlockingPop(ref ctx, max: true);

    /// <summary>bzpopMinMaxCommand: [key, member, score] from the first key holding a set.</summary>
    private static void BlockingPop(ref CommandContext ctx, bool max)
    {
        int last = ctx.Count - 1;
        if (!Blocking.TryTimeout(ref ctx, last, out long timeout)) return;
        if (!Blocking.ShouldRun(ref ctx, 1, last - 1, KeyType.ZSet, BlockKind.SortedSet, timeout)) return;
        if (PopOrBlock(ref ctx, 1, last - 1, max, -1, nested: false, timeout)) return;
    }

    [RespCommand("BZMPOP", Arity = -5, Flags = CommandFlags.Write | CommandFlags.Blocking | CommandFlags.MovableKeys, NumKeysIndex = 2,
        Group = CommandGroup.SortedSet, Since = "7.0.0",
        Summary = "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
        Complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")]
    public static void BZMPop(ref CommandContext ctx)
    {
        // zmpopGenericCommand(is_block): numkeys, MIN|MAX and COUNT first, then the timeout.
        if (!TryMPopArgs(ref ctx, 2, out int keys, out bool max, out long count)) return;
        if (!Blocking.TryTimeout(ref ctx, 1, out long timeout)) return;
        if (!Blocking.ShouldRun(ref ctx, 3, keys, KeyType.ZSet, BlockKind.SortedSet, timeout)) return;
        PopOrBlock(ref ctx, 3, keys, max, count, nested: true, timeout);
    }

    /// <summary>Pops from the first key holding a set, or asks to block on all of them (nothing replied).</summary>
    private static bool PopOrBlock(ref CommandContext ctx, int first, int keys, bool max, long count, bool nested, long timeout)
    {
        var store = Db.Store(ref ctx);
        if (PopGeneric(ref ctx, first, keys, max, emitKey: true, count, nested, nilWhenEmpty: true, replyWhenEmpty: false)) return true;
        if (store.AttemptPending) return true;
        // No MULTI or scripts yet: there a blocking command would answer the null array at once (CLIENT_DENY_BLOCKING).
        ctx.Client.Block.Request(BlockKind.SortedSet, timeout, first, keys);
        return false;
    }
}
