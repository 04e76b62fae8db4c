namespace NativeKv.Server.Network.PubSub;

/// <summary>What one reactor hands another to write to its clients: a published message or a tracking invalidation.</summary>
public abstract class Push
{
    /// <summary>Bytes it holds, for the backlog a reactor may keep toward another.</summary>
    public abstract int Size { get; }
}

/// <summary>
/// One published message, immutable once made, so every reactor it goes to shares it: the channel
/// and payload (copied out of the publisher's input), the channel's subscribers and the patterns that
/// matched, found once by the publisher (a reactor delivers to its own clients of each).
/// </summary>
public sealed class PubSubMessage(SubKind kind, byte[] channel, byte[] payload, Subscribers? subscribers, Subscribers[] patterns, long stamp) : Push
{
    public SubKind Kind { get; } = kind;
    public byte[] Channel { get; } = channel;
    public byte[] Payload { get; } = payload;
    public Subscribers? Subscribers { get; } = subscribers;
    public Subscribers[] Patterns { get; } = patterns;
    /// <summary>The registry version its count was read at: it goes to the subscriptions made by then.</summary>
    public long Stamp { get; } = stamp;
    public override int Size => Channel.Length + Payload.Length + 64;

    /// <summary>Whether <paramref name="reactor"/> has a client this message goes to.</summary>
    public bool For(int reactor)
    {
        if (Subscribers is { } s && s.On(reactor)) return true;
        foreach (var p in Patterns) if (p.On(reactor)) return true;
        return false;
    }
}

/// <summary>The messages one reactor published for another since its last post: delivered there in order.</summary>
internal sealed class PubSubBatch(ReactorPubSub? from)
{
    /// <summary>The reactor that sent it (null: the maintenance thread, which keeps no backlog).</summary>
    public readonly ReactorPubSub? From = from;
    public readonly List<Push> Messages = new();
    public long Bytes;
}
