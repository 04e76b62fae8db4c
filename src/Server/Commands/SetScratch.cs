using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Server.Commands;

/// <summary>
/// A reactor's working memory for set commands (one per thread: a reactor runs its commands on its
/// own thread), so a set write allocates nothing in the steady state.
/// </summary>
internal sealed class SetScratch
{
    [ThreadStatic] private static SetScratch? t_current;

    public static SetScratch Current => t_current ??= new SetScratch();

    // New payloads handed to the store (SMOVE writes two).
    private SetBuffer _write0 = new(), _write1 = new();
    // A buffer whose store write went to disk: FASTER keeps a pointer into it until the write completes.
    private readonly List<SetBuffer> _retired = new();

    /// <summary>Results that never reach the store (SSCAN pages, SINTER/SUNION/SDIFF replies).</summary>
    public readonly SetBuffer Result = new();
    /// <summary>Copies of large sources, for indexed membership tests (SINTER, SDIFF).</summary>
    private readonly List<SetBuffer> _probes = new();
    public readonly Set.Locator Locator = new();
    public int[] Picks = new int[16];
    public OpSlot[] Slots = new OpSlot[8];
    public int[] Order = new int[8];

    private ulong _seed = (ulong)Random.Shared.NextInt64() | 1;
    // SPOP's draw for a command whose write went to disk, keyed by its read's slot (kept across its
    // replay), so the replay pops what was written instead of drawing again.
    private readonly Dictionary<OpSlot, ulong> _seeds = new();

    /// <summary>Buffer <paramref name="which"/> (0 or 1) for a new payload of this command.</summary>
    public SetBuffer Write(StoreSession session, int which)
    {
        if (_retired.Count > 0 && !session.HasPending) _retired.Clear();
        var buf = which == 0 ? _write0 : _write1;
        // A set far past the steady state does not keep its megabytes between commands: 1 MB.
        if (buf.Capacity > 1 << 20)
        {
            buf = new SetBuffer();
            if (which == 0) _write0 = buf; else _write1 = buf;
        }
        return buf;
    }

    /// <summary>The store holds a pointer into <paramref name="buf"/> until its pending write completes.</summary>
    public void Retire(SetBuffer buf)
    {
        _retired.Add(buf);
        if (buf == _write0) _write0 = new SetBuffer();
        else if (buf == _write1) _write1 = new SetBuffer();
    }

    public SetBuffer Probe(int i)
    {
        while (_probes.Count <= i) _probes.Add(new SetBuffer());
        if (_probes[i].Capacity > 1 << 20) _probes[i] = new SetBuffer();
        return _probes[i];
    }

    private SetBuffer?[] _probeRefs = new SetBuffer?[8];

    public SetBuffer?[] ProbesFor(int n)
    {
        if (_probeRefs.Length < n) _probeRefs = new SetBuffer?[Math.Max(n, _probeRefs.Length * 2)];
        return _probeRefs;
    }

    public OpSlot[] SlotsFor(int n)
    {
        if (Slots.Length < n) Slots = new OpSlot[Math.Max(n, Slots.Length * 2)];
        if (Order.Length < n) Order = new int[Math.Max(n, Order.Length * 2)];
        return Slots;
    }

    /// <summary>Per source of a set algebra command: paged or not, and the meta when paged.</summary>
    public Storage.Values.Paged.PagedMeta[] Metas = new Storage.Values.Paged.PagedMeta[8];
    public bool[] Paged = new bool[8];
    private int[] _lookIn = new int[8];

    public Storage.Values.Paged.PagedMeta[] MetasFor(int n)
    {
        if (Metas.Length < n)
        {
            Metas = new Storage.Values.Paged.PagedMeta[Math.Max(n, Metas.Length * 2)];
            Paged = new bool[Metas.Length];
        }
        return Metas;
    }

    /// <summary>The sources a member is looked up in, in the order they are tried.</summary>
    public int[] LookInFor(int n)
    {
        if (_lookIn.Length < n) _lookIn = new int[Math.Max(n, _lookIn.Length * 2)];
        return _lookIn;
    }

    public int[] PicksFor(long n)
    {
        if (Picks.Length < n) Picks = new int[Math.Max((int)n, Picks.Length * 2)];
        return Picks;
    }

    /// <summary>The random stream of a command reading <paramref name="read"/>: a replay gets its first draw again.</summary>
    public SetRandom RandomFor(OpSlot read, out ulong seed)
    {
        if (_seeds.Count == 0 || !_seeds.Remove(read, out seed)) seed = SetRandom.Mix(ref _seed);
        return new SetRandom(seed);
    }

    public void KeepSeed(OpSlot read, ulong seed)
    {
        // A client that closed while waiting leaves its entry; a stale seed is only a seed.
        if (_seeds.Count > 4096) _seeds.Clear();
        _seeds[read] = seed;
    }
}

/// <summary>SplitMix64: a few instructions a draw, no allocation, reproducible from its seed.</summary>
internal struct SetRandom(ulong seed)
{
    private ulong _state = seed;

    public static ulong Mix(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for one pick of a paged set (<see cref="Storage.Values.Paged.PagedHash.Random"/>).</summary>
    public ulong NextSeed() => Mix(ref _state);

    /// <summary>Uniform in [0, n) (Lemire's multiply; the bias for n below 2^31 is under 2^-32).</summary>
    public int Next(int n) => (int)((Mix(ref _state) >> 32) * (ulong)n >> 32);

    /// <summary>
    /// <paramref name="k"/> distinct ordinals of <paramref name="n"/>, ascending (Knuth's selection sampling,
    /// one pass): the set's order, as Redis's listpack sampling (lpNextRandom) replies.
    /// </summary>
    public void Sample(int n, int k, Span<int> dest)
    {
        int chosen = 0;
        for (int i = 0; i < n && chosen < k; i++)
        {
            if (Next(n - i) < k - chosen) dest[chosen++] = i;
        }
    }
}
