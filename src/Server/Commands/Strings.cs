using NativeKv.Server.Config;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>String commands over the FASTER store.</summary>
internal static unsafe class StringCommands
{
    [RespCommand("GET", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns the string value of a key.", Complexity = "O(1)")]
    public static void Get(ref CommandContext ctx)
    {
        switch (Db.Read(ref ctx, ctx[1], KeyType.String, out var slot))
        {
            case Lookup.Found: ctx.Reply.Bulk(slot.Value); break;
            case Lookup.NotFound: ctx.Reply.NullBulk(); break;
        }
    }

    [RespCommand("SET", Lock = KeyLock.SharedWrite, Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
        Complexity = "O(1)")]
    public static void Set(ref CommandContext ctx)
    {
        var flags = OpFlags.None;
        int expireArg = -1;
        ExpireUnit unit = default;
        for (int j = 3; j < ctx.Count; j++)
        {
            bool hasNext = j < ctx.Count - 1;
            if (ctx.ArgIs(j, "NX"u8) && (flags & OpFlags.XX) == 0) flags |= OpFlags.NX;
            else if (ctx.ArgIs(j, "XX"u8) && (flags & OpFlags.NX) == 0) flags |= OpFlags.XX;
            else if (ctx.ArgIs(j, "GET"u8)) flags |= OpFlags.GetOld;
            else if (ctx.ArgIs(j, "KEEPTTL"u8) && expireArg < 0) flags |= OpFlags.KeepTtl;
            else if (hasNext && expireArg < 0 && (flags & OpFlags.KeepTtl) == 0 && Db.TryExpireKeyword(ref ctx, j, out unit))
            {
                expireArg = ++j;
            }
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        long expiry = 0;
        if (expireArg > 0 && !Db.TryParseExpire(ref ctx, expireArg, unit, "set", out expiry)) return;
        SetGeneric(ref ctx, ctx[1], ctx[2], flags, expiry, replyOk: true);
    }

    /// <summary>setGenericCommand: the write, then OK / nil / old value as Redis replies.</summary>
    private static void SetGeneric(ref CommandContext ctx, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, OpFlags flags, long expiry, bool replyOk)
    {
        if (!Db.CheckValueSize(ref ctx, value.Length)) return;
        OpStatus st;
        OpSlot slot;
        long now;
        fixed (byte* p = value)
        {
            var input = new StoreInput { Op = StoreOp.Set, Flags = flags, Type = KeyType.String, Expiry = expiry, Data = p, DataLength = value.Length };
            st = Db.Store(ref ctx).Rmw(ctx.Client.Database, key, ref input, out slot);
            now = input.Now;
        }
        if (st == OpStatus.Pending) return;
        if (slot.Result == OpResult.WrongType) { Db.WrongType(ref ctx); return; }
        if (Notify.On) NotifySet(ref ctx, key, slot, flags, expiry, expiry != 0 && expiry <= now);
        if ((flags & OpFlags.GetOld) != 0)
        {
            if (slot.Found) ctx.Reply.Bulk(slot.Value);
            else ctx.Reply.NullBulk();
            return;
        }
        if (slot.Result == OpResult.NotApplied)
        {
            if (replyOk) ctx.Reply.NullBulk();
            else ctx.Reply.Integer(0);
            return;
        }
        if (replyOk) ctx.Reply.Ok();
        else ctx.Reply.Integer(1);
    }

    /// <summary>
    /// setGenericCommand's events: keymiss (GET's lookup), new, set, expire. An expiry already past is not written
    /// (the store drops the key at once) where Redis writes the key and expires it at its next access: its set and
    /// expire, then expired, all fire now.
    /// </summary>
    private static void NotifySet(ref CommandContext ctx, ReadOnlySpan<byte> key, OpSlot slot, OpFlags flags, long expiry, bool past)
    {
        if ((flags & OpFlags.GetOld) != 0 && !slot.Found) Notify.Miss(ref ctx, key);
        if (slot.Result == OpResult.NotApplied || (!slot.Changed && !past)) return;
        if (!slot.Found) Notify.New(ref ctx, key);
        Notify.Event(ref ctx, KeyspaceEvents.String, "set"u8, key);
        if (expiry != 0) Notify.Event(ref ctx, KeyspaceEvents.Generic, "expire"u8, key);
        if (past) Notify.Event(ref ctx, KeyspaceEvents.Expired, "expired"u8, key);
    }

    [RespCommand("SETNX", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Set the string value of a key only when the key doesn't exist.", Complexity = "O(1)")]
    public static void SetNx(ref CommandContext ctx) => SetGeneric(ref ctx, ctx[1], ctx[2], OpFlags.NX, 0, replyOk: false);

    [RespCommand("SETEX", Lock = KeyLock.SharedWrite, Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", Since = "2.0.0", Complexity = "O(1)")]
    public static void SetEx(ref CommandContext ctx)
    {
        if (!Db.TryParseExpire(ref ctx, 2, ExpireUnit.Seconds, "setex", out long expiry)) return;
        SetGeneric(ref ctx, ctx[1], ctx[3], OpFlags.None, expiry, replyOk: true);
    }

    [RespCommand("PSETEX", Lock = KeyLock.SharedWrite, Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", Since = "2.6.0", Complexity = "O(1)")]
    public static void PSetEx(ref CommandContext ctx)
    {
        if (!Db.TryParseExpire(ref ctx, 2, ExpireUnit.Milliseconds, "psetex", out long expiry)) return;
        SetGeneric(ref ctx, ctx[1], ctx[3], OpFlags.None, expiry, replyOk: true);
    }

    [RespCommand("GETSET", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns the previous string value of a key after setting it to a new value.", Complexity = "O(1)")]
    public static void GetSet(ref CommandContext ctx) => SetGeneric(ref ctx, ctx[1], ctx[2], OpFlags.GetOld, 0, replyOk: true);

    [RespCommand("GETDEL", Lock = KeyLock.SharedWrite, Arity = 2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns the string value of a key after deleting the key.", Since = "6.2.0", Complexity = "O(1)")]
    public static void GetDel(ref CommandContext ctx)
    {
        var input = new StoreInput { Op = StoreOp.Delete, Flags = OpFlags.GetOld };
        var st = Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out var slot);
        if (st == OpStatus.Pending) return;
        if (slot.Result == OpResult.WrongType) { Db.WrongType(ref ctx); return; }
        if (slot.Found) ctx.Reply.Bulk(slot.Value);
        else ctx.Reply.NullBulk();
        if (slot.Found) Notify.Event(ref ctx, KeyspaceEvents.Generic, "del"u8, ctx[1]);
        else Notify.Miss(ref ctx, ctx[1]);
    }

    [RespCommand("GETEX", Lock = KeyLock.SharedWrite, Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns the string value of a key after setting its expiration time.", Since = "6.2.0", Complexity = "O(1)")]
    public static void GetEx(ref CommandContext ctx)
    {
        bool persist = false;
        int expireArg = -1;
        ExpireUnit unit = default;
        for (int j = 2; j < ctx.Count; j++)
        {
            bool hasNext = j < ctx.Count - 1;
            if (ctx.ArgIs(j, "PERSIST"u8) && expireArg < 0) persist = true;
            else if (hasNext && expireArg < 0 && !persist && Db.TryExpireKeyword(ref ctx, j, out unit)) expireArg = ++j;
            else
            {
                ctx.Reply.Error("ERR syntax error");
                return;
            }
        }
        var store = Db.Store(ref ctx);
        var st = Db.Read(ref ctx, ctx[1], KeyType.String, out var slot);
        if (st != Lookup.Found)
        {
            if (st == Lookup.NotFound)
            {
                Notify.Miss(ref ctx, ctx[1]);
                ctx.Reply.NullBulk();
            }
            return;
        }
        long expiry = 0;
        if (expireArg > 0 && !Db.TryParseExpire(ref ctx, expireArg, unit, "getex", out expiry)) return;
        if (expireArg < 0 && !persist)
        {
            ctx.Reply.Bulk(slot.Value);
            return;
        }
        var input = new StoreInput { Op = StoreOp.GetEx, Flags = OpFlags.SetExpiry, Expiry = persist ? 0 : expiry };
        var st2 = store.Rmw(ctx.Client.Database, ctx[1], ref input, out var slot2);
        if (st2 == OpStatus.Pending) return;
        if (slot2.Result == OpResult.WrongType) { Db.WrongType(ref ctx); return; }
        if (slot2.Found) ctx.Reply.Bulk(slot2.Value);
        else ctx.Reply.NullBulk();
        if (!slot2.Found || !Notify.On) return;
        // The expire was in the past: the key went (propagated as DEL); a PERSIST of a key without a TTL changes nothing.
        if (!persist && expiry <= CommandClock.NowMs()) Notify.Event(ref ctx, KeyspaceEvents.Generic, "del"u8, ctx[1]);
        else if (!persist) Notify.Event(ref ctx, KeyspaceEvents.Generic, "expire"u8, ctx[1]);
        else if (slot2.Changed) Notify.Event(ref ctx, KeyspaceEvents.Generic, "persist"u8, ctx[1]);
    }

    [RespCommand("MGET", Arity = -2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.String, Summary = "Atomically returns the string values of one or more keys.", Complexity = "O(N) where N is the number of keys to retrieve.")]
    public static void MGet(ref CommandContext ctx)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        ctx.Reply.ArrayHeader(ctx.Count - 1);
        for (int i = 1; i < ctx.Count; i++)
        {
            // Every read is issued even after one went to disk, so they wait in parallel.
            var st = store.Read(db, ctx[i], out var slot, OpFlags.StringOnly);
            if (store.AttemptPending) continue;
            if (st == OpStatus.Found && slot.Type == KeyType.String) ctx.Reply.Bulk(slot.Value);
            else
            {
                if (st == OpStatus.NotFound) Notify.Miss(ref ctx, ctx[i]);
                ctx.Reply.NullBulk();
            }
        }
    }

    [RespCommand("MSET", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 2,
        Group = CommandGroup.String, Summary = "Atomically creates or modifies the string values of one or more keys.", Since = "1.0.1",
        Complexity = "O(N) where N is the number of keys to set.")]
    public static void MSet(ref CommandContext ctx)
    {
        if (ctx.Count % 2 == 0)
        {
            ctx.Reply.Error("ERR wrong number of arguments for 'mset' command");
            return;
        }
        for (int i = 2; i < ctx.Count; i += 2)
        {
            if (!Db.CheckValueSize(ref ctx, ctx[i].Length)) return;
        }
        if (!SetAll(ref ctx, OpFlags.None)) return;
        ctx.Reply.Ok();
    }

    private static bool SetAll(ref CommandContext ctx, OpFlags flags)
    {
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        for (int i = 1; i < ctx.Count; i += 2)
        {
            var value = ctx[i + 1];
            fixed (byte* p = value)
            {
                var input = new StoreInput { Op = StoreOp.Set, Flags = flags, Type = KeyType.String, Data = p, DataLength = value.Length };
                if (store.Rmw(db, ctx[i], ref input, out var slot) == OpStatus.Pending) return false;
                if (Notify.On)
                {
                    if (!slot.Found) Notify.New(ref ctx, ctx[i]);
                    Notify.Event(ref ctx, KeyspaceEvents.String, "set"u8, ctx[i]);
                }
            }
        }
        return true;
    }

    [RespCommand("MSETNX", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 2,
        Group = CommandGroup.String, Summary = "Atomically modifies the string values of one or more keys only when all keys don't exist.", Since = "1.0.1",
        Complexity = "O(N) where N is the number of keys to set.")]
    public static void MSetNx(ref CommandContext ctx)
    {
        if (ctx.Count % 2 == 0)
        {
            ctx.Reply.Error("ERR wrong number of arguments for 'msetnx' command");
            return;
        }
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;
        bool any = false;
        for (int i = 1; i < ctx.Count; i += 2)
        {
            if (store.Read(db, ctx[i], out _, OpFlags.HeaderOnly) == OpStatus.Found) any = true;
        }
        if (store.AttemptPending) return;
        if (any)
        {
            ctx.Reply.Integer(0);
            return;
        }
        for (int i = 2; i < ctx.Count; i += 2)
        {
            if (!Db.CheckValueSize(ref ctx, ctx[i].Length)) return;
        }
        if (!SetAll(ref ctx, OpFlags.None)) return;
        ctx.Reply.Integer(1);
    }

    [RespCommand("APPEND", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Appends a string to the value of a key. Creates the key if it doesn't exist.", Since = "2.0.0",
        Complexity = "O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.")]
    public static void Append(ref CommandContext ctx)
    {
        var st = Db.Read(ref ctx, ctx[1], KeyType.String, out var slot, OpFlags.HeaderOnly);
        if (st is Lookup.Pending or Lookup.Error) return;
        long old = st == Lookup.Found ? slot.Number : 0;
        var value = ctx[2];
        if (!Db.CheckStringLength(ref ctx, old, value.Length)) return;
        fixed (byte* p = value)
        {
            var input = new StoreInput { Op = StoreOp.Append, Data = p, DataLength = value.Length };
            if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out slot) == OpStatus.Pending) return;
        }
        if (slot.Result == OpResult.WrongType) { Db.WrongType(ref ctx); return; }
        if (Notify.On) Written(ref ctx, slot, "append"u8);
        ctx.Reply.Integer(slot.Number);
    }

    /// <summary>A write of a string command that may create its key: new (dbAdd), then its event.</summary>
    private static void Written(ref CommandContext ctx, OpSlot slot, ReadOnlySpan<byte> evt)
    {
        if (!slot.Found) Notify.New(ref ctx, ctx[1]);
        Notify.Event(ref ctx, KeyspaceEvents.String, evt, ctx[1]);
    }

    [RespCommand("STRLEN", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns the length of a string value.", Since = "2.2.0", Complexity = "O(1)")]
    public static void StrLen(ref CommandContext ctx)
    {
        switch (Db.Read(ref ctx, ctx[1], KeyType.String, out var slot, OpFlags.HeaderOnly))
        {
            case Lookup.Found: ctx.Reply.Integer(slot.Number); break;
            case Lookup.NotFound: ctx.Reply.Integer(0); break;
        }
    }

    [RespCommand("GETRANGE", Arity = 4, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns a substring of the string stored at a key.", Since = "2.4.0",
        Complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.")]
    public static void GetRange(ref CommandContext ctx) => Range(ref ctx);

    [RespCommand("SUBSTR", Arity = 4, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Returns a substring from a string value.", Since = "1.0.0",
        Complexity = "O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.")]
    public static void Substr(ref CommandContext ctx) => Range(ref ctx);

    private static void Range(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long start) || !ctx.TryGetLong(3, out long end))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        var st = Db.Read(ref ctx, ctx[1], KeyType.String, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        var s = slot.Value;
        long len = s.Length;
        if (start < 0 && end < 0 && start > end)
        {
            ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0) start = len + start;
        if (end < 0) end = len + end;
        if (start < 0) start = 0;
        if (end < 0) end = 0;
        if (end >= len) end = len - 1;
        if (start > end || len == 0) ctx.Reply.Bulk(ReadOnlySpan<byte>.Empty);
        else ctx.Reply.Bulk(s.Slice((int)start, (int)(end - start + 1)));
    }

    [RespCommand("SETRANGE", Lock = KeyLock.SharedWrite, Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Since = "2.2.0",
        Complexity = "O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.")]
    public static void SetRange(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long offset))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (offset < 0)
        {
            ctx.Reply.Error("ERR offset is out of range");
            return;
        }
        var value = ctx[3];
        var st = Db.Read(ref ctx, ctx[1], KeyType.String, out var slot, OpFlags.HeaderOnly);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (value.Length == 0)
        {
            ctx.Reply.Integer(st == Lookup.Found ? slot.Number : 0);
            return;
        }
        if (!Db.CheckStringLength(ref ctx, offset, value.Length)) return;
        fixed (byte* p = value)
        {
            var input = new StoreInput { Op = StoreOp.SetRange, Arg = offset, Data = p, DataLength = value.Length };
            if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out slot) == OpStatus.Pending) return;
        }
        if (slot.Result == OpResult.WrongType) { Db.WrongType(ref ctx); return; }
        if (Notify.On) Written(ref ctx, slot, "setrange"u8);
        ctx.Reply.Integer(slot.Number);
    }

    [RespCommand("INCR", Lock = KeyLock.SharedWrite, Arity = 2, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity = "O(1)")]
    public static void Incr(ref CommandContext ctx) => IncrBy(ref ctx, 1);

    [RespCommand("DECR", Lock = KeyLock.SharedWrite, Arity = 2, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity = "O(1)")]
    public static void Decr(ref CommandContext ctx) => IncrBy(ref ctx, -1);

    [RespCommand("INCRBY", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Complexity = "O(1)")]
    public static void IncrByCommand(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long incr))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        IncrBy(ref ctx, incr);
    }

    [RespCommand("DECRBY", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", Complexity = "O(1)")]
    public static void DecrByCommand(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(2, out long decr))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (decr == long.MinValue)
        {
            ctx.Reply.Error("ERR decrement would overflow");
            return;
        }
        IncrBy(ref ctx, -decr);
    }

    private static void IncrBy(ref CommandContext ctx, long incr)
    {
        // Now is left for the store to read: only a counter with an expiry needs the clock.
        var input = new StoreInput { Op = StoreOp.IncrBy, Arg = incr, Now = StoreInput.LazyNow };
        if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out var slot) == OpStatus.Pending) return;
        if (slot.Result != OpResult.Ok && Db.ReplyResultError(ref ctx, slot)) return;
        if (Notify.On) Written(ref ctx, slot, "incrby"u8);
        ctx.Reply.Integer(slot.Number);
    }

    [RespCommand("INCRBYFLOAT", Lock = KeyLock.SharedWrite, Arity = 3, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.String, Summary = "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Since = "2.6.0", Complexity = "O(1)")]
    public static void IncrByFloat(ref CommandContext ctx)
    {
        if (!NumberFormat.TryParseDouble(ctx[2], out double incr))
        {
            ctx.Reply.Error("ERR value is not a valid float");
            return;
        }
        if (double.IsInfinity(incr))
        {
            ctx.Reply.Error("ERR increment would produce NaN or Infinity");
            return;
        }
        var input = new StoreInput { Op = StoreOp.IncrByFloat, Double = incr, Now = StoreInput.LazyNow };
        if (Db.Store(ref ctx).Rmw(ctx.Client.Database, ctx[1], ref input, out var slot) == OpStatus.Pending) return;
        if (Db.ReplyResultError(ref ctx, slot)) return;
        if (Notify.On) Written(ref ctx, slot, "incrbyfloat"u8);
        ctx.Reply.Bulk(slot.Value);
    }
}
