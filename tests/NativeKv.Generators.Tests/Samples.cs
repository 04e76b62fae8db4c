namespace NativeKv.Generators.Tests;

internal static class Samples
{
    public const string Containers =
        """
        using NativeKv.Server.Commands;

        [assembly: RespContainer("CLIENT", Group = CommandGroup.Connection, Summary = "A container for client connection commands.", Since = "2.4.0")]
        [assembly: RespContainer("Config", Group = CommandGroup.Server)]
        """;

    public const string Handlers =
        """
        using NativeKv.Server.Commands;

        namespace App.Commands
        {
            internal static class StringCommands
            {
                [RespCommand("GET", Arity = 2, Flags = CommandFlags.ReadOnly | CommandFlags.Fast, FirstKey = 1, LastKey = 1, Step = 1,
                    Group = CommandGroup.String, Summary = "Returns the string value of a key.", Complexity = "O(1)")]
                internal static void Get(ref CommandContext ctx) => ctx.Called = "Get";

                [RespCommand("SET", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.String)]
                public static void Set(ref CommandContext ctx) => ctx.Called = "Set";

                [RespCommand("MSET", Arity = -3, Flags = CommandFlags.Write | CommandFlags.DenyOom, FirstKey = 1, LastKey = -1, Step = 2, Group = CommandGroup.String)]
                internal static void MSet(ref CommandContext ctx) => ctx.Called = "MSet";

                [RespCommand("GETRANGE", Arity = 4, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.String)]
                [RespCommand("substr", Arity = 4, Flags = CommandFlags.ReadOnly, FirstKey = 1, LastKey = 1, Step = 1, Group = CommandGroup.String, Since = "1.0.0")]
                internal static void GetRange(ref CommandContext ctx) => ctx.Called = "GetRange";
            }

            internal static class KeyCommands
            {
                [RespCommand("DEL", Arity = -2, Flags = CommandFlags.Write, FirstKey = 1, LastKey = -1, Step = 1, Group = CommandGroup.Generic)]
                internal static void Del(ref CommandContext ctx) => ctx.Called = "Del";

                [RespCommand("BLPOP", Arity = -3, Flags = CommandFlags.Write | CommandFlags.Blocking, FirstKey = 1, LastKey = -2, Step = 1, Group = CommandGroup.List)]
                internal static void BLPop(ref CommandContext ctx) => ctx.Called = "BLPop";

                [RespCommand("FLUSHALL", Arity = -1, Flags = CommandFlags.Write | CommandFlags.Admin, Group = CommandGroup.Server)]
                internal static void FlushAll(ref CommandContext ctx) => ctx.Called = "FlushAll";

                [RespCommand("SUBSCRIBE", Arity = -2, Flags = CommandFlags.PubSub | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.PubSub)]
                internal static void Subscribe(ref CommandContext ctx) => ctx.Called = "Subscribe";

                [RespCommand("MULTI", Arity = 1, Flags = CommandFlags.NoScript | CommandFlags.Fast | CommandFlags.AllowBusy, Group = CommandGroup.Transactions)]
                internal static void Multi(ref CommandContext ctx) => ctx.Called = "Multi";
            }

            internal static class ServerCommands
            {
                [RespCommand("COMMAND", Arity = -1, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server)]
                internal static void Command(ref CommandContext ctx) => ctx.Called = "Command";

                [RespCommand("COMMAND|INFO", Arity = -2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server)]
                internal static void CommandInfo(ref CommandContext ctx) => ctx.Called = "CommandInfo";

                [RespCommand("command|count", Arity = 2, Flags = CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server)]
                internal static void CommandCount(ref CommandContext ctx) => ctx.Called = "CommandCount";

                [RespCommand("CLIENT|LIST", Arity = -2, Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Connection)]
                internal static void ClientList(ref CommandContext ctx) => ctx.Called = "ClientList";

                [RespCommand("CLIENT|SETNAME", Arity = 3, Flags = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Connection)]
                internal static void ClientSetName(ref CommandContext ctx) => ctx.Called = "ClientSetName";

                [RespCommand("CONFIG|GET", Arity = -3, Flags = CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Group = CommandGroup.Server)]
                internal static void ConfigGet(ref CommandContext ctx) => ctx.Called = "ConfigGet";

                public static class Nested
                {
                    [RespCommand("class", Arity = 1, Group = CommandGroup.Server)]
                    internal static void @class(ref CommandContext ctx) => ctx.Called = "class";
                }
            }
        }
        """;

    public static readonly string[] Good = { Containers, Handlers };

    /// <summary>Top-level names sorted, then subcommands sorted: the expected table order.</summary>
    public static readonly string[] ExpectedOrder =
    {
        "blpop", "class", "client", "command", "config", "del", "flushall", "get", "getrange", "mset", "multi", "set", "subscribe", "substr",
        "client|list", "client|setname", "command|count", "command|info", "config|get",
    };
}
