namespace NativeKv.Server.Protocol;

/// <summary>Where one argument sits, relative to the start of its command in the input buffer.</summary>
public readonly record struct ArgRange(int Offset, int Length);

public enum ParseResult
{
    /// <summary>A full command is in <see cref="RequestParser.Args"/>; <c>consumed</c> bytes belong to it.</summary>
    Command,
    /// <summary>Bytes were consumed but they held no command (empty inline line, *0, *-1).</summary>
    Empty,
    /// <summary>More input is needed; <see cref="RequestParser.BytesNeeded"/> hints how much.</summary>
    Incomplete,
    /// <summary>Malformed input: reply with <see cref="RequestParser.Error"/> and close.</summary>
    Error,
}

/// <summary>
/// Resumable RESP2 request parser (multibulk and inline), parsing in place: arguments are ranges
/// into the caller's buffer, nothing is copied or allocated per request. The caller hands in the
/// unconsumed input starting at the current command; between calls it may move that input to the
/// start of its buffer, because all positions are relative to the command start.
/// Error texts are Redis's own (networking.c).
/// </summary>
public sealed class RequestParser
{
    /// <summary>Longest inline request or count line Redis accepts (PROTO_INLINE_MAX_SIZE).</summary>
    public const int InlineMaxSize = 64 * 1024;

    /// <summary>Arguments reserved for a multibulk header at most, whatever count it announces.</summary>
    public const int MaxReserve = 1024;
    private const int InitialArgs = 16;

    private ArgRange[] _args = new ArgRange[InitialArgs];
    private int _argc;
    private int _expected = -1;   // multibulk count of the command in progress; -1 = not started
    private long _bulkLength = -1; // length of the bulk whose header was read, -1 = none
    private int _position;         // scan position relative to the command start

    /// <summary>Largest bulk accepted (proto-max-bulk-len).</summary>
    public long MaxBulkLength { get; set; } = 512L * 1024 * 1024;

    /// <summary>When set (requirepass and not authenticated), Redis's tighter limits apply.</summary>
    public bool Unauthenticated { get; set; }

    public ReadOnlySpan<ArgRange> Args => _args.AsSpan(0, _argc);
    public int ArgCount => _argc;
    /// <summary>Arguments the parser has room for now (tests: a header reserves at most <see cref="MaxReserve"/>).</summary>
    internal int ArgCapacity => _args.Length;

    /// <summary>After Incomplete: the total bytes (from command start) the command needs, when known.</summary>
    public long BytesNeeded { get; private set; }

    /// <summary>After Error: the full error line ("ERR Protocol error: ...").</summary>
    public string? Error { get; private set; }

    /// <summary>True while a partially received command is pending.</summary>
    public bool InProgress => _expected >= 0 || _position > 0;

    public void Reset()
    {
        _argc = 0;
        _expected = -1;
        _bulkLength = -1;
        _position = 0;
        BytesNeeded = 0;
    }

    /// <summary>Between commands: lets go of an argument array grown past its initial size.</summary>
    public void TrimIfIdle()
    {
        if (InProgress || _args.Length <= InitialArgs) return;
        _args = new ArgRange[InitialArgs];
        _argc = 0;
    }

    public ParseResult Parse(Span<byte> input, out int consumed)
    {
        consumed = 0;
        BytesNeeded = 0;
        if (input.Length == 0) return ParseResult.Incomplete;
        if (_expected < 0 && input[0] != (byte)'*') return ParseInline(input, out consumed);
        return ParseMultibulk(input, out consumed);
    }

    private ParseResult ParseMultibulk(Span<byte> input, out int consumed)
    {
        consumed = 0;
        if (_expected < 0)
        {
            int cr = input.IndexOf((byte)'\r');
            if (cr < 0)
            {
                if (input.Length > InlineMaxSize) return Fail("ERR Protocol error: too big mbulk count string");
                return ParseResult.Incomplete;
            }
            if (cr + 1 >= input.Length) return ParseResult.Incomplete;
            if (!RespNumber.TryParseInt64(input[1..cr], out long count) || count > int.MaxValue)
                return Fail("ERR Protocol error: invalid multibulk length");
            if (Unauthenticated && count > 10)
                return Fail("ERR Protocol error: unauthenticated multibulk length");
            if (count <= 0)
            {
                consumed = cr + 2;
                Reset();
                return ParseResult.Empty;
            }
            _expected = (int)count;
            _argc = 0;
            _position = cr + 2;
            // The count is only announced: reserve for 1,024 at most (Redis's argv cap) and grow as
            // arguments arrive. Reserving for the count let "*1048576\r\n" (11 bytes) take 8 MB.
            if (_args.Length < Math.Min(_expected, MaxReserve))
                _args = new ArgRange[Math.Min(_expected, MaxReserve)];
        }

        while (_argc < _expected)
        {
            if (_bulkLength < 0)
            {
                var rest = input[_position..];
                int cr = rest.IndexOf((byte)'\r');
                if (cr < 0)
                {
                    if (rest.Length > InlineMaxSize) return Fail("ERR Protocol error: too big bulk count string");
                    return ParseResult.Incomplete;
                }
                if (cr + 1 >= rest.Length) return ParseResult.Incomplete;
                if (rest[0] != (byte)'$')
                    return Fail($"ERR Protocol error: expected '$', got '{(char)rest[0]}'");
                if (!RespNumber.TryParseInt64(rest[1..cr], out long len) || len < 0 || len > MaxBulkLength)
                    return Fail("ERR Protocol error: invalid bulk length");
                if (Unauthenticated && len > 16384)
                    return Fail("ERR Protocol error: unauthenticated bulk length");
                _bulkLength = len;
                _position += cr + 2;
            }

            long end = _position + _bulkLength + 2;
            if (input.Length < end)
            {
                BytesNeeded = end;
                return ParseResult.Incomplete;
            }
            if (_argc == _args.Length) Array.Resize(ref _args, _args.Length * 2);
            _args[_argc++] = new ArgRange(_position, (int)_bulkLength);
            _position = (int)end;
            _bulkLength = -1;
        }

        consumed = _position;
        _expected = -1;
        _position = 0;
        return ParseResult.Command;
    }

    /// <summary>Inline command: one line split like sdssplitargs, unescaped in place.</summary>
    private ParseResult ParseInline(Span<byte> input, out int consumed)
    {
        consumed = 0;
        int nl = input.IndexOf((byte)'\n');
        if (nl < 0)
        {
            if (input.Length > InlineMaxSize) return Fail("ERR Protocol error: too big inline request");
            return ParseResult.Incomplete;
        }
        int lineEnd = nl;
        if (lineEnd > 0 && input[lineEnd - 1] == (byte)'\r') lineEnd--;
        if (!SdsSplitArgs.Split(input[..lineEnd], ref _args, out _argc))
            return Fail("ERR Protocol error: unbalanced quotes in request");
        consumed = nl + 1;
        if (_argc == 0)
        {
            Reset();
            return ParseResult.Empty;
        }
        _position = 0;
        return ParseResult.Command;
    }

    private ParseResult Fail(string message)
    {
        Error = message;
        Reset();
        return ParseResult.Error;
    }
}
