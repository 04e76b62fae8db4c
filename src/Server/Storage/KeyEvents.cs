namespace NativeKv.Server.Storage;

/// <summary>
/// Who hears of the keys the store expired (keyspace notifications' <c>expired</c>): Storage owns the seam,
/// the pub/sub layer implements it. A reactor's session tells its reactor's notifier (which stages the event
/// with the command that found the key), the maintenance session the server-wide one.
/// </summary>
public interface IKeyEvents
{
    /// <summary>
    /// Expired events are wanted, or clients cache keys: a read that finds an expired key deletes it, as Redis's
    /// expireIfNeeded, and calls <see cref="ExpiredOnRead"/>.
    /// </summary>
    bool WantsExpired { get; }

    /// <summary>An operation of this session removed (or wrote over) <paramref name="key"/> of <paramref name="db"/>, whose expiry had passed.</summary>
    void Expired(int db, ReadOnlySpan<byte> key);

    /// <summary>A read of this session deleted <paramref name="key"/>, whose expiry had passed (its event, and what cached it is told).</summary>
    void ExpiredOnRead(int db, ReadOnlySpan<byte> key);
}
