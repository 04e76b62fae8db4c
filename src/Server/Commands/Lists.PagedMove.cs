using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// LMOVE (RPOPLPUSH, BLMOVE, BRPOPLPUSH) where either list is paged or the destination goes to pages: the pop and
/// the push each touch their list's edge leaf; the two roots (or inline payloads) and both lists' element records
/// are written in one frame, so the AOF replays both or neither.
/// </summary>
internal static class PagedListMove
{
    /// <summary>Whether LMOVE takes this path: a paged source or destination, or a destination the element makes paged.</summary>
    public static bool Applies(ReadOnlySpan<byte> src, bool dstFound, ReadOnlySpan<byte> dst, bool same, bool fromHead, long fill)
    {
        if (ListRoot.IsPaged(src) || (dstFound && ListRoot.IsPaged(dst))) return true;
        if (same) return false;
        var value = List.At(src, fromHead ? 0 : List.Count(src) - 1, out _, out _);
        return PagedLists.ShouldPage(dstFound ? dst : List.Empty, value.Length, 1, fill);
    }

    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_popped;

    /// <summary>Replies the element moved; nothing when the command stopped or replied an error.</summary>
    public static void Move(ref CommandContext ctx, OpSlot src, OpSlot dst, bool same, bool fromHead, bool toHead)
    {
        var store = Db.Store(ref ctx);
        var pages = PagedAccess.Pages(ref ctx);
        long fill = ListStore.Fill(ref ctx);
        bool srcPaged = ListRoot.TryRead(src.Value, out var sroot);
        SetBuffer? from = null;
        ReadOnlySpan<byte> value;
        if (srcPaged)
        {
            var popped = t_popped ??= new System.Buffers.ArrayBufferWriter<byte>(256);
            popped.ResetWrittenCount();
            while (!PagedList.TryPop(ref sroot, fromHead, pages.Pages, pages, pages.Needs, popped))
                if (!pages.Fetch()) return;
            PagedLists.Log(ref ctx, pages, ref sroot, ctx[1], fromHead ? ElementOp.LPop : ElementOp.RPop, 1);
            value = ListStore.Keep(popped.WrittenSpan);
        }
        else
        {
            from = ListStore.Load(ref ctx, 0, src.Value);
            int n = List.Count(from.Payload);
            value = ListStore.Keep(List.At(from.Payload, fromHead ? 0 : n - 1, out _, out _));
            ListStore.RemoveEnd(from, 1, fromHead);
        }

        // The destination: the source itself, a paged list, one the element makes paged, or an inline one.
        ListRoot droot = default;
        bool dstPaged = false;
        SetBuffer? to = null;
        if (same)
        {
            // Only a paged source comes here when both are one key (Applies).
            if (!Push(ref ctx, pages, ref sroot, ctx[1], toHead, value)) return;
        }
        else
        {
            var dstPayload = dst.Found ? dst.Value : List.Empty;
            if (ListRoot.TryRead(dstPayload, out droot)) dstPaged = true;
            else if (PagedLists.ShouldPage(dstPayload, value.Length, 1, fill))
            {
                droot = PagedLists.Create(ref ctx, pages, ctx[2], dstPayload, dst.Found ? dst.Expiry : 0);
                dstPaged = true;
            }
            if (dstPaged)
            {
                if (!Push(ref ctx, pages, ref droot, ctx[2], toHead, value)) return;
            }
            else
            {
                to = ListStore.Load(ref ctx, 1, dstPayload);
                if (!Db.CheckValueSize(ref ctx, to.Length + Listpack.EntrySize(value.Length))) return;
                to.SetEncoding(List.Growing(to.Payload, value.Length, 1, fill));
                List.InsertEntry(to, toHead ? Listpack.HeaderSize : to.Length, value);
            }
        }

        store.FrameWrites();
        // listElementsRemoved on the source: a paged one may go back inline (written there and then).
        int shrunk = srcPaged && !same ? PagedLists.Shrunk(ref ctx, pages, ref sroot, ctx[1]) : 0;
        if (shrunk < 0) return;
        pages.WritePages(0, ListRoot.TreeRoom);
        bool stopped = false;
        if (shrunk == 0)
        {
            if (srcPaged) stopped |= PagedLists.Put(ref ctx, ctx[1], sroot) == OpStatus.Pending;
            else
            {
                if (List.Count(from!.Payload) > 0) ListStore.Removed(ref ctx, from);
                stopped |= !ListStore.Store(ref ctx, ctx[1], from);
            }
        }
        if (!same)
        {
            if (dstPaged) stopped |= PagedLists.Put(ref ctx, ctx[2], droot) == OpStatus.Pending;
            else stopped |= !ListStore.Store(ref ctx, ctx[2], to!);
        }
        if (stopped || store.AttemptPending) return;
        pages.LogRecords();
        ctx.Reply.Bulk(value);
    }

    private static bool Push(ref CommandContext ctx, CommandPages pages, ref ListRoot root, ReadOnlySpan<byte> key, bool head, ReadOnlySpan<byte> value)
    {
        if (!PagedLists.Fits(ref ctx, value.Length)) return false;
        while (!PagedList.TryPush(ref root, head, value, pages.Pages, pages, pages.Needs))
            if (!pages.Fetch()) return false;
        PagedLists.Log(ref ctx, pages, ref root, key, head ? ElementOp.LPush : ElementOp.RPush, 0, value);
        return true;
    }
}
