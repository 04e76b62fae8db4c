using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// The write path: a command's replies wait until the AOF bytes it left are in the file, one FasterLog
/// commit per reactor loop turn for all its clients, as Redis write()s its AOF buffer in beforeSleep
/// before any reply leaves. Under appendfsync always that write is also fdatasync'ed (AofDevice); under
/// everysec it only reaches the page cache, which a killed process does not lose, and the persistence
/// thread syncs once a second; under no, never (the OS does).
/// </summary>
public sealed partial class Persistence
{
    /// <summary>IWriteLog: a command changed the store (its records are already in the AOF).</summary>
    public void Append(int database, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> args, IHeldReplies client)
    {
        Interlocked.Add(ref _dirty, Math.Max(1, client.Store.Dirty));
        if (_aof is { } aof) client.CommitWait = client.WriteOffset = aof.TailAddress;
    }

    private long _syncedUntil;

    /// <summary>
    /// WAITAOF's fsynced_reploff: how far the AOF is on disk. appendfsync always: as far as commits are
    /// durable (a reply is held until then anyway); everysec: up to the last once-a-second sync; no: never
    /// synced by us. -1 without an AOF.
    /// </summary>
    public long LocalSyncedUntil => _aof is not { } aof ? -1
        : _server.Config.AppendFsync == "always" ? aof.TailAddress : Volatile.Read(ref _syncedUntil);

    /// <summary>Once a second on the persistence thread, after everysec's sync: WAITAOF waiters may be covered.</summary>
    public event Action? AofSynced;

    /// <summary>appendfsync everysec's sync, remembering how far it reached.</summary>
    private void SyncEverysec(AppendOnlyFile aof)
    {
        long upTo = aof.FlushedUntilAddress;
        aof.Sync();
        if (aof.WriteErrno != 0) return;
        Volatile.Write(ref _syncedUntil, upTo);
    }

    /// <summary>
    /// From the connection's flush when the client's replies wait for their AOF write: true to hold them
    /// (the client is parked until the commit covering its writes is durable).
    /// </summary>
    public bool HoldReply(IHeldReplies client)
    {
        var aof = _aof;
        if (aof is null || client.CommitWait <= Durable(aof))
        {
            client.CommitWait = 0;
            return false;
        }
        var gates = _gates;
        int index = client.ReactorIndex;
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
    public void EndTurn(IReactorTurn reactor)
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
            // Written (and synced if always) right here: send the replies now rather than through this
            // reactor's own mailbox; a commit that finished between the check above and the flag
            // already posted the release, so never miss it either way.
            if (Durable(aof) >= gate.MaxWait)
            {
                if (Interlocked.Exchange(ref _wake[reactor.Index], 0) != 0) Release(reactor);
                WakeCovered();
            }
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
                _postRelease(i);
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

    /// <summary>
    /// On the reactor, when asked through <see cref="Start"/>'s poster: sends the replies a finished
    /// commit covers.
    /// </summary>
    public void Release(IReactorTurn reactor)
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

    private sealed class Gate
    {
        public readonly List<IHeldReplies> Held = new();
        /// <summary>The AOF the numbers below refer to.</summary>
        public AppendOnlyFile? Log;
        public long MaxWait;
        public long Requested;
    }
}
