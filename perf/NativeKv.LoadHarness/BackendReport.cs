using System.Globalization;
using System.Text;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness;

/// <summary>
/// The --backends report: one table with both backends side by side and io_uring/epoll ratios, the
/// system-call mix, and the issue's bar (pipeline 1, 50 clients: io_uring at least 30% less server CPU
/// per request than epoll). CSV: backends.csv (medians), backend-samples.csv (every run).
/// </summary>
sealed class BackendReport(RunInfo info, BackendResults results, SyscallCounter? counter, string? counterMissing) : IRunReport
{
    public string Files => "report.md, backends.csv, backend-samples.csv, logs/";

    /// <summary>The issue's bar: io_uring CPU/request at most this fraction of epoll's at P1 with 50 clients.</summary>
    public const double CpuBar = 0.70;
    const string Epoll = "epoll", Uring = "io_uring";

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    IEnumerable<Scenario> Rows => info.Scenarios;

    public void WriteTo(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "report.md"), Markdown());
        File.WriteAllText(Path.Combine(folder, "backends.csv"), MediansCsv());
        File.WriteAllText(Path.Combine(folder, "backend-samples.csv"), SamplesCsv());
    }

    double? Median(Scenario s, string server, Func<ThroughputSample, double> metric) =>
        Stats.Median(results.Runs.For(s.Name, server).Select(metric));

    double? SyscallsPerRequest(Scenario s, string server) =>
        Stats.Median(results.SyscallsFor(s.Name, server).Select(x => x.PerRequest));

    static double? Ratio(double? uring, double? epoll) => uring is double a && epoll is double b && b > 0 ? a / b : null;

    // ---------------------------------------------------------------- Markdown

    public string Markdown()
    {
        var o = info.Options;
        var m = info.Machine;
        var md = new StringBuilder();
        md.AppendLine("# NativeKv reactor backends: epoll vs io_uring").AppendLine();
        md.AppendLine($"- Command: `{info.Command}`");
        md.AppendLine($"- Date: {info.StartedUtc:yyyy-MM-dd HH:mm} UTC, took {info.Elapsed:m\\m\\ ss\\s}; NativeKv built from git {info.GitRevision}");
        md.AppendLine($"- Machine: {m.CpuModel}, {m.LogicalCpus} logical CPUs, {m.MemoryBytes / (double)(1L << 30):F1} GiB RAM, " +
                      $"Linux {m.Kernel} ({m.Os}); load average at start {m.LoadAverage}");
        var nk = info.Servers.FirstOrDefault();
        md.AppendLine($"- Servers: {nk?.Version ?? "NativeKv"}, started twice: `--io-backend epoll` and `--io-backend io_uring`, " +
                      $"each `--io-threads {o.IoThreads} {nk?.DescribePersistence(Servers.Persistence.Off)}`, pinned to CPU {o.ServerCpu} " +
                      "(`taskset`), loopback; backend confirmed with INFO's `multiplexing_api`; " +
                      (o.Keys > 0 && Rows.Any(r => r.Test == "get") ? $"both loaded with {o.Keys:N0} keys of {o.DataSize} bytes first (GET hits)" : "no key set loaded"));
        var sizing = o.Requests is int n
            ? $"{n:N0} requests per P1 run, {5 * n:N0} per P16 run"
            : $"each run sized from its warm-up's rate to last about {o.Seconds.ToString("0.#", Inv)} s";
        md.AppendLine($"- Load: {info.BenchmarkVersion} pinned to CPU {o.ClientCpu}, {o.DataSize}-byte values, keyspace {o.Keys:N0} (`-r`); " +
                      $"{sizing}, after an unmeasured warm-up; median of {o.Rounds} round{(o.Rounds == 1 ? "" : "s")}, " +
                      "backends interleaved (epoll first in odd rounds, io_uring first in even ones)");
        md.AppendLine("- CPU/request = server utime+stime (/proc/PID/stat, all threads) over the measured run ÷ requests");
        md.AppendLine("- Syscalls/request = " + (counter is null
            ? $"not measured: {counterMissing}"
            : $"{counter.Description}: a baseline run of max(1,000, clients × pipeline) requests and one of about a quarter of the " +
              "measured run's length (≥ 10 × the baseline); (calls of the long run − calls of the baseline) ÷ (difference in requests), so " +
              "connecting and closing the clients cancel out (backend-samples.csv also has the long run's raw calls ÷ requests)"));
        md.AppendLine("- Ratios are io_uring ÷ epoll: requests/s higher is better; CPU and system calls lower is better");
        md.AppendLine();

        md.AppendLine("| scenario | req/s epoll | req/s io_uring | ratio | p50 / p99 ms epoll | p50 / p99 ms io_uring | CPU µs/req epoll | CPU µs/req io_uring | ratio | syscalls/req epoll | syscalls/req io_uring | ratio |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var s in Rows)
        {
            md.Append($"| {s.Title} |");
            Cells(md, s, x => x.Rps, v => v.ToString("N0", Inv));
            foreach (var b in (string[])[Epoll, Uring])
            {
                var p50 = Median(s, b, x => x.P50Ms);
                var p99 = Median(s, b, x => x.P99Ms);
                md.Append(p50 is double a && p99 is double c ? $" {Ms(a)} / {Ms(c)} |" : $" {NotAvailable(s, b)} |");
            }
            Cells(md, s, x => x.CpuUsPerRequest, v => v.ToString("F2", Inv));
            var se = SyscallsPerRequest(s, Epoll);
            var su = SyscallsPerRequest(s, Uring);
            md.Append($" {(se is double e ? e.ToString("F3", Inv) : SyscallNotAvailable(s, Epoll))} |");
            md.Append($" {(su is double u ? u.ToString("F3", Inv) : SyscallNotAvailable(s, Uring))} |");
            md.Append($" {RatioText(Ratio(su, se))} |");
            md.AppendLine();
        }
        md.AppendLine();

        md.AppendLine("**Bar** (issue 5): at pipeline 1 with 50 clients, io_uring uses at least 30% less server CPU per request than " +
                      $"epoll (io_uring/epoll ≤ {CpuBar.ToString("0.00", Inv)}): {BarVerdict()}").AppendLine();

        if (results.Syscalls.Count > 0)
        {
            md.AppendLine("### System calls per request, by call (counting runs, median)").AppendLine();
            md.AppendLine("| scenario | epoll | io_uring |");
            md.AppendLine("|---|---|---|");
            foreach (var s in Rows)
                md.AppendLine($"| {s.Title} | {Mix(s, Epoll)} | {Mix(s, Uring)} |");
            md.AppendLine();
        }

        var notes = results.Runs.Notes.Distinct().ToList();
        foreach (var ((scenario, server), (rounds, why)) in results.Runs.Misses)
        {
            var title = Rows.FirstOrDefault(s => s.Name == scenario)?.Title ?? scenario;
            if (results.Runs.For(scenario, server).Any())
                notes.Add($"{server}, {title}: {rounds} round{(rounds == 1 ? "" : "s")} left out of the median ({why}).");
        }
        if (_footnotes.Count + notes.Count > 0)
        {
            md.AppendLine("## Notes").AppendLine();
            for (int i = 0; i < _footnotes.Count; i++) md.AppendLine($"{i + 1}. {_footnotes[i]}");
            foreach (var note in notes) md.AppendLine($"- {note}");
            md.AppendLine();
        }
        var text = md.ToString();
        _footnotes.Clear();
        return text;
    }

    void Cells(StringBuilder md, Scenario s, Func<ThroughputSample, double> metric, Func<double, string> format)
    {
        var e = Median(s, Epoll, metric);
        var u = Median(s, Uring, metric);
        md.Append($" {(e is double a ? format(a) : NotAvailable(s, Epoll))} |");
        md.Append($" {(u is double b ? format(b) : NotAvailable(s, Uring))} |");
        md.Append($" {RatioText(Ratio(u, e))} |");
    }

    /// <summary>"GET 0.62 (rounds 0.58, 0.62, 0.66), SET 0.71 (...) → met" for the P1, 50-client rows.</summary>
    public string BarVerdict()
    {
        var bar = Rows.Where(s => s.Pipeline == 1 && s.Clients == 50).ToList();
        if (bar.Count == 0) return "not evaluated (no pipeline-1, 50-client scenario in this run)";
        var parts = new List<string>();
        bool all = true, any = false;
        foreach (var s in bar)
        {
            var ratio = Ratio(Median(s, Uring, x => x.CpuUsPerRequest), Median(s, Epoll, x => x.CpuUsPerRequest));
            if (ratio is not double r) { parts.Add($"{s.CsvTestName} n/a"); all = false; continue; }
            any = true;
            if (r > CpuBar) all = false;
            var perRound = results.Runs.For(s.Name, Uring)
                .Join(results.Runs.For(s.Name, Epoll), u => u.Round, e => e.Round, (u, e) => u.CpuUsPerRequest / e.CpuUsPerRequest)
                .Select(v => v.ToString("F2", Inv)).ToList();
            parts.Add($"{s.CsvTestName} {r.ToString("F2", Inv)} ({Math.Abs(1 - r) * 100:F0}% {(r <= 1 ? "less" : "more")})" +
                      (perRound.Count > 1 ? $" [rounds: {string.Join(", ", perRound)}]" : ""));
        }
        var verdict = !any ? "**not evaluated**" : all ? "**met**" : "**not met**";
        return $"{string.Join("; ", parts)} → {verdict}";
    }

    string Mix(Scenario s, string server)
    {
        var samples = results.SyscallsFor(s.Name, server).ToList();
        if (samples.Count == 0) return "–";
        var names = samples.SelectMany(x => x.ByName.Keys).Distinct();
        var perCall = names.Select(n => (Name: n, PerRequest: Stats.Median(samples.Select(x => x.PerRequestOf(n))) ?? 0))
                           .Where(x => x.PerRequest >= 0.0005)
                           .OrderByDescending(x => x.PerRequest).ToList();
        var other = Stats.Median(samples.Select(x => x.PerRequest - x.ByName.Keys.Sum(x.PerRequestOf))) ?? 0;
        var shown = perCall.Take(5).Select(x => $"{x.Name} {Calls(x.PerRequest)}").ToList();
        double rest = perCall.Skip(5).Sum(x => x.PerRequest) + Math.Max(0, other);
        if (rest >= 0.0005) shown.Add($"other {Calls(rest)}");
        return shown.Count > 0 ? string.Join(", ", shown) : "–";
    }

    static string Calls(double perRequest) => perRequest.ToString(perRequest < 0.1 ? "F3" : "F2", Inv);


    readonly List<string> _footnotes = [];

    string NotAvailable(Scenario s, string server) => Footnote(results.Runs.FailureOf(s.Name, server), server);

    string SyscallNotAvailable(Scenario s, string server) =>
        Footnote(results.Runs.FailureOf(s.Name, server) ?? results.SyscallFailures.GetValueOrDefault((s.Name, server)), server);

    string Footnote(string? why, string server)
    {
        if (why is null) return "–";
        var text = $"{server}: {why}";
        int index = _footnotes.IndexOf(text);
        if (index < 0) { _footnotes.Add(text); index = _footnotes.Count - 1; }
        return $"n/a [{index + 1}]";
    }

    static string RatioText(double? r) => r is double v ? $"{v.ToString("F2", Inv)}×" : "–";

    static string Ms(double v) => v.ToString(v < 10 ? "F3" : "F1", Inv);

    // ---------------------------------------------------------------- CSV

    string MediansCsv()
    {
        var csv = new StringBuilder("scenario,test,pipeline,clients,server,samples,rps,avg_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_request,syscall_samples,syscalls_per_request,rps_uring_vs_epoll,cpu_uring_vs_epoll,syscalls_uring_vs_epoll,failure\n");
        foreach (var s in Rows)
            foreach (var b in (string[])[Epoll, Uring])
            {
                var samples = results.Runs.For(s.Name, b).ToList();
                double? M(Func<ThroughputSample, double> f) => Stats.Median(samples.Select(f));
                bool u = b == Uring;
                csv.AppendLine(string.Join(',',
                    s.Name, s.Test, s.Pipeline.ToString(Inv), (s.Clients ?? info.Options.Clients).ToString(Inv), b,
                    samples.Count.ToString(Inv), Num(M(x => x.Rps)), Num(M(x => x.AvgMs)), Num(M(x => x.P50Ms)),
                    Num(M(x => x.P95Ms)), Num(M(x => x.P99Ms)), Num(M(x => x.MaxMs)), Num(M(x => x.CpuUsPerRequest)),
                    results.SyscallsFor(s.Name, b).Count().ToString(Inv), Num(SyscallsPerRequest(s, b)),
                    u ? Num(Ratio(Median(s, Uring, x => x.Rps), Median(s, Epoll, x => x.Rps))) : "",
                    u ? Num(Ratio(Median(s, Uring, x => x.CpuUsPerRequest), Median(s, Epoll, x => x.CpuUsPerRequest))) : "",
                    u ? Num(Ratio(SyscallsPerRequest(s, Uring), SyscallsPerRequest(s, Epoll))) : "",
                    Quote(results.Runs.FailureOf(s.Name, b) ?? results.SyscallFailures.GetValueOrDefault((s.Name, b)))));
            }
        return csv.ToString();
    }

    string SamplesCsv()
    {
        var calls = results.Syscalls.SelectMany(x => x.ByName.Keys).Distinct()
                           .OrderBy(n => Array.IndexOf(SyscallCounter.InterestingCalls, n) is int i && i >= 0 ? i : int.MaxValue)
                           .ThenBy(n => n, StringComparer.Ordinal).ToList();
        var csv = new StringBuilder("round,scenario,server,requests,seconds,rps,avg_ms,min_ms,p50_ms,p95_ms,p99_ms,max_ms,cpu_us_per_request," +
                                    "syscall_baseline_requests,syscall_baseline_calls,syscall_run_requests,syscall_run_calls,syscalls_per_request,raw_syscalls_per_request" +
                                    string.Concat(calls.Select(c => ",per_request_" + c)) + "\n");
        foreach (var x in results.Runs.Throughput)
        {
            var sc = results.Syscalls.FirstOrDefault(y => y.Round == x.Round && y.Scenario == x.Scenario && y.Server == x.Server);
            csv.AppendLine(string.Join(',', x.Round.ToString(Inv), x.Scenario, x.Server, x.Requests.ToString(Inv),
                Num(x.Seconds), Num(x.Rps), Num(x.AvgMs), Num(x.MinMs), Num(x.P50Ms), Num(x.P95Ms), Num(x.P99Ms),
                Num(x.MaxMs), Num(x.CpuUsPerRequest),
                sc?.BaselineRequests.ToString(Inv) ?? "", sc?.BaselineSyscalls.ToString(Inv) ?? "",
                sc?.Requests.ToString(Inv) ?? "", sc?.Syscalls.ToString(Inv) ?? "", Num(sc?.PerRequest), Num(sc?.RawPerRequest))
                + string.Concat(calls.Select(c => "," + (sc is null ? "" : Num(sc.PerRequestOf(c))))));
        }
        return csv.ToString();
    }

    static string Num(double? v) => v is double d ? d.ToString("0.######", Inv) : "";

    static string Quote(string? s) => s is null ? "" : "\"" + s.Replace("\"", "\"\"") + "\"";
}
