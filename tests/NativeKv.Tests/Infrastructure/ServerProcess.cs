using System.Diagnostics;
using System.Text.RegularExpressions;

namespace NativeKv.Tests.Infrastructure;

/// <summary>
/// Runs the real nativekv process on an ephemeral loopback port (--port 0, the port is read from
/// its "Listening on" log line) and kills it on dispose, whatever happened. By default the JIT build
/// next to the tests; NATIVEKV_BINARY points at another (the AOT binary in CI).
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _log = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process)
    {
        _process = process;
    }

    public int Port { get; private set; }
    public int Pid => _process.Id;
    public string DataDir { get; private set; } = "";
    public Process Process => _process;

    public string LogText
    {
        get { lock (_log) return string.Join('\n', _log); }
    }

    /// <summary>
    /// The log once it holds <paramref name="text"/>, or as it is after 10 s. The server's lines reach
    /// us through a pipe and a reader thread: a line logged just before a reply can arrive after it
    /// (a CI run read the log 69 ms after a disconnection and found its line missing).
    /// </summary>
    public async Task<string> LogOnceItHas(string text)
    {
        for (var wait = Stopwatch.StartNew(); wait.Elapsed < TimeSpan.FromSeconds(10); await Task.Delay(20))
        {
            var log = LogText;
            if (log.Contains(text, StringComparison.Ordinal)) return log;
        }
        return LogText;
    }

    /// <summary>Starts a server with extra "--name value" options; waits until it listens.</summary>
    public static async Task<ServerProcess> StartAsync(params string[] options)
    {
        var server = await StartInAsync(NewDataDir(), options);
        server._ownsData = true;
        return server;
    }

    private static string NewDataDir() => Path.Combine(Path.GetTempPath(), "nativekv-test-" + Guid.NewGuid().ToString("N"));

    /// <summary>
    /// The data directory is this server's own (made by StartAsync): it goes with the server. Left behind,
    /// 12,000 of them (up to 1 GB each) had filled this machine's disk, and the tests then failed with ENOSPC.
    /// </summary>
    private bool _ownsData;

    /// <summary>Starts a server whose data lives in <paramref name="dataDir"/> (kept for restarts).</summary>
    public static Task<ServerProcess> StartInAsync(string dataDir, params string[] options) => StartInAsync(dataDir, null, options);

    /// <summary>Starts a server with extra environment variables (e.g. DOTNET_GCHeapHardLimit).</summary>
    public static async Task<ServerProcess> StartWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, params string[] options)
    {
        var server = await StartInAsync(NewDataDir(), environment, options);
        server._ownsData = true;
        return server;
    }

    private static async Task<ServerProcess> StartInAsync(string dataDir, IReadOnlyDictionary<string, string>? environment, string[] options)
    {
        Directory.CreateDirectory(dataDir);
        var psi = BuildStartInfo();
        if (environment is not null)
        {
            foreach (var (name, value) in environment) psi.Environment[name] = value;
        }
        var args = new List<string> { "--port", "0", "--bind", "127.0.0.1", "--dir", dataDir };
        // CI runs the integration suite once per backend (NATIVEKV_IO_BACKEND=epoll|io_uring).
        var backend = Environment.GetEnvironmentVariable("NATIVEKV_IO_BACKEND");
        if (!string.IsNullOrEmpty(backend) && !options.Contains("--io-backend")) args.AddRange(["--io-backend", backend]);
        args.AddRange(options);
        foreach (var a in args) psi.ArgumentList.Add(a);
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var server = new ServerProcess(process) { DataDir = dataDir };
        process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        process.Exited += (_, _) => server._port.TrySetException(new InvalidOperationException("nativekv exited during start-up:\n" + server.LogText));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var done = await Task.WhenAny(server._port.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        if (done != server._port.Task)
        {
            await server.DisposeAsync();
            throw new TimeoutException("nativekv did not start listening within 30 s:\n" + server.LogText);
        }
        server.Port = await server._port.Task;
        return server;
    }

    /// <summary>
    /// Starts a server that must refuse to start (a damaged data directory): waits for it to exit
    /// and returns its exit code and everything it printed. Fails if it is still running after 30 s.
    /// </summary>
    public static async Task<(int ExitCode, string Log)> RunExpectingExitAsync(string dataDir, params string[] options)
    {
        var psi = BuildStartInfo();
        foreach (var a in new[] { "--port", "0", "--bind", "127.0.0.1", "--dir", dataDir }.Concat(options)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill();
            throw new InvalidOperationException("the server started although it was expected to refuse");
        }
        return (p.ExitCode, await stdout + await stderr);
    }

    /// <summary>The server executable: NATIVEKV_BINARY, else the apphost built beside the tests.</summary>
    public static ProcessStartInfo BuildStartInfo()
    {
        var env = Environment.GetEnvironmentVariable("NATIVEKV_BINARY");
        string file;
        if (!string.IsNullOrEmpty(env)) file = env;
        else file = Path.Combine(AppContext.BaseDirectory, "nativekv");
        if (!File.Exists(file)) throw new FileNotFoundException("nativekv executable not found", file);
        return new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        lock (_log) _log.Add(line);
        var m = ListeningRegex().Match(line);
        if (m.Success) _port.TrySetResult(int.Parse(m.Groups[1].Value));
    }

    [GeneratedRegex(@"Listening on 127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningRegex();

    /// <summary>Sends a signal (e.g. 15 for SIGTERM) and waits for exit; returns the exit code.</summary>
    public async Task<int> SignalAndWaitAsync(int signal, TimeSpan timeout)
    {
        using (var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {_process.Id}") { UseShellExecute = false }))
            kill!.WaitForExit();
        return await WaitForExitAsync(timeout);
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    public bool HasExited => _process.HasExited;

    private bool _disposed;

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        // A server that died on its own is the interesting part of a failure: show its log.
        if (_process.HasExited && _process.ExitCode != 0)
            Console.Error.WriteLine($"nativekv (pid {_process.Id}) exited with code {_process.ExitCode}:\n{LogText}");
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        if (_ownsData) DeleteData();
    }

    /// <summary>Removes the data directory (call after dispose when the test owns it).</summary>
    public void DeleteData()
    {
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
