using System.Text;
using BenchmarkDotNet.Attributes;
using NativeKv.Server;
using NativeKv.Server.Config;
using NativeKv.Server.Network;
using NativeKv.Server.Storage;

namespace NativeKv.Perf;

/// <summary>
/// GET and SET of a 100-byte value through parser, executor and the FASTER store, in process
/// (no socket). [MemoryDiagnoser] must show 0 B allocated per operation.
/// </summary>
[MemoryDiagnoser]
public class GetSetBenchmarks
{
    private byte[] _get = null!, _set = null!, _getMissing = null!, _incr = null!;
    private Client _client = null!;
    private Reactor _reactor = null!;
    private ServerContext _context = null!;
    private string _dir = null!;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "nativekv-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        var config = new ServerConfig { Dir = _dir };
        _context = new ServerContext(config, new Log(TextWriter.Null));
        _context.Store = new Store(config, _context.Log);
        _reactor = new Reactor(_context, 0, -1) { Store = _context.Store.NewSession("bench") };
        _client = new Client(_context, -1, 1, "127.0.0.1:1", "127.0.0.1:6379") { Reactor = _reactor };
        var value = new string('v', 100);
        _set = Encoding.ASCII.GetBytes($"*3\r\n$3\r\nSET\r\n$8\r\nkey:0001\r\n$100\r\n{value}\r\n");
        _get = Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$8\r\nkey:0001\r\n");
        _getMissing = Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$8\r\nkey:9999\r\n");
        _incr = Encoding.ASCII.GetBytes("*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
        Run(_set);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Store.Dispose();
        _reactor.Dispose();
        _context.Store.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private int Run(byte[] input) => InProcessRequests.Run(_client, input);

    [Benchmark]
    public int Get() => Run(_get);

    [Benchmark]
    public int GetMissing() => Run(_getMissing);

    [Benchmark]
    public int Set() => Run(_set);

    [Benchmark]
    public int Incr() => Run(_incr);
}
