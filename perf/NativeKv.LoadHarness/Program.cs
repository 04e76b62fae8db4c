using NativeKv.LoadHarness;
using NativeKv.LoadHarness.Infrastructure;
using NativeKv.LoadHarness.Servers;

// The harness's own load generator for what redis-benchmark cannot send (BenchmarkRunner starts it pinned).
if (args.Length > 0 && args[0] == TransactionLoad.Command) return TransactionLoad.Run(args[1..]);
if (args.Length > 0 && args[0] == FanOutLoad.Command) return FanOutLoad.Run(args[1..]);

HarnessOptions options;
try
{
    options = HarnessOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}\n\n{HarnessOptions.Usage}");
    return 2;
}
if (options.Help)
{
    Console.WriteLine(HarnessOptions.Usage);
    return 0;
}

// Paths in the options are relative to the repository root (perf/bench.sh runs from there).
if (FindRepoRoot() is { } root) Directory.SetCurrentDirectory(root);

IReadOnlyList<Scenario> scenarios;
try
{
    scenarios = options.Backends ? Scenarios.SelectBackends(options.ScenarioFilter, options.ClientCounts)
                                 : Scenarios.Select(options.ScenarioFilter);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

foreach (var tool in new[] { "taskset", "redis-benchmark", "redis-cli" })
{
    if (ExternalCommand.Which(tool) is null)
    {
        Console.Error.WriteLine($"error: '{tool}' not found on PATH (perf/bench.sh installs redis-tools through apt)");
        return 2;
    }
}
int cpus = Environment.ProcessorCount;
if (options.ServerCpu >= cpus || options.ClientCpu >= cpus)
{
    Console.Error.WriteLine($"error: this process may use {cpus} CPUs (0-{cpus - 1}); --server-cpu {options.ServerCpu} / --client-cpu {options.ClientCpu} do not exist");
    return 2;
}

PortAllocator.UseRange(options.Ports.First, options.Ports.Last);
ChildProcesses.InstallExitHandlers();
var started = DateTime.UtcNow;
var stamp = started.ToString("yyyyMMdd-HHmmss");
var resultsFolder = Path.GetFullPath(Path.Combine(options.OutputFolder, stamp));
var scratch = Path.Combine(Path.GetTempPath(), $"nativekv-bench-{stamp}-{Environment.ProcessId}");
Directory.CreateDirectory(scratch);
ChildProcesses.TrackScratchFolder(scratch);

var machine = MachineInfo.Read();
var command = Environment.GetEnvironmentVariable("NKV_BENCH_COMMAND")
              ?? "dotnet run -c Release --project perf/NativeKv.LoadHarness --" + string.Concat(args.Select(a => " " + ShellQuote(a)));
Console.Error.WriteLine($"NativeKv load harness: {command}");
Console.Error.WriteLine($"machine: {machine.CpuModel}, {machine.LogicalCpus} CPUs, Linux {machine.Kernel}, load {machine.LoadAverage}");
Console.Error.WriteLine($"servers on CPU {options.ServerCpu}, clients on CPU {options.ClientCpu}; scratch {scratch}");

if (options.Backends)
    return RunBackends(options, scenarios, command, started, machine, resultsFolder, scratch);

var servers = options.Servers.Select(ServerSpec (name) => name switch
{
    "nativekv" => new NativeKvServer(Path.GetFullPath(options.NativeKvBinary)),
    "redis" => new RedisServer(),
    _ => new GarnetServer(Path.GetFullPath(options.GarnetFolder)),
}).ToList();
List<string> preNotes = [];
if (scenarios.All(s => s.Kind == ScenarioKind.LargerThanMemory))
{
    // --ltm alone: only the servers that can keep data on disk are started at all.
    if (servers.Any(s => s is RedisServer))
        preNotes.Add(LargerThanMemory.RedisNote);
    servers = [.. LargerThanMemory.Eligible(servers)];
    if (servers.Count == 0)
    {
        Console.Error.WriteLine("error: --ltm runs NativeKv and Garnet; --servers selected neither");
        return 2;
    }
}

var dataset = new DatasetLoader(options, Path.GetFullPath(Path.Combine("perf", ".tools", "datasets")));
try
{
    if (scenarios.Any(s => s.Kind == ScenarioKind.Memory))
    {
        Console.Error.WriteLine($"data set: {dataset.FilePath}");
        dataset.EnsureFile();
    }

    var results = new Harness(options, servers, scenarios, dataset, scratch).Run();
    results.Notes.InsertRange(0, preNotes);
    if (StaleBinaryNote() is { } stale) results.Notes.Insert(0, stale);
    var info = new RunInfo(command, started, DateTime.UtcNow - started, machine, MachineInfo.GitRevision(),
                           BenchmarkVersion(), options, servers, scenarios);
    return Publish(new Report(info, results), resultsFolder, scratch);
}
catch (OperationCanceledException)
{
    Console.Error.WriteLine("interrupted");
    return 130;
}
finally
{
    ChildProcesses.TearDown();
}

// --backends: NativeKv's epoll reactor backend against its io_uring one.
static int RunBackends(HarnessOptions options, IReadOnlyList<Scenario> scenarios, string command, DateTime started,
                       MachineInfo machine, string resultsFolder, string scratch)
{
    var binary = Path.GetFullPath(options.NativeKvBinary);
    List<NativeKvServer> servers = [new(binary, "epoll", options.IoThreads), new(binary, "io_uring", options.IoThreads)];
    var counter = SyscallCounter.Choose(options.SyscallCounter, out var counterMissing);
    Console.Error.WriteLine(counter is null ? $"system calls: not counted: {counterMissing}" : $"system calls: counted with {counter.Name}");

    bool needKeys = scenarios.Any(s => s.Test == "get");
    var dataset = needKeys ? new DatasetLoader(options, Path.GetFullPath(Path.Combine("perf", ".tools", "datasets"))) : null;
    try
    {
        if (dataset is not null)
        {
            Console.Error.WriteLine($"data set: {dataset.FilePath}");
            dataset.EnsureFile();
        }
        var results = new BackendHarness(options, servers, scenarios, dataset, counter, counterMissing, scratch).Run();
        if (StaleBinaryNote() is { } stale) results.Runs.Notes.Insert(0, stale);
        var info = new RunInfo(command, started, DateTime.UtcNow - started, machine, MachineInfo.GitRevision(),
                               BenchmarkVersion(), options, servers, scenarios);
        return Publish(new BackendReport(info, results, counter, counterMissing), resultsFolder, scratch);
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("interrupted");
        return 130;
    }
    finally
    {
        ChildProcesses.TearDown();
    }
}

static string? FindRepoRoot()
{
    foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeKv.sln"))) return dir.FullName;
    }
    return null;
}

// perf/bench.sh sets NKV_BENCH_STALE_BINARY when publishing failed and it measures the previous build.
static string? StaleBinaryNote() => Environment.GetEnvironmentVariable("NKV_BENCH_STALE_BINARY") == "1"
    ? "`./build.sh publish` failed, so artifacts/nativekv may be older than src/ (the binary measured is the previous build)."
    : null;

// Writes the report's files and the server logs, prints the Markdown, says where it all went.
static int Publish(IRunReport report, string resultsFolder, string scratch)
{
    report.WriteTo(resultsFolder);
    CopyServerLogs(scratch, Path.Combine(resultsFolder, "logs"));
    Console.WriteLine(report.Markdown());
    Console.Error.WriteLine($"written to {Path.GetRelativePath(Directory.GetCurrentDirectory(), resultsFolder)}/ ({report.Files})");
    return 0;
}

static string BenchmarkVersion()
{
    // "redis-benchmark 7.0.15"
    var text = ExternalCommand.Capture("redis-benchmark", "--version");
    return text is null ? "redis-benchmark" : string.Join(' ', text.Split(' ').Take(2));
}

static void CopyServerLogs(string scratch, string target)
{
    var logs = Directory.Exists(scratch) ? Directory.GetFiles(scratch, "*.log") : [];
    if (logs.Length == 0) return;
    Directory.CreateDirectory(target);
    foreach (var log in logs) File.Copy(log, Path.Combine(target, Path.GetFileName(log)), overwrite: true);
}

static string ShellQuote(string s) =>
    s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_=.,/:".Contains(c)) ? s : "'" + s.Replace("'", "'\\''") + "'";
