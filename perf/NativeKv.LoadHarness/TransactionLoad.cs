using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NativeKv.LoadHarness;

/// <summary>
/// redis-benchmark for the one request it cannot send: a transaction, <c>MULTI; INCR tx:a:N; INCR tx:b:N;
/// INCR tx:c:N; EXEC</c> (issue 14's 3-command MULTI/EXEC), N random below -r, one request per EXEC.
/// Run as <c>NativeKv.LoadHarness multi-bench -h H -p P -c C -n N -r R -P P --csv</c>: the harness starts it
/// pinned to the client CPU as it does redis-benchmark, and reads the same CSV row, test "MULTI".
/// Each connection keeps -P transactions in flight (5 commands each, sent in one write) and times the batch:
/// every request in it gets the batch's latency, as redis-benchmark counts a pipeline. A reply that is an
/// error, or an EXEC that is not an array of three integers, fails the run.
/// </summary>
static class TransactionLoad
{
    public const string TestName = "MULTI";
    public const string Command = "multi-bench";

    /// <summary>How to start this program as the load generator: its apphost, or dotnet and its assembly.</summary>
    public static (string Tool, string[] Prefix) Self(string command = Command)
    {
        var path = Environment.ProcessPath ?? "dotnet";
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? (path, [typeof(TransactionLoad).Assembly.Location, command])
            : (path, [command]);
    }
    public const int CommandsPerRequest = 5;

    public static int Run(string[] args)
    {
        string host = "127.0.0.1";
        int port = 6379, clients = 50, requests = 100_000, keyspace = 100_000, pipeline = 1;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "-h": host = Next(); break;
                case "-p": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-c": clients = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-n": requests = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-r": keyspace = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-P": pipeline = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-d": Next(); break; // redis-benchmark's value size: INCR has none
                case "-t" when Next() == Scenarios.MultiTest: break; // the harness names the test as for redis-benchmark
                case "--csv": break;
                default: Console.Error.WriteLine($"multi-bench: unknown option {args[i]}"); return 2;
            }
        }
        var histogram = new long[HistogramBuckets];
        long remaining = requests;
        var clock = Stopwatch.StartNew();
        var endpoint = new IPEndPoint(IPAddress.Parse(host), port);
        var tasks = Enumerable.Range(0, clients).Select(id => Task.Run(() => Connection(endpoint, id, pipeline, keyspace, histogram,
                                                                                         () => Interlocked.Add(ref remaining, -pipeline) + pipeline))).ToArray();
        try
        {
            Task.WaitAll(tasks);
        }
        catch (AggregateException e)
        {
            Console.Error.WriteLine($"multi-bench: {e.InnerExceptions[0].Message}");
            return 1;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(Csv(histogram, requests, seconds));
        return 0;
    }

    /// <summary>One connection's loop: claims up to a pipeline of requests at a time until none are left.</summary>
    static async Task Connection(IPEndPoint endpoint, int id, int pipeline, int keyspace, long[] histogram, Func<long> claim)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        var random = new Random(id);
        var batch = new MemoryStream();
        var input = new byte[64 * 1024];
        var local = new long[HistogramBuckets];
        while (true)
        {
            long left = claim();
            if (left <= 0) break;
            int n = (int)Math.Min(pipeline, left);
            batch.SetLength(0);
            for (int t = 0; t < n; t++) WriteTransaction(batch, random.Next(keyspace));
            long start = Stopwatch.GetTimestamp();
            await socket.SendAsync(batch.GetBuffer().AsMemory(0, (int)batch.Length), SocketFlags.None);
            int expected = n * CommandsPerRequest, seen = 0, have = 0;
            while (seen < expected)
            {
                if (have == input.Length) Array.Resize(ref input, input.Length * 2);
                int got = await socket.ReceiveAsync(input.AsMemory(have), SocketFlags.None);
                if (got == 0) throw new IOException("the server closed the connection");
                have += got;
                int at = 0;
                while (seen < expected && Replies.TryCheck(input.AsSpan(0, have), ref at, seen % CommandsPerRequest)) seen++;
                input.AsSpan(at, have - at).CopyTo(input);
                have -= at;
            }
            long micros = (Stopwatch.GetTimestamp() - start) * 1_000_000 / Stopwatch.Frequency;
            local[Math.Min(micros, HistogramBuckets - 1)] += n;
        }
        lock (histogram)
            for (int i = 0; i < local.Length; i++) histogram[i] += local[i];
    }

    static void WriteTransaction(MemoryStream to, int n)
    {
        var k = n.ToString("D12", CultureInfo.InvariantCulture);
        var text = $"*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$17\r\ntx:a:{k}\r\n*2\r\n$4\r\nINCR\r\n$17\r\ntx:b:{k}\r\n" +
                   $"*2\r\n$4\r\nINCR\r\n$17\r\ntx:c:{k}\r\n*1\r\n$4\r\nEXEC\r\n";
        to.Write(Encoding.ASCII.GetBytes(text));
    }

    /// <summary>1 µs buckets up to 1 s (the last one holds everything slower).</summary>
    public const int HistogramBuckets = 1_000_000;

    /// <summary>redis-benchmark's --csv header and row for the run.</summary>
    public static string Csv(long[] histogram, long requests, double seconds, string testName = TestName)
    {
        long count = histogram.Sum();
        double Percentile(double p)
        {
            long rank = (long)Math.Ceiling(count * p), seen = 0;
            for (int i = 0; i < histogram.Length; i++)
                if ((seen += histogram[i]) >= Math.Max(1, rank)) return i / 1000.0;
            return (histogram.Length - 1) / 1000.0;
        }
        double avg = count == 0 ? 0 : histogram.Select((c, i) => (double)c * i).Sum() / count / 1000.0;
        int min = Array.FindIndex(histogram, c => c > 0), max = Array.FindLastIndex(histogram, c => c > 0);
        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        return "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n" +
               $"\"{testName}\",\"{F(requests / seconds)}\",\"{F(avg)}\",\"{F(Math.Max(0, min) / 1000.0)}\",\"{F(Percentile(0.5))}\"," +
               $"\"{F(Percentile(0.95))}\",\"{F(Percentile(0.99))}\",\"{F(Math.Max(0, max) / 1000.0)}\"";
    }
}

/// <summary>Checks one transaction's replies in order: +OK, +QUEUED three times, then EXEC's array of three integers.</summary>
static class Replies
{
    /// <summary>
    /// Consumes the reply at <paramref name="at"/> when it is complete (false when more input is needed), and
    /// throws when it is not what reply number <paramref name="index"/> of a transaction must be.
    /// </summary>
    public static bool TryCheck(ReadOnlySpan<byte> input, ref int at, int index)
    {
        int start = at;
        if (!TryLine(input, ref at, out var line)) { at = start; return false; }
        switch (index)
        {
            case 0 when line.SequenceEqual("+OK"u8):
            case 1 or 2 or 3 when line.SequenceEqual("+QUEUED"u8):
                return true;
            case 4 when line.SequenceEqual("*3"u8):
                for (int i = 0; i < 3; i++)
                {
                    if (!TryLine(input, ref at, out var item)) { at = start; return false; }
                    if (item.IsEmpty || item[0] != (byte)':') throw new InvalidDataException($"EXEC answered an array holding {Encoding.ASCII.GetString(item)}");
                }
                return true;
            default:
                throw new InvalidDataException($"reply {index} of a transaction was {Encoding.ASCII.GetString(line)}");
        }
    }

    static bool TryLine(ReadOnlySpan<byte> input, ref int at, out ReadOnlySpan<byte> line)
    {
        int end = input[at..].IndexOf("\r\n"u8);
        if (end < 0) { line = default; return false; }
        line = input.Slice(at, end);
        at += end + 2;
        return true;
    }
}
