using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>LTRIM, LREM, LINSERT, LPOS (Redis 7.2 t_list.c) over inline payloads.</summary>
internal static partial class ListCommands
{
    [RespCommand("LTRIM", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
        Complexity = "O(N) where N is the number of elements to be removed by the operation.")]
    public static void LTrim(ref CommandContext ctx)
    {
        if (!ListStore.TryLong(ref ctx, 2, out long start) || !ListStore.TryLong(ref ctx, 3, out long end)) return;
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Ok();
            return;
        }
        var payload = slot.Value;
        if (ListRoot.TryRead(payload, out var root))
        {
            bool any = ClampRange((long)root.Count, start, end, out long pfrom, out long pn);
            if (PagedListEdits.Trim(ref ctx, root, (ulong)pfrom, any ? (ulong)pn : 0))
            {
                ctx.Reply.Ok();
                ListEvents.Removed(ref ctx, "ltrim"u8, emptied: !any || pn == 0);
            }
            return;
        }
        int llen = List.Count(payload);
        var buf = ListStore.Load(ref ctx, 0, payload);
        if (!ClampRange(llen, start, end, out int from, out int n)) ListStore.RemoveEnd(buf, llen, head: true);
        else
        {
            ListStore.RemoveEnd(buf, llen - from - n, head: false);
            ListStore.RemoveEnd(buf, from, head: true);
        }
        ListStore.Removed(ref ctx, buf);
        if (!ListStore.Store(ref ctx, ctx[1], buf)) return;
        ctx.Reply.Ok();
        ListEvents.Removed(ref ctx, "ltrim"u8, emptied: List.Count(buf.Payload) == 0);
    }

    [RespCommand("LREM", Arity = 4, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Removes elements from a list. Deletes the list if the last element was removed.",
        Complexity = "O(N+M) where N is the length of the list and M is the number of elements removed.")]
    public static void LRem(ref CommandContext ctx)
    {
        // lremCommand: count > 0 removes from the head, < 0 from the tail, 0 every match.
        if (!ListStore.TryLong(ref ctx, 2, out long toRemove)) return;
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var payload = slot.Value;
        var element = ctx[3];
        if (ListRoot.TryRead(payload, out var root))
        {
            long n = PagedListEdits.Remove(ref ctx, root, toRemove, element);
            if (n >= 0) ctx.Reply.Integer(n);
            if (n > 0) ListEvents.Removed(ref ctx, "lrem"u8, emptied: (ulong)n >= root.Count);
            return;
        }
        int llen = List.Count(payload);
        bool fromTail = toRemove < 0;
        ulong limit = fromTail ? (ulong)(-(toRemove + 1)) + 1 : (ulong)toRemove;
        var offsets = ListStore.Offsets(payload, 0, llen);
        // Matches are marked by negating their offset (offsets are >= HeaderSize > 0).
        ulong removed = 0;
        for (int k = 0; k < llen && (limit == 0 || removed < limit); k++)
        {
            int i = fromTail ? llen - 1 - k : k;
            if (!ListStore.EntryAt(payload, offsets[i]).SequenceEqual(element)) continue;
            offsets[i] = -offsets[i];
            removed++;
        }
        if (removed > 0)
        {
            var buf = ListStore.Load(ref ctx, 0, payload);
            // Back to front, so the offsets still to come stay valid.
            for (int i = llen - 1; i >= 0; i--)
            {
                if (offsets[i] > 0) continue;
                int at = -offsets[i];
                int next = Math.Abs(offsets[i + 1]);
                List.DeleteEntries(buf, at, next, 1);
            }
            ListStore.Removed(ref ctx, buf);
            if (!ListStore.Store(ref ctx, ctx[1], buf)) return;
            ListEvents.Removed(ref ctx, "lrem"u8, emptied: List.Count(buf.Payload) == 0);
        }
        ctx.Reply.Integer((long)removed);
    }

    [RespCommand("LINSERT", Arity = 5, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Inserts an element before or after another element in a list.", Since = "2.2.0",
        Complexity = "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).")]
    public static void LInsert(ref CommandContext ctx)
    {
        bool after;
        if (ctx.ArgIs(2, "AFTER"u8)) after = true;
        else if (ctx.ArgIs(2, "BEFORE"u8)) after = false;
        else
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var payload = slot.Value;
        var value = ctx[4];
        long fill = ListStore.Fill(ref ctx);
        if (ListRoot.TryRead(payload, out var root))
        {
            long n = PagedListEdits.Insert(ref ctx, PagedAccess.Pages(ref ctx), root, after, ctx[3], value);
            if (n >= -1) ctx.Reply.Integer(n);
            if (n > 0) Notify.Event(ref ctx, Config.KeyspaceEvents.List, "linsert"u8, ctx[1]);
            return;
        }
        // Redis converts for the new element before it seeks the pivot, found or not.
        var grown = List.Growing(payload, value.Length, 1, fill);
        int at = -1;
        var r = new Listpack.Reader(payload);
        while (true)
        {
            int start = r.Offset;
            if (!r.Next(out var e)) break;
            if (!e.SequenceEqual(ctx[3])) continue;
            at = after ? r.Offset : start;
            break;
        }
        if (at < 0)
        {
            if (grown != List.EncodingOf(payload))
            {
                var conv = ListStore.Load(ref ctx, 0, payload);
                conv.SetEncoding(grown);
                if (!ListStore.Store(ref ctx, ctx[1], conv)) return;
            }
            ctx.Reply.Integer(-1);
            return;
        }
        if (PagedLists.ShouldPage(payload, value.Length, 1, fill))
        {
            var pages = PagedAccess.Pages(ref ctx);
            var created = PagedLists.Create(ref ctx, pages, ctx[1], payload, slot.Expiry);
            long n = PagedListEdits.Insert(ref ctx, pages, created, after, ctx[3], value);
            if (n >= -1) ctx.Reply.Integer(n);
            if (n > 0) Notify.Event(ref ctx, Config.KeyspaceEvents.List, "linsert"u8, ctx[1]);
            return;
        }
        if (!Db.CheckValueSize(ref ctx, payload.Length + Listpack.EntrySize(value.Length))) return;
        var buf = ListStore.Load(ref ctx, 0, payload);
        buf.SetEncoding(grown);
        List.InsertEntry(buf, at, value);
        if (!ListStore.Store(ref ctx, ctx[1], buf)) return;
        ctx.Reply.Integer(List.Count(buf.Payload));
        Notify.Event(ref ctx, Config.KeyspaceEvents.List, "linsert"u8, ctx[1]);
    }

    [RespCommand("LPOS", Arity = -3, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.List, Summary = "Returns the index of matching elements in a list.", Since = "6.0.6",
        Complexity = "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.")]
    public static void LPos(ref CommandContext ctx)
    {
        // lposCommand: the options first, then the key. Count -1: no COUNT given.
        long rank = 1, count = -1, maxlen = 0;
        for (int j = 3; j < ctx.Count; j++)
        {
            bool more = ctx.Count - 1 - j > 0;
            if (more && ctx.ArgIs(j, "RANK"u8))
            {
                j++;
                if (!ListStore.TryLong(ref ctx, j, out rank)) return;
                if (rank == long.MinValue)
                {
                    ctx.Reply.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
                    return;
                }
                if (rank == 0)
                {
                    ctx.Reply.Error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
                    return;
                }
            }
            else if (more && ctx.ArgIs(j, "COUNT"u8))
            {
                j++;
                if (!ListStore.TryPositive(ref ctx, j, out count, "COUNT can't be negative")) return;
            }
            else if (more && ctx.ArgIs(j, "MAXLEN"u8))
            {
                j++;
                if (!ListStore.TryPositive(ref ctx, j, out maxlen, "MAXLEN can't be negative")) return;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        bool fromTail = rank < 0;
        if (fromTail) rank = -rank;
        var st = ListStore.Read(ref ctx, ctx[1], out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            if (count != -1) ctx.Reply.EmptyArray();
            else ctx.Reply.NullBulk();
            return;
        }
        var payload = slot.Value;
        var element = ctx[2];
        if (ListRoot.TryRead(payload, out var root))
        {
            var m = PagedListReads.PosMatcher.For(element, rank, count == -1 ? 1 : count, maxlen, fromTail, root.Count);
            if (!PagedListReads.Scan(PagedAccess.Pages(ref ctx), root, m)) return;
            if (count == -1)
            {
                if (m.Found.Count == 0) ctx.Reply.NullBulk();
                else ctx.Reply.Integer((long)m.Found[0]);
                return;
            }
            ctx.Reply.ArrayHeader(m.Found.Count);
            foreach (ulong p in m.Found) ctx.Reply.Integer((long)p);
            return;
        }
        int llen = List.Count(payload);
        var offsets = ListStore.Offsets(payload, 0, llen);
        long matches = 0, found = -1;
        int replied = 0;
        // Matches are collected before the reply: its array length comes first.
        var picks = SetScratch.Current.Picks;
        for (int k = 0; k < llen && (maxlen == 0 || k < maxlen); k++)
        {
            int i = fromTail ? llen - 1 - k : k;
            if (!ListStore.EntryAt(payload, offsets[i]).SequenceEqual(element)) continue;
            if (++matches < rank) continue;
            if (count == -1)
            {
                found = i;
                break;
            }
            if (replied == picks.Length) SetScratch.Current.Picks = picks = GrowPicks(picks);
            picks[replied++] = i;
            if (count != 0 && matches - rank + 1 >= count) break;
        }
        if (count == -1)
        {
            if (found < 0) ctx.Reply.NullBulk();
            else ctx.Reply.Integer(found);
            return;
        }
        ctx.Reply.ArrayHeader(replied);
        for (int k = 0; k < replied; k++) ctx.Reply.Integer(picks[k]);
    }

    private static int[] GrowPicks(int[] picks)
    {
        var bigger = new int[picks.Length * 2];
        picks.CopyTo(bigger, 0);
        return bigger;
    }
}
