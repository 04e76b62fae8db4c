using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>
/// MULTI, EXEC, DISCARD, WATCH, UNWATCH on one connection, reply bytes as redis-server 7.0.15 sent them for the
/// same requests (MultiTranscripts.cs, recorded by record-multi-transcripts.py; one family a test, RESP2 then
/// RESP3 on a fresh connection). Other clients' writes, expiry and atomicity: Integration/TransactionTests.
/// </summary>
public class TransactionCommandTests
{
    [Test] public Task Queue_exec_and_discard() => Transcript.Family(MultiTranscripts.QueueResp2, MultiTranscripts.QueueResp3);
    [Test] public Task Watch_and_the_writes_that_fail_exec() => Transcript.Family(MultiTranscripts.WatchResp2, MultiTranscripts.WatchResp3);
}
