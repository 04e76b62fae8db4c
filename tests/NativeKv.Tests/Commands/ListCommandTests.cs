using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// List commands, reply bytes as redis-server 7.0.15 sent them for the same requests (ListTranscripts.cs,
/// recorded by record-list-transcripts.py; one family a test, RESP2 then RESP3 on a fresh connection; the
/// one reply where 7.2 differs is 7.2's). OBJECT ENCODING follows 7.2 (7.0 has no listpack lists): checked
/// here against t_list.c's conversion rules.
/// </summary>
public class ListCommandTests
{
    [Test] public Task Push_and_pop() => Transcript.Family(ListTranscripts.PushPopResp2, ListTranscripts.PushPopResp3);
    [Test] public Task Index_set_and_range() => Transcript.Family(ListTranscripts.IndexSetRangeResp2, ListTranscripts.IndexSetRangeResp3);
    [Test] public Task Trim_and_remove() => Transcript.Family(ListTranscripts.TrimRemResp2, ListTranscripts.TrimRemResp3);
    [Test] public Task Insert_and_position() => Transcript.Family(ListTranscripts.InsertPosResp2, ListTranscripts.InsertPosResp3);
    [Test] public Task Move_and_multi_pop() => Transcript.Family(ListTranscripts.MoveMpopResp2, ListTranscripts.MoveMpopResp3);
    [Test] public Task Errors_and_wrongtype() => Transcript.Family(ListTranscripts.ErrorsResp2, ListTranscripts.ErrorsResp3);
    [Test] public Task Keyspace_commands_on_lists() => Transcript.Family(ListTranscripts.KeysResp2, ListTranscripts.KeysResp3);

    private static string Encoding(RespClient c, string key) => c.Call("OBJECT", "ENCODING", key).Text!;

    /// <summary>
    /// A count fill (list-max-listpack-size 4): listpack up to 4 entries, quicklist from the 5th (a push
    /// converts before it adds, judged on the count after it); back to listpack at half (2) after pops from
    /// the tail, which in Redis leave one quicklist node. LINSERT converts even when its pivot is missing.
    /// </summary>
    [Test]
    public async Task Encoding_follows_a_count_fill()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CONFIG", "SET", "list-max-listpack-size", "4").IsError).IsFalse();
        await Assert.That(c.Call("CONFIG", "GET", "list-max-listpack-size").Items![1].Text).IsEqualTo("4");
        c.Call("RPUSH", "l", "1", "2", "3", "4");
        await Assert.That(Encoding(c, "l")).IsEqualTo("listpack");
        c.Call("RPUSH", "l", "5");
        await Assert.That(Encoding(c, "l")).IsEqualTo("quicklist");
        c.Call("RPOP", "l");
        await Assert.That(Encoding(c, "l")).IsEqualTo("quicklist");
        c.Call("RPOP", "l");
        await Assert.That(Encoding(c, "l")).IsEqualTo("quicklist");
        c.Call("RPOP", "l");
        await Assert.That(Encoding(c, "l")).IsEqualTo("listpack");
        await Assert.That(string.Join(',', c.Call("LRANGE", "l", "0", "-1").Items!.Select(r => r.Text))).IsEqualTo("1,2");
        // One push of 5 converts at once; LMOVE's destination converts for its element.
        c.Call("RPUSH", "m", "a", "b", "c", "d", "e");
        await Assert.That(Encoding(c, "m")).IsEqualTo("quicklist");
        c.Call("RPUSH", "n", "a", "b", "c", "d");
        c.Call("LMOVE", "l", "n", "LEFT", "RIGHT");
        await Assert.That(Encoding(c, "n")).IsEqualTo("quicklist");
        c.Call("RPUSH", "p", "a", "b", "c", "d");
        await Assert.That(c.Call("LINSERT", "p", "BEFORE", "nope", "x").Integer).IsEqualTo(-1);
        await Assert.That(Encoding(c, "p")).IsEqualTo("quicklist");
        await Assert.That(c.Call("LLEN", "p").Integer).IsEqualTo(4);
        // Fill 0 means one entry a node.
        c.Call("CONFIG", "SET", "list-max-listpack-size", "0");
        c.Call("RPUSH", "z", "a");
        await Assert.That(Encoding(c, "z")).IsEqualTo("listpack");
        c.Call("RPUSH", "z", "b");
        await Assert.That(Encoding(c, "z")).IsEqualTo("quicklist");
        await server.DisposeAsync();
        server.DeleteData();
    }

    /// <summary>
    /// The default byte fill (-2: 8 KB of Redis listpack): 100-byte elements weigh 103 bytes each in a
    /// listpack (2-byte header, 1-byte back-length) after its 7 bytes, and a push adds its raw 100, so the
    /// 80th push converts (7 + 79 x 103 + 100 > 8192); back to listpack at 4096 bytes, 39 elements.
    /// </summary>
    [Test]
    public async Task Encoding_follows_the_default_byte_fill()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        string element = new('e', 100);
        for (int i = 0; i < 79; i++) c.Call("RPUSH", "l", element);
        await Assert.That(Encoding(c, "l")).IsEqualTo("listpack");
        c.Call("RPUSH", "l", element);
        await Assert.That(Encoding(c, "l")).IsEqualTo("quicklist");
        c.Call("RPOP", "l", "40");
        await Assert.That(Encoding(c, "l")).IsEqualTo("quicklist");
        c.Call("RPOP", "l");
        await Assert.That(Encoding(c, "l")).IsEqualTo("listpack");
        await Assert.That(c.Call("LLEN", "l").Integer).IsEqualTo(39);
        // One element past 8 KB converts a new list at once, and the list goes with its last element.
        c.Call("RPUSH", "big", new string('b', 9000));
        await Assert.That(Encoding(c, "big")).IsEqualTo("quicklist");
        c.Call("LPOP", "big");
        await Assert.That(c.Call("EXISTS", "big").Integer).IsEqualTo(0);
        await server.DisposeAsync();
        server.DeleteData();
    }

    /// <summary>
    /// An inline list is one record, capped by a log page (8 MB), but a list that big is past list-max-listpack-size:
    /// it goes to pages, its long elements out of line, so a list holds any number of MB-long elements. One element
    /// past the store's value limit (what a record, and so an AOF entry, carries) is refused and changes nothing.
    /// </summary>
    [Test]
    public async Task A_list_past_a_log_page_goes_to_pages_and_only_an_element_past_one_is_refused()
    {
        await using var server = await ServerProcess.StartAsync("--appendonly", "yes");
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(30));
        string five = new('f', 5 << 20);
        await Assert.That(c.Call("RPUSH", "l", five).Integer).IsEqualTo(1);
        await Assert.That(c.Call("OBJECT", "ENCODING", "l").Text).IsEqualTo("quicklist");
        // Ten MB of elements in one list, in one command (its records split across AOF entries at record boundaries).
        await Assert.That(c.Call("RPUSH", "l", "a", five).Integer).IsEqualTo(3);
        c.Call("RPUSH", "src", new string('s', 4 << 20));
        await Assert.That(c.Call("LMOVE", "src", "l", "LEFT", "RIGHT").Text!.Length).IsEqualTo(4 << 20);
        await Assert.That(c.Call("EXISTS", "src").Integer).IsEqualTo(0);
        await Assert.That(c.Call("LINSERT", "l", "BEFORE", "a", new string('i', 4 << 20)).Integer).IsEqualTo(5);
        // An element its record could not carry is refused, as a string that long is, and nothing changes.
        var refused = c.Call("LSET", "l", "0", new string('x', 9 << 20));
        await Assert.That(refused.IsError).IsTrue();
        await Assert.That(refused.Text!).StartsWith("ERR value of ");
        await Assert.That(c.Call("RPUSH", "l", "b", new string('x', 9 << 20)).IsError).IsTrue();
        await Assert.That(c.Call("LLEN", "l").Integer).IsEqualTo(5);
        await Assert.That(c.Call("LINDEX", "l", "0").Text).IsEqualTo(five);
        await Assert.That(c.Call("LINDEX", "l", "1").Text![0]).IsEqualTo('i');
        await Assert.That(c.Call("LINDEX", "l", "2").Text).IsEqualTo("a");
        await Assert.That(c.Call("RPOP", "l").Text!.Length).IsEqualTo(4 << 20);
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
        await server.DisposeAsync();
        server.DeleteData();
    }
}
