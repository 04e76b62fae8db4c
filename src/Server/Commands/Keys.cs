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
    public static Lookup Read(ref CommandContext ctx, ReadOnlySpan<byte> key, KeyType type, out OpSlot slot, OpFlags flags = OpFlags.None)
    {
        if (type == KeyType.String) flags |= OpFlags.StringOnly;
        var st = Store(ref ctx).Read(ctx.Client.Database, key, out slot, flags);
        if (st == OpStatus.Pending) return Lookup.Pending;
        if (st == OpStatus.NotFound) return Lookup.NotFound;
        if (type != KeyType.None && slot.Type != type)
        {
            WrongType(ref ctx);
            return Lookup.Error;
        }
        return Lookup.Found;
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
        if (unit is ExpireUnit.Seconds or ExpireUnit.Milliseconds) ms = unchecked(ms + StoreSession.NowMs());
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
    [RespCommand("DEL", Arity = -2, Flags = CommandFlags.Write, FirstKey = 1, LastKey = -1, Step = 1,
        Group = CommandGroup.Generic, Summary = "Deletes one or more keys.",
        Complexity = "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).")]
    public static void Del(ref CommandContext ctx) => DeleteKeys(ref ctx);

    [RespCommand("UNLINK", Arity = -2, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = -1, Step = 1,
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
            if (slot.Found) deleted++;
        }
        ctx.Reply.Integer(deleted);
    }
}
