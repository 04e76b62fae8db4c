namespace NativeKv.Server.Config;

/// <summary>One CONFIG parameter: how to read it back and how to change it.</summary>
public sealed class ConfigParameter(string name, Func<string> get, Func<string, string?> set, bool immutable = false, params string[] aliases)
{
    /// <summary>Canonical lower-case name as CONFIG GET reports it.</summary>
    public string Name { get; } = name;
    public string[] Aliases { get; } = aliases;
    /// <summary>Only settable at start-up (config file or command line), as Redis's IMMUTABLE_CONFIG.</summary>
    public bool Immutable { get; } = immutable;
    public Func<string> Get { get; } = get;
    /// <summary>Applies a value; returns null on success or the reason it was refused.</summary>
    public Func<string, string?> Set { get; } = set;
}

/// <summary>
/// Every configuration parameter redis-server 7.2 knows, by name. Those that drive NativeKv are
/// bound to <see cref="ServerConfig"/>; the rest are validated as Redis validates them and kept.
/// </summary>
public sealed partial class ConfigRegistry
{
    private readonly Dictionary<string, ConfigParameter> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ConfigParameter> _all = new();

    public ConfigRegistry(ServerConfig config)
    {
        Config = config;
        RegisterAll();
    }

    public ServerConfig Config { get; }

    public IReadOnlyList<ConfigParameter> All => _all;

    public void Add(ConfigParameter p)
    {
        _all.Add(p);
        _byName[p.Name] = p;
        foreach (var a in p.Aliases) _byName[a] = p;
    }

    public bool TryGet(string name, out ConfigParameter parameter) => _byName.TryGetValue(name, out parameter!);
}
