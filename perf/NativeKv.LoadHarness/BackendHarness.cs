using System.Diagnostics;
using NativeKv.LoadHarness.Infrastructure;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>
/// System calls of one pair of counting runs (separate runs after the measured one, same test and server):
/// a short baseline run and a long one. Both connect and close all the clients, so the difference is the
/// steady state: (long − baseline) ÷ (its requests − the baseline's).
/// </summary>
sealed record SyscallSample(int Round, string Scenario, string Server,
                            int Requests, long Syscalls, IReadOnlyDictionary<string, long> ByName,
                            int BaselineRequests, long BaselineSyscalls, IReadOnlyDictionary<string, long> BaselineByName)
{
    int ExtraRequests => Requests - BaselineRequests;

    /// <summary>Steady-state system calls per request (connects and closes cancel out).</summary>
    public double PerRequest => Math.Max(0, Syscalls - BaselineSyscalls) / (double)ExtraRequests;

    /// <summary>The long run's calls ÷ its requests, connects and closes included.</summary>
    public double RawPerRequest => Syscalls / (double)Requests;

    public double PerRequestOf(string call) =>
        Math.Max(0, ByName.GetValueOrDefault(call) - BaselineByName.GetValueOrDefault(call)) / (double)ExtraRequests;
}

/// <summary>What --backends measured.</summary>
sealed class BackendResults
{
    public Results Runs { get; } = new();
    public List<SyscallSample> Syscalls { get; } = [];

    /// <summary>(scenario, server) -> why there is no system-call count (first reason wins).</summary>
    public Dictionary<(string Scenario, string Server), string> SyscallFailures { get; } = [];

    public IEnumerable<SyscallSample> SyscallsFor(string scenario, string server) =>
        Syscalls.Where(s => s.Scenario == scenario && s.Server == server);
}

/// <summary>
/// --backends: NativeKv started twice, <c>--io-backend epoll</c> and <c>--io-backend io_uring</c> (one
/// reactor each, persistence off), both pinned to the server CPU and both loaded with the key set once.
/// Then, round by round and scenario by scenario, each backend in turn (epoll first in odd rounds,
/// io_uring first in even ones): a measured redis-benchmark run exactly as in the main harness
/// (warm-up, sized run, requests/s, latency, server CPU from /proc/PID/stat), followed by a separate
/// pair of counting runs with the system-call counter attached (see <see cref="SyscallSample"/>).
/// </summary>
sealed class BackendHarness(HarnessOptions options, IReadOnlyList<NativeKvServer> servers, IReadOnlyList<Scenario> scenarios,
                            DatasetLoader? dataset, SyscallCounter? counter, string? counterMissing, string scratchRoot)
{
    readonly BackendResults _results = new();
    readonly BenchmarkRunner _runner = new(options);
    readonly Stopwatch _clock = Stopwatch.StartNew();

    public BackendResults Run()
    {
        var running = new List<ServerUnderTest>();
        try
        {
            foreach (var spec in servers)
                if (StartAndLoad(spec) is { } server) running.Add(server);

            for (int round = 1; round <= options.Rounds; round++)
            {
                var order = round % 2 == 1 ? running : Enumerable.Reverse(running).ToList();
                foreach (var scenario in scenarios)
                    foreach (var server in order)
                    {
                        ServerUnderTest.RunAlone(running, server);
                        RunOne(round, scenario, server);
                    }
            }
        }
        finally
        {
            foreach (var server in running) server.Dispose();
        }
        return _results;
    }

    ServerUnderTest? StartAndLoad(NativeKvServer spec)
    {
        void FailAll(string why)
        {
            foreach (var s in scenarios) _results.Runs.Fail(s.Name, spec.Name, why);
            Log($"{spec.Name,-9} FAILED: {why}");
        }

        if (spec.Executable is null) { FailAll("artifacts/nativekv is not built"); return null; }
        spec.Prepare(extra =>
        {
            try
            {
                using var probe = ServerUnderTest.Start(spec, Persistence.Off, options.ServerCpu, scratchRoot, "probe", extra);
                return null;
            }
            catch (ServerStartException e)
            {
                return e.Message;
            }
        }, _results.Runs.Notes);

        ServerUnderTest server;
        try
        {
            server = ServerUnderTest.Start(spec, Persistence.Off, options.ServerCpu, scratchRoot, "backends");
        }
        catch (ServerStartException e)
        {
            FailAll(spec.ExplainStartFailure(Persistence.Off, e.Message));
            return null;
        }

        // The server falls back to epoll (with a warning) when io_uring cannot be set up: check what it runs.
        var info = ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "INFO", "server"],
                                       TimeSpan.FromSeconds(30), cpu: options.ClientCpu);
        var api = info.Stdout.Split('\n').Select(l => l.Trim())
                      .FirstOrDefault(l => l.StartsWith("multiplexing_api:", StringComparison.Ordinal))?["multiplexing_api:".Length..];
        if (api != spec.IoBackend)
        {
            FailAll(api is null
                ? $"INFO server has no multiplexing_api line, so `--io-backend {spec.IoBackend}` cannot be confirmed"
                : $"started with `--io-backend {spec.IoBackend}` but runs multiplexing_api:{api} ({server.LogTail(2)})");
            server.Dispose();
            return null;
        }
        Log($"start-up   {spec.Name,-9} {server.StartupTime.TotalMilliseconds,8:F1} ms   pid {server.Pid}   multiplexing_api:{api}");

        if (dataset is not null)
        {
            var (took, failure) = dataset.Load(server);
            if (failure is not null)
            {
                FailAll($"loading the key set failed: {failure}");
                server.Dispose();
                return null;
            }
            Log($"load       {spec.Name,-9} {options.Keys:N0} keys in {took:F1} s");
        }
        return server;
    }

    void RunOne(int round, Scenario scenario, ServerUnderTest server)
    {
        var name = server.Spec.Name;
        var prefix = $"round {round}/{options.Rounds}  {scenario.Name,-13} {name,-9}";
        if (_results.Runs.HasFailed(scenario.Name, name)) return;
        if (!server.IsAlive)
        {
            _results.Runs.Fail(scenario.Name, name, $"server had exited before the run (round {round}): {server.LogTail(3)}");
            return;
        }
        var outcome = _runner.Run(server, scenario, round);
        if (outcome.Value is not { } sample)
        {
            if (outcome.Transient) _results.Runs.Miss(scenario.Name, name, outcome.Failure!);
            else _results.Runs.Fail(scenario.Name, name, outcome.Failure!);
            Log($"{prefix} {(outcome.Transient ? "missed this round" : "FAILED")}: {outcome.Failure}");
            return;
        }
        _results.Runs.Throughput.Add(sample);
        var line = $"{prefix} {sample.Rps,10:N0} rps   p50 {sample.P50Ms:F3}   p99 {sample.P99Ms:F3} ms   {sample.CpuUsPerRequest,6:F2} µs/req";

        if (counter is null)
        {
            _results.SyscallFailures.TryAdd((scenario.Name, name), counterMissing ?? "no system-call counter");
            Log(line);
            return;
        }
        // The counting runs: a baseline of one pipeline per client (connects, closes, little else), then
        // one about a quarter of the measured run's length and at least 10 times the baseline.
        int clients = scenario.Clients ?? options.Clients;
        int baseline = Math.Max(1000, clients * scenario.Pipeline);
        int requests = (int)Math.Clamp(sample.Rps * options.Seconds / 4, 10.0 * baseline, 50_000_000);
        SyscallCount? Count(int n, out string? why)
        {
            var args = _runner.BenchmarkArguments(server, scenario, n);
            var timeout = TimeSpan.FromSeconds(Math.Clamp(n / 200.0, 60, 600));
            var (result, count, failure) = counter!.Run(server.Pid, "redis-benchmark", args, timeout, options.ClientCpu, scratchRoot);
            if (failure is null && !result.Succeeded) failure = $"counting run: redis-benchmark {result.FailureSummary()}";
            if (failure is null && !server.IsAlive) failure = $"server exited during the counting run: {server.LogTail(3)}";
            why = failure;
            return failure is null ? count : null;
        }
        var baseCount = Count(baseline, out var failure);
        var mainCount = baseCount is null ? null : Count(requests, out failure);
        if (baseCount is null || mainCount is null)
        {
            _results.SyscallFailures.TryAdd((scenario.Name, name), failure ?? "no count");
            Log($"{line}   syscalls: {failure}");
            return;
        }
        var syscalls = new SyscallSample(round, scenario.Name, name, requests, mainCount.Total, mainCount.ByName,
                                         baseline, baseCount.Total, baseCount.ByName);
        _results.Syscalls.Add(syscalls);
        Log($"{line}   {syscalls.PerRequest,6:F3} syscalls/req ({syscalls.RawPerRequest:F3} with connects)");
    }

    void Log(string message) =>
        Console.Error.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");
}
