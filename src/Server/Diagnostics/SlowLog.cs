namespace NativeKv.Server.Diagnostics;

/// <summary>One SLOWLOG GET entry (slowlog.c slowlogEntry), its arguments already cut as Redis cuts them.</summary>
public sealed record SlowLogEntry(long Id, long Time, long Duration, byte[][] Args, string Peer, string Name);

/// <summary>
/// The server-wide slow log (slowlog.c): newest first, at most slowlog-max-len entries, ids counting up
/// from 0 for the life of the process (SLOWLOG RESET keeps the count). Reactors push under a lock: a push
/// happens only for a command at least slowlog-log-slower-than long, so the lock is off the common path.
/// </summary>
public sealed class SlowLog
{
    /// <summary>SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.</summary>
    public const int MaxArgs = 32, MaxString = 128;

    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;

    /// <summary>slowlogPushEntryIfNeeded once the caller found the command slow enough: add, then trim to maxLen.</summary>
    public void Push(byte[][] args, long durationMicros, string peer, string name, long maxLen)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        lock (_entries)
        {
            _entries.AddFirst(new SlowLogEntry(_nextId++, now, durationMicros, args, peer, name));
            while (_entries.Count > maxLen) _entries.RemoveLast();
        }
    }

    public int Length
    {
        get { lock (_entries) return _entries.Count; }
    }

    /// <summary>slowlog-max-len lowered: the oldest entries go.</summary>
    public void Trim(long maxLen)
    {
        lock (_entries)
        {
            while (_entries.Count > maxLen) _entries.RemoveLast();
        }
    }

    public void Reset()
    {
        lock (_entries) _entries.Clear();
    }

    /// <summary>The newest <paramref name="count"/> entries (all with -1).</summary>
    public SlowLogEntry[] Newest(long count)
    {
        lock (_entries)
        {
            int n = count < 0 || count > _entries.Count ? _entries.Count : (int)count;
            var result = new SlowLogEntry[n];
            int i = 0;
            for (var node = _entries.First; node is not null && i < n; node = node.Next) result[i++] = node.Value;
            return result;
        }
    }

    /// <summary>
    /// slowlogCreateEntry's argument vector: at most 32 arguments, the last one then saying
    /// "... (N more arguments)"; an argument over 128 bytes cut to 128 and "... (N more bytes)".
    /// <paramref name="redacted"/> marks the arguments shown as "(redacted)" (redactClientCommandArgument).
    /// </summary>
    public static byte[][] CutArgs(ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> args, ReadOnlySpan<bool> redacted)
    {
        int argc = args.Length;
        int kept = Math.Min(argc, MaxArgs);
        var result = new byte[kept][];
        for (int j = 0; j < kept; j++)
        {
            if (kept != argc && j == kept - 1)
            {
                result[j] = System.Text.Encoding.ASCII.GetBytes($"... ({argc - kept + 1} more arguments)");
                continue;
            }
            if (j < redacted.Length && redacted[j])
            {
                result[j] = "(redacted)"u8.ToArray();
                continue;
            }
            var a = input.Slice(args[j].Offset, args[j].Length);
            if (a.Length > MaxString)
            {
                var suffix = System.Text.Encoding.ASCII.GetBytes($"... ({a.Length - MaxString} more bytes)");
                var cut = new byte[MaxString + suffix.Length];
                a[..MaxString].CopyTo(cut);
                suffix.CopyTo(cut, MaxString);
                result[j] = cut;
            }
            else result[j] = a.ToArray();
        }
        return result;
    }
}
