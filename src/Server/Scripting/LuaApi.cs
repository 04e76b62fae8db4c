using System.Runtime.InteropServices;
using System.Text;
using NativeKv.Server.Commands;
using NativeKv.Server.Network;
using NativeKv.Server.Protocol;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// The C# functions Prelude.lua wraps (redis.call's trampoline, sha1hex, log, setresp, the command check).
/// Each returns values and never raises: a longjmp may not cross .NET frames, so the raising is the
/// prelude's, in Lua.
/// </summary>
internal static unsafe class LuaApi
{
    public static void Push(nint L)
    {
        lua_createtable(L, 0, 12);
        LuaEngine.PushString(L, "call"u8);
        lua_pushboolean(L, 1);
        lua_pushcclosure(L, &Call, 1);
        lua_rawset(L, -3);
        LuaEngine.PushString(L, "pcall"u8);
        lua_pushboolean(L, 0);
        lua_pushcclosure(L, &Call, 1);
        lua_rawset(L, -3);
        Set(L, "sha1hex"u8, &Sha1Hex);
        Set(L, "log"u8, &LogLine);
        Set(L, "setresp"u8, &SetResp);
        Set(L, "set_repl"u8, &SetRepl);
        Set(L, "exists"u8, &Exists);
        Set(L, "take"u8, &Take);
        Set(L, "pcall_lua"u8, &Pcall);
        Set(L, "acl_check_cmd"u8, &AclCheckCmd);
        Set(L, "rawget_through"u8, &RawGetThrough);
        LuaEngine.PushString(L, "version"u8);
        LuaEngine.PushString(L, ServerContext.Version);
        lua_rawset(L, -3);
        LuaEngine.PushString(L, "version_num"u8);
        var v = ServerContext.Version.Split('.');
        lua_pushnumber(L, (int.Parse(v[0]) << 16) | (int.Parse(v[1]) << 8) | int.Parse(v[2]));
        lua_rawset(L, -3);
    }

    private static void Set(nint L, ReadOnlySpan<byte> name, delegate* unmanaged<nint, int> fn)
    {
        LuaEngine.PushString(L, name);
        lua_pushcclosure(L, fn, 0);
        lua_rawset(L, -3);
    }

    /// <summary>Raises <paramref name="message"/> (luaPushError + luaError) from a C# API function.</summary>
    private static int Raise(nint L, string message)
    {
        var e = LuaEngine.Current;
        e.AllowAllocations = true;
        try
        {
            return ScriptCalls.Fail(L, raise: true, message);
        }
        finally { e.AllowAllocations = false; }
    }

    /// <summary>An error handler's first step (see <see cref="LuaEngine.TakePending"/>).</summary>
    [UnmanagedCallersOnly]
    private static int Take(nint L)
    {
        return LuaEngine.Current.TakePending(L);
    }

    [UnmanagedCallersOnly]
    private static int SetRepl(nint L)
    {
        // luaRedisSetReplCommand: checked, then nothing to do (effects always go to the AOF, there are no replicas).
        if (lua_gettop(L) != 1) return Raise(L, "redis.set_repl() requires one argument.");
        int flags = (int)lua_tonumber(L, -1);
        if ((flags & ~3) != 0) return Raise(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int Sha1Hex(nint L)
    {
        if (lua_gettop(L) != 1) return Raise(L, "wrong number of arguments");
        nuint len;
        byte* s = lua_tolstring(L, 1, &len);
        var sha = ScriptCache.Sha1Hex(s == null ? default : new ReadOnlySpan<byte>(s, (int)len));
        LuaEngine.PushString(L, sha);
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int LogLine(nint L)
    {
        var e = LuaEngine.Current;
        int argc = lua_gettop(L);
        if (argc < 2) return Raise(L, "redis.log() requires two arguments or more.");
        if (lua_isnumber(L, 1) == 0) return Raise(L, "First argument must be a number (log level).");
        int level = (int)lua_tonumber(L, 1);
        if (level < 0 || level > 3) return Raise(L, "Invalid debug level.");
        var sb = new StringBuilder();
        for (int j = 2; j <= argc; j++)
        {
            if (lua_isstring(L, j) == 0) continue;
            if (j != 2) sb.Append(' ');
            sb.Append(LuaEngine.ToString(L, j));
        }
        string msg = sb.ToString();
        var log = e.Server?.Log;
        if (log is null) return 0;
        switch (level)
        {
            case 0: case 1: log.Verbose(msg); break;
            case 2: log.Notice(msg); break;
            default: log.Warning(msg); break;
        }
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int SetResp(nint L)
    {
        if (lua_gettop(L) != 1) return Raise(L, "redis.setresp() requires one argument.");
        int resp = (int)lua_tonumber(L, 1);
        if (resp != 2 && resp != 3) return Raise(L, "RESP version must be 2 or 3.");
        var run = LuaEngine.Current.Run;
        if (run is not null) run.Resp = resp;
        return 0;
    }

    /// <summary>
    /// luaRedisPcall: Lua's pcall, an error table answered as its message. lua_pcall from C# is safe: the
    /// raise longjmps to it through native frames only (this frame is below it).
    /// </summary>
    /// <summary>rawget_through(readonly): Lua's rawget, a C function (its errors name the script's line as luaB_rawget's do), that
    /// looks in the table behind a read-only proxy; the map of proxies to tables is its upvalue.</summary>
    [UnmanagedCallersOnly]
    private static int RawGetThrough(nint L)
    {
        lua_settop(L, 1);
        lua_pushcclosure(L, &RawGet, 1);
        return 1;
    }

    [UnmanagedCallersOnly]
    private static int RawGet(nint L)
    {
        // luaB_rawget: luaL_checktype(L, 1, LUA_TTABLE), luaL_checkany(L, 2), lua_settop(L, 2), lua_rawget(L, 1).
        int type = lua_type(L, 1);
        if (type != LUA_TTABLE) return Guarded(L, 1, type);
        if (lua_type(L, 2) == LUA_TNONE) return Guarded(L, 2, LUA_TNONE);
        lua_settop(L, 2);
        lua_pushvalue(L, 1);
        lua_rawget(L, LUA_GLOBALSINDEX - 1); // lua_upvalueindex(1): readonly[t]
        if (lua_type(L, -1) == LUA_TTABLE) lua_replace(L, 1);
        else lua_settop(L, 2);
        lua_rawget(L, 1);
        return 1;

        static int Guarded(nint L, int narg, int type)
        {
            var e = LuaEngine.Current;
            e.AllowAllocations = true;
            try { return narg == 1 ? LuaErrors.TypeError(L, 1, LUA_TTABLE, type) : LuaErrors.ArgError(L, 2, "value expected"); }
            finally { e.AllowAllocations = false; }
        }
    }

    [UnmanagedCallersOnly]
    private static int Pcall(nint L)
    {
        var e = LuaEngine.Current;
        int argc = lua_gettop(L);
        lua_pushboolean(L, 1);
        lua_insert(L, 1);
        int status = lua_pcall(L, argc - 1, LUA_MULTRET, 0);
        // pcall(redis.call, ...): the C# function returned with its raise still pending: that is the error.
        if (status == 0 && e.HasPendingRaise)
        {
            lua_settop(L, 1);
            lua_pushnil(L);
            status = LUA_ERRRUN;
        }
        if (status != 0)
        {
            e.AllowAllocations = true;
            // An error raised from C# (RaiseLater) comes as the hook's message: its table is the error.
            e.TakePendingOnTop(L);
            lua_remove(L, 1);
            if (lua_type(L, -1) == LUA_TTABLE)
            {
                LuaEngine.PushString(L, "err"u8);
                lua_rawget(L, -2);
                if (lua_isstring(L, -1) != 0) lua_replace(L, -2);
                else lua_settop(L, -2);
            }
            lua_pushboolean(L, 0);
            lua_insert(L, 1);
            e.AllowAllocations = false;
        }
        return lua_gettop(L);
    }

    [UnmanagedCallersOnly]
    private static int AclCheckCmd(nint L)
    {
        // luaRedisAclCheckCmdPermissionsCommand: the arguments as redis.call takes them, then the command.
        int argc = lua_gettop(L);
        if (argc == 0) return Raise(L, "Please specify at least one argument for this redis lib call");
        for (int i = 1; i <= argc; i++)
            if (lua_type(L, i) is not (LUA_TNUMBER or LUA_TSTRING)) return Raise(L, "Lua redis lib command arguments must be strings or integers");
        nuint len;
        byte* s = lua_tolstring(L, 1, &len);
        if (CommandTable.Lookup(new ReadOnlySpan<byte>(s, (int)len)) < 0) return Raise(L, "Invalid command passed to redis.acl_check_cmd()");
        lua_settop(L, 0);
        lua_pushboolean(L, 1); // every user may run every command here
        return 1;
    }

    /// <summary>redis.acl_check_cmd: true when the command exists (every user may run every command here), nil when not.</summary>
    [UnmanagedCallersOnly]
    private static int Exists(nint L)
    {
        nuint len;
        byte* s = lua_tolstring(L, 1, &len);
        if (s == null || CommandTable.Lookup(new ReadOnlySpan<byte>(s, (int)len)) < 0) lua_pushnil(L);
        else lua_pushboolean(L, 1);
        return 1;
    }

    /// <summary>redis.call / redis.pcall (luaRedisGenericCommand): returns ok, value.</summary>
    [UnmanagedCallersOnly]
    private static int Call(nint L)
    {
        var e = LuaEngine.Current;
        e.AllowAllocations = true;
        try
        {
            return ScriptCalls.Call(e, L);
        }
        catch (Exception ex)
        {
            lua_settop(L, 0);
            lua_pushboolean(L, 0);
            LuaReplies.PushError(L, "ERR " + ex.Message);
            return 2;
        }
        finally { e.AllowAllocations = false; }
    }
}
