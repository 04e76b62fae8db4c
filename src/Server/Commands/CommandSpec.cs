namespace NativeKv.Server.Commands;

/// <summary>
/// Static description of one command or subcommand. Instances are created only by the
/// generated <c>CommandTable</c>; everything COMMAND reports comes from here.
/// </summary>
public sealed class CommandSpec(
    int index, string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
    CommandGroup group, string summary, string since, string complexity, string[] aclCategories,
    int parent, int[] subcommands, bool hasHandler, int numKeysIndex = 0, KeyLock keyLock = KeyLock.Default)
{
    /// <summary>Position in <c>CommandTable.Commands</c>; also the slot for per-command stats.</summary>
    public int Index { get; } = index;
    /// <summary>Lower-case full name: "get", "client|list".</summary>
    public string Name { get; } = name;
    public int Arity { get; } = arity;
    public CommandFlags Flags { get; } = flags;
    public int FirstKey { get; } = firstKey;
    public int LastKey { get; } = lastKey;
    public int Step { get; } = step;
    /// <summary>Index of a numkeys argument whose keys follow it (Redis's keynum key spec); 0 = none.</summary>
    public int NumKeysIndex { get; } = numKeysIndex;
    /// <summary>How the command takes the key-lock table beyond its flags.</summary>
    public KeyLock Lock { get; } = keyLock;
    public CommandGroup Group { get; } = group;
    public string Summary { get; } = summary;
    public string Since { get; } = since;
    public string Complexity { get; } = complexity;
    /// <summary>ACL categories with the '@' prefix, as COMMAND INFO reports them.</summary>
    public string[] AclCategories { get; } = aclCategories;
    /// <summary>Index of the container command, or -1 for a top-level command.</summary>
    public int Parent { get; } = parent;
    /// <summary>Indexes of subcommands (empty for ordinary commands).</summary>
    public int[] Subcommands { get; } = subcommands;
    /// <summary>False for a container declared with RespContainer that has no handler of its own.</summary>
    public bool HasHandler { get; } = hasHandler;

    public bool IsSubcommand => Parent >= 0;
    public bool IsContainer => Subcommands.Length > 0;
}
