using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>Process-level behaviour: signals, start-up errors, command line, CPU pinning.</summary>
public class LifecycleTests
{
    [Test]
    public async Task Sigterm_flushes_and_exits_zero()
    {
        var server = await ServerProcess.StartAsync();
        await using (server)
        {
            using var c = new RespClient(server.Port);
            await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
            int code = await server.SignalAndWaitAsync(15, TimeSpan.FromSeconds(20));
            await Assert.That(code).IsEqualTo(0);
            await Assert.That(server.LogText).Contains("ready to exit");
        }
    }

    [Test]
    public async Task Sigint_exits_zero()
    {
        await using var server = await ServerProcess.StartAsync();
        int code = await server.SignalAndWaitAsync(2, TimeSpan.FromSeconds(20));
        await Assert.That(code).IsEqualTo(0);
    }

    /// <summary>
    /// A script's `nativekv &amp;` inherits SIGINT as ignored (and nohup-like wrappers may ignore
    /// SIGTERM); Redis shuts down on them all the same, and so must we.
    /// </summary>
    [Test]
    [Arguments(2, "INT")]
    [Arguments(15, "TERM")]
    public async Task Signal_inherited_as_ignored_still_shuts_down(int signal, string name)
    {
        // bash's `trap ''` sets SIG_IGN and exec keeps it: the precondition the test relies on.
        using (var probe = Process.Start(new ProcessStartInfo("bash", ["-c", $"trap '' {name}; exec grep SigIgn /proc/self/status"]) { RedirectStandardOutput = true, UseShellExecute = false })!)
        {
            var line = (await probe.StandardOutput.ReadToEndAsync()).Trim();
            ulong ignored = Convert.ToUInt64(line.Split('\t')[^1], 16);
            await Assert.That((ignored >> (signal - 1)) & 1).IsEqualTo(1UL);
        }
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"trap '' {name}; exec \"$0\" \"$@\"");
        psi.ArgumentList.Add(ServerProcess.BuildStartInfo().FileName);
        var dir = Directory.CreateTempSubdirectory("nativekv-test-").FullName;
        foreach (var a in new[] { "--port", "0", "--bind", "127.0.0.1", "--dir", dir }) psi.ArgumentList.Add(a);
        try
        {
            await using var s = await StartWith(psi);
            using (var c = new RespClient(s.port)) await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
            using (var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {s.process.Id}") { UseShellExecute = false })!)
                await kill.WaitForExitAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await s.process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"SIG{name} inherited as ignored did not stop the server:\n{s.log()}"); }
            await Assert.That(s.process.ExitCode).IsEqualTo(0);
            await Assert.That(s.log()).Contains($"Received SIG{name} scheduling shutdown...");
            await Assert.That(s.log()).Contains("ready to exit");
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task Port_in_use_is_a_clear_error_naming_the_address()
    {
        await using var first = await ServerProcess.StartAsync();
        var (code, output) = await RunAsync("--port", first.Port.ToString(), "--bind", "127.0.0.1", "--dir", Path.GetTempPath());
        await Assert.That(code).IsEqualTo(1);
        await Assert.That(output).Contains($"127.0.0.1:{first.Port}");
        await Assert.That(output).Contains("Address already in use");
    }

    [Test]
    public async Task Version_and_help()
    {
        var (code, output) = await RunAsync("--version");
        await Assert.That(code).IsEqualTo(0);
        await Assert.That(output).Contains("NativeKv server v=");
        var (hcode, help) = await RunAsync("--help");
        await Assert.That(hcode).IsEqualTo(0);
        foreach (var option in new[] { "--port", "--bind", "--io-threads", "--cpu-list", "--maxclients", "--timeout", "--requirepass", "--dir" })
            await Assert.That(help).Contains(option);
    }

    [Test]
    public async Task Bad_option_is_refused()
    {
        var (code, output) = await RunAsync("--no-such-option", "1");
        await Assert.That(code).IsEqualTo(1);
        await Assert.That(output).Contains("Bad directive");
    }

    [Test]
    public async Task Config_file_as_first_argument()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "# test config\nmaxclients 123\ntimeout 0\n");
            await using var server = await ServerProcess.StartAsync(); // ensures the binary exists
            var psi = ServerProcess.BuildStartInfo();
            foreach (var a in new[] { file, "--port", "0", "--bind", "127.0.0.1", "--dir", Path.GetTempPath() }) psi.ArgumentList.Add(a);
            await using var configured = await StartWith(psi);
            using var c = new RespClient(configured.port);
            var r = c.Call("CONFIG", "GET", "maxclients");
            await Assert.That(r.Items![1].Text).IsEqualTo("123");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public async Task Io_threads_and_cpu_list_pin_reactors()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2", "--cpu-list", "0,1");
        await Assert.That(server.LogText).Contains("2 reactor thread(s)");
        await Assert.That(server.LogText).Contains("pinned to CPUs 0,1");
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    public async Task Taskset_single_cpu_runs_one_reactor_on_that_cpu()
    {
        int cpu = Environment.ProcessorCount > 1 ? 1 : 0;
        var psi = new ProcessStartInfo("taskset") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(cpu.ToString());
        psi.ArgumentList.Add(ServerProcess.BuildStartInfo().FileName);
        foreach (var a in new[] { "--port", "0", "--bind", "127.0.0.1", "--dir", Path.GetTempPath() }) psi.ArgumentList.Add(a);
        await using var s = await StartWith(psi);
        await Assert.That(s.log()).Contains("1 reactor thread(s)");
        if (Environment.ProcessorCount > 1) await Assert.That(s.log()).Contains($"pinned to CPUs {cpu}");
    }

    private static async Task<(int code, string output)> RunAsync(params string[] args)
    {
        var psi = ServerProcess.BuildStartInfo();
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(true); throw; }
        return (p.ExitCode, await stdout + await stderr);
    }

    /// <summary>Starts an arbitrary command line that runs nativekv and waits for its port.</summary>
    private static async Task<RunningProcess> StartWith(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        var p = Process.Start(psi)!;
        var lines = new List<string>();
        var port = new TaskCompletionSource<int>();
        void OnLine(string? l)
        {
            if (l is null) return;
            lock (lines) lines.Add(l);
            var m = System.Text.RegularExpressions.Regex.Match(l, @"Listening on 127\.0\.0\.1:(\d+)");
            if (m.Success) port.TrySetResult(int.Parse(m.Groups[1].Value));
        }
        p.OutputDataReceived += (_, e) => OnLine(e.Data);
        p.ErrorDataReceived += (_, e) => OnLine(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        var done = await Task.WhenAny(port.Task, Task.Delay(20_000));
        var running = new RunningProcess(p, done == port.Task ? port.Task.Result : 0, () => { lock (lines) return string.Join('\n', lines); });
        if (done != port.Task)
        {
            await running.DisposeAsync();
            throw new TimeoutException("server did not start: " + running.log());
        }
        // Give the reactor start-up lines a moment to land (they precede "Listening").
        return running;
    }

    private sealed record RunningProcess(Process process, int port, Func<string> log) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill(true);
                await process.WaitForExitAsync();
            }
            process.Dispose();
        }
    }
}
