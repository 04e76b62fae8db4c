namespace NativeKv.LoadHarness;

/// <summary>The harness's command line.</summary>
sealed class HarnessOptions
{
    public const string Usage = """
        Usage: ./build.sh bench [options]      (= perf/bench.sh [options])

        Starts nativekv, redis-server and garnet-server pinned to one CPU, drives each with
        redis-benchmark pinned to another, interleaving the servers round by round, and reports
        medians over the rounds (Markdown on stdout; Markdown + CSV in perf/results/<timestamp>/).

        Options:
          --quick                 one short round (about 3 minutes, 1M-key ltm included) instead of the
                                  full run (about 12)
          --rounds N              rounds per scenario (default 5; --quick: 1)
          --seconds S             length of each measured run (default 2; --quick: 1): its request
                                  count comes from the rate of the warm-up run before it
          --requests N            fixed request counts instead: N per pipeline-1 run, 5 x N per
                                  pipeline-16 run (AOF runs: N)
          --server-cpu N          CPU the servers are pinned to (default 0)
          --client-cpu N          CPU redis-benchmark / redis-cli are pinned to (default 1)
          --servers LIST          comma-separated subset of nativekv,redis,garnet (default all three)
          --scenarios LIST        comma-separated names or name parts (default all):
                                  memory, set-p1, get-p16, ..., hset-p1, spop-p16, aof-always, aof-everysec, ltm;
                                  "set" = set-p1,set-p16; "p16" = every pipelined run; "aof" = both AOF runs;
                                  hset, hget, sadd, spop (redis-benchmark -t hset,sadd,spop; myset filled before
                                  each SPOP run; hget = HGET myhash:hget element:__rand_int__ -r 50000 over a
                                  hash of 50,000 fields loaded first); "collections" = those four
          --clients N             redis-benchmark -c (default 50)
          --data-size N           value size in bytes, redis-benchmark -d (default 100)
          --keys N                keys loaded for the memory scenario and redis-benchmark -r (default 1000000)
          --ports FROM-TO         loopback ports the servers may use (default 17100-30000)
          --out DIR               results folder (default perf/results)
          --nativekv PATH         NativeKv binary (default artifacts/nativekv)
          --garnet-dir DIR        garnet-server tool folder (default perf/.tools/garnet)
          -h, --help              this text

        Larger than memory (last in the full run and in --quick; alone with --ltm, about 2 minutes):
          --ltm                   only this scenario (= --scenarios ltm): NativeKv --maxmemory 64mb
                                  --io-threads 1 and Garnet --storage-tier --memory 64m --index 128m,
                                  one after the other, each fresh: load --ltm-keys SETs with redis-cli
                                  --pipe while a probe PINGs every 10 ms (worst reply, how many over
                                  50 ms), RSS, DBSIZE, index size, then random GET P1 and P16 and SET
                                  P16 over those keys (-r N); one round; NativeKv/Garnet ratios
          --ltm-keys N            keys loaded (default 5000000; --quick: 1000000)

        Backend comparison (./build.sh bench --backends [--quick]):
          --backends              (3 rounds of 2 s; --quick: 1 round of 1 s) instead of the above: NativeKv twice, --io-backend epoll and
                                  --io-backend io_uring (--io-threads 1, persistence off), both loaded
                                  with the key set, interleaved round by round (order alternates);
                                  GET and SET at pipeline 1 and 16 for each client count; reports
                                  requests/s, p50/p99, server CPU per request and system calls per
                                  request (separate counting run), with io_uring/epoll ratios
          --clients LIST          with --backends: client counts (default 50,500)
          --io-threads N          with --backends: NativeKv reactors (default 1)
          --syscalls HOW          with --backends: auto (default: perf if it can count the
                                  raw_syscalls:sys_enter tracepoint, else strace), perf, strace, none
        """;

    public bool Quick { get; private set; }
    public bool Help { get; private set; }
    public int Rounds { get; private set; }
    /// <summary>Fixed requests per P1 run, or null: runs are sized to last <see cref="Seconds"/>.</summary>
    public int? Requests { get; private set; }
    public double Seconds { get; private set; }
    public int ServerCpu { get; private set; }
    public int ClientCpu { get; private set; } = 1;
    public IReadOnlyList<string> Servers { get; private set; } = ["nativekv", "redis", "garnet"];
    public string? ScenarioFilter { get; private set; }
    public int Clients { get; private set; } = 50;
    public int DataSize { get; private set; } = 100;
    public int Keys { get; private set; } = 1_000_000;
    public string OutputFolder { get; private set; } = Path.Combine("perf", "results");
    public string NativeKvBinary { get; private set; } = Path.Combine("artifacts", "nativekv");
    public string GarnetFolder { get; private set; } = Path.Combine("perf", ".tools", "garnet");
    /// <summary>--ports: the range the servers' ports come from.</summary>
    public (int First, int Last) Ports { get; private set; } = (17100, 30000);

    /// <summary>Keys of the larger-than-memory scenario (--ltm-keys; 5M, --quick 1M: both past the 64 MB budget).</summary>
    public int LtmKeys { get; private set; }

    /// <summary>--backends: NativeKv's epoll backend against its io_uring backend.</summary>
    public bool Backends { get; private set; }
    /// <summary>--backends: the client counts (--clients as a list; default 50 and 500).</summary>
    public IReadOnlyList<int> ClientCounts { get; private set; } = [50, 500];
    public int IoThreads { get; private set; } = 1;
    /// <summary>--backends: auto, perf, strace or none.</summary>
    public string SyscallCounter { get; private set; } = "auto";

    /// <summary>The arguments as given, for the report's "command" line.</summary>
    public IReadOnlyList<string> RawArguments { get; private set; } = [];

    public static HarnessOptions Parse(string[] args)
    {
        var o = new HarnessOptions { RawArguments = args };
        int? rounds = null;
        double? seconds = null;
        int[]? clients = null;
        int? ltmKeys = null;
        bool ltm = false;
        for (int i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            string? inline = null;
            int eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0) (arg, inline) = (arg[..eq], arg[(eq + 1)..]);

            string Value() => inline ?? (i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value"));
            int Int(int min) => int.TryParse(Value(), out var v) && v >= min ? v : throw new ArgumentException($"{arg} needs an integer >= {min}");

            switch (arg)
            {
                case "--quick": o.Quick = true; break;
                case "-h" or "--help": o.Help = true; break;
                case "--rounds": rounds = Int(1); break;
                case "--requests": o.Requests = Int(1000); break;
                case "--seconds":
                    seconds = double.TryParse(Value(), System.Globalization.NumberStyles.Float,
                                              System.Globalization.CultureInfo.InvariantCulture, out var sec) && sec >= 0.1
                        ? sec : throw new ArgumentException("--seconds needs a number >= 0.1");
                    break;
                case "--server-cpu": o.ServerCpu = Int(0); break;
                case "--client-cpu": o.ClientCpu = Int(0); break;
                case "--servers": o.Servers = ParseServers(Value()); break;
                case "--scenarios": o.ScenarioFilter = Value(); break;
                case "--clients":
                    clients = Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                     .Select(c => int.TryParse(c, out var v) && v >= 1 ? v : throw new ArgumentException("--clients needs integers >= 1"))
                                     .Distinct().ToArray();
                    if (clients.Length == 0) throw new ArgumentException("--clients needs a value");
                    break;
                case "--backends": o.Backends = true; break;
                case "--io-threads": o.IoThreads = Int(1); break;
                case "--syscalls":
                    o.SyscallCounter = Value().ToLowerInvariant();
                    if (o.SyscallCounter is not ("auto" or "perf" or "strace" or "none"))
                        throw new ArgumentException("--syscalls: one of auto, perf, strace, none");
                    break;
                case "--data-size": o.DataSize = Int(1); break;
                case "--keys": o.Keys = Int(1); break;
                case "--out": o.OutputFolder = Value(); break;
                case "--ltm": ltm = true; break;
                case "--ltm-keys": ltmKeys = Int(1); break;
                case "--ports":
                    var range = Value().Split('-');
                    o.Ports = range.Length == 2 && int.TryParse(range[0], out var first) && int.TryParse(range[1], out var last)
                              && first >= 1024 && last <= 65535 && last >= first + 2
                        ? (first, last) : throw new ArgumentException("--ports needs FROM-TO (1024-65535, at least 3 ports)");
                    break;
                case "--nativekv": o.NativeKvBinary = Value(); break;
                case "--garnet-dir": o.GarnetFolder = Value(); break;
                default: throw new ArgumentException($"unknown option '{args[i]}'");
            }
        }
        o.Rounds = rounds ?? (o.Quick ? 1 : o.Backends ? 3 : 5);
        o.Seconds = seconds ?? (o.Quick ? 1 : 2);
        if (clients is not null)
        {
            if (clients.Length > 1 && !o.Backends) throw new ArgumentException("--clients takes one number (a list only with --backends)");
            o.Clients = clients[0];
            o.ClientCounts = clients;
        }
        // 1M keys of 100 B are still over twice the 64 MB budget (about 150 MB of log), in a quarter of the time.
        o.LtmKeys = ltmKeys ?? (o.Quick ? 1_000_000 : 5_000_000);
        if (ltm)
        {
            if (o.ScenarioFilter is not null) throw new ArgumentException("--ltm is --scenarios ltm: give one or the other");
            if (o.Backends) throw new ArgumentException("--ltm and --backends are separate runs");
            o.ScenarioFilter = "ltm";
        }
        if (o.ServerCpu == o.ClientCpu)
            throw new ArgumentException("--server-cpu and --client-cpu must differ");
        return o;
    }

    static string[] ParseServers(string list)
    {
        string[] known = ["nativekv", "redis", "garnet"];
        var names = list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                        .Select(n => n.ToLowerInvariant()).Distinct().ToArray();
        var unknown = names.Except(known).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"--servers: unknown '{string.Join("', '", unknown)}' (known: {string.Join(", ", known)})");
        if (names.Length == 0) throw new ArgumentException("--servers: empty list");
        return [.. known.Where(names.Contains)]; // report order is always nativekv, redis, garnet
    }
}
