namespace NativeKv.Server;

/// <summary>Redis-style log lines: "pid:M 29 Nov 2026 10:40:40.123 * message".</summary>
public sealed class Log
{
    private readonly object _gate = new();
    private readonly TextWriter _out;
    private readonly int _pid = Environment.ProcessId;

    public Log(TextWriter output) => _out = output;

    public static Log ForFile(string path) =>
        path.Length == 0 ? new Log(Console.Out) : new Log(new StreamWriter(path, append: true) { AutoFlush = true });

    /// <summary>0 debug, 1 verbose, 2 notice, 3 warning, 4 nothing.</summary>
    public int Level { get; set; } = 2;

    public static int ParseLevel(string name) => name switch
    {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        "warning" => 3,
        _ => 4,
    };

    public void Verbose(string message) => Write(1, '-', message);
    public void Notice(string message) => Write(2, '*', message);
    public void Warning(string message) => Write(3, '#', message);

    private void Write(int level, char mark, string message)
    {
        if (level < Level) return;
        var now = DateTime.Now;
        lock (_gate)
        {
            _out.WriteLine($"{_pid}:M {now:dd MMM yyyy HH:mm:ss.fff} {mark} {message}");
            _out.Flush();
        }
    }
}
