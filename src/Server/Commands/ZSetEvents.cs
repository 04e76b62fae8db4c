using NativeKv.Server.Config;

namespace NativeKv.Server.Commands;

/// <summary>The keyspace events of the sorted set commands (t_zset.c), in Redis's order.</summary>
internal static class ZSetEvents
{
    /// <summary>zaddGenericCommand: new when it made the set, then zadd / zincr when a member was added or updated.</summary>
    public static void Added(ref CommandContext ctx, bool created, bool incr, bool changed)
    {
        if (!Notify.On) return;
        if (created) Notify.New(ref ctx, ctx[1]);
        if (changed) Notify.Event(ref ctx, KeyspaceEvents.ZSet, incr ? "zincr"u8 : "zadd"u8, ctx[1]);
    }

    /// <summary>zremCommand, zremrangeGenericCommand, genericZpopCommand: the event, then del when the set is gone.</summary>
    public static void Removed(ref CommandContext ctx, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key, bool emptied)
    {
        if (!Notify.On) return;
        Notify.Event(ref ctx, KeyspaceEvents.ZSet, evt, key);
        if (emptied) Notify.Event(ref ctx, KeyspaceEvents.Generic, "del"u8, key);
    }

    /// <summary>zremrangeGenericCommand's event: the command's own name (zremrangebyrank, -byscore, -bylex).</summary>
    public static void RangeRemoved(ref CommandContext ctx, bool emptied)
    {
        if (!Notify.On) return;
        Removed(ref ctx, System.Text.Encoding.ASCII.GetBytes(ctx.Spec.Name), ctx[1], emptied);
    }
}
