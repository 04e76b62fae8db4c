namespace NativeKv.Server.Diagnostics;

/// <summary>One event's time series (latency.h latencyTimeSeries): the last 160 seconds that had a spike.</summary>
public sealed class LatencySeries
{
    /// <summary>LATENCY_TS_LEN.</summary>
    public const int Length = 160;

    public int Index;
    public uint Max;
    public readonly int[] Times = new int[Length];
    public readonly uint[] Latencies = new uint[Length];

    public LatencySeries Copy()
    {
        var c = new LatencySeries { Index = Index, Max = Max };
        Times.CopyTo(c.Times, 0);
        Latencies.CopyTo(c.Latencies, 0);
        return c;
    }
}

/// <summary>
/// The latency monitor (latency.c): per event name, the worst latency of each second a sample at least
/// latency-monitor-threshold ms was seen in. Shared by every reactor and the AOF; samples are rare (a
/// spike), so a lock is enough. Events keep the order they were first seen in.
/// </summary>
public sealed class LatencyMonitor
{
    private readonly Dictionary<string, LatencySeries> _events = new();
    private readonly List<string> _order = new();

    /// <summary>latencyAddSample: one sample of <paramref name="latencyMs"/> for the event, now.</summary>
    public void Add(string name, long latencyMs)
    {
        int now = (int)DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        uint latency = (uint)Math.Min(latencyMs, uint.MaxValue);
        lock (_events)
        {
            if (!_events.TryGetValue(name, out var ts))
            {
                ts = new LatencySeries();
                _events.Add(name, ts);
                _order.Add(name);
            }
            if (latency > ts.Max) ts.Max = latency;
            // A sample in the same second as the previous one only raises it.
            int prev = (ts.Index + LatencySeries.Length - 1) % LatencySeries.Length;
            if (ts.Times[prev] == now)
            {
                if (latency > ts.Latencies[prev]) ts.Latencies[prev] = latency;
                return;
            }
            ts.Times[ts.Index] = now;
            ts.Latencies[ts.Index] = latency;
            ts.Index = (ts.Index + 1) % LatencySeries.Length;
        }
    }

    /// <summary>A copy of every event's series, in the order first seen.</summary>
    public List<(string Name, LatencySeries Series)> Snapshot()
    {
        lock (_events)
        {
            var list = new List<(string, LatencySeries)>(_order.Count);
            foreach (var name in _order) list.Add((name, _events[name].Copy()));
            return list;
        }
    }

    public LatencySeries? Find(string name)
    {
        lock (_events) return _events.TryGetValue(name, out var ts) ? ts.Copy() : null;
    }

    /// <summary>The event's own name as recorded (LATENCY GRAPH prints it), null if none.</summary>
    public string? NameOf(string name)
    {
        lock (_events) return _events.ContainsKey(name) ? name : null;
    }

    /// <summary>latencyResetEvent: the named event (case-insensitively), or every event when null; how many went.</summary>
    public int Reset(string? name)
    {
        lock (_events)
        {
            int resets = 0;
            for (int i = _order.Count - 1; i >= 0; i--)
            {
                if (name is not null && !string.Equals(_order[i], name, StringComparison.OrdinalIgnoreCase)) continue;
                _events.Remove(_order[i]);
                _order.RemoveAt(i);
                resets++;
            }
            return resets;
        }
    }

    public int Count
    {
        get { lock (_events) return _events.Count; }
    }
}
