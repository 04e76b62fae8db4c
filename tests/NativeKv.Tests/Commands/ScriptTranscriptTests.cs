namespace NativeKv.Tests.Commands;

/// <summary>
/// EVAL, EVALSHA, EVAL_RO, SCRIPT and the Redis Lua API on one connection, reply bytes as redis-server 7.0.15
/// sent them (7.2's where they differ) for the same requests (ScriptTranscripts.cs, recorded by
/// record-script-transcripts.py; one family a test, RESP2 then RESP3 on a fresh connection).
/// </summary>
public class ScriptTranscriptTests
{
    [Test] public Task Eval_evalsha_and_script() => Transcript.Family(ScriptTranscripts.EvalResp2, ScriptTranscripts.EvalResp3);
    [Test] public Task Lua_results_to_replies() => Transcript.Family(ScriptTranscripts.RepliesResp2, ScriptTranscripts.RepliesResp3);
    [Test] public Task Redis_call_and_pcall() => Transcript.Family(ScriptTranscripts.CallsResp2, ScriptTranscripts.CallsResp3);
    [Test] public Task Sandbox_and_redis_api() => Transcript.Family(ScriptTranscripts.SandboxResp2, ScriptTranscripts.SandboxResp3);
    [Test] public Task Resp3_conversions() => Transcript.Family(ScriptTranscripts.Resp3Resp2, ScriptTranscripts.Resp3Resp3);
    [Test] public Task Shebang_flags_and_read_only() => Transcript.Family(ScriptTranscripts.FlagsResp2, ScriptTranscripts.FlagsResp3);
    [Test] public Task Lock_rate_limiter_and_queue_scripts() => Transcript.Family(ScriptTranscripts.PatternsResp2, ScriptTranscripts.PatternsResp3);
    [Test] public Task Math_random_is_redis_lrand48() => Transcript.Family(ScriptTranscripts.RandomResp2, ScriptTranscripts.RandomResp3);
    [Test] public Task Keys_and_argv_are_each_scripts_own() => Transcript.Family(ScriptTranscripts.KeysArgvResp2, ScriptTranscripts.KeysArgvResp3);
}
