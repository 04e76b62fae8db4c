using System.Net;
using System.Net.Sockets;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>
/// Hands out loopback ports that are free right now, below the kernel's ephemeral range (so a
/// concurrently running test that uses port 0 cannot take them), never the same one twice in a run.
/// </summary>
static class PortAllocator
{
    static int _next = 17100 + Environment.ProcessId % 1000 * 10;

    public static int Next()
    {
        for (int attempt = 0; attempt < 5000; attempt++)
        {
            int port = _next++;
            if (_next > 30000) _next = 17100;
            try
            {
                using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                probe.Bind(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException) { } // in use
        }
        throw new InvalidOperationException("no free loopback port between 17100 and 30000");
    }
}
