using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NativeKv.LoadHarness;

/// <summary>
/// Issue 15's fan-out: one publisher, <c>-c</c> subscribers of one channel (the server spreads their connections over
/// its reactors), measured in delivered messages. Run as <c>NativeKv.LoadHarness fanout-bench -h H -p P -c C -n N -P P -d D --csv</c>,
/// as <see cref="TransactionLoad"/> is: <c>-n</c> counts deliveries, so N / C PUBLISHes of a D-byte payload go out,
/// -P of them in flight, and the run ends when every subscriber has read every message. The CSV row (test "FANOUT")
/// gives deliveries per second, and the latency of each publish batch's replies (every delivery in the batch gets it).
/// A PUBLISH that does not answer the number of subscribers, or a subscriber that reads other bytes than the message
/// frames, fails the run: each message is one fixed-size frame, so a subscriber counts bytes and checks each frame.
/// </summary>
static class FanOutLoad
{
    public const string TestName = "FANOUT";
    public const string Command = "fanout-bench";
    const string Channel = "fanout";

    public static int Run(string[] args)
    {
        string host = "127.0.0.1";
        int port = 6379, subscribers = 100, pipeline = 1, size = 16;
        long deliveries = 1_000_000;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "-h": host = Next(); break;
                case "-p": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-c": subscribers = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-n": deliveries = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "-P": pipeline = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-d": size = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "-r": Next(); break; // no keys
                case "-t" when Next() == Scenarios.FanOutTest: break;
                case "--csv": break;
                default: Console.Error.WriteLine($"fanout-bench: unknown option {args[i]}"); return 2;
            }
        }
        long messages = Math.Max(1, deliveries / subscribers);
        var payload = new string('x', size);
        byte[] frame = Encoding.ASCII.GetBytes($"*3\r\n$7\r\nmessage\r\n${Channel.Length}\r\n{Channel}\r\n${size}\r\n{payload}\r\n");
        var endpoint = new IPEndPoint(IPAddress.Parse(host), port);
        try
        {
            var subs = Enumerable.Range(0, subscribers).Select(_ => Subscribe(endpoint)).ToArray();
            Task.WaitAll(subs);
            var readers = subs.Select(s => Task.Run(() => Read(s.Result, frame, messages))).ToArray();
            var histogram = new long[TransactionLoad.HistogramBuckets];
            var clock = Stopwatch.StartNew();
            Publish(endpoint, messages, pipeline, subscribers, payload, histogram).GetAwaiter().GetResult();
            if (!Task.WaitAll(readers, TimeSpan.FromSeconds(120))) throw new TimeoutException("subscribers did not get every message within 120 s of the last publish");
            double seconds = clock.Elapsed.TotalSeconds;
            foreach (var s in subs) s.Result.Dispose();
            for (int i = 0; i < histogram.Length; i++) histogram[i] *= subscribers; // a publish is its deliveries
            Console.WriteLine(TransactionLoad.Csv(histogram, messages * subscribers, seconds, TestName));
            return 0;
        }
        catch (Exception e) when (e is AggregateException or IOException or InvalidDataException or TimeoutException or SocketException)
        {
            Console.Error.WriteLine($"fanout-bench: {(e is AggregateException a ? a.InnerExceptions[0].Message : e.Message)}");
            return 1;
        }
    }

    /// <summary>A connection subscribed to the channel (its confirmation read).</summary>
    static async Task<Socket> Subscribe(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"*2\r\n$9\r\nSUBSCRIBE\r\n${Channel.Length}\r\n{Channel}\r\n"), SocketFlags.None);
        var want = Encoding.ASCII.GetBytes($"*3\r\n$9\r\nsubscribe\r\n${Channel.Length}\r\n{Channel}\r\n:1\r\n");
        var got = new byte[want.Length];
        for (int have = 0; have < got.Length;)
        {
            int n = await socket.ReceiveAsync(got.AsMemory(have), SocketFlags.None);
            if (n == 0) throw new IOException("the server closed a subscriber's connection");
            have += n;
        }
        if (!got.AsSpan().SequenceEqual(want)) throw new InvalidDataException($"SUBSCRIBE answered {Encoding.ASCII.GetString(got)}");
        return socket;
    }

    /// <summary>Reads <paramref name="messages"/> frames, checking each.</summary>
    static async Task Read(Socket socket, byte[] frame, long messages)
    {
        var buffer = new byte[256 * 1024];
        long seen = 0;
        int have = 0;
        while (seen < messages)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(have), SocketFlags.None);
            if (n == 0) throw new IOException($"the server closed a subscriber's connection after {seen} of {messages} messages");
            have += n;
            int at = 0;
            for (; have - at >= frame.Length; at += frame.Length, seen++)
                if (!buffer.AsSpan(at, frame.Length).SequenceEqual(frame)) throw new InvalidDataException("a subscriber read other bytes than the message frame");
            buffer.AsSpan(at, have - at).CopyTo(buffer);
            have -= at;
        }
    }

    /// <summary>The publisher: -P PUBLISHes at a time, each answered with the number of subscribers.</summary>
    static async Task Publish(IPEndPoint endpoint, long messages, int pipeline, int subscribers, string payload, long[] histogram)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint);
        var one = Encoding.ASCII.GetBytes($"*3\r\n$7\r\nPUBLISH\r\n${Channel.Length}\r\n{Channel}\r\n${payload.Length}\r\n{payload}\r\n");
        var reply = Encoding.ASCII.GetBytes($":{subscribers}\r\n");
        var batch = new byte[one.Length * pipeline];
        for (int i = 0; i < pipeline; i++) one.CopyTo(batch, i * one.Length);
        var input = new byte[reply.Length * pipeline];
        for (long left = messages; left > 0;)
        {
            int n = (int)Math.Min(pipeline, left);
            long start = Stopwatch.GetTimestamp();
            await socket.SendAsync(batch.AsMemory(0, n * one.Length), SocketFlags.None);
            for (int have = 0; have < n * reply.Length;)
            {
                int got = await socket.ReceiveAsync(input.AsMemory(have, n * reply.Length - have), SocketFlags.None);
                if (got == 0) throw new IOException("the server closed the publisher's connection");
                have += got;
            }
            for (int i = 0; i < n; i++)
                if (!input.AsSpan(i * reply.Length, reply.Length).SequenceEqual(reply))
                    throw new InvalidDataException($"PUBLISH answered {Encoding.ASCII.GetString(input, i * reply.Length, reply.Length)}, not {subscribers}");
            long micros = (Stopwatch.GetTimestamp() - start) * 1_000_000 / Stopwatch.Frequency;
            histogram[Math.Min(micros, histogram.Length - 1)] += n;
            left -= n;
        }
    }
}
