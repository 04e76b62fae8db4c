using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;

namespace NativeKv.Server.Protocol;

/// <summary>
/// Told when a writer's output is about to pass the mark the watcher set (<see cref="RespWriter.WatchAt"/>)
/// or the buffer's end. The output limits live in Network (OutputLimits); the writer only reports,
/// so the check costs nothing until output grows past the mark.
/// </summary>
public interface IOutputWatcher
{
    /// <summary>
    /// The output is about to reach <paramref name="length"/> bytes. The watcher sets its next mark
    /// (<see cref="RespWriter.WatchAt"/>) or, to close the client, <see cref="RespWriter.Discard"/>s.
    /// </summary>
    void Growing(RespWriter output, long length);
}

/// <summary>
/// Writes RESP2/RESP3 replies straight into a connection's output buffer. One per connection;
/// RESP3-only types degrade to their RESP2 forms as Redis does when <see cref="Protocol"/> is 2.
/// The buffer is pinned: io_uring sends read it in place while the kernel owns the operation.
/// With a <see cref="Pool"/> the writer starts empty and borrows a buffer for its first reply;
/// the connection gives it back with <see cref="Release"/> once everything was sent.
/// </summary>
public sealed class RespWriter
{
    /// <summary>
    /// The largest output buffer: growth doubles, and 2 GB is past Array.MaxLength, so 1 GB is the
    /// last doubling. Output that would pass it is discarded (the client is closed), never thrown on.
    /// </summary>
    public const int MaxCapacity = 1 << 30;

    private byte[] _buffer; // replaced only through SetBuffer: Reserve trusts _end to be within it
    private int _length;
    private int _end;  // Reserve's fast path ends here: the buffer's end, or the watcher's mark if sooner
    private long _mark = long.MaxValue; // length past which the watcher is told
    private long _room = long.MaxValue; // the mark once the buffer is cleared (all sent)
    private bool _enabled = true;
    private bool _discarding;

    public RespWriter(int initialCapacity = 16 * 1024)
    {
        _buffer = GC.AllocateUninitializedArray<byte>(initialCapacity, pinned: true);
        SetEnd();
    }

    /// <summary>A writer that holds no buffer until it writes (set <see cref="Pool"/> to borrow one).</summary>
    public RespWriter(BufferPool? pool)
    {
        _buffer = [];
        Pool = pool;
        SetEnd();
    }

    /// <summary>Where the first buffer comes from and goes back to (the owning reactor's); null: allocated.</summary>
    public BufferPool? Pool { get; set; }

    /// <summary>Sees the output grow past its mark (the client's output limits); null: nobody watches.</summary>
    public IOutputWatcher? Watcher { get; set; }

    /// <summary>True once the output was discarded (a limit or <see cref="MaxCapacity"/> was passed): the client is closing.</summary>
    public bool Discarding => _discarding;

    /// <summary>2 or 3, switched by HELLO.</summary>
    public int Protocol { get; set; } = 2;

    /// <summary>Errors written since creation; the executor compares before/after a command.</summary>
    public long ErrorCount { get; private set; }

    /// <summary>The first word of the last error written (ERR, WRONGTYPE, ...), for errorstats.</summary>
    public string LastErrorPrefix { get; private set; } = "ERR";

    /// <summary>When false (CLIENT REPLY OFF/SKIP), replies are discarded. Stays false once <see cref="Discard"/>ed.</summary>
    public bool Enabled
    {
        get => _enabled;
        set => _enabled = value && !_discarding;
    }

    /// <summary>Bytes written and not cleared (0 once discarded: nothing more is sent).</summary>
    public int Length => _discarding ? 0 : _length;
    public int Capacity => _buffer.Length;
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);
    internal byte[] Buffer => _buffer;

    /// <summary>Drops <paramref name="count"/> sent bytes from the front.</summary>
    public void Consume(int count)
    {
        if (count >= _length) { Clear(); return; }
        System.Buffer.BlockCopy(_buffer, count, _buffer, 0, _length - count);
        _length -= count;
        WatchAt(Math.Max(0, _mark - count), _room);
    }

    public void Clear()
    {
        _length = 0;
        _mark = _room;
        SetEnd();
    }

    /// <summary>
    /// Empty: hands a pool-sized buffer back to the pool. The caller guarantees nothing reads it any
    /// more (io_uring: no send in flight). A larger buffer stays until <see cref="TrimIfIdle"/>, so a
    /// client that keeps fetching big values does not reallocate it per reply.
    /// </summary>
    public void Release()
    {
        if (_length == 0 && Pool is { } pool && _buffer.Length == pool.BufferSize)
        {
            pool.Return(_buffer);
            SetBuffer([]);
        }
    }

    /// <summary>Drops an idle buffer larger than <paramref name="keep"/> (a pooled writer borrows again on its next reply).</summary>
    public void TrimIfIdle(int keep)
    {
        if (_length == 0 && _buffer.Length > keep)
            SetBuffer(Pool is null ? GC.AllocateUninitializedArray<byte>(keep, pinned: true) : []);
    }

    /// <summary>
    /// The watcher is told when the output is about to pass <paramref name="mark"/> bytes, and after
    /// a <see cref="Clear"/> (everything sent) when it is about to pass <paramref name="room"/>.
    /// </summary>
    public void WatchAt(long mark, long room)
    {
        _mark = mark;
        _room = room;
        SetEnd();
    }

    /// <summary>
    /// Drops what is buffered and everything written from now on (the client is being closed for
    /// its output limit): <see cref="Length"/> stays 0, so nothing more is sent. A large buffer is
    /// let go at once.
    /// </summary>
    public void Discard()
    {
        _discarding = true;
        _enabled = false;
        _length = 0;
        _mark = _room = long.MaxValue;
        if (_buffer.Length > 64 * 1024) SetBuffer(Pool is null ? GC.AllocateUninitializedArray<byte>(16 * 1024, pinned: true) : []);
        else SetEnd();
    }

    private void SetEnd() => _end = (int)Math.Min(_buffer.Length, _mark);

    private void SetBuffer(byte[] buffer)
    {
        _buffer = buffer;
        SetEnd();
    }

    /// <summary>Current write position, used to roll back a reply (CLIENT REPLY SKIP).</summary>
    public int Mark => _length;
    public void Truncate(int mark)
    {
        if (!_discarding) _length = mark;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Span<byte> Reserve(int size)
    {
        if (_end - _length < size) Grow(size);
        return _buffer.AsSpan(_length);
    }

    /// <summary>Past the mark or the buffer's end: tell the watcher, then grow (or discard past the cap).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Grow(int size)
    {
        long needed = (long)_length + size;
        if (!_discarding) Watcher?.Growing(this, needed);
        if (!_discarding && needed > MaxCapacity) Discard(); // no watcher, or it let the cap pass
        if (_discarding)
        {
            // The caller still writes this one piece: give it room at the start, never counted.
            _length = 0;
            needed = size;
        }
        if (_buffer.Length == 0 && Pool is { } pool && needed <= pool.BufferSize)
        {
            SetBuffer(pool.Rent()); // empty: nothing to copy
        }
        else if (needed > _buffer.Length)
        {
            long want = _discarding ? needed : Math.Min(Math.Max((long)_buffer.Length * 2, needed), MaxCapacity);
            // Not past the watcher's mark: at a hard limit the client closes there, so doubling past it is waste.
            if (_mark >= needed && _mark < want) want = _mark;
            var next = GC.AllocateUninitializedArray<byte>((int)want, pinned: true);
            System.Buffer.BlockCopy(_buffer, 0, next, 0, _length);
            SetBuffer(next);
        }
        else
        {
            SetEnd();
        }
    }

    public void Raw(ReadOnlySpan<byte> bytes)
    {
        if (!Enabled) return;
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    public void Ok() => Raw("+OK\r\n"u8);
    public void Pong() => Raw("+PONG\r\n"u8);

    public void SimpleString(ReadOnlySpan<byte> s)
    {
        if (!Enabled) return;
        var span = Reserve(s.Length + 3);
        span[0] = (byte)'+';
        s.CopyTo(span[1..]);
        span[s.Length + 1] = (byte)'\r';
        span[s.Length + 2] = (byte)'\n';
        _length += s.Length + 3;
    }

    public void SimpleString(string s) => SimpleString(Encoding.UTF8.GetBytes(s));

    /// <summary>Writes "-{message}\r\n"; message starts with its code ("ERR ...", "WRONGTYPE ...").</summary>
    public void Error(ReadOnlySpan<byte> message)
    {
        ErrorCount++;
        int space = message.IndexOf((byte)' ');
        var prefix = space < 0 ? message : message[..space];
        LastErrorPrefix = ErrorPrefixes.Intern(prefix);
        if (!Enabled) return;
        // Newlines would break the protocol; Redis replaces them with spaces.
        var span = Reserve(message.Length + 3);
        span[0] = (byte)'-';
        for (int i = 0; i < message.Length; i++)
        {
            byte b = message[i];
            span[i + 1] = b == (byte)'\r' || b == (byte)'\n' ? (byte)' ' : b;
        }
        span[message.Length + 1] = (byte)'\r';
        span[message.Length + 2] = (byte)'\n';
        _length += message.Length + 3;
    }

    public void Error(string message) => Error(Encoding.UTF8.GetBytes(message));

    private void PrefixedNumber(byte prefix, long value)
    {
        if (!Enabled) return;
        var span = Reserve(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        _length += n + 3;
    }

    public void Integer(long value)
    {
        if ((ulong)value < (ulong)SmallIntegers.Length && Enabled)
        {
            Raw(SmallIntegers[value]);
            return;
        }
        PrefixedNumber((byte)':', value);
    }

    public void ArrayHeader(long count) => PrefixedNumber((byte)'*', count);

    /// <summary>A map of <paramref name="pairs"/> entries (RESP2: flat array of 2n).</summary>
    public void MapHeader(long pairs)
    {
        if (Protocol >= 3) PrefixedNumber((byte)'%', pairs);
        else PrefixedNumber((byte)'*', pairs * 2);
    }

    public void SetHeader(long count) => PrefixedNumber(Protocol >= 3 ? (byte)'~' : (byte)'*', count);

    public void PushHeader(long count) => PrefixedNumber(Protocol >= 3 ? (byte)'>' : (byte)'*', count);

    public void Bulk(ReadOnlySpan<byte> value)
    {
        if (!Enabled) return;
        var span = Reserve(value.Length + 24);
        span[0] = (byte)'$';
        Utf8Formatter.TryFormat(value.Length, span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        value.CopyTo(span[(n + 3)..]);
        int end = n + 3 + value.Length;
        span[end] = (byte)'\r';
        span[end + 1] = (byte)'\n';
        _length += end + 2;
    }

    public void Bulk(string value)
    {
        if (!Enabled) return;
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 512)
        {
            Span<byte> tmp = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(value, tmp);
            Bulk(tmp[..n]);
        }
        else
        {
            Bulk(Encoding.UTF8.GetBytes(value));
        }
    }

    public void Bulk(long value)
    {
        Span<byte> tmp = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, tmp, out int n);
        Bulk(tmp[..n]);
    }

    /// <summary>A missing value: $-1 in RESP2, _ in RESP3.</summary>
    public void NullBulk() => Raw(Protocol >= 3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary>A missing aggregate: *-1 in RESP2, _ in RESP3.</summary>
    public void NullArray() => Raw(Protocol >= 3 ? "_\r\n"u8 : "*-1\r\n"u8);

    public void EmptyArray() => Raw("*0\r\n"u8);

    public void Boolean(bool value)
    {
        if (Protocol >= 3) Raw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else Raw(value ? ":1\r\n"u8 : ":0\r\n"u8);
    }

    /// <summary>A double: RESP3 ',' type, RESP2 bulk string, formatted as Redis does (%.17g).</summary>
    public void Double(double value)
    {
        Span<byte> tmp = stackalloc byte[32];
        int n = FormatDouble(value, tmp);
        if (Protocol >= 3)
        {
            if (!Enabled) return;
            var span = Reserve(n + 3);
            span[0] = (byte)',';
            tmp[..n].CopyTo(span[1..]);
            span[n + 1] = (byte)'\r';
            span[n + 2] = (byte)'\n';
            _length += n + 3;
        }
        else
        {
            Bulk(tmp[..n]);
        }
    }

    /// <summary>Verbatim string (RESP3 '='), plain bulk in RESP2.</summary>
    public void Verbatim(ReadOnlySpan<byte> text, string format = "txt")
    {
        if (Protocol < 3) { Bulk(text); return; }
        if (!Enabled) return;
        int len = text.Length + 4;
        var span = Reserve(len + 24);
        span[0] = (byte)'=';
        Utf8Formatter.TryFormat(len, span[1..], out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        int p = n + 3;
        for (int i = 0; i < 3; i++) span[p + i] = (byte)format[i];
        span[p + 3] = (byte)':';
        text.CopyTo(span[(p + 4)..]);
        p += 4 + text.Length;
        span[p] = (byte)'\r';
        span[p + 1] = (byte)'\n';
        _length += p + 2;
    }

    public void Verbatim(string text) => Verbatim(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Redis 7.2's d2string (RESP2 and RESP3 alike): nan, inf, -inf, 0, -0; an integral value within
    /// +-LLONG_MAX/2 as an integer; else fpconv_dtoa: grisu2's digits (<see cref="Fpconv"/>), laid out as
    /// its emit_digits does (plain up to 7 zeros past the digits or 6 leading
    /// ones after the point, else d.ddde+XX). Returns the byte count (dest needs 32 bytes).
    /// </summary>
    public static int FormatDouble(double value, Span<byte> dest)
    {
        if (double.IsNaN(value)) { "nan"u8.CopyTo(dest); return 3; }
        if (double.IsPositiveInfinity(value)) { "inf"u8.CopyTo(dest); return 3; }
        if (double.IsNegativeInfinity(value)) { "-inf"u8.CopyTo(dest); return 4; }
        if (value == 0)
        {
            if (double.IsNegative(value)) { "-0"u8.CopyTo(dest); return 2; }
            dest[0] = (byte)'0';
            return 1;
        }
        const double half = long.MaxValue / 2;
        if (value >= -half && value <= half && Math.Floor(value) == value)
        {
            Utf8Formatter.TryFormat((long)value, dest, out int w);
            return w;
        }
        Span<byte> digits = stackalloc byte[24];
        bool neg = value < 0;
        int ndigits = Fpconv.Grisu2(value, digits, out int K);
        int p = 0;
        if (neg) dest[p++] = (byte)'-';
        return p + EmitDigits(digits[..ndigits], dest[p..], K, neg);
    }

    /// <summary>fpconv_dtoa.c emit_digits.</summary>
    private static int EmitDigits(ReadOnlySpan<byte> digits, Span<byte> dest, int K, bool neg)
    {
        int ndigits = digits.Length;
        int exp = Math.Abs(K + ndigits - 1);
        if (K >= 0 && exp < ndigits + 7)
        {
            digits.CopyTo(dest);
            dest.Slice(ndigits, K).Fill((byte)'0');
            return ndigits + K;
        }
        if (K < 0 && (K > -7 || exp < 4))
        {
            int offset = ndigits - Math.Abs(K);
            if (offset <= 0)
            {
                offset = -offset;
                dest[0] = (byte)'0';
                dest[1] = (byte)'.';
                dest.Slice(2, offset).Fill((byte)'0');
                digits.CopyTo(dest[(offset + 2)..]);
                return ndigits + 2 + offset;
            }
            digits[..offset].CopyTo(dest);
            dest[offset] = (byte)'.';
            digits[offset..].CopyTo(dest[(offset + 1)..]);
            return ndigits + 1;
        }
        ndigits = Math.Min(ndigits, 18 - (neg ? 1 : 0));
        int idx = 0;
        dest[idx++] = digits[0];
        if (ndigits > 1)
        {
            dest[idx++] = (byte)'.';
            digits[1..ndigits].CopyTo(dest[idx..]);
            idx += ndigits - 1;
        }
        dest[idx++] = (byte)'e';
        dest[idx++] = K + ndigits - 1 < 0 ? (byte)'-' : (byte)'+';
        int cent = 0;
        if (exp > 99)
        {
            cent = exp / 100;
            dest[idx++] = (byte)(cent + '0');
            exp -= cent * 100;
        }
        if (exp > 9)
        {
            int dec = exp / 10;
            dest[idx++] = (byte)(dec + '0');
            exp -= dec * 10;
        }
        else if (cent != 0) dest[idx++] = (byte)'0';
        dest[idx++] = (byte)(exp % 10 + '0');
        return idx;
    }

    private static readonly byte[][] SmallIntegers = BuildSmallIntegers();

    private static byte[][] BuildSmallIntegers()
    {
        var table = new byte[128][];
        for (int i = 0; i < table.Length; i++) table[i] = Encoding.ASCII.GetBytes($":{i}\r\n");
        return table;
    }
}

/// <summary>Keeps error-code strings for errorstats without allocating per error.</summary>
internal static class ErrorPrefixes
{
    private static readonly string[] Known =
        ["ERR", "WRONGTYPE", "NOAUTH", "WRONGPASS", "NOPROTO", "NOPERM", "EXECABORT", "BUSYKEY",
         "NOSCRIPT", "OOM", "LOADING", "READONLY", "MISCONF", "NOTBUSY", "UNBLOCKED", "NOREPLICAS",
         "BUSY", "CROSSSLOT", "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN", "NOGROUP", "BUSYGROUP"];

    public static string Intern(ReadOnlySpan<byte> prefix)
    {
        foreach (var k in Known)
        {
            if (prefix.Length == k.Length && Ascii.Equals(prefix, k)) return k;
        }
        return prefix.Length > 64 ? Encoding.UTF8.GetString(prefix[..64]) : Encoding.UTF8.GetString(prefix);
    }
}
