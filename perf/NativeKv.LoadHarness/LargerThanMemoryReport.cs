using System.Globalization;
using System.Text;
using NativeKv.LoadHarness.Servers;

namespace NativeKv.LoadHarness;

/// <summary>
/// The larger-than-memory section of the report (Markdown: the load and memory table and the random
/// requests table, NativeKv ÷ Garnet ratios) and ltm.csv (one row per metric, one column per server).
/// <paramref name="footnote"/> numbers a reason in the report's shared footnotes.
/// </summary>
sealed class LargerThanMemoryReport(RunInfo info, IReadOnlyList<LtmRun> runs, Func<string, int> footnote)
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>One row of the load table: its title, CSV name and unit, the number, how it is shown, whether a ratio means anything.</summary>
    sealed record Metric(string Title, string Name, string Unit, Func<LtmRun, double?> Value, Func<LtmRun, double, string> Format, bool Ratio);

    List<ServerSpec> Servers => [.. info.Servers.Where(s => runs.Any(r => r.Server == s.Name))];
    LtmRun? RunOf(string server) => runs.FirstOrDefault(r => r.Server == server);
    int Keys => runs.FirstOrDefault()?.Keys ?? info.Options.LtmKeys;

    IEnumerable<Metric> LoadMetrics()
    {
        static string F1(double v) => v.ToString("F1", Inv);
        static string F2(double v) => v.ToString("F2", Inv);
        static string Mb(double v) => (v / 1e6).ToString("F1", Inv);
        yield return new($"load {Keys:N0} keys with redis-cli --pipe (s)", "load_seconds", "s", r => r.LoadSeconds, (_, v) => F2(v), true);
        yield return new("server CPU per SET during the load (µs)", "load_cpu_us_per_set", "us", r => r.LoadCpuUsPerSet, (_, v) => F2(v), true);
        yield return new("RSS after the load (MB)", "rss_loaded_bytes", "bytes", r => r.LoadedRssBytes, (_, v) => Mb(v), true);
        yield return new("peak RSS, load and requests (VmHWM, MB)", "rss_peak_bytes", "bytes", r => r.PeakRssBytes, (_, v) => Mb(v), true);
        yield return new("hash index (MB)", "index_bytes", "bytes", r => r.IndexBytes, (r, v) => $"{Mb(v)} ({r.IndexSource})", true);
        yield return new("DBSIZE after the load", "dbsize_loaded", "keys", r => r.DbSizeLoaded, (_, v) => v.ToString("N0", Inv), false);
        yield return new($"PING every {LargerThanMemory.ProbeInterval.TotalMilliseconds:F0} ms during the load: worst reply (ms)", "ping_worst_ms", "ms",
                         r => r.Ping?.Pings > 0 ? r.Ping.WorstMs : null, (_, v) => F1(v), true);
        yield return new("PING during the load: p99 reply (ms)", "ping_p99_ms", "ms", r => r.Ping?.P99Ms, (_, v) => F2(v), true);
        yield return new($"PING during the load: replies over {LargerThanMemory.SlowPingMs:F0} ms", "pings_slow", "pings",
                         r => r.Ping?.Pings > 0 ? r.Ping.Slow : null, (r, v) => $"{v:N0} of {r.Ping!.Pings:N0}", false);
        yield return new("DBSIZE after the overwrites", "dbsize_end", "keys", r => r.DbSizeEnd, (_, v) => v.ToString("N0", Inv), false);
    }

    static IEnumerable<(Scenario Scenario, Func<LtmRun, ThroughputSample?> Sample)> Benchmarks() =>
        LargerThanMemory.Benchmarks.Select(s => (s, (Func<LtmRun, ThroughputSample?>)(s.Name switch
        {
            "ltm-get-p1" => r => r.GetP1,
            "ltm-get-p16" => r => r.GetP16,
            _ => r => r.SetP16,
        })));

    public void Markdown(StringBuilder md)
    {
        var servers = Servers;
        if (servers.Count == 0) return;
        var o = info.Options;
        md.AppendLine($"## Larger than memory: {Keys:N0} keys, {LargerThanMemory.MemoryMb} MB memory budget").AppendLine();
        md.AppendLine($"- Servers, each started fresh and alone on CPU {o.ServerCpu}: " + string.Join("; ", servers.Select(s => $"{s.DisplayName} `{Options(s)}`")) +
            $". Garnet's hash index ({LargerThanMemory.GarnetIndexMb} MB, `--index`) is allocated outside its `--memory`; NativeKv's is " +
            $"INFO memory `store_index_buckets` × {LargerThanMemory.BucketBytes} B (also outside `--maxmemory`, which bounds the log's pages)");
        md.AppendLine($"- Load: {Keys:N0} × `SET key:%012d <{o.DataSize}-byte value>` (generated RESP, {RespGenerator.Length(Keys, o.DataSize) / 1e6:F0} MB) " +
                      $"through `redis-cli --pipe` on CPU {o.ClientCpu}; meanwhile a probe thread (pinned to CPU {o.ClientCpu}) sends PING on its own " +
                      $"connection every {LargerThanMemory.ProbeInterval.TotalMilliseconds:F0} ms and times each reply. RSS = VmRSS 200 ms after the load");
        md.AppendLine($"- Then `redis-benchmark -t get|set -r {Keys} -c {o.Clients} -d {o.DataSize} [-P 16]`: random keys out of exactly the loaded ones " +
                      $"(`-r` makes `key:%012d`), so nearly every GET reads a record that is not in memory. Each run after an unmeasured warm-up, " +
                      $"sized to last about {o.Seconds.ToString("0.#", Inv)} s; one round; ratios NativeKv ÷ Garnet " +
                      "(requests/s: higher is better; time, CPU, memory, PING: lower is better)");
        md.AppendLine();

        bool ratios = servers.Any(s => s.Name == "nativekv") && servers.Any(s => s.Name == "garnet");
        md.Append("| |");
        foreach (var s in servers) md.Append($" {s.DisplayName} |");
        if (ratios) md.Append(" NativeKv/Garnet |");
        md.AppendLine();
        md.Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", servers.Count + (ratios ? 1 : 0)))).AppendLine();
        foreach (var m in LoadMetrics())
        {
            md.Append($"| {m.Title} |");
            foreach (var s in servers) md.Append($" {Cell(s, r => m.Value(r), m.Format)} |");
            if (ratios) md.Append($" {(m.Ratio ? Ratio(r => m.Value(r)) : "–")} |");
            md.AppendLine();
        }
        md.AppendLine();

        md.Append("| random requests over the loaded keys |");
        foreach (var s in servers) md.Append($" {s.DisplayName} rps |");
        if (ratios) md.Append(" NativeKv/Garnet |");
        foreach (var s in servers) md.Append($" {s.DisplayName} CPU µs/req |");
        if (ratios) md.Append(" NativeKv/Garnet |");
        foreach (var s in servers) md.Append($" {s.DisplayName} p50 / p99 ms |");
        md.AppendLine();
        md.Append("|---|").Append(string.Concat(Enumerable.Repeat("---:|", 3 * servers.Count + (ratios ? 2 : 0)))).AppendLine();
        foreach (var (scenario, sample) in Benchmarks())
        {
            string Title() => scenario.Test == "get" ? $"GET P{scenario.Pipeline}, cold" : $"SET P{scenario.Pipeline}, overwrites";
            md.Append($"| {Title()} |");
            foreach (var s in servers) md.Append($" {Cell(s, r => sample(r)?.Rps, (_, v) => v.ToString("N0", Inv))} |");
            if (ratios) md.Append($" {Ratio(r => sample(r)?.Rps)} |");
            foreach (var s in servers) md.Append($" {Cell(s, r => sample(r)?.CpuUsPerRequest, (_, v) => v.ToString("F2", Inv))} |");
            if (ratios) md.Append($" {Ratio(r => sample(r)?.CpuUsPerRequest)} |");
            foreach (var s in servers)
                md.Append($" {Cell(s, r => sample(r)?.P50Ms, (r, v) => $"{Ms(v)} / {Ms(sample(r)!.P99Ms)}")} |");
            md.AppendLine();
        }
        md.AppendLine();
        // Right after a load the first cold reads can be far slower than the measured run (Garnet: ~50 s for 5,000 GETs).
        string Warmups(ServerSpec s) => string.Join(" / ", LargerThanMemory.Benchmarks.Select(b =>
            RunOf(s.Name) is { } r && r.WarmupSeconds.TryGetValue(b.Name, out var w) ? w.ToString("F1", Inv) : "–"));
        md.AppendLine("Unmeasured warm-ups before the runs above (GET P1 / GET P16 / SET P16), wall-clock s: " +
                      string.Join("; ", servers.Select(s => $"{s.DisplayName} {Warmups(s)}")) + ".");
        md.AppendLine();
        // A failure after some numbers were in (DBSIZE after the overwrites) still gets its footnote.
        foreach (var s in servers)
            if (RunOf(s.Name)?.Failure is { } why) footnote($"{s.DisplayName}, larger than memory: {why}");
    }

    public string Csv()
    {
        var servers = Servers;
        bool ratios = servers.Any(s => s.Name == "nativekv") && servers.Any(s => s.Name == "garnet");
        var csv = new StringBuilder("metric,unit," + string.Join(',', servers.Select(s => s.Name)) + (ratios ? ",nativekv_vs_garnet" : "") + "\n");
        void Row(string name, string unit, Func<LtmRun, double?> value, bool ratio)
        {
            csv.Append(name).Append(',').Append(unit);
            foreach (var s in servers) csv.Append(',').Append(Num(RunOf(s.Name) is { } r ? value(r) : null));
            if (ratios) csv.Append(',').Append(ratio ? Num(RatioValue(value)) : "");
            csv.Append('\n');
        }
        Row("keys", "keys", r => r.Keys, false);
        foreach (var m in LoadMetrics()) Row(m.Name, m.Unit, m.Value, m.Ratio);
        Row("pings", "pings", r => r.Ping?.Pings, false);
        Row("ping_p50_ms", "ms", r => r.Ping?.P50Ms, true);
        foreach (var (scenario, sample) in Benchmarks())
        {
            var n = scenario.Name["ltm-".Length..].Replace('-', '_');
            Row($"{n}_rps", "requests/s", r => sample(r)?.Rps, true);
            Row($"{n}_cpu_us_per_request", "us", r => sample(r)?.CpuUsPerRequest, true);
            Row($"{n}_p50_ms", "ms", r => sample(r)?.P50Ms, true);
            Row($"{n}_p99_ms", "ms", r => sample(r)?.P99Ms, true);
            Row($"{n}_requests", "requests", r => sample(r)?.Requests, false);
            Row($"{n}_warmup_seconds", "s", r => r.WarmupSeconds.TryGetValue(scenario.Name, out var w) ? w : null, true);
        }
        csv.Append("failure,");
        foreach (var s in servers) csv.Append(',').Append(Quote(RunOf(s.Name)?.Failure));
        if (ratios) csv.Append(',');
        csv.Append('\n');
        return csv.ToString();
    }

    /// <summary>The options that make the run what it is (port, bind address and data folder left out).</summary>
    static string Options(ServerSpec s)
    {
        var ltm = string.Join(' ', s.LargerThanMemoryArguments("DIR", LargerThanMemory.MemoryMb, LargerThanMemory.GarnetIndexMb)!);
        var off = s.DescribePersistence(Persistence.Off);
        // GarnetServer starts every run with it (its default Linux device does not work on Debian 12).
        var device = s is GarnetServer ? " --device-type RandomAccess" : "";
        return $"{ltm}{(off.Length > 0 ? " " + off : "")}{device}";
    }

    /// <summary>The value, "n/a [k]" when the server's run failed before it, or "–".</summary>
    string Cell(ServerSpec server, Func<LtmRun, double?> value, Func<LtmRun, double, string> format)
    {
        var run = RunOf(server.Name);
        if (run is not null && value(run) is double v) return format(run, v);
        if (run?.Failure is not { } why) return "–";
        return $"n/a [{footnote($"{server.DisplayName}, larger than memory: {why}")}]";
    }

    double? RatioValue(Func<LtmRun, double?> value) =>
        RunOf("nativekv") is { } a && RunOf("garnet") is { } b && value(a) is double x && value(b) is double y && y > 0 ? x / y : null;

    string Ratio(Func<LtmRun, double?> value) => RatioValue(value) is double r ? $"{r.ToString("F2", Inv)}×" : "–";

    static string Ms(double v) => v.ToString(v < 10 ? "F3" : "F1", Inv);

    static string Num(double? v) => v is double d ? d.ToString("0.######", Inv) : "";

    static string Quote(string? s) => s is null ? "" : "\"" + s.Replace("\"", "\"\"") + "\"";
}
