using System.Diagnostics;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>Sessions parked by <see cref="Store.ParkSessions"/>; resumed once, from any thread.</summary>
public interface IParkedSessions
{
    void Resume();
}

public sealed partial class Store
{
    /// <summary>Times the hash index doubled since start-up.</summary>
    public int IndexGrowths { get; private set; }

    /// <summary>
    /// Longest time a doubling held every client (ms, since start-up): the reactors parked across the table
    /// switch, or the collection that frees the old table, whichever was longer.
    /// </summary>
    public double IndexMaxPauseMs => Volatile.Read(ref _indexMaxPauseMs);

    /// <summary>
    /// True while the index splits with the reactors live. Sessions hold back FASTER's pending
    /// completions meanwhile (StoreSession.CompletePending): a disk read or RMW that completes looks its key up in the new table without
    /// splitting the key's chunk first (ContinuePendingRead/RMW call FindTag/FindOrCreateTag where
    /// InternalRead/RMW/Upsert/Delete call SplitBuckets). In a chunk not split yet, a read's copy to the
    /// tail found no bucket and threw NullReferenceException (the reactor died, IndexGrowthTests), and an
    /// RMW's new entry would be overwritten by the split: the lost write.
    /// </summary>
    public bool IndexSplitting => Volatile.Read(ref _indexSplitting);

    /// <summary>
    /// Parks every session that serves clients (the reactors) and returns once they are; null (none left
    /// parked) when they were not all parked within the time given. Null until the reactors run: no
    /// growth before that.
    /// </summary>
    public Func<TimeSpan, IParkedSessions?>? ParkSessions { get; set; }

    /// <summary>
    /// How long the reactors that park first wait for the others. A reactor's turn can run long (it reads
    /// a streaming client until its socket drains: 1.3 s at the start of a 5M-key redis-cli --pipe), and
    /// those already parked would wait it out; so a try gives up after 5 ms and the next comes 5 ms later.
    /// </summary>
    private static readonly TimeSpan ParkTry = TimeSpan.FromMilliseconds(5);

    /// <summary>
    /// A pass gives up after this long of failed tries, and the next maintenance pass tries again: a doubling
    /// waits for the reactors rather than holding the ones already parked for the length of a long turn.
    /// </summary>
    private const int ParkPatienceMs = 2000;

    private double _indexMaxPauseMs;
    private bool _indexSplitting;
    private GrowthSwitch? _growthSwitch;

    /// <summary>
    /// From the maintenance thread (never under epoch protection): doubles the hash index until it has
    /// the buckets <see cref="IndexTarget"/> asks for. FASTER's resize has two epoch-synchronised steps:
    /// PREPARE_GROW (every session acknowledges) and IN_PROGRESS_GROW (a new table of twice the buckets;
    /// an operation first splits the 16k-bucket chunk of its bucket, or waits for it). The reactors are
    /// parked from before PREPARE_GROW until the new table is in place, so no operation of theirs spans
    /// the switch: one that began before it and moved its epoch forward inside (an allocation's page turn
    /// bumps the epoch) could finish in the old table after its chunk was copied. Then they run while
    /// this thread splits the chunks (their own operations split chunks too, one each), holding back
    /// their disk completions (<see cref="IndexSplitting"/>): with completions running, writes racing
    /// the split on two reactors killed a reactor within 5 s (IndexGrowthTests). Clients parked 1-20 ms
    /// a doubling where the whole doubling parked them (200-500 ms at 1M -> 2M buckets). Skipped while
    /// a checkpoint runs; the next pass retries. True when it grew.
    /// </summary>
    public bool GrowIndexIfNeeded()
    {
        long target = IndexTarget(out bool forSpill);
        if (target <= Kv.IndexSize) return false;
        var park = ParkSessions;
        if (park is null) return false;
        if (!Monitor.TryEnter(StateMachineLock)) return false;
        bool grew = false;
        try
        {
            while (Kv.IndexSize < target && Kv.IndexSize < (1L << 30))
            {
                long start = Stopwatch.GetTimestamp();
                long before = Kv.IndexSize;
                var parked = ParkForGrowth(park, start, out long parkStart);
                if (parked is null) break;
                double parking = Stopwatch.GetElapsedTime(parkStart).TotalMilliseconds;
                if (_growthSwitch is null)
                {
                    // FASTER's callback list is not safe to change beside running operations: nothing runs now.
                    _growthSwitch = new GrowthSwitch();
                    Kv.UnsafeRegisterCallback(_growthSwitch);
                }
                Volatile.Write(ref _indexSplitting, true);
                _growthSwitch.Arm(parked, parkStart);
                bool ok;
                try
                {
                    ok = Kv.GrowIndex();
                }
                finally
                {
                    _growthSwitch.ResumeSessions(); // when GrowIndex did not get as far as the switch
                    Volatile.Write(ref _indexSplitting, false);
                }
                double pause = _growthSwitch.PauseMs;
                double total = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                if (!ok) break;
                grew = true;
                IndexGrowths++;
                if (pause > _indexMaxPauseMs) Volatile.Write(ref _indexMaxPauseMs, pause);
                Log.Verbose($"store: hash index grew from {before} to {Kv.IndexSize} buckets in {total:F1} ms (clients parked {pause:F1} ms, {parking:F1} ms of it to park them; {Kv.OverflowBucketCount} overflow buckets)");
            }
            if (forSpill && Kv.IndexSize >= target) _sizedForSpill = true;
        }
        finally
        {
            Monitor.Exit(StateMachineLock);
        }
        // The old bucket arrays are garbage now; our steady state allocates next to nothing, so without a
        // collection they would stay resident indefinitely. Only an aggressive collection hands the free
        // regions back to the OS: after a forced one, the 8+16+32+64 MB tables of a jump to 2M buckets
        // stayed resident (RSS 352 MB where the heap held 237 MB). The collection stops every thread: measured.
        if (grew)
        {
            var gcBefore = GC.GetTotalPauseDuration();
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            double gc = (GC.GetTotalPauseDuration() - gcBefore).TotalMilliseconds;
            if (gc > _indexMaxPauseMs) Volatile.Write(ref _indexMaxPauseMs, gc);
            Log.Verbose($"store: freeing the old hash index paused {gc:F1} ms");
        }
        return grew;
    }


    private bool _sizedForSpill;

    /// <summary>
    /// How many buckets the index should have: enough for the keys at <see cref="IndexGrowthLoad"/> a
    /// bucket; and with maxmemory set, once the log is half full (and only once), enough for
    /// <c>store-index-spill-factor</c> (16) times the keys a full log memory holds (at most twice the log memory
    /// in index: 2M buckets, 128 MB, for maxmemory 64mb), since the next ones will go to disk. Without
    /// maxmemory the log has 2 GB and the index only follows the keys. Why ahead: a doubling cannot tell
    /// which half an entry whose record is on disk belongs to, so FASTER puts it in both, and they stay:
    /// after a 5M-key load under maxmemory 64mb, doubling as keys came left 1.6-2.0M overflow buckets
    /// (100-130 MB) beside the 2M-bucket table and one new-key SET in 2,000 reading a chain from disk.
    /// Grown while every record is still in memory, the split is exact: 7k-35k overflow buckets, one SET
    /// in 10,000.
    /// </summary>
    internal long IndexTarget(out bool forSpill)
    {
        forSpill = false;
        long keys = IndexedKeys();
        long target = Kv.IndexSize;
        while (keys > target * IndexGrowthLoad) target *= 2;
        var log = Kv.Log;
        long span = log.TailAddress - log.BeginAddress;
        int factor = Config.StoreIndexSpillFactor;
        if (!_sizedForSpill && factor > 1 && Config.Maxmemory > 0 && span > MemoryBudget / 2)
        {
            if (log.HeadAddress > log.BeginAddress + (1L << PageBits))
            {
                // Records are on disk already (a recovered log larger than memory): a jump now would
                // duplicate every one of their entries; the index follows the keys from here.
                _sizedForSpill = true;
                return target;
            }
            // Half full: early enough that the maintenance thread, every 100 ms, gets there before the
            // first page leaves memory even on a busy machine (at three quarters, a starved pass grew it
            // after records were on disk, and their duplicates left 460k overflow buckets).
            long fitInMemory = (long)(keys * ((double)MemoryBudget / span));
            long ahead = target, cap = MemoryBudget * 2 / 64;
            while (ahead * IndexGrowthLoad < fitInMemory * factor && ahead * 2 <= cap) ahead *= 2;
            if (ahead > Kv.IndexSize) forSpill = true;
            else _sizedForSpill = true; // already that large (a recovered index)
            target = ahead;
        }
        return target;
    }

    /// <summary>Parks the reactors for a doubling; <paramref name="parkStart"/>: when the try that parked them began.</summary>
    private IParkedSessions? ParkForGrowth(Func<TimeSpan, IParkedSessions?> park, long start, out long parkStart)
    {
        while (true)
        {
            parkStart = Stopwatch.GetTimestamp();
            var parked = park(ParkTry);
            if (parked is not null) return parked;
            if (Stopwatch.GetElapsedTime(start).TotalMilliseconds > ParkPatienceMs)
            {
                Log.Verbose($"store: the reactors did not all park within {ParkTry.TotalMilliseconds} ms for {ParkPatienceMs} ms; the index doubling waits for the next pass");
                return null;
            }
            Thread.Sleep(ParkTry);
        }
    }

    /// <summary>
    /// Resumes the parked sessions as FASTER enters IN_PROGRESS_GROW: the callback runs after the new
    /// table is allocated and the table version flipped, just before the phase is published; a session
    /// that resumes in between waits in its epoch refresh (it sees PREPARE_GROW) until it is.
    /// </summary>
    private sealed class GrowthSwitch : IStateMachineCallback
    {
        private IParkedSessions? _parked;
        private long _start;
        public double PauseMs { get; private set; }

        public void Arm(IParkedSessions parked, long start)
        {
            _start = start;
            PauseMs = 0;
            Volatile.Write(ref _parked, parked);
        }

        public void BeforeEnteringState<Key, Value>(SystemState next, FasterKV<Key, Value> faster)
        {
            if (next.Phase == Phase.IN_PROGRESS_GROW) ResumeSessions();
        }

        public void ResumeSessions()
        {
            var parked = Interlocked.Exchange(ref _parked, null);
            if (parked is null) return;
            PauseMs = Stopwatch.GetElapsedTime(_start).TotalMilliseconds;
            parked.Resume();
        }
    }
}
