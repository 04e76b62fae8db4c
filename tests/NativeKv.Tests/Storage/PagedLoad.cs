using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Storage;

/// <summary>Pipelined HSET loads and HGET checks of large (paged) hashes for the lifecycle and reclaim tests.</summary>
internal static class PagedLoad
{
    public static string Field(int i) => "f" + i;

    /// <summary>A value of <paramref name="length"/> bytes that names its field and round.</summary>
    public static string Value(int i, int round, int length)
    {
        var head = $"v{round}:{i}:";
        return head.Length >= length ? head : head + new string((char)('a' + i % 26), length - head.Length);
    }

    /// <summary>HSETs fields [from, to) of <paramref name="key"/>, <paramref name="perCommand"/> a command.</summary>
    public static void Load(RespClient c, string key, int from, int to, int round = 0, int valueLength = 32, int perCommand = 1000)
    {
        var commands = new List<byte[]>();
        for (int s = from; s < to; s += perCommand)
        {
            var args = new List<object> { "HSET", key };
            for (int i = s; i < Math.Min(to, s + perCommand); i++)
            {
                args.Add(Field(i));
                args.Add(Value(i, round, valueLength));
            }
            commands.Add(RespClient.Encode(args.ToArray()));
        }
        foreach (var r in Run(c, commands))
            if (r.IsError) throw new InvalidDataException("HSET failed: " + r);
    }

    /// <summary>Fields of [from, to) whose HGET is not <paramref name="want"/>(i) (null: absent).</summary>
    public static int Mismatches(RespClient c, string key, int from, int to, Func<int, string?> want)
    {
        int bad = 0;
        for (int s = from; s < to; s += 20_000)
        {
            int e = Math.Min(to, s + 20_000);
            var commands = new List<byte[]>(e - s);
            for (int i = s; i < e; i++) commands.Add(RespClient.Encode("HGET", key, Field(i)));
            var replies = Run(c, commands);
            for (int i = s; i < e; i++)
                if (replies[i - s].Text != want(i)) bad++;
        }
        return bad;
    }

    /// <summary>Sends the commands while reading their replies (a pipeline deeper than the socket buffers).</summary>
    public static Reply[] Run(RespClient c, IReadOnlyList<byte[]> commands)
    {
        var sender = Task.Run(() =>
        {
            foreach (var cmd in commands) c.SendRaw(cmd);
        });
        var replies = new Reply[commands.Count];
        for (int i = 0; i < replies.Length; i++) replies[i] = c.Read();
        sender.Wait();
        return replies;
    }

    public static long Info(RespClient c, string field) => (long)ServerInfo.Field(c, "memory", field);

    /// <summary>Milliseconds one command takes, as its client sees it.</summary>
    public static (Reply Reply, double Ms) Timed(RespClient c, params object[] args)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = c.Call(args);
        return (r, sw.Elapsed.TotalMilliseconds);
    }
}
