using System.Text;

namespace NativeKv.LoadHarness.Tests;

/// <summary>The MULTI load generator's reply checks and its redis-benchmark CSV row.</summary>
public class TransactionLoadTests
{
    static int CheckAll(string replies)
    {
        var input = Encoding.ASCII.GetBytes(replies);
        int at = 0, seen = 0;
        while (Replies.TryCheck(input, ref at, seen % TransactionLoad.CommandsPerRequest)) seen++;
        return seen;
    }

    [Test]
    public async Task A_transaction_is_OK_three_QUEUED_and_three_integers()
    {
        const string one = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:1\r\n:1\r\n:2\r\n";
        await Assert.That(CheckAll(one + one)).IsEqualTo(10);
        // Cut anywhere, the complete replies before the cut are counted and the rest waits for more input.
        await Assert.That(CheckAll(one + "+OK\r\n+QUE")).IsEqualTo(6);
        await Assert.That(CheckAll("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:1\r\n:1")).IsEqualTo(4);
    }

    [Test]
    public async Task Errors_and_aborted_transactions_fail_the_run()
    {
        await Assert.That(() => CheckAll("-ERR unknown command 'MULTI'\r\n")).Throws<InvalidDataException>();
        await Assert.That(() => CheckAll("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*-1\r\n")).Throws<InvalidDataException>();
        await Assert.That(() => CheckAll("+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n:1\r\n-ERR x\r\n:2\r\n")).Throws<InvalidDataException>();
    }

    [Test]
    public async Task The_csv_row_is_the_one_BenchmarkRunner_parses()
    {
        var histogram = new long[1_000_000];
        histogram[100] = 50;   // 0.1 ms
        histogram[300] = 49;   // 0.3 ms
        histogram[2000] = 1;   // 2 ms
        var row = BenchmarkRunner.ParseCsv(TransactionLoad.Csv(histogram, 100, 0.5), TransactionLoad.TestName)!;
        await Assert.That(row["rps"]).IsEqualTo(200);
        await Assert.That(row["min_latency_ms"]).IsEqualTo(0.1);
        await Assert.That(row["p50_latency_ms"]).IsEqualTo(0.1);
        await Assert.That(row["p95_latency_ms"]).IsEqualTo(0.3);
        await Assert.That(row["max_latency_ms"]).IsEqualTo(2);
        await Assert.That(row["avg_latency_ms"]).IsEqualTo(0.217);
    }
}
