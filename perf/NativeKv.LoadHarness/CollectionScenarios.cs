using System.Globalization;
using System.Text;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness;

/// <summary>
/// The hash and set scenarios' keys, what is put in them before a run, and what is read after it.
/// HSET and SADD are redis-benchmark's tests as they are (myhash and myset grow through the round). Two
/// need a filled key to measure anything but misses, since redis-benchmark counts a nil like any reply:
/// SPOP pops myset, which a warm-up alone can empty (NativeKv's SPOP P16 warm-up emptied SADD's 31,004
/// members, and the measured run was nil replies at 537k/s); HGET reads fields of a hash that
/// redis-benchmark's HSET fills at random (1-36% of -r 1M in a --quick run, different on each server).
/// So before each SPOP run (warm-ups included) myset gets as many new members as the run pops, and HGET
/// reads its own hash of <see cref="HgetFields"/> fields, loaded once per server, with -r of that size.
/// </summary>
static class CollectionScenarios
{
    public const string HashKey = "myhash";
    public const string SetKey = "myset";

    /// <summary>The hash HGET reads: fields element:%012d for 0 .. HgetFields-1, all of them hits under -r HgetFields.</summary>
    public const string HgetKey = "myhash:hget";

    /// <summary>50,000 fields of 100 bytes are 6 MB: inside NativeKv's 8 MB value limit while hashes are still inline.</summary>
    public const int HgetFields = 50_000;

    const int FieldsPerCommand = 100;

    /// <summary>The command that counts the scenario's collection after a run, or null for a scenario without one.</summary>
    public static string[]? CountCommand(Scenario scenario) => scenario.Kind != ScenarioKind.Throughput ? null : scenario.Test switch
    {
        "hset" => ["HLEN", HashKey],
        "hget" => ["HLEN", HgetKey],
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

    /// <summary>A note for the report when the count after a run says it measured misses; null when it did not.</summary>
    public static string? Note(Scenario scenario, long count) => scenario.Test switch
    {
        "spop" when count == 0 =>
            $"{scenario.Title}: {SetKey} was empty after the run although it was filled first, so its last SPOPs answered nil.",
        "hget" when count != HgetFields =>
            $"{scenario.Title}: {HgetKey} had {count.ToString("N0", CultureInfo.InvariantCulture)} fields, not " +
            $"{HgetFields.ToString("N0", CultureInfo.InvariantCulture)}: some HGETs answered nil.",
        _ => null,
    };

    /// <summary>
    /// <c>SADD myset fill:%012d ...</c>, <see cref="FieldsPerCommand"/> members a command, for members
    /// <paramref name="first"/> .. <paramref name="first"/>+<paramref name="count"/>-1 (distinct from SADD's element:%012d).
    /// Returns the number of commands written.
    /// </summary>
    public static long WriteSetFill(Stream stream, long first, long count) =>
        WriteFill(stream, "SADD", SetKey, "fill:", first, count, valueSize: 0);

    /// <summary><c>HSET myhash:hget element:%012d xxx...</c> for fields 0 .. <paramref name="fields"/>-1, values of <paramref name="valueSize"/> 'x'. Returns the commands written.</summary>
    public static long WriteHashFill(Stream stream, long fields, int valueSize) =>
        WriteFill(stream, "HSET", HgetKey, "element:", 0, fields, valueSize);

    static long WriteFill(Stream stream, string verb, string key, string prefix, long first, long count, int valueSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var value = valueSize > 0 ? Bulk(new string('x', valueSize)) : [];
        long commands = 0;
        var command = new MemoryStream();
        for (long at = first; at < first + count; at += FieldsPerCommand, commands++)
        {
            int n = (int)Math.Min(FieldsPerCommand, first + count - at);
            command.SetLength(0);
            int args = 2 + n * (valueSize > 0 ? 2 : 1);
            command.Write(Encoding.ASCII.GetBytes($"*{args}\r\n"));
            command.Write(Bulk(verb));
            command.Write(Bulk(key));
            for (long i = at; i < at + n; i++)
            {
                // redis-benchmark's __rand_int__ is 12 digits ("%012llu"): HGET element:__rand_int__ hits these fields.
                command.Write(Bulk(prefix + i.ToString("D12", CultureInfo.InvariantCulture)));
                if (valueSize > 0) command.Write(value);
            }
            command.WriteTo(stream);
        }
        return commands;
    }

    static byte[] Bulk(string s) => Encoding.ASCII.GetBytes($"${s.Length}\r\n{s}\r\n");

    /// <summary>Writes a fill to a file in <paramref name="folder"/> and pipes it into the server; null when every command answered, else why not.</summary>
    public static string? Fill(ServerUnderTest server, string folder, Func<Stream, long> write, int cpu)
    {
        var file = Path.Combine(folder, $"fill-{server.Spec.Name}-{server.Port}.resp");
        long commands;
        using (var stream = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            commands = write(stream);
        try
        {
            // Bounded like a load: a million members at NativeKv's inline-set rate would still end well inside it.
            var (_, failure) = DatasetLoader.PipeFile(server, file, commands, cpu, TimeSpan.FromMinutes(5));
            return failure;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
