namespace NativeKv.Server.Network.Tracking;

/// <summary>
/// One client's CLIENT TRACKING state (Redis's CLIENT_TRACKING_* flags, client_tracking_redirection and
/// client_tracking_prefixes). Written only on the client's reactor; other reactors read the flags when they
/// send it an invalidation (a plain field read: a change of mode races an invalidation in Redis's sense only).
/// </summary>
public sealed class ClientTracking
{
    /// <summary>CLIENT_TRACKING: made once, kept (off) after CLIENT TRACKING OFF.</summary>
    public volatile bool On;
    public volatile bool Bcast;
    public volatile bool OptIn;
    public volatile bool OptOut;
    public volatile bool NoLoop;
    /// <summary>CLIENT_TRACKING_CACHING: CLIENT CACHING YES (OPTIN) or NO (OPTOUT) for the next command or transaction.</summary>
    public bool Caching;
    /// <summary>CLIENT_TRACKING_BROKEN_REDIR: an invalidation found the redirect client gone.</summary>
    public volatile bool BrokenRedirect;
    /// <summary>client_tracking_redirection: 0 for none.</summary>
    public long Redirect;
    /// <summary>client_tracking_prefixes in byte order (a rax): BCAST only.</summary>
    public readonly SortedSet<byte[]> Prefixes = new(ByteOrder.Instance);
    /// <summary>The command being run is a CLIENT subcommand (resetClient keeps CACHING after those).</summary>
    internal bool CommandIsClient;

    /// <summary>trackingRememberKeys's OPTIN / OPTOUT test: the keys of the command are remembered.</summary>
    public bool RemembersKeys => On && !Bcast && !((OptIn && !Caching) || (OptOut && Caching));

    /// <summary>disableTracking's flag reset.</summary>
    internal void Clear()
    {
        On = Bcast = OptIn = OptOut = NoLoop = BrokenRedirect = false;
        Caching = false;
        Redirect = 0;
        Prefixes.Clear();
    }
}

/// <summary>Byte-wise lexicographic order, as Redis's rax iterates keys and prefixes.</summary>
public sealed class ByteOrder : IComparer<byte[]>
{
    public static readonly ByteOrder Instance = new();
    public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
}
