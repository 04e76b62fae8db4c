using System.Text;
using BenchmarkDotNet.Attributes;
using NativeKv.Server;
using NativeKv.Server.Commands;
using NativeKv.Server.Config;
using NativeKv.Server.Network;

namespace NativeKv.Perf;

/// <summary>
/// Parse + lookup + execute of common requests, as a reactor does per read, without the socket.
/// [MemoryDiagnoser] must show 0 B allocated per operation.
/// </summary>
[MemoryDiagnoser]
public class ParseDispatchBenchmarks
{
    private byte[] _ping = null!, _echo = null!, _pipeline = null!, _inline = null!;
    private Client _client = null!;
    private Reactor _reactor = null!;

    [GlobalSetup]
    public void Setup()
    {
        var context = new ServerContext(new ServerConfig(), new Log(TextWriter.Null));
        _reactor = new Reactor(context, 0, -1);
        _client = new Client(context, -1, 1, "127.0.0.1:1", "127.0.0.1:6379") { Reactor = _reactor };
        _ping = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n");
        _echo = Encoding.ASCII.GetBytes("*2\r\n$4\r\nECHO\r\n$100\r\n" + new string('v', 100) + "\r\n");
        _inline = Encoding.ASCII.GetBytes("PING\r\n");
        var sb = new StringBuilder();
        for (int i = 0; i < 16; i++) sb.Append("*2\r\n$4\r\nECHO\r\n$10\r\n0123456789\r\n");
        _pipeline = Encoding.ASCII.GetBytes(sb.ToString());
    }

    [GlobalCleanup]
    public void Cleanup() => _reactor.Dispose();

    private int Run(byte[] input) => InProcessRequests.Run(_client, input);

    [Benchmark]
    public int Ping() => Run(_ping);

    [Benchmark]
    public int InlinePing() => Run(_inline);

    [Benchmark]
    public int Echo100() => Run(_echo);

    [Benchmark(OperationsPerInvoke = 16)]
    public int Pipeline16Echo() => Run(_pipeline);

    [Benchmark]
    public int LookupOnly() => CommandTable.Lookup("echo"u8);
}
