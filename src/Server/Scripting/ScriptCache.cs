using System.Security.Cryptography;

namespace NativeKv.Server.Scripting;

/// <summary>Shebang flags (script.c scripts_flags_def); <see cref="Compat"/> when the script has no shebang.</summary>
[Flags]
public enum ScriptFlags
{
    None = 0,
    Compat = 1,
    NoWrites = 2,
    AllowOom = 4,
    AllowStale = 8,
    NoCluster = 16,
    AllowCrossSlot = 32,
}

/// <summary>What is known of the keys a script touches: its runs decide how it is locked (docs/storage.md, Scripting).</summary>
public enum ScriptKeys
{
    /// <summary>Never run to the end yet: it runs alone in the keyspace (the keyspace gate), and is watched.</summary>
    Unknown,
    /// <summary>Every run so far touched only its KEYS: its declared keys are locked.</summary>
    Declared,
    /// <summary>A run touched a key not in KEYS: every run takes the keyspace gate.</summary>
    Undeclared,
}

/// <summary>A cached script: its body, flags and where its code starts past the shebang line.</summary>
public sealed class ScriptEntry(string sha, byte[] body, ScriptFlags flags, int codeStart)
{
    public string Sha { get; } = sha;
    public byte[] Body { get; } = body;
    public ScriptFlags Flags { get; } = flags;
    public int CodeStart { get; } = codeStart;
    public volatile ScriptKeys Keys;
}

/// <summary>
/// The script cache (eval.c lctx.lua_scripts), one for all reactors: SHA1 -> body. Each reactor's Lua state
/// compiles a script the first time it runs it there; SCRIPT FLUSH bumps <see cref="Generation"/> and every
/// state starts over at its next script.
/// </summary>
public sealed class ScriptCache
{
    private readonly Dictionary<string, ScriptEntry> _scripts = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private volatile int _generation;

    public int Generation => _generation;

    public ScriptEntry? Find(string sha)
    {
        lock (_gate) return _scripts.TryGetValue(sha, out var e) ? e : null;
    }

    /// <summary>
    /// The last hit of this thread: a pipeline of one EVALSHA asks twice a command (the lock decision and the run),
    /// and the lock and the 40-character hash were 4% of an EVALSHA of three INCRs. Only Flush removes scripts,
    /// and it moves the generation on.
    /// </summary>
    [ThreadStatic] private static LastHit? t_last;

    private sealed class LastHit
    {
        public readonly byte[] Sha = new byte[40];
        public ScriptCache? Cache;
        public ScriptEntry? Entry;
        public int Generation;
    }

    public ScriptEntry? Find(ReadOnlySpan<byte> sha)
    {
        if (sha.Length != 40) return null;
        var last = t_last ??= new LastHit();
        int generation = _generation;
        if (ReferenceEquals(last.Cache, this) && last.Generation == generation && sha.SequenceEqual(last.Sha)) return last.Entry;
        var found = FindLocked(sha);
        if (found is not null)
        {
            sha.CopyTo(last.Sha);
            (last.Cache, last.Entry, last.Generation) = (this, found, generation);
        }
        return found;
    }

    private ScriptEntry? FindLocked(ReadOnlySpan<byte> sha)
    {
        Span<char> lower = stackalloc char[40];
        for (int i = 0; i < 40; i++)
        {
            byte b = sha[i];
            lower[i] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
        }
        lock (_gate) return _scripts.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(lower, out var e) ? e : null;
    }

    public int Count
    {
        get { lock (_gate) return _scripts.Count; }
    }

    /// <summary>Adds a compiled script (the first caller wins: the same body has the same SHA).</summary>
    public ScriptEntry Add(ScriptEntry entry)
    {
        lock (_gate)
        {
            if (_scripts.TryGetValue(entry.Sha, out var e)) return e;
            _scripts[entry.Sha] = entry;
            return entry;
        }
    }

    public void Flush()
    {
        lock (_gate)
        {
            _scripts.Clear();
            _generation++;
        }
    }

    /// <summary>sha1hex: the lowercase hex SHA1 of a body.</summary>
    public static string Sha1Hex(ReadOnlySpan<byte> body)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(body, hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// evalExtractShebangFlags: null on success (flags and the shebang's length out), else the error text.
    /// </summary>
    public static string? ParseShebang(ReadOnlySpan<byte> body, out ScriptFlags flags, out int shebangLength)
    {
        flags = ScriptFlags.Compat;
        shebangLength = 0;
        if (body.Length < 2 || body[0] != '#' || body[1] != '!') return null;
        int end = body.IndexOf((byte)'\n');
        if (end < 0) return "Invalid script shebang";
        shebangLength = end;
        var line = body[..end].ToArray();
        var ranges = new Protocol.ArgRange[8];
        if (!Protocol.SdsSplitArgs.Split(line, ref ranges, out int count) || count == 0) return "Invalid engine in script shebang";
        var parts = new List<byte[]>(count);
        for (int i = 0; i < count; i++) parts.Add(line.AsSpan(ranges[i].Offset, ranges[i].Length).ToArray());
        string engine = System.Text.Encoding.UTF8.GetString(parts[0]);
        if (engine != "#!lua") return "Unexpected engine in script shebang: " + engine;
        flags = ScriptFlags.None;
        for (int j = 1; j < parts.Count; j++)
        {
            string part = System.Text.Encoding.UTF8.GetString(parts[j]);
            if (!part.StartsWith("flags=", StringComparison.Ordinal)) return "Unknown lua shebang option: " + part;
            string list = part[6..];
            if (list.Length == 0) continue; // sdssplitlen of "" gives no elements
            foreach (var f in list.Split(','))
            {
                ScriptFlags one = f switch
                {
                    "no-writes" => ScriptFlags.NoWrites,
                    "allow-oom" => ScriptFlags.AllowOom,
                    "allow-stale" => ScriptFlags.AllowStale,
                    "no-cluster" => ScriptFlags.NoCluster,
                    "allow-cross-slot-keys" => ScriptFlags.AllowCrossSlot,
                    _ => ScriptFlags.None,
                };
                if (one == ScriptFlags.None) return "Unexpected flag in script shebang: " + f;
                flags |= one;
            }
        }
        return null;
    }
}
