namespace NativeKv.Server.Scripting;

/// <summary>One registered function (functions.c functionInfo); its <see cref="Entry"/> is what a run executes.</summary>
public sealed class FunctionInfo
{
    public FunctionInfo(string name, string? description, ScriptFlags flags, FunctionLibrary library)
    {
        Name = name;
        Description = description;
        Flags = flags;
        Library = library;
        // The run machinery's script: named by the function (errors say "script: <name>"), never compat.
        Entry = new ScriptEntry(name, library.Code, flags, 0);
    }

    public string Name { get; }
    public string? Description { get; }
    public ScriptFlags Flags { get; }
    public FunctionLibrary Library { get; }
    public ScriptEntry Entry { get; }
}

/// <summary>A library (functionLibInfo): its name, its whole code (shebang included) and its functions.</summary>
public sealed class FunctionLibrary(string name, byte[] code)
{
    public string Name { get; } = name;
    public byte[] Code { get; } = code;
    public List<FunctionInfo> Functions { get; } = new();
}

/// <summary>
/// The server's libraries (functions.c curr_functions_lib_ctx): an immutable set swapped whole, so FCALL on any
/// reactor reads it without a lock. Libraries by name (case-sensitive), functions by name (case-insensitive).
/// </summary>
public sealed class FunctionSet
{
    public static readonly FunctionSet Empty = new([]);

    public FunctionSet(IReadOnlyList<FunctionLibrary> libraries)
    {
        Libraries = libraries;
        foreach (var lib in libraries)
        {
            _libraries[lib.Name] = lib;
            foreach (var f in lib.Functions) _functions[f.Name] = f;
        }
    }

    private readonly Dictionary<string, FunctionLibrary> _libraries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FunctionInfo> _functions = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyList<FunctionLibrary> Libraries { get; }
    public int FunctionCount => _functions.Count;

    public FunctionLibrary? Library(string name) => _libraries.GetValueOrDefault(name);
    public FunctionInfo? Function(string name) => _functions.GetValueOrDefault(name);

    /// <summary>libraryJoin: this set with <paramref name="added"/> (replacing same-named libraries when allowed), or the error.</summary>
    public (FunctionSet? Set, string? Error) Join(IReadOnlyList<FunctionLibrary> added, bool replace)
    {
        var kept = new List<FunctionLibrary>(Libraries);
        foreach (var lib in added)
        {
            int at = kept.FindIndex(l => l.Name == lib.Name);
            if (at < 0) continue;
            if (!replace) return (null, $"Library {lib.Name} already exists");
            kept.RemoveAt(at);
        }
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var lib in kept)
            foreach (var f in lib.Functions) names.Add(f.Name);
        foreach (var lib in added)
            foreach (var f in lib.Functions)
                if (names.Contains(f.Name)) return (null, $"Function {f.Name} already exists");
        kept.AddRange(added);
        return (new FunctionSet(kept), null);
    }

    public FunctionSet Without(FunctionLibrary lib) => new(Libraries.Where(l => !ReferenceEquals(l, lib)).ToList());
}

/// <summary>The current library set and its generation (each Lua state drops its loaded functions when it moves on).</summary>
public static class Functions
{
    private static FunctionSet _set = FunctionSet.Empty;
    private static int _generation;
    private static readonly object Gate = new();

    public static FunctionSet Current => Volatile.Read(ref _set);
    public static int Generation => Volatile.Read(ref _generation);

    /// <summary>Changes the set under one lock: <paramref name="change"/> gets the current set and returns the new one (or null: unchanged).</summary>
    public static string? Update(Func<FunctionSet, (FunctionSet? Set, string? Error)> change, Action<FunctionSet>? committed = null)
    {
        lock (Gate)
        {
            var (set, error) = change(Current);
            if (set is null) return error;
            Volatile.Write(ref _set, set);
            Interlocked.Increment(ref _generation);
            committed?.Invoke(set);
            return null;
        }
    }
}
