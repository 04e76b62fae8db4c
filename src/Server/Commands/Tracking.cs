using System.Text;
using NativeKv.Server.Network;
using NativeKv.Server.Network.Tracking;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// Client-side caching (Redis 7.2 tracking.c, and clientCommand's TRACKING, CACHING, GETREDIR, TRACKINGINFO):
/// the CLIENT subcommands, and what a command does for it: a tracking client's read puts its keys in the table,
/// a write tells the clients that read what it changed (Network/Tracking delivers).
/// </summary>
internal static class Tracking
{
    private const CommandFlags Common = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    private static readonly int EvalRoIndex = CommandTable.Lookup("eval_ro"u8);
    private static readonly int EvalShaRoIndex = CommandTable.Lookup("evalsha_ro"u8);
    private static readonly int FcallRoIndex = CommandTable.Lookup("fcall_ro"u8);

    // ------------------------------------------------------------ around a command

    /// <summary>The executor, before the handler of a tracking client's command (each run: remembering is idempotent).</summary>
    public static void BeforeCommand(Client client, ClientTracking t, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        t.CommandIsClient = spec.Name.StartsWith("client|", StringComparison.Ordinal);
        // call(): read-only scripts are left out; the commands they run remember their own keys.
        int i = spec.Index;
        if (i == EvalRoIndex || i == EvalShaRoIndex || i == FcallRoIndex) return;
        RememberKeys(client, t, spec, input, args);
    }

    /// <summary>
    /// trackingRememberKeys, for a read-only command of a tracking client that is not in BCAST mode (and, with
    /// OPTIN / OPTOUT, only as CLIENT CACHING said). EXEC and scripts call it for each command they run.
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static void RememberKeys(Client client, ClientTracking t, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        if ((spec.Flags & CommandFlags.ReadOnly) == 0 || (spec.Flags & CommandFlags.PubSub) != 0 || !t.RemembersKeys) return;
        var table = client.Server.Tracking;
        bool added = false;
        var reactor = client.Reactor.Tracking;
        foreach (int k in CommandTable.AllKeyIndexes(spec, input, args, stackalloc int[64]))
        {
            var key = input.Slice(args[k].Offset, args[k].Length);
            table.Remember(key, client.Id);
            reactor.ReadAfterFlush(key, client.Id);
            added = true;
        }
        long max = client.Server.Config.TrackingTableMaxKeys;
        if (added && max > 0 && table.TotalKeys > max) client.Reactor.Tracking.EvictLater();
    }

    /// <summary>resetClient: CLIENT CACHING lasts for the next command (or the next transaction) only.</summary>
    public static void AfterCommand(Client client, ClientTracking t)
    {
        bool keep = t.CommandIsClient || client.MultiOrNull is { Active: true };
        t.CommandIsClient = false;
        if (!keep) t.Caching = false;
    }

    /// <summary>signalModifiedKey's trackingInvalidateKey for every key a write names, told when the command ends.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static void Changed(Client client, CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        var reactor = client.Reactor.Tracking;
        foreach (int k in CommandTable.AllKeyIndexes(spec, input, args, stackalloc int[64]))
            reactor.Stage(input.Slice(args[k].Offset, args[k].Length));
    }

    // ------------------------------------------------------------ CLIENT subcommands

    [RespCommand("CLIENT|TRACKING", Arity = -3, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Enable or disable server assisted client side caching support", Since = "6.0.0",
        Complexity = "O(1). Some options may introduce additional complexity.")]
    public static void ClientTracking(ref CommandContext ctx)
    {
        var c = ctx.Client;
        long redirect = 0;
        bool bcast = false, optIn = false, optOut = false, noLoop = false;
        var prefixes = new List<byte[]>();
        for (int j = 3; j < ctx.Count; j++)
        {
            bool more = ctx.Count - 1 - j > 0;
            var arg = ctx[j];
            if (Ascii.EqualsIgnoreCase(arg, "redirect"u8) && more)
            {
                j++;
                if (redirect != 0)
                {
                    ctx.Reply.Error("ERR A client can only redirect to a single other client");
                    return;
                }
                if (!ctx.TryGetLong(j, out redirect))
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                // Checked now, though the client may go later (then the invalidations say so).
                if (!ctx.Server.Clients.TryGet(redirect, out _))
                {
                    ctx.Reply.Error("ERR The client ID you want redirect to does not exist");
                    return;
                }
            }
            else if (Ascii.EqualsIgnoreCase(arg, "bcast"u8)) bcast = true;
            else if (Ascii.EqualsIgnoreCase(arg, "optin"u8)) optIn = true;
            else if (Ascii.EqualsIgnoreCase(arg, "optout"u8)) optOut = true;
            else if (Ascii.EqualsIgnoreCase(arg, "noloop"u8)) noLoop = true;
            else if (Ascii.EqualsIgnoreCase(arg, "prefix"u8) && more)
            {
                j++;
                prefixes.Add(ctx[j].ToArray());
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }

        var mode = ctx[2];
        var t = c.TrackingOrNull;
        if (Ascii.EqualsIgnoreCase(mode, "on"u8))
        {
            if (!bcast && prefixes.Count > 0)
            {
                ctx.Reply.Error("ERR PREFIX option requires BCAST mode to be enabled");
                return;
            }
            if (t is { On: true } && t.Bcast != bcast)
            {
                ctx.Reply.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
                return;
            }
            if (bcast && (optIn || optOut))
            {
                ctx.Reply.Error("ERR OPTIN and OPTOUT are not compatible with BCAST");
                return;
            }
            if (optIn && optOut)
            {
                ctx.Reply.Error("ERR You can't specify both OPTIN mode and OPTOUT mode");
                return;
            }
            if (t is { On: true } && ((optIn && t.OptOut) || (optOut && t.OptIn)))
            {
                ctx.Reply.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
                return;
            }
            if (bcast && !CheckPrefixCollisions(ref ctx, t, prefixes)) return;
            Enable(c, redirect, bcast, optIn, optOut, noLoop, prefixes);
        }
        else if (Ascii.EqualsIgnoreCase(mode, "off"u8))
        {
            if (t is { On: true }) ctx.Server.Tracking.Disable(c, t);
        }
        else
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        ctx.Reply.Ok();
    }

    /// <summary>enableTracking: the mode flags are set anew (CACHING stays), and BCAST joins its prefixes.</summary>
    private static void Enable(Client c, long redirect, bool bcast, bool optIn, bool optOut, bool noLoop, List<byte[]> prefixes)
    {
        var t = c.Tracking;
        t.On = true;
        t.BrokenRedirect = false;
        t.Redirect = redirect;
        t.Bcast = bcast;
        t.OptIn = optIn;
        t.OptOut = optOut;
        t.NoLoop = noLoop;
        c.Server.Tracking.Enable(c, t, prefixes);
    }

    /// <summary>
    /// checkPrefixCollisionsOrReply: no two prefixes of one client may cover the same key. As in Redis 7.2, an
    /// overlap between two new prefixes past the first answers the error and then goes on (its `return i`).
    /// </summary>
    private static bool CheckPrefixCollisions(ref CommandContext ctx, ClientTracking? t, List<byte[]> prefixes)
    {
        for (int i = 0; i < prefixes.Count; i++)
        {
            if (t is not null)
            {
                foreach (var existing in t.Prefixes)
                {
                    if (!Overlap(existing, prefixes[i])) continue;
                    OverlapError(ref ctx, "Prefix '"u8, prefixes[i], "' overlaps with an existing prefix '"u8, existing);
                    return false;
                }
            }
            for (int j = i + 1; j < prefixes.Count; j++)
            {
                if (!Overlap(prefixes[i], prefixes[j])) continue;
                OverlapError(ref ctx, "Prefix '"u8, prefixes[i], "' overlaps with another provided prefix '"u8, prefixes[j]);
                return i != 0;
            }
        }
        return true;
    }

    private static bool Overlap(byte[] a, byte[] b)
    {
        int n = Math.Min(a.Length, b.Length);
        return a.AsSpan(0, n).SequenceEqual(b.AsSpan(0, n));
    }

    private static void OverlapError(ref CommandContext ctx, ReadOnlySpan<byte> start, byte[] first, ReadOnlySpan<byte> middle, byte[] second)
    {
        var text = new ErrorText.Builder(128 + first.Length + second.Length);
        text.Append("ERR "u8);
        text.Append(start);
        text.Append(ErrorText.CString(first, int.MaxValue));
        text.Append(middle);
        text.Append(ErrorText.CString(second, int.MaxValue));
        text.Append("'. Prefixes for a single client must not overlap."u8);
        text.Reply(ctx.Reply, trimEnd: true);
    }

    [RespCommand("CLIENT|CACHING", Arity = 3, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Instruct the server about tracking or not keys in the next request", Since = "6.0.0", Complexity = "O(1)")]
    public static void ClientCaching(ref CommandContext ctx)
    {
        var t = ctx.Client.TrackingOrNull;
        if (t is not { On: true })
        {
            ctx.Reply.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled");
            return;
        }
        var opt = ctx[2];
        if (Ascii.EqualsIgnoreCase(opt, "yes"u8))
        {
            if (!t.OptIn)
            {
                ctx.Reply.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
                return;
            }
        }
        else if (Ascii.EqualsIgnoreCase(opt, "no"u8))
        {
            if (!t.OptOut)
            {
                ctx.Reply.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
                return;
            }
        }
        else
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        t.Caching = true;
        ctx.Reply.Ok();
    }

    [RespCommand("CLIENT|GETREDIR", Arity = 2, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Get tracking notifications redirection client ID if any", Since = "6.0.0", Complexity = "O(1)")]
    public static void ClientGetRedir(ref CommandContext ctx)
        => ctx.Reply.Integer(ctx.Client.TrackingOrNull is { On: true } t ? t.Redirect : -1);

    [RespCommand("CLIENT|TRACKINGINFO", Arity = 2, Flags = Common, Group = CommandGroup.Connection,
        Summary = "Return information about server assisted client side caching for the current connection", Since = "6.2.0", Complexity = "O(1)")]
    public static void ClientTrackingInfo(ref CommandContext ctx)
    {
        var r = ctx.Reply;
        var t = ctx.Client.TrackingOrNull;
        bool on = t is { On: true };
        r.MapHeader(3);
        r.Bulk("flags"u8);
        var flags = new List<string> { on ? "on" : "off" };
        if (t is not null)
        {
            if (t.Bcast) flags.Add("bcast");
            if (t.OptIn)
            {
                flags.Add("optin");
                if (t.Caching) flags.Add("caching-yes");
            }
            if (t.OptOut)
            {
                flags.Add("optout");
                if (t.Caching) flags.Add("caching-no");
            }
            if (t.NoLoop) flags.Add("noloop");
            if (t.BrokenRedirect) flags.Add("broken_redirect");
        }
        r.SetHeader(flags.Count);
        foreach (var f in flags) r.Bulk(f);
        r.Bulk("redirect"u8);
        r.Integer(on ? t!.Redirect : -1);
        r.Bulk("prefixes"u8);
        if (t is null || t.Prefixes.Count == 0)
        {
            r.ArrayHeader(0);
            return;
        }
        r.ArrayHeader(t.Prefixes.Count);
        foreach (var p in t.Prefixes) r.Bulk(p);
    }
}
