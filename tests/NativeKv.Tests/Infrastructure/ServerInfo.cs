using System.Globalization;

namespace NativeKv.Tests.Infrastructure;

/// <summary>One field of an INFO section, as a number.</summary>
internal static class ServerInfo
{
    public static double Field(RespClient c, string section, string name)
    {
        foreach (var line in c.Call("INFO", section).Text!.Split("\r\n"))
            if (line.StartsWith(name + ":", StringComparison.Ordinal))
                return double.Parse(line[(name.Length + 1)..], CultureInfo.InvariantCulture);
        throw new InvalidOperationException($"INFO {section} has no {name}");
    }
}
