using System.Collections.Concurrent;

namespace NativeKv.Server.Network;

/// <summary>All live clients, for CLIENT LIST/KILL/INFO and maxclients. Touched on connect/close only.</summary>
public sealed class ClientRegistry
{
    private readonly ConcurrentDictionary<long, Client> _clients = new();
    private long _lastId;

    public long NextId() => Interlocked.Increment(ref _lastId);

    public int Count => _clients.Count;

    public void Register(Client client) => _clients[client.Id] = client;

    public void Unregister(Client client) => _clients.TryRemove(client.Id, out _);

    public bool TryGet(long id, out Client client) => _clients.TryGetValue(id, out client!);

    /// <summary>A snapshot ordered by id, as CLIENT LIST prints.</summary>
    public Client[] Snapshot()
    {
        var list = _clients.Values.ToArray();
        Array.Sort(list, static (a, b) => a.Id.CompareTo(b.Id));
        return list;
    }

    /// <summary>
    /// Closes <paramref name="target"/> on its own reactor. A client that kills itself gets its
    /// reply first; one on the caller's reactor closes at once; others are closed via the mailbox.
    /// </summary>
    public static void Kill(Client target, Client caller)
    {
        if (target == caller)
        {
            // Closes once its reply is out. Not KillRequested: the reactor's cron closes such a client at once,
            // and with io_uring the reply was still waiting for the turn's submission (CI lost it once).
            target.CloseAfterReply = true;
            return;
        }
        target.KillRequested = true;
        if (target.Reactor is { } r)
        {
            if (r.IsCurrentThread) target.Close();
            else r.Mailbox.Post(new KillClient(target));
        }
    }
}
