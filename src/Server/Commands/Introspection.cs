using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// COMMAND and its subcommands, driven entirely by the generated <see cref="CommandTable"/>
/// (Redis 7.2 server.c commandCommand / addReplyCommandInfo / addReplyCommandDocs).
/// </summary>
internal static class IntrospectionCommands
{
    private const CommandFlags Common = CommandFlags.Loading | CommandFlags.Stale;

    [RespCommand("COMMAND", Arity = -1, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns detailed information about all commands.", Since = "2.8.13",
        Complexity = "O(N) where N is the total number of Redis commands")]
    public static void Command(ref CommandContext ctx) => WriteAllInfo(ctx.Reply);

    [RespCommand("COMMAND|COUNT", Arity = 2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns a count of commands.", Since = "2.8.13", Complexity = "O(1)")]
    public static void Count(ref CommandContext ctx) => ctx.Reply.Integer(TopLevelCount());

    [RespCommand("COMMAND|INFO", Arity = -2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns information about one, multiple or all commands.", Since = "2.8.13",
        Complexity = "O(N) where N is the number of commands to look up")]
    public static void Info(ref CommandContext ctx)
    {
        if (ctx.Count == 2)
        {
            WriteAllInfo(ctx.Reply);
            return;
        }
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            int index = LookupByFullName(ctx[i]);
            // addReplyCommandInfo(c, NULL): a null bulk ($-1, or _ in RESP3) inside the array.
            if (index < 0) ctx.Reply.NullBulk();
            else WriteInfo(ctx.Reply, CommandTable.Commands[index]);
        }
    }

    [RespCommand("COMMAND|DOCS", Arity = -2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns documentary information about one, multiple or all commands.", Since = "7.0.0",
        Complexity = "O(N) where N is the number of commands to look up")]
    public static void Docs(ref CommandContext ctx)
    {
        var r = ctx.Reply;
        if (ctx.Count == 2)
        {
            r.MapHeader(TopLevelCount());
            foreach (var spec in CommandTable.Commands)
            {
                if (spec.IsSubcommand) continue;
                r.Bulk(spec.Name);
                WriteDocs(r, spec);
            }
            return;
        }
        var found = new List<CommandSpec>();
        for (int i = 2; i < ctx.Count; i++)
        {
            int index = LookupByFullName(ctx[i]);
            if (index >= 0) found.Add(CommandTable.Commands[index]);
        }
        r.MapHeader(found.Count);
        foreach (var spec in found)
        {
            r.Bulk(spec.Name);
            WriteDocs(r, spec);
        }
    }

    [RespCommand("COMMAND|LIST", Arity = -2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns a list of command names.", Since = "7.0.0",
        Complexity = "O(N) where N is the total number of Redis commands")]
    public static void List(ref CommandContext ctx)
    {
        int filter = 0; // 0 none, 1 module, 2 aclcat, 3 pattern
        byte[] arg = [];
        for (int i = 2; i < ctx.Count; i++)
        {
            int more = ctx.Count - 1 - i;
            if (ctx.ArgIs(i, "FILTERBY"u8) && more == 2)
            {
                if (ctx.ArgIs(i + 1, "MODULE"u8)) filter = 1;
                else if (ctx.ArgIs(i + 1, "ACLCAT"u8)) filter = 2;
                else if (ctx.ArgIs(i + 1, "PATTERN"u8)) filter = 3;
                else
                {
                    ctx.Reply.Error("ERR syntax error");
                    return;
                }
                arg = ctx[i + 2].ToArray();
                i += 2;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }

        var names = new List<string>();
        string? category = filter == 2 ? "@" + Encoding.UTF8.GetString(arg) : null;
        foreach (var spec in InRedisOrder())
        {
            bool include = filter switch
            {
                0 => true,
                1 => false, // no modules
                2 => Array.Exists(spec.AclCategories, c => string.Equals(c, category, StringComparison.OrdinalIgnoreCase)),
                _ => GlobMatcher.MatchNoCase(arg, Encoding.UTF8.GetBytes(spec.Name)),
            };
            if (include) names.Add(spec.Name);
        }
        ctx.Reply.ArrayHeader(names.Count);
        foreach (var n in names) ctx.Reply.Bulk(n);
    }

    [RespCommand("COMMAND|GETKEYS", Arity = -3, Flags = Common, Group = CommandGroup.Server,
        Summary = "Extracts the key names from an arbitrary command.", Since = "2.8.13",
        Complexity = "O(N) where N is the number of arguments to the command")]
    public static void GetKeys(ref CommandContext ctx) => GetKeysImpl(ref ctx, withFlags: false);

    [RespCommand("COMMAND|GETKEYSANDFLAGS", Arity = -3, Flags = Common, Group = CommandGroup.Server,
        Summary = "Extracts the key names and access flags for an arbitrary command.", Since = "7.0.0",
        Complexity = "O(N) where N is the number of arguments to the command")]
    public static void GetKeysAndFlags(ref CommandContext ctx) => GetKeysImpl(ref ctx, withFlags: true);

    [RespCommand("COMMAND|HELP", Arity = 2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns helpful text about the different subcommands.", Since = "5.0.0", Complexity = "O(1)")]
    public static void Help(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx,
    [
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
    ]);

    // ------------------------------------------------------------------ table access

    internal static int TopLevelCount()
    {
        int n = 0;
        foreach (var spec in CommandTable.Commands)
        {
            if (!spec.IsSubcommand) n++;
        }
        return n;
    }

    /// <summary>Each top-level command followed by its subcommands (Redis's COMMAND LIST walk).</summary>
    internal static IEnumerable<CommandSpec> InRedisOrder()
    {
        foreach (var spec in CommandTable.Commands)
        {
            if (spec.IsSubcommand) continue;
            yield return spec;
            foreach (int sub in spec.Subcommands) yield return CommandTable.Commands[sub];
        }
    }

    /// <summary>Redis's lookupCommandBySds: "get" or "client|list"; a container name alone is the container.</summary>
    internal static int LookupByFullName(ReadOnlySpan<byte> name)
    {
        int bar = name.IndexOf((byte)'|');
        if (bar < 0) return CommandTable.Lookup(name);
        var rest = name[(bar + 1)..];
        if (rest.IndexOf((byte)'|') >= 0) return -1;
        int parent = CommandTable.Lookup(name[..bar]);
        if (parent < 0 || !CommandTable.Commands[parent].IsContainer) return -1;
        return CommandTable.LookupSubcommand(parent, rest);
    }

    private static void WriteAllInfo(RespWriter r)
    {
        r.ArrayHeader(TopLevelCount());
        foreach (var spec in CommandTable.Commands)
        {
            if (!spec.IsSubcommand) WriteInfo(r, spec);
        }
    }

    /// <summary>[name, arity, flags, first, last, step, acl categories, tips, key specs, subcommands].</summary>
    internal static void WriteInfo(RespWriter r, CommandSpec spec)
    {
        r.ArrayHeader(10);
        r.Bulk(spec.Name);
        r.Integer(spec.Arity);
        WriteFlags(r, spec.Flags);
        r.Integer(spec.FirstKey);
        r.Integer(spec.LastKey);
        r.Integer(spec.Step);
        r.SetHeader(spec.AclCategories.Length);
        foreach (var c in spec.AclCategories) r.SimpleString(c);
        r.SetHeader(0); // tips
        WriteKeySpecs(r, spec);
        if (spec.Subcommands.Length == 0)
        {
            r.SetHeader(0);
        }
        else
        {
            r.ArrayHeader(spec.Subcommands.Length);
            foreach (int sub in spec.Subcommands) WriteInfo(r, CommandTable.Commands[sub]);
        }
    }

    /// <summary>Redis's reply order of command flags (addReplyFlagsForCommand); hidden ones omitted.</summary>
    private static readonly (CommandFlags Flag, string Name)[] FlagNames =
    [
        (CommandFlags.Write, "write"),
        (CommandFlags.ReadOnly, "readonly"),
        (CommandFlags.DenyOom, "denyoom"),
        (CommandFlags.Admin, "admin"),
        (CommandFlags.PubSub, "pubsub"),
        (CommandFlags.NoScript, "noscript"),
        (CommandFlags.Blocking, "blocking"),
        (CommandFlags.Loading, "loading"),
        (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"),
        (CommandFlags.SkipSlowlog, "skip_slowlog"),
        (CommandFlags.Fast, "fast"),
        (CommandFlags.NoAuth, "no_auth"),
        (CommandFlags.NoMandatoryKeys, "no_mandatory_keys"),
        (CommandFlags.NoAsyncLoading, "no_async_loading"),
        (CommandFlags.NoMulti, "no_multi"),
        (CommandFlags.MovableKeys, "movablekeys"),
        (CommandFlags.AllowBusy, "allow_busy"),
    ];

    private static void WriteFlags(RespWriter r, CommandFlags flags)
    {
        int n = 0;
        foreach (var (flag, _) in FlagNames)
        {
            if ((flags & flag) != 0) n++;
        }
        r.SetHeader(n);
        foreach (var (flag, name) in FlagNames)
        {
            if ((flags & flag) != 0) r.SimpleString(name);
        }
    }

    /// <summary>A key spec's map up to its find_keys value: flags, and a begin_search of type index.</summary>
    private static void BeginKeySpec(RespWriter r, string[] flags, int index)
    {
        r.MapHeader(3);
        r.Bulk("flags"u8);
        WriteKeyFlags(r, flags);
        r.Bulk("begin_search"u8);
        r.MapHeader(2);
        r.Bulk("type"u8); r.Bulk("index"u8);
        r.Bulk("spec"u8);
        r.MapHeader(1);
        r.Bulk("index"u8); r.Integer(index);
        r.Bulk("find_keys"u8);
    }

    /// <summary>
    /// The key specs the table knows: a range from FirstKey/LastKey/Step (begin_search index FirstKey,
    /// find_keys range with lastkey relative to it), and a keynum spec for NumKeysIndex (begin_search
    /// index NumKeysIndex, find_keys keynum: count at 0, keys from 1, step 1), as Redis 7 reports them.
    /// </summary>
    private static void WriteKeySpecs(RespWriter r, CommandSpec spec)
    {
        bool range = spec.FirstKey > 0, keynum = spec.NumKeysIndex > 0;
        r.SetHeader((range ? 1 : 0) + (keynum ? 1 : 0));
        if (range)
        {
            BeginKeySpec(r, KeyFlags(spec), spec.FirstKey);
            r.MapHeader(2);
            r.Bulk("type"u8); r.Bulk("range"u8);
            r.Bulk("spec"u8);
            r.MapHeader(3);
            r.Bulk("lastkey"u8); r.Integer(spec.LastKey >= 0 ? spec.LastKey - spec.FirstKey : spec.LastKey);
            r.Bulk("keystep"u8); r.Integer(spec.Step);
            r.Bulk("limit"u8); r.Integer(0);
        }
        if (keynum)
        {
            BeginKeySpec(r, NumKeysFlags(spec), spec.NumKeysIndex);
            r.MapHeader(2);
            r.Bulk("type"u8); r.Bulk("keynum"u8);
            r.Bulk("spec"u8);
            r.MapHeader(3);
            r.Bulk("keynumidx"u8); r.Integer(0);
            r.Bulk("firstkey"u8); r.Integer(1);
            r.Bulk("keystep"u8); r.Integer(1);
        }
    }

    private static void WriteKeyFlags(RespWriter r, string[] flags)
    {
        r.SetHeader(flags.Length);
        foreach (var f in flags) r.SimpleString(f);
    }

    /// <summary>Counted keys beside a range (ZUNIONSTORE's sources beside its destination) are read; alone, they are the command's.</summary>
    private static string[] NumKeysFlags(CommandSpec spec) => spec.FirstKey > 0 ? ["RO", "access"] : KeyFlags(spec);

    private static string[] KeyFlags(CommandSpec spec)
    {
        // A movable command's range key is read only (SORT's sorted key; what it writes is its STORE key).
        if ((spec.Flags & CommandFlags.Write) != 0 && (spec.Lock & KeyLock.Movable) == 0) return ["RW", "access", "update"];
        return ["RO", "access"];
    }

    private static string GroupName(CommandGroup g) => g switch
    {
        CommandGroup.Generic => "generic",
        CommandGroup.String => "string",
        CommandGroup.List => "list",
        CommandGroup.Set => "set",
        CommandGroup.SortedSet => "sorted-set",
        CommandGroup.Hash => "hash",
        CommandGroup.PubSub => "pubsub",
        CommandGroup.Transactions => "transactions",
        CommandGroup.Connection => "connection",
        CommandGroup.Server => "server",
        CommandGroup.Scripting => "scripting",
        CommandGroup.HyperLogLog => "hyperloglog",
        CommandGroup.Cluster => "cluster",
        CommandGroup.Geo => "geo",
        CommandGroup.Stream => "stream",
        CommandGroup.Bitmap => "bitmap",
        _ => "module",
    };

    /// <summary>Map of summary, since, group, complexity and (for containers) subcommands.</summary>
    internal static void WriteDocs(RespWriter r, CommandSpec spec)
    {
        int len = 1;
        if (spec.Summary.Length > 0) len++;
        if (spec.Since.Length > 0) len++;
        if (spec.Complexity.Length > 0) len++;
        if (spec.IsContainer) len++;
        r.MapHeader(len);
        if (spec.Summary.Length > 0) { r.Bulk("summary"u8); r.Bulk(spec.Summary); }
        if (spec.Since.Length > 0) { r.Bulk("since"u8); r.Bulk(spec.Since); }
        r.Bulk("group"u8); r.Bulk(GroupName(spec.Group));
        if (spec.Complexity.Length > 0) { r.Bulk("complexity"u8); r.Bulk(spec.Complexity); }
        if (spec.IsContainer)
        {
            r.Bulk("subcommands"u8);
            r.MapHeader(spec.Subcommands.Length);
            foreach (int sub in spec.Subcommands)
            {
                var s = CommandTable.Commands[sub];
                r.Bulk(s.Name);
                WriteDocs(r, s);
            }
        }
    }

    // ------------------------------------------------------------------ GETKEYS

    private static void GetKeysImpl(ref CommandContext ctx, bool withFlags)
    {
        int argc = ctx.Count - 2;
        int index = CommandTable.Lookup(ctx[2]);
        if (index >= 0 && argc >= 2 && CommandTable.Commands[index].IsContainer)
            index = CommandTable.LookupSubcommand(index, ctx[3]);
        if (index < 0)
        {
            ctx.Reply.Error("ERR Invalid command specified");
            return;
        }
        var spec = CommandTable.Commands[index];
        if (spec.FirstKey <= 0 && spec.NumKeysIndex <= 0)
        {
            ctx.Reply.Error("ERR The command has no key arguments");
            return;
        }
        if ((spec.Arity > 0 && spec.Arity != argc) || argc < -spec.Arity)
        {
            ctx.Reply.Error("ERR Invalid number of arguments specified for command");
            return;
        }

        int first = spec.FirstKey;
        int last = spec.LastKey >= 0 ? spec.LastKey : argc + spec.LastKey;
        int step = spec.Step;
        int count = 0;
        if (first > 0)
        {
            if (last >= argc || last < first || first >= argc)
            {
                if ((spec.Flags & CommandFlags.NoMandatoryKeys) != 0) ctx.Reply.EmptyArray();
                else ctx.Reply.Error("ERR Invalid arguments specified for command");
                return;
            }
            for (int i = first; i <= last; i += step) count++;
        }
        // Keys counted by an argument (SINTERCARD 2 a b, ZUNIONSTORE dst 2 a b): a count that is not a
        // positive number, or names more keys than follow, is Redis's "Invalid arguments".
        int nk = spec.NumKeysIndex;
        long counted = 0;
        if (nk > 0)
        {
            if (nk >= argc || !ctx.TryGetLong(nk + 2, out counted) || counted <= 0 || counted > argc - nk - 1)
            {
                ctx.Reply.Error("ERR Invalid arguments specified for command");
                return;
            }
            count += (int)counted;
        }
        // A movable command's found keys (SORT's STORE key: sortGetKeys), after the range, as Redis lists them.
        int found = (spec.Lock & KeyLock.Movable) != 0 ? MovableKey(ref ctx, spec, argc) : -1;
        if (found >= 0) count++;
        var r = ctx.Reply;
        r.ArrayHeader(count);
        if (first > 0)
        {
            for (int i = first; i <= last; i += step) WriteKey(ref ctx, i + 2, withFlags, KeyFlags(spec));
        }
        if (found >= 0) WriteKey(ref ctx, found + 2, withFlags, ["OW", "update"]);
        for (int i = nk + 1; i <= nk + counted; i++) WriteKey(ref ctx, i + 2, withFlags, NumKeysFlags(spec));
    }

    /// <summary>The argument index (in the inner command) of a movable command's found key, or -1.</summary>
    private static int MovableKey(ref CommandContext ctx, CommandSpec spec, int argc) => SortKeys.StoreKey(ref ctx, spec, 2, argc);

    private static void WriteKey(ref CommandContext ctx, int arg, bool withFlags, string[] keyFlags)
    {
        var r = ctx.Reply;
        if (!withFlags)
        {
            r.Bulk(ctx[arg]);
            return;
        }
        r.ArrayHeader(2);
        r.Bulk(ctx[arg]);
        r.SetHeader(keyFlags.Length);
        foreach (var f in keyFlags) r.SimpleString(f);
    }
}
