using System.Buffers;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// Error replies that quote a client's argument, built from its bytes as Redis's printf does:
/// never decoded (a UTF-8 round trip turns 0xff into U+FFFD), cut at the first NUL (%s reads a
/// C string) and at <c>max</c> bytes (%.128s). RespWriter.Error turns \r and \n into spaces, as
/// addReplyErrorFormat does; trailing ones are trimmed first, as its sdstrim.
/// </summary>
internal static class ErrorText
{
    /// <summary>What %.{max}s prints of an argument.</summary>
    public static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> arg, int max = int.MaxValue)
    {
        int nul = arg.IndexOf((byte)0);
        if (nul >= 0) arg = arg[..nul];
        return arg.Length > max ? arg[..max] : arg;
    }

    /// <summary>"-{before}{arg}{after}" as addReplyErrorFormat(c, "before%safter", arg).</summary>
    public static void Quote(RespWriter reply, ReadOnlySpan<byte> before, ReadOnlySpan<byte> arg, ReadOnlySpan<byte> after, int max = int.MaxValue)
    {
        var text = new Builder(before.Length + Math.Min(arg.Length, max) + after.Length);
        text.Append(before);
        text.Append(CString(arg, max));
        text.Append(after);
        text.Reply(reply, trimEnd: true);
    }

    /// <summary>An error text in a pooled buffer (error paths only; the hot path never builds one).</summary>
    public struct Builder
    {
        private byte[] _buffer;
        private int _length;

        public Builder(int capacity) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, 64));

        public readonly int Length => _length;

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (_length + bytes.Length > _buffer.Length)
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + bytes.Length));
                _buffer.AsSpan(0, _length).CopyTo(bigger);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }
            bytes.CopyTo(_buffer.AsSpan(_length));
            _length += bytes.Length;
        }

        /// <summary>Our own text (command names, fixed words): ASCII by construction.</summary>
        public void Append(string ascii)
        {
            Span<byte> tmp = stackalloc byte[ascii.Length];
            for (int i = 0; i < ascii.Length; i++) tmp[i] = (byte)ascii[i];
            Append(tmp);
        }

        /// <summary>As sdstoupper: ASCII letters only, byte by byte.</summary>
        public void AppendUpper(ReadOnlySpan<byte> bytes)
        {
            int start = _length;
            Append(bytes);
            for (int i = start; i < _length; i++)
            {
                if (_buffer[i] is >= (byte)'a' and <= (byte)'z') _buffer[i] -= 32;
            }
        }

        /// <summary>Writes the error and gives the buffer back.</summary>
        public void Reply(RespWriter reply, bool trimEnd)
        {
            int n = _length;
            while (trimEnd && n > 0 && _buffer[n - 1] is (byte)'\r' or (byte)'\n') n--;
            reply.Error(_buffer.AsSpan(0, n));
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _length = 0;
        }
    }
}
