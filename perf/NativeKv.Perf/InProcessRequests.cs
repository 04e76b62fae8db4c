using NativeKv.Server.Network;
using NativeKv.Server.Protocol;

namespace NativeKv.Perf;

/// <summary>Runs raw RESP input through a client's parser and the executor, as a reactor does per read, without a socket.</summary>
internal static class InProcessRequests
{
    /// <summary>Parses and executes every command in <paramref name="input"/>, then drops the replies.</summary>
    public static int Run(Client client, byte[] input)
    {
        var parser = client.Parser;
        var span = input.AsSpan();
        int n = 0;
        while (span.Length > 0 && parser.Parse(span, out int consumed) == ParseResult.Command)
        {
            client.Server.Executor.Execute(client, span, parser.Args);
            span = span[consumed..];
            n++;
        }
        client.Output.Clear();
        return n;
    }
}
