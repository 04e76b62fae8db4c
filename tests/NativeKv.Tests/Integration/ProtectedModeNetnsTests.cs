using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using NativeKv.Server.Network;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// protected-mode end to end: the server runs in its own network namespace, bound to one end of
/// a veth pair (and to its loopback); the client connects from a second namespace holding the
/// other end (a thread that setns()es into it, so the socket is the real thing). Both namespaces
/// and their 10.250.0.0/24 addresses exist only for the test and are deleted after it.
/// </summary>
public partial class ProtectedModeNetnsTests
{
    private const string ServerIp = "10.250.0.1";
    private const string ClientIp = "10.250.0.2";
    private const int CLONE_NEWNET = 0x40000000;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    [Test]
    public async Task Non_loopback_client_is_denied_without_a_password_and_served_with_one_or_with_protected_mode_off()
    {
        using var net = Namespaces.Create();
        var dir = Directory.CreateTempSubdirectory("nativekv-test-").FullName;
        try
        {
            // Defaults: protected-mode yes, no password.
            await using (var server = await NsServer.StartAsync(net.Server, dir))
            {
                await Assert.That(ReadUntilClosed(ConnectFrom(net.Client, ServerIp, server.Port))).IsEqualTo(Encoding.Latin1.GetString(ProtectedMode.Denied));
                // The server's own veth address is not loopback either (Redis compares the peer's address with 127.*).
                await Assert.That(ReadUntilClosed(ConnectFrom(net.Server, ServerIp, server.Port))).StartsWith("-DENIED Redis is running in protected mode");
                using var local = ConnectFrom(net.Server, "127.0.0.1", server.Port);
                await Assert.That(Call(local, "PING")).IsEqualTo("+PONG\r\n");
                await Assert.That(Call(local, "INFO", "stats")).Contains("rejected_connections:2");

                // CONFIG SET applies to the next connection, as in Redis.
                await Assert.That(Call(local, "CONFIG", "SET", "protected-mode", "no")).IsEqualTo("+OK\r\n");
                using (var remote = ConnectFrom(net.Client, ServerIp, server.Port))
                    await Assert.That(Call(remote, "PING")).IsEqualTo("+PONG\r\n");
                await Assert.That(Call(local, "CONFIG", "SET", "protected-mode", "yes")).IsEqualTo("+OK\r\n");
                await Assert.That(ReadUntilClosed(ConnectFrom(net.Client, ServerIp, server.Port))).StartsWith("-DENIED");
                await Assert.That(Call(local, "CONFIG", "SET", "requirepass", "secret")).IsEqualTo("+OK\r\n");
                using (var remote = ConnectFrom(net.Client, ServerIp, server.Port))
                {
                    await Assert.That(Call(remote, "PING")).IsEqualTo("-NOAUTH Authentication required.\r\n");
                    await Assert.That(Call(remote, "AUTH", "secret")).IsEqualTo("+OK\r\n");
                    await Assert.That(Call(remote, "PING")).IsEqualTo("+PONG\r\n");
                }
            }
            await using (var server = await NsServer.StartAsync(net.Server, dir, "--protected-mode", "no"))
            {
                using var remote = ConnectFrom(net.Client, ServerIp, server.Port);
                await Assert.That(Call(remote, "PING")).IsEqualTo("+PONG\r\n");
            }
            await using (var server = await NsServer.StartAsync(net.Server, dir, "--requirepass", "pw"))
            {
                using var remote = ConnectFrom(net.Client, ServerIp, server.Port);
                await Assert.That(Call(remote, "AUTH", "pw")).IsEqualTo("+OK\r\n");
                await Assert.That(Call(remote, "PING")).IsEqualTo("+PONG\r\n");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A TCP connection made from inside network namespace <paramref name="ns"/>.</summary>
    private static Socket ConnectFrom(string ns, string ip, int port)
    {
        Socket? socket = null;
        Exception? error = null;
        // setns changes only the calling thread: a thread of our own, which ends right after.
        var t = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{ns}");
                if (SetNs((int)handle.DangerousGetHandle(), CLONE_NEWNET) != 0)
                    throw new InvalidOperationException($"setns({ns}) failed: errno {Marshal.GetLastPInvokeError()}");
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000, SendTimeout = 10_000 };
                s.Connect(System.Net.IPAddress.Parse(ip), port);
                socket = s;
            }
            catch (Exception e) { error = e; }
        });
        t.Start();
        if (!t.Join(TimeSpan.FromSeconds(15))) throw new TimeoutException($"connect from {ns} to {ip}:{port} hung");
        if (error is not null) throw new InvalidOperationException($"connect from {ns} to {ip}:{port}: {error.Message}", error);
        return socket!;
    }

    /// <summary>Everything the server sends until it closes the connection (10 s at most).</summary>
    private static string ReadUntilClosed(Socket s)
    {
        using (s)
        {
            var all = new MemoryStream();
            var buf = new byte[4096];
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
                int n;
                try { n = s.Receive(buf); }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { break; }
                if (n == 0) break;
                all.Write(buf, 0, n);
            }
            return Encoding.Latin1.GetString(all.ToArray());
        }
    }

    /// <summary>Sends one command and reads one reply (single line, or a bulk as a whole).</summary>
    private static string Call(Socket s, params string[] args)
    {
        s.Send(RespClient.Encode(args));
        var sb = new StringBuilder();
        var one = new byte[1];
        while (!sb.ToString().EndsWith("\r\n"))
        {
            if (s.Receive(one) == 0) throw new EndOfStreamException("server closed: " + sb);
            sb.Append((char)one[0]);
        }
        var line = sb.ToString();
        if (line[0] != '$' && line[0] != '=') return line;
        int len = int.Parse(line[1..^2]);
        var body = new byte[len + 2];
        for (int got = 0; got < body.Length;) got += s.Receive(body, got, body.Length - got, SocketFlags.None);
        return line + Encoding.Latin1.GetString(body);
    }

    /// <summary>Two network namespaces joined by a veth pair; deleted (with the pair) on dispose.</summary>
    private sealed class Namespaces : IDisposable
    {
        public string Server { get; }
        public string Client { get; }

        private Namespaces(string tag)
        {
            Server = "nkvs" + tag;
            Client = "nkvc" + tag;
        }

        public static Namespaces Create()
        {
            var tag = Guid.NewGuid().ToString("N")[..8];
            var net = new Namespaces(tag);
            if (Ip($"netns add {net.Server}") is { } refused)
                Skip.Test($"ip netns is not available here, protected-mode is covered by ProtectedModeTests only: {refused}");
            try
            {
                Run($"netns add {net.Client}");
                Run($"link add vs{tag} netns {net.Server} type veth peer name vc{tag} netns {net.Client}");
                Run($"-n {net.Server} addr add {ServerIp}/24 dev vs{tag}");
                Run($"-n {net.Client} addr add {ClientIp}/24 dev vc{tag}");
                foreach (var (ns, dev) in new[] { (net.Server, $"vs{tag}"), (net.Client, $"vc{tag}") })
                {
                    Run($"-n {ns} link set lo up");
                    Run($"-n {ns} link set {dev} up");
                }
            }
            catch
            {
                net.Dispose();
                throw;
            }
            return net;
        }

        private static void Run(string args)
        {
            if (Ip(args) is { } error) throw new InvalidOperationException($"ip {args}: {error}");
        }

        /// <summary>Runs ip(8); null on success, else its stderr.</summary>
        private static string? Ip(string args)
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
            try
            {
                using var p = Process.Start(psi)!;
                var err = p.StandardError.ReadToEnd();
                p.WaitForExit(10_000);
                return p.ExitCode == 0 ? null : err.Trim();
            }
            catch (System.ComponentModel.Win32Exception e) { return e.Message; }
        }

        public void Dispose()
        {
            // Deleting a namespace deletes its end of the veth pair, and with it the pair.
            Ip($"netns del {Server}");
            Ip($"netns del {Client}");
        }
    }

    /// <summary>nativekv started with `ip netns exec`, bound to the veth address and loopback.</summary>
    private sealed partial class NsServer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly List<string> _log = new();

        private NsServer(Process process) => _process = process;

        public int Port { get; private set; }

        public static async Task<NsServer> StartAsync(string ns, string dir, params string[] options)
        {
            var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", ns, ServerProcess.BuildStartInfo().FileName, "--port", "0", "--bind", ServerIp, "127.0.0.1", "--dir", dir })
                psi.ArgumentList.Add(a);
            var backend = Environment.GetEnvironmentVariable("NATIVEKV_IO_BACKEND");
            if (!string.IsNullOrEmpty(backend)) { psi.ArgumentList.Add("--io-backend"); psi.ArgumentList.Add(backend); }
            foreach (var o in options) psi.ArgumentList.Add(o);
            var server = new NsServer(new Process { StartInfo = psi });
            var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnLine(string? line)
            {
                if (line is null) return;
                lock (server._log) server._log.Add(line);
                var m = ListeningRegex().Match(line);
                if (m.Success) port.TrySetResult(int.Parse(m.Groups[1].Value));
            }
            server._process.OutputDataReceived += (_, e) => OnLine(e.Data);
            server._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
            server._process.Start();
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            if (await Task.WhenAny(port.Task, Task.Delay(30_000)) != port.Task)
            {
                await server.DisposeAsync();
                lock (server._log) throw new TimeoutException("nativekv did not listen in its namespace:\n" + string.Join('\n', server._log));
            }
            server.Port = await port.Task;
            return server;
        }

        [GeneratedRegex(@"Listening on 10\.250\.0\.1:(\d+)")]
        private static partial Regex ListeningRegex();

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
            }
            _process.Dispose();
        }
    }
}
