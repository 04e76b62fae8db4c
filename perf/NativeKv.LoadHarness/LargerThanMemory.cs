using System.Diagnostics;
using System.Globalization;
using NativeKv.LoadHarness.Infrastructure;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>
/// The larger-than-memory scenario (issue 11): NativeKv with <c>--maxmemory 64mb --io-threads 1</c> and
/// Garnet with <c>--storage-tier --memory 64m --index 128m</c>, one after the other, each started fresh
/// and alone on the server CPU. For each: --ltm-keys <c>SET key:%012d &lt;value&gt;</c> through
/// <c>redis-cli --pipe</c> while a <see cref="PingProbe"/> PINGs every 10 ms on its own connection;
/// then RSS, DBSIZE (must be N), three spot GETs (first, middle, last key), the index size; then
/// redis-benchmark GET at pipeline 1 and 16 and SET at pipeline 16 with <c>-r N</c> (random keys out
/// of exactly the loaded ones, so nearly every GET reads a record that is not in memory), DBSIZE again
/// (overwrites must not add keys) and the peak RSS. One round: a 5M-key load is 720 MB of input and
/// several hundred MB written to disk per server.
/// </summary>
sealed class LargerThanMemory(HarnessOptions options, IReadOnlyList<ServerSpec> servers, Results results,
                                      BenchmarkRunner runner, string scratchRoot, Action<string> log)
{
    /// <summary>The data both servers may keep in memory: 64 MB against about 650 MB of 5M records.</summary>
    public const int MemoryMb = 64;

    /// <summary>Garnet sizes its hash index up front, outside --memory: 128 MB = 2M buckets of 64 bytes.</summary>
    public const int GarnetIndexMb = 128;

    /// <summary>FASTER's hash bucket (NativeKv's INFO store_index_buckets counts them).</summary>
    public const int BucketBytes = 64;

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(10);
    public const double SlowPingMs = 50;

    public static IReadOnlyList<Scenario> Benchmarks { get; } =
    [
        new("ltm-get-p1", ScenarioKind.LargerThanMemory, "get", 1, Persistence.Off, 1),
        new("ltm-get-p16", ScenarioKind.LargerThanMemory, "get", 16, Persistence.Off, 5),
        new("ltm-set-p16", ScenarioKind.LargerThanMemory, "set", 16, Persistence.Off, 5),
    ];

    public static string RedisNote =>
        $"Redis is not in the larger-than-memory scenario: it keeps every key in memory (with `--maxmemory {MemoryMb}mb` " +
        "it evicts or refuses writes), so there is no run with the same budget to compare.";

    /// <summary>The servers this scenario runs: the ones that can keep data on disk (not Redis).</summary>
    public static IReadOnlyList<ServerSpec> Eligible(IEnumerable<ServerSpec> servers) =>
        [.. servers.Where(s => s.LargerThanMemoryArguments("", MemoryMb, GarnetIndexMb) is not null)];

    public void Run()
    {
        if (servers.Any(s => s.Name == "redis"))
            results.Notes.Add(RedisNote);
        var eligible = Eligible(servers);
        if (eligible.Count == 0) return;

        var file = Path.Combine(scratchRoot, $"ltm-set-{options.LtmKeys}x{options.DataSize}.resp");
        var clock = Stopwatch.StartNew();
        RespGenerator.WriteFile(file, options.LtmKeys, options.DataSize);
        log($"ltm        input      {options.LtmKeys:N0} SETs, {new FileInfo(file).Length / 1e6:F0} MB, written in {clock.Elapsed.TotalSeconds:F1} s");
        try
        {
            foreach (var spec in eligible)
            {
                var run = new LtmRun(spec.Name, options.LtmKeys);
                results.LargerThanMemory.Add(run);
                // Prepare() found it missing: the report says so rather than leaving its column out.
                if (results.FailureOf("ltm", spec.Name) is { } missing) { run.Failure = missing; continue; }
                RunOne(spec, file, run);
                if (run.Failure is not null) log($"ltm        {spec.Name,-9} FAILED: {run.Failure}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }

    void RunOne(ServerSpec spec, string file, LtmRun run)
    {
        ServerUnderTest server;
        try
        {
            server = ServerUnderTest.Start(spec, Persistence.Off, options.ServerCpu, scratchRoot, "ltm",
                                           dataDirArgs: dir => spec.LargerThanMemoryArguments(dir, MemoryMb, GarnetIndexMb)!);
        }
        catch (ServerStartException e)
        {
            run.Failure = spec.ExplainStartFailure(Persistence.Off, e.Message);
            return;
        }
        using (server)
        {
            if (!Load(server, file, run)) return;
            if (!Inspect(server, run)) return;
            foreach (var scenario in Benchmarks)
                if (!Benchmark(server, scenario, run)) return;
            run.DbSizeEnd = DbSize(server, out var why);
            if (run.DbSizeEnd is null) { run.Failure = $"DBSIZE after the overwrites: {why}"; return; }
            if (run.DbSizeEnd != run.Keys) run.Failure = $"DBSIZE is {run.DbSizeEnd:N0} after the overwrites, not {run.Keys:N0}";
            run.PeakRssBytes = server.PeakRssBytes();
            log($"ltm        {spec.Name,-9} DBSIZE at the end {run.DbSizeEnd:N0}, peak RSS {Mb(run.PeakRssBytes)} MB");
        }
    }

    /// <summary>redis-cli --pipe of the whole input, with the PING probe running on its own connection throughout.</summary>
    bool Load(ServerUnderTest server, string file, LtmRun run)
    {
        // About 10k SETs/s would be a pathological server (the lead measured 600k/s): 5M keys get 500 s.
        var timeout = TimeSpan.FromSeconds(Math.Max(300, run.Keys / 10_000.0));
        var cpuBefore = server.CpuTicks();
        PingSummary ping;
        (double? Seconds, string? Failure) load;
        using (var probe = PingProbe.Start(server.Port, ProbeInterval, SlowPingMs, options.ClientCpu))
        {
            load = DatasetLoader.Pipe(server, file, run.Keys, options.ClientCpu, timeout);
            ping = probe.Stop();
        }
        var cpuAfter = server.CpuTicks();
        run.Ping = ping;
        if (load.Failure is not null) { run.Failure = $"load: {load.Failure}"; return false; }
        run.LoadSeconds = load.Seconds;
        if (cpuBefore is long b && cpuAfter is long a) run.LoadCpuUsPerSet = ProcStat.TicksToMicroseconds(a - b) / run.Keys;
        if (ping.Failure is not null) { run.Failure = $"PING probe: {ping.Failure}"; return false; }

        Thread.Sleep(200); // as the memory scenario: let the last writes' buffers go before reading RSS
        run.LoadedRssBytes = server.RssBytes();
        log($"ltm        {run.Server,-9} {run.Keys:N0} keys in {load.Seconds:F1} s ({run.LoadCpuUsPerSet:F2} µs CPU/SET)   " +
            $"RSS {Mb(run.LoadedRssBytes)} MB   PING worst {ping.WorstMs:F1} ms, {ping.Slow} of {ping.Pings} over {SlowPingMs:F0} ms");
        return true;
    }

    /// <summary>DBSIZE must be N; the first, middle and last keys must read back; the index size.</summary>
    bool Inspect(ServerUnderTest server, LtmRun run)
    {
        run.DbSizeLoaded = DbSize(server, out var why);
        if (run.DbSizeLoaded is null) { run.Failure = $"DBSIZE after the load: {why}"; return false; }
        if (run.DbSizeLoaded != run.Keys)
        {
            run.Failure = $"DBSIZE is {run.DbSizeLoaded:N0} after loading {run.Keys:N0} keys";
            return false;
        }
        var value = new string('x', options.DataSize);
        foreach (long index in (long[])[0, run.Keys / 2, run.Keys - 1])
        {
            var key = RespGenerator.Key(index);
            var got = Cli(server, "GET", key);
            if (got.Stdout.TrimEnd('\n') != value)
            {
                run.Failure = $"GET {key} after the load answered '{Shorten(got.Stdout + got.Stderr)}', not the {options.DataSize}-byte value";
                return false;
            }
        }
        (run.IndexBytes, run.IndexSource) = IndexSize(server);
        log($"ltm        {run.Server,-9} DBSIZE {run.DbSizeLoaded:N0}, spot GETs read back, index {Mb(run.IndexBytes)} MB ({run.IndexSource})");
        return true;
    }

    bool Benchmark(ServerUnderTest server, Scenario scenario, LtmRun run)
    {
        var outcome = runner.Run(server, scenario, 1, keyspace: run.Keys);
        run.WarmupSeconds[scenario.Name] = runner.LastWarmupSeconds;
        if (outcome.Value is not { } sample)
        {
            run.Failure = $"{scenario.Title}: {outcome.Failure}";
            return false;
        }
        switch (scenario.Name)
        {
            case "ltm-get-p1": run.GetP1 = sample; break;
            case "ltm-get-p16": run.GetP16 = sample; break;
            default: run.SetP16 = sample; break;
        }
        log($"ltm        {scenario.Name,-11} {run.Server,-9} {sample.Rps,10:N0} rps   p50 {sample.P50Ms:F3}   p99 {sample.P99Ms:F3} ms   " +
            $"{sample.CpuUsPerRequest:F2} µs/req   ({sample.Requests:N0} in {sample.Seconds:F1} s, warm-up {runner.LastWarmupSeconds:F1} s)");
        return true;
    }

    /// <summary>
    /// NativeKv: INFO memory's store_index_buckets x 64 bytes. Garnet: what --index gave it (allocated at
    /// start-up, outside --memory). Another server: not known.
    /// </summary>
    (long?, string?) IndexSize(ServerUnderTest server)
    {
        var info = Cli(server, "INFO", "memory").Stdout;
        // Each doubling parks the reactors (README: 280 ms at 1M -> 2M buckets): the count explains PING stalls.
        if (ParseBuckets(info) is long buckets)
            return (buckets * BucketBytes, $"store_index_buckets {buckets:N0} × {BucketBytes} B" +
                                           (InfoField(info, "store_index_growths") is long g ? $", {g} doubling{(g == 1 ? "" : "s")}" : ""));
        if (server.Spec.Name == "garnet") return ((long)GarnetIndexMb << 20, $"--index {GarnetIndexMb}m, outside --memory");
        return (null, null);
    }

    /// <summary>The store_index_buckets line of INFO memory, or null.</summary>
    public static long? ParseBuckets(string info) => InfoField(info, "store_index_buckets");

    /// <summary>An integer field of an INFO reply (<c>name:123</c> on a line of its own), or null.</summary>
    public static long? InfoField(string info, string name)
    {
        foreach (var raw in info.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length > name.Length && line.StartsWith(name, StringComparison.Ordinal) && line[name.Length] == ':'
                && long.TryParse(line.AsSpan(name.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
                return v;
        }
        return null;
    }

    long? DbSize(ServerUnderTest server, out string? why)
    {
        var r = Cli(server, "DBSIZE");
        // redis-cli prints an integer reply bare when stdout is not a terminal: "5000000".
        if (long.TryParse(r.Stdout.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)) { why = null; return n; }
        why = $"answered '{Shorten(r.Stdout + r.Stderr)}'";
        return null;
    }

    CommandResult Cli(ServerUnderTest server, params string[] command) =>
        ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), .. command],
                            TimeSpan.FromSeconds(60), cpu: options.ClientCpu);

    static string Shorten(string s)
    {
        s = s.Trim().ReplaceLineEndings(" ");
        return s.Length <= 80 ? s : s[..80] + "...";
    }

    static string Mb(long? bytes) => bytes is long b ? (b / 1e6).ToString("F1", CultureInfo.InvariantCulture) : "?";
}
