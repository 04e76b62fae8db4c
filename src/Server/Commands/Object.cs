[assembly: NativeKv.Server.Commands.RespContainer("OBJECT", Group = NativeKv.Server.Commands.CommandGroup.Generic,
    Summary = "A container for object introspection commands.", Since = "2.2.3")]

namespace NativeKv.Server.Commands;

using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

/// <summary>OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP (Redis 7.2 object.c objectCommand).</summary>
internal static class ObjectCommands
{
    /// <summary>OBJ_ENCODING_EMBSTR_SIZE_LIMIT: SET keeps a string of up to 44 bytes in one allocation.</summary>
    private const int EmbstrLimit = 44;

    /// <summary>OBJ_SHARED_INTEGERS: 0..9999 are shared objects unless an LRU/LFU policy needs per-key clocks.</summary>
    private const long SharedIntegers = 10000;

    /// <summary>OBJ_SHARED_REFCOUNT (INT_MAX): what OBJECT REFCOUNT answers for a shared object.</summary>
    private const long SharedRefcount = int.MaxValue;

    /// <summary>LFU_INIT_VAL: the counter a new key starts with.</summary>
    private const long LfuInitVal = 5;

    [RespCommand("OBJECT|ENCODING", Arity = 3, Flags = CommandFlags.ReadOnly, FirstKey = 2, LastKey = 2, Step = 1, Group = CommandGroup.Generic,
        Summary = "Returns the internal encoding of a Redis object.", Since = "2.2.3", Complexity = "O(1)")]
    public static void Encoding(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[2], KeyType.None, out var slot, OpFlags.HeaderOnly, miss: false);
        if (st == Lookup.Pending) return;
        if (st != Lookup.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        // A string past 20 bytes cannot be an integer: its length decides, without copying it.
        if (slot.Type == KeyType.String && slot.Number > 20)
        {
            ctx.Reply.Bulk(slot.Number > EmbstrLimit ? "raw"u8 : "embstr"u8);
            return;
        }
        var full = Db.Read(ref ctx, ctx[2], KeyType.None, out slot, OpFlags.None, miss: false);
        if (full == Lookup.Pending) return;
        if (full != Lookup.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        ctx.Reply.Bulk(EncodingName(slot.Type, slot.Value));
    }

    /// <summary>
    /// tryObjectEncoding's answer for a string, decided from its bytes: integer text that string2l
    /// takes (no '+', no leading zeros, no "-0", at most 20 bytes) is "int", else up to 44 bytes
    /// "embstr", else "raw". Redis also leaves APPEND's and SETRANGE's results "raw" whatever their
    /// length; the record does not say how a value was made, so those read as SET would store them.
    /// </summary>
    private static ReadOnlySpan<byte> EncodingName(KeyType type, ReadOnlySpan<byte> payload)
    {
        if (type == KeyType.String)
        {
            if (NumberFormat.TryParseLong(payload, out _)) return "int"u8;
            return payload.Length > EmbstrLimit ? "raw"u8 : "embstr"u8;
        }
        return Listpack.EncodingOf(payload) switch
        {
            CollectionEncoding.IntSet => "intset"u8,
            CollectionEncoding.Quicklist or CollectionEncoding.PagedList => "quicklist"u8,
            CollectionEncoding.Skiplist or CollectionEncoding.PagedZSet => "skiplist"u8,
            CollectionEncoding.Hashtable or CollectionEncoding.Paged => "hashtable"u8,
            _ => "listpack"u8,
        };
    }

    [RespCommand("OBJECT|REFCOUNT", Arity = 3, Flags = CommandFlags.ReadOnly, FirstKey = 2, LastKey = 2, Step = 1, Group = CommandGroup.Generic,
        Summary = "Returns the reference count of a value of a key.", Since = "2.2.3", Complexity = "O(1)")]
    public static void RefCount(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[2], KeyType.None, out var slot, OpFlags.None, miss: false);
        if (st == Lookup.Pending) return;
        if (st != Lookup.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        // Redis shares the objects of 0..9999 (refcount INT_MAX) unless maxmemory is set with an LRU/LFU
        // policy; it decides when the value is stored, we decide from the policy in force now.
        var config = ctx.Server.Config;
        bool shared = config.Maxmemory == 0 || !(IsLfu(config.MaxmemoryPolicy) || config.MaxmemoryPolicy.EndsWith("-lru", StringComparison.Ordinal));
        bool small = slot.Type == KeyType.String && NumberFormat.TryParseLong(slot.Value, out long v) && v >= 0 && v < SharedIntegers;
        ctx.Reply.Integer(shared && small ? SharedRefcount : 1);
    }

    [RespCommand("OBJECT|IDLETIME", Arity = 3, Flags = CommandFlags.ReadOnly, FirstKey = 2, LastKey = 2, Step = 1, Group = CommandGroup.Generic,
        Summary = "Returns the time since the last access to a Redis object.", Since = "2.2.3", Complexity = "O(1)")]
    public static void IdleTime(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[2], KeyType.None, out _, OpFlags.HeaderOnly, miss: false);
        if (st == Lookup.Pending) return;
        if (st != Lookup.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (IsLfu(ctx.Server.Config.MaxmemoryPolicy))
        {
            ctx.Reply.Error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        // NativeKv keeps no access clock per record (it would cost a write on every read): every key
        // reads as just accessed, 0 seconds idle, what Redis answers right after a key is touched.
        ctx.Reply.Integer(0);
    }

    [RespCommand("OBJECT|FREQ", Arity = 3, Flags = CommandFlags.ReadOnly, FirstKey = 2, LastKey = 2, Step = 1, Group = CommandGroup.Generic,
        Summary = "Returns the logarithmic access frequency counter of a Redis object.", Since = "4.0.0", Complexity = "O(1)")]
    public static void Freq(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[2], KeyType.None, out _, OpFlags.HeaderOnly, miss: false);
        if (st == Lookup.Pending) return;
        if (st != Lookup.Found)
        {
            ctx.Reply.NullBulk();
            return;
        }
        if (!IsLfu(ctx.Server.Config.MaxmemoryPolicy))
        {
            ctx.Reply.Error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
            return;
        }
        // No access counter is kept (see IDLETIME): every key answers a new key's counter, LFU_INIT_VAL.
        ctx.Reply.Integer(LfuInitVal);
    }

    private static bool IsLfu(string policy) => policy.EndsWith("-lfu", StringComparison.Ordinal);

    [RespCommand("OBJECT|HELP", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Generic,
        Summary = "Returns helpful text about the different subcommands.", Since = "6.2.0", Complexity = "O(1)")]
    public static void Help(ref CommandContext ctx) => ClientCommands.WriteHelp(ref ctx, HelpLines);

    private static readonly string[] HelpLines =
    [
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
    ];
}
