using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>ZPOPMIN, ZPOPMAX, ZMPOP (genericZpopCommand, zmpopGenericCommand); the blocking forms build on them.</summary>
internal static unsafe partial class SortedSetCommands
{
    [RespCommand("ZPOPMIN", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "5.0.0",
        Summary = "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        Complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")]
    public static void ZPopMin(ref CommandContext ctx) => ZPopMinMax(ref ctx, max: false);

    [RespCommand("ZPOPMAX", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.SortedSet, Since = "5.0.0",
        Summary = "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
        Complexity = "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.")]
    public static void ZPopMax(ref CommandContext ctx) => ZPopMinMax(ref ctx, max: true);

    /// <summary>zpopMinMaxCommand: a count makes RESP3 reply [member, score] pairs.</summary>
    private static void ZPopMinMax(ref CommandContext ctx, bool max)
    {
        if (ctx.Count > 3)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        long count = -1;
        if (ctx.Count == 3 && (!ctx.TryGetLong(2, out count) || count < 0))
        {
            ctx.Reply.Error("ERR value is out of range, must be positive");
            return;
        }
        bool nested = ctx.Reply.Protocol > 2 && count != -1;
        PopGeneric(ref ctx, 1, 1, max, emitKey: false, count, nested, nilWhenEmpty: false);
    }

    /// <summary>
    /// genericZpopCommand over keys [<paramref name="first"/>, +<paramref name="keys"/>): the first that exists
    /// (a wrong type first is WRONGTYPE) gives up to <paramref name="count"/> (-1: one, plain) entries from its
    /// low or high end. True when it popped (or answered an error); false when no key held a set (replied
    /// as <paramref name="nilWhenEmpty"/> says) or the command waits on disk.
    /// </summary>
    private static bool PopGeneric(ref CommandContext ctx, int first, int keys, bool max, bool emitKey, long count, bool nested, bool nilWhenEmpty, bool replyWhenEmpty = true)
    {
        OpSlot? found = null;
        int key = -1;
        for (int k = first; k < first + keys; k++)
        {
            var st = ReadRoot(ref ctx, ctx[k], out var slot);
            if (st == Lookup.Pending) return false;
            if (st == Lookup.Error) return true;
            if (st == Lookup.NotFound) continue;
            found = slot;
            key = k;
            break;
        }
        if (found is null)
        {
            if (!replyWhenEmpty) return false;
            if (nilWhenEmpty) ctx.Reply.NullArray();
            else ctx.Reply.EmptyArray();
            return false;
        }
        if (count == 0)
        {
            ctx.Reply.EmptyArray();
            return true;
        }
        if (count == -1) count = 1;
        var payload = found.Value;
        bool paged = Storage.Values.Paged.ZSetRoot.TryRead(payload, out var root);
        int llen = paged ? (int)Math.Min(root.Count, int.MaxValue) : SortedSet.Count(payload);
        int n = (int)Math.Min(count, llen);
        if (!nested && !emitKey) ctx.Reply.ArrayHeader(n * 2);
        else if (nested && !emitKey) ctx.Reply.ArrayHeader(n);
        else if (!nested)
        {
            ctx.Reply.ArrayHeader(n * 2 + 1);
            ctx.Reply.Bulk(ctx[key]);
        }
        else
        {
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(ctx[key]);
            ctx.Reply.ArrayHeader(n);
        }
        if (paged)
        {
            PagedPop(ref ctx, ctx[key], root, n, max, nested);
            return true;
        }
        var s = SortedSetScratch.Current;
        s.Index.Build(payload);
        for (int i = 0; i < n; i++)
        {
            s.Index.At(payload, max ? llen - 1 - i : i, out var m, out double score);
            if (nested) ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk(m);
            ctx.Reply.Double(score);
        }
        var b = s.Write(Db.Store(ref ctx), 0);
        b.Load(payload);
        b.RemoveRange(max ? llen - n : 0, n);
        if (Store(ref ctx, ctx[key], b, keepTtl: true, s)) ZSetEvents.Removed(ref ctx, max ? "zpopmax"u8 : "zpopmin"u8, ctx[key], b.Count == 0);
        return true;
    }

    [RespCommand("ZMPOP", Arity = -4, Flags = CommandFlags.Write | CommandFlags.MovableKeys, NumKeysIndex = 1, Group = CommandGroup.SortedSet, Since = "7.0.0",
        Summary = "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.",
        Complexity = "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.")]
    public static void ZMPop(ref CommandContext ctx)
    {
        if (!TryMPopArgs(ref ctx, 1, out int keys, out bool max, out long count)) return;
        PopGeneric(ref ctx, 2, keys, max, emitKey: true, count, nested: true, nilWhenEmpty: true);
    }

    /// <summary>zmpopGenericCommand's arguments: numkeys at <paramref name="numkeysIdx"/>, the keys, MIN|MAX, [COUNT n].</summary>
    private static bool TryMPopArgs(ref CommandContext ctx, int numkeysIdx, out int keys, out bool max, out long count)
    {
        keys = 0;
        max = false;
        count = -1;
        if (!ctx.TryGetLong(numkeysIdx, out long numkeys) || numkeys < 1)
        {
            ctx.Reply.Error("ERR numkeys should be greater than 0");
            return false;
        }
        long whereIdx = numkeysIdx + numkeys + 1;
        if (whereIdx >= ctx.Count)
        {
            ctx.Reply.Error("ERR syntax error");
            return false;
        }
        if (ctx.ArgIs((int)whereIdx, "MIN"u8)) max = false;
        else if (ctx.ArgIs((int)whereIdx, "MAX"u8)) max = true;
        else
        {
            ctx.Reply.Error("ERR syntax error");
            return false;
        }
        for (int j = (int)whereIdx + 1; j < ctx.Count; j++)
        {
            int more = ctx.Count - 1 - j;
            if (count == -1 && ctx.ArgIs(j, "COUNT"u8) && more > 0)
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
        keys = (int)numkeys;
        return true;
    }
}
