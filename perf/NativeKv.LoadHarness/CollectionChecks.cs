using System.Globalization;

namespace NativeKv.LoadHarness;

/// <summary>
/// What redis-benchmark's hash and set tests leave behind, read after each run: HLEN myhash or SCARD myset.
/// redis-benchmark counts a nil reply as a request like any other, so SPOP on a set that ran empty and HGET
/// of a field HSET never wrote are measured as fast misses; the report says how far that went.
/// </summary>
static class CollectionChecks
{
    public const string HashKey = "myhash";
    public const string SetKey = "myset";

    /// <summary>The command that counts the scenario's collection, or null for a scenario without one.</summary>
    public static string[]? CountCommand(Scenario scenario) => scenario.Kind != ScenarioKind.Throughput ? null : scenario.Test switch
    {
        "hset" or "hget" => ["HLEN", HashKey],
        "sadd" or "spop" => ["SCARD", SetKey],
        _ => null,
    };

    /// <summary>redis-cli's answer to HLEN/SCARD: "12345" (or "(integer) 12345" on a terminal); null for anything else.</summary>
    public static long? ParseCount(string output)
    {
        var text = output.Trim();
        if (text.StartsWith("(integer) ", StringComparison.Ordinal)) text = text["(integer) ".Length..];
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>
    /// A note for the report when the count says the run measured misses: an SPOP run that emptied the set,
    /// or HGETs of a keyspace HSET filled only in part. Null when there is nothing to say.
    /// </summary>
    public static string? Note(Scenario scenario, long count, long keyspace) => scenario.Test switch
    {
        "spop" when count == 0 =>
            $"{scenario.Title}: {SetKey} was empty after the run, so its last SPOPs answered nil (it pops what SADD added; " +
            "redis-benchmark -t sadd,spop does the same).",
        "hget" when keyspace > 0 && count < keyspace =>
            $"{scenario.Title}: {HashKey} had {count.ToString("N0", CultureInfo.InvariantCulture)} fields of the " +
            $"{keyspace.ToString("N0", CultureInfo.InvariantCulture)} in the -r keyspace, so about " +
            $"{(100.0 * count / keyspace).ToString("F0", CultureInfo.InvariantCulture)}% of HGETs found their field (the others answered nil).",
        _ => null,
    };
}
