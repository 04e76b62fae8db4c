using System.Text;
using NativeKv.Tests.Infrastructure;
using RawConn = NativeKv.Tests.Commands.PubSubTranscriptTests.RawConn;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Keyspace notifications (notify-keyspace-events) as redis-server sends them (NotifyTranscripts.Keys.cs and .Types.cs, recorded by
/// record-notify-transcripts.py; RESP2, then RESP3 on fresh connections): S PSUBSCRIBEs __key*__:*, A runs a
/// family's commands, and each step keeps what A got and then every message S got before its PING marker, so
/// the events' names, channels, keys and order are checked per command. The server runs two reactors and S is
/// on the other one than A: every event crosses reactors. "SLEEP" steps wait and settle nobody: what expires
/// meanwhile (the active cycle or the next command's lazy expire) lands in the next step either way.
/// </summary>
public class NotifyTranscriptTests
{
    [Test] public Task Config_parsing_and_channels() => Family(NotifyTranscripts.ConfigResp2, NotifyTranscripts.ConfigResp3);
    [Test] public Task Generic_keyspace_events() => Family(NotifyTranscripts.GenericResp2, NotifyTranscripts.GenericResp3);
    [Test] public Task String_events() => Family(NotifyTranscripts.StringsResp2, NotifyTranscripts.StringsResp3);
    [Test] public Task List_events() => Family(NotifyTranscripts.ListsResp2, NotifyTranscripts.ListsResp3);
    [Test] public Task Hash_events() => Family(NotifyTranscripts.HashesResp2, NotifyTranscripts.HashesResp3);
    [Test] public Task Set_events() => Family(NotifyTranscripts.SetsResp2, NotifyTranscripts.SetsResp3);
    [Test] public Task Sorted_set_events() => Family(NotifyTranscripts.SortedSetsResp2, NotifyTranscripts.SortedSetsResp3);
    [Test] public Task Events_of_paged_collections() => Family(NotifyTranscripts.PagedResp2, NotifyTranscripts.PagedResp3);
    [Test] public Task Expired_events() => Family(NotifyTranscripts.ExpiryResp2, NotifyTranscripts.ExpiryResp3);
    [Test] public Task New_and_keymiss_events() => Family(NotifyTranscripts.NewAndMissResp2, NotifyTranscripts.NewAndMissResp3);
    [Test] public Task Events_of_exec_and_scripts() => Family(NotifyTranscripts.TransactionsResp2, NotifyTranscripts.TransactionsResp3);

    private static async Task Family((char Conn, string[] Args, string Reply)[] resp2, (char Conn, string[] Args, string Reply)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        await Replay(server.Port, resp2, resp3: false);
        await Replay(server.Port, resp3, resp3: true);
    }

    private static async Task Replay(int port, (char Conn, string[] Args, string Reply)[] transcript, bool resp3)
    {
        using (var admin = new RawConn(port))
        {
            // As the recorder: the defaults back (the Paged family lowers them).
            admin.Call("config", "set", "hash-max-listpack-entries", "128");
            admin.Call("config", "set", "set-max-intset-entries", "512");
            admin.Call("config", "set", "zset-max-listpack-entries", "128");
            admin.Call("config", "set", "list-max-listpack-size", "-2");
            admin.Call("config", "set", "notify-keyspace-events", "");
            admin.Call("flushall");
        }
        var conns = new Dictionary<char, RawConn>();
        try
        {
            foreach (char name in "AS")
            {
                var c = new RawConn(port);
                if (resp3) c.Call("hello", "3");
                conns[name] = c;
            }
            int marker = 0;
            var inMulti = new HashSet<char>();
            foreach (var (name, args, reply) in transcript)
            {
                if (args[0] == "SLEEP")
                {
                    await Task.Delay(TimeSpan.FromSeconds(double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture)));
                    continue;
                }
                var own = conns[name];
                own.Send(args);
                var got = new StringBuilder();
                string word = args[0].ToLowerInvariant();
                if (inMulti.Contains(name) || word == "multi")
                {
                    // Inside MULTI a marker would be queued: the step's one reply is read.
                    var r = own.Reply();
                    if (word == "multi" && r == "+OK\r\n") inMulti.Add(name);
                    else if (word is "exec" or "discard") inMulti.Remove(name);
                    got.Append('[').Append(name).Append(']').Append(r);
                }
                // The own connection first (its reply is in before the subscriber is asked), then the other.
                foreach (char n in name + "AS".Replace(name.ToString(), ""))
                {
                    if (n == name && got.Length > 0) continue;
                    if (n != name && inMulti.Contains(name)) continue;
                    string part = conns[n].Settle(++marker);
                    if (part.Length > 0) got.Append('[').Append(n).Append(']').Append(part);
                }
                var shown = string.Join(' ', args);
                await Assert.That($"{name}: {shown} => {got}").IsEqualTo($"{name}: {shown} => {reply}");
            }
        }
        finally
        {
            foreach (var c in conns.Values) c.Dispose();
            using var admin = new RawConn(port);
            admin.Call("config", "set", "notify-keyspace-events", "");
        }
    }
}
