using System.Runtime.InteropServices;

namespace NativeKv.Interop;

/// <summary>
/// The PUC Lua 5.1 C API (Debian's liblua5.1, plus lua-cjson and lua-bitop), as Redis embeds it. Linked
/// statically into the AOT binary (DirectPInvoke "lua51"); the JIT build finds the shared libraries
/// through <see cref="LuaLibrary"/>. Only entry points: the macros of lua.h are written out in C# by
/// their callers (lua_pop is lua_settop(L, -n-1) and so on).
/// </summary>
public static unsafe partial class Lua
{
    internal const string Lib = "lua51";
    internal const string CjsonLib = "lua51cjson";
    internal const string BitLib = "lua51bit";

    public const int LUA_REGISTRYINDEX = -10000;
    public const int LUA_GLOBALSINDEX = -10002;
    public const int LUA_MULTRET = -1;

    public const int LUA_TNONE = -1, LUA_TNIL = 0, LUA_TBOOLEAN = 1, LUA_TLIGHTUSERDATA = 2, LUA_TNUMBER = 3,
        LUA_TSTRING = 4, LUA_TTABLE = 5, LUA_TFUNCTION = 6, LUA_TUSERDATA = 7, LUA_TTHREAD = 8;

    public const int LUA_ERRRUN = 2, LUA_ERRSYNTAX = 3, LUA_ERRMEM = 4, LUA_ERRERR = 5;

    public const int LUA_MASKCALL = 1, LUA_MASKRET = 2, LUA_MASKLINE = 4, LUA_MASKCOUNT = 8;

    public const int LUA_GCSTOP = 0, LUA_GCRESTART = 1, LUA_GCCOLLECT = 2, LUA_GCCOUNT = 3, LUA_GCCOUNTB = 4, LUA_GCSTEP = 5;

    // SuppressGCTransition: the entry points that never allocate, raise or run Lua code (so never reach the C#
    // allocator, hook or functions), called tens of times a script: the GC-mode switch of a call was 3.7% of an
    // EVALSHA of three INCRs. Anything that may allocate (a push of a string, a table set, tolstring of a
    // number, checkstack) keeps the transition: a reverse P/Invoke from a call without one fails.

    // --- state ---------------------------------------------------------------------------------
    [LibraryImport(Lib)] public static partial nint lua_newstate(delegate* unmanaged<nint, nint, nuint, nuint, nint> alloc, nint ud);
    [LibraryImport(Lib)] public static partial void lua_close(nint L);
    [LibraryImport(Lib)] public static partial int lua_gc(nint L, int what, int data);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_sethook(nint L, nint hook, int mask, int count);

    // --- stack ---------------------------------------------------------------------------------
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_gettop(nint L);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_settop(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushvalue(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_remove(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_insert(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_replace(nint L, int idx);
    [LibraryImport(Lib)] public static partial int lua_checkstack(nint L, int sz);

    // --- access --------------------------------------------------------------------------------
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_type(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isnumber(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isstring(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial double lua_tonumber(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_toboolean(nint L, int idx);
    [LibraryImport(Lib)] public static partial byte* lua_tolstring(nint L, int idx, nuint* len);
    /// <summary>lua_tolstring of a value known to be a string (a number would be converted: an allocation).</summary>
    [LibraryImport(Lib, EntryPoint = "lua_tolstring"), SuppressGCTransition] public static partial byte* lua_tostringbytes(nint L, int idx, nuint* len);
    [LibraryImport(Lib)] public static partial nuint lua_objlen(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void* lua_touserdata(nint L, int idx);

    // --- push ----------------------------------------------------------------------------------
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushnil(nint L);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushnumber(nint L, double n);
    [LibraryImport(Lib)] public static partial void lua_pushlstring(nint L, byte* s, nuint len);
    [LibraryImport(Lib)] public static partial void lua_pushcclosure(nint L, delegate* unmanaged<nint, int> fn, int n);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushboolean(nint L, int b);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushlightuserdata(nint L, void* p);

    // --- tables --------------------------------------------------------------------------------
    [LibraryImport(Lib)] public static partial void lua_gettable(nint L, int idx);
    [LibraryImport(Lib)] public static partial void lua_getfield(nint L, int idx, byte* k);
    [LibraryImport(Lib)] public static partial void lua_rawget(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_rawgeti(nint L, int idx, int n);
    [LibraryImport(Lib)] public static partial void lua_createtable(nint L, int narr, int nrec);
    [LibraryImport(Lib)] public static partial void lua_settable(nint L, int idx);
    [LibraryImport(Lib)] public static partial void lua_setfield(nint L, int idx, byte* k);
    [LibraryImport(Lib)] public static partial void lua_rawset(nint L, int idx);
    [LibraryImport(Lib)] public static partial void lua_rawseti(nint L, int idx, int n);
    [LibraryImport(Lib)] public static partial int luaL_ref(nint L, int t);
    [LibraryImport(Lib)] public static partial void luaL_unref(nint L, int t, int @ref);
    [LibraryImport(Lib)] public static partial int lua_setmetatable(nint L, int idx);
    [LibraryImport(Lib)] public static partial int lua_next(nint L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void* lua_topointer(nint L, int idx);

    // --- calls ---------------------------------------------------------------------------------
    [LibraryImport(Lib)] public static partial int lua_pcall(nint L, int nargs, int nresults, int errfunc);
    [LibraryImport(Lib)] public static partial void lua_call(nint L, int nargs, int nresults);
    [LibraryImport(Lib)] public static partial int luaL_loadbuffer(nint L, byte* buff, nuint sz, byte* name);

    // --- libraries -----------------------------------------------------------------------------
    [LibraryImport(Lib)] public static partial int luaopen_base(nint L);
    [LibraryImport(Lib)] public static partial int luaopen_table(nint L);
    [LibraryImport(Lib)] public static partial int luaopen_string(nint L);
    [LibraryImport(Lib)] public static partial int luaopen_math(nint L);
    [LibraryImport(Lib)] public static partial int luaopen_debug(nint L);
    [LibraryImport(CjsonLib)] public static partial int luaopen_cjson(nint L);
    [LibraryImport(BitLib)] public static partial int luaopen_bit(nint L);

    [LibraryImport(Lib)] public static partial nint lua_tocfunction(nint L, int idx);

    // --- debug (luaL_where and luaL_argerror's names, written out in C# by the callers) -----------
    [LibraryImport(Lib)] public static partial int lua_getstack(nint L, int level, lua_Debug* ar);
    [LibraryImport(Lib)] public static partial int lua_getinfo(nint L, byte* what, lua_Debug* ar);

    public const int LUA_IDSIZE = 60;

    /// <summary>lua.h's lua_Debug (5.1, LUA_IDSIZE 60): the public part, then i_ci.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct lua_Debug
    {
        public int @event;
        public byte* name;
        public byte* namewhat;
        public byte* what;
        public byte* source;
        public int currentline;
        public int nups;
        public int linedefined;
        public int lastlinedefined;
        public fixed byte short_src[LUA_IDSIZE];
        public int i_ci;
    }
}
