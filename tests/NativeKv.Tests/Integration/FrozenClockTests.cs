using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Redis 7.2 runs a script or an EXEC at the one time it started (commandTimeSnapshot): a key does not
/// expire in the middle of it, relative expiries and TTLs agree, TIME answers the same, and the active
/// expiry cycle leaves alone what the running script still sees. The cases are 7.2's own
/// (tests/unit/scripting.tcl "Script block the time during execution", "TIME command using cached
/// time", "Script block the time in some expiration related commands"); redis-server 7.0, installed
/// here, froze only the expiry check of scripts. A Lua loop stands in for their DEBUG SLEEP, and each test
/// checks that the time really passed, so that a fast machine cannot pass it without the freeze.
/// </summary>
public class FrozenClockTests
{
    /// <summary>A Lua busy loop of about <paramref name="ms"/> ms on this machine (calibrated, as no clock moves in a script).</summary>
    private static long Iterations(RespClient c, int ms)
    {
        const long probe = 2_000_000;
        c.Call("EVAL", Loop(1000) + " return 1", "0"); // the reactor's Lua state is made by its first script
        // The fastest of three probes: one slowed by a loaded machine sized a 600 ms script that then ran in 258 ms.
        double fastest = double.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            c.Call("EVAL", Loop(probe) + " return 1", "0");
            fastest = Math.Min(fastest, clock.Elapsed.TotalMilliseconds);
        }
        double perMs = probe / Math.Max(1.0, fastest);
        return Math.Max(probe, (long)(perMs * ms));
    }

    private static string Loop(long n) => $"local x = 0 for i = 1, {n} do x = x + i end";

    [Test]
    [Timeout(60_000)]
    public async Task A_key_does_not_expire_while_a_script_runs_and_time_stands_still(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        long n = Iterations(c, 30);
        var clock = Stopwatch.StartNew();
        var r = c.Call("EVAL", $$"""
            redis.call('SET', KEYS[1], 'value', 'PX', 1)
            local t1 = redis.call('TIME')
            {{Loop(n)}}
            local t2 = redis.call('TIME')
            return {redis.call('EXISTS', KEYS[1]), t1[1] .. '.' .. t1[2], t2[1] .. '.' .. t2[2]}
            """, "1", "key");
        await Assert.That(clock.Elapsed.TotalMilliseconds).IsGreaterThan(5); // the PX 1 passed in real time
        await Assert.That(r.Items![0].Integer).IsEqualTo(1);
        await Assert.That(r.Items[2].Text).IsEqualTo(r.Items[1].Text);
        await Task.Delay(5, ct);
        await Assert.That(c.Call("EXISTS", "key").Integer).IsEqualTo(0);
        // TIME outside a script moves.
        string t = c.Call("TIME").Items![1].Text!;
        await Task.Delay(5, ct);
        await Assert.That(c.Call("TIME").Items![1].Text).IsNotEqualTo(t);
    }

    [Test]
    [Timeout(60_000)]
    public async Task Relative_expiries_set_in_a_script_agree_and_so_do_its_ttls(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        long n = Iterations(c, 10);
        string pause = Loop(n);
        var clock = Stopwatch.StartNew();
        var r = c.Call("EVAL", $$"""
            redis.call('SET', KEYS[1], 'v', 'EX', 100) {{pause}}
            redis.call('SET', KEYS[2], 'v', 'PX', 100000) {{pause}}
            redis.call('SET', KEYS[3], 'v') redis.call('EXPIRE', KEYS[3], 100) {{pause}}
            redis.call('SET', KEYS[4], 'v') redis.call('PEXPIRE', KEYS[4], 100000) {{pause}}
            redis.call('SETEX', KEYS[5], 100, 'v') {{pause}}
            redis.call('PSETEX', KEYS[6], 100000, 'v') {{pause}}
            redis.call('SET', KEYS[7], 'v') redis.call('GETEX', KEYS[7], 'EX', 100) {{pause}}
            redis.call('SET', KEYS[8], 'v') redis.call('GETEX', KEYS[8], 'PX', 100000) {{pause}}
            local at, pttl = {}, {}
            for i = 1, 8 do at[i] = redis.call('PEXPIRETIME', KEYS[i]) pttl[i] = redis.call('PTTL', KEYS[i]) end
            return {at, pttl}
            """, "8", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8");
        await Assert.That(clock.Elapsed.TotalMilliseconds).IsGreaterThan(16);
        var at = r.Items![0].Items!.Select(i => i.Integer).ToArray();
        var pttl = r.Items[1].Items!.Select(i => i.Integer).ToArray();
        await Assert.That(at.Distinct().Count()).IsEqualTo(1);
        await Assert.That(pttl.Distinct().Count()).IsEqualTo(1);
        await Assert.That(pttl[0]).IsEqualTo(100_000); // read at the time they were set
        // Outside the script the clock has moved on.
        await Assert.That(c.Call("PTTL", "k1").Integer).IsLessThan(100_000);
    }

    [Test]
    [Timeout(60_000)]
    public async Task An_exec_runs_at_the_time_it_started_and_so_does_a_script_inside_it(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        long n = Iterations(c, 30);
        c.Call("MULTI");
        c.Call("TIME");
        c.Call("SET", "key", "v", "PX", "1");
        c.Call("EVAL", Loop(n) + " local t = redis.call('TIME') return t[1] .. '.' .. t[2]", "0");
        c.Call("EXISTS", "key");
        c.Call("PTTL", "key");
        c.Call("TIME");
        var clock = Stopwatch.StartNew();
        var r = c.Call("EXEC").Items!;
        await Assert.That(clock.Elapsed.TotalMilliseconds).IsGreaterThan(5);
        string first = r[0].Items![0].Text + "." + r[0].Items![1].Text;
        await Assert.That(r[2].Text).IsEqualTo(first);
        await Assert.That(r[3].Integer).IsEqualTo(1);
        await Assert.That(r[4].Integer).IsEqualTo(1);
        await Assert.That(r[5].Items![0].Text + "." + r[5].Items![1].Text).IsEqualTo(first);
        await Assert.That(c.Call("EXISTS", "key").Integer).IsEqualTo(0);
    }

    [Test]
    [Timeout(60_000)]
    public async Task The_active_expiry_cycle_leaves_a_key_the_running_script_still_sees(CancellationToken ct)
    {
        // The cycle runs every 100 ms on its own thread; the script outlasts several of its passes.
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        long n = Iterations(c, 1200); // sized for 1.2 s: runs measured 258-293 ms of a 600 ms size, the 300 ms below is what matters
        var clock = Stopwatch.StartNew();
        var r = c.Call("EVAL", $$"""
            redis.call('SET', KEYS[1], 'value', 'PX', 1)
            {{Loop(n)}}
            return redis.call('GET', KEYS[1])
            """, "1", "key");
        await Assert.That(clock.Elapsed.TotalMilliseconds).IsGreaterThan(300);
        await Assert.That(r.Text).IsEqualTo("value");
        // After the script the cycle takes it (expired_keys counts it).
        var wait = Stopwatch.StartNew();
        while (!c.Call("INFO", "stats").Text!.Contains("expired_keys:1") && wait.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20, ct);
        await Assert.That(c.Call("INFO", "stats").Text!).Contains("expired_keys:1\r\n");
        await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(0);
    }
}
