using System.Net.Sockets;
using System.Text;

namespace NativeKv.Tests.Infrastructure;

/// <summary>A RESP reply as tests see it.</summary>
public sealed record Reply(char Type, string? Text, long Integer, Reply[]? Items)
{
    public bool IsError => Type == '-' || Type == '!';
    public bool IsNull => Type == '_' || (Text is null && Items is null && (Type == '$' || Type == '*'));
    public override string ToString() => Type switch
    {
        ':' => Integer.ToString(),
        '*' or '%' or '~' or '>' => Items is null ? "(nil)" : "[" + string.Join(", ", Items.Select(i => i.ToString())) + "]",
        _ => Text ?? "(nil)",
    };
}

/// <summary>
/// A raw-socket RESP client for tests: sends exact bytes, reads and parses replies (RESP2 and
/// RESP3). Test-only code; it lives on System.Net.Sockets, the server never does.
/// </summary>
public sealed class RespClient : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    public RespClient(int port, TimeSpan? timeout = null)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect("127.0.0.1", port);
        _socket.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(20)).TotalMilliseconds;
        _stream = new NetworkStream(_socket, ownsSocket: true);
    }

    public Socket Socket => _socket;

    public void SendRaw(ReadOnlySpan<byte> bytes) => _stream.Write(bytes);
    public void SendRaw(string text) => SendRaw(Encoding.UTF8.GetBytes(text));

    public static byte[] Encode(params object[] args)
    {
        var ms = new MemoryStream();
        void W(string s) => ms.Write(Encoding.UTF8.GetBytes(s));
        W($"*{args.Length}\r\n");
        foreach (var a in args)
        {
            var bytes = a as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(a, System.Globalization.CultureInfo.InvariantCulture)!);
            W($"${bytes.Length}\r\n");
            ms.Write(bytes);
            W("\r\n");
        }
        return ms.ToArray();
    }

    public void Send(params object[] args) => SendRaw(Encode(args));

    public Reply Call(params object[] args)
    {
        Send(args);
        return Read();
    }

    /// <summary>True when the server closed the connection (read returns 0) within the timeout.</summary>
    public bool WaitClosed(TimeSpan timeout)
    {
        _socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        try
        {
            while (true)
            {
                if (_start < _end) { _start = _end; continue; }
                int n = _socket.Receive(_buffer);
                if (n == 0) return true;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset) { return true; }
        catch (SocketException) { return false; }
    }

    private byte ReadByte()
    {
        if (_start == _end) Fill();
        return _buffer[_start++];
    }

    private void Fill()
    {
        _start = 0;
        _end = _stream.Read(_buffer, 0, _buffer.Length);
        if (_end == 0) throw new EndOfStreamException("server closed the connection");
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            byte b = ReadByte();
            if (b == '\r')
            {
                ReadByte();
                return sb.ToString();
            }
            sb.Append((char)b);
        }
    }

    private byte[] ReadExact(int count)
    {
        var result = new byte[count];
        int got = 0;
        while (got < count)
        {
            if (_start == _end) Fill();
            int take = Math.Min(count - got, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, got, take);
            _start += take;
            got += take;
        }
        return result;
    }

    /// <summary>Reads a bulk payload as raw bytes (for binary-safety tests).</summary>
    public byte[]? ReadBulkBytes()
    {
        byte type = ReadByte();
        var line = ReadLine();
        if (type != '$') throw new InvalidDataException($"expected bulk, got {(char)type}{line}");
        int len = int.Parse(line);
        if (len < 0) return null;
        var data = ReadExact(len);
        ReadExact(2);
        return data;
    }

    public Reply Read()
    {
        char type = (char)ReadByte();
        var line = ReadLine();
        switch (type)
        {
            case '+':
            case '-':
            case ',':
            case '(':
                return new Reply(type, line, 0, null);
            case '#':
                return new Reply(type, line, line == "t" ? 1 : 0, null);
            case ':':
                return new Reply(type, line, long.Parse(line), null);
            case '_':
                return new Reply(type, null, 0, null);
            case '$':
            case '=':
            case '!':
            {
                int len = int.Parse(line);
                if (len < 0) return new Reply(type, null, 0, null);
                var data = ReadExact(len);
                ReadExact(2);
                return new Reply(type, Encoding.UTF8.GetString(data), 0, null);
            }
            case '*':
            case '~':
            case '>':
            case '%':
            {
                long count = long.Parse(line);
                if (count < 0) return new Reply(type, null, 0, null);
                if (type == '%') count *= 2;
                var items = new Reply[count];
                for (int i = 0; i < count; i++) items[i] = Read();
                return new Reply(type, null, count, items);
            }
            default:
                throw new InvalidDataException($"unexpected reply type '{type}' line '{line}'");
        }
    }

    public void Dispose() => _stream.Dispose();
}
