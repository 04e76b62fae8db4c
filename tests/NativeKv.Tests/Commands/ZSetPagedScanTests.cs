using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// ZSCAN over a paged sorted set: a cursor over its member hash, so a step returns a bounded part of a big set,
/// MATCH filters members, and every member present for the whole iteration is returned while others come and go.
/// </summary>
public class ZSetPagedScanTests
{
    [Test]
    public async Task Zscan_of_a_paged_set_steps_a_cursor_and_keeps_the_scan_guarantee()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var add = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 20000; i++)
        {
            add.Add((i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture));
            add.Add("s" + i);
        }
        c.Call(add.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");

        var first = c.Call("ZSCAN", "z", "0");
        await Assert.That(first.Items![0].Text).IsNotEqualTo("0");
        await Assert.That(first.Items[1].Items!.Length).IsLessThan(2000); // a step, not the whole set

        var rng = new Random(3);
        var seen = new Dictionary<string, string>();
        string cursor = "0";
        int calls = 0, churn = 0;
        do
        {
            var r = c.Call("ZSCAN", "z", cursor, "COUNT", rng.Next(5, 500).ToString());
            cursor = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) seen[items[i].Text!] = items[i + 1].Text!;
            // Members that come and go during the iteration ("t" ones), never the "s" ones.
            c.Call("ZADD", "z", "1", "t" + churn++);
            if (churn > 10) c.Call("ZREM", "z", "t" + (churn - 10));
            await Assert.That(++calls).IsLessThan(20000);
        } while (cursor != "0");
        for (int i = 0; i < 20000; i++)
            await Assert.That(seen["s" + i]).IsEqualTo((i * 0.5).ToString(System.Globalization.CultureInfo.InvariantCulture));

        // MATCH: only members the pattern matches, the cursor still walks every bucket.
        var matched = new HashSet<string>();
        cursor = "0";
        do
        {
            var r = c.Call("ZSCAN", "z", cursor, "MATCH", "s1999*", "COUNT", "1000");
            cursor = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) matched.Add(items[i].Text!);
        } while (cursor != "0");
        await Assert.That(string.Join(",", matched.Order(StringComparer.Ordinal))).IsEqualTo("s1999,s19990,s19991,s19992,s19993,s19994,s19995,s19996,s19997,s19998,s19999");
        await Assert.That(c.Call("ZSCAN", "z", "x").ToString()).IsEqualTo("ERR invalid cursor");
    }
}
