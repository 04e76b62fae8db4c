namespace NativeKv.Server.Commands;

/// <summary>CLIENT PAUSE and CLIENT UNPAUSE (networking.c clientCommand); the pause itself is Network/ClientPause.</summary>
internal static class ClientPauseCommands
{
    private const CommandFlags Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale;

    [RespCommand("CLIENT|PAUSE", Arity = -3, Flags = Flags, Group = CommandGroup.Connection, Since = "3.0.0",
        Summary = "Suspends commands processing.", Complexity = "O(1)")]
    public static void Pause(ref CommandContext ctx)
    {
        if (ctx.Count > 4)
        {
            var text = new ErrorText.Builder(200);
            text.Append("ERR unknown subcommand or wrong number of arguments for '"u8);
            text.Append(ErrorText.CString(ctx[1], 128));
            text.Append("'. Try CLIENT HELP."u8);
            text.Reply(ctx.Reply, trimEnd: false);
            return;
        }
        bool all = true;
        if (ctx.Count == 4)
        {
            if (ctx.ArgIs(3, "WRITE"u8)) all = false;
            else if (!ctx.ArgIs(3, "ALL"u8))
            {
                ctx.Reply.Error("ERR CLIENT PAUSE mode must be WRITE or ALL");
                return;
            }
        }
        if (!Waits.TryTimeout(ref ctx, 2, out long timeout)) return;
        // A timeout of 0 is an end of 0: nothing is paused (unless a pause runs already).
        long end = timeout > 0 ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + timeout : 0;
        ctx.Server.Pause.Pause(end, all, ctx.Client.Reactor);
        ctx.Reply.Ok();
    }

    [RespCommand("CLIENT|UNPAUSE", Arity = 2, Flags = Flags, Group = CommandGroup.Connection, Since = "6.2.0",
        Summary = "Resumes processing commands from paused clients.", Complexity = "O(N) Where N is the number of paused clients")]
    public static void Unpause(ref CommandContext ctx)
    {
        ctx.Server.Pause.Unpause();
        ctx.Reply.Ok();
    }
}
