using System.Net;
using System.Net.Sockets;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>
/// Hands out loopback ports that are free right now, below the kernel's ephemeral range (so a
/// concurrently running test that uses port 0 cannot take them), never the same one twice in a run.
/// </summary>
static class PortAllocator
{
    static int _first = 17100, _last = 30000;
    static int _next = 17100 + Environment.ProcessId % 1000 * 10;

    /// <summary>--ports: hand out ports from this range only (several harnesses on one machine).</summary>
    public static void UseRange(int first, int last)
    {
        (_first, _last) = (first, last);
        _next = first;
    }

    public static int Next()
    {
        for (int attempt = 0; attempt <= _last - _first; attempt++)
        {
            int port = _next++;
            if (_next > _last) _next = _first;
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { } // in use
        }
        throw new InvalidOperationException($"no free loopback port between {_first} and {_last}");
    }
}
