using System.Diagnostics;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Keyspace commands that put a list under a key clients wait on serve them as redis-server 7.2 does (the
/// scenarios were run against redis-server first, same replies): RENAME and RENAMENX onto the key, MOVE and
/// COPY ... DB into the waiters' database, COPY, SORT ... STORE, SWAPDB in both directions (the waiters keep
/// their database index: blocked.c scanDatabaseForReadyKeys), while FLUSHDB / FLUSHALL and a swap that brings
/// a string leave them blocked. The waiter and the client that writes sit on different reactors.
/// </summary>
public class BlockingKeyspaceTests
{
    private static long BlockedClients(RespClient c)
    {
        foreach (var line in c.Call("INFO", "clients").Text!.Split("\r\n"))
            if (line.StartsWith("blocked_clients:")) return long.Parse(line["blocked_clients:".Length..]);
        throw new InvalidOperationException("blocked_clients");
    }

    private static async Task WaitBlocked(RespClient admin, long n)
    {
        var sw = Stopwatch.StartNew();
        while (BlockedClients(admin) != n)
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException($"blocked_clients never reached {n}");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Runs <paramref name="setup"/>, blocks a client of database <paramref name="db"/> on <paramref name="wait"/>, runs
    /// <paramref name="trigger"/>, and returns the waiter's reply as text ("key=value", or the moved element). A
    /// trigger that must leave it blocked ends with a push that serves it (its value tells which write did).
    /// </summary>
    private static async Task<string?> Scenario(int port, string[][] setup, int db, string[] wait, string[][] trigger)
    {
        using var admin = new RespClient(port);
        using var waiter = new RespClient(port, TimeSpan.FromSeconds(20));
        admin.Call("FLUSHALL");
        foreach (var c in setup) admin.Call(c);
        admin.Call("SELECT", "0"); // the triggers run in database 0
        waiter.Call("SELECT", db.ToString());
        waiter.Send(wait);
        await WaitBlocked(admin, 1);
        foreach (var c in trigger)
        {
            var r = admin.Call(c);
            if (r.IsError) throw new InvalidOperationException(string.Join(' ', c) + ": " + r);
        }
        var reply = waiter.Read();
        return reply.Items is { } items ? $"{items[0].Text}={items[1].Text}" : reply.Text;
    }

    private static string[] C(params string[] args) => args;

    [Test]
    public async Task Keyspace_commands_serve_or_keep_waiters_as_redis_does()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        int p = server.Port;
        var blpopDst = C("BLPOP", "dst", "0");
        var blpopK = C("BLPOP", "k", "0");
        await Assert.That(await Scenario(p, [], 0, blpopDst, [C("RPUSH", "src", "a"), C("RENAME", "src", "dst")])).IsEqualTo("dst=a");
        await Assert.That(await Scenario(p, [], 0, blpopDst, [C("RPUSH", "src", "a"), C("RENAMENX", "src", "dst")])).IsEqualTo("dst=a");
        await Assert.That(await Scenario(p, [C("SELECT", "1"), C("RPUSH", "k", "v")], 0, blpopK, [C("SWAPDB", "0", "1")])).IsEqualTo("k=v");
        await Assert.That(await Scenario(p, [C("RPUSH", "k2", "v")], 1, C("BLPOP", "k2", "0"), [C("SWAPDB", "0", "1")])).IsEqualTo("k2=v");
        await Assert.That(await Scenario(p, [C("RPUSH", "k", "v")], 1, blpopK, [C("MOVE", "k", "1")])).IsEqualTo("k=v");
        await Assert.That(await Scenario(p, [C("RPUSH", "src", "v")], 1, blpopDst, [C("COPY", "src", "dst", "DB", "1")])).IsEqualTo("dst=v");
        await Assert.That(await Scenario(p, [C("RPUSH", "src", "v")], 0, blpopDst, [C("COPY", "src", "dst")])).IsEqualTo("dst=v");
        await Assert.That(await Scenario(p, [], 0, blpopK, [C("RPUSH", "other", "x"), C("FLUSHDB"), C("RPUSH", "k", "v")])).IsEqualTo("k=v");
        await Assert.That(await Scenario(p, [C("RPUSH", "l", "3", "1", "2")], 0, blpopDst, [C("SORT", "l", "STORE", "dst")])).IsEqualTo("dst=1");
        await Assert.That(await Scenario(p, [C("SELECT", "1"), C("SET", "k", "s")], 0, blpopK, [C("SWAPDB", "0", "1"), C("SWAPDB", "0", "1"), C("RPUSH", "k", "x")])).IsEqualTo("k=x");
        await Assert.That(await Scenario(p, [C("SELECT", "1"), C("RPUSH", "k", "a", "b")], 0, C("BLMOVE", "k", "k2", "LEFT", "LEFT", "0"), [C("SWAPDB", "0", "1")])).IsEqualTo("a");
        // Left blocked (no reply, not even WRONGTYPE) until a later push: a FLUSHALL, a swap that brings a string.
        await Assert.That(await Scenario(p, [], 0, blpopK, [C("FLUSHALL"), C("RPUSH", "k", "after")])).IsEqualTo("k=after");
        await Assert.That(await Scenario(p, [C("SELECT", "1"), C("SET", "k", "s")], 0, blpopK,
            [C("SWAPDB", "0", "1"), C("DEL", "k"), C("RPUSH", "k", "after")])).IsEqualTo("k=after");
        await Assert.That(await Scenario(p, [], 0, blpopK, [C("SET", "k", "s"), C("DEL", "k"), C("RPUSH", "k", "after")])).IsEqualTo("k=after");
    }
}
