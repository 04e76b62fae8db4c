using System.Text;
using NativeKv.Server.Network;

[assembly: NativeKv.Server.Commands.RespContainer("CLIENT", Group = NativeKv.Server.Commands.CommandGroup.Connection,
    Summary = "A container for client connection commands.", Since = "2.4.0")]

namespace NativeKv.Server.Commands;

/// <summary>CLIENT subcommands (Redis 7.2 networking.c clientCommand).</summary>
internal static class ClientCommands
{
    private const CommandFlags Common = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    /// <summary>Redis allows only printable ASCII without spaces in client names.</summary>
    public static bool ValidName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b < '!' || b > '~') return false;
        }
        return true;
    }

    [RespCommand("CLIENT|ID", Arity = 2, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Returns the unique client ID of the connection.", Since = "5.0.0", Complexity = "O(1)")]
    public static void Id(ref CommandContext ctx) => ctx.Reply.Integer(ctx.Client.Id);

    [RespCommand("CLIENT|SETNAME", Arity = 3, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Sets the connection name.", Since = "2.6.9", Complexity = "O(1)")]
    public static void SetName(ref CommandContext ctx)
    {
        if (!ValidName(ctx[2]))
        {
            ctx.Reply.Error("ERR Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        ctx.Client.Name = ctx.ArgString(2);
        ctx.Reply.Ok();
    }

    [RespCommand("CLIENT|GETNAME", Arity = 2, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Returns the name of the connection.", Since = "2.6.9", Complexity = "O(1)")]
    public static void GetName(ref CommandContext ctx)
    {
        var name = ctx.Client.Name;
        if (name.Length == 0) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(name);
    }

    [RespCommand("CLIENT|SETINFO", Arity = 4, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Sets information specific to the client or connection.", Since = "7.2.0", Complexity = "O(1)")]
    public static void SetInfo(ref CommandContext ctx)
    {
        bool libName = ctx.ArgIs(2, "LIB-NAME"u8);
        if (!libName && !ctx.ArgIs(2, "LIB-VER"u8))
        {
            ErrorText.Quote(ctx.Reply, "ERR Unrecognized option '"u8, ctx[2], "'"u8);
            return;
        }
        if (!ValidName(ctx[3]))
        {
            ErrorText.Quote(ctx.Reply, "ERR "u8, ctx[2], " cannot contain spaces, newlines or special characters."u8);
            return;
        }
        if (libName) ctx.Client.LibName = ctx.ArgString(3);
        else ctx.Client.LibVersion = ctx.ArgString(3);
        ctx.Reply.Ok();
    }

    [RespCommand("CLIENT|INFO", Arity = 2, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Returns information about the connection.", Since = "6.2.0", Complexity = "O(1)")]
    public static void Info(ref CommandContext ctx)
    {
        var sb = new StringBuilder(384);
        AppendInfo(sb, ctx.Client, ref ctx);
        sb.Append('\n');
        ctx.Reply.Verbatim(sb.ToString());
    }

    [RespCommand("CLIENT|LIST", Arity = -2, Flags = CommandFlags.Admin | Common, Group = CommandGroup.Connection,
        Summary = "Lists open connections.", Since = "2.4.0", Complexity = "O(N) where N is the number of client connections")]
    public static void List(ref CommandContext ctx)
    {
        var sb = new StringBuilder(512);
        if (ctx.Count == 4 && ctx.ArgIs(2, "TYPE"u8))
        {
            var type = ParseType(ctx[3]);
            if (type is null)
            {
                ErrorText.Quote(ctx.Reply, "ERR Unknown client type '"u8, ctx[3], "'"u8);
                return;
            }
            if (type is ClientType.Normal or ClientType.PubSub)
            {
                // getClientType: a client with CLIENT_PUBSUB is pubsub, the others normal.
                bool pubsub = type == ClientType.PubSub;
                foreach (var c in ctx.Server.Clients.Snapshot())
                {
                    if (c.InPubSub == pubsub) AppendLine(sb, c, ref ctx);
                }
            }
        }
        else if (ctx.Count > 3 && ctx.ArgIs(2, "ID"u8))
        {
            for (int i = 3; i < ctx.Count; i++)
            {
                if (!ctx.TryGetLong(i, out long id))
                {
                    ctx.Reply.Error("ERR Invalid client ID");
                    return;
                }
                if (ctx.Server.Clients.TryGet(id, out var c) && !c.Closed) AppendLine(sb, c, ref ctx);
            }
        }
        else if (ctx.Count != 2)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        else
        {
            foreach (var c in ctx.Server.Clients.Snapshot()) AppendLine(sb, c, ref ctx);
        }
        ctx.Reply.Verbatim(sb.ToString());
    }

    [RespCommand("CLIENT|KILL", Arity = -3, Flags = CommandFlags.Admin | Common, Group = CommandGroup.Connection,
        Summary = "Terminates open connections.", Since = "2.4.0", Complexity = "O(N) where N is the number of client connections")]
    public static void Kill(ref CommandContext ctx)
    {
        string? addr = null, laddr = null, user = null;
        bool typeGiven = false;
        ClientType? killType = null;
        long id = 0, maxAge = 0;
        bool skipMe = true;

        if (ctx.Count == 3)
        {
            addr = ctx.ArgString(2);
            skipMe = false; // the old form may kill the caller itself
        }
        else
        {
            for (int i = 2; i < ctx.Count; i += 2)
            {
                bool more = i + 1 < ctx.Count;
                if (!more)
                {
                    ctx.Reply.Error("ERR syntax error");
                    return;
                }
                if (ctx.ArgIs(i, "ID"u8))
                {
                    if (!ctx.TryGetLong(i + 1, out id) || id < 1)
                    {
                        ctx.Reply.Error("ERR client-id should be greater than 0");
                        return;
                    }
                }
                else if (ctx.ArgIs(i, "TYPE"u8))
                {
                    var type = ParseType(ctx[i + 1]);
                    if (type is null)
                    {
                        ErrorText.Quote(ctx.Reply, "ERR Unknown client type '"u8, ctx[i + 1], "'"u8);
                        return;
                    }
                    typeGiven = true;
                    killType = type;
                }
                else if (ctx.ArgIs(i, "ADDR"u8))
                {
                    addr = ctx.ArgString(i + 1);
                }
                else if (ctx.ArgIs(i, "LADDR"u8))
                {
                    laddr = ctx.ArgString(i + 1);
                }
                else if (ctx.ArgIs(i, "USER"u8))
                {
                    user = ctx.ArgString(i + 1);
                    if (!ctx[i + 1].SequenceEqual("default"u8))
                    {
                        ErrorText.Quote(ctx.Reply, "ERR No such user '"u8, ctx[i + 1], "'"u8);
                        return;
                    }
                }
                else if (ctx.ArgIs(i, "SKIPME"u8))
                {
                    if (ctx.ArgIs(i + 1, "YES"u8)) skipMe = true;
                    else if (ctx.ArgIs(i + 1, "NO"u8)) skipMe = false;
                    else
                    {
                        ctx.Reply.Error("ERR syntax error");
                        return;
                    }
                }
                else if (ctx.ArgIs(i, "MAXAGE"u8))
                {
                    if (!ctx.TryGetLong(i + 1, out maxAge))
                    {
                        ctx.Reply.Error("ERR maxage is not an integer or out of range");
                        return;
                    }
                    if (maxAge <= 0)
                    {
                        ctx.Reply.Error("ERR maxage should be greater than 0");
                        return;
                    }
                }
                else
                {
                    ctx.Reply.Error("ERR syntax error");
                    return;
                }
            }
        }

        var caller = ctx.Client;
        long killed = 0;
        bool killSelf = false;
        foreach (var c in ctx.Server.Clients.Snapshot())
        {
            if (c.Closed || c.KillRequested) continue;
            if (addr is not null && c.Address != addr) continue;
            if (laddr is not null && c.LocalAddress != laddr) continue;
            if (typeGiven && !(killType is ClientType.PubSub ? c.InPubSub : killType == ClientType.Normal && !c.InPubSub)) continue;
            if (id != 0 && c.Id != id) continue;
            if (user is not null && c.User != user) continue;
            if (maxAge != 0 && c.AgeSeconds < maxAge) continue;
            if (c == caller && skipMe) continue;
            if (c == caller) killSelf = true;
            else ClientRegistry.Kill(c, caller);
            killed++;
        }

        if (ctx.Count == 3)
        {
            if (killed == 0) ctx.Reply.Error("ERR No such client");
            else ctx.Reply.Ok();
        }
        else
        {
            ctx.Reply.Integer(killed);
        }
        // Flag ourselves only after the reply is queued, as Redis does.
        if (killSelf) ClientRegistry.Kill(caller, caller);
    }

    [RespCommand("CLIENT|UNBLOCK", Arity = -3, Flags = CommandFlags.Admin | Common, Group = CommandGroup.Connection,
        Summary = "Unblocks a client blocked by a blocking command from a different connection.", Since = "5.0.0",
        Complexity = "O(log N) where N is the number of client connections")]
    public static void Unblock(ref CommandContext ctx)
    {
        // clientCommand "unblock": 3 or 4 arguments, the reason before the id.
        if (ctx.Count > 4)
        {
            var text = new ErrorText.Builder(200);
            text.Append("ERR unknown subcommand or wrong number of arguments for '"u8);
            text.Append(ErrorText.CString(ctx[1], 128));
            text.Append("'. Try CLIENT HELP."u8);
            text.Reply(ctx.Reply, trimEnd: true);
            return;
        }
        var mode = Network.Blocking.UnblockMode.Timeout;
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "ERROR"u8)) mode = Network.Blocking.UnblockMode.Error;
            else if (!ctx.ArgIs(3, "TIMEOUT"u8))
            {
                ctx.Reply.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
                return;
            }
        }
        if (!ctx.TryGetLong(2, out long id))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        // The target replies on its own reactor (its timeout's null array, or the UNBLOCKED error).
        bool unblocked = ctx.Server.Clients.TryGet(id, out var target) && !target.Closed && target.BlockOrNull is { } block
            && ctx.Server.Blocking.RequestUnblock(block, mode);
        ctx.Reply.Integer(unblocked ? 1 : 0);
    }

    [RespCommand("CLIENT|NO-EVICT", Arity = 3, Flags = CommandFlags.Admin | Common, Group = CommandGroup.Connection,
        Summary = "Sets the client eviction mode of the connection.", Since = "7.0.0", Complexity = "O(1)")]
    public static void NoEvict(ref CommandContext ctx)
    {
        if (!TryOnOff(ref ctx, out bool on)) return;
        ctx.Client.NoEvict = on;
        ctx.Reply.Ok();
    }

    [RespCommand("CLIENT|NO-TOUCH", Arity = 3, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Since = "7.2.0", Complexity = "O(1)")]
    public static void NoTouch(ref CommandContext ctx)
    {
        if (!TryOnOff(ref ctx, out bool on)) return;
        ctx.Client.NoTouch = on;
        ctx.Reply.Ok();
    }

    /// <summary>Argument 2 as ON/OFF; anything else gets Redis's syntax error.</summary>
    private static bool TryOnOff(ref CommandContext ctx, out bool on)
    {
        on = ctx.ArgIs(2, "ON"u8);
        if (on || ctx.ArgIs(2, "OFF"u8)) return true;
        ctx.Reply.Error("ERR syntax error");
        return false;
    }

    [RespCommand("CLIENT|REPLY", Arity = 3, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Instructs the server whether to reply to commands.", Since = "3.2.0", Complexity = "O(1)")]
    public static void Reply(ref CommandContext ctx)
    {
        var client = ctx.Client;
        if (ctx.ArgIs(2, "ON"u8))
        {
            client.ReplyMode = ReplyMode.On;
            ctx.Reply.Enabled = true; // the +OK is sent even when this command was silenced
            ctx.Reply.Ok();
        }
        else if (ctx.ArgIs(2, "OFF"u8))
        {
            client.ReplyMode = ReplyMode.Off;
        }
        else if (ctx.ArgIs(2, "SKIP"u8))
        {
            // The executor runs a silenced command in Off mode; SKIP then changes nothing, as in Redis.
            if (client.ReplyMode != ReplyMode.Off) client.ReplyMode = ReplyMode.Skip;
        }
        else
        {
            ctx.Reply.Error("ERR syntax error");
        }
    }

    [RespCommand("CLIENT|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Connection,
        Summary = "Returns helpful text about the different subcommands.", Since = "5.0.0", Complexity = "O(1)")]
    public static void Help(ref CommandContext ctx) => WriteHelp(ref ctx, HelpLines);

    private static readonly string[] HelpLines =
    [
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "SETINFO <option> <value>",
        "    Set client meta attr. Options are:",
        "    * LIB-NAME: the client lib name.",
        "    * LIB-VER: the client lib version.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        "NO-TOUCH (ON|OFF)",
        "    Will not touch LRU/LFU stats when this mode is on.",
    ];

    private enum ClientType { Normal, Master, Replica, PubSub }

    /// <summary>Redis's getClientTypeByName: normal, slave/replica, pubsub, master.</summary>
    private static ClientType? ParseType(ReadOnlySpan<byte> name)
    {
        if (Ascii.EqualsIgnoreCase(name, "normal"u8)) return ClientType.Normal;
        if (Ascii.EqualsIgnoreCase(name, "slave"u8) || Ascii.EqualsIgnoreCase(name, "replica"u8)) return ClientType.Replica;
        if (Ascii.EqualsIgnoreCase(name, "pubsub"u8)) return ClientType.PubSub;
        if (Ascii.EqualsIgnoreCase(name, "master"u8)) return ClientType.Master;
        return null;
    }

    private static void AppendLine(StringBuilder sb, Client c, ref CommandContext ctx)
    {
        AppendInfo(sb, c, ref ctx);
        sb.Append('\n');
    }

    private static void AppendInfo(StringBuilder sb, Client c, ref CommandContext ctx)
    {
        bool self = c == ctx.Client;
        long argvMem = 0;
        if (self)
        {
            for (int i = 0; i < ctx.Count; i++) argvMem += ctx[i].Length;
        }
        AppendInfo(sb, c, self, c.OutputLength, argvMem, self ? ctx.Spec.Name : c.LastCommand);
    }

    /// <summary>
    /// A client's CLIENT LIST line as seen from outside a command (Redis's catClientInfoString in
    /// log lines), with <paramref name="pending"/> bytes of output (the output limits pass the
    /// length the reply that passed them would make).
    /// </summary>
    internal static string InfoLine(Client c, long pending)
    {
        var sb = new StringBuilder(512);
        AppendInfo(sb, c, self: false, pending, argvMem: 0, c.LastCommand);
        return sb.ToString();
    }

    /// <summary>
    /// One CLIENT LIST line in Redis 7.2's field order (catClientInfoString). The output is one
    /// buffer: its first 16 KB stand for Redis's fixed reply buffer (rbs, rbp, obl) and the rest
    /// for the reply list (omem, and oll in 16 KB blocks, the size of Redis's list nodes).
    /// </summary>
    private static void AppendInfo(StringBuilder sb, Client c, bool self, long pending, long argvMem, string cmd)
    {
        const int fixedBuffer = OutputLimits.StaticBytes;
        pending = Math.Max(0, pending);
        long qbuf = c.QueryBufferLength;
        long qbufFree = Math.Max(0, c.QueryBufferCapacity - qbuf);
        long rbs = Math.Min(c.Output.Capacity, fixedBuffer);
        long obl = Math.Min(pending, fixedBuffer);
        long omem = pending - obl;
        long oll = (omem + fixedBuffer - 1) / fixedBuffer;
        long rbp = Math.Min(fixedBuffer, Math.Max(obl, self ? c.Output.Length : 0));
        long totMem = OutputLimits.Memory(c) + argvMem;

        sb.Append("id=").Append(c.Id)
          .Append(" addr=").Append(c.Address)
          .Append(" laddr=").Append(c.LocalAddress)
          .Append(" fd=").Append(c.Fd)
          .Append(" name=").Append(c.Name)
          .Append(" age=").Append(c.AgeSeconds)
          .Append(" idle=").Append(self ? 0 : c.IdleSeconds)
          .Append(" flags=");
        int flagsStart = sb.Length;
        var multi = c.MultiOrNull;
        if (c.Monitoring) sb.Append('O');
        if (c.InPubSub) sb.Append('P');
        if (multi is { Active: true }) sb.Append('x');
        if (c.BlockOrNull is { IsBlocked: true } || c.Postponed) sb.Append('b');
        var tracking = c.TrackingOrNull;
        if (tracking is { On: true })
        {
            sb.Append('t');
            if (tracking.BrokenRedirect) sb.Append('R');
            if (tracking.Bcast) sb.Append('B');
        }
        if (multi is { Dirty: true }) sb.Append('d');
        if (c.CloseAfterReply) sb.Append('c');
        if (c.KillRequested) sb.Append('A');
        if (c.NoEvict) sb.Append('e');
        if (c.NoTouch) sb.Append('T');
        if (sb.Length == flagsStart) sb.Append('N');
        sb.Append(" db=").Append(c.Database)
          .Append(" sub=").Append(c.SubscriptionsOrNull?.Channels ?? 0)
          .Append(" psub=").Append(c.SubscriptionsOrNull?.Patterns ?? 0)
          .Append(" ssub=").Append(c.SubscriptionsOrNull?.Shard ?? 0)
          .Append(" multi=").Append(multi is { Active: true } ? multi.Count : -1)
          .Append(" qbuf=").Append(qbuf)
          .Append(" qbuf-free=").Append(qbufFree)
          .Append(" argv-mem=").Append(argvMem)
          .Append(" multi-mem=0")
          .Append(" rbs=").Append(rbs)
          .Append(" rbp=").Append(rbp)
          .Append(" obl=").Append(obl)
          .Append(" oll=").Append(oll)
          .Append(" omem=").Append(omem)
          .Append(" tot-mem=").Append(totMem)
          .Append(" events=").Append(!self && pending > 0 ? "rw" : "r")
          .Append(" cmd=").Append(cmd)
          .Append(" user=").Append(c.User)
          .Append(" redir=").Append(tracking is { On: true } ? tracking.Redirect : -1)
          .Append(" resp=").Append(c.Output.Protocol)
          .Append(" lib-name=").Append(c.LibName)
          .Append(" lib-ver=").Append(c.LibVersion);
    }

    /// <summary>Redis's addReplyHelp: a header, the lines, and the HELP footer, as status replies.</summary>
    internal static void WriteHelp(ref CommandContext ctx, string[] lines)
    {
        var r = ctx.Reply;
        r.ArrayHeader(lines.Length + 3);
        var cmd = ctx.ArgString(0).ToUpperInvariant();
        r.SimpleString($"{cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines) r.SimpleString(line);
        r.SimpleString("HELP"u8);
        r.SimpleString("    Print this help."u8);
    }
}
