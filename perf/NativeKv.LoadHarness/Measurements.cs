namespace NativeKv.LoadHarness;

/// <summary>One redis-benchmark run against one server in one round.</summary>
sealed record ThroughputSample(
    int Round, string Scenario, string Server, int Requests, double Seconds,
    double Rps, double AvgMs, double MinMs, double P50Ms, double P95Ms, double P99Ms, double MaxMs,
    double CpuUsPerRequest);

/// <summary>Start-up and memory of one fresh server in one round (RSS figures null when loading failed).</summary>
sealed record MemorySample(
    int Round, string Server, double StartupMs, long FreshRssBytes, long? LoadedRssBytes, int Keys, double? LoadSeconds)
{
    public double? BytesPerKey => LoadedRssBytes is long loaded ? (loaded - FreshRssBytes) / (double)Keys : null;
}

/// <summary>
/// One server's larger-than-memory run (LargerThanMemory.cs), filled in step by step; what a failed step
/// left unmeasured stays null and <see cref="Failure"/> says why.
/// </summary>
sealed class LtmRun(string server, int keys)
{
    public string Server { get; } = server;
    public int Keys { get; } = keys;
    public double? LoadSeconds { get; set; }
    /// <summary>Server utime+stime over the load, per SET.</summary>
    public double? LoadCpuUsPerSet { get; set; }
    public long? LoadedRssBytes { get; set; }
    public long? DbSizeLoaded { get; set; }
    /// <summary>The hash index's size and where the number comes from.</summary>
    public long? IndexBytes { get; set; }
    public string? IndexSource { get; set; }
    public Infrastructure.PingSummary? Ping { get; set; }
    public ThroughputSample? GetP1 { get; set; }
    public ThroughputSample? GetP16 { get; set; }
    public ThroughputSample? SetP16 { get; set; }
    /// <summary>Wall-clock seconds of each benchmark's unmeasured warm-up, by scenario name: the first cold reads after the load.</summary>
    public Dictionary<string, double> WarmupSeconds { get; } = [];
    public long? DbSizeEnd { get; set; }
    /// <summary>VmHWM at the end: the most the process ever held resident, load and benchmarks included.</summary>
    public long? PeakRssBytes { get; set; }
    public string? Failure { get; set; }
}

/// <summary>
/// Either a measurement or the reason there is none. A transient failure (a timeout) costs only that
/// round; any other failure stops the scenario on that server for the rest of the run.
/// </summary>
readonly record struct Outcome<T>(T? Value, string? Failure, bool Transient = false) where T : class
{
    public static Outcome<T> Ok(T value) => new(value, null);
    public static Outcome<T> Fail(string why, bool transient = false) => new(null, why, transient);
}

/// <summary>Everything measured in a run, plus why cells are empty.</summary>
sealed class Results
{
    public List<ThroughputSample> Throughput { get; } = [];
    public List<MemorySample> Memory { get; } = [];
    public List<LtmRun> LargerThanMemory { get; } = [];

    /// <summary>(scenario, server) -> why it has no numbers (first failure wins).</summary>
    public Dictionary<(string Scenario, string Server), string> Failures { get; } = [];

    /// <summary>Free-form remarks for the report (options a build refused, crashes, ...).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>(scenario, server) -> rounds lost to transient failures, with the first reason.</summary>
    public Dictionary<(string Scenario, string Server), (int Rounds, string Why)> Misses { get; } = [];

    public void Fail(string scenario, string server, string why) => Failures.TryAdd((scenario, server), why);

    public void Miss(string scenario, string server, string why) =>
        Misses[(scenario, server)] = Misses.TryGetValue((scenario, server), out var m) ? (m.Rounds + 1, m.Why) : (1, why);

    public bool HasFailed(string scenario, string server) => Failures.ContainsKey((scenario, server));

    public string? FailureOf(string scenario, string server) =>
        Failures.GetValueOrDefault((scenario, server))
        ?? (Misses.TryGetValue((scenario, server), out var m) ? $"{m.Why} (every round)" : null);

    public IEnumerable<ThroughputSample> For(string scenario, string server) =>
        Throughput.Where(s => s.Scenario == scenario && s.Server == server);

    public IEnumerable<MemorySample> MemoryFor(string server) => Memory.Where(s => s.Server == server);
}

static class Stats
{
    /// <summary>Median (mean of the middle two for an even count); null for no values.</summary>
    public static double? Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return null;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    public static double? Median<T>(IEnumerable<T> samples, Func<T, double?> select) =>
        Median(samples.Select(select).Where(v => v.HasValue).Select(v => v!.Value));
}
