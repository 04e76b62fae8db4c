using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// FUNCTION libraries against the real process: they survive kill -9 (the AOF) and restarts (checkpoints), a
/// redis-server DUMP payload (LZF-compressed) restores, each reactor's Lua state follows library changes, and
/// FUNCTION KILL / STATS / BUSY for a running function.
/// </summary>
public class FunctionTests
{
    private const string LibA = "#!lua name=liba\nredis.register_function('incrby2', function(keys, args) return redis.call('incrby', keys[1], 2) end)";
    private const string LibA2 = "#!lua name=liba\nredis.register_function('incrby3', function(keys, args) return redis.call('incrby', keys[1], 3) end)";
    private const string LibB = "#!lua name=libb\nredis.register_function{function_name='getb', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    private const string LibC = "#!lua name=libc\nredis.register_function('c', function() return 'c' end)";

    /// <summary>FUNCTION LIST's library names, sorted.</summary>
    private static string[] Libraries(RespClient c)
    {
        var names = c.Call("FUNCTION", "LIST").Items!.Select(l => l.Items![1].Text!).Order(StringComparer.Ordinal).ToArray();
        Console.WriteLine("libraries: " + string.Join(' ', names));
        return names;
    }

    [Test]
    [Timeout(120_000)]
    public async Task After_kill_9_the_libraries_are_the_last_acknowledged_set(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-func-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--io-threads", "2"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                await Assert.That(c.Call("FUNCTION", "LOAD", LibA).Text).IsEqualTo("liba");
                await Assert.That(c.Call("FUNCTION", "LOAD", LibB).Text).IsEqualTo("libb");
                await Assert.That(c.Call("FUNCTION", "LOAD", LibC).Text).IsEqualTo("libc");
                await Assert.That(c.Call("FCALL", "incrby2", "1", "n").Integer).IsEqualTo(2);
                await Assert.That(c.Call("FUNCTION", "DELETE", "libc").Text).IsEqualTo("OK");
                await Assert.That(c.Call("FUNCTION", "LOAD", "REPLACE", LibA2).Text).IsEqualTo("liba");
                await Assert.That(c.Call("FCALL", "incrby3", "1", "n").Integer).IsEqualTo(5);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "liba", "libb" });
                await Assert.That(c.Call("FCALL", "incrby2", "1", "n").Text).IsEqualTo("ERR Function not found");
                await Assert.That(c.Call("FCALL", "incrby3", "1", "n").Integer).IsEqualTo(8);
                await Assert.That(c.Call("FCALL_RO", "getb", "1", "n").Text).IsEqualTo("8");
                await Assert.That(c.Call("FUNCTION", "FLUSH").Text).IsEqualTo("OK");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("FUNCTION", "LIST").Items!.Count).IsEqualTo(0);
                await Assert.That(c.Call("GET", "n").Text).IsEqualTo("8");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    [Timeout(120_000)]
    public async Task Checkpoints_carry_the_libraries(CancellationToken ct)
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-func-" + Guid.NewGuid().ToString("N"));
        try
        {
            // With the AOF: a checkpoint (which truncates the AOF before it), then a change after it, then kill -9.
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always"))
            {
                using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
                c.Call("FUNCTION", "LOAD", LibA);
                c.Call("FUNCTION", "LOAD", LibC);
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                c.Call("FUNCTION", "LOAD", LibB);
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "liba", "libb", "libc" });
                c.Send("SHUTDOWN"); // its checkpoint holds libb too: the next start does not read the AOF
                server.Process.WaitForExit(30_000);
            }
            // Without the AOF: only checkpoints (SHUTDOWN takes one).
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "liba", "libb", "libc" });
                c.Call("FUNCTION", "DELETE", "liba");
                c.Send("SHUTDOWN");
                server.Process.WaitForExit(30_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "no"))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "libb", "libc" });
                await Assert.That(c.Call("FCALL", "c", "0").Text).IsEqualTo("c");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>FUNCTION DUMP of redis-server 7.0.15 after loading four functions: its code is LZF-compressed.</summary>
    private const string RedisPayload =
        "f5c3408041501f23216c7561206e616d653d726c69620a72656469732e72656769737465725f660d756e6374696f6e28277230272c20e0000e1f6b6579732c2061726773292072657475726e20277265706c79206e756d6265720720302720656e6429e0124f0031e0244f0031e0184f0032e0244f0032e0184f0033e0244f0033604f01290a0a00ba5d5bf9358461ed";

    [Test]
    [Timeout(60_000)]
    public async Task Restore_reads_a_redis_server_payload_and_dump_round_trips(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var c = new RespClient(server.Port);
        var payload = Convert.FromHexString(RedisPayload);
        await Assert.That(c.Call("FUNCTION", "RESTORE", payload).Text).IsEqualTo("OK");
        await Assert.That(c.Call("FCALL", "r3", "0").Text).IsEqualTo("reply number 3");
        await Assert.That(c.Call("FUNCTION", "RESTORE", payload).Text).IsEqualTo("ERR Library rlib already exists");
        var broken = (byte[])payload.Clone();
        broken[20] ^= 1;
        await Assert.That(c.Call("FUNCTION", "RESTORE", broken).Text).IsEqualTo("ERR DUMP payload version or checksum are wrong");
        c.Call("FUNCTION", "LOAD", LibC);
        c.Send("FUNCTION", "DUMP");
        var dump = c.ReadBulkBytes()!;
        await Assert.That(c.Call("FUNCTION", "FLUSH").Text).IsEqualTo("OK");
        await Assert.That(c.Call("FUNCTION", "RESTORE", dump).Text).IsEqualTo("OK");
        await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "libc", "rlib" });
        await Assert.That(c.Call("FUNCTION", "RESTORE", dump, "APPEND").Text).IsEqualTo("ERR Library rlib already exists");
        await Assert.That(c.Call("FUNCTION", "RESTORE", dump, "REPLACE").Text).IsEqualTo("OK");
        c.Call("FUNCTION", "DELETE", "libc");
        await Assert.That(c.Call("FUNCTION", "RESTORE", payload, "FLUSH").Text).IsEqualTo("OK");
        await Assert.That(Libraries(c)).IsEquivalentTo(new[] { "rlib" });
    }

    [Test]
    [Timeout(60_000)]
    public async Task Every_reactor_calls_the_current_library_code(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port); // the other reactor
        for (int v = 1; v <= 5; v++)
        {
            var lib = $"#!lua name=ver\nredis.register_function('ver', function() return {v} end)";
            await Assert.That(a.Call("FUNCTION", "LOAD", "REPLACE", lib).Text).IsEqualTo("ver");
            await Assert.That(a.Call("FCALL", "ver", "0").Integer).IsEqualTo(v);
            await Assert.That(b.Call("FCALL", "ver", "0").Integer).IsEqualTo(v);
        }
        await Assert.That(b.Call("FUNCTION", "DELETE", "ver").Text).IsEqualTo("OK");
        await Assert.That(a.Call("FCALL", "ver", "0").Text).IsEqualTo("ERR Function not found");
    }

    [Test]
    [Timeout(60_000)]
    public async Task A_busy_function_answers_busy_elsewhere_and_function_kill_stops_it(CancellationToken ct)
    {
        const string Busy = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var runner = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        using var other = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        await Assert.That(other.Call("CONFIG", "SET", "busy-reply-threshold", "100").Text).IsEqualTo("OK");
        await Assert.That(other.Call("FUNCTION", "KILL").Text).IsEqualTo("NOTBUSY No scripts in execution right now.");
        other.Call("FUNCTION", "LOAD", "#!lua name=loop\nredis.register_function{function_name='spin', callback=function() while true do end end, flags={'no-writes'}}");
        runner.Send("FCALL", "spin", "0");
        var clock = Stopwatch.StartNew();
        Reply r = other.Call("PING");
        while (!r.IsError && clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            await Task.Delay(20);
            r = other.Call("PING");
        }
        await Assert.That(r.Text).IsEqualTo(Busy);
        await Assert.That(other.Call("SCRIPT", "KILL").Text).IsEqualTo(Busy);
        var stats = other.Call("FUNCTION", "STATS").Items!;
        var running = stats[1].Items!;
        await Assert.That(running[1].Text).IsEqualTo("spin");
        await Assert.That(running[3].Items!.Select(i => i.Text ?? "").ToArray()).IsEquivalentTo(new[] { "FCALL", "spin", "0" });
        await Assert.That(other.Call("FUNCTION", "KILL").Text).IsEqualTo("OK");
        await Assert.That(runner.Read().Text).IsEqualTo("ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.");
        await Assert.That(other.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(other.Call("FUNCTION", "STATS").Items![1].IsNull).IsTrue();
    }
}
