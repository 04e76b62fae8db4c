using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// MONITOR, SLOWLOG, CLIENT PAUSE and WAITAOF on the real process with two reactors: connections made in turn
/// land on reactors 0, 1, 0, 1, so the watcher and the watched are on different reactors.
/// </summary>
public class IntrospectionTests
{
    [Test]
    public async Task Monitor_sees_another_reactors_commands_with_secrets_redacted()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var monitor = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        using var client = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        await Assert.That(monitor.Call("MONITOR").Text).IsEqualTo("OK");
        client.Call("CLIENT", "SETNAME", "w");
        client.Call("SET", "k", "a b\n\"");
        await Assert.That(client.Call("AUTH", "secret").IsError).IsTrue();
        client.Call("HELLO", "2", "AUTH", "default", "secret2"); // the default user has no password: accepted
        client.Call("MULTI");
        client.Call("INCR", "n");
        client.Call("EXEC");
        client.Call("EVAL", "return redis.call('get', KEYS[1])", "1", "k");
        client.Call("CONFIG", "GET", "hz"); // admin: never shown
        client.Call("PING");
        var lines = new List<string>();
        while (lines.Count < 9) lines.Add(monitor.Read().Text!);
        var shown = lines.Select(l => l[(l.IndexOf(']') + 2)..]).ToArray();
        await Assert.That(string.Join("|", shown)).IsEqualTo(string.Join("|",
            "\"CLIENT\" \"SETNAME\" \"w\"", "\"SET\" \"k\" \"a b\\n\\\"\"", "\"AUTH\" \"(redacted)\"",
            "\"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"", "\"MULTI\"", "\"INCR\" \"n\"", "\"EXEC\"",
            "\"EVAL\" \"return redis.call('get', KEYS[1])\" \"1\" \"k\"", "\"get\" \"k\""));
        await Assert.That(lines[0]).Matches(@"^\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] ");
        await Assert.That(lines[8]).Contains("[0 lua]");
        await Assert.That(monitor.Read().Text!).EndsWith("\"PING\"");
        // A monitor touches no keyspace; RESET makes it a normal client again.
        await Assert.That(monitor.Call("GET", "k").Text).IsEqualTo("ERR Replica can't interact with the keyspace");
        await Assert.That(monitor.Call("RESET").Text).IsEqualTo("RESET");
        await Assert.That(monitor.Call("GET", "k").Text).IsEqualTo("a b\n\"");
    }

    [Test]
    public async Task Slowlog_keeps_entries_of_every_reactor_cut_as_redis_cuts_them()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var admin = new RespClient(server.Port);
        using var other = new RespClient(server.Port);
        admin.Call("CONFIG", "SET", "slowlog-log-slower-than", "0");
        admin.Call("SLOWLOG", "RESET");
        other.Call("CLIENT", "SETNAME", "writer");
        var rpush = new List<object> { "RPUSH", "l" };
        for (int i = 0; i < 40; i++) rpush.Add(i.ToString());
        other.Call(rpush.ToArray());
        other.Call("SET", "big", new string('x', 200));
        other.Call("AUTH", "pw");
        var addr = other.Call("CLIENT", "INFO").Text!.Split(' ').First(f => f.StartsWith("addr=", StringComparison.Ordinal))[5..];
        var entries = admin.Call("SLOWLOG", "GET", "4").Items!;
        await Assert.That(entries.Length).IsEqualTo(4);
        var auth = entries[1].Items!;
        await Assert.That(string.Join(" ", auth[3].Items!.Select(a => a.Text))).IsEqualTo("AUTH (redacted)");
        await Assert.That(auth[4].Text).IsEqualTo(addr);
        await Assert.That(auth[5].Text).IsEqualTo("writer");
        await Assert.That(entries[2].Items![3].Items![2].Text).IsEqualTo(new string('x', 128) + "... (72 more bytes)");
        var cut = entries[3].Items![3].Items!;
        await Assert.That(cut.Length).IsEqualTo(32);
        await Assert.That(cut[31].Text).IsEqualTo("... (11 more arguments)");
        // Ids count up across reactors; newest first.
        await Assert.That(entries[0].Items![0].Integer).IsEqualTo(entries[1].Items![0].Integer + 1);
        admin.Call("CONFIG", "SET", "slowlog-log-slower-than", "-1");
        long len = admin.Call("SLOWLOG", "LEN").Integer;
        other.Call("PING");
        await Assert.That(admin.Call("SLOWLOG", "LEN").Integer).IsEqualTo(len);
    }

    /// <summary>
    /// updateStatsOnUnblock(c, 0, 0, 0) on a timeout: the slow log and commandstats count the runs of the command that
    /// blocked (c->duration), never its wait. NativeKv logged such a command at 0 us.
    /// </summary>
    [Test]
    public async Task Slowlog_counts_a_timed_out_blocked_command_by_its_runs_not_its_wait()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "slowlog-log-slower-than", "0");
        c.Call("BLPOP", "nokey", "0.01"); // the first run compiles its paths (the tests' server is not the AOT build): 14 ms
        c.Call("CONFIG", "RESETSTAT");
        c.Call("SLOWLOG", "RESET");
        for (int i = 0; i < 20; i++) await Assert.That(c.Call("BLPOP", "nokey", "0.01").IsNull).IsTrue();
        var entries = c.Call("SLOWLOG", "GET", "40").Items!.Where(e => e.Items![3].Items![0].Text == "BLPOP").ToList();
        await Assert.That(entries.Count).IsEqualTo(20);
        long total = 0;
        foreach (var e in entries)
        {
            long us = e.Items![2].Integer;
            await Assert.That(us).IsLessThan(10_000L); // not the 10 ms wait
            total += us;
        }
        await Assert.That(total).IsGreaterThan(0L);
        var stats = c.Call("INFO", "commandstats").Text!.Split("\r\n").First(l => l.StartsWith("cmdstat_blpop:", StringComparison.Ordinal));
        await Assert.That(stats).StartsWith("cmdstat_blpop:calls=20,usec=");
        long usec = long.Parse(stats.Split(',')[1][5..]);
        await Assert.That(usec).IsEqualTo(total);
    }

    /// <summary>
    /// flushAppendOnlyFile's latency events under appendfsync always: "aof-fsync-always" for the fdatasync of a commit,
    /// and "aof-write" with "aof-write-alone" for its write, once a step reaches latency-monitor-threshold (1 ms; this
    /// machine's disk took 2-74 ms an fdatasync). SETs are sent until the fsync event shows, for at most 10 s.
    /// </summary>
    [Test]
    public async Task Latency_monitor_records_the_aof_fsync_under_appendfsync_always()
    {
        await using var server = await ServerProcess.StartAsync("--appendonly", "yes", "--appendfsync", "always", "--latency-monitor-threshold", "1");
        using var c = new RespClient(server.Port);
        var names = new HashSet<string>();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; !names.Contains("aof-fsync-always") && sw.Elapsed < TimeSpan.FromSeconds(10); i++)
        {
            c.Call("SET", "k" + i, "v");
            if (i % 20 != 0) continue;
            names.Clear();
            foreach (var e in c.Call("LATENCY", "LATEST").Items!) names.Add(e.Items![0].Text!);
        }
        await Assert.That(names).Contains("aof-fsync-always");
        foreach (var n in names) await Assert.That(new[] { "aof-fsync-always", "aof-write", "aof-write-alone", "command", "fast-command" }).Contains(n);
        await Assert.That(c.Call("LATENCY", "HISTORY", "aof-fsync-always").Items!.Length).IsGreaterThan(0);
        // Off again: nothing more is recorded.
        c.Call("CONFIG", "SET", "latency-monitor-threshold", "0");
        c.Call("LATENCY", "RESET");
        for (int i = 0; i < 50; i++) c.Call("SET", "after" + i, "v");
        await Assert.That(c.Call("LATENCY", "LATEST").Items!.Length).IsEqualTo(0);
    }

    [Test]
    public async Task Client_pause_write_holds_a_set_on_another_reactor_until_unpause()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var pauser = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        using var writer = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        using var reader = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        writer.Call("SET", "k", "old");
        await Assert.That(pauser.Call("CLIENT", "PAUSE", "60000", "WRITE").Text).IsEqualTo("OK");
        writer.Send("SET", "k", "new");
        await Task.Delay(300);
        await Assert.That(writer.Socket.Available).IsEqualTo(0);
        await Assert.That(reader.Call("GET", "k").Text).IsEqualTo("old"); // reads pass
        await Assert.That(reader.Call("CLIENT", "LIST").Text!).Contains("flags=b");
        // A postponed client counts as blocked (7.2's blockClient(c, BLOCKED_POSTPONE); redis-server 7.0.15 said 1 here).
        await Assert.That(reader.Call("INFO", "clients").Text!).Contains("blocked_clients:1\r\n");
        await Assert.That(pauser.Call("CLIENT", "UNPAUSE").Text).IsEqualTo("OK");
        await Assert.That(writer.Read().Text).IsEqualTo("OK");
        await Assert.That(reader.Call("GET", "k").Text).IsEqualTo("new");
        await Assert.That(reader.Call("INFO", "clients").Text!).Contains("blocked_clients:0\r\n");
    }

    [Test]
    public async Task Client_pause_ends_by_its_timeout()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var pauser = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        using var other = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        pauser.Call("CLIENT", "PAUSE", "400", "ALL");
        var sw = Stopwatch.StartNew();
        await Assert.That(other.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(sw.ElapsedMilliseconds).IsBetween(300, 3000);
        sw.Restart();
        await Assert.That(other.Call("SET", "a", "1").Text).IsEqualTo("OK");
        // The pause is over: not held again (a loaded CI machine can take a while to answer anything).
        await Assert.That(sw.ElapsedMilliseconds).IsLessThan(2000);
    }

    /// <summary>
    /// WAITAOF (7.2's replication.c; the recording 7.0.15 has none): [acklocal, 0] once the AOF is synced past
    /// the client's last write, at once under always, at the next once-a-second sync under everysec.
    /// </summary>
    [Test]
    public async Task Waitaof_counts_the_local_fsync()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(10));
        await Assert.That(c.Call("WAITAOF", "1", "0", "0").Text).IsEqualTo("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.");
        await Assert.That(c.Call("WAITAOF", "0", "0", "0").ToString()).IsEqualTo(new Reply('*', null, 0, [new Reply(':', null, 0, null), new Reply(':', null, 0, null)]).ToString());
        c.Call("CONFIG", "SET", "appendonly", "yes");
        c.Call("SET", "k", "v");
        var sw = Stopwatch.StartNew();
        var got = c.Call("WAITAOF", "1", "0", "0").Items!;
        await Assert.That(got.Select(i => i.Integer).ToArray()).IsEquivalentTo(new long[] { 1, 0 });
        await Assert.That(sw.ElapsedMilliseconds).IsLessThan(2500);
        // No replica ever answers: asking for one waits out the timeout.
        sw.Restart();
        got = c.Call("WAITAOF", "1", "1", "200").Items!;
        await Assert.That(got.Select(i => i.Integer).ToArray()).IsEquivalentTo(new long[] { 1, 0 });
        await Assert.That(sw.ElapsedMilliseconds).IsGreaterThanOrEqualTo(190);
        await Assert.That(c.Call("WAIT", "1", "200").Integer).IsEqualTo(0);
    }
}
