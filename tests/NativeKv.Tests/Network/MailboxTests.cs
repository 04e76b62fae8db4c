using NativeKv.Server.Network;

namespace NativeKv.Tests.Network;

public class MailboxTests
{
    private sealed class Item(int producer, int seq)
    {
        public int Producer { get; } = producer;
        public int Seq { get; } = seq;
    }

    [Test]
    public async Task Fifo_per_producer_and_bounded()
    {
        using var box = new Mailbox<Item>(4);
        for (int i = 0; i < 4; i++) await Assert.That(box.TryPost(new Item(0, i))).IsTrue();
        await Assert.That(box.TryPost(new Item(0, 4))).IsFalse();
        for (int i = 0; i < 4; i++)
        {
            await Assert.That(box.TryTake(out var item)).IsTrue();
            await Assert.That(item!.Seq).IsEqualTo(i);
        }
        await Assert.That(box.TryTake(out _)).IsFalse();
    }

    [Test]
    public async Task No_ring_while_consumer_is_awake()
    {
        using var box = new Mailbox<Item>(64);
        for (int i = 0; i < 10; i++) box.Post(new Item(0, i));
        await Assert.That(Interlocked.Read(ref box.Rings)).IsEqualTo(0L);
        while (box.TryTake(out _)) { }
        await Assert.That(box.PrepareToSleep()).IsTrue();
        box.Post(new Item(0, 99));
        await Assert.That(Interlocked.Read(ref box.Rings)).IsEqualTo(1L);
        box.Woke(true);
    }

    /// <summary>
    /// Many producers hammer a consumer that sleeps on the eventfd whenever the queue looks empty.
    /// A lost wake-up would leave the consumer asleep with items queued: the test would time out
    /// (the consumer waits with a generous poll timeout and counts how often it had to rely on it).
    /// </summary>
    [Test]
    public async Task Many_producers_lose_no_items_and_no_wakeups()
    {
        const int producers = 8, perProducer = 50_000;
        using var box = new Mailbox<Item>(1024);
        var lastSeen = new int[producers];
        Array.Fill(lastSeen, -1);
        int received = 0, timeouts = 0;
        bool ordered = true;
        var consumer = new Thread(() =>
        {
            while (received < producers * perProducer)
            {
                while (box.TryTake(out var item))
                {
                    if (item.Seq != lastSeen[item.Producer] + 1) ordered = false;
                    lastSeen[item.Producer] = item.Seq;
                    received++;
                }
                if (received >= producers * perProducer) break;
                if (!box.PrepareToSleep()) continue;
                bool rang = WaitReadable(box.DoorbellFd, 2000);
                if (!rang && !box.IsEmpty) timeouts++;
                box.Woke(rang);
            }
        });
        consumer.Start();
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < perProducer; i++) box.Post(new Item(p, i));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        await Assert.That(consumer.Join(TimeSpan.FromSeconds(60))).IsTrue();
        await Assert.That(received).IsEqualTo(producers * perProducer);
        await Assert.That(ordered).IsTrue();
        await Assert.That(timeouts).IsEqualTo(0);
    }

    private static unsafe bool WaitReadable(int fd, int timeoutMs)
    {
        // poll(2) on the eventfd: struct pollfd { int fd; short events; short revents; }
        long pfd = (uint)fd | ((long)1 << 32); // events = POLLIN
        int n = Poll(&pfd, 1, timeoutMs);
        return n > 0;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "poll")]
    private static extern unsafe int Poll(long* fds, ulong nfds, int timeout);
}
