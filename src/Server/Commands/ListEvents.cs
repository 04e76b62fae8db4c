using NativeKv.Server.Config;

namespace NativeKv.Server.Commands;

/// <summary>The keyspace events of the list commands (t_list.c), in Redis's order.</summary>
internal static class ListEvents
{
    /// <summary>pushGenericCommand: new when the push made the list, then lpush / rpush.</summary>
    public static void Pushed(ref CommandContext ctx, ReadOnlySpan<byte> key, bool head, bool created)
    {
        if (!Notify.On) return;
        if (created) Notify.New(ref ctx, key);
        Notify.Event(ref ctx, KeyspaceEvents.List, head ? "lpush"u8 : "rpush"u8, key);
    }

    /// <summary>listElementsRemoved: lpop / rpop, then del when the list is gone.</summary>
    public static void Popped(ref CommandContext ctx, ReadOnlySpan<byte> key, bool head, bool emptied)
    {
        if (!Notify.On) return;
        Notify.Event(ref ctx, KeyspaceEvents.List, head ? "lpop"u8 : "rpop"u8, key);
        if (emptied) Notify.Event(ref ctx, KeyspaceEvents.Generic, "del"u8, key);
    }

    /// <summary>ltrimCommand, lremCommand: the event, then del when the list is gone.</summary>
    public static void Removed(ref CommandContext ctx, ReadOnlySpan<byte> evt, bool emptied)
    {
        if (!Notify.On) return;
        Notify.Event(ref ctx, KeyspaceEvents.List, evt, ctx[1]);
        if (emptied) Notify.Event(ref ctx, KeyspaceEvents.Generic, "del"u8, ctx[1]);
    }

    /// <summary>lmoveGenericCommand: lmoveHandlePush's new and push on the destination, then the source's pop (and del).</summary>
    public static void Moved(ref CommandContext ctx, bool fromHead, bool toHead, bool dstExisted, bool emptied)
    {
        if (!Notify.On) return;
        Pushed(ref ctx, ctx[2], toHead, created: !dstExisted);
        Popped(ref ctx, ctx[1], fromHead, emptied);
    }
}
