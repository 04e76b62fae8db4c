using System.Buffers.Binary;
using System.Text;
using FASTER.core;
using NativeKv.Server.Storage;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The index's key hash: keys that differ only in their last digits (every benchmark's key:%012d)
/// must share a bucket and a 14-bit tag no more often than chance, or a new key's insert reads a
/// record from disk to tell the two apart. The data directory records which hash its index uses.
/// </summary>
public class KeyComparerTests
{
    /// <summary>(bucket, tag) pairs met twice among <paramref name="keys"/> store keys of namespace 0, FASTER's way.</summary>
    private static unsafe long Collisions(KeyComparer comparer, int keys, int bucketBits)
    {
        var seen = new HashSet<long>();
        long collisions = 0;
        var buffer = new byte[64];
        for (int i = 0; i < keys; i++)
        {
            BinaryPrimitives.WriteInt32LittleEndian(buffer, 0);
            int len = 4 + Encoding.ASCII.GetBytes($"key:{i:D12}", buffer.AsSpan(4));
            fixed (byte* p = buffer)
            {
                var k = SpanByte.FromPointer(p, len);
                long h = comparer.GetHashCode64(ref k);
                long bucket = h & ((1L << bucketBits) - 1);
                long tag = (long)((ulong)h >> 50); // FASTER: the top 14 bits
                if (!seen.Add(bucket << 14 | tag)) collisions++;
            }
        }
        return collisions;
    }

    [Test]
    public async Task Sequential_keys_share_bucket_and_tag_no_more_often_than_chance()
    {
        const int keys = 1_000_000, bits = 18; // 4 keys a bucket, where the index doubles
        // Random hashes: each key meets the ~keys/2^bits before it in its bucket with probability 1/2^14 each.
        double expected = (double)keys * keys / (2.0 * (1 << bits) * (1 << 14));
        long current = Collisions(KeyComparer.Current, keys, bits);
        long legacy = Collisions(KeyComparer.Legacy, keys, bits);
        Console.WriteLine($"collisions among {keys} keys in 2^{bits} buckets: current {current}, FASTER's {legacy}, chance {expected:F0}");
        await Assert.That((double)current).IsLessThan(expected * 1.5);
        // Why the hash changed: FASTER's own is many times worse on these keys.
        await Assert.That((double)legacy).IsGreaterThan(expected * 5);
    }

    [Test]
    public async Task Equal_keys_hash_alike_and_compare_equal_byte_for_byte()
    {
        var a = Encoding.ASCII.GetBytes("\0\0\0\0user:42");
        var b = Encoding.ASCII.GetBytes("\0\0\0\0user:42");
        var c = Encoding.ASCII.GetBytes("\0\0\0\0user:43");
        var (same, equal, differ) = Compare(a, b, c);
        await Assert.That(same).IsTrue();
        await Assert.That(equal).IsTrue();
        await Assert.That(differ).IsFalse();
    }

    private static unsafe (bool sameHash, bool equal, bool differentEqual) Compare(byte[] a, byte[] b, byte[] c)
    {
        fixed (byte* pa = a, pb = b, pc = c)
        {
            var ka = SpanByte.FromPointer(pa, a.Length);
            var kb = SpanByte.FromPointer(pb, b.Length);
            var kc = SpanByte.FromPointer(pc, c.Length);
            var cmp = KeyComparer.Current;
            return (cmp.GetHashCode64(ref ka) == cmp.GetHashCode64(ref kb), cmp.Equals(ref ka, ref kb), cmp.Equals(ref ka, ref kc));
        }
    }

    [Test]
    public async Task The_manifest_records_the_hash_and_a_directory_without_one_keeps_FASTERs()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-manifest-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var path = Path.Combine(dir, "checkpoint.manifest");
            var log = new NativeKv.Server.Log(TextWriter.Null);
            new Persistence.Manifest(true, Guid.NewGuid(), 0, [0, 1], 2, 0, 23, KeyComparer.CurrentVersion).Save(path);
            var loaded = Persistence.Manifest.Load(path, log);
            await Assert.That(KeyComparer.ForVersion(loaded.HashVersion)).IsSameReferenceAs(KeyComparer.Current);

            // Written before the field existed: FASTER's hash built that index.
            File.WriteAllLines(path, File.ReadAllLines(path).Where(l => !l.StartsWith("hash=", StringComparison.Ordinal)));
            loaded = Persistence.Manifest.Load(path, log);
            await Assert.That(KeyComparer.ForVersion(loaded.HashVersion)).IsSameReferenceAs(KeyComparer.Legacy);

            // A hash from a newer build is refused before anything is opened.
            File.AppendAllLines(path, ["hash=9"]);
            await Assert.That(() => Persistence.Manifest.Load(path, log)).Throws<PersistenceException>();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
