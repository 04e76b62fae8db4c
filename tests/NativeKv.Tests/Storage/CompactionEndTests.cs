using System.Text;
using FASTER.core;
using NativeKv.Server;
using NativeKv.Server.Config;
using NativeKv.Server.Storage;
using NativeKv.Tests.Infrastructure;
using static NativeKv.Tests.Infrastructure.StoreWrites;

namespace NativeKv.Tests.Storage;

/// <summary>
/// Compaction may be asked to stop anywhere in the log, on disk, in the middle of a record: every key must
/// still read back whole. FASTER's scan of pages on disk loads its frame only up to the scan's end, so the
/// record across it came back with zeros for its last bytes, and compaction copied that to the tail as the
/// live version (a 5M-field hash load lost 18 fields and garbled 2 once compaction stopped short of the tail).
/// </summary>
public class CompactionEndTests
{
    private const long Mb = 1L << 20;

    [Test]
    [Arguments(100)]
    [Arguments(700)]
    [Timeout(120_000)]
    public async Task Compaction_ending_inside_a_record_on_disk_keeps_every_record_whole(int into, CancellationToken ct)
    {
        using var temp = new TempStore("compaction-end", new ServerConfig { Maxmemory = 16 * Mb, StorePageSize = Mb });
        var store = temp.Store;
        {
            using var writer = store.NewSession("writer", ReadCopyOptions.None);
            using var reader = store.NewSession("reader", ReadCopyOptions.None);
            using var compactor = store.NewSession("compactor", ReadCopyOptions.None);
            static string Value(int i) => i.ToString("D8") + new string((char)('a' + i % 26), 1000);

            // 3,000 keys of ~1 KB, then filler until they are all on disk; the end is inside key 1500's record.
            const int keys = 3000;
            long end = 0;
            for (int i = 0; i < keys; i++)
            {
                long at = store.Kv.Log.TailAddress;
                Set(writer, "key" + i, Value(i));
                if (i == keys / 2) end = at + into;
            }
            await Assert.That(end % Mb).IsNotEqualTo(0L);
            string filler = new('f', 1000);
            for (int i = 0; i < 48 * 1024; i++) Set(writer, "filler" + i, filler);
            await Assert.That(store.Kv.Log.HeadAddress).IsGreaterThan(end + 2 * Mb);

            store.Maintenance.Compact(compactor, end);

            int wrong = 0;
            string? first = null;
            for (int i = 0; i < keys; i++)
            {
                var key = Encoding.ASCII.GetBytes("key" + i);
                var status = reader.Read(0, key, out var slot);
                if (status == OpStatus.Pending)
                {
                    reader.CompletePending(wait: true);
                    status = reader.Read(0, key, out slot);
                }
                string got = status == OpStatus.Found ? Encoding.ASCII.GetString(slot.Value) : $"({status})";
                if (got == Value(i)) continue;
                wrong++;
                first ??= $"key{i}: {got[..Math.Min(got.Length, 40)]}";
            }
            await Assert.That(wrong).IsEqualTo(0).Because(first ?? "");
        }
    }
}
