namespace NativeKv.Server.Network.Tracking;

/// <summary>BCAST prefixes in byte order.</summary>
internal sealed class PrefixOrder : IComparer<BcastPrefix>
{
    public static readonly PrefixOrder Instance = new();
    public int Compare(BcastPrefix? x, BcastPrefix? y) => ReferenceEquals(x, y) ? 0 : ByteOrder.Instance.Compare(x!.Prefix, y!.Prefix);
}

/// <summary>
/// One reactor's half of client-side caching. A command's changed keys (and FLUSHes) are staged while it runs
/// and told when it has finished (a command that waits on disk and runs again tells once): each key is taken
/// out of the table and its clients get an invalidation (trackingInvalidateKey), written after the writer's
/// reply when the writer is one of them; keys matching BCAST prefixes are gathered per prefix and sent at the
/// end of the input, one array per prefix (trackingBroadcastInvalidationMessages). Invalidations for clients of
/// other reactors travel in the pub/sub batches, so they are delivered before anyone can see the writer's reply.
/// </summary>
public sealed class ReactorTracking
{
    private readonly Reactor _reactor;
    private readonly ServerContext _server;
    private readonly List<byte[]?> _staged = new(); // null: a FLUSH
    private readonly List<byte[]> _expiredStaged = new(); // deleted by the command's reads: expireIfNeeded's signalModifiedKey
    // In prefix order, as the PrefixTable is walked.
    private readonly SortedDictionary<BcastPrefix, SortedDictionary<byte[], Client?>> _bcast = new(PrefixOrder.Instance);
    // Keys read after a staged FLUSH in the same EXEC or script: they stay remembered once the flush empties the table.
    private readonly List<(byte[] Key, long Id)> _readAfterFlush = new();
    private bool _flushStaged;
    private bool _evictDue;

    internal ReactorTracking(Reactor reactor, ServerContext server)
    {
        _reactor = reactor;
        _server = server;
    }

    private TrackingTable Table => _server.Tracking;

    /// <summary>signalModifiedKey's trackingInvalidateKey, for when the command ends (copied only if anyone is concerned).</summary>
    public void Stage(ReadOnlySpan<byte> key)
    {
        if (!Table.Concerns(key)) return;
        _staged.Add(key.ToArray());
        _reactor.PubSub.TrackingStaged();
    }

    /// <summary>
    /// A read of the command deleted the key as expired: its invalidation, for when the command ends. The reader
    /// itself, which remembered the key before the command ran (so that no write racing it goes untold), is told
    /// too and remembered again after, as Redis's trackingRememberKeys follows the lookup's invalidation.
    /// </summary>
    public void StageExpired(ReadOnlySpan<byte> key)
    {
        if (!Table.Concerns(key)) return;
        _expiredStaged.Add(key.ToArray());
        _reactor.PubSub.TrackingStaged();
    }

    /// <summary>signalFlushedDb's trackingInvalidateKeysOnFlush, for when the command ends.</summary>
    public void StageFlush()
    {
        _staged.Add(null);
        _flushStaged = true;
        _reactor.PubSub.TrackingStaged();
    }

    /// <summary>A key read while a FLUSH of the same command is staged: remembered again after the flush.</summary>
    public void ReadAfterFlush(ReadOnlySpan<byte> key, long id)
    {
        if (_flushStaged) _readAfterFlush.Add((key.ToArray(), id));
    }

    internal void DropStaged()
    {
        _staged.Clear();
        _expiredStaged.Clear();
        _readAfterFlush.Clear();
        _flushStaged = false;
    }

    /// <summary>A key of a tracking client's read went in the table past tracking-table-max-keys.</summary>
    internal void EvictLater()
    {
        _evictDue = true;
        _reactor.PubSub.TrackingPending();
    }

    /// <summary>The command of <paramref name="writer"/> finished: what it changed is told.</summary>
    internal void Commit(Client writer)
    {
        foreach (var key in _expiredStaged)
        {
            if (Invalidate(key, writer, bcast: true) is { } ids && Array.IndexOf(ids, writer.Id) >= 0) Table.Remember(key, writer.Id);
        }
        _expiredStaged.Clear();
        foreach (var key in _staged)
        {
            if (key is null) Flushed();
            else Invalidate(key, writer, bcast: true);
        }
        _staged.Clear();
        if (!_flushStaged) return;
        _flushStaged = false;
        foreach (var (key, id) in _readAfterFlush) Table.Remember(key, id);
        _readAfterFlush.Clear();
    }

    /// <summary>trackingInvalidateKey: the clients that read the key hear it once, and the table forgets it.</summary>
    private long[]? Invalidate(byte[] key, Client? writer, bool bcast)
    {
        var table = Table;
        if (bcast) RememberToBroadcast(table, key, writer);
        var ids = table.Take(key);
        if (ids is null) return null;
        byte[]? frame = null;
        foreach (long id in ids)
        {
            if (!_server.Clients.TryGet(id, out var target)) continue;
            var t = target.TrackingOrNull;
            // A client that switched to BCAST does not get what it read before (nor one that turned tracking off).
            if (t is null || !t.On || t.Bcast) continue;
            if (t.NoLoop && target == writer) continue;
            Send(target, t, frame ??= TrackingPush.OneKey(key));
        }
        return ids;
    }

    /// <summary>trackingRememberKeyToBroadcast: the key joins every matching prefix's keys of this input.</summary>
    private void RememberToBroadcast(TrackingTable table, byte[] key, Client? writer)
    {
        var prefixes = table.Prefixes;
        if (prefixes.Length == 0) return;
        foreach (var p in prefixes)
        {
            if (!key.AsSpan().StartsWith(p.Prefix)) continue;
            if (!_bcast.TryGetValue(p, out var keys)) _bcast[p] = keys = new SortedDictionary<byte[], Client?>(ByteOrder.Instance);
            keys[key] = writer; // the last writer: NOLOOP leaves out only what the client itself changed last
            _reactor.PubSub.TrackingPending();
        }
    }

    /// <summary>trackingInvalidateKeysOnFlush: every tracking client hears "everything" (a null), and the table empties.</summary>
    private void Flushed()
    {
        foreach (var c in Table.Trackers)
        {
            if (c.TrackingOrNull is not { On: true } t) continue;
            Send(c, t, c.Output.Protocol >= 3 ? "_\r\n"u8.ToArray() : "$-1\r\n"u8.ToArray());
        }
        Table.Clear();
    }

    /// <summary>sendTrackingMessage: to the client, or to the one it redirects to; a gone one is reported to the client.</summary>
    private void Send(Client tracker, ClientTracking t, byte[] keys)
    {
        long redirect = t.Redirect;
        if (redirect == 0)
        {
            _reactor.PubSub.Route(new TrackingPush(tracker, tracker, keys, redirected: false));
            return;
        }
        if (_server.Clients.TryGet(redirect, out var to)) _reactor.PubSub.Route(new TrackingPush(tracker, to, keys, redirected: true));
        else _reactor.PubSub.Route(new TrackingPush(tracker, tracker, null, redirected: false));
    }

    /// <summary>The end of an input (before its replies go out): BCAST arrays, then evictions past the limit.</summary>
    internal void EndInput()
    {
        if (_bcast.Count > 0) Broadcast();
        if (_evictDue) Evict();
    }

    private void Broadcast()
    {
        foreach (var (prefix, keys) in _bcast)
        {
            byte[]? all = null;
            foreach (var c in prefix.Clients)
            {
                if (c.TrackingOrNull is not { On: true } t) continue;
                if (t.NoLoop)
                {
                    if (BuildArray(keys, c) is { } adhoc) Send(c, t, adhoc);
                }
                else Send(c, t, all ??= BuildArray(keys, null)!);
            }
        }
        _bcast.Clear();
    }

    /// <summary>trackingBuildBroadcastReply: the keys as a RESP array, without those <paramref name="except"/> changed last; null if empty.</summary>
    private static byte[]? BuildArray(SortedDictionary<byte[], Client?> keys, Client? except)
    {
        int count = 0;
        foreach (var (_, w) in keys) if (except is null || w != except) count++;
        if (count == 0) return null;
        var b = new ArrayBufferWriterLite(count * 16 + 8);
        b.Append("*"u8);
        b.AppendNumber(count);
        b.Append("\r\n"u8);
        foreach (var (k, w) in keys)
        {
            if (except is not null && w == except) continue;
            b.Append("$"u8);
            b.AppendNumber(k.Length);
            b.Append("\r\n"u8);
            b.Append(k);
            b.Append("\r\n"u8);
        }
        return b.ToArray();
    }

    /// <summary>trackingLimitUsedSlots: random keys out of the table until it is within the limit; their clients are told.</summary>
    private void Evict()
    {
        _evictDue = false;
        long max = _server.Config.TrackingTableMaxKeys;
        while (Table.EvictOne(max) is { } evicted)
        {
            byte[]? frame = null;
            foreach (long id in evicted.Ids)
            {
                if (!_server.Clients.TryGet(id, out var target)) continue;
                if (target.TrackingOrNull is not { On: true, Bcast: false } t) continue;
                Send(target, t, frame ??= TrackingPush.OneKey(evicted.Key));
            }
        }
    }

    /// <summary>
    /// The reactor's cron (tracking on): keys the store expired are told as changed (deleteExpiredKeyAndPropagate's
    /// signalModifiedKey with no client), and the table is brought within tracking-table-max-keys after a CONFIG SET.
    /// </summary>
    internal void Cron()
    {
        var table = Table;
        bool any = false;
        while (table.TryTakeExpired(out var key))
        {
            Invalidate(key, null, bcast: true);
            any = true;
        }
        long max = _server.Config.TrackingTableMaxKeys;
        if (max > 0 && table.TotalKeys > max)
        {
            _evictDue = true;
            any = true;
        }
        if (!any) return;
        _reactor.PubSub.TrackingPending();
        _reactor.PubSub.EndTurn();
    }
}
