using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Lex ranges over a paged sorted set: ZRANGEBYLEX, ZREVRANGEBYLEX, ZRANGE BYLEX [REV] LIMIT, ZLEXCOUNT and
/// ZREMRANGEBYLEX, against a model of Redis's rule (the set in (score, member) order, from the first member at
/// or past the low bound while members stay at or under the high one). A set of one score is answered by two
/// seeks. (Over several scores Redis leaves the answer unspecified; such a set takes the whole-set path.)
/// </summary>
public class ZSetPagedLexTests
{
    private static string Flat(Reply r) => r.Items is null ? r.ToString() : string.Join(",", r.Items.Select(Flat));

    private static bool GteMin(string m, string min) => min == "-" || (min != "+" && (min[0] == '(' ? string.CompareOrdinal(m, min[1..]) > 0 : string.CompareOrdinal(m, min[1..]) >= 0));

    private static bool LteMax(string m, string max) => max == "+" || (max != "-" && (max[0] == '(' ? string.CompareOrdinal(m, max[1..]) < 0 : string.CompareOrdinal(m, max[1..]) <= 0));

    /// <summary>zslFirstInLexRange's walk over a list in set order: the run from the first member >= min while <= max.</summary>
    private static List<string> InRange(List<string> ordered, string min, string max)
    {
        var run = new List<string>();
        int i = 0;
        while (i < ordered.Count && !GteMin(ordered[i], min)) i++;
        for (; i < ordered.Count && LteMax(ordered[i], max); i++) run.Add(ordered[i]);
        return run;
    }

    [Test]
    public async Task Lex_ranges_over_a_paged_set_of_one_score_match_the_model()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "zset-max-listpack-entries", "4");
        var rng = new Random(7);
        var members = new SortedSet<string>(StringComparer.Ordinal);
        var add = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 3000; i++)
        {
            string m = "m" + rng.Next(100000);
            members.Add(m);
            add.Add("5");
            add.Add(m);
        }
        members.Add("");
        add.Add("5");
        add.Add("");
        c.Call(add.ToArray());
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");

        string Bound()
        {
            int k = rng.Next(10);
            if (k == 0) return "-";
            if (k == 1) return "+";
            string v = rng.Next(3) == 0 && members.Count > 0 ? members.ElementAt(rng.Next(members.Count)) : "m" + rng.Next(100000);
            if (rng.Next(8) == 0) v = v[..Math.Min(v.Length, rng.Next(1, 4))];
            return (rng.Next(2) == 0 ? "[" : "(") + v;
        }

        for (int step = 0; step < 300; step++)
        {
            var ordered = members.ToList();
            string min = Bound(), max = Bound();
            var run = InRange(ordered, min, max);
            int op = rng.Next(6);
            if (op == 0)
                await Assert.That(c.Call("ZLEXCOUNT", "z", min, max).Integer).IsEqualTo(run.Count);
            else if (op == 1)
                await Assert.That(Flat(c.Call("ZRANGEBYLEX", "z", min, max))).IsEqualTo(string.Join(",", run));
            else if (op == 2)
            {
                int offset = rng.Next(-1, 20), count = rng.Next(-1, 30);
                var expect = offset < 0 ? new List<string>() : run.Skip(offset).Take(count < 0 ? int.MaxValue : count).ToList();
                await Assert.That(Flat(c.Call("ZRANGEBYLEX", "z", min, max, "LIMIT", offset.ToString(), count.ToString()))).IsEqualTo(string.Join(",", expect));
            }
            else if (op == 3)
            {
                // ZREVRANGEBYLEX takes max first; the run is walked from its high end.
                var rev = Enumerable.Reverse(RevRun(ordered, max, min)).ToList();
                int offset = rng.Next(0, 10), count = rng.Next(-1, 30);
                var expect = rev.Skip(offset).Take(count < 0 ? int.MaxValue : count).ToList();
                await Assert.That(Flat(c.Call("ZREVRANGEBYLEX", "z", max, min, "LIMIT", offset.ToString(), count.ToString()))).IsEqualTo(string.Join(",", expect));
                await Assert.That(Flat(c.Call("ZRANGE", "z", max, min, "BYLEX", "REV", "LIMIT", offset.ToString(), count.ToString()))).IsEqualTo(string.Join(",", expect));
            }
            else if (op == 4)
                await Assert.That(Flat(c.Call("ZRANGE", "z", min, max, "BYLEX"))).IsEqualTo(string.Join(",", run));
            else if (rng.Next(4) == 0)
            {
                await Assert.That(c.Call("ZREMRANGEBYLEX", "z", min, max).Integer).IsEqualTo(run.Count);
                foreach (var m in run) members.Remove(m);
                await Assert.That(c.Call("ZCARD", "z").Integer).IsEqualTo(members.Count);
            }
        }
        await Assert.That(c.Call("OBJECT", "ENCODING", "z").Text).IsEqualTo("skiplist");
        await Assert.That(c.Call("ZLEXCOUNT", "z", "(b", "[a").Integer).IsEqualTo(0);
        await Assert.That(c.Call("ZLEXCOUNT", "z", "x", "+").ToString()).IsEqualTo("ERR min or max not valid string range item");
    }

    /// <summary>zslLastInLexRange's walk for REV: the members of the forward run, which is what Redis returns reversed on one score.</summary>
    private static List<string> RevRun(List<string> ordered, string max, string min)
    {
        // Walked from the end: the last member <= max, then back while >= min.
        var run = new List<string>();
        int i = ordered.Count - 1;
        while (i >= 0 && !LteMax(ordered[i], max)) i--;
        for (; i >= 0 && GteMin(ordered[i], min); i--) run.Add(ordered[i]);
        run.Reverse();
        return run;
    }
}
