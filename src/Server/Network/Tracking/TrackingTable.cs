using System.Collections.Concurrent;
using NativeKv.Server.Network.PubSub;

namespace NativeKv.Server.Network.Tracking;

/// <summary>
/// The server's client-side caching state (tracking.c's TrackingTable, PrefixTable and tracking_clients),
/// shared by every reactor. Keys are global, not per database, as in Redis. A key's entry holds the ids of the
/// clients that read it as a copy-on-write array: a reader adds its id with a compare-and-swap, a writer takes
/// the whole entry by swapping in <see cref="Taken"/>, so an id added while a writer takes the key either goes
/// with the writer's invalidation or into a fresh entry. Nothing here is touched when nobody tracks:
/// <see cref="Active"/> is the one check the command path makes.
/// </summary>
public sealed class TrackingTable : Storage.IExpiryListener
{
    private static readonly long[] Taken = [];

    private sealed class Entry(byte[] key, long[] ids)
    {
        public readonly byte[] Key = key;
        public long[] Ids = ids;
    }

    private readonly ConcurrentDictionary<byte[], Entry> _keys = new(ByteArrayComparer.Instance);
    private readonly ConcurrentDictionary<long, Client> _trackers = new();
    private readonly ConcurrentQueue<byte[]> _expired = new();
    private readonly object _gate = new();
    private BcastPrefix[] _prefixes = [];
    private long _keyCount, _items;
    private volatile int _clients;
    private long _inUse; // tracking clients + keys in the table

    /// <summary>
    /// Whether a write must look at the table: a client tracks, or keys are left from one that stopped (Redis's
    /// table, once made, is always looked at: a client that tracks again must not get invalidations for changes
    /// made while it did not). The command path's one look.
    /// </summary>
    public bool Active => Volatile.Read(ref _inUse) != 0;
    public int Clients => _clients;
    public long TotalKeys => Math.Max(0, Volatile.Read(ref _keyCount));
    public long TotalItems => Math.Max(0, Volatile.Read(ref _items));
    public int TotalPrefixes => Volatile.Read(ref _prefixes).Length;
    /// <summary>The BCAST prefixes in byte order (a snapshot: replaced, never changed).</summary>
    public BcastPrefix[] Prefixes => Volatile.Read(ref _prefixes);
    public ICollection<Client> Trackers => _trackers.Values;

    /// <summary>enableTracking's count and (BCAST) enableBcastTrackingForPrefix for each prefix ("" when none).</summary>
    public void Enable(Client c, ClientTracking t, List<byte[]> prefixes)
    {
        lock (_gate)
        {
            if (_trackers.TryAdd(c.Id, c))
            {
                _clients++;
                Interlocked.Increment(ref _inUse);
            }
            if (!t.Bcast) return;
            if (prefixes.Count == 0) prefixes.Add([]);
            foreach (var p in prefixes)
            {
                if (!t.Prefixes.Add(p)) continue;
                int i = Find(p);
                if (i >= 0)
                {
                    var bp = _prefixes[i];
                    bp.Clients = [.. bp.Clients, c];
                    continue;
                }
                var next = new List<BcastPrefix>(_prefixes) { new BcastPrefix(p, [c]) };
                next.Sort(static (a, b) => ByteOrder.Instance.Compare(a.Prefix, b.Prefix));
                Volatile.Write(ref _prefixes, next.ToArray());
            }
        }
    }

    /// <summary>disableTracking: out of its prefixes (the last client of one removes it) and the count.</summary>
    public void Disable(Client c, ClientTracking t)
    {
        lock (_gate)
        {
            if (t.Prefixes.Count > 0)
            {
                var next = new List<BcastPrefix>(_prefixes);
                foreach (var p in t.Prefixes)
                {
                    int i = next.FindIndex(x => x.Prefix.AsSpan().SequenceEqual(p));
                    if (i < 0) continue;
                    var bp = next[i];
                    bp.Clients = Array.FindAll(bp.Clients, x => x != c);
                    if (bp.Clients.Length == 0) next.RemoveAt(i);
                }
                Volatile.Write(ref _prefixes, next.ToArray());
            }
            if (_trackers.TryRemove(c.Id, out _))
            {
                _clients--;
                Interlocked.Decrement(ref _inUse);
            }
        }
        t.Clear();
    }

    private int Find(byte[] prefix)
    {
        for (int i = 0; i < _prefixes.Length; i++)
            if (_prefixes[i].Prefix.AsSpan().SequenceEqual(prefix)) return i;
        return -1;
    }

    /// <summary>trackingRememberKeys for one key: <paramref name="id"/> may cache it.</summary>
    public void Remember(ReadOnlySpan<byte> key, long id)
    {
        var lookup = _keys.GetAlternateLookup<ReadOnlySpan<byte>>();
        while (true)
        {
            if (!lookup.TryGetValue(key, out var entry))
            {
                var k = key.ToArray();
                if (!_keys.TryAdd(k, new Entry(k, [id]))) continue;
                Interlocked.Increment(ref _keyCount);
                Interlocked.Increment(ref _inUse);
                Interlocked.Increment(ref _items);
                return;
            }
            var ids = Volatile.Read(ref entry.Ids);
            if (ids == Taken)
            {
                // A writer took it and is about to remove it: help, then start a fresh entry.
                _keys.TryRemove(new KeyValuePair<byte[], Entry>(entry.Key, entry));
                continue;
            }
            if (Array.IndexOf(ids, id) >= 0) return;
            long[] next = [.. ids, id];
            if (Interlocked.CompareExchange(ref entry.Ids, next, ids) != ids) continue;
            Interlocked.Increment(ref _items);
            return;
        }
    }

    /// <summary>
    /// Whether a change of <paramref name="key"/> has anyone to tell: it is in the table or matches a BCAST prefix.
    /// A key a reader puts in the table after this look was changed before the reader read it.
    /// </summary>
    public bool Concerns(ReadOnlySpan<byte> key)
    {
        if (Volatile.Read(ref _keyCount) != 0 && _keys.GetAlternateLookup<ReadOnlySpan<byte>>().ContainsKey(key)) return true;
        foreach (var p in Volatile.Read(ref _prefixes))
            if (key.StartsWith(p.Prefix)) return true;
        return false;
    }

    /// <summary>The clients that may cache <paramref name="key"/>, taken out of the table (null: none).</summary>
    public long[]? Take(ReadOnlySpan<byte> key)
    {
        if (!_keys.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var entry)) return null;
        return Take(entry);
    }

    private long[]? Take(Entry entry)
    {
        var ids = Interlocked.Exchange(ref entry.Ids, Taken);
        if (ids == Taken) return null;
        _keys.TryRemove(new KeyValuePair<byte[], Entry>(entry.Key, entry));
        Interlocked.Decrement(ref _keyCount);
        Interlocked.Decrement(ref _inUse);
        Interlocked.Add(ref _items, -ids.Length);
        return ids;
    }

    /// <summary>trackingInvalidateKeysOnFlush: the table empties (every tracking client is told by the caller).</summary>
    public void Clear()
    {
        foreach (var pair in _keys) Take(pair.Value);
    }

    /// <summary>
    /// trackingLimitUsedSlots: one key past tracking-table-max-keys, picked at random, taken out (its clients are
    /// told as if it changed); null when under the limit (0: no limit).
    /// </summary>
    public (byte[] Key, long[] Ids)? EvictOne(long maxKeys)
    {
        if (maxKeys <= 0 || TotalKeys <= maxKeys) return null;
        int skip = Random.Shared.Next((int)Math.Min(TotalKeys, 64));
        Entry? pick = null;
        foreach (var pair in _keys)
        {
            pick = pair.Value;
            if (skip-- <= 0) break;
        }
        if (pick is null) return null;
        var ids = Take(pick);
        return ids is null ? null : (pick.Key, ids);
    }

    /// <summary>Any thread (the store's expiry): a key expired; a reactor tells its clients at its next cron.</summary>
    public void Expired(int ns, ReadOnlySpan<byte> key)
    {
        if (Active) _expired.Enqueue(key.ToArray());
    }

    public bool TryTakeExpired(out byte[] key) => _expired.TryDequeue(out key!);
    public bool ExpiredPending => !_expired.IsEmpty;
}

/// <summary>A BCAST prefix and its clients (bcastState.clients): the client array is replaced, never changed.</summary>
public sealed class BcastPrefix(byte[] prefix, Client[] clients)
{
    public readonly byte[] Prefix = prefix;
    public volatile Client[] Clients = clients;
}
