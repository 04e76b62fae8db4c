using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>
/// LMOVE, RPOPLPUSH, LMPOP (Redis 7.2 t_list.c). Their keys are locked together by the key-lock table (as
/// SMOVE's), and the executor frames a write of two keys so the AOF replays both or neither.
/// </summary>
internal static partial class ListCommands
{
    [RespCommand("LMOVE", Arity = 5, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.List, Summary = "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
        Since = "6.2.0", Complexity = "O(1)")]
    public static void LMove(ref CommandContext ctx)
    {
        if (!TryWhere(ref ctx, 3, out bool fromHead) || !TryWhere(ref ctx, 4, out bool toHead)) return;
        Move(ref ctx, fromHead, toHead);
    }

    [RespCommand("RPOPLPUSH", Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.List, Summary = "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
        Since = "1.2.0", Complexity = "O(1)")]
    public static void RPopLPush(ref CommandContext ctx) => Move(ref ctx, fromHead: false, toHead: true);

    /// <summary>getListPositionFromObjectOrReply.</summary>
    private static bool TryWhere(ref CommandContext ctx, int i, out bool head)
    {
        head = ctx.ArgIs(i, "LEFT"u8);
        if (head || ctx.ArgIs(i, "RIGHT"u8)) return true;
        ctx.Reply.Error("ERR syntax error");
        return false;
    }

    /// <summary>lmoveGenericCommand: pop from the source, push to the destination (the same list when they are one key).</summary>
    private static void Move(ref CommandContext ctx, bool fromHead, bool toHead)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        store.Read(db, ctx[1], out var src);
        store.Read(db, ctx[2], out var dst);
        if (store.AttemptPending) return;
        if (!src.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (src.Type != KeyType.List || (dst.Found && dst.Type != KeyType.List))
        {
            Db.WrongType(ref ctx);
            return;
        }
        long fill = ListStore.Fill(ref ctx);
        bool same = ctx[1].SequenceEqual(ctx[2]);
        if (PagedListMove.Applies(src.Value, dst.Found, dst.Value, same, fromHead, fill))
        {
            long errors = ctx.Reply.ErrorCount;
            bool emptied = !same && ListStore.LongCount(src.Value) == 1;
            PagedListMove.Move(ref ctx, src, dst, same, fromHead, toHead);
            if (ctx.Reply.ErrorCount == errors) ListEvents.Moved(ref ctx, fromHead, toHead, dst.Found, emptied);
            return;
        }
        var from = ListStore.Load(ref ctx, 0, src.Value);
        int n = List.Count(from.Payload);
        var value = ListStore.Keep(List.At(from.Payload, fromHead ? 0 : n - 1, out _, out _));
        ListStore.RemoveEnd(from, 1, fromHead);
        var to = same ? from : ListStore.Load(ref ctx, 1, dst.Found ? dst.Value : List.Empty);
        if (!Db.CheckValueSize(ref ctx, to.Length + Listpack.EntrySize(value.Length))) return;
        // lmoveHandlePush converts the destination for the element, then listElementsRemoved the source.
        to.SetEncoding(List.Growing(to.Payload, value.Length, 1, fill));
        List.InsertEntry(to, toHead ? Listpack.HeaderSize : to.Length, value);
        if (List.Count(from.Payload) > 0) ListStore.Removed(ref ctx, from);
        bool stopped = !ListStore.Store(ref ctx, ctx[1], from);
        if (!same) stopped |= !ListStore.Store(ref ctx, ctx[2], to);
        if (stopped) return;
        ctx.Reply.Bulk(value);
        ListEvents.Moved(ref ctx, fromHead, toHead, dst.Found, List.Count(from.Payload) == 0);
    }

    [RespCommand("LMPOP", Arity = -4, Flags = CommandFlags.Write | CommandFlags.MovableKeys, NumKeysIndex = 1,
        Group = CommandGroup.List, Summary = "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
        Since = "7.0.0", Complexity = "O(N+M) where N is the number of provided keys and M is the number of elements returned.")]
    public static void LMPop(ref CommandContext ctx)
    {
        if (!TryMPopArgs(ref ctx, 1, out int whereAt, out bool head, out long count)) return;
        if (!TryMPop(ref ctx, 2, whereAt, head, count)) ctx.Reply.NullArray();
    }

    /// <summary>lmpopGenericCommand's parsing: numkeys at <paramref name="numkeysAt"/>, the position after the keys, then COUNT once.</summary>
    private static bool TryMPopArgs(ref CommandContext ctx, int numkeysAt, out int whereAt, out bool head, out long count)
    {
        whereAt = 0;
        head = false;
        count = -1;
        if (!ctx.TryGetLong(numkeysAt, out long numkeys) || numkeys < 1)
        {
            ctx.Reply.Error("ERR numkeys should be greater than 0");
            return false;
        }
        if (numkeys >= ctx.Count - numkeysAt - 1)
        {
            ctx.Reply.Error("ERR syntax error");
            return false;
        }
        whereAt = numkeysAt + (int)numkeys + 1;
        if (!TryWhere(ref ctx, whereAt, out head)) return false;
        for (int j = whereAt + 1; j < ctx.Count; j++)
        {
            bool more = ctx.Count - 1 - j > 0;
            if (count == -1 && more && ctx.ArgIs(j, "COUNT"u8))
            {
                j++;
                if (!ctx.TryGetLong(j, out count) || count < 1)
                {
                    ctx.Reply.Error("ERR count should be greater than 0");
                    return false;
                }
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return false;
            }
        }
        if (count == -1) count = 1;
        return true;
    }

    /// <summary>
    /// mpopGenericCommand: pops from the first of the keys [<paramref name="firstKey"/>, <paramref name="endKey"/>)
    /// holding a list; a key of another type stops it with WRONGTYPE. False when none holds a list (nothing replied).
    /// </summary>
    private static bool TryMPop(ref CommandContext ctx, int firstKey, int endKey, bool head, long count)
    {
        for (int k = firstKey; k < endKey; k++)
        {
            var st = ListStore.Read(ref ctx, ctx[k], out var slot);
            if (st is Lookup.Pending or Lookup.Error) return true;
            if (st == Lookup.NotFound) continue;
            var payload = slot.Value;
            int take = (int)Math.Min(count, ListStore.Count(payload));
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(ctx[k]);
            ctx.Reply.ArrayHeader(take);
            PopEnd(ref ctx, ctx[k], payload, take, head);
            return true;
        }
        return false;
    }
}
