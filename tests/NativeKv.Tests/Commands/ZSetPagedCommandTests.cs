using System.Globalization;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// The sorted set commands on sets past zset-max-listpack-entries (paged: a root in the key's record, (score, member)
/// keys on a counted tree and member -> score on a paged hash), checked against a model through a real server:
/// the conversion, ZADD with its flags, ZINCRBY, ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK/ZREVRANK WITHSCORE, pops,
/// ZMPOP, the range forms and ZREMRANGEBY*, ZCOUNT, ZRANDMEMBER, ZSCAN, ZUNIONSTORE and SORT over sets of
/// thousands of members; then the key commands (DEL, RENAME, COPY, EXPIRE) and a blocking pop.
/// </summary>
public class ZSetPagedCommandTests
{
    private static string Fmt(double d) => d == Math.Floor(d) && Math.Abs(d) < 1e15 ? ((long)d).ToString(CultureInfo.InvariantCulture) : d.ToString("R", CultureInfo.InvariantCulture);

    private static string Flat(Reply r) => r.Items is null ? r.ToString() : string.Join(",", r.Items.Select(Flat));

    private static string Pairs(IEnumerable<(string Member, double Score)> l) => string.Join(",", l.Select(e => $"{e.Member},{Fmt(e.Score)}"));

    private static long Paged(RespClient c)
    {
        var info = c.Call("INFO", "memory").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("store_paged_collections:"));
        return long.Parse(line.Split(':')[1]);
    }

    private static async Task Same(RespClient c, string key, ZSetModel m)
    {
        var sorted = m.Sorted();
        await Assert.That(c.Call("ZCARD", key).Integer).IsEqualTo(sorted.Count);
        await Assert.That(Flat(c.Call("ZRANGE", key, "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(sorted));
    }

    [Test]
    [Arguments(1)]
    [Arguments(2)]
    public async Task Every_sorted_set_command_on_paged_sets_matches_a_model(int seed)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "4");
        var rng = new Random(seed);
        var m = new ZSetModel();
        string Member() => "m" + rng.Next(3000);
        double Score() => rng.Next(4) == 0 ? rng.Next(-100, 100) + 0.5 : rng.Next(-100, 100);
        // Grow past the limit: the set goes to pages.
        var first = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 4; i++)
        {
            string mem = "a" + i;
            first.Add("1");
            first.Add(mem);
            m.Scores[mem] = 1;
        }
        c.Call(first.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("listpack");
        await Assert.That(Paged(c)).IsEqualTo(0);
        c.Call("ZADD", "z", "2", "a4");
        m.Scores["a4"] = 2;
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        await Assert.That(Paged(c)).IsEqualTo(1);
        var bulk = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 3000; i++)
        {
            string mem = Member();
            double s = Score();
            bulk.Add(Fmt(s));
            bulk.Add(mem);
            m.Scores[mem] = s;
        }
        c.Call(bulk.ToArray());
        await Same(c, "z", m);

        for (int step = 0; step < 1500; step++)
        {
            int op = rng.Next(100);
            var sorted = m.Sorted();
            if (op < 30)
            {
                // ZADD with flags: NX/XX/GT/LT/CH/INCR.
                var args = new List<object> { "ZADD", "z" };
                bool nx = rng.Next(5) == 0, xx = !nx && rng.Next(5) == 0, gt = !nx && rng.Next(5) == 0, lt = !nx && !gt && rng.Next(5) == 0;
                bool ch = rng.Next(3) == 0, incr = rng.Next(6) == 0;
                if (nx) args.Add("NX");
                if (xx) args.Add("XX");
                if (gt) args.Add("GT");
                if (lt) args.Add("LT");
                if (ch) args.Add("CH");
                if (incr) args.Add("INCR");
                int pairs = incr ? 1 : rng.Next(1, 6);
                long added = 0, changed = 0;
                double last = 0;
                bool processed = false;
                var seen = new HashSet<string>();
                for (int i = 0; i < pairs; i++)
                {
                    string mem = rng.Next(2) == 0 && sorted.Count > 0 ? sorted[rng.Next(sorted.Count)].Member : Member();
                    double s = Score();
                    args.Add(Fmt(s));
                    args.Add(mem);
                    bool found = m.Scores.TryGetValue(mem, out double cur);
                    if (found)
                    {
                        if (nx) continue;
                        if (incr) s += cur;
                        if ((lt && s >= cur) || (gt && s <= cur)) continue;
                        processed = true;
                        last = s;
                        if (s != cur)
                        {
                            m.Scores[mem] = s;
                            changed++;
                        }
                    }
                    else if (!xx)
                    {
                        m.Scores[mem] = s;
                        added++;
                        processed = true;
                        last = s;
                    }
                }
                var r = c.Call(args.ToArray());
                if (incr) await Assert.That(r.ToString()).IsEqualTo(processed ? Fmt(last) : new Reply('$', null, 0, null).ToString());
                else await Assert.That(r.Integer).IsEqualTo(ch ? added + changed : added);
            }
            else if (op < 38)
            {
                string mem = sorted.Count > 0 && rng.Next(2) == 0 ? sorted[rng.Next(sorted.Count)].Member : Member();
                double inc = Score();
                double want = (m.Scores.TryGetValue(mem, out double cur) ? cur : 0) + inc;
                m.Scores[mem] = want;
                await Assert.That(c.Call("ZINCRBY", "z", Fmt(inc), mem).Text).IsEqualTo(Fmt(want));
            }
            else if (op < 48)
            {
                var mems = Enumerable.Range(0, rng.Next(1, 5)).Select(_ => sorted.Count > 0 && rng.Next(2) == 0 ? sorted[rng.Next(sorted.Count)].Member : Member()).ToList();
                long want = mems.Distinct().Count(x => m.Scores.Remove(x));
                await Assert.That(c.Call(new object[] { "ZREM", "z" }.Concat(mems).ToArray()).Integer).IsEqualTo(want);
            }
            else if (op < 58)
            {
                string mem = sorted.Count > 0 && rng.Next(3) > 0 ? sorted[rng.Next(sorted.Count)].Member : Member();
                int at = sorted.FindIndex(e => e.Member == mem);
                await Assert.That(c.Call("ZSCORE", "z", mem).ToString()).IsEqualTo(at >= 0 ? Fmt(sorted[at].Score) : new Reply('$', null, 0, null).ToString());
                var rank = c.Call("ZRANK", "z", mem, "WITHSCORE");
                if (at >= 0) await Assert.That($"{rank.Items![0].Integer},{rank.Items[1].Text}").IsEqualTo($"{at},{Fmt(sorted[at].Score)}");
                else await Assert.That(rank.IsNull).IsTrue();
                var rr = c.Call("ZREVRANK", "z", mem);
                if (at >= 0) await Assert.That(rr.Integer).IsEqualTo(sorted.Count - 1 - at);
                else await Assert.That(rr.IsNull).IsTrue();
                var ms = c.Call("ZMSCORE", "z", mem, "nope", mem);
                await Assert.That(ms.Items![0].Text).IsEqualTo(at >= 0 ? Fmt(sorted[at].Score) : null);
                await Assert.That(ms.Items![1].IsNull).IsTrue();
            }
            else if (op < 66)
            {
                bool max = rng.Next(2) == 0;
                int k = rng.Next(1, 20);
                var want = (max ? Enumerable.Reverse(sorted) : sorted).Take(k).ToList();
                foreach (var e in want) m.Scores.Remove(e.Member);
                var r = rng.Next(2) == 0 ? c.Call(max ? "ZPOPMAX" : "ZPOPMIN", "z", k.ToString()) : c.Call("ZMPOP", "2", "none", "z", max ? "MAX" : "MIN", "COUNT", k.ToString());
                var got = r.Items!.Length == 2 && r.Items[0].Text == "z" ? r.Items[1] : r;
                string flat = got.Items!.Length > 0 && got.Items[0].Items is not null ? string.Join(",", got.Items.Select(p => $"{p.Items![0].Text},{p.Items[1].Text}")) : string.Join(",", got.Items.Select(x => x.Text));
                await Assert.That(flat).IsEqualTo(Pairs(want));
            }
            else if (op < 76)
            {
                int a = rng.Next(-100, 100), b = a + rng.Next(0, 20);
                var inRange = sorted.Where(e => e.Score > a && e.Score <= b).ToList();
                await Assert.That(c.Call("ZCOUNT", "z", $"({a}", b.ToString()).Integer).IsEqualTo(inRange.Count);
                await Assert.That(Flat(c.Call("ZRANGEBYSCORE", "z", $"({a}", b.ToString(), "WITHSCORES", "LIMIT", "1", "10"))).IsEqualTo(Pairs(inRange.Skip(1).Take(10)));
                await Assert.That(Flat(c.Call("ZRANGE", "z", b.ToString(), $"({a}", "BYSCORE", "REV"))).IsEqualTo(string.Join(",", Enumerable.Reverse(inRange).Select(e => e.Member)));
                int from = rng.Next(Math.Max(1, sorted.Count)), len = rng.Next(1, 50);
                await Assert.That(Flat(c.Call("ZREVRANGE", "z", from.ToString(), (from + len - 1).ToString()))).IsEqualTo(string.Join(",", Enumerable.Reverse(sorted).Skip(from).Take(len).Select(e => e.Member)));
            }
            else if (op < 80)
            {
                if (rng.Next(2) == 0)
                {
                    int from = rng.Next(Math.Max(1, sorted.Count)), len = rng.Next(1, 30);
                    var gone = sorted.Skip(from).Take(len).ToList();
                    foreach (var e in gone) m.Scores.Remove(e.Member);
                    // Now and then the same ranks counted from the end (negative indexes).
                    int last = Math.Min(from + len - 1, Math.Max(0, sorted.Count - 1)), shift = rng.Next(3) == 0 ? sorted.Count : 0;
                    await Assert.That(c.Call("ZREMRANGEBYRANK", "z", (from - shift).ToString(), (last - shift).ToString()).Integer).IsEqualTo(gone.Count);
                }
                else
                {
                    int a = rng.Next(-100, 100);
                    var gone = sorted.Where(e => e.Score >= a && e.Score < a + 2).ToList();
                    foreach (var e in gone) m.Scores.Remove(e.Member);
                    await Assert.That(c.Call("ZREMRANGEBYSCORE", "z", a.ToString(), $"({a + 2}").Integer).IsEqualTo(gone.Count);
                }
            }
            else if (op < 84)
            {
                var r = c.Call("ZRANDMEMBER", "z", "5", "WITHSCORES");
                for (int i = 0; i < r.Items!.Length; i += 2)
                    await Assert.That(Fmt(m.Scores[r.Items[i].Text!])).IsEqualTo(r.Items[i + 1].Text);
                // A full iteration of the cursor (the member hash's buckets) returns every member with its score.
                var seen = new Dictionary<string, string>();
                string cursor = "0";
                int calls = 0;
                do
                {
                    var scan = c.Call("ZSCAN", "z", cursor, "COUNT", rng.Next(1, 2000).ToString());
                    cursor = scan.Items![0].Text!;
                    var items = scan.Items[1].Items!;
                    for (int i = 0; i < items.Length; i += 2) seen[items[i].Text!] = items[i + 1].Text!;
                    await Assert.That(++calls).IsLessThan(10000);
                } while (cursor != "0");
                await Assert.That(seen.Count).IsEqualTo(sorted.Count);
                foreach (var (mem, score) in sorted) await Assert.That(seen[mem]).IsEqualTo(Fmt(score));
            }
            else if (op < 86)
            {
                c.Call("ZADD", "other", "1", "m1", "2", "m2", "3", "x");
                var want = new Dictionary<string, double>(m.Scores);
                foreach (var (k, v) in new[] { ("m1", 1.0), ("m2", 2.0), ("x", 3.0) }) want[k] = want.TryGetValue(k, out var o) ? o + v : v;
                await Assert.That(c.Call("ZUNIONSTORE", "u", "2", "z", "other").Integer).IsEqualTo(want.Count);
                var um = new ZSetModel();
                foreach (var (k, v) in want) um.Scores[k] = v;
                await Same(c, "u", um);
                await Assert.That(c.Call("ZINTERCARD", "2", "z", "other").Integer).IsEqualTo(new[] { "m1", "m2", "x" }.Count(m.Scores.ContainsKey));
            }
            else if (op < 87)
            {
                await Assert.That(Flat(c.Call("SORT", "z", "BY", "nosort", "LIMIT", "0", "5"))).IsEqualTo(string.Join(",", sorted.Take(5).Select(e => e.Member)));
            }
            if (m.Scores.Count < 50)
            {
                var more = new List<object> { "ZADD", "z" };
                for (int i = 0; i < 500; i++)
                {
                    string mem = Member();
                    double s = Score();
                    more.Add(Fmt(s));
                    more.Add(mem);
                    m.Scores[mem] = s;
                }
                c.Call(more.ToArray());
            }
            if (step % 100 == 0) await Same(c, "z", m);
        }
        await Same(c, "z", m);
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
    }

    [Test]
    public async Task Key_commands_move_copy_and_drop_paged_sets_and_blocking_pops_see_them()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var args = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 5000; i++)
        {
            args.Add(i.ToString());
            args.Add("e" + i);
        }
        c.Call(args.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(c.Call("RENAME", "z", "y").Text).IsEqualTo("OK");
        await Assert.That(c.Call("ZSCORE", "y", "e4000").Text).IsEqualTo("4000");
        await Assert.That(c.Call("COPY", "y", "w").Integer).IsEqualTo(1);
        c.Call("ZREM", "y", "e1");
        await Assert.That(c.Call("ZCARD", "y").Integer).IsEqualTo(4999);
        await Assert.That(c.Call("ZCARD", "w").Integer).IsEqualTo(5000);
        await Assert.That(c.Call("ZRANK", "w", "e1").Integer).IsEqualTo(1);
        c.Call("ZADD", "w", "0.5", "new");
        await Assert.That(c.Call("ZRANK", "w", "new").Integer).IsEqualTo(1);
        await Assert.That(c.Call("EXPIRE", "y", "100").Integer).IsEqualTo(1);
        c.Call("ZADD", "y", "7", "q");
        await Assert.That(c.Call("TTL", "y").Integer).IsGreaterThan(0);
        await Assert.That(c.Call("TYPE", "y").Text).IsEqualTo("zset");
        await Assert.That(c.Call("BZPOPMIN", "none", "y", "1").ToString()).IsEqualTo("[y, e0, 0]");
        await Assert.That(c.Call("BZMPOP", "1", "1", "y", "MAX", "COUNT", "2").ToString()).IsEqualTo("[y, [[e4999, 4999], [e4998, 4998]]]");
        await Assert.That(c.Call("DEL", "y", "w").Integer).IsEqualTo(2);
        await Assert.That(Paged(c)).IsEqualTo(0);
        await Assert.That(c.Call("EXISTS", "y").Integer).IsEqualTo(0);
        // A member longer than a tree entry takes pages the set all the same (its bytes in chunks), as Redis's skiplist.
        c.Call("ZADD", "wide", "1", new string('x', 2000), "2", "b");
        await Assert.That(c.Call("OBJECT", "ENCODING", "wide").Text).IsEqualTo("skiplist");
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(c.Call("ZRANGE", "wide", "0", "0").Items![0].Text).IsEqualTo(new string('x', 2000));
        await Assert.That(c.Call("DEL", "wide").Integer).IsEqualTo(1);
        await Assert.That(Paged(c)).IsEqualTo(0);
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "1");
        // Popping a paged set to empty deletes the key.
        c.Call("ZADD", "p", "1", "a", "2", "b", "3", "c");
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(c.Call("ZPOPMIN", "p", "10").Items!.Length).IsEqualTo(6);
        await Assert.That(c.Call("EXISTS", "p").Integer).IsEqualTo(0);
        await Assert.That(Paged(c)).IsEqualTo(0);
    }
}
