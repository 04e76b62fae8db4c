using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>TIME, SHUTDOWN and the scripting surface without an engine.</summary>
public class ServerCommandTests
{
    [Test]
    public async Task Time_is_seconds_and_microseconds()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("TIME");
        await Assert.That(r.Items!.Length).IsEqualTo(2);
        await Assert.That(r.Items[0].Type).IsEqualTo('$');
        long seconds = long.Parse(r.Items[0].Text!);
        long micros = long.Parse(r.Items[1].Text!);
        await Assert.That(Math.Abs(seconds - DateTimeOffset.UtcNow.ToUnixTimeSeconds())).IsLessThanOrEqualTo(2);
        await Assert.That(micros).IsBetween(0, 999_999);
        await Assert.That(c.Call("TIME", "x").Text).IsEqualTo("ERR wrong number of arguments for 'time' command");
    }

    [Test]
    public async Task Shutdown_exits_zero_without_reply()
    {
        var server = await ServerProcess.StartAsync();
        await using (server)
        {
            using var c = new RespClient(server.Port);
            await Assert.That(c.Call("SHUTDOWN", "ABORT").Text).IsEqualTo("ERR No shutdown in progress.");
            await Assert.That(c.Call("SHUTDOWN", "NOSAVE", "SAVE").Text).IsEqualTo("ERR syntax error");
            await Assert.That(c.Call("SHUTDOWN", "ABORT", "NOW").Text).IsEqualTo("ERR syntax error");
            await Assert.That(c.Call("SHUTDOWN", "foo").Text).IsEqualTo("ERR syntax error");
            c.Send("SHUTDOWN", "NOSAVE", "NOW", "FORCE");
            await Assert.That(c.WaitClosed(TimeSpan.FromSeconds(10))).IsTrue();
            await Assert.That(await server.WaitForExitAsync(TimeSpan.FromSeconds(20))).IsEqualTo(0);
        }
    }

    [Test]
    public async Task Plain_shutdown_exits_zero()
    {
        var server = await ServerProcess.StartAsync();
        await using (server)
        {
            using var c = new RespClient(server.Port);
            c.Send("SHUTDOWN");
            await Assert.That(await server.WaitForExitAsync(TimeSpan.FromSeconds(20))).IsEqualTo(0);
        }
    }

    [Test]
    public async Task Function_answers_as_redis_with_no_libraries()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("FUNCTION", "LIST").Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "x*").Items!.Length).IsEqualTo(0);
        await Assert.That(c.Call("FUNCTION", "LIST", "x").Text).IsEqualTo("ERR Unknown argument x");
        await Assert.That(c.Call("FUNCTION", "LIST", "LIBRARYNAME").Text).IsEqualTo("ERR library name argument was not given");
        await Assert.That(c.Call("FUNCTION", "FLUSH").Text).IsEqualTo("OK");
        await Assert.That(c.Call("FUNCTION", "FLUSH", "ASYNC").Text).IsEqualTo("OK");
        await Assert.That(c.Call("FUNCTION", "FLUSH", "sync").Text).IsEqualTo("OK");
        await Assert.That(c.Call("FUNCTION", "FLUSH", "bad").Text).IsEqualTo("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        await Assert.That(c.Call("FUNCTION", "FLUSH", "a", "b").Text)
            .IsEqualTo("ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP.");
        await Assert.That(c.Call("FUNCTION", "KILL").Text).IsEqualTo("NOTBUSY No scripts in execution right now.");
        var stats = c.Call("FUNCTION", "STATS").Items!;
        await Assert.That(stats[0].Text).IsEqualTo("running_script");
        await Assert.That(stats[1].IsNull).IsTrue();
        await Assert.That(stats[2].Text).IsEqualTo("engines");
        // Empty payload: RDB version 11 and its CRC64.
        c.Send("FUNCTION", "DUMP");
        var dump = c.ReadBulkBytes()!;
        await Assert.That(dump).IsEquivalentTo(new byte[] { 0x0b, 0x00, 0x34, 0x44, 0xe1, 0x33, 0xf2, 0xe0, 0x4b, 0x53 },
            TUnit.Assertions.Enums.CollectionOrdering.Matching);
        var help = c.Call("FUNCTION", "HELP").Items!;
        await Assert.That(help[0].Text).IsEqualTo("FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
    }

    [Test]
    public async Task Fcall_and_eval_are_declared_as_redis_declares_them()
    {
        // EVAL, SCRIPT (ScriptTranscriptTests), FUNCTION and FCALL (FunctionTranscriptTests) run.
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("FCALL", "f", "0").Text).IsEqualTo("ERR Function not found");
        await Assert.That(c.Call("FUNCTION", "DELETE", "x").Text).IsEqualTo("ERR Library not found");
        var fcall = c.Call("COMMAND", "INFO", "fcall_ro").Items![0].Items!;
        await Assert.That(fcall[1].Integer).IsEqualTo(-3);
        await Assert.That(fcall[2].Items!.Select(i => i.Text!)).IsEquivalentTo(
            new[] { "readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(c.Call("SCRIPT", "KILL").Text).IsEqualTo("NOTBUSY No scripts in execution right now.");
        await Assert.That(c.Call("EVAL", "x").Text).IsEqualTo("ERR wrong number of arguments for 'eval' command");
        // COMMAND INFO reports them as Redis declares them.
        var eval = c.Call("COMMAND", "INFO", "eval").Items![0].Items!;
        await Assert.That(eval[1].Integer).IsEqualTo(-3);
        await Assert.That(eval[3].Integer).IsEqualTo(0); // movable keys: first, last, step 0
        await Assert.That(eval[4].Integer).IsEqualTo(0);
        await Assert.That(eval[2].Items!.Select(i => i.Text!)).IsEquivalentTo(
            new[] { "noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(eval[6].Items!.Select(i => i.Text!)).IsEquivalentTo(new[] { "@slow", "@scripting" });
    }
}
