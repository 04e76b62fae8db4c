using NativeKv.Server.Config;

namespace NativeKv.Tests.Config;

/// <summary>Value parsers: memtoull, string2ll, strtoll, yes/no, enums, CPU lists (rules of Redis util.c / config.c).</summary>
public class ConfigValuesTests
{
    [Test]
    [Arguments("0", 0L)]
    [Arguments("1", 1L)]
    [Arguments("1b", 1L)]
    [Arguments("1k", 1000L)]
    [Arguments("1kb", 1024L)]
    [Arguments("1K", 1000L)]
    [Arguments("1KB", 1024L)]
    [Arguments("1Kb", 1024L)]
    [Arguments("2m", 2000000L)]
    [Arguments("2mb", 2097152L)]
    [Arguments("3g", 3000000000L)]
    [Arguments("3GB", 3221225472L)]
    [Arguments("007", 7L)]
    [Arguments("", 0L)]   // memtoull reads an empty number as 0, as Redis does
    [Arguments("kb", 0L)]
    [Arguments("9223372036854775807", long.MaxValue)]
    public async Task Memory_values_parse_like_memtoull(string text, long expected)
    {
        await Assert.That(ConfigValues.TryParseMemory(text, out long v)).IsTrue();
        await Assert.That(v).IsEqualTo(expected);
    }

    [Test]
    [Arguments("-1")]
    [Arguments("+1")]
    [Arguments(" 1")]
    [Arguments("1 ")]
    [Arguments("1.5gb")]
    [Arguments("1x")]
    [Arguments("1kbb")]
    [Arguments("1tb")]
    [Arguments("abc")]
    [Arguments("9223372036854775808")]      // past long
    [Arguments("99999999999999999999")]     // past ulong (Redis silently saturates; we refuse)
    [Arguments("9999999999gb")]             // product overflows
    public async Task Bad_or_overflowing_memory_values_are_refused(string text)
    {
        await Assert.That(ConfigValues.TryParseMemory(text, out _)).IsFalse();
    }

    [Test]
    public async Task Unsigned_memory_reaches_ulong_max()
    {
        await Assert.That(ConfigValues.TryParseMemoryUnsigned("18446744073709551615", out ulong v)).IsTrue();
        await Assert.That(v).IsEqualTo(ulong.MaxValue);
        await Assert.That(ConfigValues.TryParseMemoryUnsigned("18446744073709551616", out _)).IsFalse();
        await Assert.That(ConfigValues.TryParseMemoryUnsigned("17179869184gb", out _)).IsFalse();
    }

    [Test]
    public async Task ParseMemory_checks_bounds_with_redis_text()
    {
        await Assert.That(ConfigValues.ParseMemory("1mb", 1024 * 1024, long.MaxValue, out long v)).IsNull();
        await Assert.That(v).IsEqualTo(1048576L);
        await Assert.That(ConfigValues.ParseMemory("1000", 1024 * 1024, long.MaxValue, out _))
            .IsEqualTo("argument must be between 1048576 and 9223372036854775807 inclusive");
        await Assert.That(ConfigValues.ParseMemory("1zb", 0, 10, out _)).IsEqualTo("argument must be a memory value");
    }

    [Test]
    [Arguments("1024", 1024L, "1kb")]
    [Arguments("1048576", 1048576L, "1mb")]
    [Arguments("1073741824", 1073741824L, "1gb")]
    [Arguments("0", 0L, "0")]
    [Arguments("1000", 1000L, "1000")]
    [Arguments("3072", 3072L, "3kb")]
    public async Task Rewrite_memory_notation(string _, long bytes, string expected)
    {
        await Assert.That(ConfigValues.FormatMemory(bytes)).IsEqualTo(expected);
    }

    [Test]
    [Arguments("0", true, 0L)]
    [Arguments("-1", true, -1L)]
    [Arguments("123", true, 123L)]
    [Arguments("9223372036854775807", true, long.MaxValue)]
    [Arguments("-9223372036854775808", true, long.MinValue)]
    [Arguments("9223372036854775808", false, 0L)]
    [Arguments("007", false, 0L)]
    [Arguments("-0", false, 0L)]
    [Arguments("+1", false, 0L)]
    [Arguments(" 1", false, 0L)]
    [Arguments("1 ", false, 0L)]
    [Arguments("", false, 0L)]
    [Arguments("-", false, 0L)]
    [Arguments("1e3", false, 0L)]
    public async Task Integers_parse_like_string2ll(string text, bool ok, long expected)
    {
        await Assert.That(ConfigValues.TryParseStrictInt64(text, out long v)).IsEqualTo(ok);
        if (ok) await Assert.That(v).IsEqualTo(expected);
    }

    [Test]
    [Arguments("10", true, 10L)]
    [Arguments(" 10", true, 10L)]
    [Arguments("+10", true, 10L)]
    [Arguments("-10", true, -10L)]
    [Arguments("010", true, 10L)]
    [Arguments("", true, 0L)]
    [Arguments("10 ", false, 0L)]
    [Arguments("x", false, 0L)]
    [Arguments("+", false, 0L)]
    [Arguments("99999999999999999999", true, long.MaxValue)]
    public async Task Strtoll_rules_for_save_and_friends(string text, bool ok, long expected)
    {
        await Assert.That(ConfigValues.TryParseStrtoll(text, out long v)).IsEqualTo(ok);
        if (ok) await Assert.That(v).IsEqualTo(expected);
    }

    [Test]
    public async Task Int_bounds_and_errors()
    {
        await Assert.That(ConfigValues.ParseInt("10", 1, 20, out int v)).IsNull();
        await Assert.That(v).IsEqualTo(10);
        await Assert.That(ConfigValues.ParseInt("0", 1, 20, out _)).IsEqualTo("argument must be between 1 and 20 inclusive");
        await Assert.That(ConfigValues.ParseInt("21", 1, 20, out _)).IsEqualTo("argument must be between 1 and 20 inclusive");
        await Assert.That(ConfigValues.ParseInt("ten", 1, 20, out _)).IsEqualTo("argument couldn't be parsed into an integer");
        await Assert.That(ConfigValues.ParseInt("99999999999", 0, int.MaxValue, out _))
            .IsEqualTo("argument must be between 0 and 2147483647 inclusive");
        await Assert.That(ConfigValues.ParseLong("-2", -1, long.MaxValue, out _))
            .IsEqualTo("argument must be between -1 and 9223372036854775807 inclusive");
    }

    [Test]
    [Arguments("yes", true)]
    [Arguments("YES", true)]
    [Arguments("Yes", true)]
    [Arguments("no", false)]
    [Arguments("NO", false)]
    public async Task Bools_are_yes_or_no_in_any_case(string text, bool expected)
    {
        await Assert.That(ConfigValues.ParseBool(text, out bool v)).IsNull();
        await Assert.That(v).IsEqualTo(expected);
    }

    [Test]
    [Arguments("true")]
    [Arguments("1")]
    [Arguments("y")]
    [Arguments("")]
    public async Task Other_bools_are_refused(string text)
    {
        await Assert.That(ConfigValues.ParseBool(text, out _)).IsEqualTo("argument must be 'yes' or 'no'");
    }

    [Test]
    public async Task Enums_match_case_insensitively_and_list_choices()
    {
        await Assert.That(ConfigValues.ParseEnum("ALWAYS", ["everysec", "always", "no"], out var v)).IsNull();
        await Assert.That(v).IsEqualTo("always");
        await Assert.That(ConfigValues.ParseEnum("sometimes", ["everysec", "always", "no"], out _))
            .IsEqualTo("argument(s) must be one of the following: everysec, always, no");
    }

    [Test]
    public async Task Cpu_lists()
    {
        await Assert.That(ConfigValues.ParseCpuList("0,2-3", out var cpus)).IsNull();
        await Assert.That(cpus).IsEquivalentTo(new[] { 0, 2, 3 });
        await Assert.That(ConfigValues.ParseCpuList("0-7:2", out cpus)).IsNull();
        await Assert.That(cpus).IsEquivalentTo(new[] { 0, 2, 4, 6 });
        await Assert.That(ConfigValues.ParseCpuList(" 1 , 5 ", out cpus)).IsNull();
        await Assert.That(cpus).IsEquivalentTo(new[] { 1, 5 });
        await Assert.That(ConfigValues.ParseCpuList("", out cpus)).IsNull();
        await Assert.That(cpus.Length).IsEqualTo(0);
        await Assert.That(ConfigValues.ParseCpuList("3-1", out _)).IsNotNull();
        await Assert.That(ConfigValues.ParseCpuList("a", out _)).IsNotNull();
        await Assert.That(ConfigValues.ParseCpuList("-1", out _)).IsNotNull();
        await Assert.That(ConfigValues.ParseCpuList("0-3:0", out _)).IsNotNull();
        await Assert.That(ConfigValues.ParseCpuList("5000", out _)).IsNotNull();
    }

    [Test]
    public async Task Keyspace_event_classes_round_trip()
    {
        await Assert.That(ConfigValues.FormatKeyspaceEvents(ConfigValues.ParseKeyspaceEvents("KEA"))).IsEqualTo("AKE");
        await Assert.That(ConfigValues.FormatKeyspaceEvents(ConfigValues.ParseKeyspaceEvents("Ex"))).IsEqualTo("xE");
        await Assert.That(ConfigValues.FormatKeyspaceEvents(ConfigValues.ParseKeyspaceEvents("Elg$"))).IsEqualTo("g$lE");
        await Assert.That(ConfigValues.FormatKeyspaceEvents(ConfigValues.ParseKeyspaceEvents("AKEmn"))).IsEqualTo("AKEm"); // as Redis: n is lost under A
        await Assert.That(ConfigValues.ParseKeyspaceEvents("")).IsEqualTo(0);
        await Assert.That(ConfigValues.ParseKeyspaceEvents("Kq")).IsEqualTo(-1);
    }

    [Test]
    public async Task Repr_quotes_like_sdscatrepr()
    {
        await Assert.That(ConfigValues.Repr("dump.rdb")).IsEqualTo("\"dump.rdb\"");
        await Assert.That(ConfigValues.Repr("")).IsEqualTo("\"\"");
        await Assert.That(ConfigValues.Repr("a\"b\\c")).IsEqualTo("\"a\\\"b\\\\c\"");
        await Assert.That(ConfigValues.Repr("a\nb\tc\u0001")).IsEqualTo("\"a\\nb\\tc\\x01\"");
    }
}
