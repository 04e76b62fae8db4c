using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>
/// The command side of <see cref="InlineEdit"/>: a small collection write (HSET, SADD) as one store RMW
/// that edits the record, where it was a read and a write. The handler sizes the edit's data with
/// <see cref="Begin"/>, writes its header and arguments there, and <see cref="Run"/> issues it.
/// </summary>
internal static unsafe class InlineEdits
{
    /// <summary>What <see cref="Run"/> did.</summary>
    public enum Outcome
    {
        /// <summary>Applied (or nothing to change): <c>added</c> says how many elements are new.</summary>
        Done,
        /// <summary>The command waits on disk, or replied an error (WRONGTYPE).</summary>
        Stopped,
        /// <summary>
        /// The collection is paged, or the edit would take it past its inline thresholds: nothing changed, take the
        /// general path. The slot is then what a read of the key gives (Found, Type, Expiry, Value).
        /// </summary>
        General,
    }

    // The edit's data lives in a pinned buffer a pending RMW may keep pointing at; such a buffer is held
    // until the reactor's session has nothing in flight.
    [ThreadStatic] private static byte[]? t_data;
    [ThreadStatic] private static List<byte[]>? t_held;

    /// <summary>A buffer kept past 1 MB would pin that much per reactor for good.</summary>
    private const int KeepData = 1 << 20;

    /// <summary>A buffer of at least <paramref name="bytes"/> for the edit's data (valid until <see cref="Run"/>).</summary>
    public static Span<byte> Begin(StoreSession store, int bytes)
    {
        if (t_held is { Count: > 0 } held && !store.HasPending) held.Clear();
        var data = t_data is { } d && d.Length >= bytes && !store.HasPending ? d : GC.AllocateUninitializedArray<byte>(Math.Max(bytes, 256), pinned: true);
        t_data = data.Length <= KeepData ? data : null;
        t_current = data;
        return data.AsSpan(0, bytes);
    }

    [ThreadStatic] private static byte[]? t_current;

    /// <summary>Issues the edit of the key ctx[1] whose first <paramref name="length"/> bytes of data <see cref="Begin"/> gave.</summary>
    public static Outcome Run(ref CommandContext ctx, KeyType type, InlineEditKind kind, long limit, int length, out long added, out OpSlot slot, OpFlags flags = OpFlags.None)
    {
        var store = Db.Store(ref ctx);
        var data = t_current!;
        OpStatus st;
        fixed (byte* p = data)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Edit, Arg = (long)kind, Type = type, Flags = flags, Now = StoreInput.LazyNow, Data = p, DataLength = length, Limit = limit,
            };
            st = store.Rmw(ctx.Client.Database, ctx[1], ref input, out slot);
        }
        return Classify(ref ctx, st, data, slot, out added);
    }

    /// <summary>
    /// <see cref="Run"/> on a page's record (<see cref="InlineEditKind.BucketSet"/>): General also when the page is not in
    /// the mutable region or is missing; the slot then holds what a read of the page gives (Found, Value).
    /// </summary>
    public static Outcome RunOnPage(ref CommandContext ctx, in Storage.Values.Paged.PageKey page, InlineEditKind kind, long limit, int length, out OpSlot slot)
    {
        var store = Db.Store(ref ctx);
        var data = t_current!;
        OpStatus st;
        fixed (byte* p = data)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Edit, Arg = (long)kind, Type = KeyType.Page, Now = StoreInput.LazyNow, Data = p, DataLength = length, Limit = limit,
            };
            st = store.EditPage(page, ref input, out slot);
        }
        return Classify(ref ctx, st, data, slot, out _);
    }

    /// <summary>
    /// The read of one entry in a page's record (<see cref="StoreOp.FindEntry"/>) whose field <see cref="Begin"/> holds:
    /// Stopped when it went to disk (its data is held meanwhile, as a pending edit's), else Done with the slot.
    /// </summary>
    public static Outcome FindOnPage(ref CommandContext ctx, in Storage.Values.Paged.PageKey page, bool hasValues, int length, out OpSlot slot)
    {
        var store = Db.Store(ref ctx);
        var data = t_current!;
        OpStatus st;
        fixed (byte* p = data)
        {
            var input = new StoreInput { Op = StoreOp.FindEntry, Arg = hasValues ? 1 : 0, Now = StoreInput.LazyNow, Data = p, DataLength = length };
            st = store.FindInPage(page, ref input, out slot);
        }
        if (st != OpStatus.Pending) return Outcome.Done;
        (t_held ??= new()).Add(data);
        if (t_data == data) t_data = null;
        return Outcome.Stopped;
    }

    private static Outcome Classify(ref CommandContext ctx, OpStatus st, byte[] data, OpSlot slot, out long added)
    {
        added = 0;
        if (st == OpStatus.Pending)
        {
            (t_held ??= new()).Add(data);
            if (t_data == data) t_data = null;
            return Outcome.Stopped;
        }
        switch (slot.Result)
        {
            case OpResult.WrongType:
                Db.WrongType(ref ctx);
                return Outcome.Stopped;
            case OpResult.NotApplied:
                return Outcome.General;
            default:
                added = slot.Number;
                return Outcome.Done;
        }
    }
}
