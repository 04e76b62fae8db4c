using System.Buffers.Text;
using NativeKv.Server.Config;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Network.PubSub;

/// <summary>
/// notify.c's notifyKeyspaceEvent: an event of a class that notify-keyspace-events enables is published on
/// <c>__keyspace@&lt;db&gt;__:&lt;key&gt;</c> (the event as message, with K) and <c>__keyevent@&lt;db&gt;__:&lt;event&gt;</c>
/// (the key as message, with E), in that order, as any PUBLISH. A reactor's notifier stages them with the
/// running command (<see cref="ReactorPubSub.Publish"/>): they go out when it completes, once, after its reply,
/// and are dropped with the attempt when it waits on disk and runs again. The maintenance thread's notifier
/// (active expiry) posts them straight to the reactors with subscribers.
/// </summary>
public sealed class KeyspaceNotifier : IKeyEvents
{
    private readonly ServerContext _server;
    private readonly ReactorPubSub? _pubsub;
    private readonly Tracking.ReactorTracking? _tracking;
    private byte[] _channel = new byte[128];

    /// <param name="pubsub">The reactor's pub/sub; null for the maintenance thread's notifier.</param>
    /// <param name="tracking">The reactor's client-side caching (the maintenance thread's expiries reach it through the table).</param>
    public KeyspaceNotifier(ServerContext server, ReactorPubSub? pubsub, Tracking.ReactorTracking? tracking = null)
    {
        _server = server;
        _pubsub = pubsub;
        _tracking = tracking;
    }

    /// <summary>Whether a read that finds a key expired deletes it now: for its event, or for the clients that cached it.</summary>
    public bool WantsExpired => (KeyspaceEvents.Enabled & KeyspaceEvents.Expired) != 0 || (_tracking is not null && _server.Tracking.Active);

    /// <summary>deleteExpiredKeyAndPropagate's event (a write over the key invalidates it as any write does).</summary>
    public void Expired(int db, ReadOnlySpan<byte> key) => Notify(KeyspaceEvents.Expired, "expired"u8, key, db);

    /// <summary>deleteExpiredKeyAndPropagate from a lookup: its event, and signalModifiedKey's invalidation (told when the command ends).</summary>
    public void ExpiredOnRead(int db, ReadOnlySpan<byte> key)
    {
        Notify(KeyspaceEvents.Expired, "expired"u8, key, db);
        if (_tracking is not null && _server.Tracking.Active) _tracking.StageExpired(key);
    }

    /// <summary>notifyKeyspaceEvent(type, event, key, dbid).</summary>
    public void Notify(int type, ReadOnlySpan<byte> evt, ReadOnlySpan<byte> key, int db)
    {
        int flags = KeyspaceEvents.Enabled;
        if ((flags & type) == 0) return;
        if ((flags & KeyspaceEvents.Keyspace) != 0) Publish(Channel("__keyspace@"u8, db, key), evt);
        if ((flags & KeyspaceEvents.Keyevent) != 0) Publish(Channel("__keyevent@"u8, db, evt), key);
    }

    private void Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        if (_pubsub is { } pubsub) pubsub.Publish(SubKind.Channel, channel, payload);
        else ReactorPubSub.PublishFromOutside(_server, channel, payload);
    }

    /// <summary>prefix + db + "__:" + name, in a buffer the publish copies out of.</summary>
    private ReadOnlySpan<byte> Channel(ReadOnlySpan<byte> prefix, int db, ReadOnlySpan<byte> name)
    {
        int need = prefix.Length + 11 + 3 + name.Length;
        if (need > _channel.Length) _channel = new byte[Math.Max(need, _channel.Length * 2)];
        var c = _channel.AsSpan();
        prefix.CopyTo(c);
        int n = prefix.Length;
        Utf8Formatter.TryFormat(db, c[n..], out int written);
        n += written;
        "__:"u8.CopyTo(c[n..]);
        n += 3;
        name.CopyTo(c[n..]);
        return c[..(n + name.Length)];
    }
}
