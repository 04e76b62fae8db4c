using System.Globalization;
using System.Text;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>Everything the report states besides the measurements.</summary>
sealed record RunInfo(
    string Command, DateTime StartedUtc, TimeSpan Elapsed, MachineInfo Machine, string GitRevision,
    string BenchmarkVersion, HarnessOptions Options, IReadOnlyList<ServerSpec> Servers, IReadOnlyList<Scenario> Scenarios);

/// <summary>What a run leaves behind: files in the results folder and the Markdown printed at the end.</summary>
interface IRunReport
{
    /// <summary>The files <see cref="WriteTo"/> writes, for the closing message.</summary>
    string Files { get; }
    void WriteTo(string folder);
    string Markdown();
}

/// <summary>
/// Turns <see cref="Results"/> into the Markdown report (medians over rounds, ratios against Redis and
/// Garnet, footnotes for empty cells) and CSV files: throughput.csv and memory.csv (medians),
/// samples.csv and memory-samples.csv (every run), ltm.csv (the larger-than-memory scenario).
/// </summary>
sealed class Report(RunInfo info, Results results) : IRunReport
{
    public string Files => Main ? "report.md, throughput.csv, memory.csv, samples.csv, memory-samples.csv" + (Ltm ? ", ltm.csv" : "") + ", logs/"
                                : "report.md, ltm.csv, logs/";

    /// <summary>Scenarios besides the larger-than-memory one ran (--ltm runs it alone).</summary>
    bool Main => info.Scenarios.Any(s => s.Kind != ScenarioKind.LargerThanMemory);
    bool Ltm => info.Scenarios.Any(s => s.Kind == ScenarioKind.LargerThanMemory);

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    readonly List<string> _footnotes = [];

    IReadOnlyList<ServerSpec> Servers => info.Servers;
    ServerSpec? Find(string name) => Servers.FirstOrDefault(s => s.Name == name);

    public void WriteTo(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown());
        if (Main)
        {
            File.WriteAllText(Path.Combine(folder, "throughput.csv"), ThroughputCsv());
            File.WriteAllText(Path.Combine(folder, "memory.csv"), MemoryCsv());
            File.WriteAllText(Path.Combine(folder, "samples.csv"), SamplesCsv());
            File.WriteAllText(Path.Combine(folder, "memory-samples.csv"), MemorySamplesCsv());
        }
        if (Ltm) File.WriteAllText(Path.Combine(folder, "ltm.csv"), LtmReport().Csv());
    }

    // ---------------------------------------------------------------- Markdown

    public string Markdown()
    {
        _footnotes.Clear();
        var o = info.Options;
        var m = info.Machine;
        var md = new StringBuilder();
        md.AppendLine("# NativeKv side-by-side load test").AppendLine();
        md.AppendLine($"- Command: `{info.Command}`");
        md.AppendLine($"- Date: {info.StartedUtc:yyyy-MM-dd HH:mm} UTC, took {info.Elapsed:m\\m\\ ss\\s}; NativeKv built from git {info.GitRevision}");
        md.AppendLine($"- Machine: {m.CpuModel}, {m.LogicalCpus} logical CPUs, {m.MemoryBytes / (double)(1L << 30):F1} GiB RAM, " +
                      $"Linux {m.Kernel} ({m.Os}); load average at start {m.LoadAverage}");
        md.AppendLine($"- Servers: {string.Join(", ", Servers.Select(s => $"{s.DisplayName} ({s.Version})"))}; " +
                      $"each pinned to CPU {o.ServerCpu} (`taskset -c {o.ServerCpu}`), loopback, persistence off" +
                      (info.Scenarios.Any(s => s.Kind == ScenarioKind.Durability) ? " except in the AOF rows" : ""));
        if (!Main)
        {
            md.AppendLine();
            LtmReport().Markdown(md);
            Notes(md);
            return md.ToString();
        }
        var sizing = o.Requests is int n
            ? $"{n:N0} requests per P1 run, {5 * n:N0} per P16 run, {n:N0} per AOF run"
            : $"each run sized from its warm-up's rate to last about {o.Seconds.ToString("0.#", Inv)} s";
        md.AppendLine($"- Load: {info.BenchmarkVersion} pinned to CPU {o.ClientCpu}, {o.Clients} clients, {o.DataSize}-byte values, " +
                      $"keyspace {o.Keys:N0} (`-r`); {sizing}, after an unmeasured warm-up; median of {o.Rounds} " +
                      $"round{(o.Rounds == 1 ? "" : "s")}, servers interleaved round by round, the ones not being measured stopped (SIGSTOP) meanwhile");
        if (info.Scenarios.Any(s => s.Kind == ScenarioKind.Durability))
        {
            md.AppendLine("- AOF rows (one server per mode, kept for all its rounds): " + string.Join("; ", Servers.Select(s =>
                $"{s.DisplayName} `{s.DescribePersistence(Persistence.AofAlways)}` / `{s.DescribePersistence(Persistence.AofEverysec)}`")));
        }
        md.AppendLine("- CPU/request = server utime+stime (from /proc/PID/stat) over the run / requests; ratios are NativeKv ÷ other " +
                      "(rps: higher is better; CPU/request: lower is better)");
        md.AppendLine();

        var rows = info.Scenarios.Where(s => s.Kind is ScenarioKind.Throughput or ScenarioKind.Durability).ToList();
        if (rows.Count > 0)
        {
            md.AppendLine("## Throughput (requests/s)").AppendLine();
            RatioTable(md, rows, s => s.Rps, v => v.ToString("N0", Inv));
            md.AppendLine("## Server CPU per request (µs)").AppendLine();
            RatioTable(md, rows, s => s.CpuUsPerRequest, v => v.ToString("F2", Inv));
            md.AppendLine("## Latency p50 / p99 (ms)").AppendLine();
            LatencyTable(md, rows);
        }
        md.AppendLine("## Memory, start-up and size").AppendLine();
        MemoryTable(md);
        if (Ltm) LtmReport().Markdown(md);
        Notes(md);
        return md.ToString();
    }

    LargerThanMemoryReport LtmReport() => new(info, results.LargerThanMemory, Footnote);

    void Notes(StringBuilder md)
    {
        var notes = results.Notes.ToList();
        foreach (var ((scenario, server), (rounds, why)) in results.Misses)
        {
            var title = info.Scenarios.FirstOrDefault(s => s.Name == scenario)?.Title ?? scenario;
            if (results.For(scenario, server).Any())
                notes.Add($"{Find(server)?.DisplayName ?? server}, {title}: {rounds} round{(rounds == 1 ? "" : "s")} left out of the median ({why}).");
        }
        if (_footnotes.Count + notes.Count > 0)
        {
            md.AppendLine("## Notes").AppendLine();
            for (int i = 0; i < _footnotes.Count; i++) md.AppendLine($"{i + 1}. {_footnotes[i]}");
            foreach (var note in notes) md.AppendLine($"- {note}");
            md.AppendLine();
        }
    }

    void RatioTable(StringBuilder md, List<Scenario> rows, Func<ThroughputSample, double> metric, Func<double, string> format)
    {
        var others = Servers.Where(s => s.Name != "nativekv").ToList();
        bool ratios = Find("nativekv") is not null && others.Count > 0;
        md.Append("| scenario |");
        foreach (var s in Servers) md.Append($" {s.DisplayName} |");
        if (ratios) foreach (var s in others) md.Append($" NativeKv/{s.DisplayName} |");
        md.AppendLine();
        md.Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", Servers.Count + (ratios ? others.Count : 0)))).AppendLine();
        foreach (var scenario in rows)
        {
            md.Append($"| {scenario.Title} |");
            foreach (var s in Servers) md.Append($" {Cell(scenario, s, metric, format)} |");
            if (ratios)
            {
                var nk = Median(scenario, "nativekv", metric);
                foreach (var s in others)
                {
                    var other = Median(scenario, s.Name, metric);
                    md.Append(nk is double a && other is double b && b > 0 ? $" {(a / b).ToString("F2", Inv)}× |" : " – |");
                }
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    void LatencyTable(StringBuilder md, List<Scenario> rows)
    {
        md.Append("| scenario |");
        foreach (var s in Servers) md.Append($" {s.DisplayName} |");
        md.AppendLine();
        md.Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", Servers.Count))).AppendLine();
        foreach (var scenario in rows)
        {
            md.Append($"| {scenario.Title} |");
            foreach (var s in Servers)
            {
                var p50 = Median(scenario, s.Name, x => x.P50Ms);
                var p99 = Median(scenario, s.Name, x => x.P99Ms);
                md.Append(p50 is double a && p99 is double b ? $" {Ms(a)} / {Ms(b)} |" : $" {NotAvailable(scenario, s)} |");
            }
            md.AppendLine();
        }
        md.AppendLine();
    }

    void MemoryTable(StringBuilder md)
    {
        var memory = info.Scenarios.FirstOrDefault(s => s.Kind == ScenarioKind.Memory);
        md.Append("| |");
        foreach (var s in Servers) md.Append($" {s.DisplayName} |");
        md.AppendLine();
        md.Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", Servers.Count))).AppendLine();

        void Row(string title, Func<ServerSpec, string> cell)
        {
            md.Append($"| {title} |");
            foreach (var s in Servers) md.Append($" {cell(s)} |");
            md.AppendLine();
        }
        string Or(ServerSpec s, Scenario? scenario, double? value, Func<double, string> format) =>
            value is double v ? format(v) : scenario is null ? "–" : NotAvailable(scenario, s);

        Row("start-up to first PONG (ms)", s => Or(s, null, Stats.Median(results.MemoryFor(s.Name), x => x.StartupMs), v => v.ToString("F1", Inv)));
        Row("RSS, fresh (MB)", s => Or(s, null, Stats.Median(results.MemoryFor(s.Name), x => x.FreshRssBytes), v => (v / 1e6).ToString("F1", Inv)));
        if (memory is not null)
        {
            Row($"RSS with {info.Options.Keys:N0} keys (MB)", s => Or(s, memory,
                Stats.Median(results.MemoryFor(s.Name), x => x.LoadedRssBytes), v => (v / 1e6).ToString("F1", Inv)));
            Row("bytes per key (RSS growth / keys)", s => Or(s, memory,
                Stats.Median(results.MemoryFor(s.Name), x => x.BytesPerKey), v => v.ToString("F1", Inv)));
            Row($"load {info.Options.Keys:N0} keys with redis-cli --pipe (s)", s => Or(s, memory,
                Stats.Median(results.MemoryFor(s.Name), x => x.LoadSeconds), v => v.ToString("F2", Inv)));
        }
        Row("size on disk (MB)", s => s.SizeBytes > 0 ? $"{(s.SizeBytes / 1e6).ToString("F1", Inv)} ({s.SizeWhat})" : "–");
        md.AppendLine();
    }

    string Cell(Scenario scenario, ServerSpec server, Func<ThroughputSample, double> metric, Func<double, string> format) =>
        Median(scenario, server.Name, metric) is double v ? format(v) : NotAvailable(scenario, server);

    double? Median(Scenario scenario, string server, Func<ThroughputSample, double> metric) =>
        Stats.Median(results.For(scenario.Name, server).Select(metric));

    /// <summary>"n/a [k]" with footnote k giving the reason (identical reasons share a footnote).</summary>
    string NotAvailable(Scenario scenario, ServerSpec server)
    {
        var why = results.FailureOf(scenario.Name, server.Name);
        return why is null ? "–" : $"n/a [{Footnote($"{server.DisplayName}: {why}")}]";
    }

    /// <summary>The number of the footnote with this text (added if new; identical reasons share one).</summary>
    int Footnote(string text)
    {
        int index = _footnotes.IndexOf(text);
        if (index < 0) { _footnotes.Add(text); index = _footnotes.Count - 1; }
        return index + 1;
    }

    static string Ms(double v) => v.ToString(v < 10 ? "F3" : "F1", Inv);

    // ---------------------------------------------------------------- CSV

    string ThroughputCsv()
    {
        var csv = new StringBuilder("scenario,server,samples,rps,avg_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_request,rps_vs_redis,rps_vs_garnet,cpu_vs_redis,cpu_vs_garnet,failure\n");
        foreach (var scenario in info.Scenarios.Where(s => s.Kind is ScenarioKind.Throughput or ScenarioKind.Durability))
            foreach (var s in Servers)
            {
                var samples = results.For(scenario.Name, s.Name).ToList();
                double? M(Func<ThroughputSample, double> f) => Stats.Median(samples.Select(f));
                double? Ratio(Func<ThroughputSample, double> f, string other) =>
                    s.Name == "nativekv" && M(f) is double a && Median(scenario, other, f) is double b && b > 0 ? a / b : null;
                csv.AppendLine(string.Join(',',
                    scenario.Name, s.Name, samples.Count.ToString(Inv),
                    Num(M(x => x.Rps)), Num(M(x => x.AvgMs)), Num(M(x => x.P50Ms)), Num(M(x => x.P95Ms)),
                    Num(M(x => x.P99Ms)), Num(M(x => x.MaxMs)), Num(M(x => x.CpuUsPerRequest)),
                    Num(Ratio(x => x.Rps, "redis")), Num(Ratio(x => x.Rps, "garnet")),
                    Num(Ratio(x => x.CpuUsPerRequest, "redis")), Num(Ratio(x => x.CpuUsPerRequest, "garnet")),
                    Quote(results.FailureOf(scenario.Name, s.Name))));
            }
        return csv.ToString();
    }

    string MemoryCsv()
    {
        var csv = new StringBuilder("server,samples,startup_ms,rss_fresh_bytes,rss_loaded_bytes,keys,bytes_per_key,load_seconds,size_bytes,size_what,failure\n");
        foreach (var s in Servers)
        {
            var samples = results.MemoryFor(s.Name).ToList();
            csv.AppendLine(string.Join(',',
                s.Name, samples.Count.ToString(Inv),
                Num(Stats.Median(samples, x => x.StartupMs)), Num(Stats.Median(samples, x => x.FreshRssBytes)),
                Num(Stats.Median(samples, x => x.LoadedRssBytes)), info.Options.Keys.ToString(Inv),
                Num(Stats.Median(samples, x => x.BytesPerKey)), Num(Stats.Median(samples, x => x.LoadSeconds)),
                s.SizeBytes.ToString(Inv), Quote(s.SizeWhat), Quote(results.FailureOf("memory", s.Name))));
        }
        return csv.ToString();
    }

    string SamplesCsv()
    {
        var csv = new StringBuilder("round,scenario,server,requests,seconds,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_request\n");
        foreach (var x in results.Throughput)
            csv.AppendLine(string.Join(',', x.Round.ToString(Inv), x.Scenario, x.Server, x.Requests.ToString(Inv),
                Num(x.Seconds), Num(x.Rps), Num(x.AvgMs), Num(x.MinMs), Num(x.P50Ms), Num(x.P95Ms), Num(x.P99Ms),
                Num(x.MaxMs), Num(x.CpuUsPerRequest)));
        return csv.ToString();
    }

    string MemorySamplesCsv()
    {
        var csv = new StringBuilder("round,server,startup_ms,rss_fresh_bytes,rss_loaded_bytes,bytes_per_key,load_seconds\n");
        foreach (var x in results.Memory)
            csv.AppendLine(string.Join(',', x.Round.ToString(Inv), x.Server, Num(x.StartupMs), x.FreshRssBytes.ToString(Inv),
                x.LoadedRssBytes?.ToString(Inv) ?? "", Num(x.BytesPerKey), Num(x.LoadSeconds)));
        return csv.ToString();
    }

    static string Num(double? v) => v is double d ? d.ToString("0.######", Inv) : "";

    static string Quote(string? s) => s is null ? "" : "\"" + s.Replace("\"", "\"\"") + "\"";
}
