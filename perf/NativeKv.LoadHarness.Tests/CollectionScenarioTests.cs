namespace NativeKv.LoadHarness.Tests;

/// <summary>The hash and set scenarios: catalogue, filter, redis-benchmark's arguments and CSV names, the checks after a run.</summary>
public class CollectionScenarioTests
{
    static Scenario Named(string name) => Scenarios.All.Single(s => s.Name == name);

    [Test]
    public async Task Catalogue_has_hset_hget_sadd_spop_at_both_pipelines()
    {
        foreach (var test in (string[])["hset", "hget", "sadd", "spop"])
            foreach (var pipeline in (int[])[1, 16])
            {
                var s = Named($"{test}-p{pipeline}");
                await Assert.That(s.Kind).IsEqualTo(ScenarioKind.Throughput);
                await Assert.That(s.Pipeline).IsEqualTo(pipeline);
            }
        await Assert.That(Scenarios.Select("collections").Select(s => s.Name)).IsEquivalentTo(
            ["hset-p1", "hget-p1", "sadd-p1", "spop-p1", "hset-p16", "hget-p16", "sadd-p16", "spop-p16"]);
        await Assert.That(Scenarios.Select("spop").Select(s => s.Name)).IsEquivalentTo(["spop-p1", "spop-p16"]);
        // "set" is still SET alone: not sadd, not hset.
        await Assert.That(Scenarios.Select("set").Select(s => s.Name)).IsEquivalentTo(["set-p1", "set-p16"]);
    }

    [Test]
    public async Task Sadd_runs_before_spop_in_each_round()
    {
        var names = Scenarios.All.Select(s => s.Name).ToList();
        await Assert.That(names.IndexOf("sadd-p1")).IsLessThan(names.IndexOf("spop-p1"));
        await Assert.That(names.IndexOf("sadd-p16")).IsLessThan(names.IndexOf("spop-p16"));
    }

    [Test]
    public async Task Hset_sadd_spop_are_redis_benchmark_tests()
    {
        var runner = new BenchmarkRunner(HarnessOptions.Parse([]));
        var args = runner.BenchmarkArguments(7000, Named("hset-p16"), 5000);
        await Assert.That(string.Join(' ', args)).IsEqualTo("-h 127.0.0.1 -p 7000 -c 50 -n 5000 -d 100 -r 1000000 -P 16 --csv -t hset");
        await Assert.That(runner.BenchmarkArguments(7000, Named("spop-p1"), 1000)[^2..]).IsEquivalentTo(["-t", "spop"]);
        await Assert.That(Named("hset-p1").CsvTestName).IsEqualTo("HSET");
        await Assert.That(Named("sadd-p1").CsvTestName).IsEqualTo("SADD");
        await Assert.That(Named("spop-p16").Title).IsEqualTo("SPOP P16");
    }

    [Test]
    public async Task Hget_is_a_command_given_on_the_command_line_over_its_own_hash()
    {
        var runner = new BenchmarkRunner(HarnessOptions.Parse(["--keys", "1000"]));
        var args = runner.BenchmarkArguments(7000, Named("hget-p1"), 2000);
        await Assert.That(args).DoesNotContain("-t");
        await Assert.That(args[^3..]).IsEquivalentTo(["HGET", "myhash:hget", "element:__rand_int__"]);
        // -r is the filled hash's size, not --keys: every HGET finds its field.
        await Assert.That(args[Array.IndexOf(args, "-r") + 1]).IsEqualTo("50000");
        await Assert.That(runner.BenchmarkArguments(7000, Named("hset-p1"), 2000)[Array.IndexOf(args, "-r") + 1]).IsEqualTo("1000");
        await Assert.That(Named("hget-p1").CsvTestName).IsEqualTo("HGET myhash:hget element:__rand_int__");
        await Assert.That(Named("hget-p16").Title).IsEqualTo("HGET P16");
    }

    [Test]
    public async Task The_fill_runs_before_each_redis_benchmark_run_and_a_refusal_stops_the_scenario()
    {
        var runner = new BenchmarkRunner(HarnessOptions.Parse([]));
        var asked = new List<int>();
        // The refusal comes before the server is touched, so no server is needed.
        var outcome = runner.Run(null!, Named("spop-p16"), 1, prepare: n => { asked.Add(n); return "ERR no"; });
        await Assert.That(outcome.Value).IsNull();
        await Assert.That(outcome.Failure).IsEqualTo("ERR no");
        await Assert.That(outcome.Transient).IsFalse();
        await Assert.That(asked).IsEquivalentTo([25_000]); // the P16 warm-up: 5,000 x 5
    }

    [Test]
    public async Task Set_fill_adds_new_members_100_per_SADD()
    {
        using var stream = new MemoryStream();
        long commands = CollectionScenarios.WriteSetFill(stream, 99, 102);
        var text = System.Text.Encoding.ASCII.GetString(stream.ToArray());
        await Assert.That(commands).IsEqualTo(2L);
        await Assert.That(text).StartsWith("*102\r\n$4\r\nSADD\r\n$5\r\nmyset\r\n$17\r\nfill:000000000099\r\n$17\r\nfill:000000000100\r\n");
        await Assert.That(text).EndsWith("*4\r\n$4\r\nSADD\r\n$5\r\nmyset\r\n$17\r\nfill:000000000199\r\n$17\r\nfill:000000000200\r\n");
        await Assert.That(text.Split("fill:").Length - 1).IsEqualTo(102);
    }

    [Test]
    public async Task Hash_fill_writes_the_fields_HGET_asks_for()
    {
        using var stream = new MemoryStream();
        long commands = CollectionScenarios.WriteHashFill(stream, 3, 2);
        await Assert.That(commands).IsEqualTo(1L);
        await Assert.That(System.Text.Encoding.ASCII.GetString(stream.ToArray())).IsEqualTo(
            "*8\r\n$4\r\nHSET\r\n$11\r\nmyhash:hget\r\n" +
            "$20\r\nelement:000000000000\r\n$2\r\nxx\r\n$20\r\nelement:000000000001\r\n$2\r\nxx\r\n$20\r\nelement:000000000002\r\n$2\r\nxx\r\n");
        using var big = new MemoryStream();
        await Assert.That(CollectionScenarios.WriteHashFill(big, CollectionScenarios.HgetFields, 100)).IsEqualTo(500L);
    }

    [Test]
    public async Task Csv_rows_are_found_under_redis_benchmarks_names()
    {
        // redis-benchmark 7.0.15's --csv output of -t hset,sadd,spop and of the HGET command (its own order).
        const string tests = """
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "SADD","3000.00","0.060","0.016","0.023","0.143","0.143","0.143"
            "HSET","2500.00","0.041","0.016","0.031","0.079","0.079","0.079"
            "SPOP","4000.00","0.044","0.016","0.031","0.087","0.087","0.087"
            """;
        const string hget = """
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "HGET myhash:hget element:__rand_int__","1500.00","0.065","0.016","0.047","0.135","0.135","0.135"
            """;
        await Assert.That(BenchmarkRunner.ParseCsv(tests, Named("hset-p1").CsvTestName)!["rps"]).IsEqualTo(2500.0);
        await Assert.That(BenchmarkRunner.ParseCsv(tests, Named("spop-p1").CsvTestName)!["p99_latency_ms"]).IsEqualTo(0.087);
        await Assert.That(BenchmarkRunner.ParseCsv(hget, Named("hget-p16").CsvTestName)!["rps"]).IsEqualTo(1500.0);
        await Assert.That(BenchmarkRunner.ParseCsv(hget, "HGET")).IsNull();
    }

    [Test]
    public async Task Counts_come_from_HLEN_and_SCARD()
    {
        await Assert.That(CollectionScenarios.CountCommand(Named("hset-p1"))).IsEquivalentTo(["HLEN", "myhash"]);
        await Assert.That(CollectionScenarios.CountCommand(Named("hget-p16"))).IsEquivalentTo(["HLEN", "myhash:hget"]);
        await Assert.That(CollectionScenarios.CountCommand(Named("spop-p1"))).IsEquivalentTo(["SCARD", "myset"]);
        await Assert.That(CollectionScenarios.CountCommand(Named("get-p1"))).IsNull();
        await Assert.That(CollectionScenarios.ParseCount("123456\n")).IsEqualTo(123456L);
        await Assert.That(CollectionScenarios.ParseCount("(integer) 7")).IsEqualTo(7L);
        await Assert.That(CollectionScenarios.ParseCount("WRONGTYPE Operation against a key holding the wrong kind of value")).IsNull();
        await Assert.That(CollectionScenarios.ParseCount("")).IsNull();
    }

    [Test]
    public async Task Notes_say_when_a_run_measured_misses()
    {
        await Assert.That(CollectionScenarios.Note(Named("spop-p1"), 0)).Contains("myset was empty after the run");
        await Assert.That(CollectionScenarios.Note(Named("spop-p1"), 5)).IsNull();
        await Assert.That(CollectionScenarios.Note(Named("hget-p1"), 25_000)).Contains("had 25,000 fields, not 50,000");
        await Assert.That(CollectionScenarios.Note(Named("hget-p1"), 50_000)).IsNull();
        await Assert.That(CollectionScenarios.Note(Named("hset-p1"), 0)).IsNull();
    }
}
