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
        var (_, output) = await RunAsync(psi, TimeSpan.FromSeconds(30));
        return output.TrimEnd('\n');
    }

    /// <summary>Runs a tool to completion, reading both pipes; killed (and reported) past the timeout.</summary>
    private static async Task<(int code, string stdout)> RunAsync(ProcessStartInfo psi, TimeSpan timeout)
    {
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{psi.FileName} did not finish in {timeout}: {await stdout} {await stderr}");
        }
        return (p.ExitCode, await stdout);
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
        var (code, output) = await RunAsync(psi, TimeSpan.FromSeconds(120));
        await Assert.That(code).IsEqualTo(0);
        await Assert.That(output).Contains("PING_INLINE: ");
        await Assert.That(output).Contains("PING_MBULK: ");
    }
}
