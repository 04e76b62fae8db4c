using System.Text;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>Result of a typed key lookup; Error means the reply (WRONGTYPE) is already written.</summary>
internal enum Lookup : byte { NotFound, Found, Pending, Error }

internal enum ExpireUnit : byte { Seconds, Milliseconds, UnixSeconds, UnixMilliseconds }

/// <summary>What every keyspace command shares: the store, typed lookups, WRONGTYPE, expiry parsing.</summary>
internal static class Db
{
    public const string WrongTypeMessage = "WRONGTYPE Operation against a key holding the wrong kind of value";

    public static StoreSession Store(ref CommandContext ctx) => ctx.Client.Reactor.Store;

    public static void WrongType(ref CommandContext ctx) => ctx.Reply.Error(WrongTypeMessage);

    /// <summary>
    /// Looks up a key that must hold <paramref name="type"/> (None: any type). The one place that
    /// answers WRONGTYPE for reads.
    /// </summary>
    /// <param name="miss">A read command's miss fires keymiss (OBJECT's lookups do not: Redis's LOOKUP_NONOTIFY).</param>
    public static Lookup Read(ref CommandContext ctx, ReadOnlySpan<byte> key, KeyType type, out OpSlot slot, OpFlags flags = OpFlags.None, bool miss = true)
    {
        if (type == KeyType.String) flags |= OpFlags.StringOnly;
        var st = Store(ref ctx).Read(ctx.Client.Database, key, out slot, flags);
        if (st == OpStatus.Pending) return Lookup.Pending;
        if (st == OpStatus.NotFound)
        {
            if (Notify.On && miss) Missed(ref ctx, key);
            return Lookup.NotFound;
        }
        if (type != KeyType.None && slot.Type != type)
        {
            WrongType(ref ctx);
            return Lookup.Error;
        }
        return Lookup.Found;
    }

    /// <summary>lookupKeyRead's keymiss: a read command's lookup (a write's lookupKeyWrite fires none). Out of line: GET stays small.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Missed(ref CommandContext ctx, ReadOnlySpan<byte> key)
    {
        if ((ctx.Spec.Flags & CommandFlags.ReadOnly) != 0) Notify.Miss(ref ctx, key);
    }

    /// <summary>Writes the error an RMW reported (WRONGTYPE, not an integer, ...); true if it did.</summary>
    public static bool ReplyResultError(ref CommandContext ctx, OpSlot slot)
    {
        switch (slot.Result)
        {
            case OpResult.WrongType: WrongType(ref ctx); return true;
            case OpResult.NotInteger: ctx.Reply.Error("ERR value is not an integer or out of range"); return true;
            case OpResult.Overflow: ctx.Reply.Error("ERR increment or decrement would overflow"); return true;
            case OpResult.NotFloat: ctx.Reply.Error("ERR value is not a valid float"); return true;
            case OpResult.NanOrInfinity: ctx.Reply.Error("ERR increment would produce NaN or Infinity"); return true;
            default: return false;
        }
    }

    /// <summary>checkStringLength: a string may not grow past proto-max-bulk-len (nor past a log page).</summary>
    public static bool CheckStringLength(ref CommandContext ctx, long size, long append)
    {
        long total = size + append;
        if (total > ctx.Server.Config.ProtoMaxBulkLen || total < size || total < append)
        {
            ctx.Reply.Error("ERR string exceeds maximum allowed size (proto-max-bulk-len)");
            return false;
        }
        return CheckValueSize(ref ctx, total);
    }

    /// <summary>A value must fit in one page of the store's log.</summary>
    public static bool CheckValueSize(ref CommandContext ctx, long length)
    {
        if (length > ctx.Server.Store.MaxValueLength)
        {
            ctx.Reply.Error($"ERR value of {length} bytes exceeds the store's maximum value size ({ctx.Server.Store.MaxValueLength} bytes)");
            return false;
        }
        return true;
    }

    public static bool TryExpireKeyword(ref CommandContext ctx, int i, out ExpireUnit unit)
    {
        unit = default;
        if (ctx.ArgIs(i, "EX"u8)) unit = ExpireUnit.Seconds;
        else if (ctx.ArgIs(i, "PX"u8)) unit = ExpireUnit.Milliseconds;
        else if (ctx.ArgIs(i, "EXAT"u8)) unit = ExpireUnit.UnixSeconds;
        else if (ctx.ArgIs(i, "PXAT"u8)) unit = ExpireUnit.UnixMilliseconds;
        else return false;
        return true;
    }

    /// <summary>getExpireMillisecondsOrReply: absolute unix ms from an EX/PX/EXAT/PXAT argument.</summary>
    public static bool TryParseExpire(ref CommandContext ctx, int i, ExpireUnit unit, string command, out long expiry)
    {
        expiry = 0;
        if (!ctx.TryGetLong(i, out long ms))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return false;
        }
        bool seconds = unit is ExpireUnit.Seconds or ExpireUnit.UnixSeconds;
        if (ms <= 0 || (seconds && ms > long.MaxValue / 1000))
        {
            ctx.Reply.Error($"ERR invalid expire time in '{command}' command");
            return false;
        }
        if (seconds) ms *= 1000;
        if (unit is ExpireUnit.Seconds or ExpireUnit.Milliseconds) ms = unchecked(ms + CommandClock.NowMs());
        if (ms <= 0)
        {
            ctx.Reply.Error($"ERR invalid expire time in '{command}' command");
            return false;
        }
        expiry = ms;
        return true;
    }
}

/// <summary>Generic keyspace commands.</summary>
internal static class KeyCommands
{
    [RespCommand("DEL", Lock = KeyLock.SharedWrite, Arity = -2, Flags = CommandFlags.Write, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Deletes one or more keys.",
        Complexity = "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).")]
    public static void Del(ref CommandContext ctx) => DeleteKeys(ref ctx);

    [RespCommand("UNLINK", Lock = KeyLock.SharedWrite, Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Asynchronously deletes one or more keys.", Since = "4.0.0",
        Complexity = "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.")]
    public static void Unlink(ref CommandContext ctx) => DeleteKeys(ref ctx);

    private static void DeleteKeys(ref CommandContext ctx)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        long deleted = 0;
        for (int i = 1; i < ctx.Count; i++)
        {
            var input = new StoreInput { Op = StoreOp.Delete };
            var st = store.Rmw(db, ctx[i], ref input, out var slot);
            if (st == OpStatus.Pending) return;
            if (!slot.Found) continue;
            deleted++;
            Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "del"u8, ctx[i]);
        }
        ctx.Reply.Integer(deleted);
    }
}

/// <summary>Generic keyspace commands (part 2): existence, type, expiry, renames, enumeration, databases.</summary>
internal static unsafe class KeyspaceCommands
{
    [RespCommand("EXISTS", Arity = -2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Determines whether one or more keys exist.",
        Complexity = "O(N) where N is the number of keys to check.")]
    public static void Exists(ref CommandContext ctx) => CountExisting(ref ctx);

    [RespCommand("TOUCH", Arity = -2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Returns the number of existing keys out of those specified after updating the time they were last accessed.", Since = "3.2.1",
        Complexity = "O(N) where N is the number of keys that will be touched.")]
    public static void Touch(ref CommandContext ctx) => CountExisting(ref ctx);

    private static void CountExisting(ref CommandContext ctx)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        long n = 0;
        for (int i = 1; i < ctx.Count; i++)
        {
            var st = store.Read(db, ctx[i], out _, OpFlags.HeaderOnly);
            if (st == OpStatus.Found) n++;
            else if (st == OpStatus.NotFound) Notify.Miss(ref ctx, ctx[i]);
        }
        if (store.AttemptPending) return;
        ctx.Reply.Integer(n);
    }

    [RespCommand("TYPE", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Determines the type of value stored at a key.", Complexity = "O(1)")]
    public static void Type(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[1], KeyType.None, out var slot, OpFlags.HeaderOnly);
        if (st == Lookup.Pending) return;
        ctx.Reply.SimpleString(st == Lookup.Found ? ValueLayout.TypeName(slot.Type) : "none");
    }

    // ------------------------------------------------------------ expiry

    [RespCommand("EXPIRE", Lock = KeyLock.SharedWrite, Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Sets the expiration time of a key in seconds.", Complexity = "O(1)")]
    public static void Expire(ref CommandContext ctx) => ExpireGeneric(ref ctx, CommandClock.NowMs(), seconds: true, "expire");

    [RespCommand("PEXPIRE", Lock = KeyLock.SharedWrite, Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Sets the expiration time of a key in milliseconds.", Since = "2.6.0", Complexity = "O(1)")]
    public static void PExpire(ref CommandContext ctx) => ExpireGeneric(ref ctx, CommandClock.NowMs(), seconds: false, "pexpire");

    [RespCommand("EXPIREAT", Lock = KeyLock.SharedWrite, Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Sets the expiration time of a key to a Unix timestamp.", Since = "1.2.0", Complexity = "O(1)")]
    public static void ExpireAt(ref CommandContext ctx) => ExpireGeneric(ref ctx, 0, seconds: true, "expireat");

    [RespCommand("PEXPIREAT", Lock = KeyLock.SharedWrite, Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Sets the expiration time of a key to a Unix milliseconds timestamp.", Since = "2.6.0", Complexity = "O(1)")]
    public static void PExpireAt(ref CommandContext ctx) => ExpireGeneric(ref ctx, 0, seconds: false, "pexpireat");

    private static void ExpireGeneric(ref CommandContext ctx, long basetime, bool seconds, string name)
    {
        var flags = OpFlags.None;
        for (int j = 3; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "NX"u8)) flags |= OpFlags.NX;
            else if (ctx.ArgIs(j, "XX"u8)) flags |= OpFlags.XX;
            else if (ctx.ArgIs(j, "GT"u8)) flags |= OpFlags.GT;
            else if (ctx.ArgIs(j, "LT"u8)) flags |= OpFlags.LT;
            else
            {
                ErrorText.Quote(ctx.Reply, "ERR Unsupported option "u8, ctx[j], default);
                return;
            }
        }
        if ((flags & OpFlags.NX) != 0 && (flags & (OpFlags.XX | OpFlags.GT | OpFlags.LT)) != 0)
        {
            ctx.Reply.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
            return;
        }
        if ((flags & OpFlags.GT) != 0 && (flags & OpFlags.LT) != 0)
        {
            ctx.Reply.Error("ERR GT and LT options at the same time are not compatible");
            return;
        }
        if (!ctx.TryGetLong(2, out long when))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                ctx.Reply.Error($"ERR invalid expire time in '{name}' command");
                return;
            }
            when *= 1000;
        }
        if (when > long.MaxValue - basetime)
        {
            ctx.Reply.Error($"ERR invalid expire time in '{name}' command");
            return;
        }
        when += basetime;
        var input = new StoreInput { Op = StoreOp.Expire, Flags = flags, Expiry = when };
        if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out var slot) == OpStatus.Pending) return;
        bool set = slot.Found && slot.Result == OpResult.Ok;
        ctx.Reply.Integer(set ? 1 : 0);
        // expireGenericCommand: a time already past deletes the key (propagated as DEL).
        if (set) Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, when <= input.Now ? "del"u8 : "expire"u8, ctx[1]);
    }

    [RespCommand("TTL", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Returns the expiration time in seconds of a key.", Complexity = "O(1)")]
    public static void Ttl(ref CommandContext ctx) => TtlGeneric(ref ctx, ms: false, absolute: false);

    [RespCommand("PTTL", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Returns the expiration time in milliseconds of a key.", Since = "2.6.0", Complexity = "O(1)")]
    public static void PTtl(ref CommandContext ctx) => TtlGeneric(ref ctx, ms: true, absolute: false);

    [RespCommand("EXPIRETIME", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Returns the expiration time of a key as a Unix timestamp.", Since = "7.0.0", Complexity = "O(1)")]
    public static void ExpireTime(ref CommandContext ctx) => TtlGeneric(ref ctx, ms: false, absolute: true);

    [RespCommand("PEXPIRETIME", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Returns the expiration time of a key as a Unix milliseconds timestamp.", Since = "7.0.0", Complexity = "O(1)")]
    public static void PExpireTime(ref CommandContext ctx) => TtlGeneric(ref ctx, ms: true, absolute: true);

    private static void TtlGeneric(ref CommandContext ctx, bool ms, bool absolute)
    {
        var st = Db.Read(ref ctx, ctx[1], KeyType.None, out var slot, OpFlags.HeaderOnly);
        if (st == Lookup.Pending) return;
        if (st != Lookup.Found) { ctx.Reply.Integer(-2); return; }
        if (slot.Expiry == 0) { ctx.Reply.Integer(-1); return; }
        if (absolute)
        {
            ctx.Reply.Integer(ms ? slot.Expiry : slot.Expiry / 1000);
            return;
        }
        long ttl = slot.Expiry - CommandClock.NowMs();
        if (ttl < 0) ttl = 0;
        ctx.Reply.Integer(ms ? ttl : (ttl + 500) / 1000);
    }

    [RespCommand("PERSIST", Lock = KeyLock.SharedWrite, Arity = 2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Removes the expiration time of a key.", Since = "2.2.0", Complexity = "O(1)")]
    public static void Persist(ref CommandContext ctx)
    {
        var input = new StoreInput { Op = StoreOp.Persist };
        if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out var slot) == OpStatus.Pending) return;
        bool removed = slot.Found && slot.Result == OpResult.Ok;
        ctx.Reply.Integer(removed ? 1 : 0);
        if (removed) Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "persist"u8, ctx[1]);
    }

    // ------------------------------------------------------------ rename / copy / move

    [RespCommand("RENAME", Arity = 3, Flags = CommandFlags.Write, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.Generic, Summary = "Renames a key and overwrites the destination.", Complexity = "O(1)")]
    public static void Rename(ref CommandContext ctx) => RenameGeneric(ref ctx, nx: false);

    [RespCommand("RENAMENX", Arity = 3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.Generic, Summary = "Renames a key only when the target key name doesn't exist.", Complexity = "O(1)")]
    public static void RenameNx(ref CommandContext ctx) => RenameGeneric(ref ctx, nx: true);

    private static void RenameGeneric(ref CommandContext ctx, bool nx)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        var st = store.Read(db, ctx[1], out var src);
        if (st == OpStatus.Pending) return;
        if (st == OpStatus.NotFound)
        {
            ctx.Reply.Error("ERR no such key");
            return;
        }
        if (ctx[1].SequenceEqual(ctx[2]))
        {
            if (nx) ctx.Reply.Integer(0);
            else ctx.Reply.Ok();
            return;
        }
        var r = CopyValue(store, src, db, ctx[2], nx);
        if (r == OpStatus.Pending) return;
        if (nx && r == OpStatus.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var del = new StoreInput { Op = StoreOp.Delete };
        if (store.Rmw(db, ctx[1], ref del, out _) == OpStatus.Pending) return;
        if (nx) ctx.Reply.Integer(1);
        else ctx.Reply.Ok();
        if (!Notify.On) return;
        Notify.New(ref ctx, ctx[2]); // dbAdd of the destination, overwritten or not
        Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "rename_from"u8, ctx[1]);
        Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "rename_to"u8, ctx[2]);
    }

    /// <summary>Writes a read value (type, expiry, payload) to <paramref name="dst"/>; NotFound when NX kept it out.</summary>
    private static OpStatus CopyValue(StoreSession store, OpSlot src, int db, ReadOnlySpan<byte> dst, bool nx)
    {
        var value = src.Value;
        fixed (byte* p = value)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = nx ? OpFlags.NX : OpFlags.None, Type = src.Type, Expiry = src.Expiry,
                Data = p, DataLength = value.Length,
            };
            var st = store.Rmw(db, dst, ref input, out var slot);
            if (st == OpStatus.Pending) return st;
            return slot.Result == OpResult.NotApplied ? OpStatus.NotFound : OpStatus.Found;
        }
    }

    [RespCommand("COPY", Lock = KeyLock.TargetDbOption, Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 2, Step = 1,
        Group = CommandGroup.Generic, Summary = "Copies the value of a key to a new key.", Since = "6.2.0",
        Complexity = "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.")]
    public static void Copy(ref CommandContext ctx)
    {
        int srcDb = ctx.Client.Database, dstDb = srcDb;
        bool replace = false;
        for (int j = 3; j < ctx.Count; j++)
        {
            if (ctx.ArgIs(j, "REPLACE"u8)) replace = true;
            else if (ctx.ArgIs(j, "DB"u8) && j < ctx.Count - 1)
            {
                if (!ctx.TryGetLong(j + 1, out long d) || d < int.MinValue || d > int.MaxValue)
                {
                    ctx.Reply.Error("ERR value is not an integer or out of range");
                    return;
                }
                if (d < 0 || d >= ctx.Server.Store.Databases)
                {
                    ctx.Reply.Error("ERR DB index is out of range");
                    return;
                }
                dstDb = (int)d;
                j++;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        if (srcDb == dstDb && ctx[1].SequenceEqual(ctx[2]))
        {
            ctx.Reply.Error("ERR source and destination objects are the same");
            return;
        }
        var store = Db.Store(ref ctx);
        var st = store.Read(srcDb, ctx[1], out var src);
        if (st == OpStatus.Pending) return;
        if (st == OpStatus.NotFound)
        {
            Notify.Miss(ref ctx, ctx[1]);
            ctx.Reply.Integer(0);
            return;
        }
        if (src.Type is KeyType.Hash or KeyType.Set && Storage.Values.Paged.PagedRoot.TryRead(src.Value, out var meta))
        {
            // A paged collection's copy gets pages of its own: sharing the cid would lose both's pages with either key.
            int copied = PagedCopy.Copy(ref ctx, dstDb, src.Type, src.Expiry, meta, replace);
            if (copied >= 0) ctx.Reply.Integer(copied);
            if (copied == 1) Copied(ref ctx, dstDb);
            return;
        }
        if (src.Type == KeyType.List && Storage.Values.Paged.ListRoot.TryRead(src.Value, out var list))
        {
            int copied = PagedListCopy.Copy(ref ctx, dstDb, src.Expiry, list, replace);
            if (copied >= 0) ctx.Reply.Integer(copied);
            if (copied == 1) Copied(ref ctx, dstDb);
            return;
        }
        // A paged sorted set's copy is the whole set inline (the copy's next ZADD pages it again under a cid of its own).
        if (src.Type == KeyType.ZSet && !PagedZSets.Materialize(ref ctx, src)) return;
        var r = CopyValue(store, src, dstDb, ctx[2], nx: !replace);
        if (r == OpStatus.Pending) return;
        ctx.Reply.Integer(r == OpStatus.Found ? 1 : 0);
        if (r == OpStatus.Found) Copied(ref ctx, dstDb);
    }

    /// <summary>copyCommand's events: dbAdd's new, then copy_to, in the destination's database.</summary>
    private static void Copied(ref CommandContext ctx, int dstDb)
    {
        Notify.Event(ref ctx, Config.KeyspaceEvents.New, "new"u8, ctx[2], dstDb);
        Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "copy_to"u8, ctx[2], dstDb);
    }

    [RespCommand("MOVE", Lock = KeyLock.TargetDbArgument, Arity = 3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Moves a key to another database.", Complexity = "O(1)")]
    public static void Move(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long d) || d < int.MinValue || d > int.MaxValue)
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (d < 0 || d >= ctx.Server.Store.Databases)
        {
            ctx.Reply.Error("ERR DB index is out of range");
            return;
        }
        int srcDb = ctx.Client.Database;
        if (d == srcDb)
        {
            ctx.Reply.Error("ERR source and destination objects are the same");
            return;
        }
        var store = Db.Store(ref ctx);
        var st = store.Read(srcDb, ctx[1], out var src);
        if (st == OpStatus.Pending) return;
        if (st == OpStatus.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var r = CopyValue(store, src, (int)d, ctx[1], nx: true);
        if (r == OpStatus.Pending) return;
        if (r == OpStatus.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        var del = new StoreInput { Op = StoreOp.Delete };
        if (store.Rmw(srcDb, ctx[1], ref del, out _) == OpStatus.Pending) return;
        ctx.Reply.Integer(1);
        if (!Notify.On) return;
        Notify.Event(ref ctx, Config.KeyspaceEvents.New, "new"u8, ctx[1], (int)d);
        Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "move_from"u8, ctx[1], srcDb);
        Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "move_to"u8, ctx[1], (int)d);
    }

    // ------------------------------------------------------------ enumeration

    /// <summary>
    /// Walks log records from <paramref name="from"/>, collecting the current version of keys of
    /// namespace <paramref name="ns"/>; returns the next address (tail when done).
    /// </summary>
    private static long Walk(StoreSession session, int ns, long from, long skipBelow, long until, long maxRecords, long maxKeys,
        ReadOnlySpan<byte> pattern, KeyType typeFilter, List<byte[]> keys)
    {
        var store = session.Store;
        var log = store.Kv.Log;
        long examined = 0;
        long next = until;
        var candidates = new List<(byte[] key, long address)>();
        using (var iter = log.Scan(from, until))
        {
            while (iter.GetNext(out var info))
            {
                next = iter.NextAddress;
                if (iter.CurrentAddress < skipBelow) continue;
                examined++;
                if (!info.Tombstone && !info.Invalid)
                {
                    ref var key = ref iter.GetKey();
                    if (key.Length >= ValueLayout.KeyPrefix && ValueLayout.NamespaceOf(ref key) == ns)
                    {
                        var user = ValueLayout.UserKeyOf(ref key);
                        ref var value = ref iter.GetValue();
                        bool typeOk = typeFilter == KeyType.None || (value.Length >= ValueLayout.Header && ValueLayout.TypeOf(ref value) == typeFilter);
                        if (typeOk && (pattern.IsEmpty || GlobMatcher.Match(pattern, user)))
                            candidates.Add((key.AsReadOnlySpan().ToArray(), iter.CurrentAddress));
                    }
                }
                if (examined >= maxRecords || candidates.Count >= maxKeys) break;
            }
        }
        foreach (var (key, address) in candidates)
        {
            if (session.IsLatest(key, address, out _)) keys.Add(key[ValueLayout.KeyPrefix..]);
        }
        return next;
    }

    [RespCommand("KEYS", Lock = KeyLock.Keyspace, Arity = 2, Flags = CommandFlags.ReadOnly, Group = CommandGroup.Generic,
        Summary = "Returns all key names that match a pattern.",
        Complexity = "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.")]
    public static void Keys(ref CommandContext ctx)
    {
        var session = Db.Store(ref ctx);
        var store = session.Store;
        int ns = store.Namespace(ctx.Client.Database);
        var keys = new List<byte[]>();
        var pattern = ctx[1];
        bool all = pattern.Length == 1 && pattern[0] == (byte)'*';
        long tail = store.Kv.Log.TailAddress;
        long from = store.Kv.Log.BeginAddress;
        while (from < tail)
            from = Walk(session, ns, from, 0, tail, 100_000, 100_000, all ? default : pattern, KeyType.None, keys);
        var seen = new HashSet<string>(keys.Count);
        int unique = 0;
        var distinct = new List<byte[]>(keys.Count);
        foreach (var k in keys)
        {
            if (seen.Add(System.Text.Encoding.Latin1.GetString(k))) { distinct.Add(k); unique++; }
        }
        ctx.Reply.ArrayHeader(unique);
        foreach (var k in distinct) ctx.Reply.Bulk(k);
    }

    [RespCommand("SCAN", Lock = KeyLock.Keyspace, Arity = -2, Flags = CommandFlags.ReadOnly, Group = CommandGroup.Generic, Since = "2.8.0",
        Summary = "Iterates over the key names in the database.",
        Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")]
    public static void Scan(ref CommandContext ctx)
    {
        // scanCommand -> scanGenericCommand
        if (!ScanArgs.TryParseCursor(ref ctx, 1, out ulong cursor) || !ScanArgs.TryParse(ref ctx, 2, allowType: true, out var scan)) return;
        long count = scan.Count;
        var pattern = scan.Pattern;
        var type = scan.Type;
        bool typeGiven = scan.TypeGiven;
        var session = Db.Store(ref ctx);
        var store = session.Store;
        int ns = store.Namespace(ctx.Client.Database);
        var keys = new List<byte[]>();
        long next = 0;
        if (!(typeGiven && type == KeyType.None))
        {
            long tail = store.Kv.Log.TailAddress;
            long from = store.ResumeAddress((long)Math.Min(cursor, long.MaxValue), out long skipBelow);
            if (from < tail)
            {
                long maxRecords = Math.Max(count * 10, 100);
                next = Walk(session, ns, from, skipBelow, tail, maxRecords, count, pattern, type, keys);
                if (next >= tail) next = 0;
                else store.IssueCursor(next);
            }
        }
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk(next);
        ctx.Reply.ArrayHeader(keys.Count);
        foreach (var k in keys) ctx.Reply.Bulk(k);
    }

    [RespCommand("RANDOMKEY", Lock = KeyLock.Keyspace, Arity = 1, Flags = CommandFlags.ReadOnly, Group = CommandGroup.Generic,
        Summary = "Returns a random key name from the database.", Complexity = "O(1)")]
    public static void RandomKey(ref CommandContext ctx)
    {
        var session = Db.Store(ref ctx);
        var store = session.Store;
        int db = ctx.Client.Database;
        if (store.KeyCount(db) == 0)
        {
            ctx.Reply.NullBulk();
            return;
        }
        int ns = store.Namespace(db);
        var log = store.Kv.Log;
        long begin = log.BeginAddress, tail = log.TailAddress;
        var keys = new List<byte[]>();
        // A few random pages first, then the whole log from a random point.
        for (int attempt = 0; attempt < 4 && keys.Count == 0; attempt++)
        {
            long at = begin + (long)(Random.Shared.NextDouble() * (tail - begin));
            long from = Math.Max(begin, at & ~((1L << store.PageBits) - 1));
            Walk(session, ns, from, 0, tail, 2000, 16, default, KeyType.None, keys);
        }
        long pos = begin;
        while (keys.Count == 0 && pos < tail)
            pos = Walk(session, ns, pos, 0, tail, 100_000, 16, default, KeyType.None, keys);
        if (keys.Count == 0) ctx.Reply.NullBulk();
        else ctx.Reply.Bulk(keys[Random.Shared.Next(keys.Count)]);
    }

    // ------------------------------------------------------------ databases

    [RespCommand("DBSIZE", Lock = KeyLock.Keyspace, Arity = 1, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, Group = CommandGroup.Server,
        Summary = "Returns the number of keys in the database.", Complexity = "O(1)")]
    public static void DbSize(ref CommandContext ctx) => ctx.Reply.Integer(ctx.Server.Store.KeyCount(ctx.Client.Database));

    [RespCommand("FLUSHDB", Lock = KeyLock.Keyspace, Arity = -1, Flags = CommandFlags.Write, Group = CommandGroup.Server,
        Summary = "Remove all keys from the current database.", Complexity = "O(N) where N is the number of keys in the selected database")]
    public static void FlushDb(ref CommandContext ctx)
    {
        if (!FlushMode(ref ctx)) return;
        ctx.Server.Store.FlushDb(ctx.Client.Database);
        ctx.Server.Watches.TouchFlushed(ctx.Client.Database);
        if (ctx.Server.Tracking.Active) ctx.Client.Reactor.Tracking.StageFlush();
        Db.Store(ref ctx).MarkDirty();
        ctx.Reply.Ok();
    }

    [RespCommand("FLUSHALL", Lock = KeyLock.Keyspace, Arity = -1, Flags = CommandFlags.Write, Group = CommandGroup.Server,
        Summary = "Removes all keys from all databases.", Complexity = "O(N) where N is the total number of keys in all databases")]
    public static void FlushAll(ref CommandContext ctx)
    {
        if (!FlushMode(ref ctx)) return;
        ctx.Server.Store.FlushAll();
        ctx.Server.Watches.TouchFlushed(-1);
        if (ctx.Server.Tracking.Active) ctx.Client.Reactor.Tracking.StageFlush();
        Db.Store(ref ctx).MarkDirty();
        ctx.Reply.Ok();
    }

    private static bool FlushMode(ref CommandContext ctx)
    {
        if (ctx.Count > 2 || (ctx.Count == 2 && !ctx.ArgIs(1, "ASYNC"u8) && !ctx.ArgIs(1, "SYNC"u8)))
        {
            ctx.Reply.Error("ERR syntax error");
            return false;
        }
        return true;
    }

    [RespCommand("SWAPDB", Lock = KeyLock.Keyspace, Arity = 3, Flags = CommandFlags.Write | CommandFlags.Fast, Group = CommandGroup.Server, Since = "4.0.0",
        Summary = "Swaps two Redis databases.", Complexity = "O(N) where N is the count of clients watching or blocking on keys from both databases.")]
    public static void SwapDb(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(1, out long a) || a < int.MinValue || a > int.MaxValue)
        {
            ctx.Reply.Error("ERR invalid first DB index");
            return;
        }
        if (!ctx.TryGetLong(2, out long b) || b < int.MinValue || b > int.MaxValue)
        {
            ctx.Reply.Error("ERR invalid second DB index");
            return;
        }
        var store = ctx.Server.Store;
        if (a < 0 || a >= store.Databases || b < 0 || b >= store.Databases)
        {
            ctx.Reply.Error("ERR DB index is out of range");
            return;
        }
        if (a != b)
        {
            store.SwapDb((int)a, (int)b);
            ctx.Server.Watches.TouchSwapped((int)a, (int)b);
        }
        Db.Store(ref ctx).MarkDirty();
        // swapdb's scanDatabaseForReadyKeys on both: waiters keep their index and are served by the data it
        // now holds (their re-runs wait for this command's keyspace lock).
        if (a != b && ctx.Server.Blocking.AnyBlocked)
        {
            ctx.Server.Blocking.SignalDb((int)a);
            ctx.Server.Blocking.SignalDb((int)b);
        }
        ctx.Reply.Ok();
    }
}
