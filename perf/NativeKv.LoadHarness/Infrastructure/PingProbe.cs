using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>What a <see cref="PingProbe"/> saw: every reply time, the worst, how many were slow, and why it stopped early if it did.</summary>
sealed record PingSummary(int Pings, double WorstMs, int Slow, double SlowThresholdMs, double? P50Ms, double? P99Ms, string? Failure);

/// <summary>Reply times of a run of PINGs, in milliseconds (pure bookkeeping, no I/O).</summary>
sealed class PingStats(double slowThresholdMs)
{
    readonly List<double> _ms = [];

    public int Count => _ms.Count;
    public double WorstMs { get; private set; }
    /// <summary>Replies that took longer than the threshold (strictly).</summary>
    public int Slow { get; private set; }

    public void Add(double ms)
    {
        _ms.Add(ms);
        if (ms > WorstMs) WorstMs = ms;
        if (ms > slowThresholdMs) Slow++;
    }

    /// <summary>Nearest-rank percentile (p in 0..100); null before the first reply.</summary>
    public double? Percentile(double p)
    {
        if (_ms.Count == 0) return null;
        var sorted = _ms.Order().ToArray();
        int rank = (int)Math.Ceiling(p / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public PingSummary Summary(string? failure) =>
        new(Count, WorstMs, Slow, slowThresholdMs, Percentile(50), Percentile(99), failure);
}

/// <summary>Where the bytes received for one PING stand.</summary>
enum PongState { Incomplete, Pong, Other }

/// <summary>
/// A background thread that sends PING on one connection every <c>interval</c> (sleeping between a reply
/// and the next PING, as a monitoring client would) and times each reply: a server that stalls its event
/// loop (a GC, a blocking disk read, a checkpoint on the reactor) shows up as a slow PONG. The thread is
/// pinned to the client CPU, so the server CPU runs nothing but the server.
/// </summary>
sealed class PingProbe : IDisposable
{
    /// <summary>A reply that has not come after this long ends the probe (the server has hung).</summary>
    static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);

    static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();

    readonly int _port;
    readonly TimeSpan _interval;
    readonly int? _cpu;
    readonly PingStats _stats;
    readonly Thread _thread;
    readonly ManualResetEventSlim _stop = new();
    readonly ManualResetEventSlim _connected = new();
    Socket? _socket;
    string? _failure;

    PingProbe(int port, TimeSpan interval, double slowThresholdMs, int? cpu)
    {
        _port = port;
        _interval = interval;
        _cpu = cpu;
        _stats = new PingStats(slowThresholdMs);
        _thread = new Thread(Loop) { IsBackground = true, Name = "ping-probe" };
    }

    /// <summary>Connects, sends a first (uncounted) PING and returns once its PONG is in (or the probe failed).</summary>
    public static PingProbe Start(int port, TimeSpan interval, double slowThresholdMs, int? cpu)
    {
        var probe = new PingProbe(port, interval, slowThresholdMs, cpu);
        probe._thread.Start();
        probe._connected.Wait(ReplyTimeout + TimeSpan.FromSeconds(5));
        return probe;
    }

    /// <summary>Stops the thread after the PING in flight (if any) and returns what it saw.</summary>
    public PingSummary Stop()
    {
        _stop.Set();
        if (!_thread.Join(ReplyTimeout + TimeSpan.FromSeconds(5))) _socket?.Dispose();
        _thread.Join();
        return _stats.Summary(_failure);
    }

    public void Dispose()
    {
        _stop.Set();
        _socket?.Dispose();
        _thread.Join(TimeSpan.FromSeconds(5));
        _stop.Dispose();
        _connected.Dispose();
    }

    void Loop()
    {
        if (_cpu is int cpu) PinCurrentThread(cpu);
        var buffer = new byte[256];
        try
        {
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true, ReceiveTimeout = (int)ReplyTimeout.TotalMilliseconds, SendTimeout = (int)ReplyTimeout.TotalMilliseconds,
            };
            _socket.Connect(new IPEndPoint(IPAddress.Loopback, _port));
            // The first PING only opens the connection (the server accepts it then): it comes before the
            // load and is not counted.
            bool first = true;
            do
            {
                long start = Stopwatch.GetTimestamp();
                _socket.Send(Ping);
                int read = 0;
                PongState state;
                while ((state = Parse(buffer.AsSpan(0, read), out _)) == PongState.Incomplete)
                {
                    if (read == buffer.Length) { state = PongState.Other; break; }
                    int n = _socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
                    if (n == 0) { _failure = "the server closed the connection"; return; }
                    read += n;
                }
                if (!first || state != PongState.Pong) _stats.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                first = false;
                if (state != PongState.Pong)
                {
                    Parse(buffer.AsSpan(0, read), out var line);
                    _failure = $"PING answered '{line}'";
                    return;
                }
                _connected.Set();
            } while (!_stop.Wait(_interval));
        }
        catch (SocketException e)
        {
            _failure = e.SocketErrorCode == SocketError.TimedOut ? $"no PONG within {ReplyTimeout.TotalSeconds:F0} s" : $"socket error: {e.Message}";
        }
        catch (ObjectDisposedException)
        {
            _failure ??= "stopped while a PING was unanswered";
        }
        finally
        {
            _connected.Set();
            _socket?.Dispose();
        }
    }

    /// <summary>
    /// The reply to one PING so far: <see cref="PongState.Incomplete"/> until its first line is complete,
    /// then <see cref="PongState.Pong"/> for exactly <c>+PONG</c>, else <see cref="PongState.Other"/>
    /// (<c>-LOADING</c>, <c>-ERR</c>, anything) with the line in <paramref name="line"/>.
    /// </summary>
    public static PongState Parse(ReadOnlySpan<byte> received, out string line)
    {
        int end = received.IndexOf("\r\n"u8);
        if (end < 0)
        {
            line = "";
            return PongState.Incomplete;
        }
        line = Encoding.ASCII.GetString(received[..end]);
        return received[..end].SequenceEqual("+PONG"u8) ? PongState.Pong : PongState.Other;
    }

    [DllImport("libc", SetLastError = true)]
    static extern int sched_setaffinity(int pid, nint cpusetsize, ref ulong mask);

    /// <summary>pid 0 = the calling thread only. Best effort: unpinned, the probe still measures, a little noisier.</summary>
    static void PinCurrentThread(int cpu)
    {
        if (cpu is < 0 or >= 64) return;
        ulong mask = 1UL << cpu;
        _ = sched_setaffinity(0, sizeof(ulong), ref mask);
    }
}
