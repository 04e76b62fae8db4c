using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>Minimal RESP over a socket: enough to see whether a server answers PING.</summary>
static class RespProbe
{
    static readonly byte[] Ping = "*1\r\n$4\r\nPING\r\n"u8.ToArray();

    /// <summary>
    /// Polls 127.0.0.1:<paramref name="port"/> until a PING gets +PONG and returns the time since
    /// <paramref name="sinceSpawn"/> was started; null if <paramref name="exited"/> turns true or the timeout passes.
    /// </summary>
    public static TimeSpan? WaitForPong(int port, Stopwatch sinceSpawn, TimeSpan timeout, Func<bool> exited)
    {
        while (sinceSpawn.Elapsed < timeout)
        {
            if (TryPing(port)) return sinceSpawn.Elapsed;
            if (exited()) return null;
            Thread.Sleep(1);
        }
        return null;
    }

    /// <summary>One connection, one PING; true only on a +PONG reply.</summary>
    public static bool TryPing(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true, ReceiveTimeout = 2000, SendTimeout = 2000,
        };
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
            socket.Send(Ping);
            var buffer = new byte[64];
            int read = 0;
            while (read < buffer.Length)
            {
                int n = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
                if (n == 0) break;
                read += n;
                if (buffer.AsSpan(0, read).IndexOf("\r\n"u8) >= 0) break;
            }
            // A server still loading answers -LOADING; keep polling until it says +PONG.
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false; // not listening yet, or reset
        }
    }
}
