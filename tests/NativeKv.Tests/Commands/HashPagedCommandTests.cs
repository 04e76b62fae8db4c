using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Every hash command on a paged hash (1000 fields, past hash-max-listpack-entries 128) against a
/// dictionary model: binary and empty fields and values, values out of line (over a quarter page:
/// 5,000 bytes and 100 KB), error texts and reply shapes as redis-server 7.2 sends them. Redis's
/// hashtable order is unspecified, so whole-hash replies are compared as sets.
/// </summary>
public class HashPagedCommandTests
{
    private const string Key = "h";

    /// <summary>1000 fields: f0..f989 and ten special ones.</summary>
    private static Dictionary<string, string> Model()
    {
        var m = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [""] = "the empty field",
            ["bin\0\r\nfield"] = "\0\r\n",
            ["empty-value"] = "",
            ["ool-5k"] = new string('o', 5000),
            ["ool-100k"] = string.Concat(Enumerable.Range(0, 100_000 / 10).Select(i => i.ToString("D10"))),
            ["num"] = "10",
            ["float"] = "1.5",
            ["near-max"] = (long.MaxValue - 1).ToString(),
            ["utf8-é字"] = "ü\u0001",
            ["spaces and *?"] = "x y",
        };
        for (int i = 0; m.Count < 1000; i++) m["f" + i] = "v" + i;
        return m;
    }

    private static void Load(RespClient c, Dictionary<string, string> m)
    {
        // In several commands, so the hash converts once and then takes HSETs as a paged hash.
        foreach (var chunk in m.Chunk(100))
            c.Call(new object[] { "HSET", Key }.Concat(chunk.SelectMany(kv => new object[] { kv.Key, kv.Value })).ToArray());
    }

    private static async Task<RespClient> Start(ServerProcess server, Dictionary<string, string> m)
    {
        var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        Load(c, m);
        await Assert.That(c.Call("OBJECT", "ENCODING", Key).Text).IsEqualTo("hashtable");
        await Assert.That(c.Call("HLEN", Key).Integer).IsEqualTo(m.Count);
        return c;
    }

    /// <summary>HGETALL as a dictionary (every field once), compared with the model.</summary>
    private static async Task CheckAll(RespClient c, Dictionary<string, string> m)
    {
        var all = c.Call("HGETALL", Key).Items!;
        var got = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < all.Length; i += 2) await Assert.That(got.TryAdd(all[i].Text!, all[i + 1].Text!)).IsTrue();
        await Assert.That(got.Count).IsEqualTo(m.Count);
        foreach (var (f, v) in m) await Assert.That(got.TryGetValue(f, out var g) && g == v).IsTrue();
    }

    [Test]
    public async Task Point_reads_match_the_model()
    {
        await using var server = await ServerProcess.StartAsync();
        var m = Model();
        using var c = await Start(server, m);
        var fields = m.Keys.ToArray();
        foreach (var f in fields) c.Send("HGET", Key, f);
        foreach (var f in fields) await Assert.That(c.Read().Text).IsEqualTo(m[f]);
        await Assert.That(c.Call("HGET", Key, "nosuch").IsNull).IsTrue();
        await Assert.That(c.Call("HGET", "nokey", "f1").IsNull).IsTrue();

        // A few fields (each looked up in its bucket's record): present, missing, repeated, out of line (the rounds' path).
        var rnd = new Random(12);
        for (int t = 0; t < 300; t++)
        {
            var some = Enumerable.Range(0, 1 + rnd.Next(8)).Select(_ => rnd.Next(6) == 0 ? "missing" + rnd.Next(3) : fields[rnd.Next(fields.Length)]).ToArray();
            if (t % 10 == 0) some[0] = "ool-5k";
            var got = c.Call(new object[] { "HMGET", Key }.Concat(some).ToArray()).Items!;
            await Assert.That(got.Length).IsEqualTo(some.Length);
            for (int i = 0; i < some.Length; i++)
                await Assert.That(got[i].Text).IsEqualTo(m.TryGetValue(some[i], out var v) ? v : null);
        }

        var mget = c.Call(new object[] { "HMGET", Key, "nosuch" }.Concat(fields).Append("f1").Append("also-missing").ToArray()).Items!;
        await Assert.That(mget.Length).IsEqualTo(fields.Length + 3);
        await Assert.That(mget[0].IsNull).IsTrue();
        for (int i = 0; i < fields.Length; i++) await Assert.That(mget[i + 1].Text).IsEqualTo(m[fields[i]]);
        await Assert.That(mget[^2].Text).IsEqualTo("v1");
        await Assert.That(mget[^1].IsNull).IsTrue();

        foreach (var f in fields) c.Send("HEXISTS", Key, f);
        foreach (var f in fields) await Assert.That(c.Read().Integer).IsEqualTo(1);
        await Assert.That(c.Call("HEXISTS", Key, "nosuch").Integer).IsEqualTo(0);
        foreach (var f in fields) c.Send("HSTRLEN", Key, f);
        foreach (var f in fields) await Assert.That(c.Read().Integer).IsEqualTo(System.Text.Encoding.UTF8.GetByteCount(m[f]));
        await Assert.That(c.Call("HSTRLEN", Key, "nosuch").Integer).IsEqualTo(0);
    }

    [Test]
    public async Task Whole_hash_reads_match_the_model_in_resp2_and_resp3()
    {
        await using var server = await ServerProcess.StartAsync();
        var m = Model();
        using var c = await Start(server, m);
        await CheckAll(c, m);
        var keys = c.Call("HKEYS", Key).Items!.Select(x => x.Text!).ToList();
        await Assert.That(keys.Count).IsEqualTo(m.Count);
        await Assert.That(keys.ToHashSet(StringComparer.Ordinal).SetEquals(m.Keys)).IsTrue();
        var vals = c.Call("HVALS", Key).Items!.Select(x => x.Text!).Order(StringComparer.Ordinal);
        await Assert.That(vals.SequenceEqual(m.Values.Order(StringComparer.Ordinal))).IsTrue();
        // HVALS lists values in HKEYS's order, as Redis's one dict walk does.
        var pairs = c.Call("HGETALL", Key).Items!;
        await Assert.That(Enumerable.Range(0, keys.Count).All(i => pairs[2 * i].Text == keys[i])).IsTrue();

        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        var map = c.Call("HGETALL", Key);
        await Assert.That(map.Type).IsEqualTo('%');
        await Assert.That(map.Items!.Length).IsEqualTo(2 * m.Count);
        for (int i = 0; i < map.Items.Length; i += 2) await Assert.That(m[map.Items[i].Text!]).IsEqualTo(map.Items[i + 1].Text);
        await Assert.That(c.Call("HKEYS", Key).Type).IsEqualTo('*');
    }

    [Test]
    public async Task Scan_returns_every_field_once_with_match_and_count()
    {
        await using var server = await ServerProcess.StartAsync();
        var m = Model();
        using var c = await Start(server, m);
        foreach (var count in new[] { 1, 10, 100, 5000 })
        {
            var seen = new Dictionary<string, string>(StringComparer.Ordinal);
            string cursor = "0";
            int calls = 0;
            do
            {
                var r = c.Call("HSCAN", Key, cursor, "COUNT", count);
                cursor = r.Items![0].Text!;
                var items = r.Items[1].Items!;
                for (int i = 0; i < items.Length; i += 2) await Assert.That(seen.TryAdd(items[i].Text!, items[i + 1].Text!)).IsTrue();
            } while (cursor != "0" && ++calls < 10_000);
            await Assert.That(seen.Count).IsEqualTo(m.Count);
            foreach (var (f, v) in m) await Assert.That(seen[f]).IsEqualTo(v);
            // COUNT is a hint: one bucket a call at COUNT 1 (the hash has a few), all of them at 5000.
            if (count == 1) await Assert.That(calls).IsGreaterThan(0);
            if (count == 5000) await Assert.That(calls).IsEqualTo(0);
        }
        var matched = new HashSet<string>(StringComparer.Ordinal);
        string cur = "0";
        int n = 0;
        do
        {
            var r = c.Call("HSCAN", Key, cur, "MATCH", "f1*", "COUNT", "30");
            cur = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) matched.Add(items[i].Text!);
        } while (cur != "0" && ++n < 10_000);
        await Assert.That(matched.SetEquals(m.Keys.Where(k => k.StartsWith("f1", StringComparison.Ordinal)))).IsTrue();
        // A cursor past the last bucket ends the iteration; bad options are errors, as for inline hashes.
        var past = c.Call("HSCAN", Key, "123456789");
        await Assert.That(past.Items![0].Text).IsEqualTo("0");
        await Assert.That(past.Items[1].Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("HSCAN", Key, "0", "COUNT", "0").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("HSCAN", Key, "x").Text).IsEqualTo("ERR invalid cursor");
    }

    [Test]
    public async Task Writes_match_the_model_and_the_last_hdel_deletes_the_key()
    {
        await using var server = await ServerProcess.StartAsync();
        var m = Model();
        using var c = await Start(server, m);
        await Assert.That(c.Call("HSETNX", Key, "f5", "other").Integer).IsEqualTo(0);
        await Assert.That(c.Call("HSETNX", Key, "new", "nv").Integer).IsEqualTo(1);
        m["new"] = "nv";
        var ool = new string('z', 70_000);
        await Assert.That(c.Call("HSETNX", Key, "new-ool", ool).Integer).IsEqualTo(1);
        m["new-ool"] = ool;
        await Assert.That(c.Call("HSET", Key, "ool-5k", "now small", "f6", ool).Integer).IsEqualTo(0);
        m["ool-5k"] = "now small";
        m["f6"] = ool;

        await Assert.That(c.Call("HINCRBY", Key, "num", "-25").Integer).IsEqualTo(-15);
        m["num"] = "-15";
        await Assert.That(c.Call("HINCRBY", Key, "counter", "7").Integer).IsEqualTo(7);
        m["counter"] = "7";
        await Assert.That(c.Call("HINCRBY", Key, "near-max", "1").Integer).IsEqualTo(long.MaxValue);
        m["near-max"] = long.MaxValue.ToString();
        await Assert.That(c.Call("HINCRBY", Key, "near-max", "1").Text).IsEqualTo("ERR increment or decrement would overflow");
        await Assert.That(c.Call("HINCRBY", Key, "f7", "1").Text).IsEqualTo("ERR hash value is not an integer");
        await Assert.That(c.Call("HINCRBY", Key, "ool-100k", "1").Text).IsEqualTo("ERR hash value is not an integer");
        await Assert.That(c.Call("HINCRBY", Key, "num", "x").Text).IsEqualTo("ERR value is not an integer or out of range");

        await Assert.That(c.Call("HINCRBYFLOAT", Key, "float", "0.25").Text).IsEqualTo("1.75");
        m["float"] = "1.75";
        await Assert.That(c.Call("HINCRBYFLOAT", Key, "fnew", "-2.5e3").Text).IsEqualTo("-2500");
        m["fnew"] = "-2500";
        await Assert.That(c.Call("HINCRBYFLOAT", Key, "float", "inf").Text).IsEqualTo("ERR value is NaN or Infinity");
        await Assert.That(c.Call("HINCRBYFLOAT", Key, "float", "nan").Text).IsEqualTo("ERR value is not a valid float");
        await Assert.That(c.Call("HINCRBYFLOAT", Key, "f8", "1").Text).IsEqualTo("ERR hash value is not a float");
        await Assert.That(c.Call("HINCRBYFLOAT", Key, "ool-100k", "1").Text).IsEqualTo("ERR hash value is not a float");

        await Assert.That(c.Call("HDEL", Key, "nosuch", "f9", "f9", "", "ool-100k", "f10").Integer).IsEqualTo(4);
        foreach (var f in new[] { "f9", "", "ool-100k", "f10" }) m.Remove(f);
        await Assert.That(c.Call("HDEL", Key, "nosuch").Integer).IsEqualTo(0);
        await Assert.That(c.Call("HLEN", Key).Integer).IsEqualTo(m.Count);
        await CheckAll(c, m);

        // Down to one field (never back to a listpack), then the last HDEL deletes the key.
        var rest = m.Keys.Where(k => k != "f500").ToArray();
        foreach (var chunk in rest.Chunk(97))
            await Assert.That(c.Call(new object[] { "HDEL", Key }.Concat(chunk).ToArray()).Integer).IsEqualTo(chunk.Length);
        await Assert.That(c.Call("HLEN", Key).Integer).IsEqualTo(1);
        await Assert.That(c.Call("OBJECT", "ENCODING", Key).Text).IsEqualTo("hashtable");
        await Assert.That(string.Join(",", c.Call("HGETALL", Key).Items!.Select(x => x.Text))).IsEqualTo("f500,v500");
        await Assert.That(c.Call("HDEL", Key, "f500", "f501").Integer).IsEqualTo(1);
        await Assert.That(c.Call("EXISTS", Key).Integer).IsEqualTo(0);
        await Assert.That(c.Call("HLEN", Key).Integer).IsEqualTo(0);
        // A new hash under the key is a small one again.
        c.Call("HSET", Key, "a", "1");
        await Assert.That(c.Call("OBJECT", "ENCODING", Key).Text).IsEqualTo("listpack");
    }

    [Test]
    public async Task Conversion_by_every_writer_keeps_the_fields_and_the_ttl()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var wide = new string('w', 65);
        foreach (var (key, args) in new (string, object[])[]
        {
            ("by-hsetnx", ["HSETNX", "by-hsetnx", wide, "1"]),
            ("by-hincrby", ["HINCRBY", "by-hincrby", wide, "5"]),
            ("by-hincrbyfloat", ["HINCRBYFLOAT", "by-hincrbyfloat", wide, "5"]),
            ("by-hset", ["HSET", "by-hset", "x", "1", wide, "5", "y", "2"]),
        })
        {
            c.Call("HSET", key, "a", "1", "b", "2");
            c.Call("EXPIRE", key, "1000");
            await Assert.That(c.Call(args).IsError).IsFalse();
            await Assert.That(c.Call("OBJECT", "ENCODING", key).Text).IsEqualTo("hashtable");
            await Assert.That(c.Call("HGET", key, "a").Text).IsEqualTo("1");
            await Assert.That(c.Call("HGET", key, "b").Text).IsEqualTo("2");
            await Assert.That(c.Call("HGET", key, wide).Text).IsEqualTo(key == "by-hsetnx" ? "1" : "5");
            await Assert.That(c.Call("TTL", key).Integer).IsGreaterThan(900);
        }
        await Assert.That(c.Call("HLEN", "by-hset").Integer).IsEqualTo(5);
        // The 129th field converts in the middle of one HSET: the fields after it go to pages directly.
        var args129 = new List<object> { "HSET", "mid" };
        for (int i = 0; i < 300; i++) { args129.Add("k" + (i % 200)); args129.Add("v" + i); }
        await Assert.That(c.Call(args129.ToArray()).Integer).IsEqualTo(200);
        await Assert.That(c.Call("HLEN", "mid").Integer).IsEqualTo(200);
        await Assert.That(c.Call("HGET", "mid", "k10").Text).IsEqualTo("v210");
        await Assert.That(c.Call("HGET", "mid", "k150").Text).IsEqualTo("v150");
    }

    [Test]
    public async Task Random_fields_of_every_count_form()
    {
        await using var server = await ServerProcess.StartAsync();
        var m = Model();
        using var c = await Start(server, m);
        var one = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 300; i++)
        {
            var f = c.Call("HRANDFIELD", Key).Text!;
            await Assert.That(m.ContainsKey(f)).IsTrue();
            one.Add(f);
        }
        await Assert.That(one.Count).IsGreaterThan(200); // 300 picks of 1000 fields: ~260 distinct
        await Assert.That(c.Call("HRANDFIELD", Key, "0").Items!.Length).IsEqualTo(0);

        // Case 1 (negative): repeats allowed, every field about as often (20,000 picks: 20 a field).
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var neg = c.Call("HRANDFIELD", Key, "-20000").Items!;
        await Assert.That(neg.Length).IsEqualTo(20000);
        foreach (var x in neg) counts[x.Text!] = counts.GetValueOrDefault(x.Text!) + 1;
        await Assert.That(counts.Keys.All(m.ContainsKey)).IsTrue();
        await Assert.That(counts.Count).IsGreaterThan(990);
        await Assert.That(counts.Values.Max()).IsLessThan(60);

        // Case 4 (count * 3 <= size), case 3 (count * 3 > size), case 2 (count >= size): distinct fields.
        foreach (var count in new[] { 1, 5, 333, 334, 700, 999, 1000, 5000 })
        {
            var r = c.Call("HRANDFIELD", Key, count).Items!.Select(x => x.Text!).ToList();
            await Assert.That(r.Count).IsEqualTo(Math.Min(count, m.Count));
            await Assert.That(r.Distinct().Count()).IsEqualTo(r.Count);
            await Assert.That(r.All(m.ContainsKey)).IsTrue();
        }
        // Case 3 keeps each field with the same odds: over 30 draws of 500, every field shows up.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < 30; i++) seen.UnionWith(c.Call("HRANDFIELD", Key, "500").Items!.Select(x => x.Text!));
        await Assert.That(seen.Count).IsEqualTo(m.Count);

        foreach (var count in new[] { -50, 50, 600, 2000 })
        {
            var flat = c.Call("HRANDFIELD", Key, count, "WITHVALUES").Items!;
            int want = count < 0 ? -count : Math.Min(count, m.Count);
            await Assert.That(flat.Length).IsEqualTo(2 * want);
            for (int i = 0; i < flat.Length; i += 2) await Assert.That(m[flat[i].Text!]).IsEqualTo(flat[i + 1].Text);
        }
        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        foreach (var count in new[] { -50, 50, 600, 2000 })
        {
            var pairs = c.Call("HRANDFIELD", Key, count, "WITHVALUES").Items!;
            await Assert.That(pairs.Length).IsEqualTo(count < 0 ? -count : Math.Min(count, m.Count));
            foreach (var p in pairs)
            {
                await Assert.That(p.Type).IsEqualTo('*');
                await Assert.That(m[p.Items![0].Text!]).IsEqualTo(p.Items[1].Text);
            }
        }
        await Assert.That(c.Call("HRANDFIELD", Key, "-9223372036854775808").Text!).StartsWith("ERR value is out of range");
    }

    [Test]
    public async Task Wrongtype_for_every_command()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("SET", "s", "x");
        foreach (var args in new object[][]
        {
            ["HSET", "s", "a", "1"], ["HMSET", "s", "a", "1"], ["HSETNX", "s", "a", "1"], ["HGET", "s", "a"], ["HMGET", "s", "a"],
            ["HDEL", "s", "a"], ["HEXISTS", "s", "a"], ["HLEN", "s"], ["HSTRLEN", "s", "a"], ["HKEYS", "s"], ["HVALS", "s"],
            ["HGETALL", "s"], ["HINCRBY", "s", "a", "1"], ["HINCRBYFLOAT", "s", "a", "1"], ["HRANDFIELD", "s"],
            ["HRANDFIELD", "s", "3"], ["HSCAN", "s", "0"],
        })
            await Assert.That(c.Call(args).Text).IsEqualTo("WRONGTYPE Operation against a key holding the wrong kind of value");
        // And a paged hash is WRONGTYPE to the string commands.
        c.Call(new object[] { "HSET", "h" }.Concat(Enumerable.Range(0, 200).SelectMany(i => new object[] { "f" + i, "v" })).ToArray());
        await Assert.That(c.Call("GET", "h").Text).IsEqualTo("WRONGTYPE Operation against a key holding the wrong kind of value");
        await Assert.That(c.Call("TYPE", "h").Text).IsEqualTo("hash");
    }
}
