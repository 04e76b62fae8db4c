using System.Globalization;

namespace NativeKv.Tests.Infrastructure;

/// <summary>One field of an INFO section, as a number; what a server that stopped answering was doing.</summary>
internal static class ServerInfo
{
    public static double Field(RespClient c, string section, string name)
    {
        foreach (var line in c.Call("INFO", section).Text!.Split("\r\n"))
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"INFO {section} has no {name}");
    }

    /// <summary>
    /// Prints, for a test whose client waited in vain for a reply, the server's INFO (asked on a new connection,
    /// which a stalled reactor may not answer either) and the end of its log.
    /// </summary>
    public static void DumpStalled(ServerProcess server)
    {
        try
        {
            using var probe = new RespClient(server.Port, TimeSpan.FromSeconds(5));
            Console.WriteLine("INFO from a new connection:\n" + probe.Call("INFO", "everything").Text);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            Console.WriteLine("INFO from a new connection did not answer either: " + e.Message);
        }
        var log = server.LogText;
        Console.WriteLine("server log (last 4,000 characters):\n" + log[Math.Max(0, log.Length - 4000)..]);
    }
}
