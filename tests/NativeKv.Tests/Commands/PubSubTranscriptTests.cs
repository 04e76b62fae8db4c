using System.Net.Sockets;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// SUBSCRIBE and the rest of pub/sub over three connections, the bytes each got as redis-server sent them
/// (PubSubTranscripts.cs, recorded by record-pubsub-transcripts.py; RESP2, then RESP3 on fresh connections).
/// The server runs two reactors and the connections alternate between them, so most messages cross reactors:
/// each step's PING markers also check that a PUBLISH's message is delivered before anyone can ask after it.
/// </summary>
public class PubSubTranscriptTests
{
    [Test] public Task Subscribe_publish_and_subscribed_context() => Family(PubSubTranscripts.BasicsResp2, PubSubTranscripts.BasicsResp3);
    [Test] public Task Pattern_subscriptions() => Family(PubSubTranscripts.PatternsResp2, PubSubTranscripts.PatternsResp3);
    [Test] public Task Shard_channels() => Family(PubSubTranscripts.ShardResp2, PubSubTranscripts.ShardResp3);
    [Test] public Task Pubsub_introspection_exec_and_scripts() => Family(PubSubTranscripts.IntrospectionResp2, PubSubTranscripts.IntrospectionResp3);
    [Test] public Task Publishing_to_oneself() => Family(PubSubTranscripts.SelfPublishResp2, PubSubTranscripts.SelfPublishResp3);

    private static async Task Family((char Conn, string[] Args, string Reply)[] resp2, (char Conn, string[] Args, string Reply)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        await Replay(server.Port, resp2, resp3: false);
        await Replay(server.Port, resp3, resp3: true);
    }

    private static async Task Replay(int port, (char Conn, string[] Args, string Reply)[] transcript, bool resp3)
    {
        using (var admin = new RawConn(port)) admin.Call("flushall");
        var conns = new Dictionary<char, RawConn>();
        try
        {
            foreach (char name in "ABC")
            {
                var c = new RawConn(port);
                if (resp3) c.Call("hello", "3");
                conns[name] = c;
            }
            int marker = 0;
            var inMulti = new HashSet<char>();
            foreach (var (name, args, reply) in transcript)
            {
                var own = conns[name];
                own.Send(args);
                var got = new StringBuilder();
                string word = args[0].ToLowerInvariant();
                bool quit = word == "quit";
                if (inMulti.Contains(name) || word == "multi" || quit)
                {
                    // Inside MULTI a marker would be queued, after QUIT there is none: one reply is read.
                    var r = own.Reply();
                    if (word == "multi" && r == "+OK\r\n") inMulti.Add(name);
                    else if (word is "exec" or "discard" or "reset") inMulti.Remove(name);
                    got.Append('[').Append(name).Append(']').Append(r);
                    if (quit)
                    {
                        own.Dispose();
                        conns.Remove(name);
                    }
                }
                // The own connection first (its reply is in before the others are asked), then the others.
                foreach (char n in name + "ABC".Replace(name.ToString(), ""))
                {
                    if (!conns.TryGetValue(n, out var c) || (n == name && got.Length > 0)) continue;
                    string part = c.Settle(++marker);
                    if (part.Length > 0) got.Append('[').Append(n).Append(']').Append(part);
                }
                var shown = string.Join(' ', args);
                await Assert.That($"{name}: {shown} => {got}").IsEqualTo($"{name}: {shown} => {reply}");
            }
        }
        finally
        {
            foreach (var c in conns.Values) c.Dispose();
        }
    }

    /// <summary>A connection that reads whole RESP values as the bytes sent (resp_transcripts.py's Conn).</summary>
    internal sealed class RawConn : IDisposable
    {
        private readonly Socket _s;
        private readonly byte[] _buf = new byte[64 * 1024];
        private int _start, _end;

        public RawConn(int port)
        {
            _s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000, NoDelay = true };
            _s.Connect("127.0.0.1", port);
        }

        public void Send(params string[] args) => _s.Send(RespClient.Encode(args.Select(a => (object)Encoding.Latin1.GetBytes(a)).ToArray()));

        public string Call(params string[] args)
        {
            Send(args);
            return Reply();
        }

        /// <summary>What came before the reply to PING m&lt;marker&gt; (plain, or in RESP2's pub/sub form).</summary>
        public string Settle(int marker)
        {
            string m = "m" + marker;
            Send("ping", m);
            string plain = $"${m.Length}\r\n{m}\r\n", subscribed = $"*2\r\n$4\r\npong\r\n${m.Length}\r\n{m}\r\n";
            var got = new StringBuilder();
            while (true)
            {
                var r = Reply();
                if (r == plain || r == subscribed) return got.ToString();
                got.Append(r);
            }
        }

        private string Line()
        {
            while (true)
            {
                int i = Array.IndexOf(_buf, (byte)'\n', _start, _end - _start);
                if (i > _start && _buf[i - 1] == '\r')
                {
                    var line = Encoding.Latin1.GetString(_buf, _start, i + 1 - _start);
                    _start = i + 1;
                    return line;
                }
                Fill();
            }
        }

        private string Exact(int n)
        {
            while (_end - _start < n) Fill();
            var s = Encoding.Latin1.GetString(_buf, _start, n);
            _start += n;
            return s;
        }

        private void Fill()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            int r = _s.Receive(_buf, _end, _buf.Length - _end, SocketFlags.None);
            if (r == 0) throw new IOException("connection closed");
            _end += r;
        }

        public string Reply()
        {
            var l = Line();
            char t = l[0];
            if (t is '$' or '=' or '!')
            {
                int n = int.Parse(l.AsSpan(1, l.Length - 3));
                return n < 0 ? l : l + Exact(n + 2);
            }
            if (t is '*' or '~' or '>' or '%' or '|')
            {
                int n = int.Parse(l.AsSpan(1, l.Length - 3));
                if (t is '%' or '|') n *= 2;
                var sb = new StringBuilder(l);
                for (int i = 0; i < n; i++) sb.Append(Reply());
                return sb.ToString();
            }
            return l;
        }

        public void Dispose() => _s.Dispose();
    }
}
