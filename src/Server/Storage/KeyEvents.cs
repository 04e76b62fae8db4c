namespace NativeKv.Server.Storage;

/// <summary>
/// Who hears of the keys the store expired (keyspace notifications' <c>expired</c>): Storage owns the seam,
/// the pub/sub layer implements it. A reactor's session tells its reactor's notifier (which stages the event
/// with the command that found the key), the maintenance session the server-wide one.
/// </summary>
public interface IKeyEvents
{
    /// <summary>Expired events are wanted: a read that finds an expired key deletes it, as Redis's expireIfNeeded.</summary>
    bool WantsExpired { get; }

    /// <summary>An operation of this session removed (or wrote over) <paramref name="key"/> of <paramref name="db"/>, whose expiry had passed.</summary>
    void Expired(int db, ReadOnlySpan<byte> key);
}
