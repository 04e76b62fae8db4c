using System.Text;
using NativeKv.Server.Protocol;
using NativeKv.Server.Storage;

namespace NativeKv.Tests.Storage;

/// <summary>INCR's own integer parse and in-place digit writer agree with string2ll and long.ToString.</summary>
public class NumberFormatTests
{
    private static IEnumerable<long> Samples()
    {
        long[] edges = [0, 1, -1, 9, 10, -9, -10, 99, 100, 999_999_999, 1_000_000_000, -999_999_999, -1_000_000_000,
            long.MaxValue, long.MinValue, long.MaxValue - 1, long.MinValue + 1];
        foreach (var e in edges) yield return e;
        for (long p = 1; p <= long.MaxValue / 10; p *= 10)
        {
            yield return p; yield return p - 1; yield return -p; yield return 1 - p; yield return p * 10 - 1;
        }
        var rng = new Random(11);
        for (int i = 0; i < 2000; i++) yield return rng.NextInt64(long.MinValue, long.MaxValue) >> rng.Next(64);
    }

    [Test]
    public async Task Digits_are_written_as_long_ToString_writes_them()
    {
        var buf = new byte[24];
        foreach (long v in Samples())
        {
            string expected = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            int n = NumberFormat.DigitCount(v);
            await Assert.That(n).IsEqualTo(expected.Length);
            Array.Fill(buf, (byte)'#');
            unsafe
            {
                fixed (byte* p = buf) NumberFormat.WriteDigits(v, p, n);
            }
            await Assert.That(Encoding.ASCII.GetString(buf, 0, n)).IsEqualTo(expected);
            await Assert.That(buf[n]).IsEqualTo((byte)'#');
        }
    }

    [Test]
    public async Task Parse_agrees_with_string2ll()
    {
        var inputs = new List<string> { "", "-", "0", "-0", "00", "01", "+1", " 1", "1 ", "1a", "a", "--1",
            "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
            "99999999999999999999", "123456789012345678", "1234567890123456789", "-123456789012345678",
            "12345678901234567890", "100000000000000000000" };
        foreach (long v in Samples()) inputs.Add(v.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var s in inputs)
        {
            var bytes = Encoding.ASCII.GetBytes(s);
            bool ok = NumberFormat.TryParseLong(bytes, out long got);
            bool okRef = RespNumber.TryParseInt64(bytes, out long want);
            await Assert.That($"{s}: {ok} {got}").IsEqualTo($"{s}: {okRef} {want}");
        }
    }
}
