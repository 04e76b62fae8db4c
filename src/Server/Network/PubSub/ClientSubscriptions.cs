namespace NativeKv.Server.Network.PubSub;

/// <summary>
/// A client's subscriptions (c->pubsub_channels, pubsub_patterns, pubsubshard_channels), in the order
/// made; each keeps the registry entry it counts in. Touched only on the client's reactor; the counts
/// are copied to plain fields for CLIENT LIST on other threads.
/// </summary>
public sealed class ClientSubscriptions
{
    private readonly OrderedDictionary<byte[], Subscribers>[] _byKind =
        [new(ByteArrayComparer.Instance), new(ByteArrayComparer.Instance), new(ByteArrayComparer.Instance)];

    public int Channels, Patterns, Shard;

    /// <summary>Messages and invalidations that came while the client's command waited on disk, written after it.</summary>
    internal List<(Push Message, byte[]? Pattern)>? Deferred;

    /// <summary>clientSubscriptionsCount: channels and patterns.</summary>
    public int Count => Channels + Patterns;
    /// <summary>clientTotalPubSubSubscriptionCount.</summary>
    public int Total => Channels + Patterns + Shard;

    internal OrderedDictionary<byte[], Subscribers> Of(SubKind kind) => _byKind[(int)kind];

    internal void Recount()
    {
        Volatile.Write(ref Channels, _byKind[0].Count);
        Volatile.Write(ref Patterns, _byKind[1].Count);
        Volatile.Write(ref Shard, _byKind[2].Count);
    }
}
