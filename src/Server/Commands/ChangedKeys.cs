using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// What a write inside a larger unit (a command queued in EXEC, a script's redis.call) tells the others about the
/// keys it changed, as the executor does for a command of its own: their WATCHers fail their EXEC, and their
/// blocked clients are signalled, to be served on their reactors once the unit has released its locks, and the
/// clients that cached them are told when the unit ends.
/// </summary>
internal static class ChangedKeys
{
    public static void Tell(Network.Client client, CommandSpec spec, int db, ReadOnlySpan<byte> bytes, ReadOnlySpan<ArgRange> args)
    {
        var server = client.Server;
        // Its tracking clients are told when the whole unit has finished (staged until then).
        if (server.Tracking.Active) Tracking.Changed(client, spec, bytes, args);
        if (!server.Watches.Any && !server.Blocking.AnyBlocked) return;
        int other = CommandTable.OtherDatabaseOf(spec, bytes, args, db);
        foreach (int k in CommandTable.AllKeyIndexes(spec, bytes, args, stackalloc int[64]))
        {
            var key = bytes.Slice(args[k].Offset, args[k].Length);
            server.Watches.Touch(db, key);
            server.Blocking.Signal(db, key);
            if (other < 0) continue;
            server.Watches.Touch(other, key);
            server.Blocking.Signal(other, key);
        }
    }
}
