using System.Diagnostics;
using System.Text;
using NativeKv.Server.Network;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// The one place a parsed request becomes a handler call: lookup (generated), subcommand
/// resolution, the arity check, authentication, CLIENT REPLY modes and per-command stats.
/// </summary>
public sealed class CommandExecutor(ServerContext server)
{
    private readonly ServerContext _server = server;

    /// <summary>
    /// Runs one command. False when it waits on disk: nothing was replied or consumed, and the
    /// caller runs it again (same input, same args) once the client's store operations complete.
    /// </summary>
    public bool Execute(Client client, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        var output = client.Output;
        var stats = client.Reactor.Stats;
        var name = input.Slice(args[0].Offset, args[0].Length);

        // CLIENT REPLY SKIP silences exactly the next command.
        bool skipThis = client.ReplyMode == ReplyMode.Skip;
        if (skipThis) client.ReplyMode = ReplyMode.Off;
        output.Enabled = client.ReplyMode == ReplyMode.On;

        int index = CommandTable.Lookup(name);
        if (index < 0)
        {
            RejectUnknown(client, input, args, stats);
            FinishReplyMode(client, skipThis);
            return true;
        }
        var spec = CommandTable.Commands[index];
        if (spec.IsContainer && (args.Length >= 2 || !spec.HasHandler))
        {
            if (args.Length < 2)
            {
                Reject(client, spec, stats, $"ERR wrong number of arguments for '{spec.Name}' command");
                FinishReplyMode(client, skipThis);
                return true;
            }
            var subName = input.Slice(args[1].Offset, args[1].Length);
            int sub = CommandTable.LookupSubcommand(index, subName);
            if (sub < 0)
            {
                Reject(client, spec, stats, $"ERR unknown subcommand '{Truncate(subName, 128)}'. Try {spec.Name.ToUpperInvariant()} HELP.");
                FinishReplyMode(client, skipThis);
                return true;
            }
            spec = CommandTable.Commands[sub];
        }

        int arity = spec.Arity;
        if ((arity > 0 && args.Length != arity) || args.Length < -arity)
        {
            Reject(client, spec, stats, $"ERR wrong number of arguments for '{spec.Name}' command");
            FinishReplyMode(client, skipThis);
            return true;
        }
        if (!client.Authenticated && (spec.Flags & CommandFlags.NoAuth) == 0)
        {
            Reject(client, spec, stats, "NOAUTH Authentication required.");
            FinishReplyMode(client, skipThis);
            return true;
        }

        if (_server.WriteDenied is { } denied && ((spec.Flags & CommandFlags.Write) != 0 || spec.Name == "ping"))
        {
            // Nothing a write does may be acknowledged while the disk refuses it (Redis denies PING too).
            Reject(client, spec, stats, denied);
            FinishReplyMode(client, skipThis);
            return true;
        }

        long errorsBefore = output.ErrorCount;
        long start = Stopwatch.GetTimestamp();
        var ctx = new CommandContext(input, args, client, spec);
        var store = client.Reactor.Store;
        int mark = output.Mark;
        int db = client.Database;
        store?.BeginCommand(client.StoreState);
        CommandTable.Invoke(spec.Index, ref ctx);
        if (store is not null && store.EndCommand())
        {
            // Waits on disk: drop the partial reply; the same request runs again later.
            output.Truncate(mark);
            if (skipThis) client.ReplyMode = ReplyMode.Skip;
            output.Enabled = true;
            return false;
        }
        long elapsed = Stopwatch.GetTimestamp() - start;
        if (store is not null && store.Dirty > 0 && _server.WriteLog is { } writeLog) writeLog.Append(db, input, args, client);

        stats.CommandsProcessed++;
        stats.Calls[spec.Index]++;
        stats.Microseconds[spec.Index] += elapsed * 1_000_000 / Stopwatch.Frequency;
        if (output.ErrorCount != errorsBefore)
        {
            stats.FailedCalls[spec.Index]++;
            stats.CountError(output.LastErrorPrefix);
        }
        client.LastCommand = spec.Name;
        FinishReplyMode(client, skipThis);
        return true;
    }

    private static void FinishReplyMode(Client client, bool skipped)
    {
        // SKIP lasts one command; a CLIENT REPLY issued by this command already set the new mode.
        if (skipped && client.ReplyMode == ReplyMode.Off) client.ReplyMode = ReplyMode.On;
        client.Output.Enabled = true;
    }

    private static void Reject(Client client, CommandSpec spec, ReactorStats stats, string error)
    {
        client.Output.Error(error);
        stats.RejectedCalls[spec.Index]++;
        stats.CountError(client.Output.LastErrorPrefix);
    }

    /// <summary>Redis: "unknown command 'x', with args beginning with: 'a' 'b' " (args capped at 128 chars).</summary>
    private static void RejectUnknown(Client client, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args, ReactorStats stats)
    {
        var sb = new StringBuilder();
        sb.Append("ERR unknown command '").Append(Truncate(input.Slice(args[0].Offset, args[0].Length), 128)).Append("', with args beginning with: ");
        var list = new StringBuilder();
        for (int i = 1; i < args.Length && list.Length < 128; i++)
        {
            var a = input.Slice(args[i].Offset, args[i].Length);
            int take = Math.Min(a.Length, 128 - list.Length);
            list.Append('\'').Append(Encoding.UTF8.GetString(a[..take])).Append("' ");
        }
        sb.Append(list);
        client.Output.Error(sb.ToString());
        stats.CountError(client.Output.LastErrorPrefix);
    }

    private static string Truncate(ReadOnlySpan<byte> s, int max) => Encoding.UTF8.GetString(s.Length > max ? s[..max] : s);
}
