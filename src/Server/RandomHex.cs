namespace NativeKv.Server;

/// <summary>
/// Random 40-character hex ids (run_id, master_replid), read from /dev/urandom as Redis does.
/// Not RandomNumberGenerator: its first call loads OpenSSL, a few milliseconds of start-up for an id.
/// </summary>
public static class RandomHex
{
    public static string Id40()
    {
        Span<byte> bytes = stackalloc byte[20];
        try
        {
            using var urandom = File.OpenHandle("/dev/urandom", FileMode.Open, FileAccess.Read);
            int read = 0;
            while (read < bytes.Length)
            {
                int n = RandomAccess.Read(urandom, bytes[read..], 0);
                if (n <= 0) throw new IOException("short read from /dev/urandom");
                read += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Random.Shared.NextBytes(bytes); // no /dev/urandom (another OS, a sandbox): still unique enough for an id
        }
        return Convert.ToHexStringLower(bytes);
    }
}
