using NativeKv.Server.Network;
using NativeKv.Server.Network.PubSub;

[assembly: NativeKv.Server.Commands.RespContainer("PUBSUB", Group = NativeKv.Server.Commands.CommandGroup.PubSub,
    Summary = "A container for Pub/Sub commands.", Since = "2.8.0")]

namespace NativeKv.Server.Commands;

/// <summary>Pub/sub commands (Redis 7.2 pubsub.c); delivery across reactors is Network/PubSub's.</summary>
internal static class PubSubCommands
{
    private const CommandFlags Sub = CommandFlags.PubSub | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;
    private const CommandFlags Pub = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.MayReplicate;

    [RespCommand("SUBSCRIBE", Arity = -2, Flags = Sub, Group = CommandGroup.PubSub, Since = "2.0.0",
        Summary = "Listens for messages published to channels.", Complexity = "O(N) where N is the number of channels to subscribe to.")]
    public static void Subscribe(ref CommandContext ctx) => SubscribeAll(ref ctx, SubKind.Channel, "subscribe"u8, "SUBSCRIBE"u8);

    [RespCommand("PSUBSCRIBE", Arity = -2, Flags = Sub, Group = CommandGroup.PubSub, Since = "2.0.0",
        Summary = "Listens for messages published to channels that match one or more patterns.", Complexity = "O(N) where N is the number of patterns to subscribe to.")]
    public static void Psubscribe(ref CommandContext ctx) => SubscribeAll(ref ctx, SubKind.Pattern, "psubscribe"u8, "PSUBSCRIBE"u8);

    [RespCommand("SSUBSCRIBE", Arity = -2, Flags = Sub, Group = CommandGroup.PubSub, Since = "7.0.0",
        Summary = "Listens for messages published to shard channels.", Complexity = "O(N) where N is the number of shard channels to subscribe to.")]
    public static void Ssubscribe(ref CommandContext ctx) => SubscribeAll(ref ctx, SubKind.Shard, "ssubscribe"u8, "SSUBSCRIBE"u8);

    [RespCommand("UNSUBSCRIBE", Arity = -1, Flags = Sub, Group = CommandGroup.PubSub, Since = "2.0.0",
        Summary = "Stops listening to messages posted to channels.", Complexity = "O(N) where N is the number of channels to unsubscribe.")]
    public static void Unsubscribe(ref CommandContext ctx) => UnsubscribeAll(ref ctx, SubKind.Channel, "unsubscribe"u8);

    [RespCommand("PUNSUBSCRIBE", Arity = -1, Flags = Sub, Group = CommandGroup.PubSub, Since = "2.0.0",
        Summary = "Stops listening to messages published to channels that match one or more patterns.",
        Complexity = "O(N) where N is the number of patterns to unsubscribe.")]
    public static void Punsubscribe(ref CommandContext ctx) => UnsubscribeAll(ref ctx, SubKind.Pattern, "punsubscribe"u8);

    [RespCommand("SUNSUBSCRIBE", Arity = -1, Flags = Sub, Group = CommandGroup.PubSub, Since = "7.0.0",
        Summary = "Stops listening to messages posted to shard channels.", Complexity = "O(N) where N is the number of shard channels to unsubscribe.")]
    public static void Sunsubscribe(ref CommandContext ctx) => UnsubscribeAll(ref ctx, SubKind.Shard, "sunsubscribe"u8);

    [RespCommand("PUBLISH", Arity = 3, Flags = Pub, Group = CommandGroup.PubSub, Since = "2.0.0",
        Summary = "Posts a message to a channel.",
        Complexity = "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).")]
    public static void Publish(ref CommandContext ctx) =>
        ctx.Reply.Integer(ctx.Client.Reactor.PubSub.Publish(SubKind.Channel, ctx[1], ctx[2]));

    [RespCommand("SPUBLISH", Arity = 3, Flags = Pub, Group = CommandGroup.PubSub, Since = "7.0.0",
        Summary = "Post a message to a shard channel", Complexity = "O(N) where N is the number of clients subscribed to the receiving shard channel.")]
    public static void Spublish(ref CommandContext ctx) =>
        ctx.Reply.Integer(ctx.Client.Reactor.PubSub.Publish(SubKind.Shard, ctx[1], ctx[2]));

    /// <summary>subscribeCommand, psubscribeCommand, ssubscribeCommand.</summary>
    private static void SubscribeAll(ref CommandContext ctx, SubKind kind, ReadOnlySpan<byte> word, ReadOnlySpan<byte> upper)
    {
        var c = ctx.Client;
        // CLIENT_DENY_BLOCKING: inside EXEC only SSUBSCRIBE is refused (the others keep their old MULTI behaviour).
        if (c.DenyBlocking && (kind == SubKind.Shard || c.MultiOrNull is not { Active: true }))
        {
            var text = new ErrorText.Builder(64);
            text.Append("ERR "u8);
            text.Append(upper);
            text.Append(" isn't allowed for a DENY BLOCKING client"u8);
            text.Reply(ctx.Reply, trimEnd: false);
            return;
        }
        var hub = c.Reactor.PubSub;
        for (int i = 1; i < ctx.Count; i++)
        {
            hub.Subscribe(c, kind, ctx[i]);
            Notify(ctx.Reply, word, ctx[i], false, c, kind);
        }
        c.InPubSub = true;
    }

    /// <summary>unsubscribeCommand, punsubscribeCommand, sunsubscribeCommand.</summary>
    private static void UnsubscribeAll(ref CommandContext ctx, SubKind kind, ReadOnlySpan<byte> word)
    {
        var c = ctx.Client;
        var hub = c.Reactor.PubSub;
        if (ctx.Count == 1)
        {
            int count = 0;
            foreach (var name in ReactorPubSub.Names(c, kind))
            {
                if (hub.Unsubscribe(c, kind, name)) count++;
                Notify(ctx.Reply, word, name, false, c, kind);
            }
            // Subscribed to nothing: still one notification, with a null name.
            if (count == 0) Notify(ctx.Reply, word, default, true, c, kind);
        }
        else
        {
            for (int i = 1; i < ctx.Count; i++)
            {
                hub.Unsubscribe(c, kind, ctx[i].ToArray());
                Notify(ctx.Reply, word, ctx[i], false, c, kind);
            }
        }
        if (c.SubscriptionsOrNull is not { Total: > 0 }) c.InPubSub = false;
    }

    /// <summary>
    /// addReplyPubsub(Pat)(Un)Subscribed: [kind, name or null, the client's count] as an array (RESP2) or a
    /// push. Written even under CLIENT REPLY OFF/SKIP, as Redis's CLIENT_PUSHING lets it through.
    /// </summary>
    private static void Notify(Protocol.RespWriter r, ReadOnlySpan<byte> word, ReadOnlySpan<byte> name, bool nullName, Client c, SubKind kind)
    {
        bool enabled = r.Enabled;
        r.Enabled = true;
        r.PushHeader(3);
        r.Bulk(word);
        if (nullName) r.NullBulk();
        else r.Bulk(name);
        var subs = c.SubscriptionsOrNull;
        r.Integer(subs is null ? 0 : kind == SubKind.Shard ? subs.Shard : subs.Count);
        r.Enabled = enabled;
    }

    [RespCommand("PUBSUB|CHANNELS", Arity = -2, Flags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "2.8.0", Summary = "Returns the active channels.", Complexity = "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)")]
    public static void Channels(ref CommandContext ctx) => ChannelList(ref ctx, SubKind.Channel);

    [RespCommand("PUBSUB|SHARDCHANNELS", Arity = -2, Flags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "7.0.0", Summary = "Returns the active shard channels.", Complexity = "O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).")]
    public static void ShardChannels(ref CommandContext ctx) => ChannelList(ref ctx, SubKind.Shard);

    [RespCommand("PUBSUB|NUMSUB", Arity = -2, Flags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "2.8.0", Summary = "Returns a count of subscribers to channels.", Complexity = "O(N) for the NUMSUB subcommand, where N is the number of requested channels")]
    public static void NumSub(ref CommandContext ctx) => NumSubOf(ref ctx, SubKind.Channel);

    [RespCommand("PUBSUB|SHARDNUMSUB", Arity = -2, Flags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "7.0.0", Summary = "Returns the count of subscribers of shard channels.", Complexity = "O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels")]
    public static void ShardNumSub(ref CommandContext ctx) => NumSubOf(ref ctx, SubKind.Shard);

    [RespCommand("PUBSUB|NUMPAT", Arity = 2, Flags = CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "2.8.0", Summary = "Returns a count of unique pattern subscriptions.", Complexity = "O(1)")]
    public static void NumPat(ref CommandContext ctx) => ctx.Reply.Integer(ctx.Server.PubSub.PatternCount);

    [RespCommand("PUBSUB|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub,
        Since = "6.2.0", Summary = "Returns helpful text about the different subcommands.", Complexity = "O(1)")]
    public static void Help(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx, HelpLines);

    private static readonly string[] HelpLines =
    [
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
    ];

    /// <summary>channelList: the active channels, those matching the pattern if one is given.</summary>
    private static void ChannelList(ref CommandContext ctx, SubKind kind)
    {
        if (ctx.Count > 3)
        {
            SubcommandSyntaxError(ref ctx);
            return;
        }
        var names = ctx.Server.PubSub.Names(kind);
        if (ctx.Count == 3)
        {
            var pattern = ctx[2].ToArray();
            names.RemoveAll(n => !GlobMatcher.Match(pattern, n));
        }
        ctx.Reply.ArrayHeader(names.Count);
        foreach (var n in names) ctx.Reply.Bulk(n);
    }

    private static void NumSubOf(ref CommandContext ctx, SubKind kind)
    {
        ctx.Reply.ArrayHeader((ctx.Count - 2) * 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            ctx.Reply.Bulk(ctx[i]);
            ctx.Reply.Integer(ctx.Server.PubSub.Find(kind, ctx[i])?.Count ?? 0);
        }
    }

    /// <summary>addReplySubcommandSyntaxError.</summary>
    private static void SubcommandSyntaxError(ref CommandContext ctx)
    {
        var text = new ErrorText.Builder(200);
        text.Append("ERR unknown subcommand or wrong number of arguments for '"u8);
        text.Append(ErrorText.CString(ctx[1], 128));
        text.Append("'. Try PUBSUB HELP."u8);
        text.Reply(ctx.Reply, trimEnd: false);
    }
}
