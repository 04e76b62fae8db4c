using NativeKv.Server.Network.Blocking;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>
/// What every blocking command (BLPOP, BZPOPMIN, XREAD BLOCK...) shares: the timeout argument and the
/// re-run's gate. The mechanism itself (who waits on which key, tokens, timeouts) is Network/Blocking.
/// </summary>
internal static class Blocking
{
    /// <summary>
    /// getTimeoutFromObjectOrReply(UNIT_SECONDS): a double number of seconds, rounded up to the millisecond;
    /// 0 waits forever.
    /// </summary>
    public static bool TryTimeout(ref CommandContext ctx, int i, out long ms)
    {
        ms = 0;
        if (!NumberFormat.TryParseDouble(ctx[i], out double seconds))
        {
            ctx.Reply.Error("ERR timeout is not a float or out of range");
            return false;
        }
        double millis = Math.Ceiling(seconds * 1000.0);
        if (millis > long.MaxValue)
        {
            ctx.Reply.Error("ERR timeout is out of range");
            return false;
        }
        // -inf: C's cast gives LLONG_MIN, so Redis calls it negative; -0.0001 rounds up to 0 (forever), as there.
        ms = millis <= long.MinValue ? long.MinValue : (long)millis;
        if (ms < 0)
        {
            ctx.Reply.Error("ERR timeout is negative");
            return false;
        }
        if (ms > 0 && ms > long.MaxValue - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())
        {
            ctx.Reply.Error("ERR timeout is out of range"); // 'tval + now' would overflow
            return false;
        }
        return true;
    }

    /// <summary>
    /// The re-run's gate (blocked.c handleClientsBlockedOnKey): a blocked command runs its body again only if
    /// one of its keys [<paramref name="first"/>, +<paramref name="count"/>) now holds <paramref name="type"/>.
    /// A key deleted, or set to another type, leaves it blocked without a reply (its first run answered
    /// WRONGTYPE; a re-run does not). True on a first run. False also when a read waits on disk.
    /// </summary>
    public static bool ShouldRun(ref CommandContext ctx, int first, int count, KeyType type, BlockKind kind, long timeoutMs)
    {
        var block = ctx.Client.BlockOrNull;
        if (block is null || !block.IsBlocked) return true;
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        bool holds = false, other = false;
        for (int i = 0; i < count; i++)
        {
            if (store.Read(db, ctx[first + i], out var slot, OpFlags.HeaderOnly) != OpStatus.Found) continue;
            if (slot.Type == type) holds = true;
            else other = true;
        }
        if (store.AttemptPending) return false;
        if (holds) return true;
        block.Request(kind, timeoutMs, first, count);
        block.OtherType = other;
        return false;
    }
}
