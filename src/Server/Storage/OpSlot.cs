using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage;

/// <summary>
/// The result of one store operation of one command. A command's slots are kept while the command
/// waits on disk, so that its re-execution replays finished operations instead of repeating them
/// (an RMW is applied exactly once). Slots are pooled per reactor; steady state allocates nothing.
/// </summary>
public sealed class OpSlot
{
    private byte[] _buffer = GC.AllocateUninitializedArray<byte>(128, pinned: true);

    /// <summary>The key exists (and has not expired). For writes: the old value existed.</summary>
    public bool Found;
    public KeyType Type;
    /// <summary>Absolute unix ms, 0 = no expiry.</summary>
    public long Expiry;
    public OpResult Result;
    /// <summary>Integer result: INCR value, new length (APPEND/SETRANGE), payload length for header reads.</summary>
    public long Number;
    /// <summary>The operation changed the dataset (for propagation / dirty counting).</summary>
    public bool Changed;
    public int Length;

    // Counter changes staged by CopyUpdater/InitialUpdater; applied once the record is in (Post*).
    internal int StagedKeys;
    internal int StagedExpires;
    internal long StagedBytes;
    internal bool StagedExpired;

    /// <summary>This operation removed or wrote over a record whose expiry had passed (the <c>expired</c> event).</summary>
    internal bool ExpiredKey;
    /// <summary>A read that found the key's record expired (a lazy delete follows when expired events are on).</summary>
    internal bool SawExpired;
    /// <summary>The lazy delete of <see cref="SawExpired"/> was done (a replay of the read does not repeat it).</summary>
    internal bool LazyDone;

    // Bookkeeping of the session.
    internal ulong Tag;
    internal bool Done;
    internal PendingState? Owner;
    internal StoreSession? Session;
    internal bool Prefetch;
    internal long Address;
    /// <summary>The log's begin when the operation was issued (see <see cref="StoreSession.MissedByCompaction"/>).</summary>
    internal long BeginAtIssue;
    /// <summary>The frame of the command that issued this write (records go there while it is active).</summary>
    internal CommandFrame? Frame;
    /// <summary>The write is not logged (<see cref="OpFlags.NoLog"/>).</summary>
    internal bool Unlogged;

    /// <summary>The value bytes. The buffer is pinned, so a pending RMW may point into it.</summary>
    public ReadOnlySpan<byte> Value => _buffer.AsSpan(0, Length);

    /// <summary>Copies <paramref name="src"/> into the slot's buffer, growing it when needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetValue(ReadOnlySpan<byte> src)
    {
        if (src.Length > _buffer.Length) Grow(src.Length);
        src.CopyTo(_buffer);
        Length = src.Length;
    }

    /// <summary>A writable buffer of <paramref name="size"/> bytes (contents undefined); sets Length.</summary>
    public Span<byte> Prepare(int size)
    {
        if (size > _buffer.Length) Grow(size);
        Length = size;
        return _buffer.AsSpan(0, size);
    }

    private void Grow(int size)
    {
        int n = Math.Max(size, Math.Min(_buffer.Length * 2, Array.MaxLength));
        _buffer = GC.AllocateUninitializedArray<byte>(n, pinned: true);
    }

    internal void Reset(ulong tag)
    {
        Found = false;
        Type = KeyType.None;
        Expiry = 0;
        Result = OpResult.Ok;
        Number = 0;
        Changed = false;
        Length = 0;
        StagedKeys = 0;
        StagedExpires = 0;
        StagedBytes = 0;
        StagedExpired = false;
        ExpiredKey = false;
        SawExpired = false;
        LazyDone = false;
        Tag = tag;
        Done = false;
        Owner = null;
        Session = null;
        Prefetch = false;
        Address = 0;
        BeginAtIssue = 0;
        Frame = null;
        Unlogged = false;
        if (_buffer.Length > 64 * 1024) _buffer = GC.AllocateUninitializedArray<byte>(128, pinned: true);
    }

    internal void Complete(long address)
    {
        Address = address;
        Done = true;
        if (Owner is { } owner) owner.Outstanding--;
        if (Session is { } session)
        {
            session.Outstanding--;
            if (Prefetch) session.PrefetchDone(this);
        }
    }
}

/// <summary>Per-client state of the command that waits on the store.</summary>
public sealed class PendingState
{
    internal readonly List<OpSlot> Slots = new();
    /// <summary>Operations of this client still in flight in FASTER.</summary>
    internal int Outstanding;
    internal StoreSession Session = null!;
    /// <summary>True while the client's current command waits for its operations to finish.</summary>
    public bool Waiting;
    /// <summary>The records of the client's command when it writes several (see <see cref="StoreSession.FrameWrites"/>).</summary>
    internal CommandFrame? Frame;
    /// <summary>The collection id the running command created (kept across its replay rounds, so a rerun writes the same pages).</summary>
    internal ulong NewCid;
    /// <summary>A pinned buffer of the client's, for an RMW input that must outlive the handler (a pending write points into it).</summary>
    internal byte[]? Pinned;
    /// <summary>How far the running command's walk over a paged collection got (kept across its replay rounds, see <see cref="Values.Paged.BucketWalk"/>).</summary>
    internal Values.Paged.BucketWalk? Walk;
    /// <summary>Output position up to which this attempt's reply is final (finished rounds of a walk); -1: none, all is dropped if it waits.</summary>
    internal int ReplyKept = -1;
    /// <summary>The time a script or an EXEC runs at (<see cref="CommandClock.Freeze"/>), kept across its attempts; 0: none yet.</summary>
    internal long ClockUs;
}
