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
    [Test] public Task Immediate_pops_and_moves() => Transcript.Family(BlockingTranscripts.ImmediateResp2, BlockingTranscripts.ImmediateResp3);
    [Test] public Task Timeouts() => Transcript.Family(BlockingTranscripts.TimeoutsResp2, BlockingTranscripts.TimeoutsResp3);
    [Test] public Task Errors_and_wrongtype() => Transcript.Family(BlockingTranscripts.ErrorsResp2, BlockingTranscripts.ErrorsResp3);
}
