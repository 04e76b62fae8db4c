using System.Text;
using System.Text.RegularExpressions;
using NativeKv.Tests.Infrastructure;
using RawConn = NativeKv.Tests.Commands.PubSubTranscriptTests.RawConn;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Client-side caching over three connections, the bytes each got as redis-server sent them (TrackingTranscripts.cs,
/// recorded by record-tracking-transcripts.py). C listens on __redis__:invalidate; in RESP2 the tracking client A
/// redirects to it (`{REDIR}`), in RESP3 A gets push frames. The server runs two reactors and the connections
/// alternate between them, so invalidations cross reactors, and each step's PING markers check that they are
/// delivered before anyone can ask after the write. `{A}` `{B}` `{C}` stand for the connections' ids.
/// </summary>
public class TrackingTranscriptTests
{
    [Test] public Task Tracking_commands_and_errors() => Family(TrackingTranscripts.CommandsResp2, TrackingTranscripts.CommandsResp3);
    [Test] public Task Default_mode_invalidation() => Family(TrackingTranscripts.DefaultResp2, TrackingTranscripts.DefaultResp3);
    [Test] public Task Bcast_and_prefixes() => Family(TrackingTranscripts.BcastResp2, TrackingTranscripts.BcastResp3);
    [Test] public Task Optin_and_optout_with_caching() => Family(TrackingTranscripts.OptInOutResp2, TrackingTranscripts.OptInOutResp3);
    [Test] public Task Noloop() => Family(TrackingTranscripts.NoLoopResp2, TrackingTranscripts.NoLoopResp3);
    [Test] public Task Flush_invalidates_everything() => Family(TrackingTranscripts.FlushResp2, TrackingTranscripts.FlushResp3);

    private static async Task Family((char Conn, string[] Args, string Reply)[] resp2, (char Conn, string[] Args, string Reply)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        await Replay(server.Port, resp2, resp3: false);
        await Replay(server.Port, resp3, resp3: true);
    }

    private static readonly Regex Info = new(@"flags=(\S*) .* redir=(-?\d+)", RegexOptions.Singleline);
    private static readonly Regex Integer = new(@"^:(-?\d+)\r\n");
    private static readonly Regex Shown = new(@"(redirect\r\n:|tracking-redir-broken\r\n:)(\d+)\r\n");

    private static async Task Replay(int port, (char Conn, string[] Args, string Reply)[] transcript, bool resp3)
    {
        using (var admin = new RawConn(port)) admin.Call("flushall");
        var conns = new Dictionary<char, RawConn>();
        var ids = new Dictionary<char, long>();
        try
        {
            foreach (char name in "ABC")
            {
                var c = new RawConn(port);
                conns[name] = c;
                if (resp3) c.Call("hello", "3");
                ids[name] = long.Parse(c.Call("client", "id").AsSpan(1).TrimEnd("\r\n"));
            }
            conns['C'].Call("subscribe", "__redis__:invalidate");
            var names = ids.ToDictionary(p => p.Value, p => p.Key);
            string Named(string digits) => names.TryGetValue(long.Parse(digits), out char n) ? "{" + n + "}" : digits;
            string Normalize(string word, string sub, string got)
            {
                if (word == "client" && sub == "info" && Info.Match(got) is { Success: true } m)
                    got = $"flags={m.Groups[1].Value} redir={(m.Groups[2].Value == "-1" ? "-1" : Named(m.Groups[2].Value))}";
                if (word == "client" && sub is "getredir" or "id")
                    got = Integer.Replace(got, x => ":" + (x.Groups[1].Value.StartsWith('-') ? x.Groups[1].Value : Named(x.Groups[1].Value)) + "\r\n");
                return Shown.Replace(got, x => x.Groups[1].Value + Named(x.Groups[2].Value) + "\r\n");
            }

            int marker = 0;
            var inMulti = new HashSet<char>();
            foreach (var (name, shown, reply) in transcript)
            {
                var args = new List<string>();
                foreach (var a in shown)
                {
                    if (a == "{REDIR}")
                    {
                        if (!resp3) args.AddRange(["redirect", ids['C'].ToString()]);
                    }
                    else if (a.Length == 3 && a[0] == '{' && a[2] == '}') args.Add(ids[a[1]].ToString());
                    else args.Add(a);
                }
                var own = conns[name];
                own.Send([.. args]);
                var got = new StringBuilder();
                string word = args[0].ToLowerInvariant(), sub = args.Count > 1 ? args[1].ToLowerInvariant() : "";
                // The step's reply is read before its marker is sent: a marker in the same read would be answered
                // before what the end of that read sends (BCAST invalidations), in Redis as here.
                var r = own.Reply();
                if (word == "multi" && r == "+OK\r\n") inMulti.Add(name);
                else if (word is "exec" or "discard" or "reset") inMulti.Remove(name);
                if (word == "quit")
                {
                    own.Dispose();
                    conns.Remove(name);
                }
                // Inside MULTI a marker would be queued, after QUIT there is none, and after CLIENT CACHING it would
                // be the command CACHING is for: the reply alone is kept.
                else if (!(inMulti.Contains(name) || (word == "client" && sub == "caching"))) r += own.Settle(++marker);
                got.Append('[').Append(name).Append(']').Append(Normalize(word, sub, r));
                foreach (char n in "ABC".Replace(name.ToString(), ""))
                {
                    if (!conns.TryGetValue(n, out var c) || inMulti.Contains(n)) continue;
                    string part = c.Settle(++marker);
                    if (part.Length > 0) got.Append('[').Append(n).Append(']').Append(Normalize("", sub, part));
                }
                var step = string.Join(' ', shown);
                await Assert.That($"{name}: {step} => {got}").IsEqualTo($"{name}: {step} => {reply}");
            }
        }
        finally
        {
            foreach (var c in conns.Values) c.Dispose();
        }
    }
}
