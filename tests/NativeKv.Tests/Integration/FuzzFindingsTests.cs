using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// What the fuzz run (FuzzTests) found, each reduced to the input that showed it within 20 s:
/// several clients pipelining one mix of commands while a PING monitor checks the server answers.
/// Alone: on 2 cores a parallel suite's servers would be what the PING monitor measures.
/// </summary>
[NotInParallel(nameof(FuzzFindingsTests))]
public class FuzzFindingsTests
{

    /// <summary>
    /// 6 clients, each pipelining 50 of SAVE / BGSAVE / BGREWRITEAOF / SET kN v / GET k1 per connection: it was
    /// within seconds both reactors in SaveNow running two FASTER checkpoints at once, deadlocked in
    /// IndexCheckpointInfo.Reset -> ManagedLocalStorageDevice.Dispose (AsyncPool.Dispose), and
    /// SIGTERM no longer stopped the server (the acceptor spun posting to a full mailbox).
    /// </summary>
    [Test]
    public async Task SAVE_from_several_clients_never_deadlocks()
    {
        await Run(["SAVE", "BGSAVE", "BGREWRITEAOF", "SET", "GET"], valueBytes: 1);
    }

    /// <summary>
    /// SAVE on two reactors at once: Redis, single-threaded, runs one after the other, so both answer
    /// OK, and a BGSAVE sent during them starts after them. It was the second SAVE answering
    /// "ERR Background save already in progress", or both checkpointing at once (the hang above).
    /// </summary>
    [Test]
    public async Task SAVE_on_two_reactors_at_once_saves_twice()
    {
        var server = await ServerProcess.StartAsync("--save", "");
        try
        {
            await TwoSaves(server);
        }
        finally
        {
            await server.DisposeAsync();
            server.DeleteData();
        }
    }

    private static async Task TwoSaves(ServerProcess server)
    {
        using var a = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        using var b = new RespClient(server.Port, TimeSpan.FromSeconds(30)); // dealt to the other reactor
        var value = new string('v', 1000);
        for (int i = 0; i < 30_000; i += 500) // 30 MB in memory: each fold-over checkpoint writes it out
        {
            for (int j = i; j < i + 500; j++) a.Send("SET", $"key:{j}", value);
            for (int j = i; j < i + 500; j++) a.Read();
        }
        for (int round = 0; round < 3; round++)
        {
            long before = long.Parse(Field(a.Call("INFO", "persistence").Text!, "rdb_saves"));
            a.Call("SET", "round", round.ToString());
            a.Send("SAVE");
            b.Send("SAVE");
            b.Send("BGSAVE");
            await Assert.That(a.Read().ToString()).IsEqualTo("OK");
            await Assert.That(b.Read().ToString()).IsEqualTo("OK");
            await Assert.That(b.Read().ToString()).IsEqualTo("Background saving started");
            var sw = Stopwatch.StartNew();
            while (Field(a.Call("INFO", "persistence").Text!, "rdb_saves") != (before + 3).ToString() && sw.Elapsed < TimeSpan.FromSeconds(20))
                await Task.Delay(50);
            await Assert.That(Field(a.Call("INFO", "persistence").Text!, "rdb_saves")).IsEqualTo((before + 3).ToString());
        }
        await Assert.That(a.Call("PING").ToString()).IsEqualTo("PONG");
    }

    private static string Field(string info, string name)
        => info.Split("\r\n").First(l => l.StartsWith(name + ":", StringComparison.Ordinal))[(name.Length + 1)..];

    /// <summary>6 clients SETting 64 KB values with BGSAVE and BGREWRITEAOF: was AccessViolationException in FASTER's AsyncFlushPageToDeviceCallback (SpanByte.Length), an invalid record left by a failed RMW CAS (see Store.WriteStripe).</summary>
    [Test]
    public async Task Values_of_64KB_with_background_checkpoints()
    {
        await Run(["BGSAVE", "BGREWRITEAOF", "SETBIG", "SET", "GET"], valueBytes: 64 * 1024);
    }

    /// <summary>6 clients SETting 64 KB values with FLUSHALL: was AccessViolationException in the compaction's scan (VariableLengthBlittableScanIterator.GetNext from Maintenance.MaybeCompact), the same invalid records.</summary>
    [Test]
    public async Task Values_of_64KB_with_flushall()
    {
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
