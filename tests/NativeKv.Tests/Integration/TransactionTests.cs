using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// MULTI/EXEC/WATCH between clients on both reactors (the acceptor deals connections round robin, so
/// consecutive connections sit on different reactors), expiry of watched keys, and a transaction's AOF
/// records as one frame through kill -9. One connection's semantics: Commands/TransactionCommandTests.
/// </summary>
public class TransactionTests
{
    private static Reply[] Exec(RespClient c, params string[][] commands)
    {
        c.Call("MULTI");
        foreach (var cmd in commands) c.Call(cmd);
        var r = c.Call("EXEC");
        return r.Items!;
    }

    [Test]
    public async Task A_write_on_the_other_reactor_fails_the_exec_of_a_watcher()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var watcher = new RespClient(server.Port);
        using var other = new RespClient(server.Port);
        watcher.Call("SET", "k", "1");
        await Assert.That(watcher.Call("WATCH", "k", "h").Text).IsEqualTo("OK");
        other.Call("GET", "k"); // a read does not touch
        other.Call("HSET", "h", "f", "v"); // creating a watched key does
        watcher.Call("MULTI");
        watcher.Call("SET", "k", "mine");
        var r = watcher.Call("EXEC");
        await Assert.That(r.IsNull).IsTrue();
        await Assert.That(other.Call("GET", "k").Text).IsEqualTo("1");
        // Watches end with EXEC: the next transaction runs.
        await Assert.That(Exec(watcher, ["SET", "k", "mine"])[0].Text).IsEqualTo("OK");
        // A DEL of a missing key changes nothing and touches nothing.
        watcher.Call("WATCH", "k");
        other.Call("DEL", "missing");
        await Assert.That(Exec(watcher, ["GET", "k"])[0].Text).IsEqualTo("mine");
    }

    [Test]
    public async Task Client_list_shows_a_transaction_its_queue_and_a_touched_watch()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        using var other = new RespClient(server.Port);
        long id = c.Call("CLIENT", "ID").Integer;
        string Line() => other.Call("CLIENT", "LIST", "ID", id.ToString()).Text!;
        await Assert.That(Line()).Contains(" flags=N ");
        await Assert.That(Line()).Contains(" multi=-1 ");
        c.Call("MULTI");
        c.Call("GET", "k");
        c.Call("GET", "k");
        await Assert.That(Line()).Contains(" flags=x ");
        await Assert.That(Line()).Contains(" multi=2 ");
        c.Call("DISCARD");
        c.Call("WATCH", "k");
        other.Call("SET", "k", "1");
        c.Call("MULTI");
        c.Call("GET", "k");
        c.Call("GET", "k");
        // Redis's order: x (MULTI), then d (a watched key changed); a doomed transaction queues nothing.
        await Assert.That(Line()).Contains(" flags=xd ");
        await Assert.That(Line()).Contains(" multi=0 ");
        await Assert.That(c.Call("EXEC").IsNull).IsTrue();
        await Assert.That(Line()).Contains(" flags=N ");
    }

    [Test]
    public async Task Watch_and_exec_as_compare_and_set_lose_no_increment_across_reactors()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        const int Clients = 4, Increments = 150;
        long retries = 0;
        var tasks = Enumerable.Range(0, Clients).Select(_ => Task.Factory.StartNew(() =>
        {
            using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
            for (int i = 0; i < Increments; i++)
            {
                while (true)
                {
                    c.Call("WATCH", "counter");
                    long v = long.TryParse(c.Call("GET", "counter").Text, out long n) ? n : 0;
                    c.Call("MULTI");
                    c.Call("SET", "counter", (v + 1).ToString());
                    if (!c.Call("EXEC").IsNull) break;
                    Interlocked.Increment(ref retries);
                }
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks);
        using var check = new RespClient(server.Port);
        Console.WriteLine($"{Clients * Increments} increments, {retries} retries");
        await Assert.That(check.Call("GET", "counter").Text).IsEqualTo((Clients * Increments).ToString());
    }

    [Test]
    public async Task A_watched_key_that_expires_before_exec_fails_it()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("SET", "e", "1", "PX", "300");
        c.Call("WATCH", "e");
        Thread.Sleep(500);
        c.Call("MULTI");
        c.Call("PING");
        await Assert.That(c.Call("EXEC").IsNull).IsTrue();
        // Already gone when watched: nothing changes.
        c.Call("SET", "e2", "1", "PX", "50");
        Thread.Sleep(150);
        c.Call("WATCH", "e2");
        c.Call("MULTI");
        c.Call("PING");
        await Assert.That(c.Call("EXEC").Items!.Length).IsEqualTo(1);
        // A TTL still ahead: the EXEC runs.
        c.Call("SET", "e3", "1", "EX", "100");
        c.Call("WATCH", "e3");
        await Assert.That(Exec(c, ["TTL", "e3"])[0].Integer).IsGreaterThan(90);
    }

    [Test]
    public async Task A_clients_watches_go_when_it_closes_or_resets()
    {
        await using var server = await ServerProcess.StartAsync();
        using var other = new RespClient(server.Port);
        using (var gone = new RespClient(server.Port))
        {
            gone.Call("WATCH", "k");
            gone.Call("MULTI");
            gone.Call("SET", "k", "queued-never-run");
        }
        Thread.Sleep(200);
        other.Call("SET", "k", "1");
        using var r = new RespClient(server.Port);
        r.Call("WATCH", "k");
        r.Call("MULTI");
        r.Call("SET", "k", "x");
        await Assert.That(r.Call("RESET").Text).IsEqualTo("RESET");
        other.Call("SET", "k", "2");
        await Assert.That(r.Call("EXEC").Text).IsEqualTo("ERR EXEC without MULTI");
        await Assert.That(Exec(r, ["GET", "k"])[0].Text).IsEqualTo("2");
    }

    [Test]
    public async Task A_push_in_a_transaction_serves_a_client_blocked_on_the_other_reactor_after_exec()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var blocked = new RespClient(server.Port, TimeSpan.FromSeconds(20));
        using var pusher = new RespClient(server.Port);
        blocked.Send("BLPOP", "q", "10");
        for (int i = 0; i < 100 && pusher.Call("INFO", "clients").Text!.Contains("blocked_clients:0"); i++) Thread.Sleep(20);
        // The waiter sees the list as the whole transaction left it: two pushed, one popped.
        var r = Exec(pusher, ["RPUSH", "q", "a", "b"], ["LPOP", "q"]);
        await Assert.That(r[0].Integer).IsEqualTo(2);
        await Assert.That(r[1].Text).IsEqualTo("a");
        var got = blocked.Read();
        await Assert.That(got.Items![1].Text).IsEqualTo("b");
    }

    [Test]
    [Timeout(120_000)]
    public async Task After_kill_9_each_transaction_is_applied_whole_or_not_at_all(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-multi-" + Guid.NewGuid().ToString("N"));
        const int Keys = 10;
        long acknowledged = -1;
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--io-threads", "2"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var clock = Stopwatch.StartNew();
                // 2 s, or longer until 20 are acknowledged: a CI machine under load acknowledged 8 in 2 s once.
                for (long round = 0; clock.Elapsed < TimeSpan.FromSeconds(2) || (acknowledged < 20 && clock.Elapsed < TimeSpan.FromSeconds(60)); round++)
                {
                    // Pipelined: MULTI, ten SETs and an HSET of ten fields, EXEC.
                    c.Send("MULTI");
                    for (int k = 0; k < Keys; k++) c.Send("SET", "k" + k, round.ToString());
                    var hset = new List<object> { "HSET", "h" };
                    for (int k = 0; k < Keys; k++) { hset.Add("f" + k); hset.Add(round.ToString()); }
                    c.Send(hset.ToArray());
                    c.Send("EXEC");
                    for (int k = 0; k < Keys + 2; k++) c.Read();
                    if (c.Read().Items is { Length: Keys + 1 }) acknowledged = round;
                }
                // Then one more, cut off by the kill while it may be on its way.
                c.Send("MULTI");
                for (int k = 0; k < Keys; k++) c.Send("SET", "k" + k, "last");
                c.Send("EXEC");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await Assert.That(acknowledged).IsGreaterThan(10);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                var values = Enumerable.Range(0, Keys).Select(k => c.Call("GET", "k" + k).Text).ToArray();
                var fields = c.Call(new object[] { "HMGET", "h" }.Concat(Enumerable.Range(0, Keys).Select(k => (object)("f" + k))).ToArray()).Items!.Select(x => x.Text).ToArray();
                Console.WriteLine($"acknowledged {acknowledged}, after restart k* = {values[0]}, h = {fields[0]}");
                await Assert.That(values.Distinct().Count()).IsEqualTo(1);
                await Assert.That(fields.Distinct().Count()).IsEqualTo(1);
                // No acknowledged transaction lost (appendfsync always).
                long seen = values[0] == "last" ? long.MaxValue : long.Parse(values[0]!);
                await Assert.That(seen).IsGreaterThanOrEqualTo(acknowledged);
                await Assert.That(long.Parse(fields[0]!)).IsGreaterThanOrEqualTo(acknowledged);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
