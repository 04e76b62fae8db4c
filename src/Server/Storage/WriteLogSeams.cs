namespace NativeKv.Server.Storage;

/// <summary>
/// A connection whose replies may wait for the AOF (Network's Client). The write path parks it until
/// the AOF bytes its writes left are in the file, then flushes it; Storage sees nothing else of it.
/// </summary>
public interface IHeldReplies
{
    /// <summary>The reactor that owns the connection (its gate index).</summary>
    int ReactorIndex { get; }
    /// <summary>That reactor's store session (how many records the last command changed).</summary>
    StoreSession Store { get; }
    /// <summary>AOF address the pending replies wait for; 0 = none.</summary>
    long CommitWait { get; set; }
    /// <summary>AOF address just past the client's last write (Redis's c->woff, for WAITAOF); 0 = none.</summary>
    long WriteOffset { get; set; }
    /// <summary>Parked in its reactor's gate.</summary>
    bool CommitHeld { get; set; }
    bool Closed { get; }
    /// <summary>Sends the pending replies (on the owning reactor's thread).</summary>
    void Flush();
}

/// <summary>A reactor as the write path and SAVE see it: its index and its store session.</summary>
public interface IReactorTurn
{
    int Index { get; }
    StoreSession Store { get; }
}

/// <summary>
/// A command's key positions (its key spec: first, last (negative: from the end), step), for reading
/// ahead the keys of pipelined commands. Commands owns the table; Storage only asks.
/// </summary>
public delegate bool KeyPositions(ReadOnlySpan<byte> name, int argc, out int first, out int last, out int step);
