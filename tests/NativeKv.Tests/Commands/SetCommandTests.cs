using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;
using NativeKv.Tests.Storage;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Set commands reply byte for byte as redis-server 7.0.15 did to the same transcripts (SetTranscripts.cs,
/// recorded with a raw socket from `redis-server --save "" --appendonly no`, RESP2 and after HELLO 3). A
/// line marked '?' holds a small set of strings, which 7.0 keeps in a hashtable (its order is the dict's)
/// and 7.2 in a listpack (insertion order): those compare as multisets, and the listpack order is
/// checked on its own below. Random replies are checked for their properties.
/// </summary>
public class SetCommandTests
{
    [Test] public Task Add_remove_card() => Both(SetTranscripts.AddRemoveResp2, SetTranscripts.AddRemoveResp3);
    [Test] public Task Membership() => Both(SetTranscripts.MembershipResp2, SetTranscripts.MembershipResp3);
    [Test] public Task Enumerate() => Both(SetTranscripts.EnumerateResp2, SetTranscripts.EnumerateResp3);
    [Test] public Task Smove() => Both(SetTranscripts.SmoveResp2, SetTranscripts.SmoveResp3);
    [Test] public Task Algebra() => Both(SetTranscripts.AlgebraResp2, SetTranscripts.AlgebraResp3);
    [Test] public Task Store_variants() => Both(SetTranscripts.StoreResp2, SetTranscripts.StoreResp3);
    [Test] public Task Errors_and_wrongtype() => Both(SetTranscripts.ErrorsResp2, SetTranscripts.ErrorsResp3);
    [Test] public Task Pop_and_random_edges() => Both(SetTranscripts.PopRandomEdgesResp2, SetTranscripts.PopRandomEdgesResp3);

    private static async Task Both((string, string)[] resp2, (string, string)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync();
        using (var c = new RespClient(server.Port))
        {
            await Replay(c, resp2);
        }
        using (var c = new RespClient(server.Port))
        {
            await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
            await Replay(c, resp3);
        }
        await server.DisposeAsync();
        server.DeleteData();
    }

    internal static async Task Replay(RespClient c, (string command, string expected)[] transcript)
    {
        var reader = new RawReplies(c.Socket);
        foreach (var (line, expected) in transcript)
        {
            bool unordered = line.StartsWith('?');
            var args = StoreTranscriptTests.Split(unordered ? line[1..] : line);
            c.SendRaw(RespClient.Encode(args.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray()));
            string got = reader.Next();
            if (unordered)
            {
                got = RawReplies.Canonical(got);
                await Assert.That($"{line} => {got}").IsEqualTo($"{line} => {RawReplies.Canonical(expected)}");
            }
            else
            {
                await Assert.That($"{line} => {got}").IsEqualTo($"{line} => {expected}");
            }
        }
    }

    // ------------------------------------------------------------ random replies: properties

    [Test]
    public async Task Spop_and_srandmember_return_members_with_the_right_multiplicity()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var ints = Enumerable.Range(0, 50).Select(i => (object)i.ToString()).ToArray();
        var strs = Enumerable.Range(0, 50).Select(i => (object)("m" + i)).ToArray();
        foreach (var (key, members) in new[] { ("i", ints), ("l", strs) })
        {
            c.Call(new object[] { "SADD", key }.Concat(members).ToArray());
            var all = members.Select(m => (string)m).ToHashSet();
            // SRANDMEMBER k: k distinct members, the set unchanged.
            var r = c.Call("SRANDMEMBER", key, "20").Items!.Select(x => x.Text!).ToList();
            await Assert.That(r.Count).IsEqualTo(20);
            await Assert.That(r.Distinct().Count()).IsEqualTo(20);
            await Assert.That(r.All(all.Contains)).IsTrue();
            // SRANDMEMBER -k: k members, repeats allowed; over 200 draws of 50 some member repeats.
            var neg = c.Call("SRANDMEMBER", key, "-200").Items!.Select(x => x.Text!).ToList();
            await Assert.That(neg.Count).IsEqualTo(200);
            await Assert.That(neg.All(all.Contains)).IsTrue();
            await Assert.That(neg.Distinct().Count()).IsLessThan(200);
            await Assert.That(c.Call("SCARD", key).Integer).IsEqualTo(50);
            // Not always the same member: 20 single draws of 50 all equal has odds 50^-19.
            var singles = Enumerable.Range(0, 20).Select(_ => c.Call("SRANDMEMBER", key).Text!).ToHashSet();
            await Assert.That(singles.Count).IsGreaterThan(1);
            // SPOP k: k distinct members, gone from the set.
            var popped = c.Call("SPOP", key, "15").Items!.Select(x => x.Text!).ToList();
            await Assert.That(popped.Distinct().Count()).IsEqualTo(15);
            await Assert.That(popped.All(all.Contains)).IsTrue();
            await Assert.That(c.Call("SCARD", key).Integer).IsEqualTo(35);
            foreach (var p in popped) await Assert.That(c.Call("SISMEMBER", key, p).Integer).IsEqualTo(0);
            var one = c.Call("SPOP", key).Text!;
            await Assert.That(all.Contains(one)).IsTrue();
            await Assert.That(c.Call("SISMEMBER", key, one).Integer).IsEqualTo(0);
            // The rest: SPOP with a count past the size empties and deletes the key.
            var rest = c.Call("SPOP", key, "100").Items!.Select(x => x.Text!).ToHashSet();
            await Assert.That(rest.Count).IsEqualTo(34);
            await Assert.That(rest.Overlaps(popped)).IsFalse();
            await Assert.That(c.Call("EXISTS", key).Integer).IsEqualTo(0);
        }
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Spop_with_count_is_a_resp3_set_and_srandmember_an_array()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        c.Call("SADD", "s", "a", "b", "c", "d");
        await Assert.That(c.Call("SPOP", "s", "2").Type).IsEqualTo('~');
        await Assert.That(c.Call("SRANDMEMBER", "s", "2").Type).IsEqualTo('*');
        await Assert.That(c.Call("SRANDMEMBER", "s", "-3").Type).IsEqualTo('*');
        await Assert.That(c.Call("SMEMBERS", "s").Type).IsEqualTo('~');
        await server.DisposeAsync();
        server.DeleteData();
    }

    // ------------------------------------------------------------ Redis 7.2 encodings seen from outside

    [Test]
    public async Task A_small_set_of_strings_keeps_insertion_order_as_redis_7_2s_listpack()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("SADD", "l", "zeta", "alpha", "mid");
        c.Call("SADD", "l", "beta");
        c.Call("SREM", "l", "alpha");
        await Assert.That(c.Call("SMEMBERS", "l").ToString()).IsEqualTo("[zeta, mid, beta]");
        // An intset turned listpack keeps its ascending members first.
        c.Call("SADD", "i", "30", "10", "20");
        c.Call("SADD", "i", "x");
        await Assert.That(c.Call("SMEMBERS", "i").ToString()).IsEqualTo("[10, 20, 30, x]");
        // SINTER iterates the smallest set (7.2: the listpack's order).
        c.Call("SADD", "big", "mid", "zeta", "beta", "q", "r");
        await Assert.That(c.Call("SINTER", "big", "l").ToString()).IsEqualTo("[zeta, mid, beta]");
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Thresholds_follow_config_set()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "set-max-intset-entries", "4").IsError).IsFalse();
        await Assert.That(c.Call("CONFIG", "SET", "set-max-listpack-entries", "4").IsError).IsFalse();
        // 5 integers: past the intset limit, a hashtable (never a listpack); still every member there.
        c.Call("SADD", "i", "1", "2", "3", "4", "5");
        await Assert.That(c.Call("SCARD", "i").Integer).IsEqualTo(5);
        c.Call("SREM", "i", "1", "2", "3");
        await Assert.That(string.Join(",", c.Call("SMEMBERS", "i").Items!.Select(x => x.Text).Order())).IsEqualTo("4,5");
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Algebra_over_large_sets_matches_a_model()
    {
        // Sets past 128 members are looked up through an index: the results must not change.
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var rng = new Random(3);
        var model = new Dictionary<string, HashSet<string>>();
        foreach (var (key, n) in new[] { ("a", 400), ("b", 300), ("c", 150), ("d", 20) })
        {
            var members = Enumerable.Range(0, n).Select(_ => rng.Next(2) == 0 ? rng.Next(600).ToString() : "s" + rng.Next(600)).ToHashSet();
            model[key] = members;
            c.Call(new object[] { "SADD", key }.Concat(members).ToArray());
        }
        string Sorted(IEnumerable<string> s) => string.Join(",", s.Order(StringComparer.Ordinal));
        string Got(Reply r) => Sorted(r.Items!.Select(x => x.Text!));
        var inter = model["a"].Intersect(model["b"]).Intersect(model["c"]);
        var union = model["a"].Union(model["b"]).Union(model["d"]);
        var diff = model["a"].Except(model["b"]).Except(model["d"]);
        await Assert.That(Got(c.Call("SINTER", "a", "b", "c"))).IsEqualTo(Sorted(inter));
        await Assert.That(c.Call("SINTERCARD", "3", "a", "b", "c").Integer).IsEqualTo(inter.Count());
        await Assert.That(Got(c.Call("SUNION", "a", "b", "d"))).IsEqualTo(Sorted(union));
        await Assert.That(Got(c.Call("SDIFF", "a", "b", "d"))).IsEqualTo(Sorted(diff));
        await Assert.That(Got(c.Call("SDIFF", "a", "d"))).IsEqualTo(Sorted(model["a"].Except(model["d"])));
        await Assert.That(c.Call("SDIFFSTORE", "x", "a", "b", "d").Integer).IsEqualTo(diff.Count());
        await Assert.That(Got(c.Call("SMEMBERS", "x"))).IsEqualTo(Sorted(diff));
        await Assert.That(c.Call("SUNIONSTORE", "a", "a", "b").Integer).IsEqualTo(model["a"].Union(model["b"]).Count());
        var probe = Enumerable.Range(0, 40).Select(i => (object)(i % 2 == 0 ? i.ToString() : "s" + i)).ToArray();
        var flags = c.Call(new object[] { "SMISMEMBER", "b" }.Concat(probe).ToArray()).Items!.Select(x => x.Integer).ToArray();
        await Assert.That(string.Join("", flags)).IsEqualTo(string.Join("", probe.Select(p => model["b"].Contains((string)p) ? 1 : 0)));
        await server.DisposeAsync();
        server.DeleteData();
    }

    // ------------------------------------------------------------ binary members

    [Test]
    public async Task Members_are_binary_safe()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var bin = new byte[] { 0, 255, 13, 10, 0 };
        var big = new byte[300];
        new Random(5).NextBytes(big);
        await Assert.That(c.Call("SADD", "b", bin, Array.Empty<byte>(), big, "x").Integer).IsEqualTo(4);
        await Assert.That(c.Call("SISMEMBER", "b", bin).Integer).IsEqualTo(1);
        await Assert.That(c.Call("SISMEMBER", "b", bin.AsSpan(0, 4).ToArray()).Integer).IsEqualTo(0);
        await Assert.That(c.Call("SISMEMBER", "b", big).Integer).IsEqualTo(1);
        await Assert.That(c.Call("SISMEMBER", "b", Array.Empty<byte>()).Integer).IsEqualTo(1);
        c.Send("SMEMBERS", "b");
        var reader = new RawReplies(c.Socket);
        var raw = Encoding.Latin1.GetBytes(reader.Next());
        await Assert.That(raw.AsSpan().IndexOf(bin) >= 0).IsTrue();
        await Assert.That(raw.AsSpan().IndexOf(big) >= 0).IsTrue();
        await Assert.That(c.Call("SREM", "b", bin).Integer).IsEqualTo(1);
        await Assert.That(c.Call("SCARD", "b").Integer).IsEqualTo(3);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task Sscan_of_a_hashtable_returns_every_member_across_calls()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var members = Enumerable.Range(0, 1000).Select(i => "member:" + i).ToArray();
        c.Call(new object[] { "SADD", "h" }.Concat(members).ToArray());
        var seen = new List<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var r = c.Call("SSCAN", "h", cursor, "COUNT", "25");
            cursor = r.Items![0].Text!;
            seen.AddRange(r.Items[1].Items!.Select(x => x.Text!));
            // Members that stay while the scan runs are still returned; added ones may be (a bucket split
            // may return a member twice: the cursor is a bucket index, as Redis's dictScan's is).
            if (calls == 1) c.Call("SADD", "h", "late");
            calls++;
        } while (cursor != "0" && calls < 500);
        await Assert.That(calls).IsGreaterThan(1);
        var distinct = seen.Where(s => s != "late").ToHashSet();
        await Assert.That(distinct.Count).IsEqualTo(1000);
        await Assert.That(distinct.SetEquals(members)).IsTrue();
        await Assert.That(seen.Count).IsLessThan(1100);
        var matched = c.Call("SSCAN", "h", "0", "MATCH", "member:99*", "COUNT", "10000");
        await Assert.That(matched.Items![1].Items!.Length).IsEqualTo(11);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task A_set_past_a_log_page_lives_on_pages()
    {
        // 1 MB pages: an inline value may take 1 MB - 4 KB; a paged set of 3 MB of members is 4 KB records.
        await using var server = await ServerProcess.StartAsync("--store-page-size", "1mb");
        using var c = new RespClient(server.Port);
        var chunk = Enumerable.Range(0, 1000).Select(i => (object)(new string('v', 300) + i)).ToArray();
        for (int rounds = 0; rounds < 10; rounds++)
        {
            var r = c.Call(new object[] { "SADD", "s" }.Concat(chunk.Select(m => (object)((string)m + "." + rounds))).ToArray());
            await Assert.That(r.Integer).IsEqualTo(1000);
        }
        await Assert.That(c.Call("SCARD", "s").Integer).IsEqualTo(10_000L);
        await Assert.That(c.Call("SISMEMBER", "s", new string('v', 300) + "7.9").Integer).IsEqualTo(1);
        await Assert.That(c.Call("SMEMBERS", "s").Items!.Length).IsEqualTo(10_000);
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
        await server.DisposeAsync();
        server.DeleteData();
    }
}

/// <summary>Reads whole RESP replies off a socket as their raw bytes (Latin-1 text).</summary>
internal sealed class RawReplies(Socket socket)
{
    private readonly List<byte> _buf = new();

    public string Next()
    {
        int end = Extent(0);
        var s = Encoding.Latin1.GetString(_buf.GetRange(0, end).ToArray());
        _buf.RemoveRange(0, end);
        return s;
    }

    private void Fill()
    {
        var tmp = new byte[65536];
        socket.ReceiveTimeout = 10_000;
        int n = socket.Receive(tmp);
        if (n == 0) throw new IOException("connection closed");
        _buf.AddRange(tmp.AsSpan(0, n).ToArray());
    }

    private int LineEnd(int pos)
    {
        while (true)
        {
            for (int i = pos; i + 1 < _buf.Count; i++)
                if (_buf[i] == '\r' && _buf[i + 1] == '\n') return i;
            Fill();
        }
    }

    private int Extent(int pos)
    {
        int e = LineEnd(pos);
        char t = (char)_buf[pos];
        var body = Encoding.Latin1.GetString(_buf.GetRange(pos + 1, e - pos - 1).ToArray());
        switch (t)
        {
            case '$' or '=' or '!':
            {
                int n = int.Parse(body);
                if (n < 0) return e + 2;
                while (_buf.Count < e + 2 + n + 2) Fill();
                return e + 2 + n + 2;
            }
            case '*' or '~' or '>' or '%' or '|':
            {
                int n = int.Parse(body);
                if (n < 0) return e + 2;
                if (t is '%' or '|') n *= 2;
                int p = e + 2;
                for (int i = 0; i < n; i++) p = Extent(p);
                return p;
            }
            default: return e + 2;
        }
    }

    /// <summary>A reply with every aggregate's elements sorted: equal for the same members in any order.</summary>
    public static string Canonical(string raw)
    {
        int pos = 0;
        return Canon(raw, ref pos);
    }

    private static string Canon(string raw, ref int pos)
    {
        int e = raw.IndexOf("\r\n", pos, StringComparison.Ordinal);
        char t = raw[pos];
        string head = raw[pos..(e + 2)];
        int n = int.Parse(t is '*' or '~' or '$' ? raw[(pos + 1)..e] : "0");
        pos = e + 2;
        if (t == '$')
        {
            if (n < 0) return head;
            string s = head + raw.Substring(pos, n + 2);
            pos += n + 2;
            return s;
        }
        if (t is '*' or '~')
        {
            var items = new List<string>();
            for (int i = 0; i < n; i++) items.Add(Canon(raw, ref pos));
            items.Sort(StringComparer.Ordinal);
            return head + string.Concat(items);
        }
        return head;
    }
}
