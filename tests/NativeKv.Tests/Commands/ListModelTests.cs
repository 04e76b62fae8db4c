using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Random list commands on two keys against an in-memory model (a List per key), every reply compared,
/// under list-max-listpack-size 3 so the encoding flips back and forth, and LRANGE of both keys after
/// every step. Seeded, 3000 steps.
/// </summary>
public class ListModelTests
{
    [Test]
    [Arguments(1)]
    [Arguments(2)]
    public async Task Random_commands_match_a_model(int seed)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("CONFIG", "SET", "list-max-listpack-size", "3");
        var rng = new Random(seed);
        var model = new Dictionary<string, List<string>> { ["a"] = new(), ["b"] = new() };
        string[] keys = ["a", "b"];
        string El() => rng.Next(6) switch { 0 => "", 1 => "x" + rng.Next(3), 2 => rng.Next(-2, 3).ToString(), _ => ((char)('p' + rng.Next(4))).ToString() };
        int Idx(int n) => rng.Next(-n - 2, n + 2);
        for (int step = 0; step < 3000; step++)
        {
            string k = keys[rng.Next(2)];
            var l = model[k];
            string cmd;
            string want;
            string got;
            switch (rng.Next(12))
            {
                case 0:
                case 1:
                {
                    bool head = rng.Next(2) == 0;
                    var els = Enumerable.Range(0, rng.Next(1, 4)).Select(_ => El()).ToArray();
                    cmd = $"{(head ? "LPUSH" : "RPUSH")} {k} {string.Join(' ', els)}";
                    foreach (var e in els) if (head) l.Insert(0, e); else l.Add(e);
                    want = l.Count.ToString();
                    got = c.Call(new object[] { head ? "LPUSH" : "RPUSH", k }.Concat(els).ToArray()).ToString();
                    break;
                }
                case 2:
                {
                    bool head = rng.Next(2) == 0;
                    bool counted = rng.Next(2) == 0;
                    int n = rng.Next(0, 4);
                    cmd = $"{(head ? "LPOP" : "RPOP")} {k} {(counted ? n : "")}";
                    var taken = new List<string>();
                    bool existed = l.Count > 0;
                    for (int i = 0; i < (counted ? n : 1) && l.Count > 0; i++)
                    {
                        int at = head ? 0 : l.Count - 1;
                        taken.Add(l[at]);
                        l.RemoveAt(at);
                    }
                    want = counted ? (!existed ? "(nil)" : "[" + string.Join(", ", taken) + "]") : taken.Count == 0 ? "(nil)" : taken[0];
                    var r = counted ? c.Call(head ? "LPOP" : "RPOP", k, n.ToString()) : c.Call(head ? "LPOP" : "RPOP", k);
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 3:
                {
                    int i = Idx(l.Count);
                    cmd = $"LINDEX {k} {i}";
                    int at = i < 0 ? i + l.Count : i;
                    want = at >= 0 && at < l.Count ? l[at] : "(nil)";
                    var r = c.Call("LINDEX", k, i.ToString());
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 4:
                {
                    int i = Idx(l.Count);
                    string e = El();
                    cmd = $"LSET {k} {i} {e}";
                    int at = i < 0 ? i + l.Count : i;
                    if (l.Count == 0) want = "ERR no such key";
                    else if (at < 0 || at >= l.Count) want = "ERR index out of range";
                    else { l[at] = e; want = "OK"; }
                    got = c.Call("LSET", k, i.ToString(), e).ToString();
                    break;
                }
                case 5:
                {
                    int s = Idx(l.Count), e = Idx(l.Count);
                    cmd = $"LTRIM {k} {s} {e}";
                    var kept = Range(l, s, e);
                    l.Clear();
                    l.AddRange(kept);
                    want = "OK";
                    got = c.Call("LTRIM", k, s.ToString(), e.ToString()).ToString();
                    break;
                }
                case 6:
                {
                    int n = rng.Next(-2, 3);
                    string e = El();
                    cmd = $"LREM {k} {n} {e}";
                    int removed = 0;
                    if (n >= 0)
                    {
                        for (int i = 0; i < l.Count && (n == 0 || removed < n);)
                        {
                            if (l[i] == e) { l.RemoveAt(i); removed++; } else i++;
                        }
                    }
                    else
                    {
                        for (int i = l.Count - 1; i >= 0 && removed < -n; i--)
                            if (l[i] == e) { l.RemoveAt(i); removed++; }
                    }
                    want = removed.ToString();
                    got = c.Call("LREM", k, n.ToString(), e).ToString();
                    break;
                }
                case 7:
                {
                    bool after = rng.Next(2) == 0;
                    string pivot = El(), e = El();
                    cmd = $"LINSERT {k} {(after ? "AFTER" : "BEFORE")} {pivot} {e}";
                    int at = l.IndexOf(pivot);
                    if (l.Count == 0) want = "0";
                    else if (at < 0) want = "-1";
                    else { l.Insert(after ? at + 1 : at, e); want = l.Count.ToString(); }
                    got = c.Call("LINSERT", k, after ? "AFTER" : "BEFORE", pivot, e).ToString();
                    break;
                }
                case 8:
                {
                    string e = El();
                    int rank = rng.Next(1, 3) * (rng.Next(2) == 0 ? 1 : -1);
                    int count = rng.Next(0, 3);
                    cmd = $"LPOS {k} {e} RANK {rank} COUNT {count}";
                    var hits = new List<int>();
                    int matches = 0;
                    for (int j = 0; j < l.Count; j++)
                    {
                        int i = rank > 0 ? j : l.Count - 1 - j;
                        if (l[i] != e || ++matches < Math.Abs(rank)) continue;
                        hits.Add(i);
                        if (count != 0 && hits.Count >= count) break;
                    }
                    want = "[" + string.Join(", ", hits) + "]";
                    got = c.Call("LPOS", k, e, "RANK", rank.ToString(), "COUNT", count.ToString()).ToString();
                    break;
                }
                case 9:
                {
                    string d = keys[rng.Next(2)];
                    bool fromHead = rng.Next(2) == 0, toHead = rng.Next(2) == 0;
                    cmd = $"LMOVE {k} {d} {(fromHead ? "LEFT" : "RIGHT")} {(toHead ? "LEFT" : "RIGHT")}";
                    if (l.Count == 0) want = "(nil)";
                    else
                    {
                        int at = fromHead ? 0 : l.Count - 1;
                        string e = l[at];
                        l.RemoveAt(at);
                        if (toHead) model[d].Insert(0, e); else model[d].Add(e);
                        want = e;
                    }
                    var r = c.Call("LMOVE", k, d, fromHead ? "LEFT" : "RIGHT", toHead ? "LEFT" : "RIGHT");
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                case 10:
                {
                    int n = rng.Next(1, 4);
                    bool head = rng.Next(2) == 0;
                    cmd = $"LMPOP 2 a b {(head ? "LEFT" : "RIGHT")} COUNT {n}";
                    string? from = model["a"].Count > 0 ? "a" : model["b"].Count > 0 ? "b" : null;
                    if (from is null) want = "(nil)";
                    else
                    {
                        var fl = model[from];
                        var taken = new List<string>();
                        for (int i = 0; i < n && fl.Count > 0; i++)
                        {
                            int at = head ? 0 : fl.Count - 1;
                            taken.Add(fl[at]);
                            fl.RemoveAt(at);
                        }
                        want = $"[{from}, [{string.Join(", ", taken)}]]";
                    }
                    var r = c.Call("LMPOP", "2", "a", "b", head ? "LEFT" : "RIGHT", "COUNT", n.ToString());
                    got = r.IsNull ? "(nil)" : r.ToString();
                    break;
                }
                default:
                {
                    int s = Idx(l.Count), e = Idx(l.Count);
                    cmd = $"LRANGE {k} {s} {e}";
                    want = "[" + string.Join(", ", Range(l, s, e)) + "]";
                    got = c.Call("LRANGE", k, s.ToString(), e.ToString()).ToString();
                    break;
                }
            }
            await Assert.That($"{step} {cmd} => {got}").IsEqualTo($"{step} {cmd} => {want}");
            foreach (var key in keys)
            {
                var all = c.Call("LRANGE", key, "0", "-1").ToString();
                await Assert.That($"{step} {key} {all}").IsEqualTo($"{step} {key} [{string.Join(", ", model[key])}]");
                await Assert.That(c.Call("EXISTS", key).Integer).IsEqualTo(model[key].Count > 0 ? 1 : 0);
            }
        }
        await server.DisposeAsync();
        server.DeleteData();
    }

    private static List<string> Range(List<string> l, long start, long end)
    {
        long n = l.Count;
        if (start < 0) start += n;
        if (end < 0) end += n;
        if (start < 0) start = 0;
        if (start > end || start >= n) return new();
        if (end >= n) end = n - 1;
        return l.GetRange((int)start, (int)(end - start + 1));
    }
}
