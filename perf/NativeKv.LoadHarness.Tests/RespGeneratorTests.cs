using System.Text;

namespace NativeKv.LoadHarness.Tests;

/// <summary>The load's RESP input: exact bytes, redis-benchmark's key format, lengths the cache relies on.</summary>
public class RespGeneratorTests
{
    static string Generate(long count, int dataSize, long first = 0)
    {
        using var stream = new MemoryStream();
        RespGenerator.Write(stream, count, dataSize, first);
        return Encoding.ASCII.GetString(stream.ToArray());
    }

    [Test]
    public async Task Writes_one_SET_per_key_with_twelve_digit_keys_and_x_values()
    {
        await Assert.That(Generate(2, 3)).IsEqualTo(
            "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$3\r\nxxx\r\n" +
            "*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$3\r\nxxx\r\n");
    }

    [Test]
    public async Task Carries_digits_across_every_place()
    {
        var text = Generate(2, 1, first: 999_999_999_998);
        await Assert.That(text).IsEqualTo(
            "*3\r\n$3\r\nSET\r\n$16\r\nkey:999999999998\r\n$1\r\nx\r\n" +
            "*3\r\n$3\r\nSET\r\n$16\r\nkey:999999999999\r\n$1\r\nx\r\n");
        await Assert.That(Generate(1, 1, first: 4_000_009)).Contains("key:000004000009\r\n");
    }

    [Test]
    public async Task Keys_are_redis_benchmarks_r_format()
    {
        // redis-benchmark -r N replaces __rand_int__ with "%012llu" of a number below N.
        await Assert.That(RespGenerator.Key(0)).IsEqualTo("key:000000000000");
        await Assert.That(RespGenerator.Key(4_999_999)).IsEqualTo("key:000004999999");
    }

    [Test]
    public async Task Length_is_what_is_written()
    {
        foreach (var (keys, size) in new[] { (1L, 1), (7L, 100), (1000L, 1000), (3L, 12345) })
            await Assert.That((long)Encoding.ASCII.GetByteCount(Generate(keys, size))).IsEqualTo(RespGenerator.Length(keys, size));
        // 144 bytes a command at 100-byte values: the 5M-key input is 720 MB (/tmp/load5m.resp's size).
        await Assert.That(RespGenerator.Length(5_000_000, 100)).IsEqualTo(720_000_000L);
    }

    [Test]
    public async Task WriteFile_leaves_the_file_and_no_partial()
    {
        var dir = Directory.CreateTempSubdirectory("ltmbench-gen-");
        try
        {
            var path = Path.Combine(dir.FullName, "set.resp");
            RespGenerator.WriteFile(path, 10, 5);
            await Assert.That(new FileInfo(path).Length).IsEqualTo(RespGenerator.Length(10, 5));
            await Assert.That(File.Exists(path + ".partial")).IsFalse();
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Test]
    public async Task Refuses_keys_past_twelve_digits()
    {
        await Assert.That(() => RespGenerator.Write(Stream.Null, 2, 1, first: 999_999_999_999)).Throws<ArgumentOutOfRangeException>();
    }
}
