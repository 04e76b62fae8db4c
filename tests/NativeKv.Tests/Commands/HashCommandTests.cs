using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Hash commands and OBJECT, reply bytes as redis-server 7.0.15 sent them for the same requests
/// (HashTranscripts.cs, recorded by record-hash-transcripts.py; one family a test, RESP2 then RESP3
/// on a fresh connection). What Redis answers at random is checked by its properties.
/// </summary>
public class HashCommandTests
{

    [Test]
    public Task Set_and_get() => Transcript.Family(HashTranscripts.SetGetResp2, HashTranscripts.SetGetResp3);

    [Test]
    public Task Delete_and_exists() => Transcript.Family(HashTranscripts.DeleteExistsResp2, HashTranscripts.DeleteExistsResp3);

    [Test]
    public Task Incr_and_incrbyfloat() => Transcript.Family(HashTranscripts.IncrResp2, HashTranscripts.IncrResp3);

    [Test]
    public Task Enumerate() => Transcript.Family(HashTranscripts.EnumerateResp2, HashTranscripts.EnumerateResp3);

    [Test]
    public Task Random_fields_where_redis_is_deterministic() => Transcript.Family(HashTranscripts.RandomDeterministicResp2, HashTranscripts.RandomDeterministicResp3);

    [Test]
    public Task Scan() => Transcript.Family(HashTranscripts.ScanResp2, HashTranscripts.ScanResp3);

    [Test]
    public Task Errors_and_wrongtype() => Transcript.Family(HashTranscripts.ErrorsResp2, HashTranscripts.ErrorsResp3);

    [Test]
    public Task Encoding_converts_at_the_config_thresholds() => Transcript.Family(HashTranscripts.EncodingResp2, HashTranscripts.EncodingResp3);

    [Test]
    public Task Object_subcommands() => Transcript.Family(HashTranscripts.ObjectResp2, HashTranscripts.ObjectResp3);

    [Test]
    public Task Keyspace_commands_on_hashes() => Transcript.Family(HashTranscripts.KeysWithHashesResp2, HashTranscripts.KeysWithHashesResp3);

    /// <summary>
    /// A count near -2^63 (HRANDFIELD, SRANDMEMBER) closes its client past RepeatedPicks' bound instead of
    /// writing 1 GB of picks: a PING on the same reactor took 3.1-3.8 s before, and the fuzz test failed.
    /// </summary>
    [Test]
    public async Task Huge_negative_random_counts_close_the_client_and_keep_the_reactor_answering()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "1");
        using var setup = new RespClient(server.Port);
        setup.Call("HSET", "h", "a", "1", "b", "2");
        setup.Call("SADD", "s", "a", "b", "c");
        foreach (var command in new[] { new object[] { "HRANDFIELD", "h", "-9223372036854775807" }, ["SRANDMEMBER", "s", "-9223372036854775807"] })
        {
            using var greedy = new RespClient(server.Port);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            greedy.Send(command);
            await Assert.That(greedy.WaitClosed(TimeSpan.FromSeconds(10))).IsTrue();
            await Assert.That(setup.Call("PING").Text).IsEqualTo("PONG");
            // The 1 GB of picks took 3-4 s; 16 MB takes about 0.1 s (bound wide for a loaded machine).
            await Assert.That(clock.Elapsed).IsLessThan(TimeSpan.FromSeconds(2.5));
        }
        await Assert.That(setup.Call("HRANDFIELD", "h", "-5").Items!.Length).IsEqualTo(5);
    }

    /// <summary>hrandfieldWithCountCommand: a negative count repeats fields, a positive one never does, WITHVALUES pairs match.</summary>
    [Test]
    public async Task Random_counts_pick_fields_of_the_hash()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var model = new Dictionary<string, string>();
        for (int i = 0; i < 20; i++) model["f" + i] = "v" + i;
        c.Call(new object[] { "HSET", "h" }.Concat(model.SelectMany(kv => new object[] { kv.Key, kv.Value })).ToArray());

        var neg = c.Call("HRANDFIELD", "h", "-200");
        await Assert.That(neg.Items!.Length).IsEqualTo(200);
        await Assert.That(neg.Items.All(x => model.ContainsKey(x.Text!))).IsTrue();
        await Assert.That(neg.Items.Select(x => x.Text).Distinct().Count()).IsLessThan(200); // 200 picks of 20: repeats

        for (int round = 0; round < 20; round++)
        {
            var pos = c.Call("HRANDFIELD", "h", "7");
            await Assert.That(pos.Items!.Length).IsEqualTo(7);
            await Assert.That(pos.Items.Select(x => x.Text).Distinct().Count()).IsEqualTo(7);
            await Assert.That(pos.Items.All(x => model.ContainsKey(x.Text!))).IsTrue();
        }
        var seen = new HashSet<string>();
        for (int round = 0; round < 200; round++) seen.Add(c.Call("HRANDFIELD", "h").Text!);
        await Assert.That(seen.Count).IsGreaterThan(10); // every field has 1/20 a pick: all but a few show up

        var wv = c.Call("HRANDFIELD", "h", "-30", "WITHVALUES");
        await Assert.That(wv.Items!.Length).IsEqualTo(60);
        for (int i = 0; i < 60; i += 2) await Assert.That(model[wv.Items[i].Text!]).IsEqualTo(wv.Items[i + 1].Text);

        await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        var pairs = c.Call("HRANDFIELD", "h", "-5", "WITHVALUES");
        await Assert.That(pairs.Items!.Length).IsEqualTo(5);
        foreach (var pair in pairs.Items)
        {
            await Assert.That(pair.Items!.Length).IsEqualTo(2);
            await Assert.That(model[pair.Items[0].Text!]).IsEqualTo(pair.Items[1].Text);
        }
        var unique = c.Call("HRANDFIELD", "h", "5", "WITHVALUES");
        await Assert.That(unique.Items!.Select(p => p.Items![0].Text).Distinct().Count()).IsEqualTo(5);
    }

    /// <summary>A Hashtable-encoded hash (past 512 fields) answers every read; HSCAN returns each field once.</summary>
    [Test]
    public async Task Large_hash_past_the_listpack_threshold()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        for (int i = 0; i < 1000; i += 100)
            c.Call(new object[] { "HSET", "big" }.Concat(Enumerable.Range(i, 100).SelectMany(j => new object[] { "f" + j, "v" + j })).ToArray());
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(1000);
        await Assert.That(c.Call("OBJECT", "ENCODING", "big").Text).IsEqualTo("hashtable");
        await Assert.That(c.Call("HGET", "big", "f777").Text).IsEqualTo("v777");
        var fields = new HashSet<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var r = c.Call("HSCAN", "big", cursor, "COUNT", "50");
            cursor = r.Items![0].Text!;
            var items = r.Items[1].Items!;
            for (int i = 0; i < items.Length; i += 2) await Assert.That(fields.Add(items[i].Text!)).IsTrue();
        } while (cursor != "0" && ++calls < 1000);
        await Assert.That(fields.Count).IsEqualTo(1000);
        for (int i = 0; i < 990; i++) c.Call("HDEL", "big", "f" + i);
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(10);
        await Assert.That(c.Call("OBJECT", "ENCODING", "big").Text).IsEqualTo("hashtable"); // never back
        await Assert.That(c.Call("HGETALL", "big").Items!.Length).IsEqualTo(20);
    }

    /// <summary>
    /// One HSET of 100,000 new fields, HMGET and HDEL of 50,000: each field costs a hash look-up, not a
    /// scan of the payload (an O(n^2) HSET scanned about 100 GB here, minutes on the reactor).
    /// </summary>
    [Test]
    public async Task Bulk_commands_on_a_large_hash_take_linear_time()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int n = 100_000;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var set = new List<object> { "HSET", "big" };
        for (int i = 0; i < n; i++) { set.Add("field:" + i); set.Add("v" + i); }
        await Assert.That(c.Call(set.ToArray()).Integer).IsEqualTo(n);
        var get = new List<object> { "HMGET", "big" };
        for (int i = 0; i < n; i += 2) get.Add("field:" + i);
        get.Add("nosuch");
        var values = c.Call(get.ToArray()).Items!;
        await Assert.That(values.Length).IsEqualTo(n / 2 + 1);
        await Assert.That(values[777].Text).IsEqualTo("v1554");
        await Assert.That(values[^1].IsNull).IsTrue();
        var del = new List<object> { "HDEL", "big" };
        for (int i = 0; i < n; i += 2) del.Add("field:" + i);
        await Assert.That(c.Call(del.ToArray()).Integer).IsEqualTo(n / 2);
        await Assert.That(c.Call("HLEN", "big").Integer).IsEqualTo(n / 2);
        await Assert.That(c.Call("HGET", "big", "field:99999").Text).IsEqualTo("v99999");
        await Assert.That(c.Call("HGET", "big", "field:99998").IsNull).IsTrue();
        await Assert.That(sw.Elapsed).IsLessThan(TimeSpan.FromSeconds(30));
    }

    /// <summary>
    /// On a store of 1 MB log pages: a paged hash keeps values over a quarter page out of line, in 64 KB
    /// chunks, so two 600 KB values fit (before pages the whole hash was one record, and the second was
    /// refused); a field is always inline in its bucket, so one past a log page gets an error, nothing
    /// is written, and the server goes on.
    /// </summary>
    [Test]
    public async Task Bucket_larger_than_a_log_page_is_refused_and_large_values_go_out_of_line()
    {
        await using var server = await ServerProcess.StartAsync("--store-page-size", "1mb");
        using var c = new RespClient(server.Port);
        var big = new string('x', 600 * 1024);
        var other = new string('y', 2 * 1024 * 1024);
        await Assert.That(c.Call("HSET", "h", "a", big).Integer).IsEqualTo(1);
        await Assert.That(c.Call("HSET", "h", "b", other).Integer).IsEqualTo(1);
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(2);
        await Assert.That(c.Call("HSTRLEN", "h", "a").Integer).IsEqualTo(big.Length);
        await Assert.That(c.Call("HGET", "h", "b").Text).IsEqualTo(other);
        var hugeField = new string('f', 1100 * 1024);
        foreach (var key in new[] { "h", "fresh" })
        {
            var err = c.Call("HSET", key, "c", "1", hugeField, "1");
            await Assert.That(err.IsError).IsTrue();
            await Assert.That(err.Text!).Contains("exceeds the store's maximum value size");
        }
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(2);
        await Assert.That(c.Call("HEXISTS", "h", "c").Integer).IsEqualTo(0);
        await Assert.That(c.Call("EXISTS", "fresh").Integer).IsEqualTo(0);
        await Assert.That(c.Call("HSET", "h", "b", "small").Integer).IsEqualTo(0);
        await Assert.That(c.Call("HGET", "h", "b").Text).IsEqualTo("small");
        await Assert.That(c.Call("HGET", "h", "a").Text).IsEqualTo(big);
    }

    [Test]
    public async Task Info_keyspace_counts_hashes()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("HSET", "h1", "a", "1");
        c.Call("HSET", "h2", "a", "1");
        c.Call("EXPIRE", "h2", "1000");
        c.Call("SET", "s", "v");
        var info = c.Call("INFO", "keyspace").Text!;
        await Assert.That(info).Contains("db0:keys=3,expires=1,");
        c.Call("HDEL", "h1", "a");
        await Assert.That(c.Call("INFO", "keyspace").Text!).Contains("db0:keys=2,expires=1,");
    }

    /// <summary>
    /// HSET edits a small hash inside one store RMW (InlineEdit): an expired hash is a new one there, the
    /// keyspace counts follow, a paged hash and the step past the listpack thresholds take the general
    /// path, and a string is WRONGTYPE with nothing changed.
    /// </summary>
    [Test]
    public async Task Hset_in_the_record_keeps_expiry_counts_and_conversions_right()
    {
        await using var server = await ServerProcess.StartAsync("--hash-max-listpack-entries", "4");
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("HSET", "h", "a", "1", "b", "2", "a", "3").Integer).IsEqualTo(2L);
        await Assert.That(c.Call("HGET", "h", "a").Text).IsEqualTo("3");
        // 500 ms: a loaded CI machine must not let the key expire before INFO looks (at 50 ms it could).
        await Assert.That(c.Call("PEXPIRE", "h", "500").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("INFO", "keyspace").Text!).Contains("db0:keys=1,expires=1,");
        await Task.Delay(600);
        await Assert.That(c.Call("HSET", "h", "c", "1").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("TTL", "h").Integer).IsEqualTo(-1L);
        await Assert.That(c.Call("INFO", "keyspace").Text!).Contains("db0:keys=1,expires=0,");
        await Assert.That(c.Call("HSET", "h", "c", "22", "d", "1", "e", "1").Integer).IsEqualTo(2L);
        await Assert.That(c.Call("OBJECT", "ENCODING", "h").Text).IsEqualTo("listpack");
        await Assert.That(c.Call("HSET", "h", "f", "1", "c", "333").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("OBJECT", "ENCODING", "h").Text).IsEqualTo("listpack"); // 4 fields: at the limit
        await Assert.That(c.Call("HSET", "h", "g", "1", "c", "333").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("OBJECT", "ENCODING", "h").Text).IsEqualTo("hashtable");
        await Assert.That(c.Call("HSET", "h", "c", "4", "i", "1").Integer).IsEqualTo(1L);
        await Assert.That(c.Call("HGET", "h", "c").Text).IsEqualTo("4");
        await Assert.That(c.Call("HLEN", "h").Integer).IsEqualTo(6L);
        await Assert.That(c.Call("HSET", "long", "f", new string('x', 65)).Integer).IsEqualTo(1L);
        await Assert.That(c.Call("OBJECT", "ENCODING", "long").Text).IsEqualTo("hashtable");
        c.Call("SET", "s", "v");
        await Assert.That(c.Call("HSET", "s", "f", "v").ToString()).StartsWith("WRONGTYPE");
        await Assert.That(c.Call("GET", "s").Text).IsEqualTo("v");
        await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(3L);
    }

    /// <summary>Hashes come back after a restart from the AOF alone, and from a checkpoint plus the AOF after it.</summary>
    [Test]
    public async Task Hashes_survive_restart_from_aof_and_checkpoint()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                c.Call("HSET", "ckpt", "a", "1", "b", "2");
                c.Call("HSET", "gone", "x", "1");
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK");
                c.Call("HSET", "ckpt", "c", "3");
                c.Call("HDEL", "ckpt", "a");
                c.Call("HDEL", "gone", "x");
                c.Call("HINCRBY", "aof", "n", "41");
                c.Call("HINCRBY", "aof", "n", "1");
                c.Call("HSET", "aof", "bin", "\0\r\n");
                c.Call("CONFIG", "SET", "hash-max-listpack-entries", "1");
                c.Call("HSET", "ht", "a", "1", "b", "2");
                c.Call("EXPIRE", "ht", "1000");
                server.Process.Kill();
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(string.Join(",", c.Call("HGETALL", "ckpt").Items!.Select(x => x.Text))).IsEqualTo("b,2,c,3");
                await Assert.That(c.Call("EXISTS", "gone").Integer).IsEqualTo(0);
                await Assert.That(c.Call("HGET", "aof", "n").Text).IsEqualTo("42");
                await Assert.That(c.Call("HGET", "aof", "bin").Text).IsEqualTo("\0\r\n");
                await Assert.That(c.Call("OBJECT", "ENCODING", "ht").Text).IsEqualTo("hashtable");
                await Assert.That(c.Call("HLEN", "ht").Integer).IsEqualTo(2);
                await Assert.That(c.Call("TTL", "ht").Integer).IsGreaterThan(900);
                await Assert.That(c.Call("TYPE", "aof").Text).IsEqualTo("hash");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// Hashes whose records went to disk (maxmemory 16mb, about 50 MB of hashes): reads wait on disk
    /// and the command runs again (replay), writes read, compute and write back; pipelined so many
    /// wait at once. Every answer must be the model's.
    /// </summary>
    [Test]
    public async Task Cold_hashes_on_disk_answer_and_update_correctly()
    {
        await using var server = await ServerProcess.StartAsync("--maxmemory", "16mb", "--io-threads", "1");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        const int keys = 120_000, batch = 2000;
        var pad = new string('p', 30);
        for (int i = 0; i < keys; i += batch)
        {
            for (int j = i; j < i + batch; j++)
                c.Send("HSET", "h" + j, "a", "1", "b", pad + j, "c", pad, "d", pad, "e", pad, "f", pad, "g", pad, "h", pad, "i", pad, "n", j.ToString());
            for (int j = i; j < i + batch; j++) c.Read();
        }
        long readsBefore = DiskReads(c);
        // The first keys are the coldest: update and read them, pipelined.
        for (int j = 0; j < 3000; j++) c.Send("HINCRBY", "h" + j, "n", "1000000");
        for (int j = 0; j < 3000; j++) await Assert.That(c.Read().Integer).IsEqualTo(j + 1_000_000);
        for (int j = 0; j < 3000; j += 2) c.Send("HDEL", "h" + j, "b", "zz");
        for (int j = 0; j < 3000; j += 2) await Assert.That(c.Read().Integer).IsEqualTo(1);
        for (int j = 0; j < 3000; j++) c.Send("HMGET", "h" + j, "b", "n");
        for (int j = 0; j < 3000; j++)
        {
            var r = c.Read();
            await Assert.That(r.Items![0].Text).IsEqualTo(j % 2 == 0 ? null : pad + j);
            await Assert.That(r.Items[1].Text).IsEqualTo((j + 1_000_000).ToString());
        }
        for (int j = 3000; j < 6000; j++) c.Send("HLEN", "h" + j);
        for (int j = 3000; j < 6000; j++) await Assert.That(c.Read().Integer).IsEqualTo(10);
        long reads = DiskReads(c) - readsBefore;
        await Assert.That(reads).IsGreaterThan(1000); // the records were on disk (read by the command or ahead of it)
        await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(keys);
    }

    private static long DiskReads(RespClient c) =>
        (long)(ServerInfo.Field(c, "memory", "store_disk_reads") + ServerInfo.Field(c, "memory", "store_disk_prefetches"));
}
