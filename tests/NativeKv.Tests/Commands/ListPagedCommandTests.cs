using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Every list command on lists past list-max-listpack-size (paged: a root in the key's record, elements on a
/// counted tree), checked against a List model through a real server: the encodings at Redis 7.2's limits and
/// back, pushes and pops of runs, LINDEX/LSET/LRANGE/LTRIM/LINSERT/LREM/LPOS/LMOVE/LMPOP on thousands of
/// elements, the key commands (DEL, RENAME, MOVE, COPY, EXPIRE, OBJECT), and blocking pops served by paged lists.
/// </summary>
public class ListPagedCommandTests
{
    private static List<string> All(RespClient c, string key) => c.Call("LRANGE", key, "0", "-1").Items!.Select(x => x.Text!).ToList();

    private static long Paged(RespClient c)
    {
        var info = c.Call("INFO", "memory").Text!;
        var line = info.Split("\r\n").First(l => l.StartsWith("store_paged_collections:"));
        return long.Parse(line.Split(':')[1]);
    }

    private static async Task Same(RespClient c, string key, List<string> model)
    {
        await Assert.That(c.Call("LLEN", key).Integer).IsEqualTo(model.Count);
        await Assert.That(string.Join(",", All(c, key))).IsEqualTo(string.Join(",", model));
    }

    /// <summary>
    /// 16-byte elements weigh 18 bytes in Redis's listpack (a 1-byte header and a 1-byte back-length): 7 + 18n passes
    /// 8192 (list-max-listpack-size -2) at n = 455, so the 455th push makes a quicklist; a removal that leaves 227
    /// (7 + 18 x 227 = 4093, under 4096) makes it a listpack again. Counted limits flip at count + 1 and count / 2.
    /// </summary>
    [Test]
    public async Task Encodings_flip_at_redis_limits_and_the_list_goes_to_pages_and_back()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        for (int i = 1; i <= 455; i++)
        {
            c.Call("RPUSH", "l", $"e{i:D15}");
            string want = i < 455 ? "listpack" : "quicklist";
            if (i >= 450) await Assert.That($"{i}: {c.Call("OBJECT", "ENCODING", "l").Text}").IsEqualTo($"{i}: {want}");
        }
        await Assert.That(Paged(c)).IsEqualTo(1);
        for (int n = 454; n >= 226; n--)
        {
            c.Call("RPOP", "l");
            string want = n > 227 ? "quicklist" : "listpack";
            if (n <= 229) await Assert.That($"{n}: {c.Call("OBJECT", "ENCODING", "l").Text}").IsEqualTo($"{n}: {want}");
        }
        await Assert.That(Paged(c)).IsEqualTo(0);
        await Assert.That(c.Call("LINDEX", "l", "225").Text).IsEqualTo($"e{226:D15}");

        // A count limit: quicklist past 5 entries, listpack again at 2.
        c.Call("CONFIG", "SET", "list-max-listpack-size", "5");
        c.Call("RPUSH", "n", "a", "b", "c", "d", "e");
        await Assert.That(c.Call("OBJECT", "ENCODING", "n").Text).IsEqualTo("listpack");
        c.Call("LPUSH", "n", "z");
        await Assert.That(c.Call("OBJECT", "ENCODING", "n").Text).IsEqualTo("quicklist");
        c.Call("LTRIM", "n", "0", "2");
        await Assert.That(c.Call("OBJECT", "ENCODING", "n").Text).IsEqualTo("quicklist");
        c.Call("LPOP", "n");
        await Assert.That(c.Call("OBJECT", "ENCODING", "n").Text).IsEqualTo("listpack");
        await Assert.That(string.Join(",", All(c, "n"))).IsEqualTo("a,b");

        // An element longer than a tree entry takes goes to pages too, out of line (as Redis's plain quicklist node).
        c.Call("CONFIG", "SET", "list-max-listpack-size", "-2");
        var big = new string('x', 9000);
        c.Call("RPUSH", "wide", big, "y");
        await Assert.That(c.Call("OBJECT", "ENCODING", "wide").Text).IsEqualTo("quicklist");
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(c.Call("LINDEX", "wide", "0").Text).IsEqualTo(big);
        c.Call(new object[] { "RPUSH", "p" }.Concat(Enumerable.Range(0, 2000).Select(i => (object)("v" + i))).ToArray());
        await Assert.That(c.Call("RPUSH", "p", new string('q', 2000)).Integer).IsEqualTo(2001);
        await Assert.That(c.Call("OBJECT", "ENCODING", "p").Text).IsEqualTo("quicklist");
        await Assert.That(c.Call("LINDEX", "p", "-1").Text).IsEqualTo(new string('q', 2000));
        // Popped back under the limit, the wide list is a listpack again, its long element read from its chunks.
        await Assert.That(c.Call("RPOP", "wide").Text).IsEqualTo("y");
        await Assert.That(c.Call("OBJECT", "ENCODING", "wide").Text).IsEqualTo("quicklist");
        await Assert.That(c.Call("LPOP", "wide").Text).IsEqualTo(big);
        await Assert.That(c.Call("EXISTS", "wide").Integer).IsEqualTo(0);
    }

    [Test]
    [Arguments(1, "-2")]
    [Arguments(2, "-1")]
    [Arguments(3, "64")]
    public async Task Every_list_command_on_paged_lists_matches_a_model(int seed, string fill)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "list-max-listpack-size", fill);
        var rng = new Random(seed);
        var model = new Dictionary<string, List<string>> { ["a"] = new(), ["b"] = new() };
        string[] keys = ["a", "b"];
        // A fifteenth of them longer than a tree entry takes (kept out of line), now and then past a 64 KB chunk.
        string El() => rng.Next(15) switch
        {
            0 or 1 or 2 => "", 3 or 4 or 5 => rng.Next(-300, 300).ToString(), 6 or 7 or 8 => "k" + rng.Next(20),
            9 => rng.Next(25) == 0 ? "huge" + rng.Next(3) + new string('h', 70_000) : "long" + rng.Next(20) + new string('l', 1020 + rng.Next(3000)),
            _ => "element:" + rng.Next(5000),
        };
        foreach (var k in keys)
        {
            var init = Enumerable.Range(0, 3000).Select(_ => El()).ToList();
            foreach (var chunk in init.Chunk(500)) c.Call(new object[] { "RPUSH", k }.Concat(chunk).ToArray());
            model[k].AddRange(init);
            await Assert.That(c.Call("OBJECT", "ENCODING", k).Text).IsEqualTo("quicklist");
        }
        for (int step = 0; step < 1500; step++)
        {
            string k = keys[rng.Next(2)], d = keys[rng.Next(2)];
            var l = model[k];
            int n = l.Count;
            long Idx() => rng.Next(-n - 3, n + 3);
            int At(long i) => (int)(i < 0 ? i + n : i);
            string tag;
            string want, got;
            switch (rng.Next(13))
            {
                case 0:
                case 1:
                {
                    bool head = rng.Next(2) == 0;
                    var els = Enumerable.Range(0, rng.Next(1, 40)).Select(_ => El()).ToArray();
                    foreach (var e in els) if (head) l.Insert(0, e); else l.Add(e);
                    tag = head ? "LPUSH" : "RPUSH";
                    want = l.Count.ToString();
                    got = c.Call(new object[] { tag, k }.Concat(els).ToArray()).ToString();
                    break;
                }
                case 2:
                {
                    bool head = rng.Next(2) == 0;
                    int cnt = rng.Next(0, 60);
                    tag = $"{(head ? "LPOP" : "RPOP")} {cnt}";
                    var taken = new List<string>();
                    for (int i = 0; i < cnt && l.Count > 0; i++) { taken.Add(head ? l[0] : l[^1]); l.RemoveAt(head ? 0 : l.Count - 1); }
                    want = n == 0 ? "(nil)" : "[" + string.Join(", ", taken) + "]";
                    var r = c.Call(head ? "LPOP" : "RPOP", k, cnt.ToString());
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 3:
                {
                    long i = Idx();
                    tag = $"LINDEX {i}";
                    want = At(i) >= 0 && At(i) < n ? l[At(i)] : "(nil)";
                    var r = c.Call("LINDEX", k, i.ToString());
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 4:
                {
                    long i = Idx();
                    string e = El();
                    tag = $"LSET {i}";
                    if (n == 0) want = "ERR no such key";
                    else if (At(i) < 0 || At(i) >= n) want = "ERR index out of range";
                    else { l[At(i)] = e; want = "OK"; }
                    got = c.Call("LSET", k, i.ToString(), e).ToString();
                    break;
                }
                case 5:
                {
                    long s = rng.Next(-n - 5, n + 5), e = rng.Next(5) == 0 ? -1 : s + rng.Next(-5, 2000);
                    tag = $"LRANGE {s} {e}";
                    long ss = s < 0 ? Math.Max(0, s + n) : s, ee = e < 0 ? e + n : Math.Min(e, n - 1);
                    want = "[" + (ss > ee || ss >= n ? "" : string.Join(", ", l.Skip((int)ss).Take((int)(ee - ss + 1)))) + "]";
                    got = c.Call("LRANGE", k, s.ToString(), e.ToString()).ToString();
                    break;
                }
                case 6:
                {
                    // Trims that keep most of the list (it stays long), and now and then a deep one.
                    long s = rng.Next(0, 30), e = rng.Next(10) == 0 ? rng.Next(0, 300) : -rng.Next(1, 30);
                    tag = $"LTRIM {s} {e}";
                    long ss = s, ee = e < 0 ? e + n : Math.Min(e, n - 1);
                    var kept = ss > ee || ss >= n ? new List<string>() : l.Skip((int)ss).Take((int)(ee - ss + 1)).ToList();
                    l.Clear();
                    l.AddRange(kept);
                    want = "OK";
                    got = c.Call("LTRIM", k, s.ToString(), e.ToString()).ToString();
                    break;
                }
                case 7:
                {
                    int cnt = rng.Next(-3, 4);
                    string e = rng.Next(3) == 0 ? "absent" : (n > 0 ? l[rng.Next(n)] : "x");
                    tag = $"LREM {cnt} {e}";
                    int removed = 0;
                    if (cnt >= 0) { for (int i = 0; i < l.Count && (cnt == 0 || removed < cnt);) if (l[i] == e) { l.RemoveAt(i); removed++; } else i++; }
                    else { for (int i = l.Count - 1; i >= 0 && removed < -cnt; i--) if (l[i] == e) { l.RemoveAt(i); removed++; } }
                    want = removed.ToString();
                    got = c.Call("LREM", k, cnt.ToString(), e).ToString();
                    break;
                }
                case 8:
                {
                    bool after = rng.Next(2) == 0;
                    string pivot = rng.Next(4) == 0 ? "absent" : (n > 0 ? l[rng.Next(n)] : "x"), e = El();
                    tag = $"LINSERT {pivot}";
                    int at = l.IndexOf(pivot);
                    if (n == 0) want = "0";
                    else if (at < 0) want = "-1";
                    else { l.Insert(after ? at + 1 : at, e); want = l.Count.ToString(); }
                    got = c.Call("LINSERT", k, after ? "AFTER" : "BEFORE", pivot, e).ToString();
                    break;
                }
                case 9:
                {
                    string e = n > 0 && rng.Next(4) > 0 ? l[rng.Next(n)] : "absent";
                    int rank = rng.Next(2) == 0 ? rng.Next(1, 4) : -rng.Next(1, 4);
                    int cnt = rng.Next(0, 4), maxlen = rng.Next(3) == 0 ? rng.Next(0, 2000) : 0;
                    tag = $"LPOS {e} RANK {rank} COUNT {cnt} MAXLEN {maxlen}";
                    var found = new List<long>();
                    int seen = 0;
                    for (int j = 0; j < n && (maxlen == 0 || j < maxlen); j++)
                    {
                        int i = rank > 0 ? j : n - 1 - j;
                        if (l[i] != e || ++seen < Math.Abs(rank)) continue;
                        found.Add(i);
                        if (cnt != 0 && found.Count >= cnt) break;
                    }
                    want = "[" + string.Join(", ", found) + "]";
                    got = c.Call("LPOS", k, e, "RANK", rank.ToString(), "COUNT", cnt.ToString(), "MAXLEN", maxlen.ToString()).ToString();
                    break;
                }
                case 10:
                {
                    bool fromHead = rng.Next(2) == 0, toHead = rng.Next(2) == 0;
                    tag = $"LMOVE {k} {d}";
                    if (n == 0) want = "(nil)";
                    else
                    {
                        string e = fromHead ? l[0] : l[^1];
                        l.RemoveAt(fromHead ? 0 : l.Count - 1);
                        if (toHead) model[d].Insert(0, e); else model[d].Add(e);
                        want = e;
                    }
                    var r = c.Call("LMOVE", k, d, fromHead ? "LEFT" : "RIGHT", toHead ? "LEFT" : "RIGHT");
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 11:
                {
                    bool head = rng.Next(2) == 0;
                    int cnt = rng.Next(1, 50);
                    string from = model["a"].Count > 0 ? "a" : "b";
                    var fl = model[from];
                    tag = "LMPOP";
                    if (fl.Count == 0) want = "(nil)";
                    else
                    {
                        var taken = new List<string>();
                        for (int i = 0; i < cnt && fl.Count > 0; i++) { taken.Add(head ? fl[0] : fl[^1]); fl.RemoveAt(head ? 0 : fl.Count - 1); }
                        want = $"[{from}, [{string.Join(", ", taken)}]]";
                    }
                    var r = c.Call("LMPOP", "2", "a", "b", head ? "LEFT" : "RIGHT", "COUNT", cnt.ToString());
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                default:
                {
                    bool head = rng.Next(2) == 0;
                    tag = "LPUSHX/RPUSHX";
                    string e = El();
                    if (n > 0) { if (head) l.Insert(0, e); else l.Add(e); }
                    want = l.Count.ToString();
                    got = c.Call(head ? "LPUSHX" : "RPUSHX", k, e).ToString();
                    break;
                }
            }
            if (got != want) throw new InvalidOperationException($"step {step} {tag} on {k} (length {n}): got {Short(got)}, want {Short(want)}");
            if (step % 100 == 0) foreach (var key in keys) await Same(c, key, model[key]);
        }
        foreach (var key in keys) await Same(c, key, model[key]);
    }

    private static string Short(string s) => s.Length > 300 ? s[..300] + "..." : s;

    [Test]
    public async Task Key_commands_move_and_copy_paged_lists()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var model = Enumerable.Range(0, 20_000).Select(i => "item-" + i).ToList();
        foreach (var chunk in model.Chunk(1000)) c.Call(new object[] { "RPUSH", "src" }.Concat(chunk).ToArray());
        await Assert.That(Paged(c)).IsEqualTo(1);
        await Assert.That(c.Call("COPY", "src", "cp").Integer).IsEqualTo(1);
        await Assert.That(c.Call("COPY", "src", "cp").Integer).IsEqualTo(0);
        await Assert.That(Paged(c)).IsEqualTo(2);
        c.Call("LSET", "src", "5", "changed");
        c.Call("RPOP", "cp");
        await Assert.That(c.Call("LINDEX", "cp", "5").Text).IsEqualTo("item-5");
        await Assert.That(c.Call("LLEN", "cp").Integer).IsEqualTo(19_999);
        await Assert.That(c.Call("LINDEX", "src", "-1").Text).IsEqualTo("item-19999");
        await Assert.That(c.Call("RENAME", "src", "renamed").Text).IsEqualTo("OK");
        await Assert.That(c.Call("LINDEX", "renamed", "5").Text).IsEqualTo("changed");
        await Assert.That(c.Call("MOVE", "renamed", "3").Integer).IsEqualTo(1);
        c.Call("SELECT", "3");
        await Assert.That(c.Call("LLEN", "renamed").Integer).IsEqualTo(20_000);
        await Assert.That(c.Call("COPY", "renamed", "back", "DB", "0").Integer).IsEqualTo(1);
        c.Call("SELECT", "0");
        model[5] = "changed";
        await Same(c, "back", model);
        await Assert.That(c.Call("TYPE", "back").Text).IsEqualTo("list");
        await Assert.That(c.Call("OBJECT", "ENCODING", "back").Text).IsEqualTo("quicklist");
        c.Call("PEXPIRE", "back", "100");
        await Task.Delay(300);
        await Assert.That(c.Call("EXISTS", "back").Integer).IsEqualTo(0);
        await Assert.That(c.Call("DEL", "cp").Integer).IsEqualTo(1);
        c.Call("SET", "cp", "now a string");
        await Assert.That(c.Call("LLEN", "cp").IsError).IsTrue();
        c.Call("SELECT", "3");
        await Assert.That(c.Call("UNLINK", "renamed").Integer).IsEqualTo(1);
        c.Call("SELECT", "0");
        await Assert.That(Paged(c)).IsEqualTo(0);
        // An overwrite by SET and a FLUSHDB drop paged lists too.
        c.Call(new object[] { "RPUSH", "x" }.Concat(model.Take(2000)).ToArray());
        c.Call(new object[] { "RPUSH", "y" }.Concat(model.Take(2000)).ToArray());
        await Assert.That(Paged(c)).IsEqualTo(2);
        c.Call("SET", "x", "1");
        c.Call("FLUSHDB");
        await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(0);
    }

    [Test]
    public async Task Blocking_pops_are_served_by_paged_lists()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var els = Enumerable.Range(0, 3000).Select(i => (object)("b" + i)).ToArray();
        c.Call(new object[] { "RPUSH", "big" }.Concat(els).ToArray());
        await Assert.That(c.Call("BLPOP", "none", "big", "1").ToString()).IsEqualTo("[big, b0]");
        await Assert.That(c.Call("BRPOP", "big", "1").ToString()).IsEqualTo("[big, b2999]");
        await Assert.That(c.Call("BLMPOP", "1", "2", "none", "big", "LEFT", "COUNT", "3").ToString()).IsEqualTo("[big, [b1, b2, b3]]");
        await Assert.That(c.Call("BLMOVE", "big", "other", "RIGHT", "LEFT", "1").Text).IsEqualTo("b2998");
        await Assert.That(c.Call("BRPOPLPUSH", "big", "other", "1").Text).IsEqualTo("b2997");
        // Waiters on an empty key: a push that makes it paged at once serves them in order.
        using var w1 = new RespClient(server.Port);
        using var w2 = new RespClient(server.Port);
        w1.Send("BLPOP", "q", "5");
        await Task.Delay(100);
        w2.Send("BLMOVE", "q", "big", "RIGHT", "RIGHT", "5");
        await Task.Delay(100);
        c.Call(new object[] { "RPUSH", "q" }.Concat(els).ToArray());
        await Assert.That(w1.Read().ToString()).IsEqualTo("[q, b0]");
        await Assert.That(w2.Read().Text).IsEqualTo("b2999");
        await Assert.That(c.Call("LLEN", "q").Integer).IsEqualTo(2998);
        await Assert.That(c.Call("LINDEX", "big", "-1").Text).IsEqualTo("b2999");
        await Assert.That(c.Call("LLEN", "big").Integer).IsEqualTo(2994);
    }
}
