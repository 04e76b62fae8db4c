using NativeKv.Server.Diagnostics;

[assembly: NativeKv.Server.Commands.RespContainer("SLOWLOG", Group = NativeKv.Server.Commands.CommandGroup.Server,
    Summary = "A container for slow log commands.", Since = "2.2.12")]
[assembly: NativeKv.Server.Commands.RespContainer("LATENCY", Group = NativeKv.Server.Commands.CommandGroup.Server,
    Summary = "A container for latency diagnostics commands.", Since = "2.8.13")]

namespace NativeKv.Server.Commands.Diagnostics;

/// <summary>MONITOR (server.c monitorCommand), SLOWLOG (slowlog.c) and LATENCY (latency.c).</summary>
internal static class DiagnosticsCommands
{
    private const CommandFlags Admin = CommandFlags.Admin | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags LatencyFlags = Admin | CommandFlags.NoScript;

    [RespCommand("MONITOR", Arity = 1, Flags = Admin | CommandFlags.NoScript, Group = CommandGroup.Server, Since = "1.0.0",
        Summary = "Listens for all requests received by the server in real-time.")]
    public static void Monitor(ref CommandContext ctx)
    {
        var c = ctx.Client;
        if (c.DenyBlocking)
        {
            // A client that expects a reply per command (inside EXEC) cannot monitor.
            ctx.Reply.Error("ERR MONITOR isn't allowed for DENY BLOCKING client");
            return;
        }
        if (c.Limits.Monitor) return; // already a monitor: ignored, without a reply, as Redis does
        c.Monitoring = true;
        ctx.Server.Watch.Monitors.Add(c);
        ctx.Reply.Ok();
    }

    // ------------------------------------------------------------------ SLOWLOG

    [RespCommand("SLOWLOG|GET", Arity = -2, Flags = Admin, Group = CommandGroup.Server, Since = "2.2.12",
        Summary = "Returns the slow log's entries.", Complexity = "O(N) where N is the number of entries returned")]
    public static void SlowlogGet(ref CommandContext ctx)
    {
        if (ctx.Count > 3)
        {
            SubcommandSyntaxError(ref ctx);
            return;
        }
        long count = 10;
        if (ctx.Count == 3)
        {
            if (!ctx.TryGetLong(2, out count) || count < -1)
            {
                ctx.Reply.Error("ERR count should be greater than or equal to -1");
                return;
            }
        }
        var entries = ctx.Server.Watch.SlowLog.Newest(count);
        var r = ctx.Reply;
        r.ArrayHeader(entries.Length);
        foreach (var e in entries)
        {
            r.ArrayHeader(6);
            r.Integer(e.Id);
            r.Integer(e.Time);
            r.Integer(e.Duration);
            r.ArrayHeader(e.Args.Length);
            foreach (var a in e.Args) r.Bulk(a);
            r.Bulk(e.Peer);
            r.Bulk(e.Name);
        }
    }

    [RespCommand("SLOWLOG|LEN", Arity = 2, Flags = Admin, Group = CommandGroup.Server, Since = "2.2.12",
        Summary = "Returns the number of entries in the slow log.", Complexity = "O(1)")]
    public static void SlowlogLen(ref CommandContext ctx) => ctx.Reply.Integer(ctx.Server.Watch.SlowLog.Length);

    [RespCommand("SLOWLOG|RESET", Arity = 2, Flags = Admin, Group = CommandGroup.Server, Since = "2.2.12",
        Summary = "Clears all entries from the slow log.", Complexity = "O(N) where N is the number of entries in the slowlog")]
    public static void SlowlogReset(ref CommandContext ctx)
    {
        ctx.Server.Watch.SlowLog.Reset();
        ctx.Reply.Ok();
    }

    [RespCommand("SLOWLOG|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server, Since = "6.2.0",
        Summary = "Show helpful text about the different subcommands", Complexity = "O(1)")]
    public static void SlowlogHelp(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx,
    [
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
    ]);

    /// <summary>addReplySubcommandSyntaxError.</summary>
    private static void SubcommandSyntaxError(ref CommandContext ctx)
    {
        var text = new ErrorText.Builder(200);
        text.Append("ERR unknown subcommand or wrong number of arguments for '"u8);
        text.Append(ErrorText.CString(ctx[1], 128));
        text.Append("'. Try "u8);
        text.Append(ctx.ArgString(0).ToUpperInvariant());
        text.Append(" HELP."u8);
        text.Reply(ctx.Reply, trimEnd: false);
    }

    // ------------------------------------------------------------------ LATENCY

    [RespCommand("LATENCY|LATEST", Arity = 2, Flags = LatencyFlags, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Returns the latest latency samples for all events.", Complexity = "O(1)")]
    public static void LatencyLatest(ref CommandContext ctx)
    {
        var events = ctx.Server.Watch.Latency.Snapshot();
        var r = ctx.Reply;
        r.ArrayHeader(events.Count);
        foreach (var (name, ts) in events)
        {
            int last = (ts.Index + LatencySeries.Length - 1) % LatencySeries.Length;
            r.ArrayHeader(4);
            r.Bulk(name);
            r.Integer(ts.Times[last]);
            r.Integer(ts.Latencies[last]);
            r.Integer(ts.Max);
        }
    }

    [RespCommand("LATENCY|HISTORY", Arity = 3, Flags = LatencyFlags, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Returns timestamp-latency samples for an event.", Complexity = "O(1)")]
    public static void LatencyHistory(ref CommandContext ctx)
    {
        var r = ctx.Reply;
        if (ctx.Server.Watch.Latency.Find(ctx.ArgString(2)) is not { } ts)
        {
            r.EmptyArray();
            return;
        }
        int samples = 0;
        for (int j = 0; j < LatencySeries.Length; j++)
        {
            if (ts.Times[(ts.Index + j) % LatencySeries.Length] != 0) samples++;
        }
        r.ArrayHeader(samples);
        for (int j = 0; j < LatencySeries.Length; j++)
        {
            int i = (ts.Index + j) % LatencySeries.Length;
            if (ts.Times[i] == 0) continue;
            r.ArrayHeader(2);
            r.Integer(ts.Times[i]);
            r.Integer(ts.Latencies[i]);
        }
    }

    [RespCommand("LATENCY|RESET", Arity = -2, Flags = LatencyFlags, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Resets the latency data for one or more events.", Complexity = "O(1)")]
    public static void LatencyReset(ref CommandContext ctx)
    {
        var latency = ctx.Server.Watch.Latency;
        if (ctx.Count == 2)
        {
            ctx.Reply.Integer(latency.Reset(null));
            return;
        }
        int resets = 0;
        for (int j = 2; j < ctx.Count; j++) resets += latency.Reset(ctx.ArgString(j));
        ctx.Reply.Integer(resets);
    }

    [RespCommand("LATENCY|GRAPH", Arity = 3, Flags = LatencyFlags, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Returns a latency graph for an event.", Complexity = "O(1)")]
    public static void LatencyGraph(ref CommandContext ctx)
    {
        string name = ctx.ArgString(2);
        if (ctx.Server.Watch.Latency.Find(name) is not { } ts)
        {
            var text = new ErrorText.Builder(200);
            text.Append("ERR No samples available for event '"u8);
            text.Append(ErrorText.CString(ctx[2]));
            text.Append("'"u8);
            text.Reply(ctx.Reply, trimEnd: false);
            return;
        }
        ctx.Reply.Verbatim(LatencyReport.Graph(name, ts));
    }

    [RespCommand("LATENCY|DOCTOR", Arity = 2, Flags = LatencyFlags, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Returns a human-readable latency analysis report.", Complexity = "O(1)")]
    public static void LatencyDoctor(ref CommandContext ctx)
    {
        var c = ctx.Server.Config;
        var settings = new LatencySettings(c.SlowlogLogSlowerThan, c.LatencyMonitorThreshold, c.AppendFsync == "always", c.Hz,
            LatencyReport.AnonHugePagesBytes());
        ctx.Reply.Verbatim(LatencyReport.Doctor(ctx.Server.Watch.Latency.Snapshot(), settings));
    }

    [RespCommand("LATENCY|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server, Since = "2.8.13",
        Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)")]
    public static void LatencyHelp(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx,
    [
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
    ]);
}
