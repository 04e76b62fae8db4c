using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// Sorted sets whose records fell out of memory (maxmemory 16mb, ~40 MB of them): every command that reads
/// them waits on disk and runs again from its slots, so each is checked against what was written (nothing
/// applied twice, no reply written twice, the multi-key ones reading every source).
/// </summary>
public class SortedSetDiskTests
{
    private static long Info(RespClient c, string field)
    {
        foreach (var line in c.Call("INFO", "all").Text!.Split("\r\n"))
            if (line.StartsWith(field + ":")) return long.Parse(line[(field.Length + 1)..]);
        throw new InvalidOperationException(field);
    }

    [Test]
    public async Task Commands_on_sorted_sets_read_from_disk_answer_as_from_memory()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--save", "", "--appendonly", "no");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int keys = 40_000;
        string pad = new('p', 900);
        // k:i = { m0..m9 scored i*10+j, pad:i scored -1 }: ~1 KB a record.
        for (int start = 0; start < keys; start += 500)
        {
            var burst = new List<byte>();
            for (int i = start; i < start + 500; i++)
            {
                var args = new List<object> { "ZADD", "k:" + i, "-1", pad + i };
                for (int j = 0; j < 10; j++) { args.Add((i * 10 + j).ToString()); args.Add("m" + j); }
                burst.AddRange(RespClient.Encode(args.ToArray()));
            }
            c.SendRaw(burst.ToArray());
            for (int i = 0; i < 500; i++) await Assert.That(c.Read().Integer).IsEqualTo(11);
        }
        long before = Info(c, "store_disk_reads");
        for (int round = 0; round < 40; round++)
        {
            // Three keys of their own a round, among the first written (the coldest).
            int a = round * 250, b = a + 1, d = a + 2;
            var range = c.Call("ZRANGE", "k:" + a, "1", "3", "WITHSCORES").Items!.Select(x => x.Text);
            await Assert.That(string.Join(",", range)).IsEqualTo($"m0,{a * 10},m1,{a * 10 + 1},m2,{a * 10 + 2}");
            await Assert.That(c.Call("ZUNIONSTORE", "u:" + round, "2", "k:" + a, "k:" + b).Integer).IsEqualTo(12);
            await Assert.That(c.Call("ZSCORE", "u:" + round, "m3").Text).IsEqualTo((a * 10 + 3 + b * 10 + 3).ToString());
            await Assert.That(c.Call("ZINTERCARD", "2", "k:" + a, "k:" + b).Integer).IsEqualTo(10);
            var pop = c.Call("ZPOPMAX", "k:" + d, "2").Items!.Select(x => x.Text);
            await Assert.That(string.Join(",", pop)).IsEqualTo($"m9,{d * 10 + 9},m8,{d * 10 + 8}");
            await Assert.That(c.Call("ZCARD", "k:" + d).Integer).IsEqualTo(9);
            await Assert.That(c.Call("ZINCRBY", "k:" + b, "0.5", "m0").Text).IsEqualTo($"{b * 10}.5");
            var blocked = c.Call("BZPOPMIN", "nokey:" + round, "k:" + b, "0").Items!.Select(x => x.Text);
            await Assert.That(string.Join(",", blocked)).IsEqualTo($"k:{b},{pad}{b},-1");
            var mpop = c.Call("ZMPOP", "2", "nokey", "k:" + a, "MIN", "COUNT", "1").Items!;
            await Assert.That(mpop[0].Text).IsEqualTo("k:" + a);
            await Assert.That(c.Call("ZRANGESTORE", "r:" + round, "k:" + a, "(0", "+inf", "BYSCORE", "LIMIT", "0", "3").Integer).IsEqualTo(3);
        }
        await Assert.That(Info(c, "store_disk_reads")).IsGreaterThan(before);
    }
}
