using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>Real Redis tools against NativeKv: redis-cli (installed by build.sh test).</summary>
public class RedisCliTests
{
    private static async Task<string> Cli(int port, params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(port.ToString());
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await p.WaitForExitAsync(cts.Token);
        return output.TrimEnd('\n');
    }

    [Test]
    public async Task Redis_cli_ping_echo_and_errors()
    {
        await using var server = await ServerProcess.StartAsync();
        await Assert.That(await Cli(server.Port, "PING")).IsEqualTo("PONG");
        await Assert.That(await Cli(server.Port, "ECHO", "hello world")).IsEqualTo("hello world");
        await Assert.That(await Cli(server.Port, "NOSUCH")).StartsWith("ERR unknown command 'NOSUCH'");
        await Assert.That(await Cli(server.Port, "-3", "HELLO", "3")).Contains("proto");
    }

    [Test]
    public async Task Redis_benchmark_ping_completes()
    {
        await using var server = await ServerProcess.StartAsync();
        var psi = new ProcessStartInfo("redis-benchmark") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-p", server.Port.ToString(), "-t", "ping_inline,ping_mbulk", "-n", "20000", "-c", "20", "-P", "16", "-q" }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(cts.Token);
        await Assert.That(p.ExitCode).IsEqualTo(0);
        await Assert.That(output).Contains("PING_INLINE: ");
        await Assert.That(output).Contains("PING_MBULK: ");
    }
}
