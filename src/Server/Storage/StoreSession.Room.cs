namespace NativeKv.Server.Storage;

/// <summary>
/// A command whose writes would wait for a page flush (<see cref="Store.LogHasRoom"/>) waits for it the
/// way it waits for a disk read: nothing of it is written, it stops, the reactor serves its other clients,
/// and it runs again once a flush has made room (the device's write completion wakes the reactor, else
/// its 1 ms poll while anything is outstanding). Pending disk reads are completed only with room too:
/// FASTER copies each to the tail (ReadCopyTo.MainLog), the same wait inside CompletePending.
/// Outside a command (recovery, maintenance, benchmarks) FASTER waits as before.
/// </summary>
public sealed partial class StoreSession
{
    private readonly List<PendingState> _roomWaits = new();

    /// <summary>
    /// True when the running command may write now. False: the tail has no room, the attempt is pending
    /// (its writes are skipped: <see cref="Issue"/> answers them Pending) and the command runs again with room.
    /// A command writes its pages before its meta (PagedAccess.Commit), so this is asked before the first of them.
    /// </summary>
    public bool RoomToWrite()
    {
        if (_command is not { } state || _attemptPending || _store.LogHasRoom()) return true;
        _roomWaits.Add(state);
        state.Outstanding++;
        Outstanding++;
        _attemptPending = true;
        Stats.LogRoomWaits++;
        return false;
    }

    /// <summary>Room again: the waiting commands stop counting as outstanding and run again.</summary>
    private void ReleaseRoomWaits()
    {
        if (!_store.LogHasRoom()) return;
        foreach (var state in _roomWaits)
        {
            // A client that closed meanwhile was abandoned (its count set to 0).
            if (state.Outstanding > 0) state.Outstanding--;
            Outstanding--;
        }
        _roomWaits.Clear();
    }

    /// <summary>FASTER's completions may copy a record to the tail: only with room, or when the caller waits anyway.</summary>
    private bool CompletionsMayRun(bool wait)
    {
        if (_roomWaits.Count > 0) ReleaseRoomWaits();
        return Outstanding > _roomWaits.Count && (wait || _store.LogHasRoom());
    }
}
