using System.Diagnostics;
using NativeKv.Server.Diagnostics;
using NativeKv.Server.Network;
using NativeKv.Server.Network.Monitor;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands.Diagnostics;

/// <summary>How a finished call is shown: fed to monitors, or not (a blocked command's re-run, Redis's reprocessing).</summary>
public enum CallKind : byte { Completed, Blocked, Reprocessed }

/// <summary>
/// What watches commands as call() does after each one: the latency monitor ("command", "fast-command"), the
/// slow log and MONITOR. The executor looks at one field per command, <see cref="GateTicks"/>: the shortest
/// duration anything wants to see (0 while a monitor listens, long.MaxValue when nothing watches), so a
/// command under it costs one compare.
/// </summary>
public sealed class CommandWatch
{
    private readonly ServerContext _server;

    public CommandWatch(ServerContext server)
    {
        _server = server;
        Monitors = new MonitorFeed(server, Refresh);
        server.Config.IntrospectionChanged += Refresh;
        Refresh();
    }

    /// <summary>A call at least this many Stopwatch ticks long goes to <see cref="AfterCall"/>.</summary>
    public long GateTicks = long.MaxValue;

    public SlowLog SlowLog { get; } = new();
    public LatencyMonitor Latency { get; } = new();
    public MonitorFeed Monitors { get; }

    /// <summary>The settings or the monitors changed: the gate follows; a shorter slowlog-max-len trims now.</summary>
    public void Refresh()
    {
        var c = _server.Config;
        long gate = long.MaxValue;
        if (c.SlowlogLogSlowerThan >= 0) gate = Math.Min(gate, ToTicks(c.SlowlogLogSlowerThan, 1_000_000));
        if (c.LatencyMonitorThreshold > 0) gate = Math.Min(gate, ToTicks(c.LatencyMonitorThreshold, 1_000));
        if (Monitors.Any) gate = 0;
        Volatile.Write(ref GateTicks, gate);
        if (c.SlowlogLogSlowerThan >= 0 && SlowLog.Length > c.SlowlogMaxLen) SlowLog.Trim(c.SlowlogMaxLen);
    }

    /// <summary>Ticks in <paramref name="amount"/> units of 1/<paramref name="perSecond"/> s, rounded down, saturating.</summary>
    private static long ToTicks(long amount, long perSecond)
    {
        var ticks = (Int128)amount * Stopwatch.Frequency / perSecond;
        return ticks > long.MaxValue ? long.MaxValue : (long)ticks;
    }

    /// <summary>latencyAddSampleIfNeeded, for events outside commands (the AOF's writes and fsyncs, on its threads).</summary>
    public void AddSampleIfNeeded(string name, long latencyMs)
    {
        long threshold = _server.Config.LatencyMonitorThreshold;
        if (threshold > 0 && latencyMs >= threshold) Latency.Add(name, latencyMs);
    }

    /// <summary>
    /// call()'s tail for one command (a client's, or one an EXEC or a script ran: <paramref name="lua"/> for
    /// the script's). The monitor line is staged until the outer command ends (<see cref="MonitorFeed.Publish"/>).
    /// </summary>
    public void AfterCall(Client client, bool lua, int db, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, long ticks, CallKind kind)
    {
        var c = _server.Config;
        long micros = ticks * 1_000_000 / Stopwatch.Frequency;
        long threshold = c.LatencyMonitorThreshold;
        if (threshold > 0 && micros / 1000 >= threshold)
            Latency.Add((spec.Flags & CommandFlags.Fast) != 0 ? "fast-command" : "command", micros / 1000);
        long slower = c.SlowlogLogSlowerThan;
        if (kind != CallKind.Blocked && slower >= 0 && micros >= slower && (spec.Flags & CommandFlags.SkipSlowlog) == 0)
        {
            int kept = Math.Min(args.Length, SlowLog.MaxArgs);
            Span<bool> redacted = stackalloc bool[kept];
            CommandArgs.MarkRedacted(spec, input, args, redacted);
            SlowLog.Push(SlowLog.CutArgs(input, args, redacted), micros, lua ? "?:0" : client.Address, lua ? "" : client.Name, c.SlowlogMaxLen);
        }
        if (kind != CallKind.Reprocessed && Monitors.Any && (spec.Flags & (CommandFlags.SkipMonitor | CommandFlags.Admin)) == 0)
            Monitors.Stage(client.Reactor, CommandArgs.MonitorLine(db, lua ? null : client.Address, spec, input, args));
    }

    /// <summary>EVAL, EVALSHA and FCALL feed monitors themselves, before their script's commands (evalCommand).</summary>
    /// (Fed even when the command is run again after a pause, as evalCommand does.)
    public void FeedBefore(ref CommandContext ctx)
    {
        if (!Monitors.Any) return;
        Monitors.Stage(ctx.Client.Reactor, CommandArgs.MonitorLine(ctx.Client.Database, ctx.Client.Address, ctx.Spec, ctx.Input, ctx.Args));
    }
}
