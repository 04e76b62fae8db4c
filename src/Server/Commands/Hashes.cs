using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// What every hash command shares: the typed read, and the write of a whole new payload
/// (StoreOp.Set of type Hash keeping the TTL, or a delete once the last field goes). The key-lock
/// table makes the read-compute-write atomic; payloads are read and edited only through
/// <see cref="Hash"/> and <see cref="HashWriter"/>.
/// </summary>
internal static unsafe class HashStore
{
    // The payload being written lives here (pinned) while the store may still point into it: a write
    // that goes pending keeps its buffer held until the reactor's session has nothing in flight.
    [ThreadStatic] private static byte[]? t_scratch;
    [ThreadStatic] private static List<byte[]>? t_held;

    /// <summary>A scratch buffer kept past 1 MB would pin a big hash's size per reactor for good.</summary>
    private const int KeepScratch = 1 << 20;

    public static Lookup Read(ref CommandContext ctx, out OpSlot slot) => Db.Read(ref ctx, ctx[1], KeyType.Hash, out slot);

    /// <summary>
    /// The value of ctx[2] in the hash the read found (HINCRBY, HINCRBYFLOAT): from its pages when it is
    /// paged (<paramref name="pages"/> then holds them for the write), else from the inline payload.
    /// False when the command stopped (a page read went to disk).
    /// </summary>
    public static bool ReadField(ref CommandContext ctx, Lookup st, OpSlot slot, out PagedMeta meta, out CommandPages? pages,
        out bool found, out ReadOnlySpan<byte> value)
    {
        pages = null;
        value = default;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out meta))
        {
            pages = PagedAccess.Pages(ref ctx);
            var buffer = PagedAccess.Value;
            if (!PagedHashes.TryGet(ref ctx, pages, meta, ctx[2], out found, buffer)) return false;
            value = buffer.WrittenSpan;
            return true;
        }
        meta = default;
        found = st == Lookup.Found && Hash.TryGet(slot.Value, ctx[2], out value);
        return true;
    }

    /// <summary>
    /// Sets ctx[2] to <paramref name="value"/> in the hash <see cref="ReadField"/> read (its pages when
    /// <paramref name="pages"/> is set). False when the command stopped or an error was replied.
    /// </summary>
    public static bool WriteField(ref CommandContext ctx, Lookup st, OpSlot slot, CommandPages? pages, in PagedMeta meta, scoped ReadOnlySpan<byte> value)
    {
        if (pages is not null) return PagedHashes.Update(ref ctx, pages, meta, ctx[2], value);
        var w = Writer(ref ctx, st == Lookup.Found, slot);
        w.Set(ctx[2], value);
        return Commit(ref ctx, ref w, st == Lookup.Found, slot);
    }

    /// <summary>HSETs with more pairs go the general way (each pair is a scan of the listpack here, no index).</summary>
    private const int InlinePairs = 16;

    /// <summary>
    /// HSET of a few fields as one RMW that edits the hash in its record (<see cref="InlineEdit"/>):
    /// <see cref="InlineEdits.Outcome.General"/> when the hash is paged, or this HSET would take it past the
    /// listpack thresholds, or the arguments could not stay inline.
    /// </summary>
    public static InlineEdits.Outcome SetInline(ref CommandContext ctx, out long added, out OpSlot? read, out bool createdKey)
    {
        added = 0;
        read = null;
        createdKey = false;
        var limits = Limits(ref ctx);
        if (ctx.Count - 2 > 2 * InlinePairs) return InlineEdits.Outcome.General;
        // A listpack at its thresholds must fit in one record, or the general path's size check answers.
        if (limits.MaxListpackEntries * 2 * (limits.MaxListpackValue + 5) + Listpack.HeaderSize > ctx.Server.Store.MaxValueLength) return InlineEdits.Outcome.General;
        int bytes = 0;
        for (int i = 2; i < ctx.Count; i++)
        {
            if (ctx[i].Length > limits.MaxListpackValue) return InlineEdits.Outcome.General;
            bytes += Listpack.EntrySize(ctx[i].Length);
        }
        // The arguments as listpack entries.
        var data = InlineEdits.Begin(Db.Store(ref ctx), bytes);
        int at = 0;
        for (int i = 2; i < ctx.Count; i++) at += Listpack.WriteEntry(data[at..], ctx[i]);
        var outcome = InlineEdits.Run(ref ctx, KeyType.Hash, InlineEditKind.HashSet, limits.MaxListpackEntries, bytes, out added, out var slot);
        if (outcome == InlineEdits.Outcome.General) read = slot;
        else if (outcome == InlineEdits.Outcome.Done) createdKey = !slot.Found;
        return outcome;
    }


    /// <summary>A buffer a pending write points into stays alive (and unused) until the session has nothing in flight.</summary>
    private static void Hold(byte[] buffer) => (t_held ??= new()).Add(buffer);

    private static void ReleaseHeld(StoreSession store)
    {
        if (t_held is { Count: > 0 } held && !store.HasPending) held.Clear();
    }

    public static HashLimits Limits(ref CommandContext ctx) =>
        new(ctx.Server.Config.HashMaxListpackEntries, ctx.Server.Config.HashMaxListpackValue);

    /// <summary>A writer over the key's current payload (<paramref name="found"/>: the read found it).</summary>
    public static HashWriter Writer(ref CommandContext ctx, bool found, OpSlot slot)
    {
        ReleaseHeld(Db.Store(ref ctx));
        var scratch = t_scratch ??= GC.AllocateUninitializedArray<byte>(4096, pinned: true);
        return new HashWriter(found ? slot.Value : default, scratch, Limits(ref ctx));
    }

    /// <summary>
    /// Stores what a single-field write (HSETNX, HINCRBY, HINCRBYFLOAT, HDEL) left in the writer: inline,
    /// or, when the edit passed the listpack thresholds, as a new paged hash. False when the command stopped.
    /// </summary>
    public static bool Commit(ref CommandContext ctx, ref HashWriter w, bool found, OpSlot slot)
    {
        // An emptied hash is a delete, whatever its encoding (a legacy inline Hashtable payload included).
        if (w.Encoding != CollectionEncoding.Hashtable || w.Count == 0) return Write(ref ctx, ref w);
        return PagedHashes.Convert(ref ctx, w.Payload, found ? slot.Expiry : 0) >= 0;
    }

    /// <summary>Stores the writer's payload as the key's value; false when the command stops (pending or error replied).</summary>
    public static bool Write(ref CommandContext ctx, ref HashWriter w)
    {
        var store = Db.Store(ref ctx);
        var buffer = w.Buffer;
        t_scratch = buffer.Length <= KeepScratch ? buffer : null;
        OpStatus st;
        if (w.Count == 0)
        {
            var del = new StoreInput { Op = StoreOp.Delete, Now = StoreInput.LazyNow };
            st = store.Rmw(ctx.Client.Database, ctx[1], ref del, out _);
        }
        else
        {
            var payload = w.Payload;
            if (!Db.CheckValueSize(ref ctx, payload.Length)) return false;
            fixed (byte* p = payload)
            {
                // LazyNow: the read just before took the clock; a write of no expiry needs it only for a
                // record that has one (the second clock read was 4% of HSET's server CPU at pipeline 16).
                var input = new StoreInput
                {
                    Op = StoreOp.Set, Flags = OpFlags.KeepTtl, Type = KeyType.Hash, Now = StoreInput.LazyNow, Data = p, DataLength = payload.Length,
                };
                st = store.Rmw(ctx.Client.Database, ctx[1], ref input, out _);
            }
        }
        if (st != OpStatus.Pending) return true;
        Hold(buffer);
        if (t_scratch == buffer) t_scratch = null;
        return false;
    }
}

/// <summary>Hash commands (Redis 7.2 t_hash.c): inline payloads here, paged ones through <see cref="PagedHashes"/>.</summary>
internal static class HashCommands
{
    [RespCommand("HSET", Arity = -4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Creates or modifies the value of a field in a hash.", Since = "2.0.0",
        Complexity = "O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.")]
    public static void HSet(ref CommandContext ctx) => HSetGeneric(ref ctx, replyOk: false);

    [RespCommand("HMSET", Arity = -4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Sets the values of multiple fields.", Since = "2.0.0",
        Complexity = "O(N) where N is the number of fields being set.")]
    public static void HMSet(ref CommandContext ctx) => HSetGeneric(ref ctx, replyOk: true);

    /// <summary>hsetCommand (HMSET shares it and answers OK).</summary>
    private static void HSetGeneric(ref CommandContext ctx, bool replyOk)
    {
        if (ctx.Count % 2 == 1)
        {
            ctx.Reply.Error($"ERR wrong number of arguments for '{(replyOk ? "hmset" : "hset")}' command");
            return;
        }
        switch (HashStore.SetInline(ref ctx, out long created, out var read, out bool createdKey))
        {
            case InlineEdits.Outcome.Stopped: return;
            case InlineEdits.Outcome.Done:
                if (replyOk) ctx.Reply.Ok();
                else ctx.Reply.Integer(created);
                Written(ref ctx, createdKey, "hset"u8);
                return;
        }
        OpSlot slot;
        Lookup st;
        if (read is not null)
        {
            slot = read;
            st = read.Found ? Lookup.Found : Lookup.NotFound;
        }
        else st = HashStore.Read(ref ctx, out slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            created = PagedHashes.Set(ref ctx, meta);
            if (created < 0) return;
        }
        else
        {
            long expiry = st == Lookup.Found ? slot.Expiry : 0;
            var w = HashStore.Writer(ref ctx, st == Lookup.Found, slot);
            for (int i = 2; i < ctx.Count; i++) w.ConsiderLength(ctx[i].Length);
            int next = 2;
            for (; next < ctx.Count && w.Encoding != CollectionEncoding.Hashtable; next += 2)
            {
                if (w.Set(ctx[next], ctx[next + 1])) created++;
            }
            if (w.Encoding == CollectionEncoding.Hashtable)
            {
                // Past the listpack thresholds the hash moves to pages: the fields so far, then the rest of the arguments.
                long rest = PagedHashes.Convert(ref ctx, w.Payload, expiry, next);
                if (rest < 0) return;
                created += rest;
            }
            else if (!HashStore.Write(ref ctx, ref w)) return;
        }
        if (replyOk) ctx.Reply.Ok();
        else ctx.Reply.Integer(created);
        Written(ref ctx, st == Lookup.NotFound, "hset"u8);
    }

    /// <summary>A hash write's events: dbAdd's new when it made the hash, then the command's.</summary>
    private static void Written(ref CommandContext ctx, bool createdKey, ReadOnlySpan<byte> evt)
    {
        if (!Notify.On) return;
        if (createdKey) Notify.New(ref ctx, ctx[1]);
        Notify.Event(ref ctx, Config.KeyspaceEvents.Hash, evt, ctx[1]);
    }

    [RespCommand("HSETNX", Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Sets the value of a field in a hash only when the field doesn't exist.", Since = "2.0.0", Complexity = "O(1)")]
    public static void HSetNx(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            int set = PagedHashes.SetIfAbsent(ref ctx, meta);
            if (set >= 0) ctx.Reply.Integer(set);
            if (set == 1) Written(ref ctx, false, "hset"u8);
            return;
        }
        if (st == Lookup.Found && Hash.TryGet(slot.Value, ctx[2], out _))
        {
            ctx.Reply.Integer(0);
            return;
        }
        var w = HashStore.Writer(ref ctx, st == Lookup.Found, slot);
        w.Set(ctx[2], ctx[3]);
        if (!HashStore.Commit(ref ctx, ref w, st == Lookup.Found, slot)) return;
        ctx.Reply.Integer(1);
        Written(ref ctx, st == Lookup.NotFound, "hset"u8);
    }

    [RespCommand("HGET", Arity = 3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns the value of a field in a hash.", Since = "2.0.0", Complexity = "O(1)")]
    public static void HGet(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            var value = PagedAccess.Value;
            if (!PagedHashes.TryGet(ref ctx, meta, ctx[2], out bool found, value)) return;
            if (found) ctx.Reply.Bulk(value.WrittenSpan);
            else ctx.Reply.NullBulk();
            return;
        }
        if (st == Lookup.Found && Hash.TryGet(slot.Value, ctx[2], out var inline)) ctx.Reply.Bulk(inline);
        else ctx.Reply.NullBulk();
    }

    [RespCommand("HMGET", Arity = -3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns the values of all fields in a hash.", Since = "2.0.0",
        Complexity = "O(N) where N is the number of fields being requested.")]
    public static void HMGet(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            PagedHashes.MultiGet(ref ctx, meta);
            return;
        }
        ctx.Reply.ArrayHeader(ctx.Count - 2);
        var payload = st == Lookup.Found ? slot.Value : Hash.Empty;
        var lookups = new Hash.Lookups(payload, ctx.Count - 2);
        for (int i = 2; i < ctx.Count; i++)
        {
            if (lookups.TryGet(payload, ctx[i], out var value)) ctx.Reply.Bulk(value);
            else ctx.Reply.NullBulk();
        }
    }

    [RespCommand("HDEL", Arity = -3, Flags = CommandFlags.Write | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", Since = "2.0.0",
        Complexity = "O(N) where N is the number of fields to be removed.")]
    public static void HDel(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.Integer(0);
            return;
        }
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            long paged = PagedHashes.Delete(ref ctx, meta);
            if (paged >= 0) ctx.Reply.Integer(paged);
            if (paged > 0) Deleted(ref ctx, paged >= (long)meta.Count);
            return;
        }
        var w = HashStore.Writer(ref ctx, true, slot);
        long deleted = 0;
        for (int i = 2; i < ctx.Count && w.Count > 0; i++)
        {
            if (w.Delete(ctx[i])) deleted++;
        }
        if (deleted > 0 && !HashStore.Commit(ref ctx, ref w, true, slot)) return;
        ctx.Reply.Integer(deleted);
        if (deleted > 0) Deleted(ref ctx, w.Count == 0);
    }

    /// <summary>hdelCommand's events: hdel, then del when the last field went.</summary>
    private static void Deleted(ref CommandContext ctx, bool emptied)
    {
        if (!Notify.On) return;
        Notify.Event(ref ctx, Config.KeyspaceEvents.Hash, "hdel"u8, ctx[1]);
        if (emptied) Notify.Event(ref ctx, Config.KeyspaceEvents.Generic, "del"u8, ctx[1]);
    }

    [RespCommand("HEXISTS", Arity = 3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Determines whether a field exists in a hash.", Since = "2.0.0", Complexity = "O(1)")]
    public static void HExists(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            if (PagedHashes.TryFind(ref ctx, meta, ctx[2], out bool found, out _)) ctx.Reply.Integer(found ? 1 : 0);
            return;
        }
        ctx.Reply.Integer(st == Lookup.Found && Hash.TryGet(slot.Value, ctx[2], out _) ? 1 : 0);
    }

    [RespCommand("HLEN", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns the number of fields in a hash.", Since = "2.0.0", Complexity = "O(1)")]
    public static void HLen(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta)) ctx.Reply.Integer((long)meta.Count);
        else ctx.Reply.Integer(st == Lookup.Found ? Hash.Count(slot.Value) : 0);
    }

    [RespCommand("HSTRLEN", Arity = 3, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns the length of the value of a field.", Since = "3.2.0", Complexity = "O(1)")]
    public static void HStrLen(ref CommandContext ctx)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            if (PagedHashes.TryFind(ref ctx, meta, ctx[2], out _, out int length)) ctx.Reply.Integer(length);
            return;
        }
        ctx.Reply.Integer(st == Lookup.Found && Hash.TryGet(slot.Value, ctx[2], out var value) ? value.Length : 0);
    }

    [RespCommand("HKEYS", Arity = 2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns all fields in a hash.", Since = "2.0.0", Complexity = "O(N) where N is the size of the hash.")]
    public static void HKeys(ref CommandContext ctx) => GetAll(ref ctx, fields: true, values: false);

    [RespCommand("HVALS", Arity = 2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns all values in a hash.", Since = "2.0.0", Complexity = "O(N) where N is the size of the hash.")]
    public static void HVals(ref CommandContext ctx) => GetAll(ref ctx, fields: false, values: true);

    [RespCommand("HGETALL", Arity = 2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns all fields and values in a hash.", Since = "2.0.0", Complexity = "O(N) where N is the size of the hash.")]
    public static void HGetAll(ref CommandContext ctx) => GetAll(ref ctx, fields: true, values: true);

    /// <summary>genericHgetallCommand: HGETALL is a map in RESP3 (an empty one for a missing key).</summary>
    private static void GetAll(ref CommandContext ctx, bool fields, bool values)
    {
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.Found && PagedRoot.TryRead(slot.Value, out var meta))
        {
            PagedHashes.GetAll(ref ctx, meta, fields, values);
            return;
        }
        var payload = st == Lookup.Found ? slot.Value : Hash.Empty;
        int n = Hash.Count(payload);
        if (fields && values) ctx.Reply.MapHeader(n);
        else ctx.Reply.ArrayHeader(n);
        var e = Hash.Enumerate(payload);
        while (e.Next(out var f, out var v))
        {
            if (fields) ctx.Reply.Bulk(f);
            if (values) ctx.Reply.Bulk(v);
        }
    }

    [RespCommand("HINCRBY", Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
        Since = "2.0.0", Complexity = "O(1)")]
    public static void HIncrBy(ref CommandContext ctx)
    {
        if (!ctx.TryGetLong(3, out long incr))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        long value = 0;
        if (!HashStore.ReadField(ref ctx, st, slot, out var meta, out var pages, out bool found, out var old)) return;
        if (found && !NumberFormat.TryParseLong(old, out value))
        {
            ctx.Reply.Error("ERR hash value is not an integer");
            return;
        }
        if ((incr < 0 && value < 0 && incr < long.MinValue - value) || (incr > 0 && value > 0 && incr > long.MaxValue - value))
        {
            ctx.Reply.Error("ERR increment or decrement would overflow");
            return;
        }
        value += incr;
        Span<byte> text = stackalloc byte[20];
        int n = NumberFormat.FormatLong(value, text);
        if (!HashStore.WriteField(ref ctx, st, slot, pages, meta, text[..n])) return;
        ctx.Reply.Integer(value);
        Written(ref ctx, st == Lookup.NotFound, "hincrby"u8);
    }

    [RespCommand("HINCRBYFLOAT", Arity = 4, Flags = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
        Since = "2.6.0", Complexity = "O(1)")]
    public static void HIncrByFloat(ref CommandContext ctx)
    {
        // Redis adds long doubles; a double is what NativeKv has (as INCRBYFLOAT): sums past 1.8e308
        // are "would produce NaN or Infinity" here where Redis's 80-bit long double still holds them.
        if (!NumberFormat.TryParseDouble(ctx[3], out double incr))
        {
            ctx.Reply.Error("ERR value is not a valid float");
            return;
        }
        if (double.IsInfinity(incr))
        {
            ctx.Reply.Error("ERR value is NaN or Infinity");
            return;
        }
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        double value = 0;
        if (!HashStore.ReadField(ref ctx, st, slot, out var meta, out var pages, out bool found, out var old)) return;
        if (found && !NumberFormat.TryParseDouble(old, out value))
        {
            ctx.Reply.Error("ERR hash value is not a float");
            return;
        }
        value += incr;
        if (double.IsNaN(value) || double.IsInfinity(value))
        {
            ctx.Reply.Error("ERR increment would produce NaN or Infinity");
            return;
        }
        Span<byte> text = stackalloc byte[NumberFormat.MaxText];
        int n = NumberFormat.FormatHuman(value, text);
        if (!HashStore.WriteField(ref ctx, st, slot, pages, meta, text[..n])) return;
        ctx.Reply.Bulk(text[..n]);
        Written(ref ctx, st == Lookup.NotFound, "hincrbyfloat"u8);
    }

    [RespCommand("HRANDFIELD", Arity = -2, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Returns one or more random fields from a hash.", Since = "6.2.0",
        Complexity = "O(N) where N is the number of fields returned")]
    public static void HRandField(ref CommandContext ctx)
    {
        if (ctx.Count == 2)
        {
            var st1 = HashStore.Read(ref ctx, out var one);
            if (st1 is Lookup.Pending or Lookup.Error) return;
            if (st1 == Lookup.NotFound)
            {
                ctx.Reply.NullBulk();
                return;
            }
            if (PagedRoot.TryRead(one.Value, out var oneMeta))
            {
                PagedHashes.RandomField(ref ctx, one, oneMeta);
                return;
            }
            PickAt(one.Value, Random.Shared.Next(Hash.Count(one.Value)), out var f, out _);
            ctx.Reply.Bulk(f);
            return;
        }
        if (!ctx.TryGetLong(2, out long l))
        {
            ctx.Reply.Error("ERR value is not an integer or out of range");
            return;
        }
        if (l == long.MinValue)
        {
            ctx.Reply.Error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            return;
        }
        bool withValues = false;
        if (ctx.Count > 4 || (ctx.Count == 4 && !ctx.ArgIs(3, "WITHVALUES"u8)))
        {
            ctx.Reply.Error("ERR syntax error");
            return;
        }
        if (ctx.Count == 4)
        {
            withValues = true;
            if (l < -long.MaxValue / 2 || l > long.MaxValue / 2)
            {
                ctx.Reply.Error("ERR value is out of range");
                return;
            }
        }
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound || l == 0)
        {
            ctx.Reply.EmptyArray();
            return;
        }
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            PagedHashes.RandomFields(ref ctx, slot, meta, l, withValues);
            return;
        }
        RandomFields(ref ctx, slot.Value, l, withValues);
    }

    /// <summary>hrandfieldWithCountCommand's cases, over a payload's pairs.</summary>
    private static void RandomFields(ref CommandContext ctx, ReadOnlySpan<byte> payload, long l, bool withValues)
    {
        var r = ctx.Reply;
        bool pairs = withValues && r.Protocol >= 3;
        int size = Hash.Count(payload);
        ulong count = l >= 0 ? (ulong)l : (ulong)(-l);
        // Case 1: repeats allowed (negative count), or one field: count independent picks.
        if (l < 0 || count == 1)
        {
            r.ArrayHeader(withValues && !pairs ? (long)count * 2 : (long)count);
            var offsets = System.Buffers.ArrayPool<int>.Shared.Rent(size);
            try
            {
                Hash.Offsets(payload, offsets.AsSpan(0, size));
                // A count as large as -LONG_MAX is Redis's to answer too: the picks stop at RepeatedPicks' bound.
                long start = r.Length;
                for (ulong i = 0; i < count && !RepeatedPicks.Stop(ref ctx, start); i++)
                {
                    Hash.At(payload, offsets[Random.Shared.Next(size)], out var f, out var v);
                    ReplyPair(r, f, v, withValues, pairs);
                }
            }
            finally { System.Buffers.ArrayPool<int>.Shared.Return(offsets); }
            return;
        }
        // Case 2: the whole hash. Otherwise count distinct fields, kept in order (Redis's listpack
        // sampling, lpRandomPairsUnique, returns them in order too): selection sampling.
        long want = (long)Math.Min(count, (ulong)size);
        r.ArrayHeader(withValues && !pairs ? want * 2 : want);
        long left = size;
        var e = Hash.Enumerate(payload);
        while (want > 0 && e.Next(out var f, out var v))
        {
            if (Random.Shared.NextInt64(left--) < want)
            {
                ReplyPair(r, f, v, withValues, pairs);
                want--;
            }
        }
    }

    private static void ReplyPair(Protocol.RespWriter r, ReadOnlySpan<byte> f, ReadOnlySpan<byte> v, bool withValues, bool pairs)
    {
        if (pairs) r.ArrayHeader(2);
        r.Bulk(f);
        if (withValues) r.Bulk(v);
    }

    private static void PickAt(ReadOnlySpan<byte> payload, int index, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        var e = Hash.Enumerate(payload);
        field = value = default;
        for (int i = 0; i <= index && e.Next(out field, out value); i++) { }
    }

    [RespCommand("HSCAN", Arity = -3, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1,
        Group = CommandGroup.Hash, Summary = "Iterates over fields and values of a hash.", Since = "2.8.0",
        Complexity = "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.")]
    public static void HScan(ref CommandContext ctx)
    {
        // hscanCommand: the cursor, the key, then scanGenericCommand's options.
        if (!ScanArgs.TryParseCursor(ref ctx, 2, out ulong cursor)) return;
        var st = HashStore.Read(ref ctx, out var slot);
        if (st is Lookup.Pending or Lookup.Error) return;
        if (st == Lookup.NotFound)
        {
            ctx.Reply.ArrayHeader(2);
            ctx.Reply.Bulk("0"u8);
            ctx.Reply.EmptyArray();
            return;
        }
        if (!ScanArgs.TryParse(ref ctx, 3, allowType: false, out var scan)) return;
        if (PagedRoot.TryRead(slot.Value, out var meta))
        {
            PagedHashes.Scan(ref ctx, meta, cursor, scan.Count, scan.Pattern);
            return;
        }
        // An inline hash is one record read whole: all of it in one reply, cursor 0, as Redis answers
        // for a listpack whatever the cursor and COUNT.
        var payload = slot.Value;
        int n = 0;
        var e = Hash.Enumerate(payload);
        while (e.Next(out var f, out _))
        {
            if (scan.Matches(f)) n++;
        }
        var r = ctx.Reply;
        r.ArrayHeader(2);
        r.Bulk("0"u8);
        r.ArrayHeader(n * 2);
        e = Hash.Enumerate(payload);
        while (e.Next(out var f, out var v))
        {
            if (!scan.Matches(f)) continue;
            r.Bulk(f);
            r.Bulk(v);
        }
    }
}
