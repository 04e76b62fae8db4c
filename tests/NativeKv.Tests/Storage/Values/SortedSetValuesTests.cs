using System.Text;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// Values/SortedSet*.cs against a model: random operation sequences on a <see cref="SortedSetBuilder"/>
/// checked after every step against a plain ordered set of (score, member) and a member -> score map
/// (ranks, look-ups, the payload read back by <see cref="SortedSet.Reader"/>, <see cref="SortedSet.Index"/>
/// and a reload), plus the score text and range parsers.
/// </summary>
public class SortedSetValuesTests
{
    private static byte[] B(string s) => Encoding.Latin1.GetBytes(s);

    /// <summary>Redis's order written out on its own: score by &lt; and &gt;, then memcmp, then length.</summary>
    private sealed class EntryOrder : IComparer<(double Score, string Member)>
    {
        public int Compare((double Score, string Member) x, (double Score, string Member) y)
        {
            if (x.Score < y.Score) return -1;
            if (x.Score > y.Score) return 1;
            return string.CompareOrdinal(x.Member, y.Member);
        }
    }

    private static async Task Check(SortedSetBuilder b, SortedSet<(double Score, string Member)> order, Dictionary<string, double> scores, string step)
    {
        var expected = order.ToList();
        await Assert.That(b.Count).IsEqualTo(expected.Count).Because(step);
        await Assert.That(SortedSet.Count(b.Payload)).IsEqualTo(expected.Count).Because(step);
        var got = new List<(double, string)>();
        var r = new SortedSet.Reader(b.Payload);
        while (r.Next(out var m, out double s)) got.Add((s, Encoding.Latin1.GetString(m)));
        await Assert.That(string.Join("|", got)).IsEqualTo(string.Join("|", expected)).Because(step);
        var index = new SortedSet.Index();
        index.Build(b.Payload);
        for (int i = 0; i < expected.Count; i++)
        {
            b.MemberAt(i, out var bm, out double bs);
            bool builderOk = Encoding.Latin1.GetString(bm) == expected[i].Member && bs.Equals(expected[i].Score);
            index.At(b.Payload, i, out var im, out double isc);
            bool indexOk = Encoding.Latin1.GetString(im) == expected[i].Member && isc.Equals(expected[i].Score);
            await Assert.That(builderOk && indexOk).IsTrue().Because(step);
        }
        foreach (var (m, s) in scores)
        {
            int rank = SortedSet.Find(b.Payload, B(m), out double fs);
            await Assert.That(rank).IsEqualTo(expected.IndexOf((s, m))).Because(step);
            await Assert.That(fs.Equals(s)).IsTrue().Because(step);
            await Assert.That(b.Find(B(m), out _)).IsEqualTo(rank).Because(step);
        }
    }

    [Test]
    [Arguments(1)]
    [Arguments(2)]
    [Arguments(3)]
    public async Task Random_operations_match_an_ordered_set_model(int seed)
    {
        var rng = new Random(seed);
        var b = new SortedSetBuilder();
        b.Create(CollectionEncoding.Skiplist);
        var order = new SortedSet<(double Score, string Member)>(new EntryOrder());
        var scores = new Dictionary<string, double>();
        // Few distinct scores, so ties fall to the member order; members of varied length, prefixes of each other.
        double Score() => rng.Next(6) switch { 0 => double.NegativeInfinity, 1 => double.PositiveInfinity, 2 => rng.Next(-3, 4) * 0.5, _ => rng.Next(-5, 5) };
        string Member() => new string('m', rng.Next(0, 3)) + rng.Next(0, 40) + (rng.Next(4) == 0 ? new string('x', rng.Next(100, 300)) : "");
        for (int step = 0; step < 1500; step++)
        {
            int op = rng.Next(10);
            string m = Member();
            string what;
            if (op < 4)
            {
                double s = Score();
                what = $"{step}: add {m[..Math.Min(m.Length, 12)]} {s}";
                if (scores.TryGetValue(m, out double cur))
                {
                    int rank = b.Find(B(m), out _);
                    b.UpdateScore(rank, s);
                    order.Remove((cur, m));
                }
                else b.Insert(B(m), s);
                scores[m] = s;
                order.Add((s, m));
            }
            else if (op < 6 && order.Count > 0)
            {
                int rank = rng.Next(order.Count);
                var e = order.ElementAt(rank);
                what = $"{step}: removeAt {rank}";
                b.RemoveAt(rank);
                order.Remove(e);
                scores.Remove(e.Member);
            }
            else if (op == 6 && order.Count > 0)
            {
                int start = rng.Next(order.Count), n = rng.Next(0, Math.Min(5, order.Count - start) + 1);
                what = $"{step}: removeRange {start} {n}";
                foreach (var e in order.Skip(start).Take(n).ToList())
                {
                    order.Remove(e);
                    scores.Remove(e.Member);
                }
                b.RemoveRange(start, n);
            }
            else if (op == 7)
            {
                // Reload from the payload: a builder starts from what the store holds.
                what = $"{step}: reload";
                var copy = b.Payload.ToArray();
                b.Load(copy);
            }
            else
            {
                double s = Score();
                what = $"{step}: insertion rank {s}";
                int expected = order.Count(e => new EntryOrder().Compare(e, (s, m)) < 0);
                await Assert.That(b.InsertionRank(B(m), s)).IsEqualTo(expected).Because(what);
            }
            await Check(b, order, scores, what);
        }
    }

    [Test]
    public async Task A_listpack_reads_negative_zero_back_as_zero_and_a_skiplist_keeps_it()
    {
        var b = new SortedSetBuilder();
        b.Create(CollectionEncoding.Listpack);
        b.Insert(B("a"), -0.0);
        b.MemberAt(0, out _, out double s);
        await Assert.That(double.IsNegative(s)).IsFalse();
        b.Encoding = CollectionEncoding.Skiplist;
        b.Insert(B("b"), -0.0);
        await Assert.That(b.Find(B("b"), out double t)).IsEqualTo(1);
        await Assert.That(double.IsNegative(t)).IsTrue();
        await Assert.That(SortedSet.EncodingOf(b.Payload)).IsEqualTo(CollectionEncoding.Skiplist);
    }

    [Test]
    public async Task Score_text_parses_as_string2d_and_strtod()
    {
        foreach (var (text, ok, value) in new (string, bool, double)[]
        {
            ("1", true, 1), ("-2.5", true, -2.5), ("0x10", true, 16), ("0x1p-2", true, 0.25), ("-0x1.8p1", true, -3),
            ("inf", true, double.PositiveInfinity), ("-Infinity", true, double.NegativeInfinity), ("1e400", false, 0),
            ("1e-400", false, 0), ("0e5", true, 0), ("nan", false, 0), ("", false, 0), (" 1", false, 0), ("1 ", false, 0),
            ("0x", false, 0), ("1x", false, 0), ("+1", true, 1), (".5", true, 0.5),
        })
        {
            bool parsed = ScoreText.TryParse(B(text), out double v);
            await Assert.That(parsed).IsEqualTo(ok).Because(text);
            if (ok) await Assert.That(v).IsEqualTo(value).Because(text);
        }
        // A range bound: strtod skips leading spaces, reads "" as 0, keeps overflow as infinity.
        foreach (var (text, ok, value) in new (string, bool, double)[]
        {
            ("", true, 0), (" 2", true, 2), ("  ", false, 0), ("1e400", true, double.PositiveInfinity), ("2 ", false, 0), ("nan", false, 0),
        })
        {
            bool parsed = ScoreText.TryParseBound(B(text), out double v);
            await Assert.That(parsed).IsEqualTo(ok).Because($"bound '{text}'");
            if (ok) await Assert.That(v).IsEqualTo(value).Because($"bound '{text}'");
        }
    }

    private delegate bool LexCheck(LexRange range);

    private static bool Lex(string min, string max, LexCheck check) => LexRange.TryParse(B(min), B(max), out var range) && check(range);

    [Test]
    public async Task Ranges_follow_zslParseRange_and_zslParseLexRange()
    {
        await Assert.That(ScoreRange.TryParseBound(B("(1.5"), out double v, out bool ex) && v == 1.5 && ex).IsTrue();
        await Assert.That(new ScoreRange(1, 1, true, false).IsEmpty).IsTrue();
        await Assert.That(new ScoreRange(1, 1, false, false).Contains(1)).IsTrue();
        await Assert.That(new ScoreRange(2, 1, false, false).IsEmpty).IsTrue();
        await Assert.That(Lex("[a", "(c", l => l.Contains(B("a")) && l.Contains(B("bz")) && !l.Contains(B("c")))).IsTrue();
        await Assert.That(Lex("-", "+", l => l.Contains(B("")) && !l.IsEmpty)).IsTrue();
        await Assert.That(Lex("+", "-", l => l.IsEmpty)).IsTrue();
        await Assert.That(Lex("[b", "[a", l => l.IsEmpty && !l.Contains(B("a")))).IsTrue();
        await Assert.That(LexRange.TryParse(B("a"), B("+"), out _)).IsFalse();
        await Assert.That(LexRange.TryParse(B("+a"), B("+"), out _)).IsFalse();
    }

    [Test]
    public async Task Doubles_format_as_fpconv_dtoa()
    {
        foreach (var (d, text) in new (double, string)[]
        {
            (0.1, "0.1"), (-0.0, "-0"), (0.0, "0"), (1e20, "1e+20"), (1e-7, "1e-7"), (123.456, "123.456"), (1e21, "1e+21"),
            (12345678901234567890.0, "12345678901234567000"), (4611686018427387904.0, "4611686018427387904"),
            (9223372036854775807.0, "9223372036854776000"), (1.0 / 3, "0.3333333333333333"), (-1e-300, "-1e-300"),
            (double.NaN, "nan"), (double.PositiveInfinity, "inf"), (double.NegativeInfinity, "-inf"), (1e100, "1e+100"),
            (0.0001, "0.0001"), (1.5e-5, "0.000015"), (1.5e-7, "1.5e-7"), (100.0, "100"), (-1234.5, "-1234.5"),
        })
        {
            var buf = new byte[32];
            int n = RespWriter.FormatDouble(d, buf);
            await Assert.That(Encoding.ASCII.GetString(buf, 0, n)).IsEqualTo(text).Because(d.ToString("R"));
        }
    }

    [Test]
    public async Task Grisu2_text_reads_back_as_the_same_double()
    {
        // Random bit patterns (every exponent) and short decimals: the text is fpconv's, the value exact.
        var rng = new Random(11);
        var buf = new byte[32];
        int bad = 0, checkedCount = 0;
        string first = "";
        for (int i = 0; i < 200_000; i++)
        {
            double d = i % 2 == 0 ? BitConverter.Int64BitsToDouble(rng.NextInt64()) : Math.Round(rng.NextDouble() * 1000, rng.Next(1, 8));
            if (!double.IsFinite(d)) continue;
            int n = RespWriter.FormatDouble(d, buf);
            var text = Encoding.ASCII.GetString(buf, 0, n);
            checkedCount++;
            if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double back) || !back.Equals(d))
            {
                if (bad++ == 0) first = $"{d:R} -> {text}";
            }
        }
        await Assert.That(checkedCount).IsGreaterThan(150_000);
        await Assert.That(first).IsEqualTo("");
    }
}
