using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>SMOVE, inline or paged on either side (the destination may pass the thresholds and move to pages).</summary>
internal static unsafe partial class SetCommands
{
    [RespCommand("SMOVE", Arity = 4, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.Set, Summary = "Moves a member from one set to another.", Complexity = "O(1)")]
    public static void SMove(ref CommandContext ctx)
    {
        // smoveCommand
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        store.Read(db, ctx[1], out var src);
        store.Read(db, ctx[2], out var dst);
        if (store.AttemptPending) return;
        if (!src.Found)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (src.Type != KeyType.Set || (dst.Found && dst.Type != KeyType.Set))
        {
            Db.WrongType(ref ctx);
            return;
        }
        var member = ctx[3];
        bool srcPaged = PagedRoot.TryRead(src.Value, out var sm);
        PagedMeta dm = default;
        bool dstPaged = dst.Found && PagedRoot.TryRead(dst.Value, out dm);
        // Every read first: the member's bucket on each paged side (and the destination's split buckets).
        CommandPages? pages = null;
        if (srcPaged || dstPaged)
        {
            pages = PagedAccess.Pages(ref ctx);
            if (srcPaged) PagedSets.WantMember(pages, sm, member);
            if (dstPaged) PagedSets.WantMember(pages, dm, member);
            if (!PagedSets.FetchWanted(pages)) return;
        }
        bool inSrc = srcPaged ? PagedSets.Has(pages!, sm, member) : Set.IsMember(src.Value, member);
        if (ctx[1].SequenceEqual(ctx[2]) || !inSrc)
        {
            ctx.Reply.Integer(inSrc ? 1 : 0);
            return;
        }
        if (dstPaged)
        {
            PagedHash.NeedsSet(dm, member, 0, pages!.Pages, pages.Needs);
            if (pages.Needs.Count > 0 && !pages.Fetch()) return;
        }

        // Then the changes, staged.
        var s = SetScratch.Current;
        var limits = Limits(ref ctx);
        SetBuffer? from = null, to = null;
        if (srcPaged)
        {
            PagedHash.Delete(ref sm, member, pages!.Pages, pages);
            pages.Log(new ElementRecord(ElementOp.SRem, sm.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), member));
        }
        else
        {
            from = s.Write(store, 0);
            from.Load(src.Value);
            Set.Remove(from, member);
        }
        bool added;
        if (dstPaged) added = PagedSets.AddOne(ref ctx, pages!, ref dm, ctx[2], member) > 0;
        else
        {
            to = s.Write(store, 1);
            if (dst.Found) to.Load(dst.Value);
            else Set.Create(to, member, 1, limits);
            added = Set.Add(to, member, limits);
            if (Set.EncodingOf(to.Payload) == CollectionEncoding.Hashtable)
            {
                // Past the thresholds (or one member over set-max-listpack-value): the destination moves to pages.
                pages ??= PagedAccess.Pages(ref ctx);
                dm = PagedSets.Fill(ref ctx, pages, ctx[2], to.Payload, dst.Found ? dst.Expiry : 0);
                dstPaged = true;
                to = null;
            }
            else if (added && !CheckSize(ref ctx, to)) return;
        }

        // Then the writes: pages, the source, the destination, and the element records last.
        if (pages is not null) pages.WritePages(srcPaged ? sm.PageSize : dm.PageSize);
        bool stopped = srcPaged
            ? PagedAccess.Put(ref ctx, ctx[1], KeyType.Set, sm, keepTtl: true) == OpStatus.Pending
            : !Store(ref ctx, ctx[1], from!, keepTtl: true, s);
        if (dstPaged) stopped |= PagedAccess.Put(ref ctx, ctx[2], KeyType.Set, dm, keepTtl: true) == OpStatus.Pending;
        else if (added) stopped |= !Store(ref ctx, ctx[2], to!, keepTtl: true, s);
        if (stopped) return;
        pages?.LogRecords();
        ctx.Reply.Integer(1);
        if (!Notify.On) return;
        Removed(ref ctx, "srem"u8, srcPaged ? sm.Count == 0 : Set.Count(from!.Payload) == 0);
        if (!dst.Found) Notify.New(ref ctx, ctx[2]);
        if (added) Notify.Event(ref ctx, Config.KeyspaceEvents.Set, "sadd"u8, ctx[2]);
    }
}
