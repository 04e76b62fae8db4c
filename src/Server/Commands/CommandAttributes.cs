namespace NativeKv.Server.Commands;

/// <summary>Command flags, named and reported as Redis 7 reports them in COMMAND.</summary>
[Flags]
public enum CommandFlags : uint
{
    None = 0,
    Write = 1 << 0,
    ReadOnly = 1 << 1,
    DenyOom = 1 << 2,
    Admin = 1 << 3,
    PubSub = 1 << 4,
    NoScript = 1 << 5,
    Blocking = 1 << 6,
    Loading = 1 << 7,
    Stale = 1 << 8,
    SkipMonitor = 1 << 9,
    SkipSlowlog = 1 << 10,
    Fast = 1 << 11,
    NoAuth = 1 << 12,
    MayReplicate = 1 << 13,
    NoMandatoryKeys = 1 << 14,
    NoAsyncLoading = 1 << 15,
    NoMulti = 1 << 16,
    MovableKeys = 1 << 17,
    AllowBusy = 1 << 18,
    Protected = 1 << 19,
}

/// <summary>
/// How a command takes the key-lock table (Storage/Locks). By default a ReadOnly command takes its keys
/// shared and any other command exclusive; a command without keys takes nothing.
/// </summary>
[Flags]
public enum KeyLock : byte
{
    Default = 0,
    /// <summary>
    /// A write of one record that FASTER's RMW already makes atomic (SET, INCR, EXPIRE, single-key DEL...):
    /// shared, so that one hot key written from 50 clients on two reactors never parks. With more than one
    /// key argument the command takes them exclusive.
    /// </summary>
    SharedWrite = 1,
    /// <summary>Reads or changes every key without naming them (FLUSHDB, SWAPDB, KEYS, SCAN, DBSIZE): alone in the keyspace.</summary>
    Keyspace = 2,
    /// <summary>The keys also live in the database named by the argument after the last key (MOVE key db).</summary>
    TargetDbArgument = 4,
    /// <summary>The keys after the first also live in the database of a "DB n" option (COPY src dst DB n).</summary>
    TargetDbOption = 8,
    /// <summary>
    /// Keys found by reading the arguments (Redis's getkeys_proc, movablekeys): SORT's STORE key joins its
    /// keys, and a BY/GET pattern naming other keys takes the whole keyspace (<see cref="SortKeys"/>).
    /// </summary>
    Movable = 16,
}

/// <summary>Command groups as COMMAND DOCS names them.</summary>
public enum CommandGroup
{
    Generic,
    String,
    List,
    Set,
    SortedSet,
    Hash,
    PubSub,
    Transactions,
    Connection,
    Server,
    Scripting,
    HyperLogLog,
    Cluster,
    Geo,
    Stream,
    Bitmap,
}

/// <summary>
/// Marks a static handler <c>static void Name(ref CommandContext ctx)</c>. The source generator
/// turns every marked method into a dispatcher entry plus COMMAND metadata.
/// A subcommand is named "PARENT|SUB" (for example "CLIENT|LIST").
/// Arity follows Redis: N means exactly N arguments including the name, -N means at least N.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class RespCommandAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public int Arity { get; set; }
    public CommandFlags Flags { get; set; }
    public int FirstKey { get; set; }
    public int LastKey { get; set; }
    public int Step { get; set; }
    /// <summary>
    /// Keys counted by an argument (Redis's "keynum" key spec, as SINTERCARD, ZUNIONSTORE, EVAL): the index
    /// of the numkeys argument, the keys following it; 0 = none. FirstKey/LastKey still name other keys
    /// (ZUNIONSTORE's destination).
    /// </summary>
    public int NumKeysIndex { get; set; }
    /// <summary>How the command locks its keys beyond what its flags say (see <see cref="KeyLock"/>).</summary>
    public KeyLock Lock { get; set; }
    public CommandGroup Group { get; set; }
    public string Summary { get; set; } = "";
    public string Since { get; set; } = "1.0.0";
    public string Complexity { get; set; } = "";
}

/// <summary>
/// Declares a container command (CLIENT, CONFIG, ...) that has only subcommands. Applied to the
/// assembly; the generator uses it for the container's own COMMAND metadata.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class RespContainerAttribute(string name) : Attribute
{
    public string Name { get; } = name;
    public CommandGroup Group { get; set; }
    public string Summary { get; set; } = "";
    public string Since { get; set; } = "1.0.0";
    public string Complexity { get; set; } = "Depends on subcommand.";
}
