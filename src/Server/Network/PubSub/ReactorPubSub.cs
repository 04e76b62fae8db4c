using NativeKv.Server.Commands;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Network.PubSub;

/// <summary>
/// One reactor's half of pub/sub. Its clients subscribe here (the registry counts them per reactor);
/// a PUBLISH run here counts its receivers from the registry, and when the command has finished the
/// message goes to this reactor's subscribers directly and, for every other reactor with a subscriber,
/// into that reactor's batch for the turn, posted to its mailbox when the turn ends. One publisher's
/// messages therefore reach every reactor in the order published (one FIFO mailbox per target, batches
/// posted in order). Messages are staged until the command ends so that an EXEC or a script that runs
/// again after a disk wait publishes once, and a subscriber publishing to itself gets its reply first
/// (Redis 7.2's pending_push_messages).
/// </summary>
public sealed class ReactorPubSub
{
    /// <summary>
    /// Bytes a reactor may have sent toward another and not yet seen delivered; past it, its clients
    /// stop reading until the other catches up (a stalled reactor cannot grow the queue without bound).
    /// </summary>
    public const long BacklogLimit = 64L * 1024 * 1024;

    private readonly Reactor _reactor;
    private readonly ServerContext _server;
    private readonly int _index;
    private readonly List<PubSubMessage> _staged = new();
    private readonly PubSubBatch?[] _open;
    private readonly Queue<PubSubBatch>[] _unsent;
    private readonly long[] _inFlight;
    private readonly List<Client> _dirty = new();
    private bool _pending;

    internal ReactorPubSub(Reactor reactor, ServerContext server)
    {
        _reactor = reactor;
        _server = server;
        _index = reactor.Index;
        int n = server.PubSub.Reactors;
        _open = new PubSubBatch?[n];
        _unsent = new Queue<PubSubBatch>[n];
        for (int i = 0; i < n; i++) _unsent[i] = new Queue<PubSubBatch>();
        _inFlight = new long[n];
    }

    private PubSubRegistry Registry => _server.PubSub;

    /// <summary>pubsubSubscribeChannel / pubsubSubscribePattern: false if already subscribed.</summary>
    public bool Subscribe(Client c, SubKind kind, ReadOnlySpan<byte> name)
    {
        var subs = c.Subscriptions;
        var map = subs.Of(kind);
        var key = name.ToArray();
        if (map.ContainsKey(key)) return false;
        var s = Registry.Add(kind, key, _index);
        map.Add(key, s);
        (s.Local[_index] ??= new List<Client>()).Add(c);
        subs.Recount();
        return true;
    }

    /// <summary>pubsubUnsubscribeChannel / pubsubUnsubscribePattern: false if not subscribed.</summary>
    public bool Unsubscribe(Client c, SubKind kind, byte[] name)
    {
        var subs = c.SubscriptionsOrNull;
        if (subs is null || !subs.Of(kind).Remove(name, out var s)) return false;
        s.Local[_index]?.Remove(c);
        Registry.Remove(kind, s, _index);
        subs.Recount();
        return true;
    }

    /// <summary>The names a client is subscribed to, in order (UNSUBSCRIBE without arguments walks a copy).</summary>
    public static byte[][] Names(Client c, SubKind kind) => c.SubscriptionsOrNull is { } s ? [.. s.Of(kind).Keys] : [];

    /// <summary>RESET, QUIT and close: every subscription goes, without notifications.</summary>
    public void LeaveAll(Client c)
    {
        if (c.SubscriptionsOrNull is null) return;
        for (int k = 0; k < 3; k++)
        {
            foreach (var name in Names(c, (SubKind)k)) Unsubscribe(c, (SubKind)k, name);
        }
        c.SubscriptionsOrNull.Deferred = null;
        c.InPubSub = false;
    }

    /// <summary>
    /// pubsubPublishMessage's count: the channel's subscribers on every reactor plus those of each
    /// matching pattern (shard channels ignore patterns). The message is staged for the command's end.
    /// </summary>
    public int Publish(SubKind kind, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        var reg = Registry;
        var subs = reg.Find(kind, channel);
        int receivers = subs?.Count ?? 0;
        Subscribers[] matched = [];
        if (kind == SubKind.Channel)
        {
            List<Subscribers>? found = null;
            foreach (var p in reg.Patterns)
            {
                if (!GlobMatcher.Match(p.Name, channel)) continue;
                int n = p.Count;
                if (n == 0) continue;
                (found ??= new List<Subscribers>()).Add(p);
                receivers += n;
            }
            if (found is not null) matched = [.. found];
        }
        if (receivers > 0) _staged.Add(new PubSubMessage(kind, channel.ToArray(), payload.ToArray(), subs, matched));
        return receivers;
    }

    /// <summary>Something to do when the command ends (one check in the executor).</summary>
    internal bool HasStaged => _staged.Count > 0;

    /// <summary>The command waits on disk and will run again: what it published is published then.</summary>
    internal void DropStaged() => _staged.Clear();

    /// <summary>The command finished: its messages go out, and a client's deferred messages follow its reply.</summary>
    internal void AfterCommand(Client client)
    {
        foreach (var m in _staged) Route(m);
        _staged.Clear();
        if (client.SubscriptionsOrNull?.Deferred is { } deferred && !client.StoreState.Waiting)
        {
            client.SubscriptionsOrNull.Deferred = null;
            foreach (var (m, pattern) in deferred) Write(client, m, pattern);
        }
        FlushDirty(client);
    }

    private void Route(PubSubMessage m)
    {
        for (int r = 0; r < _open.Length; r++)
        {
            if (!m.For(r)) continue;
            if (r == _index)
            {
                DeliverOne(m);
                continue;
            }
            var batch = _open[r] ??= new PubSubBatch(this);
            batch.Messages.Add(m);
            batch.Bytes += m.Size;
            Interlocked.Add(ref _inFlight[r], m.Size);
            _pending = true;
        }
    }

    /// <summary>From the reactor loop: the turn's batches go to their reactors' mailboxes, in order.</summary>
    internal void EndTurn()
    {
        if (!_pending) return;
        bool left = false;
        var reactors = _server.Reactors;
        for (int r = 0; r < _open.Length; r++)
        {
            var queue = _unsent[r];
            if (_open[r] is { } batch)
            {
                _open[r] = null;
                queue.Enqueue(batch);
            }
            // A full mailbox keeps the rest for the next turn; nothing overtakes what waits.
            while (queue.TryPeek(out var next) && reactors[r].Mailbox.TryPost(next)) queue.Dequeue();
            if (queue.Count > 0) left = true;
        }
        _pending = left;
    }

    /// <summary>Batches wait for a full mailbox: the loop must come back soon.</summary>
    internal bool HasUnsent => _pending;

    /// <summary>Too much sent toward a reactor that has not delivered it: this reactor's clients pause reading.</summary>
    internal bool Backlogged
    {
        get
        {
            for (int r = 0; r < _inFlight.Length; r++)
            {
                if (Volatile.Read(ref _inFlight[r]) > BacklogLimit) return true;
            }
            return false;
        }
    }

    /// <summary>Any thread: reactor <paramref name="target"/> delivered a batch this reactor sent.</summary>
    internal void Delivered(int target, long bytes) => Interlocked.Add(ref _inFlight[target], -bytes);

    /// <summary>On this reactor (a batch from another): each message to this reactor's subscribers.</summary>
    internal void Deliver(List<PubSubMessage> messages)
    {
        foreach (var m in messages) DeliverOne(m);
        FlushDirty(null);
    }

    private void DeliverOne(PubSubMessage m)
    {
        if (m.Subscribers?.Local[_index] is { } list)
        {
            foreach (var c in list) Write(c, m, null);
        }
        foreach (var p in m.Patterns)
        {
            if (p.Local[_index] is not { } clients) continue;
            foreach (var c in clients) Write(c, m, p.Name);
        }
    }

    private void Write(Client c, PubSubMessage m, byte[]? pattern)
    {
        if (c.Closed) return;
        if (c.StoreState.Waiting)
        {
            // Its reply may be half written (a paged walk keeps finished rounds): the message follows it.
            (c.Subscriptions.Deferred ??= new()).Add((m, pattern));
            return;
        }
        WriteFrame(c.Output, m, pattern);
        if (!c.PubSubDirty)
        {
            c.PubSubDirty = true;
            _dirty.Add(c);
        }
    }

    /// <summary>addReplyPubsubMessage / addReplyPubsubPatMessage: an array in RESP2, a push in RESP3.</summary>
    internal static void WriteFrame(RespWriter o, PubSubMessage m, byte[]? pattern)
    {
        o.PushHeader(pattern is null ? 3 : 4);
        if (pattern is null)
        {
            o.Bulk(m.Kind == SubKind.Shard ? "smessage"u8 : "message"u8);
        }
        else
        {
            o.Bulk("pmessage"u8);
            o.Bulk(pattern);
        }
        o.Bulk(m.Channel);
        o.Bulk(m.Payload);
    }

    /// <summary>One send per written client, after the whole delivery (the running client flushes itself).</summary>
    private void FlushDirty(Client? running)
    {
        if (_dirty.Count == 0) return;
        foreach (var c in _dirty)
        {
            c.PubSubDirty = false;
            if (c != running) c.Flush();
        }
        _dirty.Clear();
    }
}
