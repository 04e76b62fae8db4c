using System.Diagnostics;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// Times the phases of FASTER's checkpoint state machine (a callback before every transition), so INFO
/// and the log say where a checkpoint's time went: the index write (WAIT_INDEX_CHECKPOINT) and the
/// log flush (WAIT_FLUSH) are the two that follow the data; the rest are epoch hand-offs.
/// </summary>
public sealed class CheckpointPhases : IStateMachineCallback
{
    private long _start;
    private long _phaseStart;
    private Phase _phase = Phase.REST;
    private readonly double[] _ms = new double[16];

    /// <summary>Milliseconds spent in each phase of the last (or running) checkpoint.</summary>
    public double IndexMs => _ms[(int)Phase.WAIT_INDEX_CHECKPOINT];
    public double FlushMs => _ms[(int)Phase.WAIT_FLUSH];
    /// <summary>PREP_INDEX_CHECKPOINT + PREPARE + IN_PROGRESS: the version change every session takes part in.</summary>
    public double VersionChangeMs => _ms[(int)Phase.PREP_INDEX_CHECKPOINT] + _ms[(int)Phase.PREPARE] + _ms[(int)Phase.IN_PROGRESS];
    public double CallbackMs => _ms[(int)Phase.PERSISTENCE_CALLBACK];
    public double TotalMs { get; private set; }
    /// <summary>The whole checkpoint as the checkpointer saw it: FASTER's part, the manifest, the clean-up.</summary>
    public double WholeMs { get; set; }

    public void BeforeEnteringState<Key, Value>(SystemState next, FasterKV<Key, Value> faster)
    {
        // Index growth runs through the same state machine: not a checkpoint.
        if (next.Phase is Phase.PREPARE_GROW or Phase.IN_PROGRESS_GROW) return;
        if (_phase == Phase.REST && next.Phase == Phase.REST) return;
        long now = Stopwatch.GetTimestamp();
        if (_phase == Phase.REST)
        {
            Array.Clear(_ms);
            _start = now;
        }
        else
        {
            _ms[(int)_phase] += Stopwatch.GetElapsedTime(_phaseStart, now).TotalMilliseconds;
        }
        _phase = next.Phase;
        _phaseStart = now;
        if (next.Phase == Phase.REST) TotalMs = Stopwatch.GetElapsedTime(_start, now).TotalMilliseconds;
    }

    public override string ToString()
        => $"index {IndexMs:F1} ms, log flush {FlushMs:F1} ms, version change {VersionChangeMs:F1} ms, metadata {CallbackMs:F1} ms";
}
