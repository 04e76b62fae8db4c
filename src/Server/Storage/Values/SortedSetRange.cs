namespace NativeKv.Server.Storage.Values;

/// <summary>A score interval (zrangespec): ZRANGEBYSCORE's min and max, "(" making a bound exclusive.</summary>
public readonly struct ScoreRange(double min, double max, bool minExclusive, bool maxExclusive)
{
    public double Min { get; } = min;
    public double Max { get; } = max;
    public bool MinExclusive { get; } = minExclusive;
    public bool MaxExclusive { get; } = maxExclusive;

    public bool GteMin(double v) => MinExclusive ? v > Min : v >= Min;
    public bool LteMax(double v) => MaxExclusive ? v < Max : v <= Max;
    public bool Contains(double v) => GteMin(v) && LteMax(v);

    /// <summary>zslIsInRange's first test: an interval nothing can be in.</summary>
    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    /// <summary>zslParseRange's half: "(" exclusive, else a double (strtod: no NaN).</summary>
    public static bool TryParseBound(ReadOnlySpan<byte> s, out double value, out bool exclusive)
    {
        exclusive = s.Length > 0 && s[0] == (byte)'(';
        if (exclusive) s = s[1..];
        return ScoreText.TryParseBound(s, out value);
    }
}

/// <summary>
/// A member interval (zlexrangespec): "[" inclusive, "(" exclusive, "-" and "+" the infinities. The
/// bounds are spans of the command's arguments, so this lives on the stack.
/// </summary>
public readonly ref struct LexRange
{
    private readonly ReadOnlySpan<byte> _min, _max;
    // -1: the '-' infinity, 1: '+', 0: a value.
    private readonly sbyte _minInf, _maxInf;
    private readonly bool _minEx, _maxEx;

    private LexRange(ReadOnlySpan<byte> min, sbyte minInf, bool minEx, ReadOnlySpan<byte> max, sbyte maxInf, bool maxEx)
    {
        _min = min; _minInf = minInf; _minEx = minEx;
        _max = max; _maxInf = maxInf; _maxEx = maxEx;
    }

    /// <summary>The low bound: -1 for "-", 1 for "+", 0 for a value (<paramref name="value"/>, exclusive for "(").</summary>
    public sbyte Min(out ReadOnlySpan<byte> value, out bool exclusive)
    {
        value = _min;
        exclusive = _minEx;
        return _minInf;
    }

    /// <summary>The high bound, as <see cref="Min"/>.</summary>
    public sbyte Max(out ReadOnlySpan<byte> value, out bool exclusive)
    {
        value = _max;
        exclusive = _maxEx;
        return _maxInf;
    }

    /// <summary>zslParseLexRange; false for an item that is not "-", "+", "[x" or "(x".</summary>
    public static bool TryParse(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = default;
        if (!TryItem(min, out var minV, out sbyte minInf, out bool minEx)) return false;
        if (!TryItem(max, out var maxV, out sbyte maxInf, out bool maxEx)) return false;
        range = new LexRange(minV, minInf, minEx, maxV, maxInf, maxEx);
        return true;
    }

    private static bool TryItem(ReadOnlySpan<byte> s, out ReadOnlySpan<byte> value, out sbyte inf, out bool exclusive)
    {
        value = default;
        inf = 0;
        exclusive = false;
        if (s.Length == 0) return false;
        switch (s[0])
        {
            case (byte)'+': if (s.Length != 1) return false; inf = 1; return true;
            case (byte)'-': if (s.Length != 1) return false; inf = -1; return true;
            case (byte)'(': exclusive = true; value = s[1..]; return true;
            case (byte)'[': value = s[1..]; return true;
            default: return false;
        }
    }

    public bool GteMin(ReadOnlySpan<byte> v)
    {
        if (_minInf != 0) return _minInf < 0;
        int c = v.SequenceCompareTo(_min);
        return _minEx ? c > 0 : c >= 0;
    }

    public bool LteMax(ReadOnlySpan<byte> v)
    {
        if (_maxInf != 0) return _maxInf > 0;
        int c = v.SequenceCompareTo(_max);
        return _maxEx ? c < 0 : c <= 0;
    }

    public bool Contains(ReadOnlySpan<byte> v) => GteMin(v) && LteMax(v);

    /// <summary>zslIsInLexRange's first test: an interval nothing can be in.</summary>
    public bool IsEmpty
    {
        get
        {
            if (_minInf > 0 || _maxInf < 0) return true;
            if (_minInf < 0 || _maxInf > 0) return false;
            int c = _min.SequenceCompareTo(_max);
            return c > 0 || (c == 0 && (_minEx || _maxEx));
        }
    }
}
