using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Tests.Protocol;

/// <summary>Buffers are lent only while there is work, and announced sizes reserve nothing much.</summary>
public class BufferLendingTests
{
    [Test]
    public async Task Pooled_writer_holds_no_buffer_until_it_writes_and_gives_it_back_when_empty()
    {
        var pool = new BufferPool();
        var w = new RespWriter(pool);
        await Assert.That(w.Capacity).IsEqualTo(0);
        w.Pong();
        await Assert.That(w.Capacity).IsEqualTo(BufferPool.DefaultBufferSize);
        w.Release(); // not empty: kept
        await Assert.That(w.Capacity).IsEqualTo(BufferPool.DefaultBufferSize);
        w.Clear();
        w.Release();
        await Assert.That(w.Capacity).IsEqualTo(0);
        await Assert.That(pool.FreeCount).IsEqualTo(1);
        // The next reply borrows the same buffer back.
        w.Ok();
        await Assert.That(pool.FreeCount).IsEqualTo(0);
        await Assert.That(Encoding.ASCII.GetString(w.Written)).IsEqualTo("+OK\r\n");
    }

    [Test]
    public async Task Grown_writer_buffer_is_not_pooled_and_is_dropped_when_idle()
    {
        var pool = new BufferPool();
        var w = new RespWriter(pool);
        w.Bulk(new byte[100_000]);
        int grown = w.Capacity;
        await Assert.That(grown).IsGreaterThan(BufferPool.DefaultBufferSize);
        w.Clear();
        w.Release(); // a big buffer stays for the next big reply
        await Assert.That(w.Capacity).IsEqualTo(grown);
        await Assert.That(pool.FreeCount).IsEqualTo(0);
        w.TrimIfIdle(BufferPool.DefaultBufferSize);
        await Assert.That(w.Capacity).IsEqualTo(0);
    }

    [Test]
    public async Task Pool_lets_go_of_buffers_unused_for_a_whole_interval_and_keeps_a_few()
    {
        var pool = new BufferPool(maxFree: 64);
        var lent = Enumerable.Range(0, 40).Select(_ => pool.Rent()).ToList();
        foreach (var b in lent) pool.Return(b);
        await Assert.That(pool.FreeCount).IsEqualTo(40);
        pool.Trim(); // all 40 were lent during this interval: none was idle throughout
        await Assert.That(pool.FreeCount).IsEqualTo(40);
        pool.Rent();
        pool.Rent();
        pool.Trim(); // 38 stayed free the whole interval; 4 are kept
        await Assert.That(pool.FreeCount).IsEqualTo(4);
        // Bounded: returns past maxFree are left to the GC.
        for (int i = 0; i < 100; i++) pool.Return(new byte[pool.BufferSize]);
        await Assert.That(pool.FreeCount).IsEqualTo(64);
    }

    [Test]
    public async Task Multibulk_header_reserves_at_most_1024_arguments_and_grows_as_they_arrive()
    {
        var parser = new RequestParser();
        var header = "*1048576\r\n"u8.ToArray();
        await Assert.That(parser.Parse(header, out _)).IsEqualTo(ParseResult.Incomplete);
        // Before: 1,048,576 entries (8 MB) for 11 bytes.
        await Assert.That(parser.ArgCapacity).IsLessThanOrEqualTo(RequestParser.MaxReserve);

        var big = new StringBuilder("*3000\r\n");
        for (int i = 0; i < 3000; i++) big.Append($"$1\r\n{i % 10}\r\n");
        var input = Encoding.ASCII.GetBytes(big.ToString());
        parser.Reset();
        await Assert.That(parser.Parse(input, out int consumed)).IsEqualTo(ParseResult.Command);
        await Assert.That(consumed).IsEqualTo(input.Length);
        await Assert.That(parser.ArgCount).IsEqualTo(3000);
        await Assert.That(parser.Args[2999].Length).IsEqualTo(1);
        parser.TrimIfIdle();
        await Assert.That(parser.ArgCapacity).IsLessThanOrEqualTo(16);
    }
}
