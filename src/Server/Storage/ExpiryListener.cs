namespace NativeKv.Server.Storage;

/// <summary>
/// Told when the active expiry cycle deletes a key whose time passed (deleteExpiredKeyAndPropagate's
/// signalModifiedKey): client-side caching invalidates it. Called on the store's maintenance thread.
/// </summary>
public interface IExpiryListener
{
    void Expired(int ns, ReadOnlySpan<byte> key);
}
