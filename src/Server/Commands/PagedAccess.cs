using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// What the hash and set commands share over a paged collection (payload <see cref="PagedRoot"/>):
/// the pages of the command, the element records' store key, and the commit: pages, then the meta
/// (unlogged: replay derives it), then the element records, all under the key's exclusive lock.
/// </summary>
internal static unsafe class PagedAccess
{
    [ThreadStatic] private static byte[]? t_storeKey;

    [ThreadStatic] private static System.Buffers.ArrayBufferWriter<byte>? t_value;

    /// <summary>Where a looked-up value is gathered (emptied on each call; out-of-line values are copied here).</summary>
    public static System.Buffers.ArrayBufferWriter<byte> Value
    {
        get
        {
            var w = t_value ??= new System.Buffers.ArrayBufferWriter<byte>(256);
            w.ResetWrittenCount();
            return w;
        }
    }

    /// <summary>The command's pages (one set per reactor thread, emptied for each attempt).</summary>
    public static CommandPages Pages(ref CommandContext ctx) => CommandPages.For(Db.Store(ref ctx));

    /// <summary>[namespace][key] of <paramref name="key"/> in the client's database, as element records name it.</summary>
    public static ReadOnlySpan<byte> StoreKey(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        int len = ValueLayout.KeyPrefix + key.Length;
        var buf = t_storeKey is { } b && b.Length >= len ? b : t_storeKey = new byte[Math.Max(len, 256)];
        BinaryPrimitives.WriteInt32LittleEndian(buf, Db.Store(ref ctx).Store.Namespace(ctx.Client.Database));
        key.CopyTo(buf.AsSpan(ValueLayout.KeyPrefix));
        return buf.AsSpan(0, len);
    }

    /// <summary>
    /// A new, empty paged collection for the running command (the same cid in each of its rounds); its
    /// creation is logged as the key's image with this empty meta, ahead of the element records that fill it.
    /// </summary>
    public static PagedMeta Create(ref CommandContext ctx, CommandPages pages, PagedKind kind, KeyType type, long expiry, int pageShift = PagedHash.DefaultPageShift)
        => Create(ref ctx, pages, kind, type, expiry, ctx[1], pageShift);

    /// <summary>As <see cref="Create(ref CommandContext, CommandPages, PagedKind, KeyType, long)"/>, for the collection at <paramref name="key"/> (SMOVE's destination, a *STORE's).</summary>
    public static PagedMeta Create(ref CommandContext ctx, CommandPages pages, PagedKind kind, KeyType type, long expiry, ReadOnlySpan<byte> key, int pageShift = PagedHash.DefaultPageShift)
    {
        var store = Db.Store(ref ctx);
        var meta = PagedMeta.Create(store.CommandCollectionId(), kind, pageShift);
        pages.Fresh(meta.Cid);
        Span<byte> root = stackalloc byte[PagedRoot.Size];
        PagedRoot.Write(meta, root);
        pages.LogCreation(ctx.Client.Database, key, type, expiry, root);
        return meta;
    }

    /// <summary>
    /// Writes what the command changed: its pages, the meta into the key's record (keeping its TTL), or
    /// a delete of the key when the collection is empty, then logs the element records as one frame.
    /// False when the command stops (the key's record went to disk: it runs again and writes the same).
    /// </summary>
    public static bool Commit(ref CommandContext ctx, CommandPages pages, KeyType type, in PagedMeta meta)
        => Commit(ref ctx, pages, type, meta, ctx[1], keepTtl: true);

    /// <summary>
    /// <see cref="Commit(ref CommandContext, CommandPages, KeyType, in PagedMeta)"/> for the collection at
    /// <paramref name="key"/>; <paramref name="keepTtl"/> false for a new value replacing whatever the key held (*STORE).
    /// </summary>
    public static bool Commit(ref CommandContext ctx, CommandPages pages, KeyType type, in PagedMeta meta, ReadOnlySpan<byte> key, bool keepTtl)
    {
        var store = Db.Store(ref ctx);
        store.FrameWrites(); // the element records (and a delete of the key) reach the AOF as one entry
        pages.WritePages(meta.PageSize);
        if (Put(ref ctx, key, type, meta, keepTtl) == OpStatus.Pending) return false;
        pages.LogRecords();
        return true;
    }

    /// <summary>
    /// <see cref="Commit(ref CommandContext, CommandPages, KeyType, in PagedMeta)"/> for a write that may have left
    /// the meta as it was (an HSET that replaced a field's value by one as long): the root is then not rewritten,
    /// which was one of HSET's five store operations.
    /// </summary>
    public static bool Commit(ref CommandContext ctx, CommandPages pages, KeyType type, in PagedMeta before, in PagedMeta meta)
    {
        if (!meta.SameAs(before)) return Commit(ref ctx, pages, type, meta);
        var store = Db.Store(ref ctx);
        store.FrameWrites();
        pages.WritePages(meta.PageSize);
        if (store.AttemptPending) return false;
        pages.LogRecords();
        return true;
    }

    /// <summary>
    /// The meta of the collection at <paramref name="key"/> into its record (unlogged), or a delete of the key
    /// when it is empty: the step a commit of two collections (SMOVE) takes once per key, between one
    /// <see cref="CommandPages.WritePages"/> and one <see cref="CommandPages.LogRecords"/>. Pending when this
    /// or an earlier operation of the attempt went to disk (the command's pinned input is then left alone:
    /// a pending write still reads it).
    /// </summary>
    public static OpStatus Put(ref CommandContext ctx, ReadOnlySpan<byte> key, KeyType type, in PagedMeta meta, bool keepTtl)
    {
        var store = Db.Store(ref ctx);
        if (store.AttemptPending) return OpStatus.Pending;
        if (meta.Count == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            return store.Rmw(ctx.Client.Database, key, ref del, out _);
        }
        var root = store.CommandPinned(PagedRoot.Size);
        PagedRoot.Write(meta, root);
        fixed (byte* p = root)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = (keepTtl ? OpFlags.KeepTtl : OpFlags.None) | OpFlags.NoLog, Type = type, Now = StoreInput.LazyNow,
                Data = p, DataLength = PagedRoot.Size,
            };
            return store.Rmw(ctx.Client.Database, key, ref input, out _);
        }
    }
}
