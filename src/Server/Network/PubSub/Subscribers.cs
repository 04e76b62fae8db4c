using System.Collections.Concurrent;

namespace NativeKv.Server.Network.PubSub;

/// <summary>The three name spaces of Redis pub/sub: channels, patterns, shard channels.</summary>
public enum SubKind { Channel = 0, Pattern = 1, Shard = 2 }

/// <summary>
/// One channel's (or pattern's) subscribers: a count per reactor, written by that reactor under the
/// registry's gate and read by any publisher without it (PUBLISH's receivers, where to send), and the
/// subscribed clients per reactor, touched only by that reactor's thread (delivery).
/// </summary>
public sealed class Subscribers
{
    public Subscribers(byte[] name, int reactors)
    {
        Name = name;
        Counts = new int[reactors];
        Local = new List<Subscription>?[reactors];
    }

    public byte[] Name { get; }
    internal readonly int[] Counts;
    internal readonly List<Subscription>?[] Local;
    /// <summary>Sum of <see cref="Counts"/>, kept under the registry's gate (0: the entry leaves it).</summary>
    internal int Total;

    /// <summary>Subscriptions over every reactor, as a publisher on any thread sees them now.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            for (int i = 0; i < Counts.Length; i++) n += Volatile.Read(ref Counts[i]);
            return n;
        }
    }

    internal bool On(int reactor) => Volatile.Read(ref Counts[reactor]) > 0;
}

/// <summary>A client on a reactor's list, and the registry version from which publishers count it.</summary>
internal readonly record struct Subscription(Client Client, long Since);

/// <summary>
/// Every subscription of the server, by name (server.pubsub_channels, pubsub_patterns,
/// pubsubshard_channels in Redis). Subscribe and unsubscribe take a gate (they change the maps);
/// PUBLISH only reads: a concurrent dictionary look-up and a copy-on-write pattern array, so the
/// publish path takes no lock.
/// </summary>
public sealed class PubSubRegistry(int reactors)
{
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<byte[], Subscribers> _channels = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<byte[], Subscribers> _shard = new(ByteArrayComparer.Instance);
    private readonly Dictionary<byte[], Subscribers> _patternMap = new(ByteArrayComparer.Instance);
    private volatile Subscribers[] _patterns = [];
    // A seqlock over the counts: odd while a subscribe or unsubscribe changes them (under the gate).
    private long _version;

    public int Reactors { get; } = reactors;

    /// <summary>Patterns with subscribers (replaced whole on change: a publisher iterates a snapshot).</summary>
    public Subscribers[] Patterns => _patterns;

    public int ChannelCount => _channels.Count;
    public int PatternCount => _patterns.Length;
    public int ShardCount => _shard.Count;

    /// <summary>
    /// One more subscription to <paramref name="name"/> on <paramref name="reactor"/>; <paramref name="since"/>
    /// is the version from which a publisher counts it (a message stamped earlier does not go to it).
    /// </summary>
    public Subscribers Add(SubKind kind, byte[] name, int reactor, out long since)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref _version);
            Subscribers? s;
            if (kind == SubKind.Pattern)
            {
                if (!_patternMap.TryGetValue(name, out s))
                {
                    s = new Subscribers(name, Reactors);
                    _patternMap.Add(name, s);
                    _patterns = [.. _patterns, s];
                }
            }
            else
            {
                var map = kind == SubKind.Shard ? _shard : _channels;
                if (!map.TryGetValue(name, out s))
                {
                    s = new Subscribers(name, Reactors);
                    map[name] = s;
                }
            }
            s.Total++;
            Interlocked.Increment(ref s.Counts[reactor]);
            since = Interlocked.Increment(ref _version);
            return s;
        }
    }

    /// <summary>One subscription fewer; the last one takes the name out of the registry (as Redis frees it).</summary>
    public void Remove(SubKind kind, Subscribers s, int reactor)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref _version);
            try { RemoveLocked(kind, s, reactor); }
            finally { Interlocked.Increment(ref _version); }
        }
    }

    private void RemoveLocked(SubKind kind, Subscribers s, int reactor)
    {
        {
            Interlocked.Decrement(ref s.Counts[reactor]);
            if (--s.Total > 0) return;
            if (kind == SubKind.Pattern)
            {
                _patternMap.Remove(s.Name);
                _patterns = Array.FindAll(_patterns, p => !ReferenceEquals(p, s));
            }
            else
            {
                (kind == SubKind.Shard ? _shard : _channels).TryRemove(new KeyValuePair<byte[], Subscribers>(s.Name, s));
            }
        }
    }

    /// <summary>
    /// A publisher's view: an even version to read the counts under, or false while a change is under way.
    /// <see cref="Unchanged"/> after the reads says whether they were all of that version.
    /// </summary>
    public bool BeginRead(out long version)
    {
        version = Volatile.Read(ref _version);
        return (version & 1) == 0;
    }

    public bool Unchanged(long version)
    {
        Interlocked.MemoryBarrier(); // the count reads stay before the second look
        return Volatile.Read(ref _version) == version;
    }

    /// <summary>Lock-free look-up of a channel or shard channel by its bytes.</summary>
    public Subscribers? Find(SubKind kind, ReadOnlySpan<byte> name)
    {
        var map = kind == SubKind.Shard ? _shard : _channels;
        return map.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out var s) ? s : null;
    }

    /// <summary>The channels (or shard channels) with subscribers, for PUBSUB CHANNELS.</summary>
    public List<byte[]> Names(SubKind kind)
    {
        var list = new List<byte[]>();
        foreach (var pair in kind == SubKind.Shard ? _shard : _channels)
        {
            if (pair.Value.Count > 0) list.Add(pair.Key);
        }
        return list;
    }
}

/// <summary>Byte-wise equality for channel names, with span look-ups (no copy to ask).</summary>
internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);
    public int GetHashCode(byte[] obj) => GetHashCode((ReadOnlySpan<byte>)obj);
    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);
    public int GetHashCode(ReadOnlySpan<byte> alternate)
    {
        var h = new HashCode();
        h.AddBytes(alternate);
        return h.ToHashCode();
    }
    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
}
