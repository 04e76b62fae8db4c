namespace NativeKv.LoadHarness.Tests;

/// <summary>--ltm, --ltm-keys, --ports and the "ltm" scenario in the catalogue.</summary>
public class OptionsTests
{
    [Test]
    public async Task Ltm_runs_only_the_larger_than_memory_scenario_with_5M_keys()
    {
        var o = HarnessOptions.Parse(["--ltm"]);
        await Assert.That(o.ScenarioFilter).IsEqualTo("ltm");
        await Assert.That(o.LtmKeys).IsEqualTo(5_000_000);
        var selected = Scenarios.Select(o.ScenarioFilter);
        await Assert.That(selected.Select(s => s.Name)).IsEquivalentTo(["ltm"]);
        await Assert.That(selected[0].Kind).IsEqualTo(ScenarioKind.LargerThanMemory);
    }

    [Test]
    public async Task Quick_uses_1M_keys_unless_told()
    {
        await Assert.That(HarnessOptions.Parse(["--quick"]).LtmKeys).IsEqualTo(1_000_000);
        await Assert.That(HarnessOptions.Parse(["--quick", "--ltm-keys", "300000"]).LtmKeys).IsEqualTo(300_000);
        await Assert.That(HarnessOptions.Parse(["--ltm-keys=42"]).LtmKeys).IsEqualTo(42);
    }

    [Test]
    public async Task The_full_run_includes_it_and_other_filters_do_not()
    {
        await Assert.That(Scenarios.Select(null).Any(s => s.Kind == ScenarioKind.LargerThanMemory)).IsTrue();
        await Assert.That(Scenarios.Select("set,p16,aof,memory").Any(s => s.Kind == ScenarioKind.LargerThanMemory)).IsFalse();
    }

    [Test]
    public async Task Ltm_with_scenarios_or_backends_is_refused()
    {
        await Assert.That(() => HarnessOptions.Parse(["--ltm", "--scenarios", "set"])).Throws<ArgumentException>();
        await Assert.That(() => HarnessOptions.Parse(["--ltm", "--backends"])).Throws<ArgumentException>();
        await Assert.That(() => HarnessOptions.Parse(["--ltm-keys", "0"])).Throws<ArgumentException>();
    }

    [Test]
    public async Task Ports_take_a_range()
    {
        await Assert.That(HarnessOptions.Parse(["--ports", "7400-7449"]).Ports).IsEqualTo((7400, 7449));
        await Assert.That(HarnessOptions.Parse([]).Ports).IsEqualTo((17100, 30000));
        await Assert.That(() => HarnessOptions.Parse(["--ports", "7400"])).Throws<ArgumentException>();
        await Assert.That(() => HarnessOptions.Parse(["--ports", "7449-7400"])).Throws<ArgumentException>();
    }

    [Test]
    public async Task Index_buckets_come_from_INFO_memory()
    {
        var info = "# Memory\r\nused_memory:123\r\nstore_index_buckets:1048576\r\nstore_index_growths:4\r\n";
        await Assert.That(LargerThanMemory.ParseBuckets(info)).IsEqualTo(1_048_576L);
        await Assert.That(LargerThanMemory.ParseBuckets("# Memory\r\nused_memory:123\r\n")).IsNull();
        await Assert.That(LargerThanMemory.ParseBuckets("xstore_index_buckets:5\r\n")).IsNull();
        await Assert.That(LargerThanMemory.InfoField(info, "store_index_growths")).IsEqualTo(4L);
        await Assert.That(LargerThanMemory.InfoField("store_index_growths_x:4\r\n", "store_index_growths")).IsNull();
    }
}
