using System.Globalization;
using NativeKv.Server.Storage.Values.Paged;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Members of any length on a paged sorted set (past the tree's 982-byte prefix a member goes to chunks and the tree
/// resolves ties from them): ZADD with flags, ZINCRBY, ZREM, the range forms, ZRANK/ZREVRANK, ZSCORE, pops, ZCOUNT,
/// ZREMRANGEBYRANK, lex ranges with long bounds, ZRANDMEMBER, ZSCAN, ZRANGESTORE, ZUNIONSTORE and SORT, through a real
/// server against a model of Redis's order (score, then the member's bytes, shorter first). Groups of long members share
/// their first 982 bytes and differ only past them, at equal scores, so their order is the chunks' to decide. Then the
/// store's value limit: a member past it is refused with a string's error, one under it is taken.
/// </summary>
public class ZSetPagedLongMemberTests
{
    private static readonly int Prefix = ZSetLongMembers.PrefixLength(TreeMeta.Create(1, TreeMode.Ordered));

    private static string Fmt(double d) => ((long)d).ToString(CultureInfo.InvariantCulture);

    private static string Flat(Reply r) => r.Items is null ? r.Text ?? "nil" : string.Join(",", r.Items.Select(Flat));

    private static string Pairs(IEnumerable<(string Member, double Score)> l) => string.Join(",", l.Select(e => $"{e.Member},{Fmt(e.Score)}"));

    private static string Members(IEnumerable<(string Member, double Score)> l) => string.Join(",", l.Select(e => e.Member));

    private static long Paged(RespClient c)
    {
        var line = c.Call("INFO", "memory").Text!.Split("\r\n").First(l => l.StartsWith("store_paged_collections:"));
        return long.Parse(line.Split(':')[1]);
    }

    /// <summary>A member: short, long (1-5 KB, now and then past a 64 KB chunk), or of a group (its 982 bytes, then a tail of 'a' and 'b').</summary>
    private static string NewMember(Random rng, string[] groups)
    {
        int k = rng.Next(10);
        if (k < 4) return "s" + rng.Next(400);
        if (k < 6) return "L" + rng.Next(100) + ":" + new string((char)('c' + rng.Next(3)), rng.Next(20) == 0 ? rng.Next(66_000, 140_000) : rng.Next(1000, 5000));
        var g = groups[rng.Next(groups.Length)];
        int tail = rng.Next(5) switch { 0 => 0, 1 => 1, 2 => rng.Next(2, 6), 3 => rng.Next(1000, 4000), _ => rng.Next(6, 40) };
        var t = new char[tail];
        for (int i = 0; i < tail; i++) t[i] = i < tail - 3 && tail > 8 ? 'a' : (char)('a' + rng.Next(2));
        return g + new string(t);
    }

    private static bool InGroup(string m, string[] groups) => m.Length >= Prefix && groups.Any(g => m.StartsWith(g, StringComparison.Ordinal));

    [Test]
    [Arguments(1)]
    [Arguments(2)]
    public async Task Long_members_on_a_paged_set_match_a_model(int seed)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "8");
        var rng = new Random(seed);
        var groups = Enumerable.Range(0, 3).Select(g => new string('g', Prefix - 1) + (char)('0' + g)).ToArray();
        var m = new ZSetModel();
        string Member(List<(string Member, double Score)> sorted) => sorted.Count > 0 && rng.Next(3) == 0 ? sorted[rng.Next(sorted.Count)].Member : NewMember(rng, groups);
        double Score(string member) => InGroup(member, groups) && rng.Next(4) > 0 ? rng.Next(1, 3) : rng.Next(-20, 20);

        // A long member makes no set inline any more: past the entries limit it pages, OBJECT ENCODING as Redis says.
        var first = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 40; i++)
        {
            string mem = NewMember(rng, groups);
            double s = Score(mem);
            first.Add(Fmt(s));
            first.Add(mem);
            m.Scores[mem] = s;
        }
        c.Call(first.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(Pairs(m.Sorted())).IsEqualTo(Flat(c.Call("ZRANGE", "z", "0", "-1", "WITHSCORES")));

        int grouped = 0;
        for (int step = 0; step < 700; step++)
        {
            var sorted = m.Sorted();
            int op = rng.Next(100);
            if (op < 30 || sorted.Count < 20)
            {
                var args = new List<object> { "ZADD", "z" };
                bool nx = rng.Next(6) == 0, xx = !nx && rng.Next(6) == 0, gt = !nx && rng.Next(6) == 0, ch = rng.Next(3) == 0;
                if (nx) args.Add("NX");
                if (xx) args.Add("XX");
                if (gt) args.Add("GT");
                if (ch) args.Add("CH");
                long added = 0, changed = 0;
                for (int i = rng.Next(1, 5); i > 0; i--)
                {
                    string mem = Member(sorted);
                    double s = Score(mem);
                    if (InGroup(mem, groups) && mem.Length > Prefix) grouped++;
                    args.Add(Fmt(s));
                    args.Add(mem);
                    if (m.Scores.TryGetValue(mem, out double cur))
                    {
                        if (nx || (gt && s <= cur) || s == cur) continue;
                        m.Scores[mem] = s;
                        changed++;
                    }
                    else if (!xx)
                    {
                        m.Scores[mem] = s;
                        added++;
                    }
                }
                await Assert.That(c.Call(args.ToArray()).Integer).IsEqualTo(ch ? added + changed : added);
            }
            else if (op < 38)
            {
                // ZINCRBY moves a member to another score: its old entry (and chunks) go, new ones come.
                string mem = Member(sorted);
                int inc = rng.Next(-2, 3);
                double want = (m.Scores.TryGetValue(mem, out double cur) ? cur : 0) + inc;
                m.Scores[mem] = want;
                await Assert.That(c.Call("ZINCRBY", "z", inc.ToString(), mem).Text).IsEqualTo(Fmt(want));
            }
            else if (op < 48)
            {
                var mems = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Member(sorted)).ToList();
                long want = mems.Distinct().Count(x => m.Scores.Remove(x));
                await Assert.That(c.Call(new object[] { "ZREM", "z" }.Concat(mems).ToArray()).Integer).IsEqualTo(want);
            }
            else if (op < 60)
            {
                string mem = Member(sorted);
                int at = sorted.FindIndex(e => e.Member == mem);
                await Assert.That(c.Call("ZSCORE", "z", mem).Text).IsEqualTo(at >= 0 ? Fmt(sorted[at].Score) : null);
                var rank = c.Call("ZRANK", "z", mem, "WITHSCORE");
                if (at >= 0) await Assert.That($"{rank.Items![0].Integer},{rank.Items[1].Text}").IsEqualTo($"{at},{Fmt(sorted[at].Score)}");
                else await Assert.That(rank.IsNull).IsTrue();
                var rr = c.Call("ZREVRANK", "z", mem);
                if (at >= 0) await Assert.That(rr.Integer).IsEqualTo(sorted.Count - 1 - at);
                else await Assert.That(rr.IsNull).IsTrue();
            }
            else if (op < 67)
            {
                bool max = rng.Next(2) == 0;
                int k = rng.Next(1, 4);
                var want = (max ? Enumerable.Reverse(sorted) : sorted).Take(k).ToList();
                foreach (var e in want) m.Scores.Remove(e.Member);
                await Assert.That(Flat(c.Call(max ? "ZPOPMAX" : "ZPOPMIN", "z", k.ToString()))).IsEqualTo(Pairs(want));
            }
            else if (op < 80)
            {
                int a = rng.Next(-20, 20), b = a + rng.Next(0, 6);
                var inRange = sorted.Where(e => e.Score > a && e.Score <= b).ToList();
                await Assert.That(c.Call("ZCOUNT", "z", $"({a}", b.ToString()).Integer).IsEqualTo(inRange.Count);
                await Assert.That(Flat(c.Call("ZRANGEBYSCORE", "z", $"({a}", b.ToString(), "WITHSCORES", "LIMIT", "1", "6"))).IsEqualTo(Pairs(inRange.Skip(1).Take(6)));
                await Assert.That(Flat(c.Call("ZRANGE", "z", b.ToString(), $"({a}", "BYSCORE", "REV"))).IsEqualTo(Members(Enumerable.Reverse(inRange)));
                int from = rng.Next(Math.Max(1, sorted.Count)), len = rng.Next(1, 12);
                await Assert.That(Flat(c.Call("ZRANGE", "z", from.ToString(), (from + len - 1).ToString()))).IsEqualTo(Members(sorted.Skip(from).Take(len)));
                await Assert.That(Flat(c.Call("ZREVRANGE", "z", from.ToString(), (from + len - 1).ToString(), "WITHSCORES"))).IsEqualTo(Pairs(Enumerable.Reverse(sorted).Skip(from).Take(len)));
            }
            else if (op < 84)
            {
                int from = rng.Next(Math.Max(1, sorted.Count)), len = rng.Next(1, 5);
                var gone = sorted.Skip(from).Take(len).ToList();
                foreach (var e in gone) m.Scores.Remove(e.Member);
                await Assert.That(c.Call("ZREMRANGEBYRANK", "z", from.ToString(), (from + len - 1).ToString()).Integer).IsEqualTo(gone.Count);
            }
            else if (op < 88)
            {
                var picks = c.Call("ZRANDMEMBER", "z", "-5", "WITHSCORES").Items!;
                for (int i = 0; i < picks.Length; i += 2)
                    await Assert.That(Fmt(m.Scores[picks[i].Text!])).IsEqualTo(picks[i + 1].Text);
            }
            if (step % 100 == 99)
                await Assert.That(Flat(c.Call("ZRANGE", "z", "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(m.Sorted()));
        }
        await Assert.That(grouped).IsGreaterThan(50);
        var all = m.Sorted();
        await Assert.That(all.Count(e => e.Member.Length > Prefix)).IsGreaterThan(20);
        await Assert.That(all.Count(e => e.Member.Length > 65_536)).IsGreaterThan(0);
        await Assert.That(Flat(c.Call("ZRANGE", "z", "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(all));
        await Assert.That(Flat(c.Call("ZREVRANGE", "z", "0", "-1"))).IsEqualTo(Members(Enumerable.Reverse(all)));
        // The readers that take the whole set: ZRANGESTORE, ZUNIONSTORE, SORT, COPY, ZSCAN.
        await Assert.That(c.Call("ZRANGESTORE", "copy1", "z", "0", "-1").Integer).IsEqualTo(all.Count);
        await Assert.That(Flat(c.Call("ZRANGE", "copy1", "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(all));
        await Assert.That(c.Call("ZUNIONSTORE", "copy2", "1", "z").Integer).IsEqualTo(all.Count);
        await Assert.That(Flat(c.Call("ZRANGE", "copy2", "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(all));
        await Assert.That(Flat(c.Call("SORT", "z", "BY", "nosort"))).IsEqualTo(Members(all));
        await Assert.That(c.Call("COPY", "z", "copy3").Integer).IsEqualTo(1);
        await Assert.That(Flat(c.Call("ZRANGE", "copy3", "0", "-1", "WITHSCORES"))).IsEqualTo(Pairs(all));
        var scanned = new HashSet<string>(StringComparer.Ordinal);
        string cursor = "0";
        do
        {
            var r = c.Call("ZSCAN", "z", cursor);
            cursor = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) scanned.Add(items[i].Text!);
        } while (cursor != "0");
        await Assert.That(scanned.SetEquals(m.Scores.Keys)).IsTrue();
        // Popped to the end: every member whole, the last pop deleting the key.
        await Assert.That(Flat(c.Call("ZPOPMIN", "z", all.Count.ToString()))).IsEqualTo(Pairs(all));
        await Assert.That(c.Call("EXISTS", "z").Integer).IsEqualTo(0);
    }

    /// <summary>zslFirstInLexRange's walk over the set's order: the run from the first member >= min while <= max.</summary>
    private static List<string> InLex(List<string> ordered, string min, string max)
    {
        bool Gte(string x) => min == "-" || (min != "+" && (min[0] == '(' ? string.CompareOrdinal(x, min[1..]) > 0 : string.CompareOrdinal(x, min[1..]) >= 0));
        bool Lte(string x) => max == "+" || (max != "-" && (max[0] == '(' ? string.CompareOrdinal(x, max[1..]) < 0 : string.CompareOrdinal(x, max[1..]) <= 0));
        int i = 0;
        while (i < ordered.Count && !Gte(ordered[i])) i++;
        var run = new List<string>();
        for (; i < ordered.Count && Lte(ordered[i]); i++) run.Add(ordered[i]);
        return run;
    }

    [Test]
    public async Task Lex_bounds_past_the_prefix_give_Redis_s_ranges()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "8");
        var rng = new Random(11);
        var groups = Enumerable.Range(0, 2).Select(g => new string('g', Prefix - 1) + (char)('0' + g)).ToArray();
        var members = new SortedSet<string>(StringComparer.Ordinal);
        var add = new List<object> { "ZADD", "lex" };
        for (int i = 0; i < 300; i++)
        {
            string mem = NewMember(rng, groups);
            if (members.Add(mem))
            {
                add.Add("0");
                add.Add(mem);
            }
        }
        c.Call(add.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "lex").Text).IsEqualTo("skiplist");
        string Bound()
        {
            int k = rng.Next(12);
            if (k == 0) return "-";
            if (k == 1) return "+";
            string v = k < 6 ? members.ElementAt(rng.Next(members.Count)) : NewMember(rng, groups);
            // A present member cut or lengthened by a byte: bounds between neighbours that share the prefix.
            if (rng.Next(4) == 0 && v.Length > 0) v = rng.Next(2) == 0 ? v[..^1] : v + "a";
            return (rng.Next(2) == 0 ? "[" : "(") + v;
        }
        for (int step = 0; step < 150; step++)
        {
            var ordered = members.ToList();
            string min = Bound(), max = Bound();
            var run = InLex(ordered, min, max);
            await Assert.That(c.Call("ZLEXCOUNT", "lex", min, max).Integer).IsEqualTo(run.Count);
            await Assert.That(Flat(c.Call("ZRANGEBYLEX", "lex", min, max, "LIMIT", "0", "5"))).IsEqualTo(string.Join(",", run.Take(5)));
            var back = Enumerable.Reverse(run).Take(4);
            await Assert.That(Flat(c.Call("ZREVRANGEBYLEX", "lex", max, min, "LIMIT", "0", "4"))).IsEqualTo(string.Join(",", back));
            if (step % 15 == 14)
            {
                var gone = run.Take(3).ToList();
                if (gone.Count > 0)
                {
                    string hi = "[" + gone[^1];
                    var removed = InLex(ordered, min, hi);
                    await Assert.That(c.Call("ZREMRANGEBYLEX", "lex", min, hi).Integer).IsEqualTo(removed.Count);
                    foreach (var x in removed) members.Remove(x);
                }
            }
        }
        await Assert.That(Flat(c.Call("ZRANGE", "lex", "0", "-1"))).IsEqualTo(string.Join(",", members));
    }

    [Test]
    public async Task A_member_up_to_the_value_limit_is_taken_and_one_byte_more_is_refused()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        var line = c.Call("INFO", "memory").Text!.Split("\r\n").First(l => l.StartsWith("store_log_page_size:"));
        long max = long.Parse(line.Split(':')[1]) - 4096;
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "2");
        c.Call("ZADD", "z", "1", "a", "2", "b", "3", "c");
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        var tooBig = c.Call("ZADD", "z", "4", new string('v', (int)max + 1));
        await Assert.That(tooBig.IsError).IsTrue();
        await Assert.That(tooBig.Text).IsEqualTo($"ERR value of {max + 1} bytes exceeds the store's maximum value size ({max} bytes)");
        await Assert.That(c.Call("ZINCRBY", "z", "1", new string('v', (int)max + 1)).Text).IsEqualTo(tooBig.Text);
        await Assert.That(c.Call("ZCARD", "z").Integer).IsEqualTo(3);
        // A new key whose member is past the limit is refused the same way, and not created.
        await Assert.That(c.Call("ZADD", "fresh", "1", new string('v', (int)max + 1)).Text).IsEqualTo(tooBig.Text);
        await Assert.That(c.Call("EXISTS", "fresh").Integer).IsEqualTo(0);
        // Under it (its bucket, one store record, holds it and its score): taken, read back whole.
        var big = new string('w', (int)max - 256);
        await Assert.That(c.Call("ZADD", "z", "2", big).Integer).IsEqualTo(1);
        await Assert.That(c.Call("ZSCORE", "z", big).Text).IsEqualTo("2");
        await Assert.That(Flat(c.Call("ZRANGE", "z", "0", "-1"))).IsEqualTo($"a,b,{big},c");
        await Assert.That(c.Call("ZRANK", "z", big).Integer).IsEqualTo(2);
        await Assert.That(Flat(c.Call("ZPOPMAX", "z", "2"))).IsEqualTo($"c,3,{big},2");
    }
}
