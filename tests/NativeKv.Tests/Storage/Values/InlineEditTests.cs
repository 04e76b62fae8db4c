using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// The in-record HSET (<see cref="InlineEdit"/>) against <see cref="HashWriter"/>, the general path it
/// stands in for: random HSETs of 1-6 pairs over a small field space (fields repeat within one command,
/// values grow and shrink), each built from the previous payload. Both must give the same bytes and the
/// same count of new fields, and the edit must refuse exactly when the writer converts. The overwrite on the record's
/// own bytes (<see cref="InlineEdit.HashSetInRecord"/>) must give the same bytes when it takes an edit, and leave the
/// record as it was when it does not.
/// </summary>
public class InlineEditTests
{
    [Test]
    [Arguments(1)]
    [Arguments(2)]
    [Arguments(3)]
    public async Task Edits_match_the_hash_writer(int seed)
    {
        var rng = new Random(seed);
        long limit = 10 + seed * 10;
        var limits = new HashLimits(limit, 64);
        byte[] payload = Hash.Empty.ToArray();
        int refused = 0, built = 0, overwritten = 0;
        for (int step = 0; step < 4000; step++)
        {
            var pairs = new List<(byte[] Field, byte[] Value)>();
            int n = rng.Next(1, 7);
            var present = Present(payload);
            if (present.Count > 0 && rng.Next(3) == 0)
            {
                // Fields that are there, values of their sizes (one in ten of another size): the in-record overwrite's case.
                for (int i = 0; i < Math.Min(n, 3); i++)
                {
                    var (f, v) = present[rng.Next(present.Count)];
                    int size = rng.Next(10) == 0 ? v.Length + 1 : v.Length;
                    pairs.Add((f, Bytes(new string((char)('a' + rng.Next(26)), size))));
                }
            }
            else
            {
                for (int i = 0; i < n; i++)
                    pairs.Add((Bytes($"f{rng.Next((int)limit + 6)}"), Bytes(new string((char)('a' + rng.Next(26)), rng.Next(0, 40)))));
            }

            var w = new HashWriter(payload, new byte[16], limits);
            long created = 0;
            foreach (var (f, v) in pairs) if (w.Set(f, v)) created++;

            var args = new List<byte>();
            var entry = new byte[64];
            foreach (var (f, v) in pairs)
            {
                args.AddRange(entry.AsSpan(0, Listpack.WriteEntry(entry, f)).ToArray());
                args.AddRange(entry.AsSpan(0, Listpack.WriteEntry(entry, v)).ToArray());
            }
            var (length, result, added) = Edit(payload, args.ToArray(), limit);
            // On the record's bytes: all of it, as the build makes it, or nothing.
            var inRecord = payload.ToArray();
            if (InlineEdit.HashSetInRecord(inRecord, args.ToArray()))
            {
                await Assert.That(inRecord.AsSpan().SequenceEqual(w.Payload)).IsTrue();
                await Assert.That(created).IsEqualTo(0);
                overwritten++;
            }
            else await Assert.That(inRecord.AsSpan().SequenceEqual(payload)).IsTrue();
            if (w.Encoding == CollectionEncoding.Hashtable)
            {
                // Past the entry limit: the edit leaves it to the general path, which converts to pages.
                await Assert.That(length).IsEqualTo(InlineEdit.NotInline);
                refused++;
                payload = Hash.Empty.ToArray(); // start over, as a hash that went to pages is no longer edited here
                continue;
            }
            await Assert.That(length).IsEqualTo(w.Payload.Length);
            await Assert.That(result.AsSpan().SequenceEqual(w.Payload)).IsTrue();
            await Assert.That(added).IsEqualTo(created);
            payload = result;
            built++;
        }
        await Assert.That(refused).IsGreaterThan(0);
        await Assert.That(built).IsGreaterThan(1000);
        await Assert.That(overwritten).IsGreaterThan(200);
    }

    private static List<(byte[] Field, byte[] Value)> Present(byte[] payload)
    {
        var list = new List<(byte[], byte[])>();
        var e = Hash.Enumerate(payload);
        while (e.Next(out var f, out var v)) list.Add((f.ToArray(), v.ToArray()));
        return list;
    }

    private static unsafe (int Length, byte[] Result, long Added) Edit(byte[] payload, byte[] args, long limit)
    {
        fixed (byte* p = args)
        {
            var input = new StoreInput { Op = StoreOp.Edit, Arg = (long)InlineEditKind.HashSet, Data = p, DataLength = args.Length, Limit = limit };
            int length = InlineEdit.Build(ref input, payload, out var result, out long added);
            return (length, result.ToArray(), added);
        }
    }

    private static byte[] Bytes(string s) => System.Text.Encoding.ASCII.GetBytes(s);
}
