namespace NativeKv.Server.Commands;

/// <summary>
/// HRANDFIELD and SRANDMEMBER with a negative count answer |count| independent picks. Redis writes them
/// all (a count near -2^63 runs until memory gives out, every client waiting); a NativeKv reactor wrote
/// picks until the 1 GB output cap, 3-4 s in which its other clients' PINGs waited. Past 16 MB of picks
/// in one reply the client is closed instead, as for an output buffer limit (16 MB: about a million
/// picks, written in ~110 ms; 64 MB still held the PINGs 420-450 ms).
/// </summary>
internal static class RepeatedPicks
{
    public const long MaxReplyBytes = 16L << 20;

    /// <summary>True when the picks must stop: the output is being discarded, or this reply passed the bound (the client then closes).</summary>
    public static bool Stop(ref CommandContext ctx, long replyStart)
    {
        var r = ctx.Reply;
        if (r.Discarding) return true;
        if (r.Length - replyStart <= MaxReplyBytes) return false;
        r.Discard();
        ctx.Client.CloseAfterReply = true;
        return true;
    }
}
