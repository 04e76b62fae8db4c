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
        if (!TryParseSeconds(ctx[i], out double seconds))
        {
            ctx.Reply.Error("ERR timeout is not a float or out of range");
            return false;
        }
        // A nonzero number below a double (1e-400 s) is still a positive long double: 1 ms once rounded up.
        double millis = seconds == double.Epsilon ? 1 : Math.Ceiling(seconds * 1000.0);
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
    /// string2ld (strtold over the whole string, no leading space, not NaN, not past a long double): decimal,
    /// hex ("0x10" is 16 s) and "inf" forms. A long double reaches 1.19e4932, so a decimal past a double but
    /// within that is +-infinity here (then "out of range", as 7.2 says for 1e400); one past it, or one that
    /// underflows a long double, is no number. A positive one that underflows only a double is double.Epsilon.
    /// </summary>
    private static bool TryParseSeconds(ReadOnlySpan<byte> s, out double seconds)
    {
        seconds = 0;
        if (s.Length == 0 || s.Length >= 5 * 1024 || s[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f') return false;
        var body = s[0] is (byte)'+' or (byte)'-' ? s[1..] : s;
        if (body.Length > 2 && body[0] == '0' && (body[1] | 0x20) == 'x') return SortScore.TryParse(s, out seconds) && !double.IsNaN(seconds);
        if (!NumberFormat.TryParseDouble(s, out seconds)) return false;
        if (!double.IsInfinity(seconds) && seconds != 0) return true;
        int magnitude = DecimalMagnitude(body, out bool nonZero);
        if (double.IsInfinity(seconds)) return magnitude == int.MinValue || magnitude <= 4932; // "inf", or within a long double
        if (!nonZero) return true;
        if (magnitude < -4950) return false; // zero with ERANGE
        seconds = s[0] == '-' ? -double.Epsilon : double.Epsilon;
        return true;
    }

    /// <summary>The decimal exponent of a decimal number's first nonzero digit (int.MinValue for "inf" forms).</summary>
    private static int DecimalMagnitude(ReadOnlySpan<byte> body, out bool nonZero)
    {
        nonZero = false;
        int intDigits = 0, firstInt = -1, firstFrac = 0, frac = 0, j = 0;
        bool point = false;
        for (; j < body.Length; j++)
        {
            byte b = body[j];
            if (b == '.' && !point) { point = true; continue; }
            if (b < '0' || b > '9') break;
            if (point) frac++;
            else intDigits++;
            if (b == '0' || nonZero) continue;
            nonZero = true;
            if (point) firstFrac = frac;
            else firstInt = intDigits - 1;
        }
        // 0.001 -> -3; 0012 -> 1.
        int first = firstInt >= 0 ? intDigits - firstInt - 1 : -firstFrac;
        if (j == 0 || (j == 1 && point)) return int.MinValue;
        long exp = 0;
        if (j < body.Length && (body[j] | 0x20) == 'e')
        {
            bool neg = j + 1 < body.Length && body[j + 1] == '-';
            for (int k = j + 1; k < body.Length; k++)
                if (body[k] >= '0' && body[k] <= '9' && exp < 1_000_000) exp = exp * 10 + (body[k] - '0');
            if (neg) exp = -exp;
        }
        return (int)Math.Clamp(first + exp, int.MinValue + 1, int.MaxValue);
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
