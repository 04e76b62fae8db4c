using System.Diagnostics;
using System.Globalization;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>
/// The run itself. Per round: start every server fresh (start-up time, fresh RSS), load the data set
/// into each (loaded RSS), then for each throughput scenario run redis-benchmark against each server in
/// turn (A B C, A B C, ...), then stop them all. Each durability scenario follows: every server started
/// once with its AOF, then rounds interleaved the same way. While one server is measured the others
/// are stopped (SIGSTOP), so nothing but the measured server runs on the server CPU. The
/// larger-than-memory scenario comes last (<see cref="LargerThanMemory"/>): each server alone, once.
/// </summary>
sealed class Harness(HarnessOptions options, IReadOnlyList<ServerSpec> servers, IReadOnlyList<Scenario> scenarios,
                     DatasetLoader dataset, string scratchRoot)
{
    readonly Results _results = new();
    readonly BenchmarkRunner _runner = new(options);
    readonly Stopwatch _clock = Stopwatch.StartNew();
    List<ServerSpec> _active = [];

    public Results Run()
    {
        Prepare();
        var throughput = scenarios.Where(s => s.Kind == ScenarioKind.Throughput).ToList();
        var memory = scenarios.FirstOrDefault(s => s.Kind == ScenarioKind.Memory);
        // --ltm alone: no main rounds (their start-up and RSS numbers would be all the report had besides).
        if (scenarios.Any(s => s.Kind != ScenarioKind.LargerThanMemory))
            for (int round = 1; round <= options.Rounds; round++)
                MainRound(round, memory, throughput);

        foreach (var scenario in scenarios.Where(s => s.Kind == ScenarioKind.Durability))
            DurabilityPhase(scenario);

        // Last: each server alone with a data set many times its memory budget, one round.
        if (scenarios.Any(s => s.Kind == ScenarioKind.LargerThanMemory))
            new LargerThanMemory(options, servers, _results, _runner, scratchRoot, Log).Run();
        return _results;
    }

    /// <summary>Drops servers that are not installed and lets each find out which options its build accepts.</summary>
    void Prepare()
    {
        foreach (var spec in servers)
        {
            if (spec.Executable is null)
            {
                foreach (var s in scenarios) _results.Fail(s.Name, spec.Name, $"{spec.Name} is not installed");
                Log($"{spec.Name}: not installed, skipped");
                continue;
            }
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
            }, _results.Notes);
            _active.Add(spec);
        }
    }

    void MainRound(int round, Scenario? memory, List<Scenario> throughput)
    {
        var running = new List<ServerUnderTest>();
        try
        {
            foreach (var spec in _active)
            {
                try
                {
                    var server = ServerUnderTest.Start(spec, Persistence.Off, options.ServerCpu, scratchRoot, $"r{round}");
                    running.Add(server);
                    Log($"round {round}/{options.Rounds}  start-up   {spec.Name,-9} {server.StartupTime.TotalMilliseconds,8:F1} ms   RSS {Mb(server.FreshRssBytes)} MB   pid {server.Pid}");
                }
                catch (ServerStartException e)
                {
                    foreach (var s in scenarios.Where(s => s.Kind != ScenarioKind.Durability))
                        _results.Fail(s.Name, spec.Name, spec.ExplainStartFailure(Persistence.Off, e.Message));
                    Log($"round {round}/{options.Rounds}  start-up   {spec.Name,-9} FAILED: {e.Message}");
                }
            }

            foreach (var server in running)
            {
                ServerUnderTest.RunAlone(running, server);
                MeasureMemory(round, memory, server);
            }

            foreach (var scenario in throughput)
                foreach (var server in running)
                {
                    ServerUnderTest.RunAlone(running, server);
                    RunBenchmark(round, scenario, server);
                }
        }
        finally
        {
            foreach (var server in running) server.Dispose();
        }
    }

    void MeasureMemory(int round, Scenario? memory, ServerUnderTest server)
    {
        var name = server.Spec.Name;
        long? loaded = null;
        double? seconds = null;
        if (memory is not null && !_results.HasFailed(memory.Name, name))
        {
            var (took, failure) = dataset.Load(server);
            if (failure is null)
            {
                Thread.Sleep(200);
                loaded = server.RssBytes();
                seconds = took;
                Log($"round {round}/{options.Rounds}  memory     {name,-9} {options.Keys:N0} keys in {took:F1} s   RSS {Mb(loaded ?? 0)} MB   " +
                    $"{((loaded ?? 0) - server.FreshRssBytes) / (double)options.Keys:F1} B/key");
            }
            else
            {
                _results.Fail(memory.Name, name, failure);
                Log($"round {round}/{options.Rounds}  memory     {name,-9} FAILED: {failure}");
            }
        }
        _results.Memory.Add(new MemorySample(round, name, server.StartupTime.TotalMilliseconds, server.FreshRssBytes,
                                             loaded, options.Keys, seconds));
    }

    void RunBenchmark(int round, Scenario scenario, ServerUnderTest server)
    {
        var name = server.Spec.Name;
        if (_results.HasFailed(scenario.Name, name)) return; // failed in an earlier round: do not retry
        if (!server.IsAlive)
        {
            _results.Fail(scenario.Name, name, $"server had exited before the run (round {round}): {server.LogTail(3)}");
            return;
        }
        var outcome = _runner.Run(server, scenario, round, prepare: FillFor(round, scenario, server));
        if (outcome.Value is { } sample)
        {
            _results.Throughput.Add(sample);
            Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {name,-9} {sample.Rps,10:N0} rps   p50 {sample.P50Ms:F3}   p99 {sample.P99Ms:F3} ms   {sample.CpuUsPerRequest:F2} µs/req   ({sample.Requests:N0} in {sample.Seconds:F1} s, warm-up {_runner.LastWarmupSeconds:F1} s)");
            CheckCollection(round, scenario, server);
        }
        else if (outcome.Transient)
        {
            _results.Miss(scenario.Name, name, outcome.Failure!);
            Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {name,-9} missed this round: {outcome.Failure}");
        }
        else
        {
            _results.Fail(scenario.Name, name, outcome.Failure!);
            Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {name,-9} FAILED: {outcome.Failure}");
        }
    }

    /// <summary>After a hash or set run: how many fields or members its key holds (log), and a note when the run measured misses.</summary>
    void CheckCollection(int round, Scenario scenario, ServerUnderTest server)
    {
        if (CollectionScenarios.CountCommand(scenario) is not { } command) return;
        var reply = Infrastructure.ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), .. command],
                                                       TimeSpan.FromSeconds(30), cpu: options.ClientCpu);
        var name = server.Spec.Name;
        if (CollectionScenarios.ParseCount(reply.Stdout) is not long count)
        {
            Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {name,-9} {string.Join(' ', command)} answered '{reply.Stdout.Trim()}{reply.Stderr.Trim()}'");
            return;
        }
        Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {name,-9} {string.Join(' ', command)} = {count:N0}");
        if (CollectionScenarios.Note(scenario, count) is { } note && _noted.Add((scenario.Name, name)))
            _results.Notes.Add($"{server.Spec.DisplayName}, {note}{(options.Rounds > 1 ? $" (first in round {round})" : "")}");
    }

    readonly HashSet<(string Scenario, string Server)> _noted = [];

    /// <summary>
    /// What goes into the key before each run of the scenario (<see cref="CollectionScenarios"/>): SPOP gets as
    /// many new members in myset as the run pops; HGET its hash, once per server. Null for the other scenarios.
    /// </summary>
    Func<int, string?>? FillFor(int round, Scenario scenario, ServerUnderTest server)
    {
        if (scenario.Kind != ScenarioKind.Throughput) return null;
        string? Timed(string what, Func<Stream, long> write)
        {
            var clock = Stopwatch.StartNew();
            var failure = CollectionScenarios.Fill(server, scratchRoot, write, options.ClientCpu);
            Log($"round {round}/{options.Rounds}  {scenario.Name,-14} {server.Spec.Name,-9} fill: {what} in {clock.Elapsed.TotalSeconds:F1} s{(failure is null ? "" : $": {failure}")}");
            return failure is null ? null : $"filling {what} failed: {failure}";
        }
        return scenario.Test switch
        {
            "spop" => requests =>
            {
                long first = _nextFillMember;
                _nextFillMember += requests;
                return Timed($"{requests:N0} members into {CollectionScenarios.SetKey}", s => CollectionScenarios.WriteSetFill(s, first, requests));
            },
            "hget" => _ => !_hgetFilled.Add(server) ? null
                : Timed($"{CollectionScenarios.HgetFields:N0} fields into {CollectionScenarios.HgetKey}",
                        s => CollectionScenarios.WriteHashFill(s, CollectionScenarios.HgetFields, options.DataSize)),
            Scenarios.EvalshaTest => _ => LoadScript(server),
            _ => null,
        };
    }

    /// <summary>SCRIPT LOAD of the EVALSHA scenario's script before each run; null when the server answered its SHA1.</summary>
    string? LoadScript(ServerUnderTest server)
    {
        var reply = Infrastructure.ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "SCRIPT", "LOAD", Scenarios.IncrScript],
                                                       TimeSpan.FromSeconds(30), cpu: options.ClientCpu);
        return reply.Succeeded && reply.Stdout.Trim() == Scenarios.IncrScriptSha ? null
            : $"SCRIPT LOAD answered '{reply.Stdout.Trim()}' {reply.Stderr.Trim()}";
    }

    /// <summary>SPOP fills add members fill:N from here on: each is new, whatever is left in the set.</summary>
    long _nextFillMember;
    readonly HashSet<ServerUnderTest> _hgetFilled = [];

    /// <summary>
    /// All servers started once with the scenario's AOF settings and kept for its rounds: a fresh AOF
    /// is not what is being measured (Garnet's first commits with --aof-commit-wait stall for seconds).
    /// </summary>
    void DurabilityPhase(Scenario scenario)
    {
        var running = new List<ServerUnderTest>();
        try
        {
            foreach (var spec in _active)
            {
                if (_results.HasFailed(scenario.Name, spec.Name)) continue;
                try
                {
                    var server = ServerUnderTest.Start(spec, scenario.Persistence, options.ServerCpu, scratchRoot, scenario.Name);
                    running.Add(server);
                    // One write from a single client first: Garnet's very first AOF commits, hit by 50 clients
                    // at once with --aof-commit-wait, stall for about 3 s each (a 200-request warm-up took ~45 s).
                    Infrastructure.ExternalCommand.Run("redis-cli", ["-h", "127.0.0.1", "-p", server.Port.ToString(), "SET", "harness:prime", "x"],
                                                       TimeSpan.FromSeconds(60), cpu: options.ClientCpu);
                }
                catch (ServerStartException e)
                {
                    var why = spec.ExplainStartFailure(scenario.Persistence, e.Message);
                    _results.Fail(scenario.Name, spec.Name, why);
                    Log($"{scenario.Name,-14} {spec.Name,-9} n/a: {why}");
                }
            }
            for (int round = 1; round <= options.Rounds; round++)
            {
                foreach (var server in running)
                {
                    ServerUnderTest.RunAlone(running, server);
                    int before = _results.Throughput.Count;
                    RunBenchmark(round, scenario, server);
                    if (_results.Throughput.Count > before && server.DataDirBytes() == 0)
                    {
                        // The options were accepted but nothing reached the data folder: not an AOF run.
                        _results.Throughput.RemoveAt(_results.Throughput.Count - 1);
                        _results.Fail(scenario.Name, server.Spec.Name, "accepted the AOF options but wrote nothing to its data folder");
                    }
                }
            }
        }
        finally
        {
            foreach (var server in running) server.Dispose();
        }
    }

    void Log(string message) =>
        Console.Error.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");

    static string Mb(long bytes) => (bytes / 1e6).ToString("F1", CultureInfo.InvariantCulture);
}
