using System.Diagnostics;
using System.Runtime.InteropServices;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>FUNCTION libraries in a reactor's state (function_lua.c luaEngineCreate and its registered functions).</summary>
public sealed unsafe partial class LuaEngine
{
    private readonly int _fenvRef, _loadBeginRef, _loadEndRef, _loadHandlerRef;
    private int _functionsGeneration = -1;
    private readonly List<(ScriptEntry Entry, int Ref)> _functionRefs = new();

    /// <summary>What a library's code registered: name, callback reference (the caller owns it), flags, description.</summary>
    public readonly record struct Registered(string Name, int Ref, ScriptFlags Flags, string? Description);

    /// <summary>
    /// luaEngineCreate: runs a library's code (after its shebang line) in the load environment. Null and the
    /// registered functions, or Redis's error ("Error compiling function: ...", "Error registering functions: ...").
    /// </summary>
    public string? LoadLibrary(ReadOnlySpan<byte> code, List<Registered> registered, long timeoutMs = 0)
    {
        var L = _state;
        lua_settop(L, 0);
        _alloc->Managed = 1;
        try
        {
            PushRef(_loadHandlerRef);
            int status;
            fixed (byte* c = code)
            fixed (byte* chunk = "@user_function\0"u8)
                status = luaL_loadbuffer(L, c, (nuint)code.Length, chunk);
            if (status != 0)
            {
                string err = "Error compiling function: " + ToString(L, -1);
                lua_settop(L, 0);
                return err;
            }
            PushRef(_setfenvRef);
            lua_pushvalue(L, -2);
            PushRef(_fenvRef);
            lua_call(L, 2, 0);
            PushRef(_loadBeginRef);
            lua_call(L, 0, 0);
            // luaEngineLoadHook: FUNCTION LOAD's code may run timeoutMs (RESTORE and recovery: no limit).
            _loadDeadline = timeoutMs > 0 ? Stopwatch.GetTimestamp() + timeoutMs * Stopwatch.Frequency / 1000 : 0;
            if (_loadDeadline != 0) lua_sethook(L, (nint)(delegate* unmanaged<nint, nint, void>)&LoadHook, LUA_MASKCOUNT, 100000);
            _alloc->Managed = 0;
            int failed = lua_pcall(L, 0, 0, 1);
            _loadDeadline = 0;
            _alloc->Managed = 1;
            lua_sethook(L, 0, 0, 0); // a raise asked for by redis.log may not have happened
            ClearPending(L);
            string? error = null;
            if (failed != 0)
            {
                // luaExtractErrorInformation: an error table's err, or "ERR " and the message.
                string msg;
                if (lua_type(L, -1) == LUA_TTABLE)
                {
                    PushString(L, "err"u8);
                    lua_rawget(L, -2);
                    msg = lua_isstring(L, -1) != 0 ? ToString(L, -1) : "";
                }
                else msg = "ERR " + (lua_isstring(L, -1) != 0 ? ToString(L, -1) : "");
                error = "Error registering functions: " + msg;
            }
            lua_settop(L, 0);
            PushRef(_loadEndRef);
            lua_call(L, 0, 1);
            if (error is not null)
            {
                lua_settop(L, 0);
                return error;
            }
            int n = (int)lua_objlen(L, 1);
            for (int i = 1; i <= n; i++)
            {
                lua_rawgeti(L, 1, i);
                lua_rawgeti(L, -1, 1);
                string name = ToString(L, -1);
                lua_settop(L, -2);
                lua_rawgeti(L, -1, 3);
                var flags = (ScriptFlags)(int)lua_tonumber(L, -1);
                lua_settop(L, -2);
                lua_rawgeti(L, -1, 4);
                string? desc = lua_isstring(L, -1) != 0 ? ToString(L, -1) : null;
                lua_settop(L, -2);
                lua_rawgeti(L, -1, 2);
                int reference = luaL_ref(L, LUA_REGISTRYINDEX);
                lua_settop(L, -2);
                registered.Add(new Registered(name, reference, flags, desc));
            }
            lua_settop(L, 0);
            return null;
        }
        finally
        {
            _alloc->Managed = 0;
        }
    }

    private long _loadDeadline;

    [UnmanagedCallersOnly]
    private static void LoadHook(nint L, nint ar)
    {
        var e = _current;
        if (e is null || e._loadDeadline == 0 || Stopwatch.GetTimestamp() < e._loadDeadline) return;
        e._loadDeadline = 0;
        e._alloc->Managed = 1; // the table below must not fail: a raise here would cross .NET frames
        lua_createtable(L, 0, 1);
        PushString(L, "err"u8);
        PushString(L, "ERR FUNCTION LOAD timeout"u8);
        lua_rawset(L, -3);
        e.RaiseLater(L);
        e._alloc->Managed = 0;
    }

    /// <summary>Drops callbacks <see cref="LoadLibrary"/> registered that nobody keeps.</summary>
    public void Release(List<Registered> registered)
    {
        foreach (var r in registered) luaL_unref(_state, LUA_REGISTRYINDEX, r.Ref);
    }

    /// <summary>
    /// Makes <paramref name="function"/> callable in this state (its library's code run here the first time,
    /// again after any FUNCTION change). Null on success, else the load's error.
    /// </summary>
    public string? EnsureFunction(FunctionInfo function)
    {
        int generation = Functions.Generation;
        if (generation != _functionsGeneration)
        {
            foreach (var (entry, reference) in _functionRefs)
            {
                _compiled.Remove(entry);
                luaL_unref(_state, LUA_REGISTRYINDEX, reference);
            }
            _functionRefs.Clear();
            _functionsGeneration = generation;
        }
        if (_compiled.ContainsKey(function.Entry)) return null;
        var lib = function.Library;
        var registered = new List<Registered>();
        var err = LoadLibrary(LibraryCode(lib.Code), registered);
        if (err is not null) return err;
        foreach (var r in registered)
        {
            var info = lib.Functions.Find(f => f.Name == r.Name);
            if (info is null || _compiled.ContainsKey(info.Entry))
            {
                luaL_unref(_state, LUA_REGISTRYINDEX, r.Ref);
                continue;
            }
            _compiled[info.Entry] = r.Ref;
            _functionRefs.Add((info.Entry, r.Ref));
        }
        return _compiled.ContainsKey(function.Entry) ? null : "Function not found";
    }

    /// <summary>md.code: the library's code from the shebang's newline on (line numbers stay the user's).</summary>
    public static ReadOnlySpan<byte> LibraryCode(byte[] code)
    {
        int nl = Array.IndexOf(code, (byte)'\n');
        return nl < 0 ? default : code.AsSpan(nl);
    }
}
