
namespace NativeKv.Server.Storage;

/// <summary>The committer / cron thread: periodic commits, save rules, appendonly turned on and off.</summary>
public sealed partial class Persistence
{
    private void Background()
    {
        long lastSecond = Environment.TickCount64;
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
                if (aof is not null)
                {
                    // A safety net only: reactors and commit completions drive the commits. Whatever
                    // was asked for and not yet issued (a failed commit, a lost race) is issued here.
                    IssueCommits(aof);
                }
                if (aof is not null && now - lastSecond >= 1000)
                {
                    lastSecond = now;
                    // Redis retries a failed AOF write once a second (serverCron): so do the writes the
                    // device holds back; their held replies leave when they get out.
                    if (aof.WriteErrno != 0) aof.RetryFailedWrites();
                    // Appends no client waits for (active expiry, namespace changes) reach the file too.
                    InterlockedMax(ref aof.CommitRequested, aof.TailAddress);
                    IssueCommits(aof);
                    if (!_always && _server.Config.AppendFsync == "everysec") SyncEverysec(aof);
                    AofSynced?.Invoke();
                    _aofWriteOk = true;
                }
                var wake = _wake;
                for (int i = 0; i < wake.Length; i++)
                {
                    if (Volatile.Read(ref wake[i]) != 0 && Interlocked.Exchange(ref wake[i], 0) != 0)
                        _postRelease(i);
                }
                if (now - lastCron >= 100)
                {
                    lastCron = now;
                    Cron();
                    UpdateWriteDenial();
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

    /// <summary>
    /// The last commit before exit. With the disk refusing writes it retries for 5 s (the device holds the
    /// failed writes back), then gives up as Redis exits with an AOF write error: a full disk must not
    /// make SIGTERM hang.
    /// </summary>
    private void CommitForShutdown(AppendOnlyFile aof)
    {
        for (int attempt = 0; ; attempt++)
        {
            if ((aof.WriteErrno == 0 || aof.RetryFailedWrites()) && aof.CommitAndWait(TimeSpan.FromSeconds(1))) return;
            if (attempt >= 5)
            {
                _log.Warning($"Error writing to the AOF file: {Interop.Errno.Describe(aof.WriteErrno)}; exiting without the writes that are not in it");
                return;
            }
            Thread.Sleep(aof.WriteErrno != 0 ? 1000 : 0);
        }
    }

    private readonly object _denyLock = new();
    private int _deniedErrno;
    private bool _deniedRdb;

    /// <summary>
    /// The AOF device started failing (errno) or works again (0), on the thread that saw it: log as
    /// Redis does and refuse or accept writes at once.
    /// </summary>
    private void OnAofWriteState(int errno)
    {
        UpdateWriteDenial();
        if (errno != 0) _log.Warning($"Error writing to the AOF file: {Interop.Errno.Describe(errno)}");
        else _log.Warning("AOF write error looks solved, Redis can write again.");
    }

    /// <summary>Redis's writeCommandsDeniedByDiskError: a failed checkpoint (with save rules) first, then the AOF.</summary>
    private void UpdateWriteDenial()
    {
        var config = _server.Config;
        lock (_denyLock) // the device's threads and the cron both update it
        {
            bool rdb = config.StopWritesOnBgsaveError && config.SavePoints.Length > 0 && !_lastSaveOk;
            int errno = _aof?.WriteErrno ?? 0;
            if (rdb == _deniedRdb && errno == _deniedErrno) return;
            _server.WriteDenied = rdb ? RdbDenied
                : errno != 0 ? "MISCONF Errors writing to the AOF file: " + Interop.Errno.Describe(errno)
                : null;
            // After the gate: INFO's aof_last_write_status reads this, so once it says err, writes are refused.
            _deniedRdb = rdb;
            Volatile.Write(ref _deniedErrno, errno);
        }
    }

    private const string RdbDenied = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. " +
        "Commands that may modify the data set are disabled, because this instance is configured to report errors during writes " +
        "if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

    /// <summary>appendfsync decides whether each AOF write is synced; turning always on syncs what came before.</summary>
    private void ApplyFsyncPolicy(AppendOnlyFile aof)
    {
        bool always = _server.Config.AppendFsync == "always";
        if (aof.SyncEachWrite == always) return;
        aof.SyncEachWrite = always;
        if (always) aof.Sync();
    }

    /// <summary>Config changes (appendonly, appendfsync), save rules, scheduled jobs.</summary>
    private void Cron()
    {
        var config = _server.Config;
        _always = config.AppendFsync == "always";
        if (_aof is { } open) ApplyFsyncPolicy(open);
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
            var aof = AppendOnlyFile.Open(AofDirectory, config.AppendFilename, AofPageBits, _log, true, out _, out _, out _);
            Attach(aof);
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
}
