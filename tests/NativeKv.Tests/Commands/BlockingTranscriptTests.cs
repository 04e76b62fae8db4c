using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP where they do not block (data there, argument and timeout
/// errors, WRONGTYPE, 10 ms timeouts): reply bytes as redis-server 7.0.15 sent them (BlockingTranscripts.cs,
/// recorded by record-blocking-transcripts.py; one family a test, RESP2 then RESP3; the timeouts 7.2 reads
/// as a long double are 7.2's replies).
/// </summary>
public class BlockingTranscriptTests
{
    private static async Task Family((string[] Args, string Reply)[] resp2, (string[] Args, string Reply)[] resp3)
    {
        await using var server = await ServerProcess.StartAsync();
        await HashCommandTests.Replay(server.Port, resp2, resp3: false);
        await HashCommandTests.Replay(server.Port, resp3, resp3: true);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test] public Task Immediate_pops_and_moves() => Family(BlockingTranscripts.ImmediateResp2, BlockingTranscripts.ImmediateResp3);
    [Test] public Task Timeouts() => Family(BlockingTranscripts.TimeoutsResp2, BlockingTranscripts.TimeoutsResp3);
    [Test] public Task Errors_and_wrongtype() => Family(BlockingTranscripts.ErrorsResp2, BlockingTranscripts.ErrorsResp3);
}
