using System.Runtime.CompilerServices;
using NativeKv.Server.Config;
using NativeKv.Server.Network;

namespace NativeKv.Server.Commands;

/// <summary>
/// What a handler calls where Redis calls notifyKeyspaceEvent (the same class, event name and key, after the
/// write it reports). Off (notify-keyspace-events ""), a call is one load of a static and one branch; the
/// events are staged with the command by the reactor's <see cref="Network.PubSub.KeyspaceNotifier"/>.
/// </summary>
internal static class Notify
{
    /// <summary>Any class is on: guards work done only to find what to notify (a handler's extra look).</summary>
    public static bool On
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => KeyspaceEvents.Enabled != 0;
    }

    /// <summary>The class is on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Wants(int type) => (KeyspaceEvents.Enabled & type) != 0;

    /// <summary>notifyKeyspaceEvent(type, event, key, c->db->id).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Event(ref CommandContext ctx, int type, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key)
    {
        if ((KeyspaceEvents.Enabled & type) != 0) Publish(ctx.Client, type, evt, key, ctx.Client.Database);
    }

    /// <summary>notifyKeyspaceEvent in another database (MOVE, COPY ... DB).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Event(ref CommandContext ctx, int type, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key, int db)
    {
        if ((KeyspaceEvents.Enabled & type) != 0) Publish(ctx.Client, type, evt, key, db);
    }

    /// <summary>dbAdd's "new": the write created <paramref name="key"/> (it did not exist, or had expired).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void New(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        if ((KeyspaceEvents.Enabled & KeyspaceEvents.New) != 0) Publish(ctx.Client, KeyspaceEvents.New, "new"u8, key, ctx.Client.Database);
    }

    /// <summary>lookupKeyRead's "keymiss".</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Miss(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        if ((KeyspaceEvents.Enabled & KeyspaceEvents.KeyMiss) != 0) Publish(ctx.Client, KeyspaceEvents.KeyMiss, "keymiss"u8, key, ctx.Client.Database);
    }

    /// <summary>
    /// Whether <paramref name="key"/> exists before a write replaces it (for dbAdd's new, and a STORE's del when its
    /// result is empty): asked only with notifications on, before the command's first write. Pending: the command stops.
    /// </summary>
    public static Lookup Existing(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        var st = Db.Store(ref ctx).Read(ctx.Client.Database, key, out _, Storage.OpFlags.HeaderOnly);
        return st switch { Storage.OpStatus.Found => Lookup.Found, Storage.OpStatus.NotFound => Lookup.NotFound, _ => Lookup.Pending };
    }

    /// <summary>
    /// A STORE form's events (SINTERSTORE, ZUNIONSTORE, ZRANGESTORE, SORT ... STORE): a result stored is new (if the key
    /// was not there) and the event; an empty one deleted the key, if there was one.
    /// </summary>
    public static void Stored(ref CommandContext ctx, int type, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key, long count, bool existed)
    {
        if (!On) return;
        if (count > 0)
        {
            if (!existed) New(ref ctx, key);
            Event(ref ctx, type, evt, key);
        }
        else if (existed) Event(ref ctx, KeyspaceEvents.Generic, "del"u8, key);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Publish(Client client, int type, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key, int db)
        => client.Reactor.Events.Notify(type, evt, key, db);
}
