using NativeKv.Server.Commands;
using NativeKv.Server.Config;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Network;

/// <summary>The classes of client-output-buffer-limit, indexing ServerConfig.ClientOutputBufferLimits.</summary>
public enum OutputClass { Normal = 0, Replica = 1, PubSub = 2 }

/// <summary>
/// client-output-buffer-limit for one client, as Redis's checkClientOutputBufferLimits and
/// closeClientOnOutputBufferLimitReached (networking.c). The writer tells us only when its output
/// passes the mark we set (the nearer of the hard and the soft limit), so a reply that stays under
/// it costs nothing; the reactor's cron looks once per tick for the soft limit's seconds and for
/// limits changed by CONFIG SET. A client over a limit while a command writes is closed
/// asynchronously (its output discarded, closed when the reactor next flushes it), one found by
/// the cron at once; both are logged with Redis's lines.
/// </summary>
public sealed class OutputLimits : IOutputWatcher
{
    /// <summary>
    /// Redis's fixed reply buffer (PROTO_REPLY_CHUNK_BYTES): the first 16 KB of pending output are
    /// CLIENT LIST's obl and not counted against the limits; what is past them is omem, as Redis's
    /// reply list (reply_bytes).
    /// </summary>
    public const int StaticBytes = 16 * 1024;

    private readonly Client _client;
    private long _softSince = -1; // second the soft limit was first seen reached (Redis's obuf_soft_limit_reached_time), -1: not

    public OutputLimits(Client client)
    {
        _client = client;
        Rearm(client.Output);
    }

    // Replica and Monitor are set by replication when NativeKv has it; PubSub by Client.InPubSub.
    public bool Replica, Monitor, PubSub;

    /// <summary>The client's class changed (it subscribed or left pub/sub): the mark follows its limits.</summary>
    public void ClassChanged()
    {
        _softSince = -1;
        Rearm(_client.Output);
    }

    public OutputClass Class => ClassOf(Replica, Monitor, PubSub);

    /// <summary>
    /// Redis's getClientType as the limits see it: a replica is Replica unless it is a MONITOR, a
    /// client with subscriptions is PubSub, everyone else (a master included) is Normal. (Redis
    /// also raises a replica's hard limit to repl-backlog-size; that comes with replication.)
    /// </summary>
    public static OutputClass ClassOf(bool replica, bool monitor, bool pubsub) =>
        replica && !monitor ? OutputClass.Replica : pubsub ? OutputClass.PubSub : OutputClass.Normal;

    /// <summary>Pending output past the fixed buffer: Redis's getClientOutputBufferMemoryUsage (omem).</summary>
    public static long OutputMemory(Client c) => Math.Max(0, (long)c.OutputLength - StaticBytes);

    /// <summary>The buffers a client holds (input, output): tot-mem and INFO mem_clients_* less argv.</summary>
    public static long Memory(Client c) => c.QueryBufferCapacity + c.Output.Capacity;

    /// <summary>
    /// Redis's checkClientOutputBufferLimits: the hard limit is reached at once; the soft limit only
    /// once it has stayed reached for more than its seconds (whole seconds, as Redis's unixtime), the
    /// first sight starting the clock and a look under it stopping it. 0 bytes means no limit.
    /// </summary>
    public static bool Reached(long used, ClientOutputBufferLimit limit, ref long softSince, long nowSeconds)
    {
        bool hard = limit.HardBytes > 0 && used >= limit.HardBytes;
        bool soft = limit.SoftBytes > 0 && used >= limit.SoftBytes;
        if (soft)
        {
            if (softSince < 0)
            {
                softSince = nowSeconds;
                soft = false;
            }
            else if (nowSeconds - softSince <= limit.SoftSeconds)
            {
                soft = false;
            }
        }
        else
        {
            softSince = -1;
        }
        return soft || hard;
    }

    private ClientOutputBufferLimit Limit => _client.Server.Config.ClientOutputBufferLimits[(int)Class];

    /// <summary>The writer is about to hold <paramref name="length"/> bytes (past our mark or its buffer).</summary>
    public void Growing(RespWriter output, long length)
    {
        long now = Environment.TickCount64 / 1000;
        long used = Math.Max(0, length - _client.OutputSent - StaticBytes);
        if (length > RespWriter.MaxCapacity)
        {
            CloseAsap(output, length, " (NativeKv's output buffer stops at 1 GB)");
            return;
        }
        if (Check(used, now))
        {
            CloseAsap(output, length, "");
            return;
        }
        Rearm(output);
        // A doubling leaves the old array to the GC, which let the earlier ones stay resident on the
        // way to a 1 GB buffer (VmHWM 2.56 GB; 2.11 GB collecting them first); past 64 MB, collect.
        if (length > output.Capacity && output.Capacity >= BigBuffer) GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: false);
    }

    private const int BigBuffer = 64 * 1024 * 1024;

    /// <summary>
    /// From the reactor's cron, between commands: the soft limit's seconds, and limits changed
    /// by CONFIG SET. True when the client was closed.
    /// </summary>
    public bool Cron(long nowMs)
    {
        if (_client.Output.Discarding) return false; // closing already
        if (Check(OutputMemory(_client), nowMs / 1000))
        {
            Closing($"Client {ClientCommands.InfoLine(_client, _client.OutputLength)} closed for overcoming of output buffer limits.");
            _client.Close();
            return true;
        }
        Rearm(_client.Output);
        return false;
    }

    /// <summary>closeClientOnOutputBufferLimitReached's test: nothing past the fixed buffer is never over (replicas aside).</summary>
    private bool Check(long used, long nowSeconds)
    {
        var cls = Class;
        if (used == 0 && cls != OutputClass.Replica) return false;
        if (used > 0) RecentOutputPeaks.Record(used, nowSeconds);
        return Reached(used, _client.Server.Config.ClientOutputBufferLimits[(int)cls], ref _softSince, nowSeconds);
    }

    /// <summary>
    /// Redis's freeClientAsync: the output is dropped, nothing more is read or sent, and the
    /// client closes when its reactor next flushes it (this runs inside a command).
    /// </summary>
    private void CloseAsap(RespWriter output, long length, string why)
    {
        Closing($"Client {ClientCommands.InfoLine(_client, length - _client.OutputSent)} scheduled to be closed ASAP for overcoming of output buffer limits{why}.");
        output.Discard();
        _client.CloseAfterReply = true;
        _client.KillRequested = true; // the cron closes it should no flush come first
    }

    private void Closing(string line)
    {
        _client.Server.Log.Warning(line);
        _client.Reactor.Stats.OutputLimitDisconnections++;
    }

    /// <summary>
    /// Sets the writer's next mark: the pending length at which omem reaches the nearer limit (the
    /// soft one only while its clock is not running: the cron watches its seconds), never past the cap.
    /// </summary>
    private void Rearm(RespWriter output)
    {
        var limit = Limit;
        long next = long.MaxValue;
        if (limit.HardBytes > 0) next = limit.HardBytes;
        if (limit.SoftBytes > 0 && _softSince < 0) next = Math.Min(next, limit.SoftBytes);
        // Reserve looks when the length passes the mark, and omem >= limit means pending >= limit + 16 KB.
        long room = next >= RespWriter.MaxCapacity ? RespWriter.MaxCapacity : next + StaticBytes - 1;
        // While the soft clock runs, a drained buffer looks again just past the fixed buffer, where
        // Redis's next append would find omem under the soft limit and stop the clock.
        long drained = _softSince >= 0 ? StaticBytes : room;
        output.WatchAt(Math.Min(RespWriter.MaxCapacity, _client.OutputSent + room), drained);
    }
}

/// <summary>
/// INFO client_recent_max_output_buffer: the largest omem seen in the last 8 seconds, one slot per
/// second as Redis's ClientsPeakMemOutput (CLIENTS_PEAK_MEM_USAGE_SLOTS). Written only when a client
/// has output past its fixed buffer, so the lock is rare.
/// </summary>
public static class RecentOutputPeaks
{
    private const int Slots = 8;
    private static readonly long[] Peak = new long[Slots];
    private static readonly long[] Second = new long[Slots];
    private static readonly object Gate = new();

    public static void Record(long used, long nowSeconds)
    {
        int slot = (int)(nowSeconds % Slots);
        lock (Gate)
        {
            if (Second[slot] != nowSeconds)
            {
                Second[slot] = nowSeconds;
                Peak[slot] = 0;
            }
            if (used > Peak[slot]) Peak[slot] = used;
        }
    }

    public static long Max(long nowSeconds)
    {
        long max = 0;
        lock (Gate)
        {
            for (int i = 0; i < Slots; i++)
            {
                if (nowSeconds - Second[i] < Slots) max = Math.Max(max, Peak[i]);
            }
        }
        return max;
    }
}
