using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>CLIENT subcommands against the real process; expected values observed on redis-server.</summary>
public class ClientCommandTests
{
    private static Dictionary<string, string> ParseLine(string line)
    {
        var fields = new Dictionary<string, string>();
        foreach (var part in line.TrimEnd('\n').Split(' '))
        {
            int eq = part.IndexOf('=');
            fields[part[..eq]] = part[(eq + 1)..];
        }
        return fields;
    }

    [Test]
    public async Task Id_setname_getname()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var id = c.Call("CLIENT", "ID");
        await Assert.That(id.Type).IsEqualTo(':');
        await Assert.That(id.Integer).IsGreaterThan(0);
        await Assert.That(c.Call("CLIENT", "GETNAME").IsNull).IsTrue();
        await Assert.That(c.Call("CLIENT", "SETNAME", "worker-1").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "GETNAME").Text).IsEqualTo("worker-1");
        await Assert.That(c.Call("CLIENT", "SETNAME", "a b").Text)
            .IsEqualTo("ERR Client names cannot contain spaces, newlines or special characters.");
        await Assert.That(c.Call("CLIENT", "SETNAME", "").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "GETNAME").IsNull).IsTrue();
        using var d = new RespClient(server.Port);
        await Assert.That(d.Call("CLIENT", "ID").Integer).IsGreaterThan(id.Integer);
    }

    [Test]
    public async Task Setinfo_validates_like_redis()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CLIENT", "SETINFO", "LIB-NAME", "redis-py").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "SETINFO", "lib-ver", "5.0.1").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "SETINFO", "lib-nam", "x").Text).IsEqualTo("ERR Unrecognized option 'lib-nam'");
        await Assert.That(c.Call("CLIENT", "SETINFO", "lib-ver", "a b").Text)
            .IsEqualTo("ERR lib-ver cannot contain spaces, newlines or special characters.");
        await Assert.That(c.Call("CLIENT", "SETINFO", "lib-name").Text)
            .IsEqualTo("ERR wrong number of arguments for 'client|setinfo' command");
        var info = ParseLine(c.Call("CLIENT", "INFO").Text!);
        await Assert.That(info["lib-name"]).IsEqualTo("redis-py");
        await Assert.That(info["lib-ver"]).IsEqualTo("5.0.1");
    }

    [Test]
    public async Task List_has_redis_72_fields_in_order()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        using var other = new RespClient(server.Port);
        await Assert.That(other.Call("SELECT", "3").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "SETNAME", "me").Text).IsEqualTo("OK");
        long myId = c.Call("CLIENT", "ID").Integer;
        long otherId = other.Call("CLIENT", "ID").Integer;
        var text = c.Call("CLIENT", "LIST").Text!;
        await Assert.That(text.EndsWith('\n')).IsTrue();
        var lines = text.TrimEnd('\n').Split('\n');
        await Assert.That(lines.Length).IsEqualTo(2);
        string[] order = ["id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
            "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events", "cmd",
            "user", "redir", "resp", "lib-name", "lib-ver"];
        var keys = lines[0].Split(' ').Select(p => p[..p.IndexOf('=')]).ToArray();
        await Assert.That(keys).IsEquivalentTo(order, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        var mine = ParseLine(lines.Single(l => l.StartsWith($"id={myId} ")));
        await Assert.That(mine["name"]).IsEqualTo("me");
        await Assert.That(mine["cmd"]).IsEqualTo("client|list");
        await Assert.That(mine["flags"]).IsEqualTo("N");
        await Assert.That(mine["db"]).IsEqualTo("0");
        await Assert.That(mine["argv-mem"]).IsEqualTo("10");
        await Assert.That(mine["laddr"]).IsEqualTo($"127.0.0.1:{server.Port}");
        await Assert.That(mine["user"]).IsEqualTo("default");
        await Assert.That(mine["resp"]).IsEqualTo("2");
        await Assert.That(mine["multi"]).IsEqualTo("-1");
        await Assert.That(mine["addr"]).IsEqualTo(c.Socket.LocalEndPoint!.ToString()!);
        var theirs = ParseLine(lines.Single(l => l.StartsWith($"id={otherId} ")));
        await Assert.That(theirs["db"]).IsEqualTo("3");
        await Assert.That(theirs["cmd"]).IsEqualTo("client|id");
        await Assert.That(theirs["name"]).IsEqualTo("");

        // Filters.
        var byId = c.Call("CLIENT", "LIST", "ID", otherId.ToString(), "999999").Text!;
        await Assert.That(byId.TrimEnd('\n').Split('\n').Length).IsEqualTo(1);
        await Assert.That(byId).StartsWith($"id={otherId} ");
        await Assert.That(c.Call("CLIENT", "LIST", "TYPE", "normal").Text!.TrimEnd('\n').Split('\n').Length).IsEqualTo(2);
        await Assert.That(c.Call("CLIENT", "LIST", "TYPE", "pubsub").Text).IsEqualTo("");
        await Assert.That(c.Call("CLIENT", "LIST", "TYPE", "replica").Text).IsEqualTo("");
        await Assert.That(c.Call("CLIENT", "LIST", "TYPE", "bogus").Text).IsEqualTo("ERR Unknown client type 'bogus'");
        await Assert.That(c.Call("CLIENT", "LIST", "ID", "1", "abc").Text).IsEqualTo("ERR Invalid client ID");
        await Assert.That(c.Call("CLIENT", "LIST", "ID").Text).IsEqualTo("ERR syntax error");
    }

    [Test]
    public async Task Info_is_verbatim_in_resp3_and_bulk_in_resp2()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r2 = c.Call("CLIENT", "INFO");
        await Assert.That(r2.Type).IsEqualTo('$');
        await Assert.That(r2.Text!).EndsWith("\n");
        await Assert.That(ParseLine(r2.Text!)["cmd"]).IsEqualTo("client|info");
        c.Call("HELLO", "3");
        var r3 = c.Call("CLIENT", "INFO");
        await Assert.That(r3.Type).IsEqualTo('=');
        await Assert.That(r3.Text!).StartsWith("txt:id=");
        await Assert.That(ParseLine(r3.Text![4..])["resp"]).IsEqualTo("3");
    }

    [Test]
    public async Task No_evict_and_no_touch_set_flags()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("CLIENT", "NO-EVICT", "on").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "NO-TOUCH", "ON").Text).IsEqualTo("OK");
        await Assert.That(ParseLine(c.Call("CLIENT", "INFO").Text!)["flags"]).IsEqualTo("eT");
        await Assert.That(c.Call("CLIENT", "NO-EVICT", "off").Text).IsEqualTo("OK");
        await Assert.That(c.Call("CLIENT", "NO-TOUCH", "off").Text).IsEqualTo("OK");
        await Assert.That(ParseLine(c.Call("CLIENT", "INFO").Text!)["flags"]).IsEqualTo("N");
        await Assert.That(c.Call("CLIENT", "NO-EVICT", "maybe").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("CLIENT", "NO-TOUCH", "maybe").Text).IsEqualTo("ERR syntax error");
    }

    [Test]
    public async Task Reply_off_skip_on_sequences()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        // OFF: nothing (not even for OFF itself) until ON, which answers +OK.
        c.Send("CLIENT", "REPLY", "OFF");
        c.Send("ECHO", "silent-1");
        c.Send("CLIENT", "REPLY", "SKIP"); // ignored while OFF
        c.Send("ECHO", "silent-2");
        c.Send("CLIENT", "REPLY", "ON");
        await Assert.That(c.Read().Text).IsEqualTo("OK");
        await Assert.That(c.Call("ECHO", "loud-1").Text).IsEqualTo("loud-1");

        // SKIP: silences itself and exactly the next command.
        c.Send("CLIENT", "REPLY", "SKIP");
        c.Send("ECHO", "skipped");
        c.Send("ECHO", "loud-2");
        await Assert.That(c.Read().Text).IsEqualTo("loud-2");

        // Errors are silenced too, and a bad mode is a syntax error.
        c.Send("CLIENT", "REPLY", "SKIP");
        c.Send("NOSUCHCOMMAND");
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(c.Call("CLIENT", "REPLY", "maybe").Text).IsEqualTo("ERR syntax error");
        await Assert.That(c.Call("CLIENT", "REPLY", "ON").Text).IsEqualTo("OK");
    }

    [Test]
    public async Task Kill_by_id_closes_the_other_connection()
    {
        await using var server = await ServerProcess.StartAsync("--io-threads", "2");
        using var killer = new RespClient(server.Port);
        using var victim = new RespClient(server.Port);
        using var bystander = new RespClient(server.Port);
        long victimId = victim.Call("CLIENT", "ID").Integer;
        await Assert.That(killer.Call("CLIENT", "KILL", "ID", victimId.ToString()).Integer).IsEqualTo(1);
        await Assert.That(victim.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
        await Assert.That(bystander.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(killer.Call("CLIENT", "KILL", "ID", victimId.ToString()).Integer).IsEqualTo(0);
        var list = killer.Call("CLIENT", "LIST").Text!;
        await Assert.That(list).DoesNotContain($"id={victimId} ");
    }

    [Test]
    public async Task Kill_old_form_by_address()
    {
        await using var server = await ServerProcess.StartAsync();
        using var killer = new RespClient(server.Port);
        using var victim = new RespClient(server.Port);
        victim.Call("PING");
        string addr = victim.Socket.LocalEndPoint!.ToString()!;
        await Assert.That(killer.Call("CLIENT", "KILL", addr).Text).IsEqualTo("OK");
        await Assert.That(victim.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
        await Assert.That(killer.Call("CLIENT", "KILL", addr).Text).IsEqualTo("ERR No such client");
        await Assert.That(killer.Call("CLIENT", "KILL", "1.2.3.4:5").Text).IsEqualTo("ERR No such client");
    }

    [Test]
    public async Task Kill_filters_and_skipme()
    {
        await using var server = await ServerProcess.StartAsync();
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        using var c = new RespClient(server.Port);
        b.Call("PING");
        c.Call("PING");
        // USER default matches everyone but the caller (SKIPME yes by default).
        await Assert.That(a.Call("CLIENT", "KILL", "USER", "default").Integer).IsEqualTo(2);
        await Assert.That(b.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
        await Assert.That(c.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
        await Assert.That(a.Call("PING").Text).IsEqualTo("PONG");
        await Assert.That(a.Call("CLIENT", "KILL", "TYPE", "pubsub").Integer).IsEqualTo(0);
        await Assert.That(a.Call("CLIENT", "KILL", "LADDR", "1.2.3.4:1").Integer).IsEqualTo(0);
        await Assert.That(a.Call("CLIENT", "KILL", "MAXAGE", "1000").Integer).IsEqualTo(0);

        // Errors, as redis-server words them.
        await Assert.That(a.Call("CLIENT", "KILL", "ID", "abc").Text).IsEqualTo("ERR client-id should be greater than 0");
        await Assert.That(a.Call("CLIENT", "KILL", "ID", "0").Text).IsEqualTo("ERR client-id should be greater than 0");
        await Assert.That(a.Call("CLIENT", "KILL", "USER", "nobody").Text).IsEqualTo("ERR No such user 'nobody'");
        await Assert.That(a.Call("CLIENT", "KILL", "TYPE", "bogus").Text).IsEqualTo("ERR Unknown client type 'bogus'");
        await Assert.That(a.Call("CLIENT", "KILL", "foo", "bar").Text).IsEqualTo("ERR syntax error");
        await Assert.That(a.Call("CLIENT", "KILL", "SKIPME", "maybe").Text).IsEqualTo("ERR syntax error");
        await Assert.That(a.Call("CLIENT", "KILL", "ID", "1", "SKIPME").Text).IsEqualTo("ERR syntax error");

        // SKIPME no kills the caller, after its reply.
        long myId = a.Call("CLIENT", "ID").Integer;
        await Assert.That(a.Call("CLIENT", "KILL", "ID", myId.ToString(), "SKIPME", "no").Integer).IsEqualTo(1);
        await Assert.That(a.WaitClosed(TimeSpan.FromSeconds(5))).IsTrue();
    }

    [Test]
    public async Task Help_and_unknown_subcommand()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var help = c.Call("CLIENT", "HELP");
        await Assert.That(help.Items![0].Text).IsEqualTo("CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        await Assert.That(help.Items[^1].Text).IsEqualTo("    Print this help.");
        await Assert.That(help.Items.Length).IsEqualTo(54);
        await Assert.That(c.Call("CLIENT", "foo").Text).IsEqualTo("ERR unknown subcommand 'foo'. Try CLIENT HELP.");
        await Assert.That(c.Call("CLIENT").Text).IsEqualTo("ERR wrong number of arguments for 'client' command");
    }
}
