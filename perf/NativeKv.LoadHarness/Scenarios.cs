using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

enum ScenarioKind
{
    /// <summary>redis-benchmark against a server that runs the whole round (data loaded, persistence off).</summary>
    Throughput,
    /// <summary>Fresh server: RSS, then 1M keys through redis-cli --pipe, then RSS again.</summary>
    Memory,
    /// <summary>redis-benchmark SET against servers started with an AOF (kept across the rounds of the scenario).</summary>
    Durability,
    /// <summary>NativeKv and Garnet with a 64 MB memory budget: --ltm-keys keys loaded, then cold GETs and overwrites (LargerThanMemory.cs).</summary>
    LargerThanMemory,
}

/// <summary>
/// One row of the report. <paramref name="Test"/> is redis-benchmark's -t name;
/// <paramref name="RequestScale"/> multiplies the warm-up and a fixed --requests (pipelined runs are faster);
/// <paramref name="Clients"/> overrides --clients (the --backends runs have 50 and 500);
/// <paramref name="Command"/>, when set, is the command redis-benchmark sends instead of a -t test
/// (it has no HGET test: <c>redis-benchmark ... HGET myhash:hget element:__rand_int__</c>); <paramref name="Keyspace"/>,
/// when set, is its -r instead of --keys.
/// </summary>
sealed record Scenario(string Name, ScenarioKind Kind, string Test, int Pipeline, Persistence Persistence, double RequestScale,
                       int? Clients = null, string[]? Command = null, int? Keyspace = null)
{
    /// <summary>
    /// What redis-benchmark calls the test in its CSV output: -t mset reports "MSET (10 keys)", a command
    /// given on the command line its arguments joined by spaces ("HGET myhash:hget element:__rand_int__").
    /// </summary>
    public string CsvTestName => Command is not null ? string.Join(' ', Command)
                                 : Test == "mset" ? "MSET (10 keys)" : Test == Scenarios.MultiTest ? TransactionLoad.TestName
                                 : Test == Scenarios.FanOutTest ? FanOutLoad.TestName : Test.ToUpperInvariant();

    /// <summary>The name in the report's rows: the test, without a command's arguments.</summary>
    public string Label => Command is not null ? Test.ToUpperInvariant() : CsvTestName;

    public string Title => Kind switch
    {
        ScenarioKind.Memory => "memory",
        ScenarioKind.LargerThanMemory when Test == "" => "larger than memory",
        ScenarioKind.LargerThanMemory => $"{CsvTestName} P{Pipeline}, random, larger than memory",
        ScenarioKind.Durability => $"SET, appendfsync {(Persistence == Persistence.AofAlways ? "always" : "everysec")}",
        _ => Clients is int c ? $"{Label} P{Pipeline}, {c} clients" : $"{Label} P{Pipeline}",
    };

    public int Requests(int baseRequests) => Math.Max(1000, (int)(baseRequests * RequestScale));
}

/// <summary>The scenario catalogue and the --scenarios filter.</summary>
static class Scenarios
{
    // The hash and set tests as redis-benchmark runs them (checked against a redis-server MONITOR):
    // hset = HSET myhash element:__rand_int__ <-d bytes>, sadd = SADD myset element:__rand_int__,
    // spop = SPOP myset (no random part; the harness fills myset first, CollectionScenarios). hget is
    // not one of its tests: the command is given instead, on a hash of its own loaded first, so that every
    // HGET hits. sadd runs before spop in each round.
    static readonly string[] Tests = ["set", "get", "incr", "mset", "ping_mbulk", "hset", "hget", "sadd", "spop", MultiTest, EvalshaTest];

    /// <summary>
    /// Issue 14's pair: a transaction of three INCRs (MULTI ... EXEC, sent by <see cref="TransactionLoad"/>, one
    /// request per EXEC) and the same three INCRs as one EVALSHA (redis-benchmark, the script loaded first).
    /// </summary>
    public const string MultiTest = "multi", EvalshaTest = "evalsha";

    /// <summary>Issue 15's fan-out: one publisher, <see cref="FanOutSubscribers"/> subscribers of one channel (<see cref="FanOutLoad"/>), in deliveries.</summary>
    public const string FanOutTest = "fanout";
    public const int FanOutSubscribers = 100;

    public const string IncrScript = "redis.call('INCR', KEYS[1]); redis.call('INCR', KEYS[2]); return redis.call('INCR', KEYS[3])";

    /// <summary>SHA1 of <see cref="IncrScript"/>, as SCRIPT LOAD answers it.</summary>
    public static string IncrScriptSha =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(IncrScript)));

    /// <summary>Tests redis-benchmark has no -t name for: the command it is given instead, and its -r.</summary>
    static readonly Dictionary<string, (string[] Command, int Keyspace)> Commands = new()
    {
        ["hget"] = (["HGET", CollectionScenarios.HgetKey, "element:__rand_int__"], CollectionScenarios.HgetFields),
        [EvalshaTest] = (["EVALSHA", IncrScriptSha, "3", "tx:a:__rand_int__", "tx:b:__rand_int__", "tx:c:__rand_int__"], 100_000),
    };

    /// <summary>The tests on a hash or set key (myhash, myhash:hget, myset): "collections" selects them all.</summary>
    public static readonly string[] CollectionTests = ["hset", "hget", "sadd", "spop"];
    static readonly int[] Pipelines = [1, 16];

    public static IReadOnlyList<Scenario> All { get; } = Build();

    static List<Scenario> Build()
    {
        var list = new List<Scenario> { new("memory", ScenarioKind.Memory, "", 0, Persistence.Off, 0) };
        foreach (var pipeline in Pipelines)
            foreach (var test in Tests)
                list.Add(new($"{test}-p{pipeline}", ScenarioKind.Throughput, test, pipeline, Persistence.Off, pipeline == 1 ? 1 : 5,
                             Command: Commands.TryGetValue(test, out var c) ? c.Command : null,
                             Keyspace: Commands.TryGetValue(test, out var k) ? k.Keyspace : null));
        foreach (var pipeline in Pipelines)
            list.Add(new($"{FanOutTest}-p{pipeline}", ScenarioKind.Throughput, FanOutTest, pipeline, Persistence.Off, pipeline == 1 ? 1 : 5,
                         Clients: FanOutSubscribers));
        list.Add(new("aof-always", ScenarioKind.Durability, "set", 1, Persistence.AofAlways, 1));
        list.Add(new("aof-everysec", ScenarioKind.Durability, "set", 1, Persistence.AofEverysec, 1));
        list.Add(new("ltm", ScenarioKind.LargerThanMemory, "", 0, Persistence.Off, 0));
        return list;
    }

    /// <summary>
    /// Comma-separated tokens; a scenario is selected when a token equals its name or one of the
    /// '-'-separated parts of its name: "set" = set-p1,set-p16; "p16" = every pipelined run;
    /// "aof" = both durability runs; "memory"; "ltm" (larger than memory); "collections" = hset, hget,
    /// sadd and spop at both pipelines. Null or empty selects everything.
    /// </summary>
    public static IReadOnlyList<Scenario> Select(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) return All;
        var tokens = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                           .Select(t => t.ToLowerInvariant()).ToArray();
        var unknown = tokens.Where(t => !All.Any(s => Matches(s, t))).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"--scenarios: nothing matches '{string.Join("', '", unknown)}' (scenarios: {string.Join(", ", All.Select(s => s.Name))})");
        return All.Where(s => tokens.Any(t => Matches(s, t))).ToList();
    }

    /// <summary>
    /// The --backends catalogue: GET and SET at pipeline 1 and 16 for each client count, named
    /// get-p1-c50, set-p16-c500, ...; the filter works as for <see cref="Select"/> ("get", "p1", "c500").
    /// </summary>
    public static IReadOnlyList<Scenario> SelectBackends(string? filter, IReadOnlyList<int> clientCounts)
    {
        var all = new List<Scenario>();
        foreach (var pipeline in Pipelines)
            foreach (var clients in clientCounts)
                foreach (var test in (string[])["get", "set"])
                    all.Add(new($"{test}-p{pipeline}-c{clients}", ScenarioKind.Throughput, test, pipeline, Persistence.Off,
                                pipeline == 1 ? 1 : 5, clients));
        if (string.IsNullOrWhiteSpace(filter)) return all;
        var tokens = filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                           .Select(t => t.ToLowerInvariant()).ToArray();
        var unknown = tokens.Where(t => !all.Any(s => Matches(s, t))).ToArray();
        if (unknown.Length > 0)
            throw new ArgumentException($"--scenarios: nothing matches '{string.Join("', '", unknown)}' (scenarios: {string.Join(", ", all.Select(s => s.Name))})");
        return all.Where(s => tokens.Any(t => Matches(s, t))).ToList();
    }

    static bool Matches(Scenario s, string token) =>
        s.Name == token || s.Name.Split('-').Contains(token)
        || (token == "collections" && s.Kind == ScenarioKind.Throughput && CollectionTests.Contains(s.Test));
}
