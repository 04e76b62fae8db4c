using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Every set command on paged sets (past set-max-intset-entries 512 / set-max-listpack-entries 128 /
/// set-max-listpack-value 64: Redis's hashtable encoding), checked against a HashSet model through a real
/// server process: integer, string, empty and binary members, mixed-encoding algebra, STORE over other
/// types, the destination encodings Redis 7.2 picks, WRONGTYPE, and random picks that are roughly uniform.
/// </summary>
public class SetPagedCommandTests
{
    private static HashSet<string> Members(RespClient c, string key) => c.Call("SMEMBERS", key).Items!.Select(x => x.Text!).ToHashSet();

    private static void Add(RespClient c, string key, IEnumerable<string> members, HashSet<string> model)
    {
        foreach (var chunk in members.Chunk(100))
        {
            long added = c.Call(new object[] { "SADD", key }.Concat(chunk).ToArray()).Integer;
            long want = chunk.Count(model.Add);
            if (added != want) throw new InvalidOperationException($"SADD {key} added {added}, model {want}");
        }
    }

    private static async Task Same(RespClient c, string key, HashSet<string> model)
    {
        await Assert.That(c.Call("SCARD", key).Integer).IsEqualTo(model.Count);
        var got = Members(c, key);
        await Assert.That(got.SetEquals(model)).IsTrue();
    }

    private static readonly string[] Odd = ["", "\0bin\r\nary\0", "\r\n", "ünï€ode", new string('x', 200), "-0", "007", "9223372036854775808"];

    [Test]
    public async Task Reads_and_writes_on_paged_sets_match_a_model()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var rnd = new Random(12);
        var i = new HashSet<string>();
        var s = new HashSet<string>();
        var b = new HashSet<string>();
        Add(c, "i", Enumerable.Range(0, 1500).Select(n => (n * 7919L - 3_000_000).ToString()), i);
        Add(c, "s", Enumerable.Range(0, 1200).Select(n => "member:" + n), s);
        Add(c, "b", Enumerable.Range(0, 1000).Select(n => "b" + n).Concat(Odd), b);
        foreach (var (key, model) in new[] { ("i", i), ("s", s), ("b", b) })
        {
            await Assert.That(c.Call("OBJECT", "ENCODING", key).Text).IsEqualTo("hashtable");
            await Same(c, key, model);
            foreach (var m in model.OrderBy(_ => rnd.Next()).Take(40))
                await Assert.That(c.Call("SISMEMBER", key, m).Integer).IsEqualTo(1);
            await Assert.That(c.Call("SISMEMBER", key, "absent").Integer).IsEqualTo(0);
            var probe = model.Take(30).Concat(["absent", "x1", "member:99999"]).ToArray();
            var mis = c.Call(new object[] { "SMISMEMBER", key }.Concat(probe).ToArray()).Items!.Select(x => x.Integer).ToArray();
            await Assert.That(mis.SequenceEqual(probe.Select(m => model.Contains(m) ? 1L : 0L))).IsTrue();
            // A few members (each looked up in its bucket's record), repeats and absent ones among them.
            var members = model.ToArray();
            for (int t = 0; t < 100; t++)
            {
                var few = Enumerable.Range(0, 1 + rnd.Next(8)).Select(_ => rnd.Next(5) == 0 ? "absent" + rnd.Next(3) : members[rnd.Next(members.Length)]).ToArray();
                var got = c.Call(new object[] { "SMISMEMBER", key }.Concat(few).ToArray()).Items!.Select(x => x.Integer).ToArray();
                await Assert.That(got.SequenceEqual(few.Select(m => model.Contains(m) ? 1L : 0L))).IsTrue();
            }
        }
        foreach (var m in Odd) await Assert.That(c.Call("SISMEMBER", "b", m).Integer).IsEqualTo(1);

        // SSCAN: a full iteration returns every member; MATCH filters; a cursor past the end ends it.
        var seen = new List<string>();
        string cursor = "0";
        int steps = 0;
        do
        {
            var r = c.Call("SSCAN", "s", cursor, "COUNT", "100");
            cursor = r.Items![0].Text!;
            seen.AddRange(r.Items[1].Items!.Select(x => x.Text!));
        } while (cursor != "0" && ++steps < 10_000);
        await Assert.That(steps).IsGreaterThan(1);
        await Assert.That(seen.ToHashSet().SetEquals(s)).IsTrue();
        var matched = new HashSet<string>();
        cursor = "0";
        do
        {
            var r = c.Call("SSCAN", "s", cursor, "MATCH", "member:1?", "COUNT", "1000");
            cursor = r.Items![0].Text!;
            foreach (var x in r.Items[1].Items!) matched.Add(x.Text!);
        } while (cursor != "0");
        await Assert.That(matched.SetEquals(s.Where(m => m.Length == 9 && m.StartsWith("member:1")))).IsTrue();
        var past = c.Call("SSCAN", "s", "1000000");
        await Assert.That(past.Items![0].Text).IsEqualTo("0");
        await Assert.That(past.Items[1].Items!.Length).IsEqualTo(0);

        // SREM, some absent, in batches.
        var gone = s.OrderBy(_ => rnd.Next()).Take(300).Concat(["nope", "member:-1"]).ToArray();
        foreach (var chunk in gone.Chunk(50))
        {
            long want = chunk.Count(s.Remove);
            await Assert.That(c.Call(new object[] { "SREM", "s" }.Concat(chunk).ToArray()).Integer).IsEqualTo(want);
        }
        await Same(c, "s", s);

        // SPOP: one, then a count (CASE 2: what remains stays a hashtable).
        for (int n = 0; n < 20; n++)
        {
            var m = c.Call("SPOP", "s").Text!;
            await Assert.That(s.Remove(m)).IsTrue();
        }
        var popped = c.Call("SPOP", "s", "50").Items!.Select(x => x.Text!).ToList();
        await Assert.That(popped.Distinct().Count()).IsEqualTo(50);
        foreach (var m in popped) await Assert.That(s.Remove(m)).IsTrue();
        await Same(c, "s", s);
        await Assert.That(c.Call("OBJECT", "ENCODING", "s").Text).IsEqualTo("hashtable");

        // SRANDMEMBER: every count form.
        await Assert.That(s.Contains(c.Call("SRANDMEMBER", "s").Text!)).IsTrue();
        foreach (int k in new[] { 1, 10, 200, s.Count / 2, s.Count - 1 })
        {
            var r = c.Call("SRANDMEMBER", "s", k.ToString()).Items!.Select(x => x.Text!).ToList();
            await Assert.That(r.Count).IsEqualTo(k);
            await Assert.That(r.Distinct().Count()).IsEqualTo(k);
            await Assert.That(r.All(s.Contains)).IsTrue();
        }
        var whole = c.Call("SRANDMEMBER", "s", (s.Count + 5).ToString()).Items!.Select(x => x.Text!).ToList();
        await Assert.That(whole.Count).IsEqualTo(s.Count);
        await Assert.That(whole.ToHashSet().SetEquals(s)).IsTrue();
        var repeats = c.Call("SRANDMEMBER", "s", "-3000").Items!.Select(x => x.Text!).ToList();
        await Assert.That(repeats.Count).IsEqualTo(3000);
        await Assert.That(repeats.All(s.Contains)).IsTrue();
        await Assert.That(repeats.Distinct().Count() < 3000).IsTrue();
        await Same(c, "s", s);

        // SPOP CASE 3 (remaining * 5 <= count): the keepers form a new set, a listpack when small (Redis 7.2).
        var big = new HashSet<string>();
        Add(c, "p", Enumerable.Range(0, 1000).Select(n => n.ToString()), big);
        var many = c.Call("SPOP", "p", "900").Items!.Select(x => x.Text!).ToList();
        await Assert.That(many.Distinct().Count()).IsEqualTo(900);
        foreach (var m in many) await Assert.That(big.Remove(m)).IsTrue();
        await Same(c, "p", big);
        await Assert.That(c.Call("OBJECT", "ENCODING", "p").Text).IsEqualTo("listpack");
        // ... and a hashtable again past 128 keepers.
        var big2 = new HashSet<string>();
        Add(c, "p2", Enumerable.Range(0, 1000).Select(n => "k" + n), big2);
        foreach (var m in c.Call("SPOP", "p2", "840").Items!.Select(x => x.Text!)) await Assert.That(big2.Remove(m)).IsTrue();
        await Same(c, "p2", big2);
        await Assert.That(c.Call("OBJECT", "ENCODING", "p2").Text).IsEqualTo("hashtable");

        // Emptied paged sets delete their keys: SREM, SPOP with a count past the size, SMOVE of the last member.
        var z = new HashSet<string>();
        Add(c, "z", Enumerable.Range(0, 200).Select(n => "z" + n), z);
        foreach (var chunk in z.ToArray().Chunk(64)) c.Call(new object[] { "SREM", "z" }.Concat(chunk).ToArray());
        await Assert.That(c.Call("EXISTS", "z").Integer).IsEqualTo(0);
        var z2 = new HashSet<string>();
        Add(c, "z2", Enumerable.Range(0, 600).Select(n => n.ToString()), z2);
        var all = c.Call("SPOP", "z2", "1000").Items!.Select(x => x.Text!).ToHashSet();
        await Assert.That(all.SetEquals(z2)).IsTrue();
        await Assert.That(c.Call("EXISTS", "z2").Integer).IsEqualTo(0);
        var longMember = new string('L', 65);
        c.Call("SADD", "one", longMember); // one member past set-max-listpack-value: a hashtable of one
        await Assert.That(c.Call("OBJECT", "ENCODING", "one").Text).IsEqualTo("hashtable");
        await Assert.That(c.Call("SPOP", "one").Text).IsEqualTo(longMember);
        await Assert.That(c.Call("EXISTS", "one").Integer).IsEqualTo(0);
        await Assert.That(c.Call("SPOP", "one").IsNull).IsTrue();
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Smove_between_every_encoding_matches_a_model()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var a = new HashSet<string>();
        var b = new HashSet<string>();
        Add(c, "a", Enumerable.Range(0, 1000).Select(n => "a" + n), a);
        Add(c, "b", Enumerable.Range(0, 700).Select(n => n.ToString()), b);
        // paged -> paged, paged -> missing key, a member already at the destination, an absent member.
        await Assert.That(c.Call("SMOVE", "a", "b", "a5").Integer).IsEqualTo(1);
        a.Remove("a5");
        b.Add("a5");
        await Assert.That(c.Call("SMOVE", "b", "fresh", "7").Integer).IsEqualTo(1);
        b.Remove("7");
        await Assert.That(c.Call("SMOVE", "a", "a", "a6").Integer).IsEqualTo(1);
        await Assert.That(c.Call("SMOVE", "a", "b", "nope").Integer).IsEqualTo(0);
        c.Call("SADD", "b", "a9");
        b.Add("a9");
        await Assert.That(c.Call("SMOVE", "a", "b", "a9").Integer).IsEqualTo(1);
        a.Remove("a9");
        await Same(c, "a", a);
        await Same(c, "b", b);
        await Assert.That(c.Call("OBJECT", "ENCODING", "fresh").Text).IsEqualTo("intset");
        await Assert.That(Members(c, "fresh").SetEquals(["7"])).IsTrue();
        // inline -> paged, and an inline destination that passes the thresholds moves to pages.
        c.Call("SADD", "lp", "x", "y");
        await Assert.That(c.Call("SMOVE", "lp", "a", "x").Integer).IsEqualTo(1);
        a.Add("x");
        var lp = new HashSet<string>();
        Add(c, "lp2", Enumerable.Range(0, 128).Select(n => "l" + n), lp);
        await Assert.That(c.Call("OBJECT", "ENCODING", "lp2").Text).IsEqualTo("listpack");
        await Assert.That(c.Call("SMOVE", "a", "lp2", "a1").Integer).IsEqualTo(1);
        a.Remove("a1");
        lp.Add("a1");
        await Assert.That(c.Call("OBJECT", "ENCODING", "lp2").Text).IsEqualTo("hashtable");
        await Same(c, "lp2", lp);
        await Same(c, "a", a);
        var ints = new HashSet<string>();
        Add(c, "is", Enumerable.Range(0, 512).Select(n => n.ToString()), ints);
        await Assert.That(c.Call("OBJECT", "ENCODING", "is").Text).IsEqualTo("intset");
        await Assert.That(c.Call("SMOVE", "b", "is", "600").Integer).IsEqualTo(1);
        b.Remove("600");
        ints.Add("600");
        await Assert.That(c.Call("OBJECT", "ENCODING", "is").Text).IsEqualTo("hashtable");
        await Same(c, "is", ints);
        // The last member of a paged source: the key goes.
        c.Call("SADD", "solo", new string('s', 70));
        await Assert.That(c.Call("SMOVE", "solo", "a", new string('s', 70)).Integer).IsEqualTo(1);
        a.Add(new string('s', 70));
        await Assert.That(c.Call("EXISTS", "solo").Integer).IsEqualTo(0);
        await Same(c, "a", a);
        // A TTL on either side stays.
        c.Call("EXPIRE", "a", "1000");
        c.Call("EXPIRE", "b", "1000");
        c.Call("SMOVE", "a", "b", "a100");
        await Assert.That(c.Call("TTL", "a").Integer > 900).IsTrue();
        await Assert.That(c.Call("TTL", "b").Integer > 900).IsTrue();
        c.Call("SET", "str", "v");
        await Assert.That(c.Call("SMOVE", "a", "str", "a200").Text!).StartsWith("WRONGTYPE");
        await Assert.That(c.Call("SMOVE", "str", "a", "a200").Text!).StartsWith("WRONGTYPE");
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Algebra_over_paged_and_inline_operands_matches_a_model()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var rnd = new Random(5);
        var p1 = new HashSet<string>();
        var p2 = new HashSet<string>();
        var pi = new HashSet<string>();
        Add(c, "p1", Enumerable.Range(0, 3000).Select(n => "m" + n), p1);
        Add(c, "p2", Enumerable.Range(0, 3000).Where(n => n % 3 == 0).Select(n => "m" + n).Concat(Enumerable.Range(0, 400).Select(n => n.ToString())), p2);
        Add(c, "pi", Enumerable.Range(0, 2000).Select(n => (n * 2).ToString()), pi);
        var iset = new HashSet<string>(["2", "4", "5", "1000", "-1"]);
        c.Call(new object[] { "SADD", "iset" }.Concat(iset).ToArray());
        var lp = new HashSet<string>(["m3", "m4", "m6", "zz", "7"]);
        c.Call(new object[] { "SADD", "lp" }.Concat(lp).ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "iset").Text).IsEqualTo("intset");
        await Assert.That(c.Call("OBJECT", "ENCODING", "lp").Text).IsEqualTo("listpack");
        var models = new Dictionary<string, HashSet<string>> { ["p1"] = p1, ["p2"] = p2, ["pi"] = pi, ["iset"] = iset, ["lp"] = lp, ["missing"] = [] };
        HashSet<string> Inter(string[] ks) => ks.Skip(1).Aggregate(new HashSet<string>(models[ks[0]]), (acc, k) => { acc.IntersectWith(models[k]); return acc; });
        HashSet<string> Union(string[] ks) => ks.Aggregate(new HashSet<string>(), (acc, k) => { acc.UnionWith(models[k]); return acc; });
        HashSet<string> Diff(string[] ks) => ks.Skip(1).Aggregate(new HashSet<string>(models[ks[0]]), (acc, k) => { acc.ExceptWith(models[k]); return acc; });
        string[][] combos =
        [
            ["p1", "p2"], ["p2", "p1"], ["p1", "lp"], ["lp", "p1"], ["iset", "pi"], ["pi", "iset"], ["p1", "p2", "lp"],
            ["pi", "p2"], ["p2", "pi", "iset"], ["p1", "missing"], ["missing", "p1"], ["p1", "p1"], ["p2", "iset", "lp"],
            ["p1", "iset", "lp"], ["pi", "iset", "lp"],
        ];
        int d = 0;
        foreach (var ks in combos)
        {
            var inter = Inter(ks);
            var union = Union(ks);
            var diff = Diff(ks);
            string label = string.Join(" ", ks);
            var got = c.Call(new object[] { "SINTER" }.Concat(ks).ToArray()).Items!.Select(x => x.Text!).ToList();
            await Assert.That($"SINTER {label}: {got.Count} {got.ToHashSet().SetEquals(inter)}").IsEqualTo($"SINTER {label}: {inter.Count} True");
            got = c.Call(new object[] { "SUNION" }.Concat(ks).ToArray()).Items!.Select(x => x.Text!).ToList();
            await Assert.That($"SUNION {label}: {got.Count} {got.ToHashSet().SetEquals(union)}").IsEqualTo($"SUNION {label}: {union.Count} True");
            got = c.Call(new object[] { "SDIFF" }.Concat(ks).ToArray()).Items!.Select(x => x.Text!).ToList();
            await Assert.That($"SDIFF {label}: {got.Count} {got.ToHashSet().SetEquals(diff)}").IsEqualTo($"SDIFF {label}: {diff.Count} True");
            await Assert.That(c.Call(new object[] { "SINTERCARD", ks.Length.ToString() }.Concat(ks).ToArray()).Integer).IsEqualTo(inter.Count);
            await Assert.That(c.Call(new object[] { "SINTERCARD", ks.Length.ToString() }.Concat(ks).Concat(["LIMIT", "10"]).ToArray()).Integer).IsEqualTo(Math.Min(10, inter.Count));
            foreach (var (cmd, want) in new[] { ("SINTERSTORE", inter), ("SUNIONSTORE", union), ("SDIFFSTORE", diff) })
            {
                string dst = "dst" + d++;
                if (d % 3 == 0) c.Call("SET", dst, "a string with a TTL", "EX", "1000"); // a STORE replaces any type, and its TTL
                await Assert.That(c.Call(new object[] { cmd, dst }.Concat(ks).ToArray()).Integer).IsEqualTo(want.Count);
                if (want.Count == 0)
                {
                    await Assert.That(c.Call("EXISTS", dst).Integer).IsEqualTo(0);
                    continue;
                }
                await Same(c, dst, want);
                await Assert.That(c.Call("TTL", dst).Integer).IsEqualTo(-1);
                string enc = c.Call("OBJECT", "ENCODING", dst).Text!;
                bool allInts = want.All(m => long.TryParse(m, out var v) && v.ToString() == m);
                // Every path here ends in Redis's rules for the final size: intset when all integers and few enough,
                // listpack when small, else hashtable (a SDIFFSTORE by algorithm 2 keeps its first set's encoding,
                // a hashtable for each of these).
                string expected = allInts && want.Count <= 512 ? "intset" : want.Count <= 128 && want.All(m => m.Length <= 64) ? "listpack" : "hashtable";
                await Assert.That($"{cmd} {label}: {enc}").IsEqualTo($"{cmd} {label}: {expected}");
            }
        }
        // A STORE whose destination is one of its sources.
        var u = Union(["p1", "lp"]);
        await Assert.That(c.Call("SUNIONSTORE", "lp", "p1", "lp").Integer).IsEqualTo(u.Count);
        await Same(c, "lp", u);
        // WRONGTYPE from a paged command's other key.
        c.Call("SET", "str", "v");
        foreach (var cmd in new[] { "SINTER", "SUNION", "SDIFF" })
            await Assert.That(c.Call(cmd, "p1", "str").Text!).StartsWith("WRONGTYPE");
        await Assert.That(c.Call("SINTERSTORE", "x", "p1", "str").Text!).StartsWith("WRONGTYPE");
        await Assert.That(c.Call("SINTERCARD", "2", "str", "p1").Text!).StartsWith("WRONGTYPE");
        foreach (var args in new object[][] { ["SADD", "str", "a"], ["SREM", "str", "a"], ["SCARD", "str"], ["SISMEMBER", "str", "a"], ["SMISMEMBER", "str", "a"],
                     ["SMEMBERS", "str"], ["SPOP", "str"], ["SPOP", "str", "2"], ["SRANDMEMBER", "str"], ["SRANDMEMBER", "str", "-2"], ["SSCAN", "str", "0"] })
            await Assert.That(c.Call(args).Text!).StartsWith("WRONGTYPE");
        _ = rnd;
        await server.DisposeAsync();
        server.DeleteData();
    }

    /// <summary>Chi-square per degree of freedom of pick counts, expected uniform.</summary>
    private static double ChiSquarePerDof(Dictionary<string, int> counts, int members, int picks)
    {
        double e = (double)picks / members, chi = 0;
        foreach (var n in counts.Values) chi += (n - e) * (n - e) / e;
        chi += (members - counts.Count) * e; // members never picked
        return chi / (members - 1);
    }

    [Test]
    public async Task Spop_and_srandmember_on_a_paged_set_are_roughly_uniform()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        const int members = 1000;
        var model = new HashSet<string>();
        Add(c, "u", Enumerable.Range(0, members).Select(n => "u" + n), model);
        var counts = new Dictionary<string, int>();
        for (int round = 0; round < 20; round++)
            foreach (var x in c.Call("SRANDMEMBER", "u", "-2500").Items!) counts[x.Text!] = counts.GetValueOrDefault(x.Text!) + 1;
        double chi = ChiSquarePerDof(counts, members, 50_000);
        // Uniform: 1.00 +- 0.045 at 999 degrees of freedom; plain "random bucket, random entry" is far past 2.
        await Assert.That(chi).IsLessThan(1.35);
        await Assert.That(counts.Count).IsEqualTo(members);
        // SPOP, the popped member put back each time (the set stays 1000 and paged).
        counts.Clear();
        const int pops = 30_000;
        for (int n = 0; n < pops; n += 100)
        {
            for (int k = 0; k < 100; k++) c.Send("SPOP", "u");
            var got = new List<string>();
            for (int k = 0; k < 100; k++) got.Add(c.Read().Text!);
            foreach (var m in got) counts[m] = counts.GetValueOrDefault(m) + 1;
            c.Call(new object[] { "SADD", "u" }.Concat(got.Distinct()).ToArray());
        }
        chi = ChiSquarePerDof(counts, members, pops);
        await Assert.That(chi).IsLessThan(1.35);
        await Assert.That(c.Call("SCARD", "u").Integer).IsEqualTo(members);
        await server.DisposeAsync();
        server.DeleteData();
    }
}
