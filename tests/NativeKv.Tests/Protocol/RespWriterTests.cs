using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Tests.Protocol;

public class RespWriterTests
{
    private static string Text(RespWriter w) => Encoding.Latin1.GetString(w.Written);

    [Test]
    public async Task Resp2_forms()
    {
        var w = new RespWriter(8);
        w.Ok();
        w.Integer(-42);
        w.Integer(7);
        w.Bulk("héllo");
        w.NullBulk();
        w.NullArray();
        w.MapHeader(2);
        w.SetHeader(3);
        w.Boolean(true);
        w.Double(1.5);
        w.Error("ERR bad\r\nthing");
        await Assert.That(Text(w)).IsEqualTo("+OK\r\n:-42\r\n:7\r\n$6\r\nh\u00c3\u00a9llo\r\n$-1\r\n*-1\r\n*4\r\n*3\r\n:1\r\n$3\r\n1.5\r\n-ERR bad  thing\r\n");
        await Assert.That(w.ErrorCount).IsEqualTo(1L);
        await Assert.That(w.LastErrorPrefix).IsEqualTo("ERR");
    }

    [Test]
    public async Task Resp3_forms()
    {
        var w = new RespWriter { Protocol = 3 };
        w.NullBulk();
        w.MapHeader(2);
        w.SetHeader(3);
        w.Boolean(false);
        w.Double(double.PositiveInfinity);
        w.Double(3);
        w.Verbatim("hi"u8);
        w.PushHeader(2);
        await Assert.That(Text(w)).IsEqualTo("_\r\n%2\r\n~3\r\n#f\r\n,inf\r\n,3\r\n=6\r\ntxt:hi\r\n>2\r\n");
    }

    [Test]
    public async Task Grows_for_large_bulks_and_disabled_writes_nothing()
    {
        var w = new RespWriter(16);
        var big = new byte[1 << 20];
        big.AsSpan().Fill((byte)'x');
        w.Bulk(big);
        await Assert.That(w.Length).IsEqualTo(big.Length + 12);
        w.Clear();
        w.Enabled = false;
        w.Ok();
        w.Error("ERR x");
        await Assert.That(w.Length).IsEqualTo(0);
        await Assert.That(w.ErrorCount).IsEqualTo(1L);
    }
}
