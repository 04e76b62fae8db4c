using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>The store's side of durability: the AOF hook, namespace snapshots, restore after recovery.</summary>
public sealed partial class Store
{
    private volatile AppendOnlyFile? _aof;

    /// <summary>
    /// The AOF mutations are appended to (null while appendonly is off or during replay). The store
    /// functions append each record's new image under FASTER's record lock.
    /// </summary>
    public AppendOnlyFile? Aof
    {
        get => _aof;
        set => _aof = value;
    }

    /// <summary>Called under <c>_nsLock</c> after the db -> namespace map changed.</summary>
    private void LogNamespaces()
    {
        _aof?.AppendNamespaces(_dbNs, _nextNs);
    }

    /// <summary>The namespace map, the libraries and the AOF tail read together, so replay from that tail rebuilds both.</summary>
    internal (int[] map, int nextNs, long aofTail, byte[]? libraries) SnapshotForCheckpoint(AppendOnlyFile? aof)
    {
        lock (_nsLock)
        {
            return ((int[])_dbNs.Clone(), _nextNs, aof?.TailAddress ?? -1, _libraries);
        }
    }

    private byte[]? _libraries;

    /// <summary>
    /// The FUNCTION libraries as one opaque blob (the scripting layer's format: the store only keeps it, logs
    /// each change whole and carries it in checkpoints). Null: none were ever set.
    /// </summary>
    public byte[]? Libraries
    {
        get { lock (_nsLock) return _libraries; }
    }

    /// <summary>A new library set: kept and appended to the AOF (under the lock the checkpoint's cut reads it with).</summary>
    public void SetLibraries(byte[] blob)
    {
        lock (_nsLock)
        {
            _libraries = blob;
            _aof?.AppendLibraries(blob);
        }
    }

    /// <summary>A recovered (checkpoint) or replayed (AOF) library set.</summary>
    internal void RestoreLibraries(byte[]? blob)
    {
        lock (_nsLock) _libraries = blob;
    }

    /// <summary>Installs a recovered (or replayed) namespace map; namespaces left out of it are dead.</summary>
    internal void RestoreNamespaces(int[] map, int nextNs)
    {
        lock (_nsLock)
        {
            if (map.Length != _dbNs.Length)
            {
                // The databases setting changed since: keep what fits, fresh namespaces for the rest.
                var fixedMap = new int[_dbNs.Length];
                for (int i = 0; i < fixedMap.Length; i++) fixedMap[i] = i < map.Length ? map[i] : -1;
                map = fixedMap;
            }
            if (nextNs > _nextNs) _nextNs = nextNs;
            for (int i = 0; i < map.Length; i++)
            {
                if (map[i] < 0) map[i] = NewNamespace();
            }
            var live = new HashSet<int>(map);
            for (int ns = 0; ns < _nextNs; ns++) Counters(ns).Dead = !live.Contains(ns);
            Volatile.Write(ref _dbNs, map);
            Collections.NamespacesDied();
        }
    }

    /// <summary>
    /// Rebuilds the exact per-namespace counts from the recovered log: every record that is its key's
    /// latest version (expired or not, as the live counters count them) and not a deletion; and the live
    /// paged collections, from the main records among them that name a cid (the AOF replayed next adds
    /// its changes through the store callbacks).
    /// </summary>
    internal unsafe long Recount()
    {
        lock (_nsLock)
        {
            foreach (var c in _counters)
            {
                if (c is null) continue;
                c.Keys = 0;
                c.Expires = 0;
                c.Bytes = 0;
                c.PageBytes = 0;
            }
        }
        Collections.Clear();
        using var probe = NewFasterSession(new StoreStats(), ReadCopyOptions.None);
        // Reads that go to disk are issued in batches and completed together: one at a time, the recount
        // of 300k keys under maxmemory 16mb took 4-6 s alone and over 30 s on a busy machine.
        const int Batch = 256;
        var waiting = new List<(OpSlot Slot, long Address, int Ns, bool Expires, long Bytes, ulong Cid, long PageBytes)>(Batch);
        var spare = new Stack<OpSlot>();
        long total = 0;
        void Count(int ns, bool expires, long bytes, ulong cid, long pageBytes)
        {
            var c = Counters(ns);
            c.Keys++;
            if (expires) c.Expires++;
            c.Bytes += bytes;
            total++;
            if (cid != 0) Collections.Changed(ns, ref c.PageBytes, 0, 0, cid, pageBytes, 0);
        }
        void Drain()
        {
            foreach (var w in waiting)
            {
                while (!w.Slot.Done) probe.CompletePending(wait: true);
                if (w.Slot.Found && w.Slot.Address == w.Address) Count(w.Ns, w.Expires, w.Bytes, w.Cid, w.PageBytes);
                spare.Push(w.Slot);
            }
            waiting.Clear();
        }
        var log = Kv.Log;
        long pageBytes = 0;
        using var iter = log.Scan(log.BeginAddress, log.TailAddress);
        while (iter.GetNext(out var info))
        {
            if (info.Tombstone || info.Invalid) continue;
            ref var key = ref iter.GetKey();
            ref var value = ref iter.GetValue();
            if (key.Length < ValueLayout.KeyPrefix || value.Length < ValueLayout.Header) continue;
            int ns = ValueLayout.NamespaceOf(ref key);
            if (IsDeadNamespace(ns)) continue;
            long address = iter.CurrentAddress;
            bool expires = ValueLayout.ExpiryOf(ref value) != 0;
            long bytes = ValueLayout.RecordBytes(key.Length, value.Length);
            ulong cid = ns == PagesNamespace ? 0 : Values.Paged.LiveCollections.CidOf(ref value, out pageBytes);
            // Latest version? Now = 0 so an expired record still answers (the counters include it until reaped).
            var slot = spare.Count > 0 ? spare.Pop() : new OpSlot();
            slot.Reset(0);
            var input = new StoreInput { Op = StoreOp.Read, Flags = OpFlags.HeaderOnly, Now = 0 };
            var output = new StoreOutput { Slot = slot };
            var ro = default(ReadOptions);
            var st = probe.Read(ref key, ref input, ref output, ref ro, out var meta);
            if (st.IsPending)
            {
                waiting.Add((slot, address, ns, expires, bytes, cid, pageBytes));
                if (waiting.Count >= Batch) Drain();
                continue;
            }
            if (st.Found && slot.Found && meta.Address == address) Count(ns, expires, bytes, cid, pageBytes);
            spare.Push(slot);
        }
        Drain();
        return total;
    }

    /// <summary>Directory of FASTER's checkpoints (index-checkpoints/, cpr-checkpoints/).</summary>
    public string CheckpointDirectory => Path.Combine(Directory, "checkpoints");

    /// <summary>Deletes every checkpoint but <paramref name="keep"/>.</summary>
    internal void PurgeCheckpointsExcept(Guid keep)
    {
        var name = keep.ToString();
        foreach (var sub in new[] { "index-checkpoints", "cpr-checkpoints" })
        {
            var d = Path.Combine(CheckpointDirectory, sub);
            if (!System.IO.Directory.Exists(d)) continue;
            foreach (var dir in System.IO.Directory.GetDirectories(d))
            {
                if (!string.Equals(Path.GetFileName(dir), name, StringComparison.OrdinalIgnoreCase))
                {
                    try { System.IO.Directory.Delete(dir, recursive: true); }
                    catch (IOException e) { Log.Warning($"could not delete old checkpoint {dir}: {e.Message}"); }
                }
            }
        }
    }
}
