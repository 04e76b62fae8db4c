using NativeKv.Server.Commands;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>COMMAND and its subcommands, checked against the generated table and redis-server's shapes.</summary>
public class IntrospectionTests
{
    private static int TopLevel => CommandTable.Commands.Count(c => !c.IsSubcommand);

    [Test]
    public async Task Count_equals_top_level_commands()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("COMMAND", "COUNT").Integer).IsEqualTo(TopLevel);
        var all = c.Call("COMMAND");
        await Assert.That(all.Items!.Length).IsEqualTo(TopLevel);
        await Assert.That(c.Call("COMMAND", "INFO").Items!.Length).IsEqualTo(TopLevel);
        var names = all.Items.Select(i => i.Items![0].Text!).ToHashSet();
        foreach (var spec in CommandTable.Commands.Where(s => !s.IsSubcommand))
            await Assert.That(names.Contains(spec.Name)).IsTrue();
    }

    [Test]
    public async Task Info_for_a_subcommand_and_unknown()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("COMMAND", "INFO", "client|list", "nosuch", "CLIENT|NOSUCH", "time");
        await Assert.That(r.Items!.Length).IsEqualTo(4);
        var list = r.Items[0].Items!;
        await Assert.That(list.Length).IsEqualTo(10);
        await Assert.That(list[0].Text).IsEqualTo("client|list");
        await Assert.That(list[1].Integer).IsEqualTo(-2);
        await Assert.That(list[2].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "admin", "noscript", "loading", "stale" });
        await Assert.That(list[3].Integer).IsEqualTo(0);
        await Assert.That(list[4].Integer).IsEqualTo(0);
        await Assert.That(list[5].Integer).IsEqualTo(0);
        await Assert.That(list[6].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "@admin", "@slow", "@dangerous", "@connection" });
        await Assert.That(list[9].Items!.Length).IsEqualTo(0);
        await Assert.That(r.Items[1].IsNull).IsTrue();
        await Assert.That(r.Items[2].IsNull).IsTrue();
        var time = r.Items[3].Items!;
        await Assert.That(time[0].Text).IsEqualTo("time");
        await Assert.That(time[1].Integer).IsEqualTo(1);
        await Assert.That(time[2].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "loading", "stale", "fast" });
        await Assert.That(time[6].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "@fast" });
    }

    [Test]
    public async Task Info_for_a_container_lists_its_subcommands()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var client = c.Call("COMMAND", "INFO", "client").Items![0].Items!;
        await Assert.That(client[0].Text).IsEqualTo("client");
        await Assert.That(client[1].Integer).IsEqualTo(-2);
        var subs = client[9].Items!.Select(i => i.Items![0].Text!).ToList();
        foreach (var name in new[] { "client|id", "client|list", "client|kill", "client|reply", "client|setinfo", "client|no-touch" })
            await Assert.That(subs).Contains(name);
    }

    [Test]
    public async Task Info_in_resp3_uses_sets()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("HELLO", "3");
        var ping = c.Call("COMMAND", "INFO", "ping").Items![0].Items!;
        await Assert.That(ping[2].Type).IsEqualTo('~');
        await Assert.That(ping[6].Type).IsEqualTo('~');
        await Assert.That(ping[7].Type).IsEqualTo('~');
        await Assert.That(ping[8].Type).IsEqualTo('~');
        await Assert.That(ping[9].Type).IsEqualTo('~');
        await Assert.That(c.Call("COMMAND", "INFO", "nosuch").Items![0].Type).IsEqualTo('_');
    }

    [Test]
    public async Task Info_for_get_matches_redis_when_present()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("COMMAND", "INFO", "get").Items![0];
        if (CommandTable.Lookup("get"u8) < 0)
        {
            await Assert.That(r.IsNull).IsTrue();
            return;
        }
        var get = r.Items!;
        await Assert.That(get[0].Text).IsEqualTo("get");
        await Assert.That(get[1].Integer).IsEqualTo(2);
        await Assert.That(get[2].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "readonly", "fast" });
        await Assert.That(get[3].Integer).IsEqualTo(1);
        await Assert.That(get[4].Integer).IsEqualTo(1);
        await Assert.That(get[5].Integer).IsEqualTo(1);
        await Assert.That(get[6].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "@read", "@string", "@fast" });
        // One key spec: begin_search index 1, find_keys range lastkey 0 keystep 1 limit 0.
        var spec = get[8].Items![0].Items!;
        await Assert.That(spec[2].Text).IsEqualTo("begin_search");
        await Assert.That(spec[3].Items![3].Items![1].Integer).IsEqualTo(1);
        await Assert.That(spec[5].Items![3].Items!.Where((_, i) => i % 2 == 1).Select(i => i.Integer)).IsEquivalentTo(new long[] { 0, 1, 0 });
    }

    [Test]
    public async Task Docs_are_a_map_of_summary_since_group_complexity()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("COMMAND", "DOCS", "time", "nosuch", "client|kill");
        await Assert.That(r.Items!.Length).IsEqualTo(4);
        await Assert.That(r.Items[0].Text).IsEqualTo("time");
        var time = r.Items[1].Items!.Select(i => i.Text!).ToArray();
        await Assert.That(time).IsEquivalentTo(new[] { "summary", "Returns the server time.", "since", "2.6.0", "group", "server", "complexity", "O(1)" },
            TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(r.Items[2].Text).IsEqualTo("client|kill");
        var kill = r.Items[3].Items!.Select(i => i.Text!).ToArray();
        await Assert.That(kill[5]).IsEqualTo("connection");

        var client = c.Call("COMMAND", "DOCS", "client").Items![1].Items!;
        int subIndex = Array.FindIndex(client, i => i.Text == "subcommands");
        await Assert.That(subIndex).IsGreaterThan(0);
        var subs = client[subIndex + 1].Items!.Where((_, i) => i % 2 == 0).Select(i => i.Text!).ToList();
        await Assert.That(subs).Contains("client|list");

        await Assert.That(c.Call("COMMAND", "DOCS", "nosuch").Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("COMMAND", "DOCS").Items!.Length).IsEqualTo(TopLevel * 2);
        c.Call("HELLO", "3");
        await Assert.That(c.Call("COMMAND", "DOCS", "time").Type).IsEqualTo('%');
    }

    [Test]
    public async Task List_and_filters()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var all = c.Call("COMMAND", "LIST").Items!.Select(i => i.Text!).ToList();
        await Assert.That(all.Count).IsEqualTo(CommandTable.Count);
        await Assert.That(all).Contains("client|list");
        await Assert.That(all).Contains("command");
        var pattern = c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN", "CLIENT|*").Items!.Select(i => i.Text!).ToList();
        await Assert.That(pattern.Count).IsEqualTo(CommandTable.Commands.Count(s => s.Name.StartsWith("client|")));
        var acl = c.Call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "fast").Items!.Select(i => i.Text!).ToList();
        await Assert.That(acl).Contains("ping");
        await Assert.That(acl).DoesNotContain("client|list");
        await Assert.That(c.Call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuchcat").Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("COMMAND", "LIST", "FILTERBY", "MODULE", "x").Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("COMMAND", "LIST", "FILTERBY", "foo", "bar").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("COMMAND", "LIST", "FILTERBY", "PATTERN").Text).IsEqualTo("ERR syntax error");
    }

    [Test]
    public async Task Getkeys_errors()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("COMMAND", "GETKEYS", "nosuch").Text).IsEqualTo("ERR Invalid command specified");
        await Assert.That(c.Call("COMMAND", "GETKEYS", "ping").Text).IsEqualTo("ERR The command has no key arguments");
        await Assert.That(c.Call("COMMAND", "GETKEYS", "client", "list").Text).IsEqualTo("ERR The command has no key arguments");
        await Assert.That(c.Call("COMMAND", "GETKEYS").Text).IsEqualTo("ERR wrong number of arguments for 'command|getkeys' command");
    }

    [Test]
    public async Task Getkeys_follows_first_last_step_of_every_keyed_command()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        // A command with both a key range and a numkeys argument (ZUNIONSTORE dst numkeys ...) is checked below.
        foreach (var spec in CommandTable.Commands.Where(s => s.FirstKey > 0 && s.NumKeysIndex == 0))
        {
            // Build a call with enough arguments: name (+ subcommand) and args a1, a2, ...
            int argc = spec.Arity > 0 ? spec.Arity : Math.Max(-spec.Arity, spec.LastKey > 0 ? spec.LastKey + 1 : spec.FirstKey + 1);
            var args = new List<object> { "COMMAND", "GETKEYS" };
            var parts = spec.Name.Split('|');
            args.AddRange(parts);
            for (int i = parts.Length; i < argc; i++) args.Add("a" + i);
            int last = spec.LastKey >= 0 ? spec.LastKey : argc + spec.LastKey;
            var expected = new List<string>();
            for (int i = spec.FirstKey; i <= last; i += spec.Step) expected.Add("a" + i);
            var r = c.Call(args.ToArray());
            if (r.Items is null) Assert.Fail($"COMMAND GETKEYS {spec.Name}: {r}");
            await Assert.That(r.Items!.Select(i => i.Text!).ToList()).IsEquivalentTo(expected);
        }
        if (CommandTable.Lookup("get"u8) >= 0)
        {
            await Assert.That(c.Call("COMMAND", "GETKEYS", "GET", "k").Items!.Single().Text).IsEqualTo("k");
            await Assert.That(c.Call("COMMAND", "GETKEYS", "GET", "k", "x").Text).IsEqualTo("ERR Invalid number of arguments specified for command");
        }
        if (CommandTable.Lookup("zunionstore"u8) >= 0)
        {
            var keys = c.Call("COMMAND", "GETKEYS", "ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2").Items!.Select(i => i.Text!).ToArray();
            await Assert.That(keys).IsEquivalentTo(new[] { "d", "a", "b" });
        }
        if (CommandTable.Lookup("mset"u8) >= 0)
        {
            var keys = c.Call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2").Items!.Select(i => i.Text!).ToArray();
            await Assert.That(keys).IsEquivalentTo(new[] { "a", "b" });
        }
    }

    [Test]
    public async Task Help_lists_subcommands()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var help = c.Call("COMMAND", "HELP").Items!;
        await Assert.That(help[0].Text).IsEqualTo("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        await Assert.That(help.Length).IsEqualTo(21);
    }
}
