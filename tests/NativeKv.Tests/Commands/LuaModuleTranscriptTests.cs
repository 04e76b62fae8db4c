namespace NativeKv.Tests.Commands;

/// <summary>
/// The struct and cmsgpack libraries of scripts (LuaStruct, LuaMsgpack): packed bytes, round trips, limits and
/// error texts, as redis-server 7.0.15 answered the same EVALs (lua_struct.c and lua_cmsgpack.c are 7.2.4's);
/// LuaModuleTranscripts.cs, recorded by record-luamod-transcripts.py, RESP2 then RESP3 on a fresh connection.
/// </summary>
public class LuaModuleTranscriptTests
{
    [Test] public Task Struct_pack_unpack_size() => Transcript.Family(LuaModuleTranscripts.StructResp2, LuaModuleTranscripts.StructResp3);
    [Test] public Task Cmsgpack_pack_and_unpack() => Transcript.Family(LuaModuleTranscripts.MsgpackResp2, LuaModuleTranscripts.MsgpackResp3);
}
