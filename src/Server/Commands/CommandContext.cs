using System.Text;
using NativeKv.Server.Network;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// Everything a handler sees for one request: its arguments (spans into the connection's input
/// buffer, valid only during the call), the reply writer, the calling client and the server.
/// </summary>
public ref struct CommandContext
{
    private readonly ReadOnlySpan<byte> _input;
    private readonly ReadOnlySpan<ArgRange> _args;

    public CommandContext(ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, Client client, CommandSpec spec)
    {
        _input = input;
        _args = args;
        Client = client;
        Spec = spec;
    }

    /// <summary>The connection that sent the request (its state: db, name, protocol, ...).</summary>
    public readonly Client Client;

    /// <summary>The command (or subcommand) being executed.</summary>
    public readonly CommandSpec Spec;

    public readonly RespWriter Reply => Client.Output;
    public readonly ServerContext Server => Client.Server;

    /// <summary>Number of arguments including the command name (Redis's argc).</summary>
    public readonly int Count => _args.Length;

    /// <summary>Argument <paramref name="i"/> (0 is the command name).</summary>
    public readonly ReadOnlySpan<byte> this[int i]
    {
        get
        {
            var r = _args[i];
            return _input.Slice(r.Offset, r.Length);
        }
    }

    /// <summary>The request's bytes and argument ranges (MONITOR's line of the command itself).</summary>
    internal readonly ReadOnlySpan<byte> Input => _input;
    internal readonly ReadOnlySpan<ArgRange> Args => _args;

    /// <summary>Argument as a string (for cold paths: names, config values).</summary>
    public readonly string ArgString(int i) => Encoding.UTF8.GetString(this[i]);

    /// <summary>Case-insensitive ASCII compare of argument <paramref name="i"/> with a keyword.</summary>
    public readonly bool ArgIs(int i, ReadOnlySpan<byte> upperKeyword) => Ascii.EqualsIgnoreCase(this[i], upperKeyword);

    /// <summary>Redis's "-ERR value is not an integer or out of range" check.</summary>
    public readonly bool TryGetLong(int i, out long value) => RespNumber.TryParseInt64(this[i], out value);
}
