using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Config;

/// <summary>
/// Start-up configuration as redis-server reads it: an optional config file as the first argument,
/// then "--name value [value ...]" options, each applied as if it were a line of the file.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Applies file and arguments to <paramref name="config"/>; returns an error text or null.</summary>
    public static string? Load(string[] args, ServerConfig config)
    {
        int i = 0;
        var text = new StringBuilder();
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            var path = args[0];
            if (!File.Exists(path)) return $"Fatal error, can't open config file '{path}': No such file or directory";
            config.ConfigFile = Path.GetFullPath(path);
            text.Append(File.ReadAllText(path)).Append('\n');
            i = 1;
        }

        // Command-line options become extra lines: "--port 7000 --bind a b" -> "port 7000\nbind a b".
        var options = new StringBuilder();
        for (; i < args.Length; i++)
        {
            var a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                if (options.Length > 0) options.Append('\n');
                options.Append(a[2..]);
            }
            else
            {
                if (options.Length == 0) return $"Invalid argument '{a}': options must start with '--'";
                options.Append(' ').Append(Quote(a));
            }
        }
        text.Append(options);
        return Apply(text.ToString(), config);
    }

    /// <summary>Applies config-file text; the error names the line as Redis's FATAL CONFIG FILE ERROR does.</summary>
    public static string? Apply(string text, ServerConfig config)
    {
        var lines = text.Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var argv = SplitArgs(line);
            if (argv is null) return FileError(n + 1, line, "Unbalanced quotes in configuration line");
            if (argv.Count == 0) continue;
            var name = argv[0].ToLowerInvariant();
            if (!config.Registry.TryGet(name, out var p)) return FileError(n + 1, line, "Bad directive or wrong number of arguments");
            var value = string.Join(' ', argv.Skip(1));
            var error = p.Set(value);
            if (error is not null) return FileError(n + 1, line, error);
        }
        return null;
    }

    private static string FileError(int lineNumber, string line, string reason) =>
        $"\n*** FATAL CONFIG FILE ERROR (NativeKv) ***\nReading the configuration file, at line {lineNumber}\n>>> '{line}'\n{reason}";

    private static string Quote(string s) =>
        s.Length > 0 && s.IndexOfAny([' ', '"', '\'', '\t', '\\']) < 0 ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>Splits a line with sdssplitargs rules; null on unbalanced quotes.</summary>
    public static List<string>? SplitArgs(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        var parser = new RequestParser();
        var result = parser.Parse(bytes, out _);
        if (result == ParseResult.Error) return null;
        var list = new List<string>();
        if (result != ParseResult.Command) return list;
        foreach (var r in parser.Args) list.Add(Encoding.UTF8.GetString(bytes, r.Offset, r.Length));
        return list;
    }
}
