using NativeKv.Server.Config;
using NativeKv.Server.Network;
using NativeKv.Server.Protocol;

namespace NativeKv.Tests.Network;

/// <summary>The decisions of client-output-buffer-limit (Redis's checkClientOutputBufferLimits, getClientType) and the writer's marks.</summary>
public class OutputLimitsTests
{
    [Test]
    public async Task Hard_limit_is_reached_at_its_bytes()
    {
        var limit = new ClientOutputBufferLimit(1000, 0, 0);
        long since = -1;
        await Assert.That(OutputLimits.Reached(999, limit, ref since, 10)).IsFalse();
        await Assert.That(OutputLimits.Reached(1000, limit, ref since, 10)).IsTrue();
        await Assert.That(OutputLimits.Reached(long.MaxValue / 2, new ClientOutputBufferLimit(0, 0, 0), ref since, 10)).IsFalse();
    }

    [Test]
    public async Task Soft_limit_needs_more_than_its_seconds_and_resets_under_it()
    {
        var limit = new ClientOutputBufferLimit(0, 500, 2);
        long since = -1;
        await Assert.That(OutputLimits.Reached(600, limit, ref since, 100)).IsFalse(); // first sight starts the clock
        await Assert.That(since).IsEqualTo(100L);
        await Assert.That(OutputLimits.Reached(600, limit, ref since, 102)).IsFalse(); // 2 s: not more than 2
        await Assert.That(OutputLimits.Reached(600, limit, ref since, 103)).IsTrue();
        await Assert.That(OutputLimits.Reached(100, limit, ref since, 104)).IsFalse(); // under it: the clock stops
        await Assert.That(since).IsEqualTo(-1L);
        await Assert.That(OutputLimits.Reached(600, limit, ref since, 105)).IsFalse();
        await Assert.That(OutputLimits.Reached(600, limit, ref since, 108)).IsTrue();
    }

    [Test]
    public async Task Class_follows_redis_get_client_type()
    {
        await Assert.That(OutputLimits.ClassOf(replica: false, monitor: false, pubsub: false)).IsEqualTo(OutputClass.Normal);
        await Assert.That(OutputLimits.ClassOf(replica: true, monitor: false, pubsub: false)).IsEqualTo(OutputClass.Replica);
        await Assert.That(OutputLimits.ClassOf(replica: true, monitor: true, pubsub: false)).IsEqualTo(OutputClass.Normal);
        await Assert.That(OutputLimits.ClassOf(replica: false, monitor: false, pubsub: true)).IsEqualTo(OutputClass.PubSub);
        await Assert.That(OutputLimits.ClassOf(replica: true, monitor: false, pubsub: true)).IsEqualTo(OutputClass.Replica);
    }

    private sealed class Recorder(long discardAt) : IOutputWatcher
    {
        public readonly List<long> Seen = new();

        public void Growing(RespWriter output, long length)
        {
            Seen.Add(length);
            if (length > discardAt) output.Discard();
            else output.WatchAt(length + 100, 100);
        }
    }

    [Test]
    public async Task Writer_tells_the_watcher_past_its_mark_and_discards_for_it()
    {
        var w = new RespWriter(1024);
        var watcher = new Recorder(discardAt: 250);
        w.Watcher = watcher;
        w.WatchAt(50, 50);
        w.Raw(new byte[40]);
        await Assert.That(watcher.Seen.Count).IsEqualTo(0);
        w.Raw(new byte[40]); // 80 > 50
        await Assert.That(watcher.Seen).IsEquivalentTo(new long[] { 80 });
        w.Raw(new byte[90]); // 170 <= 180
        await Assert.That(watcher.Seen.Count).IsEqualTo(1);
        w.Clear(); // all sent: the mark is the room again
        w.Raw(new byte[101]);
        await Assert.That(watcher.Seen).IsEquivalentTo(new long[] { 80, 101 });
        w.Raw(new byte[150]); // 251 > 250: discarded
        await Assert.That(w.Discarding).IsTrue();
        await Assert.That(w.Length).IsEqualTo(0);
        w.Enabled = true; // the executor's per-command reset does not revive it
        w.Bulk(new byte[5000]);
        w.Truncate(10);
        await Assert.That(w.Length).IsEqualTo(0);
        await Assert.That(w.Written.Length).IsEqualTo(0);
    }
}
