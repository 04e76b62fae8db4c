using System.Text;

namespace NativeKv.Tests.Infrastructure;

/// <summary>A command the fuzzer may send: its name words ("CONFIG", "GET"), arity and key positions, from COMMAND.</summary>
public sealed record FuzzCommand(string[] Words, int Arity, int FirstKey, int LastKey, int Step);

/// <summary>
/// Hostile client input, all drawn from one seeded <see cref="Random"/> so a worker's stream is
/// the same for the same seed: random bytes, mutated RESP, valid commands (every command COMMAND
/// lists, minus those that end the server or its clients by design) with hostile arguments, huge
/// or negative announced counts and lengths, inline commands, pipelines.
/// </summary>
public sealed class FuzzInputs(Random rng, IReadOnlyList<FuzzCommand> commands)
{
    /// <summary>
    /// Not sent: SHUTDOWN ends the server by design, CLIENT KILL would kill the PING monitor,
    /// CONFIG SET/REWRITE could move dir or dbfilename or set a password (a few harmless
    /// parameters are set through <see cref="ConfigSet"/> instead), replication commands would
    /// connect out.
    /// </summary>
    public static readonly HashSet<string> Excluded = new(StringComparer.OrdinalIgnoreCase)
    {
        "SHUTDOWN", "CLIENT|KILL", "CLIENT|PAUSE", "CONFIG|SET", "CONFIG|REWRITE", "DEBUG", "MONITOR",
        "REPLICAOF", "SLAVEOF", "MIGRATE", "SYNC", "PSYNC", "FAILOVER", "CLUSTER", "ACL|SETUSER",
        "ACL|DELUSER", "ACL|LOAD",
    };

    /// <summary>
    /// Sent RareOneIn times less often than other commands. Each is a checkpoint (SAVE blocks its
    /// reactor, as in Redis), so a flood of them measures checkpoints, not robustness: at 1 (their
    /// normal rate, ~2.5% of commands) the slowest PING of a 15 s run reached 850 ms of the 1 s
    /// MaxPing on a loaded 2-core machine (load 7); at 10, 250-650 ms at load 11.
    /// </summary>
    private static readonly HashSet<string> Rare = new(StringComparer.OrdinalIgnoreCase)
    {
        "SAVE", "BGSAVE", "BGREWRITEAOF", "FLUSHALL", "FLUSHDB", "SWAPDB",
    };
    private const int RareOneIn = 10;

    private static readonly string[] Numbers =
    [
        "0", "1", "-1", "2", "3", "10", "100", "-100", "1000", "65535", "65536", "2147483647", "2147483648",
        "-2147483648", "-2147483649", "4294967295", "4294967296", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999999", "536870912", "536870911", "1e10",
        "1.5", "-0.0", "0.1", "inf", "-inf", "+inf", "nan", "1.7976931348623157e308", "4.9e-324", "", " 1", "1 ",
        "0x10", "01", "+1", "--1", "1e", "abc",
    ];

    private static readonly string[] Keywords =
    [
        "NX", "XX", "GT", "LT", "EX", "PX", "EXAT", "PXAT", "KEEPTTL", "GET", "PERSIST", "COUNT", "MATCH", "TYPE",
        "WITHSCORES", "LIMIT", "REV", "BYSCORE", "BYLEX", "STORE", "ASYNC", "SYNC", "ID", "ADDR", "LADDR", "USER",
        "SKIPME", "MAXAGE", "ON", "OFF", "SKIP", "YES", "NO", "REPLACE", "ABSTTL", "IDLETIME", "FREQ", "DB", "COPY",
        "AUTH", "SETNAME", "LIBRARYNAME", "WITHCODE", "normal", "pubsub", "master", "replica", "string", "hash",
        "list", "set", "zset", "stream", "*", "?", "[", "\\", "[a-", "*\\", "default", "all", "everything",
    ];

    private static readonly (string Name, string[] Values)[] SafeConfig =
    [
        ("hash-max-listpack-entries", ["0", "1", "128", "-1", "9999999999"]),
        ("set-max-intset-entries", ["0", "1", "512", "x"]),
        ("zset-max-listpack-value", ["0", "64", "-5"]),
        ("list-max-listpack-size", ["-2", "-5", "1", "0", "9999"]),
        ("slowlog-log-slower-than", ["0", "-1", "10000"]),
        ("slowlog-max-len", ["0", "1", "128"]),
        ("notify-keyspace-events", ["", "KEA", "Ex", "zz"]),
        ("latency-tracking", ["yes", "no", "maybe"]),
        ("proto-max-bulk-len", ["1mb", "512mb", "2mb"]),
        ("client-query-buffer-limit", ["1mb", "1gb"]),
        ("appendfsync", ["everysec", "no", "always", "bad"]),
        ("lazyfree-lazy-user-del", ["yes", "no"]),
        ("maxmemory-policy", ["noeviction", "allkeys-lru", "nonsense"]),
    ];

    private readonly byte[][] _keys = BuildKeys();

    private static byte[][] BuildKeys()
    {
        var keys = new List<byte[]>();
        for (int i = 0; i < 12; i++) keys.Add(Encoding.ASCII.GetBytes("k" + i));
        keys.Add([0xff, 0x00, 0x6b]);
        keys.Add([]);
        keys.Add([0x0d, 0x0a]);
        keys.Add(Encoding.ASCII.GetBytes("{tag}key"));
        return keys.ToArray();
    }

    /// <summary>One write's worth of input (one or more requests, or garbage).</summary>
    public byte[] Next()
    {
        int pick = rng.Next(100);
        if (pick < 40) return Encode(RandomCommand());
        if (pick < 55) return Pipeline();
        if (pick < 70) return Mutate(Encode(RandomCommand()));
        if (pick < 78) return HostileHeader();
        if (pick < 85) return Inline();
        if (pick < 90) return Encode(ConfigSet());
        return RandomBytes(rng.Next(1, 2048));
    }

    private byte[] Pipeline()
    {
        var ms = new MemoryStream();
        int n = rng.Next(2, 200);
        for (int i = 0; i < n; i++) ms.Write(Encode(RandomCommand()));
        return ms.ToArray();
    }

    public List<byte[]> RandomCommand()
    {
        var cmd = commands[rng.Next(commands.Count)];
        while (Rare.Contains(string.Join('|', cmd.Words)) && rng.Next(RareOneIn) != 0) cmd = commands[rng.Next(commands.Count)];
        var args = new List<byte[]>();
        foreach (var w in cmd.Words) args.Add(Encoding.ASCII.GetBytes(rng.Next(4) == 0 ? w.ToLowerInvariant() : w));
        int wanted = cmd.Arity > 0 ? cmd.Arity : -cmd.Arity + rng.Next(0, 6);
        if (rng.Next(10) == 0) wanted = rng.Next(0, 12); // wrong arity now and then
        for (int pos = args.Count; pos < wanted; pos++)
        {
            bool isKey = cmd.FirstKey > 0 && pos >= cmd.FirstKey && (cmd.LastKey < 0 || pos <= cmd.LastKey)
                && (cmd.Step <= 1 || (pos - cmd.FirstKey) % cmd.Step == 0);
            args.Add(isKey && rng.Next(8) != 0 ? Key() : Argument());
        }
        return args;
    }

    private byte[] Key() => _keys[rng.Next(_keys.Length)];

    private byte[] Argument()
    {
        int pick = rng.Next(100);
        if (pick < 35) return Encoding.ASCII.GetBytes(Numbers[rng.Next(Numbers.Length)]);
        if (pick < 55) return Encoding.ASCII.GetBytes(Keywords[rng.Next(Keywords.Length)]);
        if (pick < 70) return Key();
        if (pick < 85) return RandomBytes(rng.Next(0, 64));
        if (pick < 97) return RandomBytes(rng.Next(64, 8 * 1024));
        return RandomBytes(rng.Next(8 * 1024, 128 * 1024));
    }

    public List<byte[]> ConfigSet()
    {
        var (name, values) = SafeConfig[rng.Next(SafeConfig.Length)];
        return [Encoding.ASCII.GetBytes("CONFIG"), Encoding.ASCII.GetBytes("SET"), Encoding.ASCII.GetBytes(name),
            Encoding.ASCII.GetBytes(values[rng.Next(values.Length)])];
    }

    /// <summary>Announced sizes that never arrive whole: huge, negative, overflowing, nested.</summary>
    private byte[] HostileHeader()
    {
        string[] counts = ["1048576", "2147483647", "2147483648", "-1", "-2", "0", "99999999999999999999", "1024", "536870912", "536870000", "abc", ""];
        var sb = new StringBuilder();
        switch (rng.Next(5))
        {
            case 0:
                sb.Append('*').Append(counts[rng.Next(counts.Length)]).Append("\r\n");
                break;
            case 1:
                sb.Append("*2\r\n$4\r\nECHO\r\n$").Append(counts[rng.Next(counts.Length)]).Append("\r\n");
                break;
            case 2:
                sb.Append("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$").Append(rng.Next(1, 100_000)).Append("\r\n").Append('x', rng.Next(0, 1000));
                break;
            case 3:
                sb.Append("*1\r\n*1\r\n$4\r\nPING\r\n");
                break;
            default:
                sb.Append('*').Append(rng.Next(1, 5000)).Append("\r\n");
                for (int i = rng.Next(0, 20); i > 0; i--) sb.Append("$1\r\na\r\n");
                break;
        }
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    /// <summary>Inline commands: quotes, escapes, long lines, bare newlines.</summary>
    private byte[] Inline()
    {
        string[] parts = ["PING", "GET k1", "SET k1 \"a b\"", "ECHO 'x\\'y'", "SET \"\\xff\\x00\" v", "\"unbalanced", "'", "\\x", "   ", "ECHO \"\\x4", "GET k\\"];
        var sb = new StringBuilder();
        for (int i = rng.Next(1, 10); i > 0; i--)
        {
            sb.Append(parts[rng.Next(parts.Length)]);
            if (rng.Next(20) == 0) sb.Append('a', rng.Next(1000, 70_000));
            sb.Append(rng.Next(4) == 0 ? "\n" : "\r\n");
        }
        return Encoding.Latin1.GetBytes(sb.ToString());
    }

    private byte[] Mutate(byte[] input)
    {
        var list = new List<byte>(input);
        for (int m = rng.Next(1, 4); m > 0 && list.Count > 0; m--)
        {
            int at = rng.Next(list.Count);
            switch (rng.Next(6))
            {
                case 0: list[at] = (byte)rng.Next(256); break;
                case 1: list.RemoveRange(at, Math.Min(list.Count - at, rng.Next(1, 16))); break;
                case 2: list.InsertRange(at, RandomBytes(rng.Next(1, 16))); break;
                case 3: list.InsertRange(at, list.GetRange(at, Math.Min(list.Count - at, rng.Next(1, 64)))); break;
                case 4: list.InsertRange(at, Encoding.ASCII.GetBytes(Numbers[rng.Next(Numbers.Length)])); break;
                default: list.RemoveRange(at, list.Count - at); break; // truncated mid-request
            }
        }
        return list.ToArray();
    }

    private byte[] RandomBytes(int n)
    {
        var b = new byte[n];
        rng.NextBytes(b);
        return b;
    }

    public static byte[] Encode(List<byte[]> args)
    {
        var ms = new MemoryStream();
        ms.Write(Encoding.ASCII.GetBytes($"*{args.Count}\r\n"));
        foreach (var a in args)
        {
            ms.Write(Encoding.ASCII.GetBytes($"${a.Length}\r\n"));
            ms.Write(a);
            ms.Write("\r\n"u8);
        }
        return ms.ToArray();
    }

    /// <summary>A short printable form of an input for failure reports (C-style escapes, cut at 300 bytes).</summary>
    public static string Show(byte[] input)
    {
        var sb = new StringBuilder();
        foreach (byte b in input.AsSpan(0, Math.Min(input.Length, 300)))
        {
            if (b == '\r') sb.Append("\\r");
            else if (b == '\n') sb.Append("\\n");
            else if (b == '\\') sb.Append("\\\\");
            else if (b == '"') sb.Append("\\\"");
            else if (b >= 0x20 && b < 0x7f) sb.Append((char)b);
            else sb.Append($"\\x{b:x2}");
        }
        if (input.Length > 300) sb.Append($"... ({input.Length} bytes)");
        return sb.ToString();
    }
}
