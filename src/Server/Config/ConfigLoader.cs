using System.Globalization;
using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Config;

/// <summary>
/// Start-up configuration as redis-server reads it: an optional config file as the first argument,
/// then "--name value [value ...]" options, each applied as if it were a line of the file; and
/// CONFIG REWRITE, which writes the live values back into that file.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Directives Redis accepts and ignores (removed parameters), with their argc range.</summary>
    private static readonly (string Name, int Min, int Max)[] Deprecated =
        [("list-max-ziplist-entries", 2, 2), ("list-max-ziplist-value", 2, 2), ("lua-replicate-commands", 2, 2)];

    /// <summary>Applies file and arguments to <paramref name="config"/>; returns an error text or null.</summary>
    public static string? Load(string[] args, ServerConfig config) => Load(args, config, Console.In);

    /// <summary>As <see cref="Load(string[], ServerConfig)"/>, reading "-" (config from stdin) from <paramref name="stdin"/>.</summary>
    public static string? Load(string[] args, ServerConfig config, TextReader stdin)
    {
        int j = 0;
        var text = new StringBuilder();
        if (args.Length > 0 && args[0].Length > 0 && args[0][0] != '-')
        {
            var path = args[0];
            if (!File.Exists(path)) return $"Fatal error, can't open config file '{path}': No such file or directory";
            config.ConfigFile = Path.GetFullPath(path);
            try { text.Append(File.ReadAllText(path)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return $"Fatal error, can't open config file '{path}': {e.Message}";
            }
            j = 1;
        }

        // As redis-server's main(): "--port 7000 --bind a b" becomes "port 7000 \nbind \"a\" \"b\" ".
        // An option name waits for at least one value, so "--requirepass --x" sets the password "--x";
        // a bare "--save" (last, or followed by another option) means save "".
        var options = new StringBuilder();
        bool fromStdin = false;
        bool handledLastConfigArg = true;
        for (; j < args.Length; j++)
        {
            var a = args[j];
            if (a == "-" && (j == 0 || j == args.Length - 1))
            {
                fromStdin = true;
            }
            else if (handledLastConfigArg && a.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Length > 0) options.Append('\n');
                options.Append(a, 2, a.Length - 2).Append(' ');
                var split = SplitArgs(a);
                if (split is { Count: 1 })
                {
                    handledLastConfigArg = false;
                    bool isSave = a.Equals("--save", StringComparison.OrdinalIgnoreCase);
                    bool isSentinel = a.Equals("--sentinel", StringComparison.OrdinalIgnoreCase);
                    bool nextIsOption = j != args.Length - 1 && args[j + 1].StartsWith("--", StringComparison.Ordinal);
                    if (isSave && nextIsOption)
                    {
                        options.Append("\"\"");
                        handledLastConfigArg = true;
                    }
                    else if (isSave && j == args.Length - 1)
                    {
                        options.Append("\"\"");
                    }
                    else if (isSentinel && nextIsOption)
                    {
                        handledLastConfigArg = true;
                    }
                }
                else
                {
                    handledLastConfigArg = true;
                }
            }
            else
            {
                options.Append(ConfigValues.Repr(a)).Append(' ');
                handledLastConfigArg = true;
            }
        }

        if (fromStdin) text.Append(stdin.ReadToEnd());
        if (options.Length > 0) text.Append('\n').Append(options);
        return Apply(text.ToString(), config);
    }

    /// <summary>Applies config-file text; the error names the line as Redis's FATAL CONFIG FILE ERROR does.</summary>
    public static string? Apply(string text, ServerConfig config)
    {
        var registry = config.Registry;
        bool wasLoading = registry.LoadingFile;
        registry.LoadingFile = true;
        try
        {
            return ApplyLines(text, config, depth: 0);
        }
        finally
        {
            registry.LoadingFile = wasLoading;
        }
    }

    private static string? ApplyLines(string text, ServerConfig config, int depth)
    {
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#') continue;
            var argv = SplitArgs(line);
            if (argv is null) return FileError(n + 1, line, "Unbalanced quotes in configuration line");
            if (argv.Count == 0) continue;
            var name = argv[0].ToLowerInvariant();

            if (config.Registry.TryGet(name, out var p))
            {
                if (!p.MultiArg && argv.Count != 2) return FileError(n + 1, line, "wrong number of arguments");
                string[] values;
                if (p.MultiArg && argv.Count == 2 && argv[1].Length > 0)
                {
                    // "--save '900 1 300 10'": one argument holding several.
                    values = SplitArgs(argv[1])?.ToArray() ?? [];
                }
                else
                {
                    values = argv.Skip(1).ToArray();
                }
                var error = p.SetArgs(values);
                if (error is not null) return FileError(n + 1, line, error);
                continue;
            }

            bool deprecated = false;
            foreach (var (dname, min, max) in Deprecated)
            {
                if (name == dname && argv.Count >= min && argv.Count <= max) deprecated = true;
            }
            if (deprecated) continue;

            if (name == "include" && argv.Count == 2)
            {
                if (depth > 16) return FileError(n + 1, line, "Too many nested include directives");
                var included = ReadInclude(argv[1], out var includeError);
                if (includeError is not null) return includeError;
                var error = ApplyLines(included!, config, depth + 1);
                if (error is not null) return error;
                continue;
            }
            return FileError(n + 1, line, "Bad directive or wrong number of arguments");
        }
        // Hz is a hint: out-of-range values are clamped after loading (already done on set).
        return null;
    }

    /// <summary>"include path": one file, or every file a glob pattern matches (none is fine).</summary>
    private static string? ReadInclude(string path, out string? error)
    {
        error = null;
        if (path.IndexOfAny(['*', '?', '[']) < 0)
        {
            if (!File.Exists(path))
            {
                error = $"Fatal error, can't open config file '{path}': No such file or directory";
                return null;
            }
            return File.ReadAllText(path) + "\n";
        }
        var dir = Path.GetDirectoryName(path);
        if (string.IsNullOrEmpty(dir)) dir = ".";
        var pattern = Path.GetFileName(path);
        if (!Directory.Exists(dir)) return "";
        var sb = new StringBuilder();
        var patternBytes = Encoding.UTF8.GetBytes(pattern);
        foreach (var file in Directory.GetFiles(dir).OrderBy(f => f, StringComparer.Ordinal))
        {
            if (!Commands.GlobMatcher.Match(patternBytes, Encoding.UTF8.GetBytes(Path.GetFileName(file)))) continue;
            sb.Append(File.ReadAllText(file)).Append('\n');
        }
        return sb.ToString();
    }

    private static string FileError(int lineNumber, string line, string reason) =>
        $"\n*** FATAL CONFIG FILE ERROR (Redis {ServerContext.Version}) ***\nReading the configuration file, at line {lineNumber}\n>>> '{line}'\n{reason}";

    /// <summary>Splits a line with Redis's sdssplitargs rules; null on unbalanced quotes.</summary>
    public static List<string>? SplitArgs(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        var ranges = new ArgRange[8];
        if (!SdsSplitArgs.Split(bytes, ref ranges, out int count)) return null;
        var result = new List<string>(count);
        for (int i = 0; i < count; i++) result.Add(Encoding.UTF8.GetString(bytes, ranges[i].Offset, ranges[i].Length));
        return result;
    }

    // ------------------------------------------------------------------ CONFIG REWRITE

    private const string RewriteSignature = "# Generated by CONFIG REWRITE";

    /// <summary>Directives the loader knows that are not parameters (kept in place by a rewrite).</summary>
    private static readonly string[] OtherDirectives = ["include", "rename-command", "user", "loadmodule", "sentinel"];

    /// <summary>
    /// Rewrites <paramref name="path"/> as Redis's CONFIG REWRITE does: comments and unknown lines
    /// stay, each parameter's lines are replaced in place, non-default values missing from the file
    /// are appended after a "# Generated by CONFIG REWRITE" line, and stale lines are dropped. The
    /// new file replaces the old one atomically. Returns null or the error text (strerror style).
    /// </summary>
    public static string? Rewrite(string path, ConfigRegistry registry)
    {
        List<string> lines = new();
        var optionToLines = new Dictionary<string, Queue<int>>(StringComparer.OrdinalIgnoreCase);
        bool needsSignature = true;
        try
        {
            if (File.Exists(path))
            {
                var content = File.ReadAllText(path);
                var raw = content.Length == 0 ? [] : content.Split('\n');
                for (int i = 0; i < raw.Length; i++)
                {
                    var line = raw[i].Trim('\r', '\n', '\t', ' ');
                    if (line.Length == 0 || line[0] == '#')
                    {
                        if (needsSignature && line == RewriteSignature) needsSignature = false;
                        lines.Add(line);
                        continue;
                    }
                    var argv = SplitArgs(line);
                    if (argv is null || argv.Count == 0 ||
                        (!registry.TryGet(argv[0], out _) && !OtherDirectives.Contains(argv[0].ToLowerInvariant())))
                    {
                        lines.Add("# ??? " + line);
                        continue;
                    }
                    var option = argv[0].ToLowerInvariant();
                    if (registry.TryGet(option, out var p)) option = p.Name;
                    lines.Add(line);
                    if (!optionToLines.TryGetValue(option, out var q)) optionToLines[option] = q = new Queue<int>();
                    q.Enqueue(lines.Count - 1);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return e.Message;
        }

        var rewritten = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in registry.All)
        {
            var r = p.Rewrite();
            rewritten.Add(p.Name);
            if (r.Lines is null) continue;
            for (int k = 0; k < r.Lines.Length; k++)
            {
                var newLine = r.Lines[k];
                if (optionToLines.TryGetValue(p.Name, out var q) && q.Count > 0)
                {
                    lines[q.Dequeue()] = newLine;
                }
                else if (r.IsForced(k))
                {
                    if (needsSignature)
                    {
                        lines.Add(RewriteSignature);
                        needsSignature = false;
                    }
                    lines.Add(newLine);
                }
            }
        }

        // Lines of rewritten options that were not reused (an extra save line, a now-default value) go.
        foreach (var (option, q) in optionToLines)
        {
            if (!rewritten.Contains(option)) continue;
            while (q.Count > 0) lines[q.Dequeue()] = "";
        }

        var sb = new StringBuilder();
        bool wasEmpty = false;
        foreach (var line in lines)
        {
            if (line.Length == 0)
            {
                if (wasEmpty) continue;
                wasEmpty = true;
            }
            else
            {
                wasEmpty = false;
            }
            sb.Append(line).Append('\n');
        }

        var tmp = path + "." + Random.Shared.Next(100000, 999999).ToString(CultureInfo.InvariantCulture);
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write))
            {
                var bytes = Encoding.UTF8.GetBytes(sb.ToString());
                fs.Write(bytes);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return e.Message;
        }
    }
}
