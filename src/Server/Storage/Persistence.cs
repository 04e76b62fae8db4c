using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FASTER.core;
using NativeKv.Server.Network;

namespace NativeKv.Server.Storage;

/// <summary>The server could not load its data (damaged AOF, unreadable checkpoint): it must not start.</summary>
public sealed class PersistenceException(string message) : Exception(message);

/// <summary>What the background job of the moment is (Redis's child types).</summary>
public enum PersistenceJob
{
    None,
    /// <summary>SAVE / BGSAVE / a save rule / shutdown.</summary>
    Save,
    /// <summary>BGREWRITEAOF or turning appendonly on: a checkpoint that the AOF restarts from.</summary>
    Rewrite,
}

/// <summary>
/// Durability: the AOF (<see cref="AppendOnlyFile"/>), checkpoints (FASTER full checkpoints, snapshot
/// of the hybrid log + the index) recorded in <c>dir/checkpoint.manifest</c> together with the AOF address
/// replay starts from, start-up recovery, the appendfsync policies, save rules and INFO persistence.
///
/// appendfsync always: a command that changed the store holds its client's replies
/// (<see cref="Client.CommitWait"/>) until a commit covers the AOF tail it left; each reactor asks for a
/// commit at the end of its loop turn (<see cref="EndTurn"/>) and the committer thread commits for all
/// reactors at once, then wakes the ones waiting (group commit, pipelined with the reactors' work).
/// everysec / no: the committer commits once a second; replies never wait.
/// </summary>
public sealed class Persistence : IWriteLog
{
    private const string ManifestName = "checkpoint.manifest";

    private readonly ServerContext _server;
    private readonly Store _store;
    private readonly Log _log;
    private readonly object _jobLock = new();
    private readonly ManualResetEventSlim _commitSignal = new(false);
    private AppendOnlyFile? _aof;           // active log (appendonly yes)
    private AppendOnlyFile? _detached;      // turned off at run time: closed at the next turn-on or shutdown
    private volatile bool _always;
    private Thread? _thread;
    private volatile bool _stopping;
    private Gate[] _gates = [];
    private int[] _wake = [];
    private Manifest _manifest;

    // --- status (INFO persistence) ---
    private long _dirty;
    private long _lastSaveUnix;
    private long _saves;
    private bool _lastSaveOk = true;
    private long _lastSaveSeconds = -1;
    private long _lastRewriteSeconds = -1;
    private bool _lastRewriteOk = true;
    private long _rewrites;
    private long _rewriteFailures;
    private PersistenceJob _job;
    private long _jobStart;
    private Thread? _jobThread;
    private bool _rewriteScheduled;
    private bool _saveScheduled;
    private long _lastFailedSave;
    private long _loadedKeys;
    private bool _aofWriteOk = true;

    private Persistence(ServerContext server, Store store, Manifest manifest)
    {
        _server = server;
        _store = store;
        _log = server.Log;
        _manifest = manifest;
        _lastSaveUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    public string DataDirectory => Path.GetFullPath(_server.Config.Dir);
    public string AofDirectory => Path.Combine(DataDirectory, _server.Config.AppendDirName);

    /// <summary>An AOF entry holds a whole value, so AOF pages are at least the store's.</summary>
    private int AofPageBits => Math.Max(Store.LogPageBits, _store.PageBits);
    public bool AofEnabled => _aof is not null;
    public AppendOnlyFile? Aof => _aof;
    public long LastSaveUnix => Interlocked.Read(ref _lastSaveUnix);
    public long Dirty => Interlocked.Read(ref _dirty);
    public PersistenceJob Job { get { lock (_jobLock) return _job; } }

    // ================================================================ start-up

    /// <summary>
    /// Creates the store and loads it: the last checkpoint, then the AOF entries after it. Sets
    /// <see cref="ServerContext.Store"/> and <see cref="ServerContext.WriteLog"/>.
    /// </summary>
    public static Persistence Open(ServerContext server)
    {
        var config = server.Config;
        var log = server.Log;
        var dir = Path.GetFullPath(config.Dir);
        Directory.CreateDirectory(dir);
        var sw = Stopwatch.StartNew();
        var manifest = Manifest.Load(Path.Combine(dir, ManifestName), log);

        var store = new Store(config, log, keepFiles: manifest.Token is not null, pageBits: manifest.PageBits);
        server.Store = store;
        // Pool threads block for whole device operations: the store's disk reads and whole-page flushes
        // (AOF pages, the store's log). A burst of them must not wait for the pool's hill climbing.
        ThreadPool.GetMinThreads(out int workers, out int io);
        if (workers < 32) ThreadPool.SetMinThreads(32, Math.Max(io, 32));
        var p = new Persistence(server, store, manifest);
        server.WriteLog = p;
        // Log files below a checkpoint are truncated by the checkpointer, never by compaction.
        store.TruncateAfterCompaction = false;
        Commands.InfoSections.Persistence = p.WriteInfo;

        if (manifest.Token is { } token)
        {
            try
            {
                store.Kv.Recover(token);
            }
            catch (Exception e)
            {
                throw new PersistenceException($"Failed loading the checkpoint {token} in {store.CheckpointDirectory}: {e.Message}");
            }
            store.RestoreNamespaces(manifest.Namespaces, manifest.NextNamespace);
            long keys = store.Recount();
            log.Notice($"Loaded checkpoint {token}: {keys} keys in {sw.ElapsedMilliseconds} ms");
        }
        else if (manifest.Exists)
        {
            store.RestoreNamespaces(manifest.Namespaces, manifest.NextNamespace);
        }

        if (config.AppendOnly)
        {
            p.OpenAofAtStartup();
        }
        p._loadedKeys = TotalKeys(store);
        p._always = config.AppendFsync == "always";
        log.Notice($"DB loaded from disk: {sw.Elapsed.TotalSeconds:0.000} seconds ({p._loadedKeys} keys)");
        return p;
    }

    private static long TotalKeys(Store store)
    {
        long n = 0;
        for (int db = 0; db < store.Databases; db++) n += store.KeyCount(db);
        return n;
    }

    private void OpenAofAtStartup()
    {
        var config = _server.Config;
        var sw = Stopwatch.StartNew();
        bool stale = _manifest.Exists && _manifest.AofStart < 0;
        if (stale)
        {
            // The last checkpoint was taken with appendonly off: an old AOF is not a continuation of it.
            AppendOnlyFile.DeleteFiles(AofDirectory, config.AppendFilename);
        }
        var aof = AppendOnlyFile.Open(AofDirectory, config.AppendFilename, AofPageBits, _log, config.AofLoadTruncated,
            out var tail, out var detail);
        var file = Path.GetFileName(aof.DevicePath);
        if (tail == AofTailState.Torn)
        {
            if (!config.AofLoadTruncated)
            {
                aof.Dispose();
                throw new PersistenceException(
                    $"Bad file format reading the append only file {file}: {detail}. " +
                    "The AOF tail is damaged or truncated. Make a backup of the AOF, then either set 'aof-load-truncated yes' " +
                    "to load it without its damaged tail, or remove the damaged files from " + AofDirectory + ".");
            }
            _log.Warning($"!!! Warning: short read while loading the AOF file {file}: {detail} !!!");
            _log.Warning("AOF loaded anyway because aof-load-truncated is enabled (the damaged tail was dropped)");
        }
        else if (tail == AofTailState.Uncommitted)
        {
            _log.Notice($"AOF: dropped {detail} (never acknowledged as durable)");
        }

        long from = _manifest.Exists && !stale ? _manifest.AofStart : aof.BeginAddress;
        bool repair = false;
        if (!stale)
        {
            var replay = _store.NewSession("aof-replay");
            long entries = aof.Replay(from, e => Apply(replay, e), out long damagedAt, out var damage);
            replay.Dispose();
            if (damage is not null)
            {
                if (!config.AofLoadTruncated)
                {
                    aof.Dispose();
                    throw new PersistenceException(
                        $"Bad file format reading the append only file {file}: unreadable entry at address {damagedAt} ({damage}). " +
                        "Set 'aof-load-truncated yes' to load the entries before it and drop the rest.");
                }
                _log.Warning($"!!! Warning: the AOF file {file} is damaged at address {damagedAt} ({damage}): loaded the {entries} entries before it, dropped the rest !!!");
                repair = true;
            }
            if (entries > 0 || aof.CommittedUntilAddress > from)
                _log.Notice($"DB loaded from append only file: {sw.Elapsed.TotalSeconds:0.000} seconds ({entries} entries)");
        }
        _aof = aof;
        _store.Aof = aof;
        if (!_manifest.Exists || stale)
        {
            // From now on the loaded state = the checkpoint (if any) + this AOF replayed from its beginning.
            var (map, next, _) = _store.SnapshotForCheckpoint(aof);
            _manifest = _manifest with { Exists = true, AofStart = aof.BeginAddress, Namespaces = map, NextNamespace = next, PageBits = _store.PageBits };
            _manifest.Save(Path.Combine(DataDirectory, ManifestName));
        }
        if (repair)
        {
            // The damaged region sits before the tail: a checkpoint now lets the AOF restart after it.
            _log.Notice("Taking a checkpoint to cut the damaged AOF region off");
            if (!RunCheckpoint(PersistenceJob.Rewrite, null)) throw new PersistenceException("Could not take the checkpoint that repairs the AOF");
        }
    }

    /// <summary>Re-applies one AOF entry (no logging: the store's AOF hook is off during replay).</summary>
    private static unsafe void Apply(StoreSession session, ReadOnlySpan<byte> entry)
    {
        var kind = (AofEntryKind)entry[0];
        switch (kind)
        {
            case AofEntryKind.Write:
            case AofEntryKind.Delete:
            {
                int keyLen = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
                var fullKey = entry.Slice(5, keyLen);
                int ns = BinaryPrimitives.ReadInt32LittleEndian(fullKey);
                var key = fullKey[ValueLayout.KeyPrefix..];
                if (kind == AofEntryKind.Delete)
                {
                    var del = new StoreInput { Op = StoreOp.Delete };
                    session.RmwNamespace(ns, key, ref del, out _);
                    return;
                }
                var rest = entry[(5 + keyLen)..];
                int valueLen = BinaryPrimitives.ReadInt32LittleEndian(rest);
                var value = rest.Slice(4, valueLen);
                var type = (KeyType)value[0];
                long expiry = BinaryPrimitives.ReadInt64LittleEndian(value[1..]);
                var payload = value[ValueLayout.Header..];
                fixed (byte* p = payload)
                {
                    var input = new StoreInput { Op = StoreOp.Set, Type = type, Expiry = expiry, Data = p, DataLength = payload.Length };
                    session.RmwNamespace(ns, key, ref input, out _);
                }
                return;
            }
            case AofEntryKind.Namespaces:
            {
                int next = BinaryPrimitives.ReadInt32LittleEndian(entry[1..]);
                int count = BinaryPrimitives.ReadInt32LittleEndian(entry[5..]);
                var map = new int[count];
                for (int i = 0; i < count; i++) map[i] = BinaryPrimitives.ReadInt32LittleEndian(entry[(9 + 4 * i)..]);
                session.Store.RestoreNamespaces(map, next);
                return;
            }
            default:
                throw new FasterException($"unknown AOF entry kind {(byte)kind}");
        }
    }

    /// <summary>Starts the committer / cron thread once the reactors exist.</summary>
    public void Start()
    {
        int reactors = _server.Reactors.Length;
        // Reactors are already running: publish the gates last, once everything they use exists.
        _wake = new int[reactors];
        var gates = new Gate[reactors];
        for (int i = 0; i < reactors; i++) gates[i] = new Gate(this);
        Volatile.Write(ref _gates, gates);
        _thread = new Thread(Background) { Name = "persistence", IsBackground = true };
        _thread.Start();
    }

    // ================================================================ the write path

    /// <summary>IWriteLog: a command changed the store (its records are already in the AOF).</summary>
    public void Append(int database, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> args, Client client)
    {
        Interlocked.Add(ref _dirty, Math.Max(1, client.Reactor.Store.Dirty));
        if (_always && _aof is { } aof) client.CommitWait = aof.TailAddress;
    }

    /// <summary>
    /// From <see cref="Client.Flush"/> when the client's replies wait for a commit: true to hold them
    /// (the client is parked until the commit covering its writes is durable).
    /// </summary>
    public bool HoldReply(Client client)
    {
        var aof = _aof;
        if (aof is null || client.CommitWait <= Durable(aof))
        {
            client.CommitWait = 0;
            return false;
        }
        var gates = _gates;
        int index = client.Reactor.Index;
        if (_stopping || _server.ShuttingDown || index >= gates.Length)
        {
            // No committer to wait for: commit here.
            aof.CommitAndWait();
            client.CommitWait = 0;
            return false;
        }
        var gate = gates[index];
        SyncGate(gate, aof);
        if (!client.CommitHeld)
        {
            client.CommitHeld = true;
            gate.Held.Add(client);
        }
        if (client.CommitWait > gate.MaxWait) gate.MaxWait = client.CommitWait;
        return true;
    }

    /// <summary>End of a reactor's loop turn: ask for one commit covering the turn's held replies.</summary>
    public void EndTurn(Reactor reactor)
    {
        var gates = _gates;
        if (reactor.Index >= gates.Length) return;
        var gate = gates[reactor.Index];
        if (gate.Held.Count == 0) return;
        var aof = _aof;
        if (aof is not null) SyncGate(gate, aof);
        if (aof is null || Durable(aof) >= gate.MaxWait)
        {
            Release(reactor);
            return;
        }
        if (gate.MaxWait > gate.Requested)
        {
            // The commit's write usually runs right here (AofDevice writes commit-sized flushes inline),
            // so it is durable when IssueCommits returns; a commit already on its way is followed by
            // the next one as soon as it completes.
            gate.Requested = gate.MaxWait;
            Volatile.Write(ref _wake[reactor.Index], 1);
            InterlockedMax(ref aof.CommitRequested, gate.MaxWait);
            IssueCommits(aof);
            // Durable now, or a commit finished between the check above and the flag: never miss the wake-up.
            if (Durable(aof) >= gate.MaxWait) WakeCovered();
        }
    }

    private Action? _onCommitted;

    /// <summary>
    /// How far the AOF is durable. FASTER reports a commit through a callback on a pool thread, after
    /// the write; but once the write that holds a commit record has completed (AofDevice syncs before
    /// completing it), recovery finds that commit. So the tail of the newest issued commit is durable
    /// as soon as the log is flushed past it, without waiting for the callback's thread hop.
    /// </summary>
    private long Durable(AppendOnlyFile aof)
    {
        long committed = aof.CommittedUntilAddress;
        long issued = Volatile.Read(ref aof.CommitIssuedTail);
        return issued > committed && aof.FlushedUntilAddress >= issued ? issued : committed;
    }

    /// <summary>
    /// Starts a commit when one is needed (requested beyond what issued commits cover) and none is on
    /// its way. One at a time, as Redis's fsync in beforeSleep: the writes that arrive meanwhile, from
    /// every reactor, share the next one. (With two allowed, the second often started with a single
    /// write in it: 36-38k SET/s instead of 41-43k.)
    /// </summary>
    private void IssueCommits(AppendOnlyFile aof)
    {
        while (Volatile.Read(ref aof.CommitRequested) > Volatile.Read(ref aof.CommitIssuedTail)
               && aof.FlushedUntilAddress >= Volatile.Read(ref aof.CommitIssuedTail))
        {
            long tail = aof.TailAddress;
            try
            {
                if (aof.CommitAsyncWithCallback(_onCommitted ??= OnCommitted, out long commitTail))
                    InterlockedMax(ref aof.CommitIssuedTail, commitTail);
                else
                    InterlockedMax(ref aof.CommitIssuedTail, tail); // nothing new: earlier commits cover the tail
            }
            catch (Exception e)
            {
                _aofWriteOk = false;
                _log.Warning($"AOF commit failed: {e.Message}");
                _commitSignal.Set(); // the committer thread retries and wakes the reactors
                return;
            }
            if (Durable(aof) < Volatile.Read(ref aof.CommitIssuedTail)) return; // on its way: its completion continues
        }
    }

    /// <summary>On FASTER's commit thread: wake the reactors waiting, start the next commit if one is due.</summary>
    private void OnCommitted()
    {
        WakeCovered();
        if (_aof is { } aof) IssueCommits(aof);
    }

    /// <summary>Posts a release to every reactor whose requested commit is durable.</summary>
    private void WakeCovered()
    {
        var wake = _wake;
        long durable = _aof is { } aof ? Durable(aof) : long.MaxValue;
        for (int i = 0; i < wake.Length; i++)
        {
            // Only reactors whose request this commit covers; the others wait for a later one.
            if (Volatile.Read(ref wake[i]) != 0 && Volatile.Read(ref _gates[i].Requested) <= durable
                && Interlocked.Exchange(ref wake[i], 0) != 0)
                _server.Reactors[i].Mailbox.Post(_gates[i]);
        }
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current = Volatile.Read(ref target);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current) return;
            current = seen;
        }
    }

    /// <summary>
    /// On the reactor. The AOF was replaced (turned off and on again: the new log's addresses start
    /// again near 0), so the gate's numbers and its held replies refer to the old one, which was
    /// committed in full when it was detached: send those replies and start over with the new log.
    /// </summary>
    private static void SyncGate(Gate gate, AppendOnlyFile aof)
    {
        if (gate.Log == aof) return;
        gate.Log = aof;
        gate.MaxWait = 0;
        gate.Requested = 0;
        if (gate.Held.Count == 0) return;
        var held = gate.Held.ToArray();
        gate.Held.Clear();
        foreach (var c in held)
        {
            c.CommitHeld = false;
            if (c.Closed) continue;
            c.CommitWait = 0;
            c.Flush();
        }
    }

    /// <summary>On the reactor: sends the replies a finished commit covers.</summary>
    private void Release(Reactor reactor)
    {
        var gate = _gates[reactor.Index];
        var held = gate.Held;
        var log = _aof;
        if (log is not null) SyncGate(gate, log);
        long committed = log is not null ? Durable(log) : long.MaxValue;
        long maxWait = 0;
        for (int i = held.Count - 1; i >= 0; i--)
        {
            var c = held[i];
            if (c.Closed || c.CommitWait <= committed)
            {
                held[i] = held[^1];
                held.RemoveAt(held.Count - 1);
                c.CommitHeld = false;
                if (!c.Closed)
                {
                    c.CommitWait = 0;
                    c.Flush();
                }
            }
            else if (c.CommitWait > maxWait)
            {
                maxWait = c.CommitWait;
            }
        }
        gate.MaxWait = maxWait;
        gate.Requested = Math.Min(gate.Requested, committed);
        if (held.Count > 0) EndTurn(reactor); // still waiting: make sure a commit and a wake-up are on their way
    }

    private sealed class Gate(Persistence owner) : IReactorWork
    {
        public readonly List<Client> Held = new();
        /// <summary>The AOF the numbers below refer to.</summary>
        public AppendOnlyFile? Log;
        public long MaxWait;
        public long Requested;
        public void Run(Reactor reactor) => owner.Release(reactor);
    }

    // ================================================================ committer + cron thread

    private void Background()
    {
        long lastCommit = Environment.TickCount64;
        long lastCron = 0;
        while (!_stopping)
        {
            _commitSignal.Wait(_always ? 100 : 50);
            _commitSignal.Reset();
            if (_stopping) break;
            try
            {
                var aof = _aof;
                long now = Environment.TickCount64;
                if (aof is not null && _always)
                {
                    // A safety net only: reactors and commit completions drive the commits. Whatever
                    // was asked for and not yet issued (a failed commit, a lost race) is issued here.
                    IssueCommits(aof);
                }
                else if (aof is not null && now - lastCommit >= 1000)
                {
                    if (aof.TailAddress > aof.CommittedUntilAddress) aof.CommitAndWait();
                    lastCommit = now;
                    _aofWriteOk = true;
                }
                var wake = _wake;
                for (int i = 0; i < wake.Length; i++)
                {
                    if (Volatile.Read(ref wake[i]) != 0 && Interlocked.Exchange(ref wake[i], 0) != 0)
                        _server.Reactors[i].Mailbox.Post(_gates[i]);
                }
                if (now - lastCron >= 100)
                {
                    lastCron = now;
                    Cron();
                }
            }
            catch (Exception e) when (!_stopping)
            {
                _aofWriteOk = false;
                _log.Warning($"persistence: {e.Message}");
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Config changes (appendonly, appendfsync), save rules, scheduled jobs.</summary>
    private void Cron()
    {
        var config = _server.Config;
        _always = config.AppendFsync == "always";
        if (config.AppendOnly != (_aof is not null))
        {
            if (config.AppendOnly) TurnAofOn();
            else TurnAofOff();
        }
        lock (_jobLock)
        {
            if (_job != PersistenceJob.None) return;
            if (_rewriteScheduled) { _rewriteScheduled = false; StartJobLocked(PersistenceJob.Rewrite); return; }
            if (_saveScheduled) { _saveScheduled = false; StartJobLocked(PersistenceJob.Save); return; }
        }
        long dirty = Dirty;
        if (dirty == 0) return;
        long nowUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        // After a failed save, retry no sooner than 5 s later (Redis's CONFIG_BGSAVE_RETRY_DELAY).
        if (!_lastSaveOk && nowUnix - _lastFailedSave < 5) return;
        foreach (var (seconds, changes) in config.SavePoints)
        {
            if (dirty >= changes && nowUnix - LastSaveUnix >= seconds)
            {
                _log.Notice($"{changes} changes in {seconds} seconds. Saving...");
                TryStartJob(PersistenceJob.Save, schedule: false, out _);
                break;
            }
        }
    }

    private void TurnAofOn()
    {
        lock (_jobLock)
        {
            if (_job != PersistenceJob.None) return; // retried on the next cron turn
            var config = _server.Config;
            _detached?.Dispose();
            _detached = null;
            AppendOnlyFile.DeleteFiles(AofDirectory, config.AppendFilename);
            var aof = AppendOnlyFile.Open(AofDirectory, config.AppendFilename, AofPageBits, _log, true, out _, out _);
            _aof = aof;
            _store.Aof = aof;
            _log.Notice("Background append only file rewriting started (appendonly turned on)");
            StartJobLocked(PersistenceJob.Rewrite);
        }
    }

    private void TurnAofOff()
    {
        lock (_jobLock)
        {
            if (_job != PersistenceJob.None) return;
            var aof = _aof!;
            _store.Aof = null;
            _aof = null;
            aof.CommitAndWait();
            _detached = aof;
            _manifest = _manifest with { AofStart = -1 };
            if (_manifest.Exists) _manifest.Save(Path.Combine(DataDirectory, ManifestName));
            _log.Notice("Append only file turned off");
        }
    }

    // ================================================================ checkpoints

    /// <summary>
    /// Starts a background checkpoint. False with the Redis error when one cannot start;
    /// <paramref name="schedule"/> queues it behind a running one of the other kind instead.
    /// </summary>
    public bool TryStartJob(PersistenceJob kind, bool schedule, out string? reply)
    {
        lock (_jobLock)
        {
            reply = null;
            if (_job == PersistenceJob.None)
            {
                StartJobLocked(kind);
                return true;
            }
            if (kind == PersistenceJob.Save)
            {
                if (_job == PersistenceJob.Save) { reply = "ERR Background save already in progress"; return false; }
                if (schedule) { _saveScheduled = true; reply = "Background saving scheduled"; return true; }
                reply = "ERR An AOF log rewriting in progress: can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
                return false;
            }
            if (_job == PersistenceJob.Rewrite) { reply = "ERR Background append only file rewriting already in progress"; return false; }
            _rewriteScheduled = true;
            reply = "Background append only file rewriting scheduled";
            return true;
        }
    }

    private void StartJobLocked(PersistenceJob kind)
    {
        _job = kind;
        _jobStart = Environment.TickCount64;
        var t = new Thread(() => RunJob(kind)) { Name = "checkpoint", IsBackground = true };
        _jobThread = t;
        t.Start();
    }

    private void RunJob(PersistenceJob kind)
    {
        RunCheckpoint(kind, null);
        lock (_jobLock)
        {
            _job = PersistenceJob.None;
            _jobThread = null;
        }
        _commitSignal.Set(); // let the cron pick up scheduled work soon
    }

    /// <summary>
    /// SAVE: a checkpoint now, on the calling reactor. The reactor keeps completing its session's disk
    /// operations while it waits, so the checkpoint's phases are never held up by it.
    /// </summary>
    public string? SaveNow(Reactor? reactor)
    {
        lock (_jobLock)
        {
            if (_job == PersistenceJob.Save) return "ERR Background save already in progress";
        }
        // Wait for a running rewrite to finish first.
        while (true)
        {
            Thread? running;
            lock (_jobLock)
            {
                running = _jobThread;
                if (running is null)
                {
                    _job = PersistenceJob.Save;
                    _jobStart = Environment.TickCount64;
                    break;
                }
            }
            Pump(reactor, () => !running.IsAlive);
        }
        bool ok = false;
        try
        {
            var done = new ManualResetEventSlim(false);
            var t = new Thread(() =>
            {
                try { ok = RunCheckpoint(PersistenceJob.Save, null); }
                finally { done.Set(); }
            }) { Name = "save", IsBackground = true };
            t.Start();
            Pump(reactor, () => done.IsSet);
        }
        finally
        {
            lock (_jobLock) _job = PersistenceJob.None;
        }
        return ok ? null : "ERR";
    }

    private static void Pump(Reactor? reactor, Func<bool> done)
    {
        while (!done())
        {
            reactor?.Store.CompletePending();
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// One checkpoint: note the AOF tail and the namespace map, take a FASTER full checkpoint (snapshot),
    /// record both in the manifest (written atomically), then truncate the AOF before the noted tail,
    /// delete the older checkpoint and the hybrid-log segments below it.
    /// </summary>
    private bool RunCheckpoint(PersistenceJob kind, string? reason)
    {
        var sw = Stopwatch.StartNew();
        long dirtyBefore = Dirty;
        try
        {
            var aof = _aof;
            var (map, next, aofStart) = _store.SnapshotForCheckpoint(aof);
            long beginBefore = _store.Kv.Log.BeginAddress;
            bool ok;
            Guid token;
            lock (_store.StateMachineLock) // an index resize in progress finishes first
                (ok, token) = _store.Kv.TakeFullCheckpointAsync(CheckpointType.Snapshot).AsTask().GetAwaiter().GetResult();
            if (!ok) throw new InvalidOperationException("FASTER refused the checkpoint (another one is running)");
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var manifest = new Manifest(true, token, aof is null ? -1 : aofStart, map, next, now, _store.PageBits);
            manifest.Save(Path.Combine(DataDirectory, ManifestName));
            _manifest = manifest;
            if (aof is not null)
            {
                aof.TruncateUntil(aofStart);
                aof.FasterLog.Commit(spinWait: true); // applies the truncation (deletes whole segments before it)
            }
            _store.PurgeCheckpointsExcept(token);
            _store.Kv.Log.ShiftBeginAddress(beginBefore, truncateLog: true);
            Interlocked.Add(ref _dirty, -dirtyBefore);
            Interlocked.Exchange(ref _lastSaveUnix, now);
            long seconds = (long)sw.Elapsed.TotalSeconds;
            if (kind == PersistenceJob.Rewrite)
            {
                _rewrites++;
                _rewriteFailures = 0;
                _lastRewriteOk = true;
                _lastRewriteSeconds = seconds;
                _log.Notice($"Background AOF rewrite finished successfully: checkpoint {token}, AOF restarts at {aofStart} ({sw.ElapsedMilliseconds} ms)");
            }
            else
            {
                _saves++;
                _lastSaveOk = true;
                _lastSaveSeconds = seconds;
                _log.Notice($"DB saved on disk: checkpoint {token} ({sw.ElapsedMilliseconds} ms)");
            }
            return true;
        }
        catch (Exception e)
        {
            if (kind == PersistenceJob.Rewrite)
            {
                _lastRewriteOk = false;
                _rewriteFailures++;
            }
            else
            {
                _lastSaveOk = false;
                _lastFailedSave = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            }
            _log.Warning($"{(kind == PersistenceJob.Rewrite ? "Background AOF rewrite" : "Checkpoint")} failed: {e.Message}");
            return false;
        }
    }

    // ================================================================ shutdown

    /// <summary>
    /// After the reactors stopped: the final checkpoint (unless NOSAVE; as Redis, only when save points are
    /// configured or the AOF is on, or SHUTDOWN SAVE forced it), then the AOF committed and closed.
    /// </summary>
    public void Shutdown(bool save, bool force = false)
    {
        _stopping = true;
        _commitSignal.Set();
        _thread?.Join();
        Thread? running;
        lock (_jobLock) running = _jobThread;
        running?.Join();
        if (save && (force || _server.Config.SavePoints.Length > 0 || _aof is not null))
        {
            _log.Notice("Saving the final checkpoint before exiting.");
            if (RunCheckpoint(PersistenceJob.Save, null)) _log.Notice("DB saved on disk");
            else _log.Warning("Error trying to save the DB, can't exit.");
        }
        if (_aof is { } aof)
        {
            _log.Notice("Calling fsync() on the AOF file.");
            try { aof.CommitAndWait(); }
            catch (Exception e) { _log.Warning($"AOF commit failed: {e.Message}"); }
            _store.Aof = null;
            aof.Dispose();
            _aof = null;
        }
        _detached?.Dispose();
        _detached = null;
    }

    // ================================================================ INFO persistence

    private void WriteInfo(ServerContext server, StringBuilder sb)
    {
        PersistenceJob job;
        long jobStart;
        bool rewriteScheduled;
        lock (_jobLock)
        {
            job = _job;
            jobStart = _jobStart;
            rewriteScheduled = _rewriteScheduled;
        }
        long running = job == PersistenceJob.None ? -1 : (Environment.TickCount64 - jobStart) / 1000;
        var aof = _aof;
        void Line(string name, string value) => sb.Append(name).Append(':').Append(value).Append("\r\n");
        void Num(string name, long value) => Line(name, value.ToString(CultureInfo.InvariantCulture));
        Num("loading", 0);
        Num("async_loading", 0);
        Num("current_cow_peak", 0);
        Num("current_cow_size", 0);
        Num("current_cow_size_age", 0);
        Line("current_fork_perc", "0.00");
        Num("current_save_keys_processed", 0);
        Num("current_save_keys_total", 0);
        Num("rdb_changes_since_last_save", Math.Max(0, Dirty));
        Num("rdb_bgsave_in_progress", job == PersistenceJob.Save ? 1 : 0);
        Num("rdb_last_save_time", LastSaveUnix);
        Line("rdb_last_bgsave_status", _lastSaveOk ? "ok" : "err");
        Num("rdb_last_bgsave_time_sec", _lastSaveSeconds);
        Num("rdb_current_bgsave_time_sec", job == PersistenceJob.Save ? running : -1);
        Num("rdb_saves", _saves);
        Num("rdb_last_cow_size", 0);
        Num("rdb_last_load_keys_expired", 0);
        Num("rdb_last_load_keys_loaded", _loadedKeys);
        Num("aof_enabled", aof is not null ? 1 : 0);
        Num("aof_rewrite_in_progress", job == PersistenceJob.Rewrite ? 1 : 0);
        Num("aof_rewrite_scheduled", rewriteScheduled ? 1 : 0);
        Num("aof_last_rewrite_time_sec", _lastRewriteSeconds);
        Num("aof_current_rewrite_time_sec", job == PersistenceJob.Rewrite ? running : -1);
        Line("aof_last_bgrewrite_status", _lastRewriteOk ? "ok" : "err");
        Num("aof_rewrites", _rewrites);
        Num("aof_rewrites_consecutive_failures", _rewriteFailures);
        Line("aof_last_write_status", _aofWriteOk && _aof?.LastWriteFailed != true ? "ok" : "err");
        Num("aof_last_cow_size", 0);
        Num("module_fork_in_progress", 0);
        Num("module_fork_last_cow_size", 0);
        if (aof is not null)
        {
            Num("aof_current_size", aof.Size);
            Num("aof_base_size", 0);
            Num("aof_pending_rewrite", rewriteScheduled ? 1 : 0);
            Num("aof_buffer_length", Math.Max(0, aof.TailAddress - aof.CommittedUntilAddress));
            Num("aof_pending_bio_fsync", 0);
            Num("aof_delayed_fsync", 0);
        }
    }

    // ================================================================ manifest

    /// <summary>
    /// <c>dir/checkpoint.manifest</c>: which checkpoint to recover, the AOF address to replay from (-1:
    /// the AOF is not part of this state), and the db -> namespace map at that address.
    /// </summary>
    private sealed record Manifest(bool Exists, Guid? Token, long AofStart, int[] Namespaces, int NextNamespace, long SavedUnix, int? PageBits)
    {
        public static Manifest Load(string path, Log log)
        {
            if (!File.Exists(path)) return new Manifest(false, null, -1, [], 0, 0, null);
            Guid? token = null;
            long aof = -1, saved = 0;
            int next = 0;
            int? pageBits = null;
            int[] map = [];
            bool header = false;
            foreach (var raw in File.ReadAllLines(path))
            {
                var line = raw.Trim();
                if (line == "nativekv-checkpoint 1") { header = true; continue; }
                int eq = line.IndexOf('=');
                if (eq <= 0) continue;
                var k = line[..eq];
                var v = line[(eq + 1)..];
                switch (k)
                {
                    case "token": token = v.Length == 0 ? null : Guid.Parse(v); break;
                    case "aof": aof = long.Parse(v, CultureInfo.InvariantCulture); break;
                    case "nextns": next = int.Parse(v, CultureInfo.InvariantCulture); break;
                    case "ns": map = v.Length == 0 ? [] : v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                    case "saved": saved = long.Parse(v, CultureInfo.InvariantCulture); break;
                    case "pagebits": pageBits = int.Parse(v, CultureInfo.InvariantCulture); break;
                }
            }
            if (!header) throw new PersistenceException($"{path} is not a NativeKv checkpoint manifest");
            if (pageBits is < 12 or > 30) throw new PersistenceException($"{path}: pagebits={pageBits} is out of range");
            return new Manifest(true, token, aof, map, next, saved, pageBits);
        }

        public void Save(string path)
        {
            var sb = new StringBuilder();
            sb.Append("nativekv-checkpoint 1\n");
            sb.Append("token=").Append(Token?.ToString() ?? "").Append('\n');
            sb.Append("aof=").Append(AofStart.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("nextns=").Append(NextNamespace.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("ns=").Append(string.Join(',', Namespaces.Select(n => n.ToString(CultureInfo.InvariantCulture)))).Append('\n');
            sb.Append("saved=").Append(SavedUnix.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (PageBits is { } bits) sb.Append("pagebits=").Append(bits.ToString(CultureInfo.InvariantCulture)).Append('\n');
            var tmp = path + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(Encoding.UTF8.GetBytes(sb.ToString()));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            FsyncDirectory(Path.GetDirectoryName(path)!);
        }

        private static void FsyncDirectory(string dir)
        {
            try
            {
                using var h = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
                RandomAccess.FlushToDisk(h);
            }
            catch (Exception) { /* best effort: not every platform opens directories */ }
        }
    }
}
