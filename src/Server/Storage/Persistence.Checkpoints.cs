using System.Diagnostics;
using FASTER.core;
using NativeKv.Server.Storage.Locks;

namespace NativeKv.Server.Storage;

/// <summary>Checkpoints (SAVE, BGSAVE, BGREWRITEAOF, save rules) and shutdown.</summary>
public sealed partial class Persistence
{
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
            if (_foregroundSave)
            {
                // Another reactor's SAVE runs. Redis, single-threaded, would start this job right after
                // it: queue it behind the SAVE, and answer as Redis would have then.
                if (kind == PersistenceJob.Save)
                {
                    if (_saveScheduled) { reply = "ERR Background save already in progress"; return false; }
                    _saveScheduled = true;
                    return true;
                }
                if (_rewriteScheduled) { reply = "ERR Background append only file rewriting already in progress"; return false; }
                _rewriteScheduled = true;
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
        bool ok = RunCheckpoint(kind, null);
        lock (_jobLock)
        {
            // Counted as the job ends, in one step (as Redis's child exit handler): a client that saw
            // rdb_saves grow and then sends SAVE must not find this one still in progress.
            if (ok && kind == PersistenceJob.Save) _saves++;
            _job = PersistenceJob.None;
            _jobThread = null;
        }
        _commitSignal.Set(); // let the cron pick up scheduled work soon
    }

    /// <summary>
    /// SAVE: a checkpoint now, on the calling reactor. SAVE is a keyspace command: when it runs its client
    /// holds the keyspace gate exclusively, so no command is between two of its store operations, and it
    /// hands the gate back through <paramref name="releaseKeyspace"/> once the cut is taken (the flush goes
    /// on with the gate open; only this reactor waits for the rest, as before). The checkpointer cannot take
    /// the gate itself here: a command of this reactor's clients waiting on disk holds it shared and can
    /// only finish on this reactor, which is inside SAVE. The reactor keeps completing its session's disk
    /// operations while it waits, so the checkpoint's phases are never held up by it.
    /// </summary>
    public string? SaveNow(IReactorTurn? reactor, Action releaseKeyspace)
    {
        long since = Stopwatch.GetTimestamp();
        bool holding = true, ok = false, claimed = false;
        void Release()
        {
            if (!holding) return;
            holding = false;
            // A job taking its cut under this SAVE's gate (it may have started after the one waited for
            // ended, and borrowed before this SAVE saw it) keeps the gate until its cut is taken.
            while (true)
            {
                lock (_jobLock)
                {
                    if (!_cutOnLentGate)
                    {
                        _saveLendsGate = false;
                        break;
                    }
                }
                reactor?.Store.CompletePending();
                Thread.Sleep(1);
            }
            releaseKeyspace();
            if (claimed) NoteGatePause(Stopwatch.GetElapsedTime(since).TotalMilliseconds);
        }
        try
        {
            // One checkpoint at a time (two FASTER checkpoints at once deadlocked in IndexCheckpointInfo.Reset).
            // A BGSAVE running: Redis's error. A rewrite or another reactor's SAVE running: wait for it, as
            // Redis would have run this SAVE after it; claim the slot in the same lock that saw it free.
            while (true)
            {
                lock (_jobLock)
                {
                    if (_job == PersistenceJob.Save && !_foregroundSave) return "ERR Background save already in progress";
                    if (_job == PersistenceJob.None)
                    {
                        _job = PersistenceJob.Save;
                        _foregroundSave = true;
                        _jobStart = Environment.TickCount64;
                        claimed = true;
                        break;
                    }
                    // A job that has not taken its cut yet waits for the gate this SAVE holds while it waits
                    // for the job: lend it (no command runs while it is held, which is all the cut needs).
                    _saveLendsGate = true;
                }
                Pump(reactor, () => Job == PersistenceJob.None);
            }
            var cut = new ManualResetEventSlim(false);
            var done = new ManualResetEventSlim(false);
            var t = new Thread(() =>
            {
                try { ok = RunCheckpoint(PersistenceJob.Save, null, cutTaken: cut.Set); }
                finally
                {
                    cut.Set();
                    done.Set();
                }
            }) { Name = "save", IsBackground = true };
            t.Start();
            while (!done.IsSet)
            {
                reactor?.Store.CompletePending();
                if (cut.IsSet) Release(); // on this thread: the client's lock set is its reactor's
                (cut.IsSet ? done : cut).Wait(1);
            }
        }
        finally
        {
            Release();
            if (claimed)
            {
                lock (_jobLock)
                {
                    if (ok) _saves++;
                    _job = PersistenceJob.None;
                    _foregroundSave = false;
                }
                _commitSignal.Set(); // a job queued behind this SAVE starts soon
            }
        }
        return ok ? null : "ERR";
    }

    private static readonly TimeSpan TruncateCommitWait = TimeSpan.FromSeconds(5);
    /// <summary>Shutdown's final checkpoint: the reactors are gone, so any holder of the gate is a bug; do not hang on it.</summary>
    private static readonly TimeSpan ShutdownGateWait = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan GateWarnAfter = TimeSpan.FromSeconds(5);

    /// <summary>Under _jobLock: a foreground SAVE holds the keyspace gate and waits for the running job (see SaveNow).</summary>
    private bool _saveLendsGate;
    /// <summary>Under _jobLock: a job is taking its cut under that SAVE's gate; the SAVE keeps it until the cut is taken.</summary>
    private bool _cutOnLentGate;

    /// <summary>
    /// The key-lock table whose keyspace gate a checkpoint takes (set by the host before the reactors start;
    /// null at start-up, when no command runs).
    /// </summary>
    public KeyLockTable? Locks { get; set; }

    /// <summary>
    /// Starts FASTER's checkpoint at a command boundary and returns once every session has moved to the
    /// new version, its flush still running. FASTER moves a session from version v to v+1 at the session's
    /// next refresh (ClientSession.UnsafeResumeThread -> InternalRefresh, at every operation), which can
    /// fall between two store operations of one command: the checkpoint would hold a paged collection's new
    /// bucket pages with its old meta, which no replay of element records repairs. So the checkpointer takes
    /// the keyspace gate exclusively (every keyed command holds it shared for its whole run, disk waits
    /// included), notes the AOF tail and namespace map (exactly the cut: every command before it ended, with
    /// its AOF records appended below that tail), starts the checkpoint, and waits until FASTER's phase has
    /// left IN_PROGRESS at the new version: IN_PROGRESS ends only once every session inside an operation has
    /// refreshed into v+1 (VersionChangeTask: epoch markers), and a session outside one refreshes into v+1
    /// at its next operation, so from then on nothing writes in v. The sessions of reactors whose clients
    /// are parked on the gate do not hold that up: a ClientSession leaves the epoch after every operation.
    /// The gate is then opened; the index and log writes go on behind it.
    /// </summary>
    /// <param name="cutTaken">The caller holds the gate (SAVE) and is told when it may open it.</param>
    private (Task<(bool success, Guid token)> checkpoint, int[] map, int next, long aofStart, byte[]? libraries, double cutMs) StartAtCut(
        AppendOnlyFile? aof, Action? cutTaken, TimeSpan? gateLimit)
    {
        ThreadGateHold? hold = null;
        long since = Stopwatch.GetTimestamp();
        if (cutTaken is null && Locks is { } locks)
        {
            hold = new ThreadGateHold(locks);
            bool warned = false;
            bool mine = hold.Enter(() =>
            {
                var waited = Stopwatch.GetElapsedTime(since);
                if (gateLimit is { } limit && waited > limit)
                    throw new TimeoutException($"commands did not leave the keyspace within {limit.TotalSeconds:F0} s");
                if (!warned && waited > GateWarnAfter)
                {
                    warned = true;
                    _log.Warning($"Checkpoint: waiting for commands to leave the keyspace ({waited.TotalSeconds:F0} s so far)");
                }
                lock (_jobLock)
                {
                    if (!_saveLendsGate) return false;
                    _cutOnLentGate = true;
                    return true;
                }
            }, TimeSpan.FromMilliseconds(10));
            if (!mine)
            {
                hold = null;
                _log.Verbose("Checkpoint: taking its cut under the keyspace gate of the SAVE that waits for it");
            }
        }
        try
        {
            var (map, next, aofStart, libraries) = _store.SnapshotForCheckpoint(aof);
            long version = _store.Kv.CurrentVersion;
            // The synchronous part of TakeFullCheckpointAsync drives the state machine through PREPARE and
            // IN_PROGRESS itself (it awaits only the index and log writes); the loop makes that a checked fact.
            var checkpoint = _store.Kv.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask();
            var spin = new SpinWait();
            while (!checkpoint.IsCompleted && !PastVersionSwitch(_store.Kv.SystemState, version)) spin.SpinOnce();
            return (checkpoint, map, next, aofStart, libraries, Stopwatch.GetElapsedTime(since).TotalMilliseconds);
        }
        finally
        {
            if (hold is not null)
            {
                hold.Exit();
                NoteGatePause(Stopwatch.GetElapsedTime(since).TotalMilliseconds);
            }
            else if (cutTaken is null)
            {
                lock (_jobLock) _cutOnLentGate = false;
            }
            cutTaken?.Invoke();
        }
    }

    /// <summary>No session writes in the old version any more: past IN_PROGRESS (not in a transition) at a newer version.</summary>
    private static bool PastVersionSwitch(SystemState state, long from)
        => state.Version > from && state.Phase is Phase.WAIT_INDEX_CHECKPOINT or Phase.WAIT_FLUSH or Phase.PERSISTENCE_CALLBACK or Phase.REST;

    private void NoteGatePause(double ms)
    {
        _lastGateMs = ms;
        if (ms > _maxGateMs) _maxGateMs = ms;
    }

    private static void Pump(IReactorTurn? reactor, Func<bool> done)
    {
        while (!done())
        {
            reactor?.Store.CompletePending();
            Thread.Sleep(1);
        }
    }

    /// <summary>
    /// One checkpoint: note the AOF tail and the namespace map, take a FASTER full checkpoint (fold-over),
    /// record both in the manifest (written atomically), then truncate the AOF before the noted tail,
    /// delete the older checkpoint and the hybrid-log segments below it.
    /// </summary>
    private bool RunCheckpoint(PersistenceJob kind, string? reason, Action? cutTaken = null, TimeSpan? gateLimit = null)
    {
        var sw = Stopwatch.StartNew();
        long dirtyBefore = Dirty;
        try
        {
            var aof = _aof;
            long beginBefore = _store.Kv.Log.BeginAddress;
            // Compaction keeps the log's files from here while the checkpoint runs: FASTER records the begin
            // as the checkpoint starts (PREPARE), and a compaction finishing meanwhile deleted the files below its
            // own new begin when no earlier checkpoint held them (a run's first SAVE beside a 1M-field hash: the
            // restart failed "Unable to set first valid segment"). Its begin is this one or later, never earlier.
            _store.CheckpointBeginAddress = Math.Min(_store.CheckpointBeginAddress, beginBefore);
            bool ok;
            Guid token;
            int[] map;
            int next;
            long aofStart;
            byte[]? libraries;
            double cutMs;
            lock (_store.StateMachineLock) // an index resize in progress finishes first
            {
                CheckpointReserve.Take(_store, kind == PersistenceJob.Rewrite); // a full disk fails here, not inside FASTER
                (var checkpoint, map, next, aofStart, libraries, cutMs) = StartAtCut(aof, cutTaken, gateLimit);
                (ok, token) = checkpoint.GetAwaiter().GetResult();
            }
            if (!ok) throw new InvalidOperationException("FASTER refused the checkpoint (another one is running)");
            double fasterMs = sw.Elapsed.TotalMilliseconds;
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var manifest = new Manifest(true, token, aof is null ? -1 : aofStart, map, next, now, _store.PageBits, _store.Comparer.Version, libraries);
            manifest.Save(Path.Combine(DataDirectory, ManifestName));
            _manifest = manifest;
            if (aof is not null)
            {
                aof.TruncateUntil(aofStart);
                // A commit applies the truncation (deletes whole segments before it). Waited for, not spun
                // on (Commit(spinWait) spun a core for as long as a full disk refused writes), and bounded:
                // a later commit applies it just as well.
                var truncated = new ManualResetEventSlim(false); // not disposed: the callback may come late
                if (aof.CommitAsyncWithCallback(truncated.Set, out _) && !truncated.Wait(TruncateCommitWait))
                    _log.Warning($"AOF truncation not committed within {TruncateCommitWait.TotalSeconds:F0} s; the next commit applies it");
            }
            double manifestMs = sw.Elapsed.TotalMilliseconds - fasterMs;
            _store.CheckpointBeginAddress = beginBefore;
            _store.PurgeCheckpointsExcept(token);
            _store.Kv.Log.ShiftBeginAddress(beginBefore, truncateLog: true);
            Interlocked.Add(ref _dirty, -dirtyBefore);
            Interlocked.Exchange(ref _lastSaveUnix, now);
            long seconds = (long)sw.Elapsed.TotalSeconds;
            _store.Phases.WholeMs = sw.Elapsed.TotalMilliseconds;
            var timing = $"{sw.ElapsedMilliseconds} ms: cut {cutMs:F1} ms, FASTER {fasterMs:F1} ms ({_store.Phases}), manifest and AOF {manifestMs:F1} ms, cleanup {sw.Elapsed.TotalMilliseconds - fasterMs - manifestMs:F1} ms";
            if (kind == PersistenceJob.Rewrite)
            {
                _rewrites++;
                _rewriteFailures = 0;
                _lastRewriteOk = true;
                _lastRewriteSeconds = seconds;
                _log.Notice($"Background AOF rewrite finished successfully: checkpoint {token}, AOF restarts at {aofStart} ({timing})");
            }
            else
            {
                _lastSaveOk = true;
                _lastSaveSeconds = seconds;
                _log.Notice($"DB saved on disk: checkpoint {token} ({timing})");
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
            if (RunCheckpoint(PersistenceJob.Save, null, gateLimit: ShutdownGateWait)) _log.Notice("DB saved on disk");
            else _log.Warning("Error trying to save the DB, can't exit.");
        }
        if (_aof is { } aof)
        {
            _log.Notice("Calling fsync() on the AOF file.");
            try { CommitForShutdown(aof); }
            catch (Exception e) { _log.Warning($"AOF commit failed: {e.Message}"); }
            _store.Aof = null;
            aof.Dispose();
            _aof = null;
        }
        _detached?.Dispose();
        _detached = null;
    }
}
