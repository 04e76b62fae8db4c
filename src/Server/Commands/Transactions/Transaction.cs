using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands.Transactions;

/// <summary>
/// A client's MULTI state and WATCHed keys (multi.c's multiState and c->watched_keys). Created on the
/// client's first MULTI or WATCH; used on its reactor's thread, except <see cref="Dirty"/>, which a write
/// on any reactor sets.
/// </summary>
public sealed class Transaction
{
    /// <summary>CLIENT_MULTI: commands are queued, not run.</summary>
    public bool Active { get; private set; }

    /// <summary>CLIENT_DIRTY_EXEC: a command was refused while queueing; EXEC answers EXECABORT.</summary>
    public bool Aborted { get; set; }

    /// <summary>CLIENT_DIRTY_CAS: a watched key changed (set under that key's lock by the writer, <see cref="WatchedKeys.Touch"/>).</summary>
    public volatile bool Dirty;

    /// <summary>The database EXEC started in: a run that waited on disk starts again there (SELECT may be queued).</summary>
    public int ExecDatabase = -1;

    /// <summary>The keys this client watches (db, key, what WATCH saw), as <see cref="WatchedKeys"/> lists them too.</summary>
    public readonly List<WatchedKey> Watched = new();

    // The queued commands' argument bytes, back to back, and their ranges into them.
    private byte[] _bytes = new byte[256];
    private int _length;
    private ArgRange[] _args = new ArgRange[16];
    private int _argCount;
    private readonly List<Queued> _queue = new();

    private readonly record struct Queued(CommandSpec Spec, int FirstArg, int ArgCount);

    public int Count => _queue.Count;

    public void Begin()
    {
        Active = true;
        Aborted = false;
    }

    /// <summary>queueMultiCommand: a copy of the command's arguments (the input buffer is reused).</summary>
    public void Queue(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        int bytes = 0;
        foreach (var a in args) bytes += a.Length;
        if (_length + bytes > _bytes.Length) Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _length + bytes));
        if (_argCount + args.Length > _args.Length) Array.Resize(ref _args, Math.Max(_args.Length * 2, _argCount + args.Length));
        int first = _argCount;
        foreach (var a in args)
        {
            input.Slice(a.Offset, a.Length).CopyTo(_bytes.AsSpan(_length));
            _args[_argCount++] = new ArgRange(_length, a.Length);
            _length += a.Length;
        }
        _queue.Add(new Queued(spec, first, args.Length));
    }

    /// <summary>Queued command <paramref name="i"/>: its spec, and its arguments over <see cref="Bytes"/>.</summary>
    public CommandSpec Command(int i, out ReadOnlySpan<ArgRange> args)
    {
        var q = _queue[i];
        args = _args.AsSpan(q.FirstArg, q.ArgCount);
        return q.Spec;
    }

    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    /// <summary>discardTransaction's freeClientMultiState: the queue and the MULTI flags go (watches are the caller's).</summary>
    public void EndMulti()
    {
        Active = false;
        Aborted = false;
        ExecDatabase = -1;
        _queue.Clear();
        _length = 0;
        _argCount = 0;
        // A transaction of megabytes does not keep its buffer.
        if (_bytes.Length > 1 << 20) _bytes = new byte[256];
        if (_args.Length > 1 << 14) _args = new ArgRange[16];
    }
}

/// <summary>
/// A watched key and what WATCH saw of it: whether it existed (FLUSHDB / FLUSHALL touch only keys that
/// did) and its expiry, 0 for none (EXEC fails once it has passed: multi.c isWatchedKeyExpired).
/// </summary>
public sealed record WatchedKey(int Database, byte[] Key, bool Existed, long Expiry, Transaction Owner);
