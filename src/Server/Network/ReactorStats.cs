using NativeKv.Server.Commands;

namespace NativeKv.Server.Network;

/// <summary>
/// Counters owned by one reactor thread (plain increments, no atomics); INFO sums them across
/// reactors, tolerating slightly stale reads as Redis's INFO from I/O threads does.
/// </summary>
public sealed class ReactorStats
{
    public ReactorStats(ServerContext server)
    {
        int n = CommandTable.Count;
        Calls = new long[n];
        Microseconds = new long[n];
        RejectedCalls = new long[n];
        FailedCalls = new long[n];
    }

    public long CommandsProcessed;
    public long NetInputBytes;
    public long NetOutputBytes;
    public long UnexpectedErrorReplies;
    public long TotalErrorReplies;
    /// <summary>Socket reads and writes that moved data (INFO total_reads/writes_processed).</summary>
    public long ReadsProcessed;
    public long WritesProcessed;
    /// <summary>Clients closed for client-output-buffer-limit (INFO client_output_buffer_limit_disconnections).</summary>
    public long OutputLimitDisconnections;
    /// <summary>
    /// When the command before this one in the same input batch finished (Stopwatch ticks), 0 when there was
    /// none: it is the next one's start, one clock read a command where there were two (the two were 7% of
    /// SADD's server CPU at pipeline 16). Cleared when the batch ends or a command waits.
    /// </summary>
    public long LastCommandEnd;
    public readonly long[] Calls;
    public readonly long[] Microseconds;
    public readonly long[] RejectedCalls;
    public readonly long[] FailedCalls;
    private Dictionary<string, long> _errors = new();

    /// <summary>Error replies by code (errorstats); read by INFO through <see cref="ErrorsSnapshot"/>.</summary>
    public void CountError(string prefix)
    {
        TotalErrorReplies++;
        lock (_errors)
        {
            _errors.TryGetValue(prefix, out long v);
            _errors[prefix] = v + 1;
        }
    }

    public KeyValuePair<string, long>[] ErrorsSnapshot()
    {
        lock (_errors) return _errors.ToArray();
    }

    public void Reset()
    {
        CommandsProcessed = NetInputBytes = NetOutputBytes = UnexpectedErrorReplies = TotalErrorReplies = ReadsProcessed = WritesProcessed = OutputLimitDisconnections = 0;
        Array.Clear(Calls);
        Array.Clear(Microseconds);
        Array.Clear(RejectedCalls);
        Array.Clear(FailedCalls);
        lock (_errors) _errors = new();
    }
}
