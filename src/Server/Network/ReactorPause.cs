namespace NativeKv.Server.Network;

/// <summary>
/// Runs an action while every reactor is parked at a safe point: at the top of its loop, between
/// turns, outside any store operation. For work FASTER only supports with its sessions suspended:
/// growing the hash index while operations ran lost a key now and then (1 in 5M inserts, at the
/// split; FASTER's maintainers say resizing under live sessions is not tested).
/// </summary>
public static class ReactorPause
{
    /// <summary>False (and the action not run) when a reactor did not park within <paramref name="timeout"/>.</summary>
    public static bool Run(Reactor[] reactors, Action action, TimeSpan timeout)
    {
        var pause = new Pause(reactors.Length);
        foreach (var r in reactors) r.Mailbox.Post(pause);
        bool all = pause.AllParked.Wait(timeout);
        try
        {
            if (all) action();
        }
        finally
        {
            pause.Resume.Set(); // late arrivals find it set and go straight on
        }
        return all;
    }

    private sealed class Pause(int reactors) : IReactorWork
    {
        private int _waiting = reactors;
        public readonly ManualResetEventSlim AllParked = new(false);
        public readonly ManualResetEventSlim Resume = new(false);

        public void Run(Reactor reactor)
        {
            if (Interlocked.Decrement(ref _waiting) == 0) AllParked.Set();
            Resume.Wait();
        }
    }
}
