namespace NativeKv.Tests.Commands;

/// <summary>
/// FUNCTION and FCALL on one connection, reply bytes as redis-server 7.0.15 sent them (7.2's where they differ) for
/// the same requests (FunctionTranscripts.cs, recorded by record-function-transcripts.py; one family a test, RESP2
/// then RESP3 on a fresh connection).
/// </summary>
public class FunctionTranscriptTests
{
    [Test] public Task Function_load_and_its_errors() => Transcript.Family(FunctionTranscripts.LoadResp2, FunctionTranscripts.LoadResp3);
    [Test] public Task Fcall_flags_and_errors() => Transcript.Family(FunctionTranscripts.FcallResp2, FunctionTranscripts.FcallResp3);
    [Test] public Task Function_list_delete_restore_flush_stats() => Transcript.Family(FunctionTranscripts.ManageResp2, FunctionTranscripts.ManageResp3);
}
