using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>
/// A reactor's working memory for sorted set commands (one per thread), so a write allocates nothing in
/// the steady state: the builders handed to the store, the rank index of a payload being read, rank lists.
/// </summary>
internal sealed class SortedSetScratch
{
    [ThreadStatic] private static SortedSetScratch? t_current;

    public static SortedSetScratch Current => t_current ??= new SortedSetScratch();

    private SortedSetBuilder _write0 = new(), _write1 = new();
    // A builder whose store write went to disk: FASTER keeps a pointer into it until the write completes.
    private readonly List<SortedSetBuilder> _retired = new();

    public readonly SortedSet.Index Index = new();
    public int[] Ranks = new int[64];
    public OpSlot[] Slots = new OpSlot[8];
    private ulong _seed = (ulong)System.Random.Shared.NextInt64() | 1;

    /// <summary>Builder <paramref name="which"/> (0 or 1) for a new payload of this command.</summary>
    public SortedSetBuilder Write(StoreSession session, int which)
    {
        if (_retired.Count > 0 && !session.HasPending) _retired.Clear();
        var b = which == 0 ? _write0 : _write1;
        b.Shrink();
        return b;
    }

    public void Retire(SortedSetBuilder b)
    {
        _retired.Add(b);
        if (b == _write0) _write0 = new SortedSetBuilder();
        else if (b == _write1) _write1 = new SortedSetBuilder();
    }

    public int[] RanksFor(long n)
    {
        if (Ranks.Length < n) Ranks = new int[Math.Max((int)n, Ranks.Length * 2)];
        return Ranks;
    }

    public OpSlot[] SlotsFor(int n)
    {
        if (Slots.Length < n) Slots = new OpSlot[Math.Max(n, Slots.Length * 2)];
        return Slots;
    }

    public SetRandom NewRandom() => new(SetRandom.Mix(ref _seed));
}
