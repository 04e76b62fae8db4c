using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Durability;

/// <summary>Sets survive a restart: from the AOF alone (kill -9), and from a checkpoint plus the AOF after it.</summary>
public class SetDurabilityTests
{
    private static string NewDir() => Path.Combine(Path.GetTempPath(), "nativekv-sets-" + Guid.NewGuid().ToString("N"));

    private static string Members(RespClient c, string key) =>
        string.Join(",", c.Call("SMEMBERS", key).Items!.Select(x => x.Text).Order(StringComparer.Ordinal));

    /// <summary>Writes sets of every encoding; returns what each should hold.</summary>
    private static Dictionary<string, string> Write(RespClient c, string prefix)
    {
        c.Call("SADD", prefix + "ints", "3", "1", "2", "70000");
        c.Call("SREM", prefix + "ints", "2");
        c.Call("SADD", prefix + "lp", "a", "b", "c", "1");
        c.Call("SPOP", prefix + "lp"); // a random one goes: what is left is read back below
        var big = Enumerable.Range(0, 300).Select(i => (object)("member-" + i)).ToArray();
        c.Call(new object[] { "SADD", prefix + "ht" }.Concat(big).ToArray());
        c.Call("SREM", prefix + "ht", "member-7");
        c.Call("SADD", prefix + "gone", "x");
        c.Call("SREM", prefix + "gone", "x");
        c.Call("SADD", prefix + "src", "m", "n");
        c.Call("SMOVE", prefix + "src", prefix + "dst", "m");
        c.Call("SUNIONSTORE", prefix + "union", prefix + "ints", prefix + "src");
        c.Call("SADD", prefix + "ttl", "t");
        c.Call("EXPIRE", prefix + "ttl", "1000");
        c.Call("SADD", prefix + "ttl", "u");
        var want = new Dictionary<string, string>();
        foreach (var k in new[] { "ints", "lp", "ht", "src", "dst", "union", "ttl" }) want[prefix + k] = Members(c, prefix + k);
        return want;
    }

    private static async Task Check(RespClient c, Dictionary<string, string> want, string prefix)
    {
        foreach (var (k, v) in want)
        {
            await Assert.That(c.Call("TYPE", k).Text).IsEqualTo("set");
            await Assert.That($"{k}: {Members(c, k)}").IsEqualTo($"{k}: {v}");
        }
        await Assert.That(c.Call("EXISTS", prefix + "gone").Integer).IsEqualTo(0);
        await Assert.That(c.Call("SCARD", prefix + "ht").Integer).IsEqualTo(299);
        var ttl = c.Call("TTL", prefix + "ttl").Integer;
        await Assert.That(ttl > 900 && ttl <= 1000).IsTrue();
    }

    [Test]
    public async Task Sets_survive_kill_9_through_aof_replay_and_a_checkpoint()
    {
        var dir = NewDir();
        try
        {
            Dictionary<string, string> before, after;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always"))
            {
                using var c = new RespClient(server.Port);
                before = Write(c, "a:");
                await Assert.That(c.Call("SAVE").Text).IsEqualTo("OK"); // these come back from the checkpoint
                after = Write(c, "b:"); // these from the AOF written after it
                c.Call("SADD", "a:ints", "99"); // an update of a checkpointed set, replayed on top
                before["a:ints"] = Members(c, "a:ints");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes"))
            {
                using var c = new RespClient(server.Port);
                await Check(c, before, "a:");
                await Check(c, after, "b:");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    [Test]
    public async Task Sets_survive_aof_replay_alone()
    {
        var dir = NewDir();
        try
        {
            Dictionary<string, string> want;
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                want = Write(c, "c:");
                server.Process.Kill();
                server.Process.WaitForExit(10_000);
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                await Check(c, want, "c:");
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
