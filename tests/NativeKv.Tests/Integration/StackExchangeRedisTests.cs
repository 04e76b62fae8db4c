using NativeKv.Tests.Infrastructure;
using StackExchange.Redis;

namespace NativeKv.Tests.Integration;

/// <summary>A real .NET Redis client, StackExchange.Redis, connects and works unchanged.</summary>
public class StackExchangeRedisTests
{
    private static async Task<ConnectionMultiplexer> Connect(int port, int protocol = 2)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { { "127.0.0.1", port } },
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 10_000,
            AsyncTimeout = 10_000,
            Protocol = protocol == 3 ? RedisProtocol.Resp3 : RedisProtocol.Resp2,
        };
        return await ConnectionMultiplexer.ConnectAsync(options);
    }

    [Test]
    public async Task Connects_pings_and_echoes()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var mux = await Connect(server.Port);
        var db = mux.GetDatabase();
        var latency = await db.PingAsync();
        await Assert.That(latency).IsLessThan(TimeSpan.FromSeconds(5));
        var echo = await db.ExecuteAsync("ECHO", "from SE.Redis");
        await Assert.That((string?)echo).IsEqualTo("from SE.Redis");
        var srv = mux.GetServer("127.0.0.1", server.Port);
        await Assert.That(srv.Version.Major).IsEqualTo(7);
        var time = await srv.TimeAsync();
        await Assert.That(Math.Abs((time - DateTime.UtcNow).TotalMinutes)).IsLessThan(5);
    }

    [Test]
    public async Task Resp3_handshake_works()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var mux = await Connect(server.Port, protocol: 3);
        var db = mux.GetDatabase();
        await db.PingAsync();
        var ep = mux.GetEndPoints()[0];
        await Assert.That(mux.GetServer(ep).Protocol).IsEqualTo(RedisProtocol.Resp3);
    }

    [Test]
    public async Task Strings_round_trip_through_the_client()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var mux = await Connect(server.Port);
        var db = mux.GetDatabase();
        await Assert.That(await db.StringSetAsync("se:key", "value")).IsTrue();
        await Assert.That((string?)await db.StringGetAsync("se:key")).IsEqualTo("value");
        await Assert.That(await db.StringIncrementAsync("se:counter", 5)).IsEqualTo(5L);
        var batch = Enumerable.Range(0, 1000).Select(i => db.StringSetAsync($"se:k{i}", i)).ToArray();
        await Task.WhenAll(batch);
        await Assert.That((int)await db.StringGetAsync("se:k999")).IsEqualTo(999);
        await Assert.That(await db.KeyDeleteAsync("se:key")).IsTrue();
        await Assert.That((await db.StringGetAsync("se:key")).IsNull).IsTrue();
    }
}
