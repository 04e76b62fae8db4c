using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Scripts against the real process: BUSY and SCRIPT KILL across reactors (the acceptor deals connections
/// round robin over the two reactors, so the second client is served by the other one), the bounded Lua
/// heap, scripts that wait on disk, and kill -9 while scripts run.
/// </summary>
public class ScriptTests
{
    private const string Busy = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";

    /// <summary>Sends a script that loops until killed and waits until the other reactor answers BUSY.</summary>
    private static async Task<Reply> UntilBusy(RespClient other)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            var r = other.Call("PING");
            if (r.IsError) return r;
            await Task.Delay(20);
        }
        return other.Call("PING");
    }

    [Test]
    [Timeout(60_000)]
    public async Task Busy_script_answers_busy_elsewhere_and_script_kill_stops_it(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var runner = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        using var other = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        await Assert.That(other.Call("CONFIG", "SET", "busy-reply-threshold", "100").Text).IsEqualTo("OK");
        await Assert.That(other.Call("SCRIPT", "KILL").Text).IsEqualTo("NOTBUSY No scripts in execution right now.");
        other.Call("SET", "k", "v");
        // A loop that pcall cannot save from SCRIPT KILL.
        runner.Send("EVAL", "local i = 0 while true do pcall(function() i = i + 1 end) end", "0");
        var busy = await UntilBusy(other);
        await Assert.That(busy.Text).IsEqualTo(Busy);
        await Assert.That(other.Call("GET", "k").Text).IsEqualTo(Busy);
        await Assert.That(other.Call("SCRIPT", "KILL").Text).IsEqualTo("OK");
        var killed = runner.Read();
        await Assert.That(killed.Text!).StartsWith("ERR Script killed by user with SCRIPT KILL...");
        await Assert.That(other.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(runner.Call("GET", "k").Text).IsEqualTo("v");
        await Assert.That(other.Call("SCRIPT", "KILL").Text).IsEqualTo("NOTBUSY No scripts in execution right now.");
        await Assert.That(server.LogText).Contains("Slow script detected");
    }

    [Test]
    [Timeout(60_000)]
    public async Task A_busy_script_that_wrote_is_unkillable_until_shutdown_nosave(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var runner = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        using var other = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        other.Call("CONFIG", "SET", "lua-time-limit", "100");
        await Assert.That(other.Call("CONFIG", "GET", "busy-reply-threshold").Items![1].Text).IsEqualTo("100");
        runner.Send("EVAL", "redis.call('set', 'w', 1) while true do end", "0");
        await Assert.That((await UntilBusy(other)).Text).IsEqualTo(Busy);
        await Assert.That(other.Call("SCRIPT", "KILL").Text!).StartsWith("UNKILLABLE Sorry the script already executed write commands");
        await Assert.That(other.Call("SHUTDOWN").Text).IsEqualTo(Busy);
        other.Send("SHUTDOWN", "NOSAVE");
        await Assert.That(await server.WaitForExitAsync(TimeSpan.FromSeconds(20))).IsEqualTo(0);
    }

    [Test]
    [Timeout(60_000)]
    public async Task Math_random_starts_where_a_fresh_redis_server_does_and_is_one_sequence(CancellationToken ct)
    {
        // A fresh redis-server's first three math.random(1000000) (lrand48's own start), recorded; the sequence is the
        // server's, not a reactor's or a script's: the third draw comes from the other reactor, and from a function.
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        await Assert.That(a.Call("EVAL", "return math.random(1000000)", "0").Integer).IsEqualTo(396465);
        await Assert.That(a.Call("EVAL", "return math.random(1000000)", "0").Integer).IsEqualTo(840486);
        b.Call("FUNCTION", "LOAD", "#!lua name=rnd\nredis.register_function('draw', function() return math.random(1000000) end)");
        await Assert.That(b.Call("FCALL", "draw", "0").Integer).IsEqualTo(353337);
    }

    [Test]
    [Timeout(60_000)]
    public async Task A_script_past_the_lua_heap_limit_fails_and_the_server_stays_up(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        var r = c.Call("EVAL", "local s = 'x' for i = 1, 40 do s = s .. s end return #s", "0");
        await Assert.That(r.IsError).IsTrue();
        await Assert.That(r.Text!).Contains("not enough memory");
        await Assert.That(c.Call("EVAL", "return #string.rep('y', 1000)", "0").Integer).IsEqualTo(1000);
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }

    [Test]
    [Timeout(120_000)]
    public async Task A_script_over_keys_on_disk_runs_again_once_they_are_read(CancellationToken ct)
    {
        // A small log memory pushes most keys to disk: the script's reads go pending and it runs again
        // from the start, its finished operations answered from their slots (so each INCR counts once).
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--maxmemory-policy", "noeviction");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int Keys = 40_000;
        var value = new string('v', 1000);
        for (int i = 0; i < Keys; i += 100)
        {
            for (int j = i; j < i + 100; j++) c.Send("SET", "key:" + j, value);
            for (int j = i; j < i + 100; j++) c.Read();
        }
        const string Script = "local n = 0 for i = 1, #KEYS do if redis.call('get', KEYS[i]) then n = n + 1 end end redis.call('incr', 'runs') return n";
        for (int round = 0; round < 20; round++)
        {
            var args = new List<object> { "EVAL", Script, "50" };
            for (int k = 0; k < 50; k++) args.Add("key:" + ((round * 997 + k * 389) % Keys));
            var r = c.Call(args.ToArray());
            await Assert.That(r.Integer).IsEqualTo(50);
        }
        await Assert.That(c.Call("GET", "runs").Text).IsEqualTo("20");
    }

    [Test]
    [Timeout(120_000)]
    public async Task After_kill_9_each_acknowledged_script_is_applied_whole(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-lua-" + Guid.NewGuid().ToString("N"));
        const int Keys = 10;
        const string Script = "for i = 1, #KEYS do redis.call('set', KEYS[i], ARGV[1]) end redis.call('hset', 'h', 'round', ARGV[1]) return redis.call('incr', 'rounds')";
        long acknowledged = -1;
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--io-threads", "2"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                var keys = Enumerable.Range(0, Keys).Select(k => (object)("k" + k)).ToArray();
                var clock = Stopwatch.StartNew();
                for (long round = 1; clock.Elapsed < TimeSpan.FromSeconds(2); round++)
                {
                    var r = c.Call(new object[] { "EVAL", Script, Keys.ToString() }.Concat(keys).Append(round.ToString()).ToArray());
                    if (r.Integer == round) acknowledged = round;
                }
                // One more, cut off by the kill while it may be on its way.
                c.Send(new object[] { "EVAL", Script, Keys.ToString() }.Concat(keys).Append("last").ToArray());
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await Assert.That(acknowledged).IsGreaterThan(10);
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                var values = Enumerable.Range(0, Keys).Select(k => c.Call("GET", "k" + k).Text).ToArray();
                string? h = c.Call("HGET", "h", "round").Text;
                long rounds = long.Parse(c.Call("GET", "rounds").Text!);
                Console.WriteLine($"acknowledged {acknowledged}, after restart k* = {values[0]}, h = {h}, rounds = {rounds}");
                await Assert.That(values.Distinct().Count()).IsEqualTo(1);
                await Assert.That(h).IsEqualTo(values[0]);
                await Assert.That(rounds).IsGreaterThanOrEqualTo(acknowledged);
                long seen = values[0] == "last" ? rounds : long.Parse(values[0]!);
                await Assert.That(seen).IsEqualTo(rounds);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
