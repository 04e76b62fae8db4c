using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Config;

/// <summary>CONFIG GET / SET / RESETSTAT / REWRITE / HELP against the real process; texts observed on redis-server.</summary>
public class ConfigCommandTests
{
    private static Dictionary<string, string> Pairs(Reply r)
    {
        var d = new Dictionary<string, string>();
        for (int i = 0; i + 1 < r.Items!.Length; i += 2) d[r.Items[i].Text!] = r.Items[i + 1].Text!;
        return d;
    }

    [Test]
    public async Task Get_exact_names_patterns_and_aliases()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("CONFIG", "GET", "maxclients");
        await Assert.That(r.Type).IsEqualTo('*');
        await Assert.That(r.ToString()).IsEqualTo("[maxclients, 10000]");
        // An exact name is echoed as given, once, however it is spelled.
        await Assert.That(c.Call("CONFIG", "GET", "MAXCLIENTS").ToString()).IsEqualTo("[MAXCLIENTS, 10000]");
        await Assert.That(c.Call("CONFIG", "GET", "maxclients", "MAXCLIENTS").ToString()).IsEqualTo("[maxclients, 10000]");
        await Assert.That(c.Call("CONFIG", "GET", "MAXCLIENT?").ToString()).IsEqualTo("[maxclients, 10000]");
        await Assert.That(c.Call("CONFIG", "GET", "nosuchparam").ToString()).IsEqualTo("[]");
        // Several patterns in one call (Redis 7).
        var multi = Pairs(c.Call("CONFIG", "GET", "port", "hash-max-*"));
        await Assert.That(multi.Keys.Order().ToArray()).IsEquivalentTo(new[]
        {
            "hash-max-listpack-entries", "hash-max-listpack-value", "hash-max-ziplist-entries", "hash-max-ziplist-value", "port",
        });
        await Assert.That(multi["hash-max-ziplist-entries"]).IsEqualTo("512");
        // Hidden parameters answer only to their exact name.
        await Assert.That(c.Call("CONFIG", "GET", "use-exit-on-panic").ToString()).IsEqualTo("[use-exit-on-panic, no]");
        await Assert.That(c.Call("CONFIG", "GET", "use-exit*").ToString()).IsEqualTo("[]");
        var all = Pairs(c.Call("CONFIG", "GET", "*"));
        await Assert.That(all.Count).IsGreaterThanOrEqualTo(190);
        await Assert.That(all["dir"]).IsEqualTo(Path.GetFullPath(server.DataDir));
        // The fixture passes --io-backend when CI pins a backend (NATIVEKV_IO_BACKEND).
        var backend = Environment.GetEnvironmentVariable("NATIVEKV_IO_BACKEND");
        await Assert.That(all["io-backend"]).IsEqualTo(string.IsNullOrEmpty(backend) ? "auto" : backend);
    }

    [Test]
    public async Task Get_replies_a_map_in_resp3()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("HELLO", "3");
        var r = c.Call("CONFIG", "GET", "maxclients", "timeout");
        await Assert.That(r.Type).IsEqualTo('%');
        await Assert.That(r.Items!.Length).IsEqualTo(4);
    }

    [Test]
    public async Task Set_then_get()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "maxmemory", "1GB").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "maxmemory").ToString()).IsEqualTo("[maxmemory, 1073741824]");
        await Assert.That(c.Call("CONFIG", "SET", "hash-max-ziplist-entries", "100", "lua-time-limit", "100").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "hash-max-listpack-entries").ToString()).IsEqualTo("[hash-max-listpack-entries, 100]");
        await Assert.That(c.Call("CONFIG", "GET", "busy-reply-threshold").ToString()).IsEqualTo("[busy-reply-threshold, 100]");
        await Assert.That(c.Call("CONFIG", "SET", "save", "").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "save").ToString()).IsEqualTo("[save, ]");
        await Assert.That(c.Call("CONFIG", "SET", "save", "900 1 300 10").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "save").ToString()).IsEqualTo("[save, 900 1 300 10]");
        await Assert.That(c.Call("CONFIG", "SET", "hz", "1000").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "hz").ToString()).IsEqualTo("[hz, 500]");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "1").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "10000").Text).IsEqualTo("OK");
        // A new password takes effect for new connections.
        await Assert.That(c.Call("CONFIG", "SET", "requirepass", "s3cret").Text).IsEqualTo("OK");
        using (var d = new RespClient(server.Port))
        {
            await Assert.That(d.Call("PING").Text).StartsWith("NOAUTH");
            await Assert.That(d.Call("AUTH", "s3cret").Text).IsEqualTo("OK");
            await Assert.That(d.Call("CONFIG", "SET", "requirepass", "").Text).IsEqualTo("OK");
        }
    }

    [Test]
    public async Task Set_errors_match_redis()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "foo", "bar").Text).IsEqualTo("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "10", "foo", "bar").Text).IsEqualTo("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "abc").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "-1").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive");
        await Assert.That(c.Call("CONFIG", "SET", "daemonize", "yes").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
        await Assert.That(c.Call("CONFIG", "SET", "port", "7000").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "10", "MAXCLIENTS", "20").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'MAXCLIENTS') - duplicate parameter");
        await Assert.That(c.Call("CONFIG", "SET", "hash-max-listpack-entries", "1", "hash-max-ziplist-entries", "2").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - duplicate parameter");
        await Assert.That(c.Call("CONFIG", "SET", "dbfilename", "x.rdb").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config");
        await Assert.That(c.Call("CONFIG", "SET", "dir", "/tmp").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config");
        await Assert.That(c.Call("CONFIG", "SET", "loglevel", "foo").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
        // The reported name is the parameter's own name when a value is refused.
        await Assert.That(c.Call("CONFIG", "SET", "slave-read-only", "maybe").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'replica-read-only') - argument must be 'yes' or 'no'");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "10", "x").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients").Text).IsEqualTo("ERR wrong number of arguments for 'config|set' command");
        await Assert.That(c.Call("CONFIG", "GET").Text).IsEqualTo("ERR wrong number of arguments for 'config|get' command");
        await Assert.That(c.Call("CONFIG", "FOO").Text).IsEqualTo("ERR unknown subcommand 'FOO'. Try CONFIG HELP.");
    }

    [Test]
    public async Task Set_is_all_or_nothing()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "50", "timeout", "5", "loglevel", "bogus").Text).StartsWith("ERR CONFIG SET failed");
        await Assert.That(c.Call("CONFIG", "GET", "maxclients", "timeout").ToString()).IsEqualTo("[maxclients, 10000, timeout, 0]");
        await Assert.That(c.Call("CONFIG", "SET", "maxclients", "50", "timeout", "5").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "GET", "maxclients", "timeout").ToString()).IsEqualTo("[maxclients, 50, timeout, 5]");
    }

    [Test]
    public async Task Protected_configs_can_be_enabled_at_startup()
    {
        await using var server = await ServerProcess.StartAsync("--enable-protected-configs", "local");
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "dbfilename", "x.rdb").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CONFIG", "SET", "dbfilename", "a/x.rdb").Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename");
        await Assert.That(c.Call("CONFIG", "SET", "dir", Path.Combine(server.DataDir, "missing")).Text)
            .IsEqualTo("ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory");
    }

    [Test]
    public async Task Startup_accepts_redis_parameters()
    {
        await using var server = await ServerProcess.StartAsync(
            "--save", "", "--appendonly", "no", "--hash-max-ziplist-entries", "64", "--maxmemory", "100mb",
            "--maxmemory-policy", "allkeys-lru", "--notify-keyspace-events", "KEA", "--client-output-buffer-limit", "pubsub 64mb 16mb 90");
        using var c = new RespClient(server.Port);
        var v = Pairs(c.Call("CONFIG", "GET", "save", "appendonly", "hash-max-listpack-entries", "maxmemory", "maxmemory-policy", "notify-keyspace-events", "client-output-buffer-limit"));
        await Assert.That(v["save"]).IsEqualTo("");
        await Assert.That(v["appendonly"]).IsEqualTo("no");
        await Assert.That(v["hash-max-listpack-entries"]).IsEqualTo("64");
        await Assert.That(v["maxmemory"]).IsEqualTo("104857600");
        await Assert.That(v["maxmemory-policy"]).IsEqualTo("allkeys-lru");
        await Assert.That(v["notify-keyspace-events"]).IsEqualTo("AKE");
        await Assert.That(v["client-output-buffer-limit"]).IsEqualTo("normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 90");
    }

    [Test]
    public async Task Resetstat_and_help()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("PING");
        await Assert.That(c.Call("CONFIG", "RESETSTAT").Text).IsEqualTo("OK");
        var help = c.Call("CONFIG", "HELP");
        await Assert.That(help.Items![0].Text).IsEqualTo("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        await Assert.That(help.Items[1].Text).IsEqualTo("GET <pattern>");
        await Assert.That(help.Items[^1].Text).IsEqualTo("    Print this help.");
        await Assert.That(help.Items.Length).IsEqualTo(11);
    }

    [Test]
    public async Task Rewrite_without_a_file_is_refused()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "REWRITE").Text).IsEqualTo("ERR The server is running without a config file");
    }

    [Test]
    public async Task Rewrite_updates_the_startup_config_file()
    {
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        var file = Path.Combine(dir, "nativekv.conf");
        File.WriteAllText(file, $"# test config\nport 0\nbind 127.0.0.1\ndir {dir}\nmaxmemory 100mb\n");
        var psi = ServerProcess.BuildStartInfo();
        psi.ArgumentList.Add(file);
        using var process = new System.Diagnostics.Process { StartInfo = psi };
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void OnLine(string? line)
        {
            if (line is null) return;
            log.Enqueue(line);
            var m = System.Text.RegularExpressions.Regex.Match(line, @"Listening on 127\.0\.0\.1:(\d+)");
            if (m.Success) port.TrySetResult(int.Parse(m.Groups[1].Value));
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            var done = await Task.WhenAny(port.Task, Task.Delay(TimeSpan.FromSeconds(30)));
            if (done != port.Task) throw new TimeoutException("nativekv did not start:\n" + string.Join('\n', log));
            using var c = new RespClient(await port.Task);
            await Assert.That(c.Call("CONFIG", "SET", "maxmemory", "200mb", "timeout", "30").Text).IsEqualTo("OK");
            await Assert.That(c.Call("CONFIG", "REWRITE").Text).IsEqualTo("OK");
            var lines = File.ReadAllLines(file);
            await Assert.That(lines[0]).IsEqualTo("# test config");
            await Assert.That(lines).Contains("maxmemory 200mb");
            await Assert.That(lines).Contains("timeout 30");
            await Assert.That(lines).DoesNotContain("maxmemory 100mb");
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }
}
