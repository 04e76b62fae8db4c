using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// What Redis 7.2 does that the recorded 7.0.15 transcripts cannot show: score text by fpconv's shortest
/// digits, ZRANK/ZREVRANK WITHSCORE, ZADD's size hint choosing the encoding, ZRANGESTORE BYSCORE starting a
/// skiplist, and -0 kept by a skiplist but not by a listpack (7.2.4's t_zset.c is the reference).
/// </summary>
public class SortedSetEncodingTests
{
    private static async Task<(ServerProcess, RespClient)> Start()
    {
        var server = await ServerProcess.StartAsync();
        return (server, new RespClient(server.Port));
    }

    private static async Task Stop(ServerProcess server, RespClient c)
    {
        c.Dispose();
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Scores_print_as_redis_7_2_d2string()
    {
        var (server, c) = await Start();
        var cases = new (string In, string Out)[]
        {
            ("0.1", "0.1"), ("1.5", "1.5"), ("1e20", "1e+20"), ("1e-7", "1e-7"), ("123456789.123", "123456789.123"),
            ("3.0e15", "3000000000000000"), ("4611686018427387904", "4611686018427387904"),
            ("12345678901234567890", "12345678901234567000"), ("1e22", "1e+22"), ("0.000001", "0.000001"),
            ("0.0000001234", "1.234e-7"), ("-2.5e-300", "-2.5e-300"), ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("0.3", "0.3"), ("2.2250738585072014e-308", "2.2250738585072014e-308"), ("-0.1", "-0.1"),
            ("100", "100"), ("-inf", "-inf"), ("123e5", "12300000"), ("1.5e25", "1.5e+25"), ("0.001", "0.001"),
        };
        foreach (var (input, output) in cases)
        {
            c.Call("ZADD", "f", input, "m");
            await Assert.That($"{input} -> {c.Call("ZSCORE", "f", "m").Text}").IsEqualTo($"{input} -> {output}");
        }
        // RESP3: the same text as a ',' double.
        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        c.Call("ZADD", "f", "0.1", "m");
        c.SendRaw(RespClient.Encode("ZSCORE", "f", "m"));
        await Assert.That(c.Read().ToString()).Contains("0.1");
        await Stop(server, c);
    }

    [Test]
    public async Task Zrank_withscore_answers_rank_and_score()
    {
        var (server, c) = await Start();
        c.Call("ZADD", "z", "1", "a", "2.5", "b", "3", "c");
        var r = c.Call("ZRANK", "z", "b", "WITHSCORE").Items!;
        await Assert.That(r[0].Integer).IsEqualTo(1);
        await Assert.That(r[1].Text).IsEqualTo("2.5");
        var rev = c.Call("ZREVRANK", "z", "a", "withscore").Items!;
        await Assert.That(rev[0].Integer).IsEqualTo(2);
        await Assert.That(rev[1].Text).IsEqualTo("1");
        await Assert.That(c.Call("ZRANK", "z", "x", "WITHSCORE").IsNull).IsTrue();
        await Assert.That(c.Call("ZRANK", "nokey", "x", "WITHSCORE").IsNull).IsTrue();
        await Assert.That(c.Call("ZRANK", "z", "a", "WITHSCORES").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("ZRANK", "z", "a", "WITHSCORE", "x").Text).IsEqualTo("ERR wrong number of arguments for 'zrank' command");
        await Stop(server, c);
    }

    [Test]
    public async Task Zadd_size_hint_and_store_encodings_follow_7_2()
    {
        var (server, c) = await Start();
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "2");
        // zsetTypeCreate(elements, ...): three pairs of one member still start a skiplist.
        c.Call("ZADD", "h", "1", "a", "2", "a", "3", "a");
        await Assert.That(c.Call("OBJECT", "ENCODING", "h").Text).IsEqualTo("skiplist");
        await Assert.That(c.Call("ZCARD", "h").Integer).IsEqualTo(1);
        // zsetTypeMaybeConvert: an existing listpack converts for a large ZADD even when nothing is added.
        c.Call("ZADD", "g", "1", "a");
        c.Call("ZADD", "g", "NX", "1", "a", "2", "a", "3", "a");
        await Assert.That(c.Call("OBJECT", "ENCODING", "g").Text).IsEqualTo("skiplist");
        // ZRANGESTORE BYSCORE / BYLEX begin with -1 as the size hint: a skiplist however small.
        c.Call("ZADD", "s", "1", "a");
        c.Call("ZRANGESTORE", "d", "s", "0", "10", "BYSCORE");
        await Assert.That(c.Call("OBJECT", "ENCODING", "d").Text).IsEqualTo("skiplist");
        c.Call("ZRANGESTORE", "d", "s", "0", "-1");
        await Assert.That(c.Call("OBJECT", "ENCODING", "d").Text).IsEqualTo("listpack");
        // -0: a listpack keeps integral scores as integers, a skiplist keeps the double.
        c.Call("ZADD", "lp", "-0", "m");
        await Assert.That(c.Call("ZSCORE", "lp", "m").Text).IsEqualTo("0");
        c.Call("ZADD", "sk", "1", "a", "2", "b", "-0", "m");
        await Assert.That(c.Call("OBJECT", "ENCODING", "sk").Text).IsEqualTo("skiplist");
        await Assert.That(c.Call("ZSCORE", "sk", "m").Text).IsEqualTo("-0");
        // A skiplist stays one when it shrinks.
        c.Call("ZREM", "sk", "a", "b");
        await Assert.That(c.Call("OBJECT", "ENCODING", "sk").Text).IsEqualTo("skiplist");
        // Large sets: ranks and ranges stay right past the thresholds.
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "128");
        var args = new List<object> { "ZADD", "big" };
        for (int i = 0; i < 1000; i++) { args.Add((i % 97).ToString()); args.Add("m" + i); }
        await Assert.That(c.Call(args.ToArray()).Integer).IsEqualTo(1000);
        await Assert.That(c.Call("OBJECT", "ENCODING", "big").Text).IsEqualTo("skiplist");
        await Assert.That(c.Call("ZCOUNT", "big", "10", "(20").Integer).IsEqualTo(Enumerable.Range(0, 1000).Count(i => i % 97 is >= 10 and < 20));
        var first = c.Call("ZRANGE", "big", "0", "2").Items!.Select(x => x.Text).ToArray();
        await Assert.That(string.Join(",", first)).IsEqualTo("m0,m194,m291");
        int rank = Enumerable.Range(0, 1000).Count(i => i % 97 < 96 || (i % 97 == 96 && string.CompareOrdinal("m" + i, "m96") < 0));
        await Assert.That(c.Call("ZRANK", "big", "m96").Integer).IsEqualTo(rank);
        await Stop(server, c);
    }

    [Test]
    public async Task A_paged_set_is_a_source_of_the_algebra_commands()
    {
        var (server, c) = await Start();
        var sadd = new List<object> { "SADD", "s" };
        for (int i = 0; i < 1000; i++) sadd.Add("m" + i);
        c.Call(sadd.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "s").Text).IsEqualTo("hashtable");
        c.Call("ZADD", "z", "5", "m1", "7", "m999", "9", "other");
        var inter = c.Call("ZINTER", "2", "z", "s", "WITHSCORES").Items!.Select(x => x.Text);
        await Assert.That(string.Join(",", inter)).IsEqualTo("m1,6,m999,8");
        await Assert.That(c.Call("ZUNIONSTORE", "u", "2", "z", "s").Integer).IsEqualTo(1001);
        await Assert.That(c.Call("ZSCORE", "u", "m500").Text).IsEqualTo("1");
        await Assert.That(c.Call("ZSCORE", "u", "other").Text).IsEqualTo("9");
        await Assert.That(c.Call("ZDIFFSTORE", "d", "2", "s", "z").Integer).IsEqualTo(998);
        await Assert.That(c.Call("ZINTERCARD", "2", "s", "u").Integer).IsEqualTo(1000);
        await Stop(server, c);
    }
}
