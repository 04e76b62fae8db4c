using NativeKv.Server.Network.Blocking;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>
/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP (Redis 7.2 t_list.c). A first run that finds data is the
/// non-blocking command (LPOP, LMOVE, LMPOP); one that finds nothing asks to block and replies nothing.
/// When a waited key is ready the command runs again from the start (Network/Blocking, docs/blocking.md).
/// </summary>
internal static partial class ListCommands
{
    private const CommandFlags BlockingPopFlags = CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Blocking;
    private const CommandFlags BlockingMoveFlags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.NoScript | CommandFlags.Blocking;

    [RespCommand("BLPOP", Arity = -3, Flags = BlockingPopFlags, FirstKey = 1, LastKey = -2, Step = 1, Group = CommandGroup.List, Since = "2.0.0",
        Summary = "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        Complexity = "O(N) where N is the number of provided keys.")]
    public static void BLPop(ref CommandContext ctx) => BlockingPop(ref ctx, head: true);

    [RespCommand("BRPOP", Arity = -3, Flags = BlockingPopFlags, FirstKey = 1, LastKey = -2, Step = 1, Group = CommandGroup.List, Since = "2.0.0",
        Summary = "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        Complexity = "O(N) where N is the number of provided keys.")]
    public static void BRPop(ref CommandContext ctx) => BlockingPop(ref ctx, head: false);

    /// <summary>blockingPopGenericCommand (count -1): the first key holding a list answers [key, element].</summary>
    private static void BlockingPop(ref CommandContext ctx, bool head)
    {
        int last = ctx.Count - 1;
        if (!Blocking.TryTimeout(ref ctx, last, out long timeout)) return;
        if (!Blocking.ShouldRun(ref ctx, 1, last - 1, KeyType.List, BlockKind.List, timeout)) return;
        for (int k = 1; k < last; k++)
        {
            var st = ListStore.Read(ref ctx, ctx[k], out var slot);
            if (st is Lookup.Pending or Lookup.Error) return;
            if (st == Lookup.NotFound) continue;
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(ctx[k]);
            PopEnd(ref ctx, ctx[k], slot.Value, 1, head);
            return;
        }
        // No MULTI or scripts yet: a blocking command there would answer the null array at once (CLIENT_DENY_BLOCKING).
        ctx.Client.Block.Request(BlockKind.List, timeout, 1, last - 1);
    }

    [RespCommand("BLMOVE", Arity = 6, Flags = BlockingMoveFlags, FirstKey = 1, LastKey = 2, Step = 1, Group = CommandGroup.List, Since = "6.2.0",
        Summary = "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
        Complexity = "O(1)")]
    public static void BLMove(ref CommandContext ctx)
    {
        // blmoveCommand: both positions, then the timeout.
        if (!TryWhere(ref ctx, 3, out bool fromHead) || !TryWhere(ref ctx, 4, out bool toHead)) return;
        if (!Blocking.TryTimeout(ref ctx, 5, out long timeout)) return;
        BlockingMove(ref ctx, fromHead, toHead, timeout);
    }

    [RespCommand("BRPOPLPUSH", Arity = 4, Flags = BlockingMoveFlags, FirstKey = 1, LastKey = 2, Step = 1, Group = CommandGroup.List, Since = "2.2.0",
        Summary = "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
        Complexity = "O(1)")]
    public static void BRPopLPush(ref CommandContext ctx)
    {
        if (!Blocking.TryTimeout(ref ctx, 3, out long timeout)) return;
        BlockingMove(ref ctx, fromHead: false, toHead: true, timeout);
    }

    /// <summary>
    /// blmoveGenericCommand: waits on the source only; with data it is LMOVE (whose WRONGTYPE destination then
    /// ends the wait with the error). Its push makes the destination ready for that key's waiters (the executor).
    /// </summary>
    private static void BlockingMove(ref CommandContext ctx, bool fromHead, bool toHead, long timeout)
    {
        if (!Blocking.ShouldRun(ref ctx, 1, 1, KeyType.List, BlockKind.List, timeout)) return;
        var st = ListStore.Read(ref ctx, ctx[1], out _);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Client.Block.Request(BlockKind.List, timeout, 1, 1);
            return;
        }
        Move(ref ctx, fromHead, toHead);
    }

    [RespCommand("BLMPOP", Arity = -5, Flags = CommandFlags.Write | CommandFlags.Blocking | CommandFlags.MovableKeys, NumKeysIndex = 2,
        Group = CommandGroup.List, Since = "7.0.0",
        Summary = "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
        Complexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned.")]
    public static void BLMPop(ref CommandContext ctx)
    {
        // lmpopGenericCommand(is_block): numkeys, position and COUNT first, then blockingPopGenericCommand's timeout.
        if (!TryMPopArgs(ref ctx, 2, out int whereAt, out bool head, out long count)) return;
        if (!Blocking.TryTimeout(ref ctx, 1, out long timeout)) return;
        int keys = whereAt - 3;
        if (!Blocking.ShouldRun(ref ctx, 3, keys, KeyType.List, BlockKind.List, timeout)) return;
        if (TryMPop(ref ctx, 3, whereAt, head, count)) return;
        ctx.Client.Block.Request(BlockKind.List, timeout, 3, keys);
    }
}
