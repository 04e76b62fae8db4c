using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Sorted set commands reply byte for byte as redis-server 7.0.15 did to the same requests
/// (ZSetTranscripts*.cs, recorded by record-zset-transcripts.py; one family a test, RESP2 then RESP3 on a
/// fresh connection). What only 7.2 does, and what Redis answers at random, is in SortedSetEncodingTests.
/// </summary>
public class SortedSetCommandTests
{
    [Test] public Task Zadd_and_zincrby() => Transcript.Family(ZSetTranscripts.AddIncrResp2, ZSetTranscripts.AddIncrResp3);
    [Test] public Task Zrem_zcard_zscore_zrank() => Transcript.Family(ZSetTranscripts.RemCardScoreResp2, ZSetTranscripts.RemCardScoreResp3);
    [Test] public Task Range_by_rank() => Transcript.Family(ZSetTranscripts.RangeByRankResp2, ZSetTranscripts.RangeByRankResp3);
    [Test] public Task Range_by_score_and_zcount() => Transcript.Family(ZSetTranscripts.RangeByScoreResp2, ZSetTranscripts.RangeByScoreResp3);
    [Test] public Task Range_by_lex_and_zlexcount() => Transcript.Family(ZSetTranscripts.RangeByLexResp2, ZSetTranscripts.RangeByLexResp3);
    [Test] public Task Zremrange() => Transcript.Family(ZSetTranscripts.RemRangeResp2, ZSetTranscripts.RemRangeResp3);
    [Test] public Task Zrangestore() => Transcript.Family(ZSetTranscripts.RangeStoreResp2, ZSetTranscripts.RangeStoreResp3);
    [Test] public Task Pop_mpop_and_blocking_pops_with_data() => Transcript.Family(ZSetTranscripts.PopResp2, ZSetTranscripts.PopResp3);
    [Test] public Task Union_inter_diff() => Transcript.Family(ZSetTranscripts.AlgebraResp2, ZSetTranscripts.AlgebraResp3);
    [Test] public Task Random_members_where_redis_is_deterministic() => Transcript.Family(ZSetTranscripts.RandomDeterministicResp2, ZSetTranscripts.RandomDeterministicResp3);
    [Test] public Task Zscan() => Transcript.Family(ZSetTranscripts.ScanResp2, ZSetTranscripts.ScanResp3);
    [Test] public Task Encoding_converts_at_the_config_thresholds() => Transcript.Family(ZSetTranscripts.EncodingResp2, ZSetTranscripts.EncodingResp3);
    [Test] public Task Keyspace_commands_and_wrongtype() => Transcript.Family(ZSetTranscripts.KeysWithZsetsResp2, ZSetTranscripts.KeysWithZsetsResp3);

    [Test]
    public async Task Zrandmember_returns_members_with_their_scores_and_the_right_multiplicity()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var args = new List<object> { "ZADD", "z" };
        for (int i = 0; i < 50; i++) { args.Add(i.ToString()); args.Add("m" + i); }
        c.Call(args.ToArray());
        // Distinct members below the size.
        var r = c.Call("ZRANDMEMBER", "z", "20").Items!.Select(x => x.Text!).ToList();
        await Assert.That(r.Count).IsEqualTo(20);
        await Assert.That(r.Distinct().Count()).IsEqualTo(20);
        await Assert.That(r.All(m => m.StartsWith('m') && int.Parse(m[1..]) < 50)).IsTrue();
        // Repeats allowed with a negative count; each score is the member's.
        var w = c.Call("ZRANDMEMBER", "z", "-200", "WITHSCORES").Items!.Select(x => x.Text!).ToList();
        await Assert.That(w.Count).IsEqualTo(400);
        for (int i = 0; i < w.Count; i += 2) await Assert.That(w[i]).IsEqualTo("m" + w[i + 1]);
        await Assert.That(w.Where((_, i) => i % 2 == 0).Distinct().Count()).IsLessThan(200);
        var one = c.Call("ZRANDMEMBER", "z").Text!;
        await Assert.That(one.StartsWith('m')).IsTrue();
        await Assert.That(c.Call("ZCARD", "z").Integer).IsEqualTo(50);
        await server.DisposeAsync();
        server.DeleteData();
    }
}
