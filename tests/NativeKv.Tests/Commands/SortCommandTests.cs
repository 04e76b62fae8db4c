using NativeKv.Tests.Infrastructure;
using NativeKv.Tests.Storage;

namespace NativeKv.Tests.Commands;

/// <summary>
/// SORT and SORT_RO: reply bytes as redis-server 7.0.15 sent them (SortTranscripts.cs, recorded by
/// record-sort-transcripts.py; one family a test, RESP2 then RESP3), then what a transcript cannot hold:
/// the stored list's 7.2 encoding, weights out of a double's range, and paged sources and paged hash
/// lookups (hot and cold, waiting on disk) checked against a model sort.
/// </summary>
public class SortCommandTests
{
    [Test] public Task Numeric_sort_and_limit() => Transcript.Family(SortTranscripts.NumericResp2, SortTranscripts.NumericResp3);
    [Test] public Task Alpha_sort() => Transcript.Family(SortTranscripts.AlphaResp2, SortTranscripts.AlphaResp3);
    [Test] public Task By_patterns_and_nosort() => Transcript.Family(SortTranscripts.ByResp2, SortTranscripts.ByResp3);
    [Test] public Task Get_patterns() => Transcript.Family(SortTranscripts.GetResp2, SortTranscripts.GetResp3);
    [Test] public Task Store() => Transcript.Family(SortTranscripts.StoreResp2, SortTranscripts.StoreResp3);
    [Test] public Task Sorted_sets() => Transcript.Family(SortTranscripts.SortedSetsResp2, SortTranscripts.SortedSetsResp3);
    [Test] public Task Errors_and_keys() => Transcript.Family(SortTranscripts.ErrorsResp2, SortTranscripts.ErrorsResp3);

    private static string[] Texts(Reply r) => r.Items!.Select(x => x.Text!).ToArray();

    private static object[] Cmd(params object[] args) => args;

    [Test]
    public async Task A_stored_result_is_a_listpack_within_the_fill_and_a_quicklist_past_it()
    {
        // 7.2's listTypeTryConversion(LIST_CONV_AUTO) after the store (7.0 always answered quicklist).
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call(Cmd(new object[] { "RPUSH", "l" }.Concat(Enumerable.Range(0, 200).Select(i => (object)i.ToString())).ToArray()));
        await Assert.That(c.Call("OBJECT", "ENCODING", "l").Text).IsEqualTo("listpack");
        await Assert.That(c.Call("SORT", "l", "LIMIT", "0", "10", "STORE", "d").Integer).IsEqualTo(10);
        await Assert.That(c.Call("OBJECT", "ENCODING", "d").Text).IsEqualTo("listpack");
        await Assert.That(c.Call("CONFIG", "SET", "list-max-listpack-size", "5").Text).IsEqualTo("OK");
        await Assert.That(c.Call("SORT", "l", "LIMIT", "0", "5", "STORE", "d").Integer).IsEqualTo(5);
        await Assert.That(c.Call("OBJECT", "ENCODING", "d").Text).IsEqualTo("listpack");
        await Assert.That(c.Call("SORT", "l", "LIMIT", "0", "6", "STORE", "d").Integer).IsEqualTo(6);
        await Assert.That(c.Call("OBJECT", "ENCODING", "d").Text).IsEqualTo("quicklist");
        await Assert.That(string.Join(",", Texts(c.Call("LRANGE", "d", "0", "-1")))).IsEqualTo("0,1,2,3,4,5");
    }

    [Test]
    public async Task Weights_past_a_double_are_refused_and_the_next_sort_is_not()
    {
        // strtod's ERANGE (overflow, underflow). redis-server tests a stale errno and keeps refusing after one: not copied.
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("RPUSH", "over", "1", "1e400");
        c.Call("RPUSH", "under", "1e-400", "2");
        c.Call("RPUSH", "ok", "2", "1", "-1e308", "4.9e-300");
        foreach (var key in new[] { "over", "under" })
        {
            var r = c.Call("SORT", key);
            await Assert.That(r.IsError).IsTrue();
            await Assert.That(r.Text).IsEqualTo("ERR One or more scores can't be converted into double");
        }
        await Assert.That(string.Join(",", Texts(c.Call("SORT", "ok")))).IsEqualTo("-1e308,4.9e-300,1,2");
        await Assert.That(Texts(c.Call("SORT", "over", "ALPHA")).Length).IsEqualTo(2);
    }

    /// <summary>Weight of element i: a few equal ones so that equal weights fall back to the elements' bytes.</summary>
    private static string Weight(int i) => ((i * 7919) % 1000 / 4.0 - 50).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string Element(int i) => "e" + (i * 31 % 5003);

    /// <summary>
    /// A paged set of 3,000 strings sorted BY string weights, with GETs of the weights and of a field of 40
    /// paged hashes (past hash-max-listpack-entries), LIMIT, DESC, ALPHA and STORE, against the model; with
    /// <paramref name="cold"/> the collections are pushed out of the log's memory first and SORT waits on disk.
    /// </summary>
    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task Sorting_a_paged_set_by_weights_and_paged_hash_fields_matches_a_model(bool cold)
    {
        var options = cold ? new[] { "--maxmemory", "16mb", "--io-threads", "1", "--save", "", "--appendonly", "no" } : [];
        await using var server = await ServerProcess.StartAsync(options);
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(120));
        const int n = 3000;
        var elements = Enumerable.Range(0, n).Select(Element).Distinct().ToArray();
        var commands = new List<byte[]>();
        foreach (var chunk in elements.Chunk(500)) commands.Add(RespClient.Encode(new object[] { "SADD", "s" }.Concat(chunk).ToArray()));
        for (int i = 0; i < elements.Length; i++) commands.Add(RespClient.Encode("SET", "w_" + elements[i], Weight(i)));
        // 40 paged hashes h_<element> (values past hash-max-listpack-value) with field f; the other elements have none.
        for (int i = 0; i < 40; i++)
        {
            var args = new List<object> { "HSET", "h_" + elements[i * 7], "f", "value-" + i };
            for (int k = 0; k < 100; k++) { args.Add("g" + k); args.Add(new string('v', 70)); }
            commands.Add(RespClient.Encode(args.ToArray()));
        }
        foreach (var r in PagedLoad.Run(c, commands))
            if (r.IsError) throw new InvalidDataException(r.ToString());
        await Assert.That(c.Call("OBJECT", "ENCODING", "s").Text).IsEqualTo("hashtable");
        await Assert.That(c.Call("OBJECT", "ENCODING", "h_" + elements[0]).Text).IsEqualTo("hashtable");

        long readsBefore = 0;
        if (cold)
        {
            var churn = new List<byte[]>();
            for (int i = 0; i < 30_000; i++) churn.Add(RespClient.Encode("SET", "k" + i, new string('x', 1000)));
            PagedLoad.Run(c, churn);
            readsBefore = PagedLoad.Info(c, "store_disk_reads");
        }

        var weight = elements.Select((e, i) => (e, w: double.Parse(Weight(i), System.Globalization.CultureInfo.InvariantCulture))).ToDictionary(x => x.e, x => x.w);
        var field = Enumerable.Range(0, 40).ToDictionary(i => elements[i * 7], i => "value-" + i);
        var byWeight = elements.OrderBy(e => weight[e]).ThenBy(e => e, StringComparer.Ordinal).ToArray();

        var got = Texts(c.Call("SORT", "s", "BY", "w_*", "GET", "#", "GET", "w_*", "GET", "h_*->f"));
        await Assert.That(got.Length).IsEqualTo(3 * elements.Length);
        var want = byWeight.SelectMany(e => new[] { e, weight[e].ToString(System.Globalization.CultureInfo.InvariantCulture), field.GetValueOrDefault(e) }).ToArray();
        int bad = 0;
        for (int i = 0; i < want.Length; i++)
        {
            // w_* holds Weight(i)'s text: compare as numbers.
            if (i % 3 == 1 ? double.Parse(got[i], System.Globalization.CultureInfo.InvariantCulture) != double.Parse(want[i]!, System.Globalization.CultureInfo.InvariantCulture) : got[i] != want[i]) bad++;
        }
        await Assert.That(bad).IsEqualTo(0);
        if (cold) await Assert.That(PagedLoad.Info(c, "store_disk_reads") - readsBefore).IsGreaterThan(10);

        // DESC with LIMIT, ALPHA over the members themselves, and STORE of the GET values.
        var desc = Texts(c.Call("SORT", "s", "BY", "w_*", "DESC", "LIMIT", "100", "50"));
        var wantDesc = elements.OrderByDescending(e => weight[e]).ThenByDescending(e => e, StringComparer.Ordinal).Skip(100).Take(50).ToArray();
        await Assert.That(desc.SequenceEqual(wantDesc)).IsTrue();
        var alpha = Texts(c.Call("SORT", "s", "ALPHA", "LIMIT", "0", "-1"));
        await Assert.That(alpha.SequenceEqual(elements.OrderBy(e => e, StringComparer.Ordinal))).IsTrue();
        await Assert.That(c.Call("SORT", "s", "ALPHA", "GET", "h_*->f", "STORE", "dst").Integer).IsEqualTo(elements.Length);
        var stored = Texts(c.Call("LRANGE", "dst", "0", "-1"));
        await Assert.That(stored.SequenceEqual(elements.OrderBy(e => e, StringComparer.Ordinal).Select(e => field.GetValueOrDefault(e) ?? ""))).IsTrue();
        // BY nosort over a set that is stored is sorted (ALPHA), so the result is the same everywhere.
        await Assert.That(c.Call("SORT", "s", "BY", "nosort", "STORE", "dst2").Integer).IsEqualTo(elements.Length);
        await Assert.That(Texts(c.Call("LRANGE", "dst2", "0", "-1")).SequenceEqual(alpha)).IsTrue();
        // A numeric sort of strings fails whatever the source's size.
        await Assert.That(c.Call("SORT", "s").Text).IsEqualTo("ERR One or more scores can't be converted into double");
    }

    [Test]
    public async Task Sorting_a_quicklist_and_a_paged_integer_set_matches_a_model()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var rnd = new Random(5);
        var values = Enumerable.Range(0, 5000).Select(_ => rnd.Next(-100_000, 100_000).ToString()).ToArray();
        var commands = new List<byte[]>();
        foreach (var chunk in values.Chunk(500))
        {
            commands.Add(RespClient.Encode(new object[] { "RPUSH", "l" }.Concat(chunk).ToArray()));
            commands.Add(RespClient.Encode(new object[] { "SADD", "i" }.Concat(chunk).ToArray()));
        }
        PagedLoad.Run(c, commands);
        await Assert.That(c.Call("OBJECT", "ENCODING", "l").Text).IsEqualTo("quicklist");
        await Assert.That(c.Call("OBJECT", "ENCODING", "i").Text).IsEqualTo("hashtable");
        var numeric = values.OrderBy(long.Parse).ThenBy(v => v, StringComparer.Ordinal).ToArray();
        await Assert.That(Texts(c.Call("SORT", "l")).SequenceEqual(numeric)).IsTrue();
        await Assert.That(Texts(c.Call("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "10", "20")).SequenceEqual(values.Reverse().Skip(10).Take(20))).IsTrue();
        var distinct = values.Distinct().ToArray();
        await Assert.That(Texts(c.Call("SORT", "i", "DESC")).SequenceEqual(distinct.OrderByDescending(long.Parse))).IsTrue();
        await Assert.That(Texts(c.Call("SORT_RO", "i", "ALPHA", "LIMIT", "7", "3")).SequenceEqual(distinct.OrderBy(v => v, StringComparer.Ordinal).Skip(7).Take(3))).IsTrue();
        await Assert.That(c.Call("SORT", "l", "STORE", "l").Integer).IsEqualTo(values.Length);
        await Assert.That(Texts(c.Call("LRANGE", "l", "0", "-1")).SequenceEqual(numeric)).IsTrue();
    }
}
