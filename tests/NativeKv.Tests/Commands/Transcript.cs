using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// Replays a transcript recorded from redis-server (the record-*-transcripts.py scripts beside this file):
/// each request, and exactly the reply bytes Redis sent for it.
/// </summary>
internal static class Transcript
{
    private static byte[] B(string latin1) => Encoding.Latin1.GetBytes(latin1);

    private static readonly string[] Preamble =
    [
        "flushall", "config set hash-max-listpack-entries 512", "config set hash-max-listpack-value 64",
        "config set maxmemory-policy noeviction", "function flush",
    ];

    /// <summary>Sends each request and reads exactly the bytes Redis answered; a PING after proves nothing more came.</summary>
    public static async Task Replay(int port, (string[] Args, string Reply)[] transcript, bool resp3)
    {
        using var c = new RespClient(port);
        if (resp3) await Assert.That(c.Call("HELLO", "3").IsError).IsFalse();
        foreach (var line in Preamble) c.Call(line.Split(' '));
        c.Socket.ReceiveTimeout = 10_000;
        foreach (var (args, reply) in transcript)
        {
            c.SendRaw(RespClient.Encode(args.Select(a => (object)B(a)).ToArray()));
            var got = new byte[reply.Length];
            int n = 0;
            try
            {
                while (n < got.Length)
                {
                    int r = c.Socket.Receive(got, n, got.Length - n, System.Net.Sockets.SocketFlags.None);
                    if (r == 0) break;
                    n += r;
                }
            }
            catch (System.Net.Sockets.SocketException) { }
            var shown = string.Join(' ', args.Select(a => a.Length > 40 ? a[..40] + "..." : a));
            await Assert.That($"{shown} => {Encoding.Latin1.GetString(got, 0, n)}").IsEqualTo($"{shown} => {reply}");
        }
        c.SendRaw("PING\r\n");
        var pong = new byte[7];
        int p = 0;
        while (p < pong.Length) { int r = c.Socket.Receive(pong, p, pong.Length - p, System.Net.Sockets.SocketFlags.None); if (r == 0) break; p += r; }
        await Assert.That(Encoding.Latin1.GetString(pong, 0, p)).IsEqualTo("+PONG\r\n");
    }

    /// <summary>One family on a fresh server: its RESP2 transcript, then its RESP3 one.</summary>
    public static async Task Family((string[] Args, string Reply)[] resp2, (string[] Args, string Reply)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync();
        await Replay(server.Port, resp2, resp3: false);
        await Replay(server.Port, resp3, resp3: true);
        await server.DisposeAsync();
        server.DeleteData();
    }
}
