using System.Globalization;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness;

/// <summary>
/// Drives a server with redis-benchmark pinned to the client CPU, and measures the server's CPU
/// time (utime+stime from /proc/PID/stat) over the same interval.
/// Every measured run follows an unmeasured warm-up of the same test on the same server (JIT tiers,
/// connection buffers, page faults), and is sized from the warm-up's rate to last about --seconds, so
/// that a fast quiet machine and a slow busy one both get runs long enough for the 10 ms CPU tick and
/// short enough for the time budget. AOF runs add a calibration run after the warm-up (their first
/// fsyncs are not representative) and take the slower of the two rates: a server that stalls on
/// commits gets a shorter run. A run that still comes out shorter than half of --seconds is repeated
/// at its own rate. --requests N replaces the sizing with fixed counts.
/// </summary>
sealed class BenchmarkRunner(HarnessOptions options)
{
    const int WarmupRequests = 5000;       // x RequestScale (P16: 25,000)
    const double WarmupSeconds = 0.3;
    const int DurabilityWarmup = 200;
    const int CalibrationRequests = 1000;
    const int MinimumRequests = 1000;
    const int MaximumRequests = 50_000_000;

    /// <summary>Wall-clock seconds of the last warm-up (and calibration), for the progress log.</summary>
    public double LastWarmupSeconds { get; private set; }

    /// <summary>
    /// One measured run (after its warm-up). <paramref name="keyspace"/> replaces --keys as redis-benchmark's
    /// -r (the larger-than-memory scenario loads its own key count).
    /// </summary>
    /// <paramref name="prepare"/>, when set, runs before each redis-benchmark run (warm-ups included) with its
    /// request count, outside the CPU measurement; a non-null answer is why the scenario cannot be measured.
    public Outcome<ThroughputSample> Run(ServerUnderTest server, Scenario scenario, int round, int? keyspace = null,
                                         Func<int, string?>? prepare = null)
    {
        bool durability = scenario.Kind == ScenarioKind.Durability;
        int? fixedRequests = options.Requests is int n ? scenario.Requests(n) : null;
        int warmupRequests = durability ? DurabilityWarmup
                           : fixedRequests is int f ? Math.Max(MinimumRequests, f / 10)
                           : (int)(WarmupRequests * scenario.RequestScale);
        int requests;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var warmup = Measure(server, scenario, round, keyspace, prepare, warmupRequests);
            // A warm-up over in a few tens of milliseconds (pipelined runs on a quiet machine) gives a poor
            // rate: warm up again for about WarmupSeconds at the rate it did see.
            for (int again = 0; again < 2 && warmup.Value is { } w && w.Seconds < WarmupSeconds / 2 && !durability && fixedRequests is null; again++)
                warmup = Measure(server, scenario, round, keyspace, prepare, (int)Math.Clamp(w.Rps * WarmupSeconds, MinimumRequests, MaximumRequests));
            if (warmup.Value is null) return warmup;
            double rate = warmup.Value.Rps;
            if (durability && fixedRequests is null)
            {
                var calibration = Measure(server, scenario, round, keyspace, prepare, CalibrationRequests);
                if (calibration.Value is null) return calibration;
                rate = Math.Min(rate, calibration.Value.Rps); // a stall in either shortens the run
            }
            requests = fixedRequests ?? (int)Math.Clamp(rate * options.Seconds, MinimumRequests, MaximumRequests);
        }
        finally
        {
            LastWarmupSeconds = clock.Elapsed.TotalSeconds;
        }
        var sample = Measure(server, scenario, round, keyspace, prepare, requests);
        // Warm-ups can be slower than the steady state (or catch a stall): a run that came out far too
        // short for the CPU tick is repeated at the rate it measured, and the short one discarded.
        for (int retry = 0; retry < 2 && fixedRequests is null; retry++)
        {
            if (sample.Value is not { } v || v.Seconds >= options.Seconds / 2) break;
            int resized = (int)Math.Clamp(v.Rps * options.Seconds, MinimumRequests, MaximumRequests);
            if (resized <= v.Requests) break;
            sample = Measure(server, scenario, round, keyspace, prepare, resized);
        }
        return sample;
    }

    /// <summary>redis-benchmark's arguments for <paramref name="requests"/> requests of the scenario against the server.</summary>
    public string[] BenchmarkArguments(ServerUnderTest server, Scenario scenario, int requests, int? keyspace = null) =>
        BenchmarkArguments(server.Port, scenario, requests, keyspace);

    public string[] BenchmarkArguments(int port, Scenario scenario, int requests, int? keyspace = null) =>
    [
        "-h", "127.0.0.1", "-p", port.ToString(),
        "-c", (scenario.Clients ?? options.Clients).ToString(), "-n", requests.ToString(),
        "-d", options.DataSize.ToString(), "-r", (keyspace ?? scenario.Keyspace ?? options.Keys).ToString(),
        "-P", scenario.Pipeline.ToString(), "--csv",
        // A command on the command line replaces -t (redis-benchmark ignores -t then).
        .. scenario.Command ?? ["-t", scenario.Test],
    ];

    Outcome<ThroughputSample> Measure(ServerUnderTest server, Scenario scenario, int round, int? keyspace,
                                      Func<int, string?>? prepare, int requests)
    {
        if (prepare?.Invoke(requests) is { } refused) return Outcome<ThroughputSample>.Fail(refused);
        var args = BenchmarkArguments(server, scenario, requests, keyspace);
        // Generous: at 200 requests/s this still finishes; a hung server costs at most 10 minutes.
        var timeout = TimeSpan.FromSeconds(Math.Clamp(requests / 200.0, 60, 600));

        var (tool, prefix) = scenario.Test == Scenarios.MultiTest ? TransactionLoad.Self()
            : scenario.Test == Scenarios.FanOutTest ? TransactionLoad.Self(FanOutLoad.Command) : ("redis-benchmark", []);
        var before = server.CpuTicks();
        var result = ExternalCommand.Run(tool, [.. prefix, .. args], timeout, cpu: options.ClientCpu);
        var after = server.CpuTicks();

        if (!server.IsAlive || before is null || after is null)
            return Outcome<ThroughputSample>.Fail($"server exited during the run: {server.LogTail(3)}");
        if (!result.Succeeded)
            return Outcome<ThroughputSample>.Fail($"{(prefix.Length > 0 ? prefix[^1] : tool)} {result.FailureSummary()}", transient: result.TimedOut);

        var row = ParseCsv(result.Stdout, scenario.CsvTestName);
        if (row is null)
            return Outcome<ThroughputSample>.Fail($"no '{scenario.CsvTestName}' row in redis-benchmark output: {result.Stdout.Trim()}");

        double rps = row["rps"];
        double cpuUs = ProcStat.TicksToMicroseconds(after.Value - before.Value);
        return Outcome<ThroughputSample>.Ok(new ThroughputSample(
            round, scenario.Name, server.Spec.Name, requests, rps > 0 ? requests / rps : 0,
            rps, row["avg_latency_ms"], row["min_latency_ms"], row["p50_latency_ms"],
            row["p95_latency_ms"], row["p99_latency_ms"], row["max_latency_ms"],
            cpuUs / requests));
    }

    /// <summary>
    /// redis-benchmark --csv prints a header
    /// <c>"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"</c>
    /// and one quoted row per test. Returns the named row keyed by column name, or null.
    /// </summary>
    public static Dictionary<string, double>? ParseCsv(string output, string testName)
    {
        string[]? header = null;
        foreach (var rawLine in output.Split('\n'))
        {
            var cells = rawLine.Trim().Split(',').Select(c => c.Trim().Trim('"')).ToArray();
            if (cells.Length < 2) continue;
            if (cells[0] == "test") { header = cells; continue; }
            if (header is null || cells[0] != testName || cells.Length != header.Length) continue;
            var row = new Dictionary<string, double>();
            for (int i = 1; i < cells.Length; i++)
                if (double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                    row[header[i]] = v;
            string[] needed = ["rps", "avg_latency_ms", "min_latency_ms", "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "max_latency_ms"];
            return needed.All(row.ContainsKey) ? row : null;
        }
        return null;
    }
}
