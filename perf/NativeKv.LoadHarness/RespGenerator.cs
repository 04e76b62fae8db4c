namespace NativeKv.LoadHarness;

/// <summary>
/// The RESP input of a data-set load: <c>SET key:NNNNNNNNNNNN xxx...</c> for keys 0 .. N-1, as
/// <c>*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$100\r\nxxx...\r\n</c>. The key is redis-benchmark's
/// own <c>-r</c> format (<c>key:</c> + 12 digits, <c>key:%012d</c>), so its GET and SET runs with
/// <c>-r N</c> hit exactly these keys. Written in a streaming way: nothing is held in memory but one
/// command (a 5M-key load is 720 MB).
/// </summary>
static class RespGenerator
{
    /// <summary>redis-benchmark's -r keys have 12 digits: key:000000000000 .. key:999999999999.</summary>
    public const int KeyDigits = 12;

    static ReadOnlySpan<byte> Head => "*3\r\n$3\r\nSET\r\n$16\r\nkey:"u8;

    /// <summary>Bytes of one SET command with a <paramref name="dataSize"/>-byte value.</summary>
    public static long CommandLength(int dataSize) =>
        Head.Length + KeyDigits + ValueHeader(dataSize).Length + dataSize + 2;

    /// <summary>Bytes of the whole input for <paramref name="keys"/> keys.</summary>
    public static long Length(long keys, int dataSize) => keys * CommandLength(dataSize);

    /// <summary>The key redis-benchmark -r makes for <paramref name="index"/> (<c>key:%012d</c>).</summary>
    public static string Key(long index) => "key:" + index.ToString("D12", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Writes SET commands for keys <paramref name="first"/> .. <paramref name="first"/>+<paramref name="count"/>-1, values of 'x'.</summary>
    public static void Write(Stream stream, long count, int dataSize, long first = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfLessThan(dataSize, 1);
        if (first + count > 1_000_000_000_000L) throw new ArgumentOutOfRangeException(nameof(count), "keys have 12 digits");

        // One command buffer, rewritten in place: only the digits change from one key to the next.
        var command = new byte[CommandLength(dataSize)];
        Head.CopyTo(command);
        int digitsAt = Head.Length;
        int at = digitsAt + KeyDigits;
        var valueHeader = ValueHeader(dataSize);
        valueHeader.CopyTo(command.AsSpan(at));
        at += valueHeader.Length;
        command.AsSpan(at, dataSize).Fill((byte)'x');
        "\r\n"u8.CopyTo(command.AsSpan(at + dataSize));

        var digits = command.AsSpan(digitsAt, KeyDigits);
        for (long i = first; i < first + count; i++)
        {
            long n = i;
            for (int d = KeyDigits - 1; d >= 0; d--, n /= 10) digits[d] = (byte)('0' + n % 10);
            stream.Write(command);
        }
    }

    /// <summary>Writes the input for <paramref name="keys"/> keys to <paramref name="path"/> (through a .partial file, so a cut-short run leaves no half file under the name).</summary>
    public static void WriteFile(string path, long keys, int dataSize)
    {
        var partial = path + ".partial";
        using (var stream = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            Write(stream, keys, dataSize);
        File.Move(partial, path, overwrite: true);
    }

    static byte[] ValueHeader(int dataSize) => System.Text.Encoding.ASCII.GetBytes($"\r\n${dataSize}\r\n");
}
