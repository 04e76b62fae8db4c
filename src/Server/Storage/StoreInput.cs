using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage;

/// <summary>What a store operation does. Every mutation is an RMW so FASTER decides atomically.</summary>
public enum StoreOp : byte
{
    Read,
    Set,
    Delete,
    IncrBy,
    IncrByFloat,
    Append,
    SetRange,
    Expire,
    Persist,
    GetEx,
    /// <summary>An edit of an inline collection in the record (<see cref="Values.InlineEdit"/>; Arg: its kind).</summary>
    Edit,
    /// <summary>
    /// A read of one field's entry in a paged hash's or set's bucket record (Data: the field; Arg: 1 when the entries have
    /// values): the slot gets the entry (<see cref="Values.Paged.PagedHash.WriteEntryReport"/>), not the page.
    /// </summary>
    FindEntry,
}

[Flags]
public enum OpFlags : ushort
{
    None = 0,
    /// <summary>SET NX / EXPIRE NX.</summary>
    NX = 1,
    /// <summary>SET XX / EXPIRE XX.</summary>
    XX = 2,
    GT = 4,
    LT = 8,
    /// <summary>SET KEEPTTL: an existing key keeps its expiry.</summary>
    KeepTtl = 16,
    /// <summary>Return the old value (SET GET, GETDEL); the old value must be a string.</summary>
    GetOld = 32,
    /// <summary>Reads: only type and expiry, no payload copy.</summary>
    HeaderOnly = 64,
    /// <summary>Delete: only when the current value has expired (active expiry).</summary>
    IfExpired = 128,
    /// <summary>GETEX: change the expiry to <see cref="StoreInput.Expiry"/> (0 = PERSIST).</summary>
    SetExpiry = 256,
    /// <summary>Reads of a value that must be a string (GET and friends).</summary>
    StringOnly = 512,
    /// <summary>
    /// The write is not logged: a paged collection's meta, which its command's element records in the
    /// AOF rebuild (logging the 48-byte meta too would cost each HSET into a big hash ~80 AOF bytes).
    /// </summary>
    NoLog = 1024,
    /// <summary>Reads: a record read from disk is not copied to the log's tail (pages: StoreSession.ReadPage).</summary>
    NoReadCopy = 2048,
    /// <summary>A page write: the record it replaces is at <see cref="StoreInput.Arg"/>, marked superseded once the write made a new record.</summary>
    Supersedes = 4096,
}

/// <summary>Outcome of an operation besides found / not found, set by the store functions.</summary>
public enum OpResult : byte
{
    Ok,
    /// <summary>A condition (NX, XX, GT, LT, ...) kept the operation from applying.</summary>
    NotApplied,
    WrongType,
    NotInteger,
    Overflow,
    NotFloat,
    NanOrInfinity,
}

/// <summary>
/// The RMW/Read input. <see cref="Data"/> points into the client's input buffer, which stays put
/// while an operation of that client is pending.
/// </summary>
public unsafe struct StoreInput
{
    public StoreOp Op;
    public OpFlags Flags;
    public KeyType Type;
    /// <summary>
    /// Unix ms at the start of the operation; expiry decisions use it (through <see cref="Clock"/>).
    /// <see cref="LazyNow"/>: read the clock only when a record with an expiry needs it.
    /// </summary>
    public long Now;
    /// <summary>Absolute unix ms (0 = none) for SET / EXPIRE / GETEX.</summary>
    public long Expiry;
    /// <summary>INCRBY delta, SETRANGE offset.</summary>
    public long Arg;
    public double Double;
    public byte* Data;
    public int DataLength;
    /// <summary>Edit: the entries the inline encoding holds (hash-max-listpack-entries for HSET).</summary>
    public long Limit;

    public readonly ReadOnlySpan<byte> DataSpan
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Data, DataLength);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly bool Has(OpFlags f) => (Flags & f) != 0;

    /// <summary>
    /// Now, left unread by the issuer (INCR family): most counters have no expiry, and the clock
    /// read was 2.3% of INCR's server CPU at pipeline 16.
    /// </summary>
    public const long LazyNow = -1;

    /// <summary><see cref="Now"/>, reading the clock once if the issuer left it lazy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Clock()
    {
        if (Now == LazyNow) Now = CommandClock.NowMs();
        return Now;
    }

    /// <summary>Whether a record with <paramref name="expiry"/> has expired (reads the clock only when it has one).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Expired(long expiry) => expiry != 0 && expiry <= Clock();
}

/// <summary>FASTER's Output: a reference to the slot that receives the result.</summary>
public struct StoreOutput
{
    public OpSlot Slot;
}
