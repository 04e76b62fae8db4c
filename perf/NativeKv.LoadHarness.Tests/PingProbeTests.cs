using System.Net;
using System.Net.Sockets;
using System.Text;
using NativeKv.LoadHarness.Infrastructure;

namespace NativeKv.LoadHarness.Tests;

/// <summary>The PING probe: reply parsing, its statistics, and what it sees from a loopback server that stalls.</summary>
public class PingProbeTests
{
    [Test]
    public async Task Parse_waits_for_the_whole_line()
    {
        await Assert.That(PingProbe.Parse(""u8, out _)).IsEqualTo(PongState.Incomplete);
        await Assert.That(PingProbe.Parse("+PO"u8, out _)).IsEqualTo(PongState.Incomplete);
        await Assert.That(PingProbe.Parse("+PONG\r"u8, out _)).IsEqualTo(PongState.Incomplete);
        await Assert.That(PingProbe.Parse("+PONG\r\n"u8, out var line)).IsEqualTo(PongState.Pong);
        await Assert.That(line).IsEqualTo("+PONG");
    }

    [Test]
    public async Task Parse_reports_anything_but_PONG_with_its_line()
    {
        await Assert.That(PingProbe.Parse("-LOADING Redis is loading the dataset in memory\r\n"u8, out var line)).IsEqualTo(PongState.Other);
        await Assert.That(line).IsEqualTo("-LOADING Redis is loading the dataset in memory");
        await Assert.That(PingProbe.Parse("+PONGS\r\n"u8, out _)).IsEqualTo(PongState.Other);
        await Assert.That(PingProbe.Parse("$4\r\nPONG\r\n"u8, out _)).IsEqualTo(PongState.Other);
    }

    [Test]
    public async Task Stats_keep_the_worst_and_count_replies_strictly_over_the_threshold()
    {
        var stats = new PingStats(50);
        foreach (var ms in new double[] { 1, 50, 3, 120.5, 2, 51 }) stats.Add(ms);
        await Assert.That(stats.Count).IsEqualTo(6);
        await Assert.That(stats.WorstMs).IsEqualTo(120.5);
        await Assert.That(stats.Slow).IsEqualTo(2); // 120.5 and 51; 50 is not over 50
        await Assert.That(stats.Percentile(50)).IsEqualTo(3.0);   // nearest rank 3 of 1,2,3,50,51,120.5
        await Assert.That(stats.Percentile(99)).IsEqualTo(120.5);
        await Assert.That(new PingStats(50).Percentile(99)).IsNull();
    }

    [Test]
    public async Task Probe_times_a_stalled_reply_and_not_the_first_one()
    {
        // The stand-in answers the first (uncounted) PING after 1 s, the fourth after 120 ms, the rest at
        // once. The gap is wide so that a loaded machine (a 150 ms first stall was measured at 150.3 ms
        // for the fourth) cannot blur the two; "slow" is over 100 ms, far above an immediate answer.
        using var server = new StandInServer(n => n == 1 ? 1000 : n == 4 ? 120 : 0, "+PONG\r\n");
        using var probe = PingProbe.Start(server.Port, TimeSpan.FromMilliseconds(10), 100, cpu: null);
        await Task.Delay(1400);
        var summary = probe.Stop();
        await Assert.That(summary.Failure).IsNull();
        await Assert.That(summary.Pings).IsGreaterThanOrEqualTo(4);
        await Assert.That(summary.WorstMs).IsGreaterThanOrEqualTo(120).And.IsLessThan(1000);
        await Assert.That(summary.Slow).IsEqualTo(1);
        await Assert.That(summary.Pings).IsEqualTo(server.Pings - 1);
    }

    [Test]
    public async Task Probe_stops_on_an_error_reply_and_says_what_it_was()
    {
        using var server = new StandInServer(n => 0, "-LOADING Redis is loading the dataset in memory\r\n");
        using var probe = PingProbe.Start(server.Port, TimeSpan.FromMilliseconds(10), 50, cpu: null);
        var summary = probe.Stop();
        await Assert.That(summary.Failure).IsEqualTo("PING answered '-LOADING Redis is loading the dataset in memory'");
    }

    /// <summary>One loopback connection; to the n-th PING (RESP, 14 bytes) it answers <c>reply</c> after <c>delayMs(n)</c>.</summary>
    sealed class StandInServer : IDisposable
    {
        readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        readonly Thread _thread;
        volatile int _pings;

        public StandInServer(Func<int, int> delayMs, string reply)
        {
            _listener.Start();
            _thread = new Thread(() =>
            {
                try
                {
                    using var client = _listener.AcceptSocket();
                    var ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();
                    var buffer = new byte[ping.Length];
                    while (true)
                    {
                        int read = 0;
                        while (read < buffer.Length)
                        {
                            int n = client.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
                            if (n == 0) return;
                            read += n;
                        }
                        if (!buffer.AsSpan().SequenceEqual(ping)) return;
                        int count = Interlocked.Increment(ref _pings);
                        if (delayMs(count) is > 0 and var d) Thread.Sleep(d);
                        client.Send(Encoding.ASCII.GetBytes(reply));
                    }
                }
                catch (SocketException) { }
                catch (ObjectDisposedException) { }
            }) { IsBackground = true };
            _thread.Start();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
        public int Pings => _pings;

        public void Dispose()
        {
            _listener.Stop();
            _thread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
