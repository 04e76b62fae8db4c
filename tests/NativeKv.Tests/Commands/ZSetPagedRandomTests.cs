using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// ZRANDMEMBER over a paged sorted set (picks are ranks on the tree's counts): one member, distinct members in
/// the set's order, repeats with scores, the whole set from the top, uniform picks, and RESP3's pairs.
/// </summary>
public class ZSetPagedRandomTests
{
    [Test]
    public async Task Zrandmember_of_a_paged_set_draws_by_rank()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "4");
        var add = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 20; i++)
        {
            add.Add(i == 0 ? "-0" : i.ToString());
            add.Add("r" + i.ToString("D2"));
        }
        c.Call(add.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");

        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 4000; i++)
        {
            string m = c.Call("ZRANDMEMBER", "z").Text!;
            counts[m] = counts.GetValueOrDefault(m) + 1;
        }
        // 200 expected each (sd ~14): every member drawn, none far off.
        await Assert.That(counts.Count).IsEqualTo(20);
        foreach (var n in counts.Values) await Assert.That(n).IsBetween(80, 340);

        for (int round = 0; round < 50; round++)
        {
            var distinct = c.Call("ZRANDMEMBER", "z", "7").Items!.Select(x => x.Text!).ToList();
            await Assert.That(distinct.Distinct().Count()).IsEqualTo(7);
            await Assert.That(string.Join(",", distinct)).IsEqualTo(string.Join(",", distinct.Order(StringComparer.Ordinal)));
        }
        var repeats = c.Call("ZRANDMEMBER", "z", "-50", "WITHSCORES").Items!;
        await Assert.That(repeats.Length).IsEqualTo(100);
        for (int i = 0; i < repeats.Length; i += 2)
        {
            int k = int.Parse(repeats[i].Text![1..]);
            await Assert.That(repeats[i + 1].Text).IsEqualTo(k == 0 ? "-0" : k.ToString());
        }
        var all = c.Call("ZRANDMEMBER", "z", "100").Items!.Select(x => x.Text!).ToList();
        await Assert.That(string.Join(",", all)).IsEqualTo(string.Join(",", Enumerable.Range(0, 20).Reverse().Select(i => "r" + i.ToString("D2"))));
        await Assert.That(c.Call("ZRANDMEMBER", "z", "0").ToString()).IsEqualTo("[]");
        await Assert.That(c.Call("ZRANDMEMBER", "none", "3").ToString()).IsEqualTo("[]");

        c.Call("HELLO", "3");
        var pairs = c.Call("ZRANDMEMBER", "z", "2", "WITHSCORES").Items!;
        await Assert.That(pairs.Length).IsEqualTo(2);
        await Assert.That(pairs[0].Items!.Length).IsEqualTo(2);
    }
}
