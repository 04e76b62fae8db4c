using System.Diagnostics;

namespace NativeKv.Server.Network;

/// <summary>Something a reactor must do at a deadline (a blocked command's timeout).</summary>
public interface IReactorTimer
{
    /// <summary>Changes whenever the timer is cancelled or re-armed: a heap entry of an older generation is stale.</summary>
    long TimerGeneration { get; }

    /// <summary>On the reactor's thread, once the deadline has passed.</summary>
    void Expired();
}

/// <summary>
/// A reactor's deadlines, nearest first (a min-heap, stale entries dropped when they surface). The reactor
/// sleeps at most until the nearest one, so a 0.2 s timeout ends after 200-201 ms, not at the next
/// 100 ms cron as Redis's clientsCron would have it. Stopwatch ticks, not TickCount64, which may be coarse.
/// </summary>
internal sealed class ReactorTimers
{
    private readonly PriorityQueue<(IReactorTimer Timer, long Generation), long> _heap = new();
    private static readonly long TicksPerMs = Stopwatch.Frequency / 1000;

    private int _live;

    public int Count => _heap.Count;

    public void Add(IReactorTimer timer, long deadline)
    {
        _heap.Enqueue((timer, timer.TimerGeneration), deadline);
        _live++;
    }

    /// <summary>
    /// A timer was cancelled before its deadline (its generation changed): its entry stays until it surfaces,
    /// unless stale entries pass 3 in 4 (BLPOP 3600 served at once, again and again, would pile them up).
    /// </summary>
    public void Cancelled()
    {
        _live--;
        if (_heap.Count < 64 || _heap.Count < 4 * _live) return;
        var keep = new List<((IReactorTimer, long), long)>(_live);
        foreach (var (element, priority) in _heap.UnorderedItems)
        {
            if (element.Timer.TimerGeneration == element.Generation) keep.Add((element, priority));
        }
        _heap.Clear();
        foreach (var (element, priority) in keep) _heap.Enqueue(element, priority);
    }

    /// <summary>Milliseconds until the nearest deadline, rounded up (never early), at most <paramref name="max"/>.</summary>
    public int MillisecondsUntilNext(int max)
    {
        if (!_heap.TryPeek(out _, out long deadline)) return max;
        long left = deadline - Stopwatch.GetTimestamp();
        if (left <= 0) return 0;
        long ms = (left + TicksPerMs - 1) / TicksPerMs;
        return (int)Math.Min(ms, max);
    }

    /// <summary>Runs every timer whose deadline has passed.</summary>
    public void RunExpired()
    {
        long now = Stopwatch.GetTimestamp();
        while (_heap.TryPeek(out var entry, out long deadline) && deadline <= now)
        {
            _heap.Dequeue();
            if (entry.Timer.TimerGeneration != entry.Generation) continue;
            _live--;
            entry.Timer.Expired();
        }
    }
}
