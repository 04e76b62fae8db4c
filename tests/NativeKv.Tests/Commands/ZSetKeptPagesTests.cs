using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// A reactor keeps the inner pages of the last sorted set it worked on while the set's root says the seq they were kept
/// at (CommandPages.TreeCache.cs). Two clients on two reactors write one paged set in turn (ZADD, ZINCRBY, ZREM, pops,
/// ZREMRANGEBYRANK, ZREMRANGEBYSCORE: trusted and untrusted paths alike) and read it back (ZRANK, ZRANGE by rank) after
/// every step against a model: a page one reactor kept and the other changed would answer a wrong rank or range. A
/// DEL and a new set under the same key (a new cid) on the way.
/// </summary>
public class ZSetKeptPagesTests
{
    private static string Flat(Reply r) => r.Items is null ? r.ToString() : string.Join(",", r.Items.Select(Flat));

    [Test]
    [Arguments(1)]
    [Arguments(2)]
    public async Task Two_reactors_writing_one_paged_set_read_what_a_model_holds(int seed)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        var clients = new[] { a, b };
        var rng = new Random(seed);
        var m = new ZSetModel();
        string Member() => "member:" + rng.Next(30000).ToString("D8");

        void Load(int n)
        {
            // Enough members for a tree of three levels (4 KB pages of ~20-byte keys).
            for (int done = 0; done < n; done += 1000)
            {
                var args = new List<object> { "ZADD", "z" };
                for (int i = 0; i < 1000; i++)
                {
                    string mem = Member();
                    int s = rng.Next(100000);
                    args.Add(s.ToString());
                    args.Add(mem);
                    m.Scores[mem] = s;
                }
                a.Call(args.ToArray());
            }
        }

        Load(20000);
        await Assert.That(a.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        for (int step = 0; step < 3000; step++)
        {
            var c = clients[rng.Next(2)];
            var sorted = m.Sorted();
            int op = rng.Next(100);
            if (step == 1500)
            {
                c.Call("DEL", "z");
                m.Scores.Clear();
                Load(5000);
                continue;
            }
            if (op < 45)
            {
                string mem = rng.Next(2) == 0 && sorted.Count > 0 ? sorted[rng.Next(sorted.Count)].Member : Member();
                int s = rng.Next(100000);
                c.Call("ZADD", "z", s.ToString(), mem);
                m.Scores[mem] = s;
            }
            else if (op < 55 && sorted.Count > 0)
            {
                string mem = sorted[rng.Next(sorted.Count)].Member;
                int by = rng.Next(-500, 500);
                c.Call("ZINCRBY", "z", by.ToString(), mem);
                m.Scores[mem] += by;
            }
            else if (op < 70 && sorted.Count > 0)
            {
                string mem = sorted[rng.Next(sorted.Count)].Member;
                await Assert.That(c.Call("ZREM", "z", mem).Integer).IsEqualTo(1);
                m.Scores.Remove(mem);
            }
            else if (op < 80 && sorted.Count > 3)
            {
                int n = rng.Next(1, 4);
                var popped = c.Call(rng.Next(2) == 0 ? "ZPOPMIN" : "ZPOPMAX", "z", n.ToString());
                for (int i = 0; i < popped.Items!.Length; i += 2) m.Scores.Remove(popped.Items[i].Text!);
                await Assert.That(popped.Items.Length).IsEqualTo(2 * n);
            }
            else if (op < 85 && sorted.Count > 100)
            {
                int from = rng.Next(sorted.Count - 10), n = rng.Next(1, 10);
                await Assert.That(c.Call("ZREMRANGEBYRANK", "z", from.ToString(), (from + n - 1).ToString()).Integer).IsEqualTo(n);
                foreach (var e in sorted.GetRange(from, n)) m.Scores.Remove(e.Member);
            }
            else if (op < 88)
            {
                int lo = rng.Next(100000), hi = lo + rng.Next(20);
                var gone = m.Scores.Where(p => p.Value >= lo && p.Value <= hi).Select(p => p.Key).ToList();
                await Assert.That(c.Call("ZREMRANGEBYSCORE", "z", lo.ToString(), hi.ToString()).Integer).IsEqualTo(gone.Count);
                foreach (var g in gone) m.Scores.Remove(g);
            }
            // Read back on either reactor: a rank, a window by rank.
            sorted = m.Sorted();
            if (sorted.Count == 0) continue;
            var r = clients[rng.Next(2)];
            int at = rng.Next(sorted.Count);
            await Assert.That(r.Call("ZRANK", "z", sorted[at].Member).Integer).IsEqualTo(at);
            int start = rng.Next(sorted.Count);
            var want = string.Join(",", sorted.Skip(start).Take(5).SelectMany(e => new[] { e.Member, ((long)e.Score).ToString() }));
            await Assert.That(Flat(clients[rng.Next(2)].Call("ZRANGE", "z", start.ToString(), (start + 4).ToString(), "WITHSCORES"))).IsEqualTo(want);
        }
        var all = m.Sorted();
        await Assert.That(a.Call("ZCARD", "z").Integer).IsEqualTo(all.Count);
        await Assert.That(Flat(b.Call("ZRANGE", "z", "0", "-1"))).IsEqualTo(string.Join(",", all.Select(e => e.Member)));
    }
}
