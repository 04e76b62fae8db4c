using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace NativeKv.Server.Config;

/// <summary>Parameter flags, as config.c's *_CONFIG flags.</summary>
[Flags]
public enum ConfigFlags
{
    None = 0,
    /// <summary>Only settable at start-up (config file or command line).</summary>
    Immutable = 1 << 0,
    /// <summary>Holds a secret (redacted from logs).</summary>
    Sensitive = 1 << 1,
    /// <summary>Left out of CONFIG GET pattern matches; an exact name still finds it.</summary>
    Hidden = 1 << 2,
    /// <summary>CONFIG SET refuses it unless enable-protected-configs allows.</summary>
    Protected = 1 << 3,
    /// <summary>Refused with -LOADING while the dataset loads.</summary>
    DenyLoading = 1 << 4,
    /// <summary>Takes several space-separated arguments (save, bind, ...).</summary>
    MultiArg = 1 << 5,
    Debug = 1 << 6,
    Volatile = 1 << 7,
}

/// <summary>Validates a value without changing anything; on success returns null and the change to apply.</summary>
public delegate string? ConfigPrepare(string[] args, out Action? apply);

/// <summary>
/// How CONFIG REWRITE writes a parameter: its lines (null: none, only drop old ones) and whether to
/// add them when the file lacks them (<paramref name="Force"/>, or per line <paramref name="LineForce"/>).
/// </summary>
public readonly record struct ConfigRewrite(string[]? Lines, bool Force, bool[]? LineForce = null)
{
    public bool IsForced(int line) => LineForce is null ? Force : LineForce[line];
}

/// <summary>One CONFIG parameter: how to read it back, how to validate and change it, how to rewrite it.</summary>
public sealed class ConfigParameter
{
    private readonly Func<string> _get;
    private readonly ConfigPrepare _prepare;
    private readonly Func<string, ConfigRewrite> _rewrite;

    public ConfigParameter(string name, string? alias, ConfigFlags flags, Func<string> get, ConfigPrepare prepare, Func<string, ConfigRewrite> rewrite)
        : this(name, alias is null ? [] : [alias], flags, get, prepare, rewrite)
    {
    }

    public ConfigParameter(string name, string[] aliases, ConfigFlags flags, Func<string> get, ConfigPrepare prepare, Func<string, ConfigRewrite> rewrite)
    {
        Name = name;
        Aliases = aliases;
        Flags = flags;
        _get = get;
        _prepare = prepare;
        _rewrite = rewrite;
    }

    /// <summary>Canonical lower-case name as CONFIG GET reports it.</summary>
    public string Name { get; }
    public string[] Aliases { get; }
    public ConfigFlags Flags { get; }
    /// <summary>Only settable at start-up (config file or command line), as Redis's IMMUTABLE_CONFIG.</summary>
    public bool Immutable => (Flags & ConfigFlags.Immutable) != 0;
    public bool MultiArg => (Flags & ConfigFlags.MultiArg) != 0;
    public bool Hidden => (Flags & ConfigFlags.Hidden) != 0;
    public bool Protected => (Flags & ConfigFlags.Protected) != 0;
    public bool Sensitive => (Flags & ConfigFlags.Sensitive) != 0;

    /// <summary>The value as CONFIG GET shows it.</summary>
    public string Get() => _get();

    /// <summary>Validates <paramref name="args"/>; returns the reason it is refused, or null and the change.</summary>
    public string? Prepare(string[] args, out Action? apply) => _prepare(args, out apply);

    /// <summary>A CONFIG SET value as arguments: multi-argument parameters split on single spaces.</summary>
    public string[] SplitValue(string value)
    {
        if (!MultiArg) return [value];
        return value.Length == 0 ? [] : value.Split(' ');
    }

    /// <summary>Applies a value as CONFIG SET would; returns null on success or the reason it was refused.</summary>
    public string? Set(string value) => SetArgs(SplitValue(value));

    /// <summary>Applies already split arguments (a config-file line); null on success or the reason.</summary>
    public string? SetArgs(string[] args)
    {
        var error = _prepare(args, out var apply);
        if (error is null) apply?.Invoke();
        return error;
    }

    public ConfigRewrite Rewrite() => _rewrite(Name);
}

/// <summary>
/// Every configuration parameter redis-server 7.2 knows, by name. Those that drive NativeKv are
/// bound to <see cref="ServerConfig"/>; the rest are validated as Redis validates them and kept.
/// </summary>
public sealed partial class ConfigRegistry
{
    private readonly Dictionary<string, ConfigParameter> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<ConfigParameter> _all = new();
    private readonly List<ConfigName> _names = new();

    public ConfigRegistry(ServerConfig config)
    {
        Config = config;
        RegisterAll();
    }

    public ServerConfig Config { get; }

    /// <summary>Parameters in registration order (primary names).</summary>
    public IReadOnlyList<ConfigParameter> All => _all;

    /// <summary>Every name, primary and alias, in registration order (CONFIG GET pattern order).</summary>
    public IReadOnlyList<ConfigName> Names => _names;

    /// <summary>True while a config file / command line is being applied (save lines accumulate).</summary>
    internal bool LoadingFile { get; set; }
    private bool _saveLoaded;

    public void Add(ConfigParameter p)
    {
        if (_byName.ContainsKey(p.Name)) throw new InvalidOperationException("duplicate config " + p.Name);
        _all.Add(p);
        _byName[p.Name] = p;
        _names.Add(new ConfigName(p.Name, Encoding.ASCII.GetBytes(p.Name), p));
        foreach (var a in p.Aliases)
        {
            _byName[a] = p;
            _names.Add(new ConfigName(a, Encoding.ASCII.GetBytes(a), p));
        }
    }

    public bool TryGet(string name, out ConfigParameter parameter) => _byName.TryGetValue(name, out parameter!);

    /// <summary>The current value of a parameter by name (throws on an unknown name).</summary>
    public string GetValue(string name) => _byName[name].Get();

    // ------------------------------------------------------------------ typed builders

    private static ConfigRewrite Line(string line, bool force) => new([line], force);

    private void Bool(string name, string? alias, ConfigFlags flags, bool def,
        Func<bool, string?>? validate = null, Func<bool>? get = null, Action<bool>? set = null)
    {
        if (get is null || set is null)
        {
            var box = new StrongBox<bool>(def);
            get = () => box.Value;
            set = v => box.Value = v;
        }
        var g = get;
        var s = set;
        Add(new ConfigParameter(name, alias, flags,
            () => ConfigValues.YesNo(g()),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                if (ConfigValues.ParseBool(args.Length > 0 ? args[0] : "", out bool v) is { } e) return e;
                if (validate?.Invoke(v) is { } e2) return e2;
                apply = () => s(v);
                return null;
            },
            n => Line($"{n} {ConfigValues.YesNo(g())}", g() != def)));
    }

    /// <summary>How a numeric value is bounds-checked: signed, or unsigned as uint/size_t/ull.</summary>
    private enum Sign { Signed, Unsigned }

    [Flags]
    private enum Num { None = 0, Memory = 1, Percent = 2, Octal = 4 }

    private void Numeric(string name, string? alias, ConfigFlags flags, Sign sign, long lower, long upper, long def,
        Num num = Num.None, Func<long, string?>? validate = null, Action<long>? bind = null, Func<long, long>? adjust = null)
    {
        var box = new StrongBox<long>(def);
        bind?.Invoke(def);
        Add(new ConfigParameter(name, alias, flags,
            () => FormatNumeric(box.Value, num),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                string value = args.Length > 0 ? args[0] : "";
                if (ParseNumeric(value, num) is not { } v)
                    return (num & (Num.Memory | Num.Percent)) == (Num.Memory | Num.Percent) ? "argument must be a memory or percent value"
                        : (num & Num.Memory) != 0 ? "argument must be a memory value"
                        : (num & Num.Octal) != 0 ? "argument couldn't be parsed as an octal number"
                        : "argument couldn't be parsed into an integer";
                if (sign == Sign.Unsigned)
                {
                    if ((ulong)v > (ulong)upper || (ulong)v < (ulong)lower)
                        return (num & Num.Octal) != 0
                            ? $"argument must be between {Convert.ToString(lower, 8)} and {Convert.ToString(upper, 8)} inclusive"
                            : $"argument must be between {(ulong)lower} and {(ulong)upper} inclusive";
                }
                else if ((num & Num.Percent) != 0 && v < 0)
                {
                    if (v < lower) return $"percentage argument must be less or equal to {-lower}";
                }
                else if (v > upper || v < lower)
                {
                    return $"argument must be between {lower} and {upper} inclusive";
                }
                if (validate?.Invoke(v) is { } e) return e;
                if (adjust is not null) v = adjust(v);
                apply = () =>
                {
                    box.Value = v;
                    bind?.Invoke(v);
                };
                return null;
            },
            n =>
            {
                long v = box.Value;
                string text = (num & Num.Percent) != 0 && v < 0 ? (-v).ToString(CultureInfo.InvariantCulture) + "%"
                    : (num & Num.Memory) != 0 ? (v < 0 ? ((ulong)v).ToString(CultureInfo.InvariantCulture) : ConfigValues.FormatMemory(v))
                    : (num & Num.Octal) != 0 ? Convert.ToString(v, 8)
                    : v.ToString(CultureInfo.InvariantCulture);
                return Line($"{n} {text}", v != def);
            }));
    }

    private static string FormatNumeric(long v, Num num)
    {
        if ((num & Num.Percent) != 0 && v < 0) return (-v).ToString(CultureInfo.InvariantCulture) + "%";
        if ((num & Num.Memory) != 0) return ((ulong)v).ToString(CultureInfo.InvariantCulture);
        if ((num & Num.Octal) != 0) return Convert.ToString(v, 8);
        return v.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>numericParseString: memory, then percent, then octal, then (only without flags) a plain integer.</summary>
    private static long? ParseNumeric(string value, Num num)
    {
        if ((num & Num.Memory) != 0 && ConfigValues.TryParseMemoryUnsigned(value, out ulong m)) return (long)m;
        if ((num & Num.Percent) != 0 && value.Length > 1 && value[^1] == '%' &&
            ConfigValues.TryParseStrictInt64(value.AsSpan(0, value.Length - 1), out long pct) && pct >= 0)
            return -pct;
        if ((num & Num.Octal) != 0 && TryParseOctal(value, out long oct)) return oct;
        if (num == Num.None && ConfigValues.TryParseStrictInt64(value, out long plain)) return plain;
        return null;
    }

    /// <summary>strtoll(value, &amp;end, 8) consuming the whole string without overflow.</summary>
    private static bool TryParseOctal(string s, out long value)
    {
        value = 0;
        int i = 0;
        while (i < s.Length && s[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r') i++;
        bool negative = false;
        if (i < s.Length && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
        int start = i;
        ulong acc = 0;
        for (; i < s.Length && s[i] >= '0' && s[i] <= '7'; i++)
        {
            if (acc > (ulong)long.MaxValue >> 3) return false;
            acc = (acc << 3) | (uint)(s[i] - '0');
        }
        if (i == start) return s.Length == 0;
        if (i != s.Length || acc > long.MaxValue) return false;
        value = negative ? -(long)acc : (long)acc;
        return true;
    }

    private void Choice(string name, string? alias, ConfigFlags flags, (string Name, int Value)[] values, int def,
        Func<int, string?>? validate = null, Func<int>? get = null, Action<int>? set = null)
    {
        if (get is null || set is null)
        {
            var box = new StrongBox<int>(def);
            get = () => box.Value;
            set = v => box.Value = v;
        }
        var g = get;
        var s = set;
        bool bitflags = (flags & ConfigFlags.MultiArg) != 0;
        Add(new ConfigParameter(name, alias, flags,
            () => EnumName(values, g(), bitflags),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                int v = EnumValue(values, args, bitflags);
                if (v == int.MinValue)
                {
                    var text = "argument(s) must be one of the following: " + string.Join(", ", values.Select(x => x.Name));
                    return text.Length > 255 ? text[..255] : text;
                }
                if (validate?.Invoke(v) is { } e) return e;
                apply = () => s(v);
                return null;
            },
            n => Line($"{n} {EnumName(values, g(), bitflags)}", g() != def)));
    }

    /// <summary>An enum bound to a string property; the values are its only spellings.</summary>
    private void ChoiceString(string name, string? alias, ConfigFlags flags, string[] values, Func<string> get, Action<string> set)
    {
        var table = values.Select((v, i) => (v, i)).ToArray();
        Choice(name, alias, flags, table, Math.Max(0, Array.IndexOf(values, get())),
            get: () => Math.Max(0, Array.IndexOf(values, get())), set: i => set(values[i]));
    }

    /// <summary>configEnumGetValue: one name, or for bit-flag enums several OR-ed; int.MinValue when unknown.</summary>
    private static int EnumValue((string Name, int Value)[] values, string[] args, bool bitflags)
    {
        if (args.Length == 0 || (!bitflags && args.Length != 1)) return int.MinValue;
        int result = 0;
        foreach (var a in args)
        {
            bool matched = false;
            foreach (var (n, v) in values)
            {
                if (n.Equals(a, StringComparison.OrdinalIgnoreCase))
                {
                    result |= v;
                    matched = true;
                }
            }
            if (!matched) return int.MinValue;
        }
        return result;
    }

    /// <summary>configEnumGetName: the exact match, else (bit flags) the names covering the bits, else "unknown".</summary>
    private static string EnumName((string Name, int Value)[] values, int value, bool bitflags)
    {
        string? names = null;
        int unmatched = value;
        foreach (var (n, v) in values)
        {
            if (value == v) return n;
            if (bitflags && v != 0 && v == (unmatched & v))
            {
                names = names is null ? n : names + " " + n;
                unmatched &= ~v;
            }
        }
        return names is null || unmatched != 0 ? "unknown" : names;
    }

    /// <summary>
    /// A string parameter. <paramref name="emptyIsNull"/> follows Redis's EMPTY_STRING_IS_NULL: an
    /// empty value means unset, reads back as "" and is left out of CONFIG REWRITE.
    /// </summary>
    private void Str(string name, string? alias, ConfigFlags flags, bool emptyIsNull, string? def,
        Func<string, string?>? validate = null, Func<string>? get = null, Action<string>? set = null)
    {
        if (get is null || set is null)
        {
            var box = new StrongBox<string>(def ?? "");
            get = () => box.Value!;
            set = v => box.Value = v;
        }
        var g = get;
        var s = set;
        Add(new ConfigParameter(name, alias, flags,
            () => g(),
            (string[] args, out Action? apply) =>
            {
                apply = null;
                string v = args.Length > 0 ? args[0] : "";
                if (validate?.Invoke(v) is { } e) return e;
                apply = () => s(v);
                return null;
            },
            n =>
            {
                string v = g();
                if (emptyIsNull && v.Length == 0) return new ConfigRewrite(null, false);
                return Line($"{n} {ConfigValues.Repr(v)}", def is null || v != def);
            }));
    }

    private void Special(string name, string? alias, ConfigFlags flags, Func<string> get, ConfigPrepare prepare, Func<string, ConfigRewrite> rewrite) =>
        Add(new ConfigParameter(name, alias, flags, get, prepare, rewrite));
}

/// <summary>A name CONFIG GET can match: a parameter's primary name or one of its aliases.</summary>
public sealed record ConfigName(string Name, byte[] Bytes, ConfigParameter Parameter);
