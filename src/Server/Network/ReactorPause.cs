using NativeKv.Server.Storage;

namespace NativeKv.Server.Network;

/// <summary>
/// Parks every reactor at a safe point: at the top of its loop, between turns, outside any store
/// operation. For work FASTER only supports with its sessions suspended. Index growth parks them only
/// across the table switch (<see cref="Store.GrowIndexIfNeeded"/>).
/// </summary>
public static class ReactorPause
{
    /// <summary>
    /// Parks every reactor and returns once all are parked; null (and none left parked) when one did not
    /// park within <paramref name="timeout"/>. The caller resumes them, from any thread.
    /// </summary>
    public static IParkedSessions? Park(Reactor[] reactors, TimeSpan timeout)
    {
        var pause = new Pause(reactors.Length);
        foreach (var r in reactors) r.Mailbox.Post(pause);
        if (pause.AllParked.Wait(timeout)) return pause;
        pause.Resume(); // late arrivals find it set and go straight on
        return null;
    }

    private sealed class Pause(int reactors) : IReactorWork, IParkedSessions
    {
        private int _waiting = reactors;
        public readonly ManualResetEventSlim AllParked = new(false);
        private readonly ManualResetEventSlim _resume = new(false);

        public void Run(Reactor reactor)
        {
            if (Interlocked.Decrement(ref _waiting) == 0) AllParked.Set();
            _resume.Wait();
        }

        public void Resume() => _resume.Set();
    }
}
