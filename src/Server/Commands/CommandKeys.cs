using System.Text;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Locks;

namespace NativeKv.Server.Commands;

internal static partial class CommandTable
{
    /// <summary>
    /// Storage.KeyPositions over the generated table: where a command's keys are, for reading ahead the
    /// keys of pipelined commands while one waits on disk. False for unknown commands, commands without
    /// keys, and a wrong argument count (the command will fail its arity check anyway).
    /// </summary>
    public static bool KeyPositions(ReadOnlySpan<byte> name, int argc, out int first, out int last, out int step)
    {
        first = last = step = 0;
        int index = Lookup(name);
        if (index < 0) return false;
        var spec = Commands[index];
        if (spec.FirstKey <= 0 || spec.Step <= 0 || (spec.Arity > 0 && spec.Arity != argc)) return false;
        (first, last, step) = (spec.FirstKey, spec.LastKey, spec.Step);
        return true;
    }

    /// <summary>
    /// The argument indexes of a command's keys, in argument order: the FirstKey/LastKey/Step range, then
    /// a movable command's found keys (SORT's STORE key), the keys counted by the NumKeysIndex argument. Keys past the arguments given are left out (the
    /// command's own parsing reports those); so is a numkeys that is not a count (likewise).
    /// </summary>
    public static int KeyIndexes(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, Span<int> into)
    {
        int n = 0, argc = args.Length;
        if (spec.FirstKey > 0 && spec.Step > 0)
        {
            int last = spec.LastKey >= 0 ? spec.LastKey : argc + spec.LastKey;
            for (int k = spec.FirstKey; k <= last && k < argc && n < into.Length; k += spec.Step) into[n++] = k;
        }
        if ((spec.Lock & KeyLock.Movable) != 0 && n < into.Length && SortKeys.StoreKey(spec, input, args) is int store and >= 0) into[n++] = store;
        int nk = spec.NumKeysIndex;
        if (nk > 0 && nk < argc && RespNumber.TryParseInt64(input.Slice(args[nk].Offset, args[nk].Length), out long count) && count > 0)
        {
            for (long k = nk + 1; k <= nk + count && k < argc && n < into.Length; k++) into[n++] = (int)k;
        }
        return n;
    }

    /// <summary>
    /// Every key index of the command (<see cref="KeyIndexes"/>): in <paramref name="stack"/> when it holds
    /// them, else in an array (MSET of thousands of keys).
    /// </summary>
    public static ReadOnlySpan<int> AllKeyIndexes(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, Span<int> stack)
    {
        int count = KeyIndexes(spec, input, args, stack);
        if (count < stack.Length) return stack[..count];
        var all = new int[args.Length];
        return all.AsSpan(0, KeyIndexes(spec, input, args, all));
    }

    /// <summary>Whether the command takes any lock (keys, or the whole keyspace).</summary>
    public static bool Locks(CommandSpec spec) => spec.FirstKey > 0 || spec.NumKeysIndex > 0 || (spec.Lock & KeyLock.Keyspace) != 0;

    /// <summary>
    /// Fills <paramref name="set"/> with the locks a command must hold while it runs: shared for a
    /// ReadOnly command or a single-record write marked <see cref="KeyLock.SharedWrite"/>, exclusive
    /// otherwise; keys of another database (MOVE, COPY ... DB n) in that database too.
    /// </summary>
    public static void CollectLocks(CommandSpec spec, int db, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, LockSet set, StoreSession? store)
    {
        set.Begin();
        set.NamespaceMap = store?.Store.NamespaceMapIdentity; // before any key is hashed under it
        if (NeedsKeyspace(spec, input, args))
        {
            set.AddKeyspace();
            return;
        }
        AddLocks(spec, db, input, args, set, store, forceExclusive: false);
    }

    /// <summary>
    /// Whether the command takes the whole keyspace: a keyspace command (FLUSHDB, KEYS...), or a SORT whose
    /// BY/GET patterns name keys the lock table cannot know in advance.
    /// </summary>
    public static bool NeedsKeyspace(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args) =>
        (spec.Lock & KeyLock.Keyspace) != 0 || ((spec.Lock & KeyLock.Movable) != 0 && SortKeys.PatternsNameKeys(input, args))
        || (spec.Group == CommandGroup.Scripting && spec.NumKeysIndex == 2 && Scripting.ScriptCommands.NeedsKeyspace(spec, input, args));

    /// <summary>
    /// Adds a command's key locks to <paramref name="set"/> (a set being collected: one command's, or an
    /// EXEC's for all its queued commands, which passes <paramref name="forceExclusive"/> for every write).
    /// </summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static void AddLocks(CommandSpec spec, int db, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, LockSet set, StoreSession? store, bool forceExclusive)
    {
        var mode = spec.Lock;
        if (spec.FirstKey > 0 && spec.FirstKey == spec.LastKey && spec.NumKeysIndex == 0
            && (mode & (KeyLock.TargetDbArgument | KeyLock.TargetDbOption | KeyLock.Movable)) == 0)
        {
            // One key (GET, SET, INCR, HSET...): most commands; the general walk below cost GET 4% of its CPU.
            if (spec.FirstKey < args.Length)
            {
                bool x = forceExclusive || ((spec.Flags & CommandFlags.ReadOnly) == 0 && (mode & KeyLock.SharedWrite) == 0);
                Add(set, store, db, input.Slice(args[spec.FirstKey].Offset, args[spec.FirstKey].Length), x);
            }
            return;
        }
        Span<int> keys = stackalloc int[64];
        int count = KeyIndexes(spec, input, args, keys);
        if (count == keys.Length)
        {
            // MSET of thousands of keys: the stack span holds 64; the rest is walked the same way.
            var all = new int[args.Length];
            count = KeyIndexes(spec, input, args, all);
            keys = all;
        }
        bool exclusive = forceExclusive || ((spec.Flags & CommandFlags.ReadOnly) == 0 && !((mode & KeyLock.SharedWrite) != 0 && count == 1));
        int otherDb = OtherDatabase(spec, input, args, db);
        for (int i = 0; i < count; i++)
        {
            var key = input.Slice(args[keys[i]].Offset, args[keys[i]].Length);
            Add(set, store, db, key, exclusive);
            // COPY src dst DB n: dst is in db n; MOVE key n: key is in both.
            if (otherDb >= 0 && ((mode & KeyLock.TargetDbArgument) != 0 || i > 0)) Add(set, store, otherDb, key, exclusive);
        }
    }

    /// <summary>
    /// A key by its store hash, which its first store operation then reuses (GET hashed its key twice,
    /// once for the lock and once in FASTER: 4-5% of its CPU at pipeline 16). A database past the last
    /// names no records (the command answers its error), so it needs no lock.
    /// </summary>
    public static void AddKeyLock(LockSet set, StoreSession? store, int db, ReadOnlySpan<byte> key, bool exclusive) => Add(set, store, db, key, exclusive);

    private static void Add(LockSet set, StoreSession? store, int db, ReadOnlySpan<byte> key, bool exclusive)
    {
        if (store is null) set.AddKey(db, key, exclusive);
        else if ((uint)db < (uint)store.Store.Databases) set.AddHashed(store.HashKey(db, key), exclusive);
    }

    /// <summary>The other database a MOVE or COPY ... DB n names (its keys are written there too); -1 when none.</summary>
    public static int OtherDatabaseOf(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, int db)
        => (spec.Lock & (KeyLock.TargetDbArgument | KeyLock.TargetDbOption)) == 0 ? -1 : OtherDatabase(spec, input, args, db);

    /// <summary>The other database a MOVE or COPY ... DB n names; -1 when none (or not a number: the command fails).</summary>
    private static int OtherDatabase(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, int db)
    {
        int at = -1;
        if ((spec.Lock & KeyLock.TargetDbArgument) != 0)
        {
            int last = spec.LastKey >= 0 ? spec.LastKey : args.Length + spec.LastKey;
            at = last + 1;
        }
        else if ((spec.Lock & KeyLock.TargetDbOption) != 0)
        {
            int last = spec.LastKey >= 0 ? spec.LastKey : args.Length + spec.LastKey;
            for (int j = last + 1; j < args.Length - 1; j++)
            {
                if (Ascii.EqualsIgnoreCase(input.Slice(args[j].Offset, args[j].Length), "DB"u8))
                    at = j + 1;
            }
        }
        if (at <= 0 || at >= args.Length) return -1;
        if (!RespNumber.TryParseInt64(input.Slice(args[at].Offset, args[at].Length), out long d) || d < 0 || d > int.MaxValue || d == db) return -1;
        return (int)d;
    }
}
