namespace NativeKv.Tests.Commands;

/// <summary>
/// SLOWLOG, LATENCY, CLIENT PAUSE / UNPAUSE, WAIT and MONITOR's refusals on one connection, reply bytes as
/// redis-server sent them (IntroTranscripts.cs, recorded by record-intro-transcripts.py; one family a test,
/// RESP2 then RESP3). What depends on time or on other clients: Integration/IntrospectionTests.
/// </summary>
public class IntrospectionTranscriptTests
{
    [Test] public Task Slowlog() => Transcript.Family(IntroTranscripts.SlowlogResp2, IntroTranscripts.SlowlogResp3);
    [Test] public Task Latency() => Transcript.Family(IntroTranscripts.LatencyResp2, IntroTranscripts.LatencyResp3);
    [Test] public Task Client_pause_arguments() => Transcript.Family(IntroTranscripts.PauseResp2, IntroTranscripts.PauseResp3);
    [Test] public Task Wait_and_monitor_refusals() => Transcript.Family(IntroTranscripts.WaitResp2, IntroTranscripts.WaitResp3);
}
