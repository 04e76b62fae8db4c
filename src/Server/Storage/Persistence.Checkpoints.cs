using System.Diagnostics;
using FASTER.core;

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
    /// SAVE: a checkpoint now, on the calling reactor. The reactor keeps completing its session's disk
    /// operations while it waits, so the checkpoint's phases are never held up by it.
    /// </summary>
    public string? SaveNow(IReactorTurn? reactor)
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
                    break;
                }
            }
            Pump(reactor, () => Job == PersistenceJob.None);
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
            lock (_jobLock)
            {
                if (ok) _saves++;
                _job = PersistenceJob.None;
                _foregroundSave = false;
            }
            _commitSignal.Set(); // a job queued behind this SAVE starts soon
        }
        return ok ? null : "ERR";
    }

    private static readonly TimeSpan TruncateCommitWait = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FrameDrainWait = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A checkpoint is recorded in the manifest only once every command whose records it may hold is
    /// in the AOF whole. FASTER's CPR checkpoint cuts each session at an operation boundary: a session
    /// moves to version v+1 at its next operation's refresh (FASTERThread.InternalRefresh, every RMW),
    /// and a reactor's session interleaves its clients' commands (one waits on disk while others run),
    /// so the checkpoint can hold records 1-5 of an MSET and not 6-10. That is harmless while the MSET's
    /// frame is replayed after it (the AOF start is the tail before the checkpoint began, and a frame is
    /// appended when its command ends, so it lies after that start; its after-images are idempotent), but
    /// a crash after the manifest and before the frame is in the file would leave the half for good.
    /// Holding FASTER's version switch back instead needs its lockable sessions, whose BeginLockable spins
    /// on the reactor during PREPARE while the command that holds the switch back may need that reactor
    /// to finish (DESIGN.md, Atomicity). So: the frames open when FASTER finished (a generation counter
    /// per AOF, two atomics per framed command, none for single-record ones) are waited for, then a
    /// commit makes them durable. A SAVE waits for frames of its own reactor's clients in vain (the
    /// reactor is inside SAVE): after 5 s the checkpoint fails and is not recorded, as a disk error.
    /// </summary>
    private void WaitForFramesInFlight(AppendOnlyFile aof)
    {
        if (!aof.WaitForFramesOpenedBefore(FrameDrainWait, out bool framed))
            throw new InvalidOperationException($"commands writing several keys did not end within {FrameDrainWait.TotalSeconds:F0} s (the checkpoint holds part of them, the AOF not yet all)");
        if (framed && !aof.CommitAndWait(FrameDrainWait))
            throw new InvalidOperationException("the AOF commit of the commands in flight did not complete");
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
            {
                CheckpointReserve.Take(_store, kind == PersistenceJob.Rewrite); // a full disk fails here, not inside FASTER
                (ok, token) = _store.Kv.TakeFullCheckpointAsync(CheckpointType.FoldOver).AsTask().GetAwaiter().GetResult();
            }
            if (!ok) throw new InvalidOperationException("FASTER refused the checkpoint (another one is running)");
            if (aof is not null) WaitForFramesInFlight(aof);
            double fasterMs = sw.Elapsed.TotalMilliseconds;
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var manifest = new Manifest(true, token, aof is null ? -1 : aofStart, map, next, now, _store.PageBits, _store.Comparer.Version);
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
            var timing = $"{sw.ElapsedMilliseconds} ms: FASTER {fasterMs:F1} ms ({_store.Phases}), manifest and AOF {manifestMs:F1} ms, cleanup {sw.Elapsed.TotalMilliseconds - fasterMs - manifestMs:F1} ms";
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
            if (RunCheckpoint(PersistenceJob.Save, null)) _log.Notice("DB saved on disk");
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
