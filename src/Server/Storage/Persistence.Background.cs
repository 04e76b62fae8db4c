using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FASTER.core;
using NativeKv.Server.Network;

namespace NativeKv.Server.Storage;

/// <summary>The committer / cron thread: periodic commits, save rules, appendonly turned on and off.</summary>
public sealed partial class Persistence
{
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
}
