namespace NativeKv.Server.Commands.Transactions;

/// <summary>
/// Every client's WATCHed keys, across reactors (multi.c's db->watched_keys): a write that changed a key
/// marks the transactions watching it dirty (touchWatchedKey), while it still holds that key's lock, so an
/// EXEC that holds the key's lock after it sees the mark. One volatile read per write when nobody watches.
/// </summary>
public sealed class WatchedKeys
{
    private readonly Dictionary<(int Db, string Key), List<WatchedKey>> _byKey = new();
    private readonly object _gate = new();
    private volatile int _count;

    /// <summary>Whether any client watches any key (the write path's fast check).</summary>
    public bool Any => _count != 0;

    // Keys are binary: a Latin-1 string maps bytes 1:1 (the dictionary's key only).
    private static string Name(ReadOnlySpan<byte> key) => System.Text.Encoding.Latin1.GetString(key);

    /// <summary>watchForKey: false when the client watches the key already.</summary>
    public bool Add(WatchedKey watch)
    {
        lock (_gate)
        {
            var k = (watch.Database, Name(watch.Key));
            if (!_byKey.TryGetValue(k, out var list)) _byKey[k] = list = new List<WatchedKey>(2);
            foreach (var w in list)
                if (w.Owner == watch.Owner) return false;
            list.Add(watch);
            _count++;
            return true;
        }
    }

    /// <summary>unwatchAllKeys.</summary>
    public void RemoveAll(Transaction owner)
    {
        if (owner.Watched.Count == 0) return;
        lock (_gate)
        {
            foreach (var w in owner.Watched)
            {
                var k = (w.Database, Name(w.Key));
                if (!_byKey.TryGetValue(k, out var list)) continue;
                if (list.Remove(w)) _count--;
                if (list.Count == 0) _byKey.Remove(k);
            }
        }
        owner.Watched.Clear();
    }

    /// <summary>touchWatchedKey: every transaction watching <paramref name="key"/> of <paramref name="db"/> fails its EXEC.</summary>
    public void Touch(int db, ReadOnlySpan<byte> key)
    {
        if (_count == 0) return;
        lock (_gate)
        {
            if (!_byKey.TryGetValue((db, Name(key)), out var list)) return;
            foreach (var w in list) w.Owner.Dirty = true;
        }
    }

    /// <summary>
    /// touchAllWatchedKeysInDb for FLUSHDB / FLUSHALL (<paramref name="db"/> -1: every database): the keys that
    /// existed when they were watched (one created since was a write, which touched it then).
    /// </summary>
    public void TouchFlushed(int db)
    {
        if (_count == 0) return;
        lock (_gate)
        {
            foreach (var list in _byKey.Values)
                foreach (var w in list)
                    if ((db < 0 || w.Database == db) && w.Existed) w.Owner.Dirty = true;
        }
    }

    /// <summary>
    /// SWAPDB: every key watched in either database. Redis touches those that exist in either; NativeKv
    /// cannot look into the other database from here, so it also fails an EXEC whose key exists in neither
    /// (a retry, never a missed change).
    /// </summary>
    public void TouchSwapped(int a, int b)
    {
        if (_count == 0) return;
        lock (_gate)
        {
            foreach (var list in _byKey.Values)
                foreach (var w in list)
                    if (w.Database == a || w.Database == b) w.Owner.Dirty = true;
        }
    }
}
