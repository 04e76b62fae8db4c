namespace NativeKv.Server.Commands;

/// <summary>CLIENT subcommands.</summary>
internal static class ClientCommands
{
    /// <summary>Redis allows only printable ASCII without spaces in client names.</summary>
    public static bool ValidName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b < '!' || b > '~') return false;
        }
        return true;
    }
}
