using System.Diagnostics;
using System.Text;
using FASTER.core;
using NativeKv.Server;
using NativeKv.Server.Config;
using NativeKv.Server.Storage;
using NativeKv.Tests.Infrastructure;
using static NativeKv.Tests.Infrastructure.StoreWrites;

namespace NativeKv.Tests.Storage;

/// <summary>
/// A write that FASTER could only place after a page flush must not hold its thread (a reactor, serving
/// every other client of it) until the flush lands: FASTER 2.6.5 waits on the flush inside the write
/// (ALLOCATE_FAILED). The command waits instead, like a disk read, and runs again once the flush made room.
/// The store is driven in-process, its page flushes held back by the test.
/// </summary>
public class LogRoomTests
{
    private const long Mb = 1L << 20;

    [Test]
    [Timeout(120_000)]
    public async Task A_write_that_needs_a_page_flush_waits_for_it_like_a_disk_read(CancellationToken ct)
    {
        // maxmemory 16mb: 4 pages of 4 MB, where the paged 200k-element tests stalled their reactor.
        using var temp = new TempStore("room", new ServerConfig { Maxmemory = 16 * Mb });
        var store = temp.Store;
        {
            using var writer = store.NewSession("writer", ReadCopyOptions.None);
            string value = new('v', 1000);
            for (int i = 0; i < 40 * 1024; i++) Set(writer, "filler" + i, value); // 40 MB: the log flushes as it goes
            await Assert.That(store.Kv.Log.HeadAddress).IsGreaterThan(0L);

            // No flush lands from now on: commands write until one would need one.
            store.HoldLogFlushes = true;
            var state = new PendingState();
            int written = 0;
            var last = OpStatus.NotFound;
            var thread = new Thread(() =>
            {
                for (int i = 0; i < 64 * 1024; i++)
                {
                    writer.BeginCommand(state);
                    last = Set(writer, "key" + i, value);
                    if (!writer.EndCommand())
                    {
                        written++;
                        continue;
                    }
                    if (writer.Stats.LogRoomWaits > 0) break;
                    // A few new keys share a hash chain with a filler on disk: the write reads it first.
                    var spin = Stopwatch.StartNew();
                    while (state.Outstanding > 0 && spin.Elapsed < TimeSpan.FromSeconds(5)) writer.CompletePending();
                    if (state.Outstanding > 0) break; // its completion waits for room too
                    i--; // runs again
                }
            });
            thread.Start();
            bool returned = thread.Join(TimeSpan.FromSeconds(10));
            store.HoldLogFlushes = false; // a writer blocked inside FASTER goes on now
            if (!returned) thread.Join();
            await Assert.That(returned).IsTrue(); // before: blocked in FASTER's Upsert/RMW until the flush
            await Assert.That(last).IsEqualTo(OpStatus.Pending);
            await Assert.That(written).IsGreaterThan(0);
            await Assert.That(writer.Stats.LogRoomWaits).IsEqualTo(1L); // the command stopped for room, not for a read

            // The flush lands: the command stops waiting, and its rerun writes.
            var sw = Stopwatch.StartNew();
            while (state.Outstanding > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                writer.CompletePending();
                await Task.Delay(1, ct);
            }
            await Assert.That(state.Outstanding).IsEqualTo(0);
            writer.BeginCommand(state);
            var status = Set(writer, "key" + written, value);
            await Assert.That(writer.EndCommand()).IsFalse();
            await Assert.That(status).IsNotEqualTo(OpStatus.Pending);
            await Assert.That(writer.Read(0, Encoding.ASCII.GetBytes("key" + written), out var slot)).IsEqualTo(OpStatus.Found);
            await Assert.That(Encoding.ASCII.GetString(slot.Value)).IsEqualTo(value);
        }
    }

}
