using NativeKv.Server.Config;

[assembly: NativeKv.Server.Commands.RespContainer("CONFIG", Group = NativeKv.Server.Commands.CommandGroup.Server,
    Summary = "A container for server configuration commands.", Since = "2.0.0")]

namespace NativeKv.Server.Commands;

/// <summary>CONFIG GET / SET / RESETSTAT / REWRITE / HELP (Redis 7.2 config.c).</summary>
internal static class ConfigCommands
{
    private const CommandFlags Common = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    /// <summary>Serializes CONFIG SET / REWRITE across reactors so a multi-parameter set is all-or-nothing.</summary>
    private static readonly Lock ConfigLock = new();

    [RespCommand("CONFIG|GET", Arity = -3, Flags = Common, Group = CommandGroup.Server,
        Summary = "Returns the effective values of configuration parameters.", Since = "2.0.0",
        Complexity = "O(N) when N is the number of configuration parameters provided")]
    public static void Get(ref CommandContext ctx)
    {
        var registry = ctx.Server.Config.Registry;
        // Matches keep the first spelling seen; a name is reported once however many patterns hit it.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var matches = new List<(string Name, ConfigParameter Parameter)>();
        for (int i = 2; i < ctx.Count; i++)
        {
            var pattern = ctx[i];
            if (GlobMatcher.IsLiteral(pattern))
            {
                var name = ctx.ArgString(i);
                if (seen.Contains(name)) continue;
                if (registry.TryGet(name, out var p))
                {
                    seen.Add(name);
                    matches.Add((name, p));
                }
                continue;
            }
            foreach (var n in registry.Names)
            {
                // Hidden parameters answer only to their exact name.
                if (n.Parameter.Hidden || seen.Contains(n.Name)) continue;
                if (GlobMatcher.MatchNoCase(pattern, n.Bytes))
                {
                    seen.Add(n.Name);
                    matches.Add((n.Name, n.Parameter));
                }
            }
        }

        lock (ConfigLock)
        {
            var r = ctx.Reply;
            r.MapHeader(matches.Count);
            foreach (var (name, p) in matches)
            {
                r.Bulk(name);
                r.Bulk(p.Get());
            }
        }
    }

    [RespCommand("CONFIG|SET", Arity = -4, Flags = Common, Group = CommandGroup.Server,
        Summary = "Sets configuration parameters in-flight.", Since = "2.0.0",
        Complexity = "O(N) when N is the number of configuration parameters provided")]
    public static void Set(ref CommandContext ctx)
    {
        if ((ctx.Count & 1) != 0)
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        var registry = ctx.Server.Config.Registry;
        int count = (ctx.Count - 2) / 2;
        var parameters = new ConfigParameter[count];
        var values = new string[count];
        string? errorName = null, error = null;
        int unknownName = -1;
        bool allowProtected = AllowProtected(ctx.Server.Config.EnableProtectedConfigs, ctx.Client.Address);

        // First pass, as configSetCommand: names, immutability, protection, duplicates.
        for (int i = 0; i < count; i++)
        {
            var name = ctx.ArgString(2 + i * 2);
            if (!registry.TryGet(name, out var p))
            {
                if (unknownName < 0 && error is null) unknownName = 2 + i * 2;
                continue;
            }
            if (unknownName >= 0 || error is not null) continue;
            if (p.Immutable || (p.Protected && !allowProtected))
            {
                error = p.Immutable ? "can't set immutable config" : "can't set protected config";
                errorName = name;
                continue;
            }
            for (int j = 0; j < i; j++)
            {
                if (ReferenceEquals(parameters[j], p))
                {
                    error = "duplicate parameter";
                    errorName = name;
                    break;
                }
            }
            parameters[i] = p;
            values[i] = ctx.ArgString(3 + i * 2);
        }
        if (unknownName >= 0)
        {
            ErrorText.Quote(ctx.Reply, "ERR Unknown option or number of arguments for CONFIG SET - '"u8, ctx[unknownName], "'"u8);
            return;
        }
        if (error is not null)
        {
            ctx.Reply.Error($"ERR CONFIG SET failed (possibly related to argument '{errorName}') - {error}");
            return;
        }

        // Second pass: validate every value; nothing changes unless all of them are good.
        lock (ConfigLock)
        {
            var applies = new Action?[count];
            for (int i = 0; i < count; i++)
            {
                var p = parameters[i];
                var reason = p.Prepare(p.SplitValue(values[i]), out applies[i]);
                if (reason is not null)
                {
                    ctx.Reply.Error($"ERR CONFIG SET failed (possibly related to argument '{p.Name}') - {reason}");
                    return;
                }
            }
            foreach (var apply in applies) apply?.Invoke();
        }
        // Side effects Redis applies right away (its apply functions) that live outside the config.
        ctx.Server.Log.Level = Log.ParseLevel(ctx.Server.Config.LogLevel);
        ctx.Reply.Ok();
    }

    /// <summary>enable-protected-configs: yes, or local for loopback / unix-socket clients.</summary>
    internal static bool AllowProtected(string setting, string clientAddress)
    {
        if (setting == "yes") return true;
        if (setting != "local") return false;
        return IsLocalAddress(clientAddress);
    }

    internal static bool IsLocalAddress(string address) =>
        address.Length == 0 || address.StartsWith('/') || address.StartsWith("127.", StringComparison.Ordinal) ||
        address.StartsWith("[::1]", StringComparison.Ordinal) || address.StartsWith("::1", StringComparison.Ordinal) ||
        address.StartsWith("[::ffff:127.", StringComparison.Ordinal) || address.StartsWith("::ffff:127.", StringComparison.Ordinal);

    [RespCommand("CONFIG|RESETSTAT", Arity = 2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Resets the server's statistics.", Since = "2.0.0", Complexity = "O(1)")]
    public static void ResetStat(ref CommandContext ctx)
    {
        var server = ctx.Server;
        foreach (var reactor in server.Reactors) reactor.Stats.Reset();
        Interlocked.Exchange(ref server.Stats.ConnectionsReceived, 0);
        Interlocked.Exchange(ref server.Stats.RejectedConnections, 0);
        ctx.Reply.Ok();
    }

    [RespCommand("CONFIG|REWRITE", Arity = 2, Flags = Common, Group = CommandGroup.Server,
        Summary = "Persists the effective configuration to file.", Since = "2.8.0", Complexity = "O(1)")]
    public static void Rewrite(ref CommandContext ctx)
    {
        var config = ctx.Server.Config;
        if (config.ConfigFile is null)
        {
            ctx.Reply.Error("ERR The server is running without a config file");
            return;
        }
        string? error;
        lock (ConfigLock) error = ConfigLoader.Rewrite(config.ConfigFile, config.Registry);
        if (error is not null)
        {
            ctx.Server.Log.Warning($"CONFIG REWRITE failed: {error}");
            ctx.Reply.Error($"ERR Rewriting config file: {error}");
            return;
        }
        ctx.Server.Log.Notice("CONFIG REWRITE executed with success.");
        ctx.Reply.Ok();
    }

    [RespCommand("CONFIG|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server,
        Summary = "Returns helpful text about the different subcommands.", Since = "5.0.0", Complexity = "O(1)")]
    public static void Help(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx, HelpLines);

    private static readonly string[] HelpLines =
    [
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
    ];
}
