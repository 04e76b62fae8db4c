namespace NativeKv.Server.Storage.Locks;

/// <summary>
/// The keyspace gate taken exclusively by a thread that is not a reactor (the checkpointer): it blocks
/// on an event instead of parking a client. The gate grants it like any waiter (FIFO, from the thread
/// that released last), so keyed commands already in run to their end, later ones queue behind it, and
/// nothing here assumes a reactor: an exclusive holder writes no reader line, and the grant only sets
/// the event. One hold per checkpoint.
/// </summary>
internal sealed class ThreadGateHold : ILockWaiter
{
    private readonly KeyLockTable _locks;
    private readonly LockSet _set;
    private readonly ManualResetEventSlim _granted = new(false);

    public ThreadGateHold(KeyLockTable locks)
    {
        _locks = locks;
        _set = new LockSet(this, gateSlot: -1);
    }

    public void Granted() => _granted.Set();

    public bool Held => _set.IsHeld;

    /// <summary>
    /// Takes the gate exclusively. Waits while commands hold it; every <paramref name="poll"/> it asks
    /// <paramref name="giveUp"/> whether to stop waiting (the request is then withdrawn, and false returned;
    /// if it throws, the request is withdrawn too).
    /// </summary>
    public bool Enter(Func<bool> giveUp, TimeSpan poll)
    {
        _set.Begin();
        _set.AddKeyspace();
        if (_locks.Acquire(_set)) return true;
        while (!_granted.Wait(poll))
        {
            bool stop;
            try
            {
                stop = giveUp();
            }
            catch
            {
                _locks.Cancel(_set); // a request left queued would keep the gate shut for good
                throw;
            }
            if (!stop) continue;
            // Granted meanwhile or not: Cancel gives back whatever it holds.
            _locks.Cancel(_set);
            return false;
        }
        if (!_locks.Acquire(_set)) throw new InvalidOperationException("the keyspace gate was granted but not held");
        return true;
    }

    public void Exit()
    {
        if (_set.IsHeld) _locks.Release(_set);
    }
}
