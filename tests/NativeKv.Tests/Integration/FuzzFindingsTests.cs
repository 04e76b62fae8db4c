using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// What the fuzz run (FuzzTests) found that is not fixed yet, each reduced to the input that
/// shows it within 20 s: several clients pipelining one mix of commands while a PING monitor
/// checks the server answers. They fail today, so they are skipped unless NATIVEKV_FUZZ_FINDINGS=1;
/// each must pass, and lose its skip, once its cause is fixed (all three are in Storage).
/// </summary>
public class FuzzFindingsTests
{
    private static void SkipUnlessAsked(string finding)
    {
        if (Environment.GetEnvironmentVariable("NATIVEKV_FUZZ_FINDINGS") != "1")
            Skip.Test($"known, not fixed yet: {finding} (NATIVEKV_FUZZ_FINDINGS=1 runs it)");
    }

    /// <summary>
    /// 6 clients, each pipelining 50 of SAVE / BGSAVE / BGREWRITEAOF / SET kN v / GET k1 per connection: within seconds
    /// both reactors sit in SaveNow's Pump, FASTER's checkpoint state machine waits in
    /// IndexCheckpointInfo.Reset -> ManagedLocalStorageDevice.Dispose (AsyncPool.Dispose), and
    /// SIGTERM no longer stops the server (the acceptor spins posting to a full mailbox).
    /// </summary>
    [Test]
    public async Task Known_hang_SAVE_from_several_clients()
    {
        SkipUnlessAsked("concurrent SAVE deadlocks the checkpoint");
        await Run(["SAVE", "BGSAVE", "BGREWRITEAOF", "SET", "GET"], valueBytes: 1);
    }

    /// <summary>6 clients SETting 64 KB values with BGSAVE and BGREWRITEAOF: AccessViolationException in FASTER's AsyncFlushPageToDeviceCallback (SpanByte.Length).</summary>
    [Test]
    public async Task Known_crash_64KB_values_with_background_checkpoints()
    {
        SkipUnlessAsked("AccessViolation in AsyncFlushPageToDeviceCallback");
        await Run(["BGSAVE", "BGREWRITEAOF", "SETBIG", "SET", "GET"], valueBytes: 64 * 1024);
    }

    /// <summary>6 clients SETting 64 KB values with FLUSHALL: AccessViolationException in the compaction's scan (VariableLengthBlittableScanIterator.GetNext from Maintenance.MaybeCompact).</summary>
    [Test]
    public async Task Known_crash_64KB_values_with_flushall()
    {
        SkipUnlessAsked("AccessViolation in the compaction scan");
        await Run(["FLUSHALL", "SETBIG", "SET", "GET"], valueBytes: 64 * 1024);
    }

    /// <summary>20 s of the mix; every PING answered within 5 s, the process alive, SIGTERM exits 0 within 20 s.</summary>
    private static async Task Run(string[] mix, int valueBytes)
    {
        var server = await ServerProcess.StartAsync();
        await using (server)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var clients = Enumerable.Range(0, 6).Select(i => new Thread(() => Client(server.Port, mix, valueBytes, new Random(i), stop.Token)) { IsBackground = true }).ToArray();
            foreach (var t in clients) t.Start();
            string? failure = null;
            double maxMs = 0;
            using (var monitor = new RespClient(server.Port, TimeSpan.FromSeconds(5)))
            {
                var sw = new Stopwatch();
                while (!stop.IsCancellationRequested && failure is null)
                {
                    sw.Restart();
                    try
                    {
                        if (monitor.Call("PING").Text != "PONG") failure = "PING not answered PONG";
                    }
                    catch (Exception e) { failure = $"PING: {e.Message}"; }
                    maxMs = Math.Max(maxMs, sw.Elapsed.TotalMilliseconds);
                    await Task.Delay(10);
                }
            }
            stop.Cancel();
            foreach (var t in clients) t.Join(TimeSpan.FromSeconds(15));
            if (server.HasExited) failure ??= "nativekv exited";
            if (failure is null)
            {
                int code = await server.SignalAndWaitAsync(15, TimeSpan.FromSeconds(20));
                if (code != 0) failure = $"exit code {code} after SIGTERM";
            }
            await server.DisposeAsync();
            server.DeleteData();
            if (failure is not null)
                throw new Exception($"{failure} (slowest PING {maxMs:F0} ms)\n{string.Join('\n', server.LogText.Split('\n').Where(l => !l.Contains("checkpoint")).TakeLast(30))}");
        }
    }

    /// <summary>A blocking client on its own thread: writes as fast as the server reads, a reader thread drains replies.</summary>
    private static void Client(int port, string[] mix, int valueBytes, Random rng, CancellationToken stop)
    {
        var big = new byte[valueBytes];
        Array.Fill(big, (byte)'x');
        while (!stop.IsCancellationRequested)
        {
            using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { SendTimeout = 5000 };
            try
            {
                s.Connect(new IPEndPoint(IPAddress.Loopback, port));
                var drain = new Thread(() =>
                {
                    var buf = new byte[65536];
                    try { while (s.Receive(buf) > 0) { } } catch (Exception) { }
                }) { IsBackground = true };
                drain.Start();
                for (int i = 0; i < 50 && !stop.IsCancellationRequested; i++)
                {
                    var cmd = mix[rng.Next(mix.Length)];
                    byte[] request = cmd switch
                    {
                        "SETBIG" => RespClient.Encode("SET", $"k{rng.Next(16)}", big[..rng.Next(1, valueBytes + 1)]),
                        "SET" => RespClient.Encode("SET", $"k{rng.Next(16)}", "v"),
                        "GET" => RespClient.Encode("GET", "k1"),
                        _ => RespClient.Encode(cmd),
                    };
                    s.Send(request);
                }
                s.Shutdown(SocketShutdown.Send);
                drain.Join(TimeSpan.FromSeconds(10));
            }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        }
    }
}
