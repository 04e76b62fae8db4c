namespace NativeKv.Server.Storage;

/// <summary>
/// The wall clock as commands see it. Redis 7.2 takes the time once for the outermost command
/// (server.c enterExecutionUnit, commandTimeSnapshot): a script or an EXEC runs entirely at the time it
/// started, so no key expires in the middle of it, the relative expiries it sets and the TTLs it reads
/// agree, and TIME answers the same on every call. Outside a script or an EXEC, each read is the clock's.
///
/// <para>Each thread that freezes its clock publishes the frozen time in a slot of its own, so the
/// background expiry cycle (<see cref="ExpiryHorizon"/>) never deletes a key that a running script or
/// EXEC still sees as live.</para>
/// </summary>
public static class CommandClock
{
    [ThreadStatic] private static long t_frozenUs; // 0: not frozen
    [ThreadStatic] private static Slot? t_slot;

    private sealed class Slot
    {
        // The frozen time in ms; 0: none; Starting: about to freeze (the cycle deletes nothing meanwhile).
        public long SinceMs;
    }

    private const long Starting = 1;
    private static Slot[] s_slots = [];
    private static readonly Lock s_register = new();

    /// <summary>Unix time in milliseconds (the frozen one inside a script or an EXEC).</summary>
    public static long NowMs()
    {
        long frozen = t_frozenUs;
        return frozen != 0 ? frozen / 1000 : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    /// <summary>Unix time in microseconds (TIME; the frozen one inside a script or an EXEC).</summary>
    public static long NowUs()
    {
        long frozen = t_frozenUs;
        return frozen != 0 ? frozen : RealUs();
    }

    private static long RealUs() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;

    /// <summary>
    /// Freezes this thread's clock for a script or an EXEC, at <paramref name="keptUs"/> when it is set (an
    /// attempt that waited on disk runs again at its first attempt's time) or else at now, which it keeps
    /// there. False when the clock was frozen already (an EVAL inside an EXEC): only the outermost thaws.
    /// </summary>
    public static bool Freeze(ref long keptUs)
    {
        if (t_frozenUs != 0) return false;
        var slot = t_slot ??= Register();
        // Published before the clock is read: a cycle that reads the slots after this sees Starting and
        // deletes nothing; one that read them before had read its own clock earlier still, so it deletes
        // only keys that are expired at this thread's time too.
        Interlocked.Exchange(ref slot.SinceMs, Starting);
        if (keptUs == 0) keptUs = RealUs();
        t_frozenUs = keptUs;
        Volatile.Write(ref slot.SinceMs, keptUs / 1000);
        return true;
    }

    /// <summary>Ends what <see cref="Freeze"/> began (when it answered true).</summary>
    public static void Thaw()
    {
        t_frozenUs = 0;
        if (t_slot is { } slot) Volatile.Write(ref slot.SinceMs, 0);
    }

    /// <summary>
    /// The time up to which the expiry cycle may delete keys: <paramref name="nowMs"/>, or the oldest frozen
    /// time of a script or EXEC running now if that is earlier. Read <paramref name="nowMs"/> first.
    /// </summary>
    public static long ExpiryHorizon(long nowMs)
    {
        Interlocked.MemoryBarrier(); // the slots are read after the caller's clock
        long horizon = nowMs;
        foreach (var slot in Volatile.Read(ref s_slots))
        {
            long since = Volatile.Read(ref slot.SinceMs);
            if (since != 0 && since < horizon) horizon = since;
        }
        return horizon;
    }

    private static Slot Register()
    {
        var slot = new Slot();
        lock (s_register)
        {
            var slots = s_slots;
            var grown = new Slot[slots.Length + 1];
            slots.CopyTo(grown, 0);
            grown[^1] = slot;
            Volatile.Write(ref s_slots, grown);
        }
        return slot;
    }
}
