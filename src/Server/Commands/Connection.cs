using System.Text;
using NativeKv.Server.Network;

namespace NativeKv.Server.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT.</summary>
internal static class ConnectionCommands
{
    [RespCommand("PING", Arity = -1, Flags = CommandFlags.Fast, Group = CommandGroup.Connection,
        Summary = "Returns the server's liveliness response.", Complexity = "O(1)")]
    public static void Ping(ref CommandContext ctx)
    {
        if (ctx.Count > 2)
        {
            ctx.Reply.Error("ERR wrong number of arguments for 'ping' command");
            return;
        }
        if (ctx.Client.InPubSub && ctx.Reply.Protocol == 2)
        {
            // pingCommand in RESP2 pub/sub mode: ["pong", message or ""].
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk("pong"u8);
            ctx.Reply.Bulk(ctx.Count == 1 ? ""u8 : ctx[1]);
            return;
        }
        if (ctx.Count == 1) ctx.Reply.Pong();
        else ctx.Reply.Bulk(ctx[1]);
    }

    [RespCommand("ECHO", Arity = 2, Flags = CommandFlags.Fast, Group = CommandGroup.Connection,
        Summary = "Returns the given string.", Complexity = "O(1)")]
    public static void Echo(ref CommandContext ctx) => ctx.Reply.Bulk(ctx[1]);

    [RespCommand("QUIT", Arity = -1, Flags = CommandFlags.NoAuth | CommandFlags.Fast | CommandFlags.AllowBusy | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoScript,
        Group = CommandGroup.Connection, Summary = "Closes the connection.", Complexity = "O(1)", Since = "1.0.0")]
    public static void Quit(ref CommandContext ctx)
    {
        ctx.Reply.Ok();
        ctx.Client.CloseAfterReply = true;
    }

    [RespCommand("RESET", Arity = 1, Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoAuth | CommandFlags.Fast | CommandFlags.AllowBusy,
        Group = CommandGroup.Connection, Summary = "Resets the connection.", Complexity = "O(1)", Since = "6.2.0")]
    public static void Reset(ref CommandContext ctx)
    {
        var c = ctx.Client;
        // resetCommand -> clearClientConnectionState: discardTransaction, unwatchAllKeys.
        if (c.MultiOrNull is { } multi) Transactions.TransactionCommands.Forget(ctx.Server, multi);
        // pubsubUnsubscribeAllChannels / ShardAllChannels / AllPatterns without notifications.
        c.Reactor.PubSub.LeaveAll(c);
        if (c.TrackingOrNull is { On: true } tracking) ctx.Server.Tracking.Disable(c, tracking);
        if (c.Monitoring)
        {
            // clearClientConnectionState: a monitor becomes a normal client again.
            ctx.Server.Watch.Monitors.Remove(c);
            c.Monitoring = false;
        }
        c.Database = 0;
        c.Output.Protocol = 2;
        c.Name = "";
        c.ReplyMode = ReplyMode.On;
        c.NoEvict = false;
        c.NoTouch = false;
        c.User = "default";
        c.Authenticated = ctx.Server.Config.RequirePass.Length == 0;
        c.Parser.Unauthenticated = !c.Authenticated;
        ctx.Reply.SimpleString("RESET"u8);
    }

    [RespCommand("SELECT", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast,
        Group = CommandGroup.Connection, Summary = "Changes the selected database.", Complexity = "O(1)")]
    public static void Select(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(1, out long db) || db < int.MinValue || db > int.MaxValue)
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (db < 0 || db >= ctx.Server.Config.Databases)
        {
            ctx.Reply.Error("ERR DB index is out of range");
            return;
        }
        ctx.Client.Database = (int)db;
        ctx.Reply.Ok();
    }

    [RespCommand("AUTH", Arity = -2, Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.AllowBusy,
        Group = CommandGroup.Connection, Summary = "Authenticates the connection.", Complexity = "O(N) where N is the number of passwords defined for the user", Since = "1.0.0")]
    public static void Auth(ref CommandContext ctx)
    {
        if (ctx.Count > 3)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        var pass = ctx.Server.Config.RequirePass;
        if (ctx.Count == 2 && pass.Length == 0)
        {
            ctx.Reply.Error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return;
        }
        var user = ctx.Count == 3 ? ctx[1] : "default"u8;
        var given = ctx[ctx.Count - 1];
        if (!CheckPassword(ctx.Server, user, given))
        {
            ctx.Reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
            return;
        }
        Authenticate(ctx.Client);
        ctx.Reply.Ok();
    }

    /// <summary>The default user: any password when none is required, else requirepass.</summary>
    internal static bool CheckPassword(ServerContext server, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        if (!user.SequenceEqual("default"u8)) return false;
        var pass = server.Config.RequirePass;
        if (pass.Length == 0) return true;
        return System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(password, Encoding.UTF8.GetBytes(pass));
    }

    private static void Authenticate(Client c)
    {
        c.Authenticated = true;
        c.User = "default";
        c.Parser.Unauthenticated = false;
    }

    [RespCommand("HELLO", Arity = -1, Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.AllowBusy,
        Group = CommandGroup.Connection, Summary = "Handshakes with the Redis server.", Complexity = "O(1)", Since = "6.0.0")]
    public static void Hello(ref CommandContext ctx)
    {
        var client = ctx.Client;
        long version = client.Output.Protocol;
        int next = 1;
        if (ctx.Count >= 2)
        {
            if (!ctx.TryGetLong(1, out version))
            {
                ctx.Reply.Error("ERR Protocol version is not an integer or out of range");
                return;
            }
            next = 2;
            if (version < 2 || version > 3)
            {
                ctx.Reply.Error("NOPROTO unsupported protocol version");
                return;
            }
        }

        int authUser = -1, setName = -1;
        for (int i = next; i < ctx.Count; i++)
        {
            int more = ctx.Count - i - 1;
            if (ctx.ArgIs(i, "AUTH"u8) && more >= 2)
            {
                authUser = i + 1;
                i += 2;
            }
            else if (ctx.ArgIs(i, "SETNAME"u8) && more >= 1)
            {
                setName = i + 1;
                i += 1;
            }
            else
            {
                ErrorText.Quote(ctx.Reply, "ERR Syntax error in HELLO option '"u8, ctx[i], "'"u8);
                return;
            }
        }

        if (authUser > 0)
        {
            if (!CheckPassword(ctx.Server, ctx[authUser], ctx[authUser + 1]))
            {
                ctx.Reply.Error("WRONGPASS invalid username-password pair or user is disabled.");
                return;
            }
            Authenticate(client);
        }
        if (!client.Authenticated)
        {
            ctx.Reply.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return;
        }
        if (setName > 0)
        {
            if (!ClientCommands.ValidName(ctx[setName]))
            {
                ctx.Reply.Error("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            client.Name = ctx.ArgString(setName);
        }

        client.Output.Protocol = (int)version;
        var r = ctx.Reply;
        r.MapHeader(7);
        r.Bulk("server"u8); r.Bulk("redis"u8);
        r.Bulk("version"u8); r.Bulk(ServerContext.Version);
        r.Bulk("proto"u8); r.Integer(version);
        r.Bulk("id"u8); r.Integer(client.Id);
        r.Bulk("mode"u8); r.Bulk("standalone"u8);
        r.Bulk("role"u8); r.Bulk("master"u8);
        r.Bulk("modules"u8); r.EmptyArray();
    }
}
