using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// The bytes struct.pack and cmsgpack.pack build before their one lua_pushlstring: one buffer a thread, kept
/// between calls (no allocation per call once it has grown), given back when a call made it large.
/// Writes past <see cref="MaxLength"/> are dropped and mark the result failed ("not enough memory").
/// </summary>
internal sealed unsafe class LuaOutput
{
    public const int MaxLength = 1 << 30;
    private const int KeptLength = 1 << 20;

    [ThreadStatic] private static LuaOutput? _current;

    /// <summary>
    /// This thread's buffer, emptied, until <see cref="Release"/>. A call made meanwhile (a __gc finalizer run by a
    /// GC step inside lua_pushlstring can pack too) gets a buffer of its own.
    /// </summary>
    public static LuaOutput Start()
    {
        var o = _current ?? new LuaOutput();
        _current = null;
        o.Length = 0;
        o.Failed = false;
        return o;
    }

    private byte[] _bytes = new byte[256];

    public int Length { get; private set; }

    /// <summary>A write would have passed <see cref="MaxLength"/>.</summary>
    public bool Failed { get; private set; }

    public ReadOnlySpan<byte> Written => _bytes.AsSpan(0, Length);

    /// <summary>Room for <paramref name="n"/> more bytes, or an empty span (and <see cref="Failed"/>) past the limit.</summary>
    public Span<byte> Take(int n)
    {
        if (Failed) return default;
        if ((long)Length + n > MaxLength)
        {
            Failed = true;
            return default;
        }
        if (Length + n > _bytes.Length) Array.Resize(ref _bytes, (int)Math.Min(MaxLength, Math.Max(2L * _bytes.Length, (long)Length + n)));
        var s = _bytes.AsSpan(Length, n);
        Length += n;
        return s;
    }

    public void Put(byte b)
    {
        var s = Take(1);
        if (s.Length == 1) s[0] = b;
    }

    public void Put(ReadOnlySpan<byte> bytes)
    {
        var s = Take(bytes.Length);
        if (s.Length == bytes.Length) bytes.CopyTo(s);
    }

    public void Zeros(int n) => Take(n).Clear();

    public void Release() => _current = this;

    /// <summary>Pushes what was written as one Lua string.</summary>
    public void Push(nint L)
    {
        fixed (byte* p = _bytes) lua_pushlstring(L, p, (nuint)Length);
        if (_bytes.Length > KeptLength) _bytes = new byte[256];
    }
}
