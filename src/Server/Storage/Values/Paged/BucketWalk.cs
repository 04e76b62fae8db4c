namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A command's visit of every bucket of a paged collection, <see cref="Round"/> buckets a round, each
/// round processed once its pages are in hand (HGETALL, SMEMBERS, SINTER's smallest set, SRANDMEMBER's
/// whole-set cases). One per client (<see cref="PendingState.Walk"/>), so its progress survives the
/// command's replay rounds: a round that goes to disk stops the attempt, and the rerun resumes at that
/// round instead of walking the finished ones again from their slots (a 5M-field hash of 4 KB pages had ~72k buckets,
/// ~1100 rounds: the reruns walked ~600k rounds, and held every bucket's ~4 KB slot, ~300 MB). A finished
/// round's slots go back to the pool (<see cref="StoreSession.ForgetOperations"/>), and a streamed reply
/// keeps what the finished rounds wrote (<see cref="StoreSession.KeepReply"/>). The command holds its key
/// locks for its whole run, so what the walk saw stays true between rounds; other clients of the reactor
/// run between them.
///
/// Use: <c>var walk = BucketWalk.Of(store)</c>; write what comes before the elements only when
/// <see cref="IsNew"/>; <c>walk.Begin(...)</c>; <c>while (walk.Next(out from, out n)) { ...; walk.Done(mark); }</c>;
/// the command stops when <see cref="Pending"/>. A command may walk several collections, one after the
/// other (SUNION): a walk finished in an earlier attempt is skipped in a rerun.
/// </summary>
public sealed class BucketWalk
{
    /// <summary>Buckets a round reads: the research doc's bound on outstanding page reads (64).</summary>
    public const int Round = PagedHash.MaxScanBuckets;

    [ThreadStatic] private static BucketWalk? t_unowned;

    // Across the command's attempts.
    private int _finished;   // walks of the command that are over
    private ulong _next;     // the next bucket of walk number _finished
    private bool _started;   // walk number _finished has begun
    private SetBuffer? _set, _spare;

    /// <summary>Numbers the command keeps across its rounds (HRANDFIELD's sampler, SINTERCARD's count); 0 at its start.</summary>
    public ulong A, B, C;

    // This attempt.
    private int _index;      // walks begun in this attempt
    private StoreSession? _store; // null: outside a command (reads never wait), nothing kept
    private CommandPages _pages = null!;
    private PagedMeta _meta;
    private bool _clearPages;
    private int _slotMark, _round;
    private bool _inRound, _over;

    /// <summary>The running command's walk (its progress kept across reruns), or one that keeps nothing outside a command.</summary>
    public static BucketWalk Of(StoreSession store)
    {
        if (store.CommandWalk() is { } walk) return walk;
        var w = t_unowned ??= new BucketWalk();
        w.End();
        w.BeginAttempt();
        return w;
    }

    /// <summary>Nothing of the next walk to begin was done before: the reply's header (if any) is still to write.</summary>
    public bool IsNew => _index == _finished && !_started;

    /// <summary>True when a round's page went to disk: the handler returns, the command runs again and resumes here.</summary>
    public bool Pending { get; private set; }

    /// <summary>
    /// Starts (or resumes, or skips, when an earlier attempt finished it) the command's next walk, over
    /// <paramref name="meta"/>'s buckets. <paramref name="replyMark"/>: the reply written so far is final
    /// (a streamed reply: its header; -1 when the handler replies only at the end). <paramref name="clearPages"/>:
    /// a finished round's pages leave the page set (false when the command still looks members up in them).
    /// </summary>
    public BucketWalk Begin(StoreSession store, CommandPages pages, in PagedMeta meta, int replyMark = -1, bool clearPages = true)
    {
        if (_inRound || (_index > _finished)) throw new InvalidOperationException("a walk begun before this one is not over");
        _store = store.CommandWalk() == this ? store : null;
        _pages = pages;
        _meta = meta;
        _clearPages = clearPages;
        _inRound = false;
        Pending = false;
        _over = _index < _finished;
        if (!_over && !_started)
        {
            _started = true;
            _next = 0;
        }
        _index++;
        if (replyMark >= 0) _store?.KeepReply(replyMark);
        return this;
    }

    /// <summary>
    /// Puts the next round's buckets in hand: true with the round's first bucket and size; false when the
    /// walk is over or a bucket went to disk (<see cref="Pending"/>).
    /// </summary>
    public bool Next(out ulong from, out int n)
    {
        from = _next;
        n = 0;
        if (_inRound) throw new InvalidOperationException("the round before was not done");
        if (_over || Pending) return false;
        ulong buckets = _meta.Buckets;
        if (_next >= buckets)
        {
            Finish();
            return false;
        }
        n = (int)Math.Min((ulong)Round, buckets - _next);
        _slotMark = _store?.OperationCursor ?? 0;
        for (int i = 0; i < n; i++)
        {
            var key = PagedHash.BucketKey(_meta, _next + (ulong)i);
            if (_pages.Pages.State(key) == PageState.NotInHand) _pages.Needs.Add(key);
        }
        if (!Fetch()) return false;
        _round = n;
        _inRound = true;
        return true;
    }

    /// <summary>Reads the further pages the round named in the page set's needs (lookups, value chunks); false when one went to disk.</summary>
    public bool Fetch()
    {
        if (_pages.Needs.Count == 0 || _pages.Fetch()) return true;
        Pending = true;
        return false;
    }

    /// <summary>
    /// The round is processed: the walk moves past it, its slots go back, its pages leave the page set
    /// (unless kept), and the reply up to <paramref name="replyMark"/> is final (-1: the handler replies at the end).
    /// </summary>
    public void Done(int replyMark = -1)
    {
        if (!_inRound) throw new InvalidOperationException("no round in hand");
        _inRound = false;
        _next += (ulong)_round;
        if (_store is { } store)
        {
            store.ForgetOperations(_slotMark);
            if (replyMark >= 0) store.KeepReply(replyMark);
        }
        if (_clearPages) _pages.Pages.Clear();
    }

    /// <summary>
    /// Starts (or resumes) the command's next walk by rank instead of by bucket (a paged list's LRANGE): the rank
    /// offset to resume at (0 on a new walk; ulong.MaxValue when an earlier attempt finished it). The handler
    /// ends each round with <see cref="RankRoundDone"/> and the walk with <see cref="Stop"/>.
    /// </summary>
    public ulong BeginRanks(StoreSession store, int replyMark)
    {
        if (_inRound || (_index > _finished)) throw new InvalidOperationException("a walk begun before this one is not over");
        _store = store.CommandWalk() == this ? store : null;
        Pending = false;
        _over = _index < _finished;
        if (!_over && !_started)
        {
            _started = true;
            _next = 0;
            if (replyMark >= 0) _store?.KeepReply(replyMark);
        }
        _index++;
        return _over ? ulong.MaxValue : _next;
    }

    /// <summary>A rank walk's round is processed: it resumes at <paramref name="next"/>, the round's slots (from <paramref name="slotMark"/>) go back, the reply so far is final.</summary>
    public void RankRoundDone(ulong next, int slotMark, int replyMark)
    {
        _next = next;
        if (_store is not { } store) return;
        store.ForgetOperations(slotMark);
        store.KeepReply(replyMark);
    }

    /// <summary>The handler needs no more rounds (SINTERCARD's LIMIT reached): the walk is over.</summary>
    public void Stop()
    {
        _inRound = false;
        if (!_over) Finish();
    }

    private void Finish()
    {
        _over = true;
        _finished++;
        _started = false;
        _next = 0;
    }

    /// <summary>
    /// Every bucket of <paramref name="meta"/> in hand at once, for a command that needs them all together
    /// (COPY builds the copy from them in one attempt, its staged pages do not outlive it): the rounds go
    /// out one after the other even while earlier ones wait on disk, up to <paramref name="maxWaiting"/>
    /// reads an attempt. Nothing is kept across reruns but the slots (a rerun answers from them). False
    /// when some wait on disk.
    /// </summary>
    public static bool FetchAll(CommandPages pages, in PagedMeta meta, int maxWaiting)
    {
        int waiting = 0;
        bool inHand = true;
        ulong buckets = meta.Buckets;
        for (ulong b = 0; b < buckets; b += Round)
        {
            int n = (int)Math.Min((ulong)Round, buckets - b);
            for (int i = 0; i < n; i++)
            {
                var key = PagedHash.BucketKey(meta, b + (ulong)i);
                if (pages.Pages.State(key) == PageState.NotInHand) pages.Needs.Add(key);
            }
            if (pages.Needs.Count == 0 || pages.Fetch()) continue;
            inHand = false;
            if ((waiting += n) >= maxWaiting) return false;
        }
        return inHand;
    }

    /// <summary>
    /// A set buffer the command builds its result in across its attempts (SUNION, SINTER of a paged set):
    /// <paramref name="fresh"/> on its first call in the command (the caller empties it then).
    /// </summary>
    public SetBuffer HeldSet(out bool fresh)
    {
        fresh = _set is null;
        if (_set is null) (_set, _spare) = (_spare ?? new SetBuffer(), null);
        return _set;
    }

    internal void BeginAttempt()
    {
        _index = 0;
        _inRound = false;
        Pending = false;
    }

    /// <summary>The command is over (or its client gone): nothing of it is kept.</summary>
    internal void End()
    {
        _finished = 0;
        _next = 0;
        _started = false;
        _index = 0;
        _inRound = false;
        Pending = false;
        A = B = C = 0;
        // A result far past the steady state is not kept per client between commands: 1 MB.
        if (_set is { Capacity: <= 1 << 20 }) _spare = _set;
        _set = null;
        _store = null;
        _pages = null!;
    }
}
