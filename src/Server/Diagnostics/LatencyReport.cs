using System.Globalization;
using System.Text;

namespace NativeKv.Server.Diagnostics;

/// <summary>What LATENCY DOCTOR weighs beside the samples (server settings Redis's report reads).</summary>
public readonly record struct LatencySettings(long SlowlogLogSlowerThan, long LatencyMonitorThreshold, bool FsyncAlways, long Hz, long AnonHugePagesBytes);

/// <summary>LATENCY DOCTOR's report and LATENCY GRAPH's drawing, as latency.c and sparkline.c write them.</summary>
public static class LatencyReport
{
    private struct Stats
    {
        public uint Avg, Min, Max, Mad, Samples;
        public long Period;
    }

    /// <summary>analyzeLatencyForEvent.</summary>
    private static Stats Analyze(LatencySeries ts, long now)
    {
        var ls = new Stats();
        ulong sum = 0;
        for (int j = 0; j < LatencySeries.Length; j++)
        {
            if (ts.Times[j] == 0) continue;
            ls.Samples++;
            uint l = ts.Latencies[j];
            if (ls.Samples == 1) ls.Min = ls.Max = l;
            else
            {
                if (ls.Min > l) ls.Min = l;
                if (ls.Max < l) ls.Max = l;
            }
            sum += l;
            if (ls.Period == 0 || ts.Times[j] < ls.Period) ls.Period = ts.Times[j];
        }
        if (ls.Samples > 0)
        {
            ls.Avg = (uint)(sum / ls.Samples);
            ls.Period = now - ls.Period;
            if (ls.Period == 0) ls.Period = 1;
        }
        sum = 0;
        for (int j = 0; j < LatencySeries.Length; j++)
        {
            if (ts.Times[j] == 0) continue;
            long delta = (long)ls.Avg - ts.Latencies[j];
            if (delta < 0) delta = -delta;
            sum += (ulong)delta;
        }
        if (ls.Samples > 0) ls.Mad = (uint)(sum / ls.Samples);
        return ls;
    }

    private static bool Is(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    /// <summary>createLatencyReport.</summary>
    public static string Doctor(List<(string Name, LatencySeries Series)> events, LatencySettings s)
    {
        var report = new StringBuilder();
        if (events.Count == 0 && s.LatencyMonitorThreshold == 0)
        {
            return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n";
        }
        bool slowlogEnabled = false, slowlogTuning = false, slowlogInspect = false, diskContention = false, scheduler = false,
            dataWriteback = false, noAppendfsync = false, localDisk = false, ssd = false, writeLoadInfo = false, hz = false,
            largeObjects = false, massEviction = false, relaxFsync = false, disableThp = false;
        int advices = 0, eventnum = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        foreach (var (name, ts) in events)
        {
            eventnum++;
            if (eventnum == 1) report.Append("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            var ls = Analyze(ts, now);
            double period = ls.Samples == 0 ? double.NaN : (double)ls.Period / ls.Samples;
            report.Append(CultureInfo.InvariantCulture,
                $"{eventnum}. {name}: {ls.Samples} latency spikes (average {ls.Avg}ms, mean deviation {ls.Mad}ms, period {period:F2} sec). Worst all time event {ts.Max}ms.");
            if (Is(name, "command"))
            {
                if (s.SlowlogLogSlowerThan < 0) { slowlogEnabled = true; advices++; }
                else if (s.SlowlogLogSlowerThan / 1000 > s.LatencyMonitorThreshold) { slowlogTuning = true; advices++; }
                slowlogInspect = true;
                largeObjects = true;
                advices += 2;
            }
            if (Is(name, "fast-command")) { scheduler = true; advices++; }
            if (Is(name, "aof-write-pending-fsync")) { localDisk = diskContention = ssd = dataWriteback = true; advices += 4; }
            if (Is(name, "aof-write-active-child")) { noAppendfsync = dataWriteback = ssd = true; advices += 3; }
            if (Is(name, "aof-write-alone")) { localDisk = dataWriteback = ssd = true; advices += 3; }
            if (Is(name, "aof-fsync-always")) { relaxFsync = true; advices++; }
            if (Is(name, "aof-fstat") || Is(name, "rdb-unlink-temp-file")) { diskContention = localDisk = true; advices += 2; }
            if (Is(name, "aof-rewrite-diff-write") || Is(name, "aof-rename")) { writeLoadInfo = dataWriteback = ssd = localDisk = true; advices += 4; }
            if (Is(name, "expire-cycle")) { hz = largeObjects = true; advices += 2; }
            if (Is(name, "eviction-del")) { largeObjects = true; advices++; }
            if (Is(name, "eviction-cycle")) { massEviction = true; advices++; }
            report.Append('\n');
        }
        if (s.AnonHugePagesBytes > 0) { disableThp = true; advices++; }

        if (eventnum == 0 && advices == 0)
        {
            report.Append("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
            return report.ToString();
        }
        if (eventnum > 0 && advices == 0)
        {
            report.Append("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
            return report.ToString();
        }
        report.Append("\nI have a few advices for you:\n\n");
        ulong threshold = (ulong)s.LatencyMonitorThreshold * 1000;
        if (slowlogEnabled) report.Append($"- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {threshold}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n");
        if (slowlogTuning) report.Append($"- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {threshold}'.\n");
        if (slowlogInspect) report.Append("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
        if (scheduler)
        {
            report.Append("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n"
                + "  1) Lower the system load.\n"
                + "  2) Use a computer / VM just for Redis if you are running other software in the same system.\n"
                + "  3) Check if you have a \"noisy neighbour\" problem.\n"
                + "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n"
                + "  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
        }
        if (localDisk) report.Append("- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n");
        if (ssd) report.Append("- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n");
        if (dataWriteback) report.Append("- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n");
        if (diskContention) report.Append("- Try to lower the disk contention. This is often caused by other disk intensive processes running in the same computer (including other Redis instances).\n");
        if (noAppendfsync) report.Append("- Assuming from the point of view of data safety this is viable in your environment, you could try to enable the 'no-appendfsync-on-rewrite' option, so that fsync will not be performed while there is a child rewriting the AOF file or producing an RDB file (the moment where there is high disk contention).\n");
        if (relaxFsync && s.FsyncAlways) report.Append("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
        if (writeLoadInfo) report.Append("- Latency during the AOF atomic rename operation or when the final difference is flushed to the AOF file at the end of the rewrite, sometimes is caused by very high write load, causing the AOF buffer to get very large. If possible try to send less commands to accomplish the same work, or use Lua scripts to group multiple operations into a single EVALSHA call.\n");
        if (hz && s.Hz < 100) report.Append("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
        if (largeObjects) report.Append("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
        if (massEviction) report.Append("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n");
        if (disableThp) report.Append("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n");
        return report.ToString();
    }

    /// <summary>THPGetAnonHugePagesSize: the process's AnonHugePages in bytes (/proc/self/smaps, summed).</summary>
    public static long AnonHugePagesBytes()
    {
        try
        {
            string path = File.Exists("/proc/self/smaps_rollup") ? "/proc/self/smaps_rollup" : "/proc/self/smaps";
            long kb = 0;
            foreach (var line in File.ReadLines(path))
            {
                if (!line.StartsWith("AnonHugePages:", StringComparison.Ordinal)) continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], out long v)) kb += v;
            }
            return kb * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private const int GraphColumns = 80, GraphRows = 4;

    /// <summary>latencyCommandGenSparkeline: a header, a rule, and the samples as a filled sparkline with age labels.</summary>
    public static string Graph(string name, LatencySeries ts)
    {
        var values = new List<double>();
        var labels = new List<string?>();
        uint min = 0, max = 0;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (int j = 0; j < LatencySeries.Length; j++)
        {
            int i = (ts.Index + j) % LatencySeries.Length;
            if (ts.Times[i] == 0) continue;
            uint l = ts.Latencies[i];
            if (values.Count == 0) min = max = l;
            else
            {
                if (l > max) max = l;
                if (l < min) min = l;
            }
            int elapsed = (int)(now - ts.Times[i]);
            string label = elapsed < 60 ? $"{elapsed}s" : elapsed < 3600 ? $"{elapsed / 60}m" : elapsed < 3600 * 24 ? $"{elapsed / 3600}h" : $"{elapsed / (3600 * 24)}d";
            values.Add(l);
            labels.Add(label);
        }
        var graph = new StringBuilder();
        graph.Append($"{name} - high {max} ms, low {min} ms (all time high {ts.Max} ms)\n");
        graph.Append('-', GraphColumns).Append('\n');
        Sparkline.Render(graph, values, labels, GraphColumns, GraphRows);
        return graph.ToString();
    }
}

/// <summary>sparkline.c with SPARKLINE_FILL: rows of "_o#" and '|' from the bottom up, labels written downwards.</summary>
internal static class Sparkline
{
    private const string Fill = "_o#";
    private const int LabelMarginTop = 1;

    public static void Render(StringBuilder output, List<double> values, List<string?> labels, int columns, int rows)
    {
        if (values.Count == 0) return;
        double min = values[0], max = values[0];
        int labelCount = 0;
        // sparklineSequenceAddSample's min/max (an else-if: a value that lowers min is not looked at for max).
        for (int i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                if (values[i] < min) min = values[i];
                else if (values[i] > max) max = values[i];
            }
            if (!string.IsNullOrEmpty(labels[i])) labelCount++;
        }
        for (int j = 0; j < values.Count; j += columns)
        {
            int len = Math.Min(values.Count - j, columns);
            if (j != 0) output.Append('\n');
            RenderRange(output, values, labels, labelCount, min, max, rows, j, len);
        }
    }

    private static void RenderRange(StringBuilder output, List<double> values, List<string?> labels, int labelCount,
        double min, double max, int rows, int offset, int len)
    {
        double relmax = max - min;
        int steps = Fill.Length * rows;
        if (relmax == 0) relmax = 1;
        var chars = new char[len];
        int row = 0;
        bool loop = true;
        while (loop)
        {
            loop = false;
            Array.Fill(chars, ' ');
            for (int j = 0; j < len; j++)
            {
                double relval = values[j + offset] - min;
                int step = (int)((int)(relval * steps) / relmax); // (int)(relval*steps)/relmax, as C parses it
                if (step < 0) step = 0;
                if (step >= steps) step = steps - 1;
                if (row < rows)
                {
                    int charidx = step - (rows - row - 1) * Fill.Length;
                    loop = true;
                    if (charidx >= 0 && charidx < Fill.Length) chars[j] = Fill[charidx];
                    else if (charidx >= Fill.Length) chars[j] = '|';
                }
                else
                {
                    if (labelCount > 0 && row - rows < LabelMarginTop)
                    {
                        loop = true;
                        break;
                    }
                    if (labels[j + offset] is { } label)
                    {
                        int labelChar = row - rows - LabelMarginTop;
                        if (label.Length > labelChar)
                        {
                            loop = true;
                            chars[j] = label[labelChar];
                        }
                    }
                }
            }
            if (loop)
            {
                row++;
                output.Append(chars);
                output.Append('\n');
            }
        }
    }
}
