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
/// A disk read in flight while compaction moves the log's begin must still find its key: FASTER 2.6.5
/// answers NOTFOUND once the address it reached is below the begin, though compaction copied the record
/// to the tail first (HSET then rewrote a bucket page as empty: a 5M-field hash lost 744 fields). The
/// store is driven in-process, step by step, with compaction run by the test at a chosen address.
/// </summary>
public class CompactionRaceTests
{
    private const long Mb = 1L << 20;

    /// <summary>Two keys FASTER files under one hash entry (same bucket, same 14-bit tag): one chain.</summary>
    private static (string, string) CollidingKeys(StoreSession s, long buckets)
    {
        var seen = new Dictionary<long, string>();
        for (int i = 0; ; i++)
        {
            string k = "key" + i;
            long h = s.HashKey(0, Encoding.ASCII.GetBytes(k));
            long entry = ((long)((ulong)h >> 50) << 32) | (h & (buckets - 1));
            if (seen.TryGetValue(entry, out var other)) return (other, k);
            seen[entry] = k;
        }
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    [Timeout(120_000)]
    public async Task A_read_in_flight_across_a_compaction_finds_the_moved_record(bool throughChain, CancellationToken ct)
    {
        using var temp = new TempStore("race", new ServerConfig { Maxmemory = 16 * Mb, StorePageSize = Mb });
        var store = temp.Store;
        {
            using var writer = store.NewSession("writer", ReadCopyOptions.None);
            using var reader = store.NewSession("reader", ReadCopyOptions.None);
            using var compactor = store.NewSession("compactor", ReadCopyOptions.None);
            var (target, other) = CollidingKeys(writer, store.Kv.IndexSize);
            if (!throughChain) other = "unrelated";

            // The target, then (when through the chain) a key filed under the same hash entry above it:
            // the read of the target starts at the other's record and walks down to its own.
            Set(writer, target, "the value");
            long between = store.Kv.Log.TailAddress;
            Set(writer, other, "above it");
            string filler = new('f', 1000);
            for (int i = 0; i < 48 * 1024; i++) Set(writer, "filler" + i, filler);
            await Assert.That(store.Kv.Log.HeadAddress).IsGreaterThan(between);

            // The read goes to disk, and both of its reads arrive (the second one after the key did not match).
            var state = new PendingState();
            long completions = store.DiskCompletions;
            reader.BeginCommand(state);
            await Assert.That(reader.Read(0, Encoding.ASCII.GetBytes(target), out _)).IsEqualTo(OpStatus.Pending);
            await Assert.That(reader.EndCommand()).IsTrue();
            var sw = Stopwatch.StartNew();
            while (store.DiskCompletions < completions + (throughChain ? 2 : 1) && sw.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(1, ct);

            // Before FASTER looks at what it read, compaction copies the target to the tail and the
            // log's begin moves past its old record (not past the other key's, when through the chain).
            store.Maintenance.Compact(compactor, between);
            await Assert.That(store.Kv.Log.BeginAddress).IsGreaterThan(between - Mb);

            sw.Restart();
            while (true)
            {
                reader.CompletePending(wait: true);
                reader.BeginCommand(state);
                var status = reader.Read(0, Encoding.ASCII.GetBytes(target), out var slot);
                string value = status == OpStatus.Found ? Encoding.ASCII.GetString(slot.Value) : "(not found)";
                if (!reader.EndCommand())
                {
                    await Assert.That(value).IsEqualTo("the value");
                    break;
                }
                if (sw.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("the read never completed");
            }
        }
    }
}
