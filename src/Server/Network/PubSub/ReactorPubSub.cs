using System.Collections.Concurrent;
using NativeKv.Server.Commands;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Network.PubSub;

/// <summary>
/// One reactor's half of pub/sub. Its clients subscribe here (the registry counts them per reactor);
/// a PUBLISH run here counts its receivers from the registry and stages the message. When the command
/// has finished, the message goes to this reactor's subscribers at once and, for every other reactor
/// with a subscriber, into that reactor's batch, put in its inbox when the publisher's input is done
/// (before its replies are sent) or the turn ends. A reactor empties its inbox before each command it
/// reads, so whoever learns of a PUBLISH's reply and then sends a command finds the message delivered
/// first, and one publisher's messages reach every reactor in the order published (one FIFO per target).
/// Messages are staged until the command ends so that an EXEC or a script that runs again after a disk
/// wait publishes once, and a subscriber publishing to itself gets its reply first (Redis 7.2's
/// pending_push_messages).
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
    private readonly long[] _inFlight;
    private readonly List<Client> _dirty = new();
    private readonly ConcurrentQueue<PubSubBatch> _inbox = new();
    private int _posted; // 1: something was put in the inbox since the last look (one volatile read a command)
    private bool _pending;
    private bool _trackingStaged, _trackingPending;

    internal ReactorPubSub(Reactor reactor, ServerContext server)
    {
        _reactor = reactor;
        _server = server;
        _index = reactor.Index;
        int n = server.PubSub.Reactors;
        _open = new PubSubBatch?[n];
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
        var s = Registry.Add(kind, key, _index, out long since);
        map.Add(key, s);
        (s.Local[_index] ??= new List<Subscription>()).Add(new Subscription(c, since));
        subs.Recount();
        return true;
    }

    /// <summary>pubsubUnsubscribeChannel / pubsubUnsubscribePattern: false if not subscribed.</summary>
    public bool Unsubscribe(Client c, SubKind kind, byte[] name)
    {
        var subs = c.SubscriptionsOrNull;
        if (subs is null || !subs.Of(kind).Remove(name, out var s)) return false;
        if (s.Local[_index] is { } list) list.RemoveAt(list.FindIndex(x => x.Client == c));
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
        var spin = new SpinWait();
        while (true)
        {
            // Counts and the version they were read at agree, so delivery goes to exactly the counted (Stamp).
            if (reg.BeginRead(out long version))
            {
                int receivers = Count(reg, kind, channel, out var subs, out var matched);
                if (reg.Unchanged(version))
                {
                    if (receivers > 0) _staged.Add(new PubSubMessage(kind, channel.ToArray(), payload.ToArray(), subs, matched, version));
                    return receivers;
                }
            }
            spin.SpinOnce();
        }
    }

    /// <summary>
    /// Any thread but a reactor's (the maintenance thread's expired events): the message is counted as
    /// <see cref="Publish"/> counts it and goes straight to the inbox of every reactor with a receiver.
    /// </summary>
    internal static void PublishFromOutside(ServerContext server, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> payload)
    {
        var reg = server.PubSub;
        var spin = new SpinWait();
        while (true)
        {
            if (reg.BeginRead(out long version))
            {
                int receivers = Count(reg, SubKind.Channel, channel, out var subs, out var matched);
                if (reg.Unchanged(version))
                {
                    if (receivers == 0) return;
                    var m = new PubSubMessage(SubKind.Channel, channel.ToArray(), payload.ToArray(), subs, matched, version);
                    var reactors = server.Reactors;
                    for (int r = 0; r < reactors.Length; r++)
                    {
                        if (!m.For(r)) continue;
                        var batch = new PubSubBatch(null);
                        batch.Messages.Add(m);
                        reactors[r].PubSub.Post(batch);
                    }
                    return;
                }
            }
            spin.SpinOnce();
        }
    }

    private static int Count(PubSubRegistry reg, SubKind kind, ReadOnlySpan<byte> channel, out Subscribers? subs, out Subscribers[] matched)
    {
        subs = reg.Find(kind, channel);
        int receivers = subs?.Count ?? 0;
        matched = [];
        if (kind != SubKind.Channel) return receivers; // shard channels ignore patterns
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
        return receivers;
    }

    /// <summary>Something to do when the command ends (one check in the executor).</summary>
    internal bool HasStaged => _staged.Count > 0 | _trackingStaged;

    /// <summary>The command waits on disk and will run again: what it published is published then.</summary>
    internal void DropStaged()
    {
        _staged.Clear();
        if (!_trackingStaged) return;
        _trackingStaged = false;
        _reactor.Tracking.DropStaged();
    }

    /// <summary>The command changed tracked state (<see cref="Tracking.ReactorTracking"/>): told when it ends.</summary>
    internal void TrackingStaged() => _trackingStaged = true;

    /// <summary>BCAST keys or evictions wait for the end of the input (trackingBroadcastInvalidationMessages).</summary>
    internal void TrackingPending()
    {
        _trackingPending = true;
        _pending = true;
    }

    /// <summary>The command finished: its messages go out, and a client's deferred messages follow its reply.</summary>
    internal void AfterCommand(Client client)
    {
        foreach (var m in _staged) Route(m);
        _staged.Clear();
        if (_trackingStaged)
        {
            _trackingStaged = false;
            _reactor.Tracking.Commit(client);
        }
        if (client.SubscriptionsOrNull?.Deferred is { } deferred && !client.StoreState.Waiting)
        {
            client.SubscriptionsOrNull.Deferred = null;
            foreach (var (m, pattern) in deferred) Write(client, m, pattern);
        }
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

    /// <summary>
    /// The end of a client's input (before its replies go out): the batches made go to their reactors'
    /// inboxes, so a PUBLISH's reply never reaches anyone before its message is where the receiver looks.
    /// </summary>
    internal void EndInput()
    {
        if (!_pending) return;
        _pending = false;
        if (_trackingPending)
        {
            // Into the batches posted below, so they travel before the replies of this input.
            _trackingPending = false;
            _reactor.Tracking.EndInput();
        }
        var reactors = _server.Reactors;
        for (int r = 0; r < _open.Length; r++)
        {
            if (_open[r] is not { } batch) continue;
            _open[r] = null;
            reactors[r].PubSub.Post(batch);
        }
    }

    /// <summary>From the reactor loop: what is left goes out, and the subscribers written to are flushed.</summary>
    internal void EndTurn()
    {
        EndInput();
        FlushDirty();
    }

    /// <summary>Any thread: a batch for this reactor. The doorbell rings only if it sleeps.</summary>
    private void Post(PubSubBatch batch)
    {
        _inbox.Enqueue(batch);
        Volatile.Write(ref _posted, 1);
        _reactor.Mailbox.Wake();
    }

    /// <summary>Batches wait in the inbox: the loop must not sleep (checked after the sleeping flag is up).</summary>
    internal bool InboxPending => !_inbox.IsEmpty;

    /// <summary>
    /// On this reactor, between commands and at each loop turn: the messages other reactors published go to
    /// this reactor's subscribers (the subscribers are flushed at the turn's end).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal void Receive()
    {
        if (Volatile.Read(ref _posted) != 0) DrainInbox();
    }

    private void DrainInbox()
    {
        Interlocked.Exchange(ref _posted, 0);
        while (_inbox.TryDequeue(out var batch))
        {
            foreach (var m in batch.Messages) DeliverOne(m);
            batch.From?.Delivered(_index, batch.Bytes);
        }
    }

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
    private void Delivered(int target, long bytes) => Interlocked.Add(ref _inFlight[target], -bytes);

    /// <summary>An invalidation for a client of this reactor (written now) or of another (into its batch).</summary>
    internal void Route(Tracking.TrackingPush p)
    {
        var target = p.Recipient.Reactor;
        if (target is null) return;
        int r = target.Index;
        if (r == _index)
        {
            Write(p.Recipient, p, null);
            return;
        }
        var batch = _open[r] ??= new PubSubBatch(this);
        batch.Messages.Add(p);
        batch.Bytes += p.Size;
        Interlocked.Add(ref _inFlight[r], p.Size);
        _pending = true;
    }

    private void DeliverOne(Push push)
    {
        if (push is Tracking.TrackingPush invalidation)
        {
            Write(invalidation.Recipient, invalidation, null);
            return;
        }
        var m = (PubSubMessage)push;
        if (m.Subscribers?.Local[_index] is { } list)
        {
            foreach (var sub in list) if (sub.Since <= m.Stamp) Write(sub.Client, m, null);
        }
        foreach (var p in m.Patterns)
        {
            if (p.Local[_index] is not { } clients) continue;
            foreach (var sub in clients) if (sub.Since <= m.Stamp) Write(sub.Client, m, p.Name);
        }
    }

    private void Write(Client c, Push m, byte[]? pattern)
    {
        // After QUIT's +OK nothing more is written (prepareClientToWrite refuses CLIENT_CLOSE_AFTER_REPLY).
        if (c.Closed || c.CloseAfterReply) return;
        if (c.StoreState.Waiting)
        {
            // Its reply may be half written (a paged walk keeps finished rounds): the message follows it.
            (c.Subscriptions.Deferred ??= new()).Add((m, pattern));
            return;
        }
        if (m is PubSubMessage message) WriteFrame(c.Output, message, pattern);
        else if (!((Tracking.TrackingPush)m).Write()) return;
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

    /// <summary>One send per written client, at the turn's end (as Redis's handleClientsWithPendingWrites).</summary>
    private void FlushDirty()
    {
        if (_dirty.Count == 0) return;
        foreach (var c in _dirty)
        {
            c.PubSubDirty = false;
            c.Flush();
        }
        _dirty.Clear();
    }
}
