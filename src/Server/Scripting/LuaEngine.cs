using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NativeKv.Interop;
using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// One reactor's Lua 5.1 state (one per reactor thread, as the design has one state per reactor): the
/// Redis sandbox built by Prelude.lua over the C# functions of <see cref="LuaApi"/>, the scripts it has
/// compiled (a registry reference a script), a counting allocator that refuses past <see cref="MemoryLimit"/>,
/// and the count hook that marks a script BUSY and stops it on SCRIPT KILL.
/// </summary>
public sealed unsafe partial class LuaEngine : IDisposable
{
    /// <summary>What one state may allocate: past it a script fails with "not enough memory", never the server.</summary>
    public const long MemoryLimit = 256L << 20;

    [ThreadStatic] private static LuaEngine? _current;

    private readonly nint _state;
    private readonly Allocation* _alloc;
    private readonly int _generation;
    /// <summary>
    /// luaB_error (Lua's error()), run as a hook: a hook that raises from C unwinds only C frames, where a .NET
    /// hook may not lua_error (longjmp must never cross managed frames). Called as a hook it reads the running
    /// function's first registers as its arguments and raises one of them: the message is never used (a
    /// pending raise brings its own table; a killed or stopped script gets Redis's text).
    /// </summary>
    private nint _errorHook;

    /// <summary>The running script's context, while one runs on this thread.</summary>
    internal ScriptRun? Run;

    /// <summary>The context every script of this thread runs in, one at a time (EVAL is noscript: they never nest).</summary>
    internal readonly ScriptRun Reusable = new();
    /// <summary>The state of this thread, made or made again (after SCRIPT FLUSH) for <paramref name="cache"/>.</summary>
    public static LuaEngine For(ScriptCache cache)
    {
        var e = _current;
        if (e is not null && e._generation == cache.Generation) return e;
        e?.Dispose();
        // Before the constructor is compiled: the JIT binds a SuppressGCTransition entry point when it compiles
        // its caller, so the JIT build's resolver must be in place by then (the AOT binary links Lua in).
        LuaLibrary.Register();
        return _current = new LuaEngine(cache.Generation);
    }

    /// <summary>The engine of the state Lua called back into.</summary>
    internal static LuaEngine Current => _current!;

    public nint State => _state;

    [StructLayout(LayoutKind.Sequential)]
    private struct Allocation
    {
        public long Used;
        public long Limit;
        /// <summary>Nonzero while C# code runs inside the script (redis.call): an allocation there must not fail (a raise would cross .NET frames).</summary>
        public int Managed;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private LuaEngine(int generation)
    {
        _generation = generation;
        _alloc = (Allocation*)NativeMemory.AllocZeroed((nuint)sizeof(Allocation));
        _alloc->Limit = MemoryLimit;
        _alloc->Managed = 1;
        _state = lua_newstate(&Allocate, (nint)_alloc);
        if (_state == 0) throw new OutOfMemoryException("lua_newstate");
        var L = _state;
        // luaLoadLibraries: base, table, string, math, debug, cjson, struct, cmsgpack, bit (struct and cmsgpack in C#).
        luaopen_base(L); lua_settop(L, 0);
        luaopen_table(L); lua_settop(L, 0);
        luaopen_string(L); lua_settop(L, 0);
        luaopen_math(L); lua_settop(L, 0);
        LuaRandom.Install(L); // Redis's math.random and math.randomseed
        luaopen_debug(L); lua_settop(L, 0);
        luaopen_cjson(L); SetGlobal(L, "cjson"u8);
        LuaStruct.Push(L); SetGlobal(L, "struct"u8);
        LuaMsgpack.Push(L); SetGlobal(L, "cmsgpack"u8);
        luaopen_bit(L); SetGlobal(L, "bit"u8);
        lua_settop(L, 0);
        // The hook that raises from C: Lua's own error() (luaB_error), found through the state.
        fixed (byte* k = "error\0"u8) lua_getfield(L, LUA_GLOBALSINDEX, k);
        _errorHook = lua_tocfunction(L, -1);
        lua_settop(L, 0);
        // The prelude, called with the API table and the globals; it returns what C# keeps.
        var prelude = PreludeText;
        fixed (byte* p = prelude)
        fixed (byte* name = "=redis_api\0"u8)
        {
            if (luaL_loadbuffer(L, p, (nuint)prelude.Length, name) != 0) throw new InvalidOperationException("prelude: " + ToString(L, -1));
        }
        LuaApi.Push(L);
        lua_pushvalue(L, LUA_GLOBALSINDEX);
        if (lua_pcall(L, 2, 1, 0) != 0) throw new InvalidOperationException("prelude: " + ToString(L, -1));
        fixed (byte* k = "nativekv_api\0"u8) lua_setfield(L, LUA_REGISTRYINDEX, k);
        lua_settop(L, 0);
        // Every script run reaches these; a registry field by name interns its name again each time (luaS_newlstr
        // and luaH_get were 7% of an EVALSHA of three INCRs), an integer reference is one array slot.
        _handlerRef = Reference("handler\0"u8);
        _argsRef = Reference("args\0"u8);
        _setfenvRef = Reference("setfenv\0"u8);
        _envRef = Reference("env\0"u8);
        _fenvRef = Reference("fenv\0"u8);
        _loadBeginRef = Reference("load_begin\0"u8);
        _loadEndRef = Reference("load_end\0"u8);
        _loadHandlerRef = Reference("load_handler\0"u8);
        lua_pushboolean(L, 0); // false (no raise pending), never nil: a nil slot would be a hole luaL_ref could hand out again
        _pendingRef = luaL_ref(L, LUA_REGISTRYINDEX);
        _alloc->Managed = 0;
    }

    private readonly int _handlerRef, _argsRef, _setfenvRef, _envRef, _pendingRef;

    /// <summary>The compiled scripts of this state (luaCreateFunction's f_&lt;sha&gt;), as registry references.</summary>
    private readonly Dictionary<ScriptEntry, int> _compiled = new(ReferenceEqualityComparer.Instance);

    private int Reference(ReadOnlySpan<byte> apiNameZ)
    {
        PushApi(apiNameZ);
        return luaL_ref(_state, LUA_REGISTRYINDEX);
    }

    private void PushRef(int reference) => lua_rawgeti(_state, LUA_REGISTRYINDEX, reference);

    private static ReadOnlySpan<byte> PreludeText => _prelude ??= LoadPrelude();
    private static byte[]? _prelude;

    private static byte[] LoadPrelude()
    {
        using var s = typeof(LuaEngine).Assembly.GetManifestResourceStream("NativeKv.Server.Scripting.Prelude.lua")
            ?? throw new InvalidOperationException("Prelude.lua is not embedded");
        var bytes = new byte[s.Length];
        s.ReadExactly(bytes);
        return bytes;
    }

    internal static void SetGlobal(nint L, ReadOnlySpan<byte> nameZ)
    {
        // lua_setglobal(L, name) is lua_setfield(L, LUA_GLOBALSINDEX, name), the value on top.
        Span<byte> z = stackalloc byte[nameZ.Length + 1];
        nameZ.CopyTo(z);
        z[^1] = 0;
        fixed (byte* p = z) lua_setfield(L, LUA_GLOBALSINDEX, p);
    }

    internal static string ToString(nint L, int idx)
    {
        nuint len;
        byte* s = lua_tolstring(L, idx, &len);
        return s == null ? "(not a string)" : Encoding.UTF8.GetString(s, (int)len);
    }

    internal static void PushString(nint L, ReadOnlySpan<byte> s)
    {
        fixed (byte* p = s) lua_pushlstring(L, p, (nuint)s.Length);
    }

    internal static void PushString(nint L, string s) => PushString(L, Encoding.UTF8.GetBytes(s));

    /// <summary>Pushes the field <paramref name="nameZ"/> (NUL-terminated) of the prelude's table.</summary>
    private void PushApi(ReadOnlySpan<byte> nameZ)
    {
        fixed (byte* k = "nativekv_api\0"u8) lua_getfield(_state, LUA_REGISTRYINDEX, k);
        fixed (byte* f = nameZ) lua_getfield(_state, -1, f);
        lua_remove(_state, -2);
    }

    /// <summary>
    /// luaCreateFunction: compiles the script into this state unless it is there (registry f_&lt;sha&gt;, the
    /// scripts' read-only environment). Null on success, else Redis's compile error.
    /// </summary>
    public string? Compile(ScriptEntry script)
    {
        var L = _state;
        if (_compiled.ContainsKey(script)) return null;
        {
            _alloc->Managed = 1;
            try
            {
                var code = script.Body.AsSpan(script.CodeStart);
                int status;
                fixed (byte* c = code)
                fixed (byte* chunk = "@user_script\0"u8)
                    status = luaL_loadbuffer(L, c, (nuint)code.Length, chunk);
                if (status != 0)
                {
                    string err = "ERR Error compiling script (new function): " + ToString(L, -1);
                    lua_settop(L, -2);
                    return err;
                }
                // setfenv(f, env): the scripts see the protected globals.
                PushRef(_setfenvRef);
                lua_pushvalue(L, -2);
                PushRef(_envRef);
                lua_call(L, 2, 0);
                _compiled[script] = luaL_ref(L, LUA_REGISTRYINDEX);
                return null;
            }
            finally { _alloc->Managed = 0; }
        }
    }

    /// <summary>
    /// luaCallFunction up to the pcall: KEYS and ARGV set, the hook on, the script run. Leaves on the stack
    /// the handler and the result or error (true when the script failed); the caller converts and pops.
    /// </summary>
    public bool Call(ScriptRun run, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> keys, ReadOnlySpan<Protocol.ArgRange> argv, long busyThreshold)
    {
        var L = _state;
        lua_settop(L, 0);
        _alloc->Managed = 1;
        PushRef(_handlerRef);
        PushRef(_compiled[run.Script]);
        int nargs = 0;
        if (run.Function is not null)
        {
            // A function gets KEYS and ARGV as its two arguments (luaCallFunction outside eval mode).
            PushArray(L, input, keys);
            PushArray(L, input, argv);
            nargs = 2;
        }
        else SetKeysAndArgv(input, keys, argv);
        Run = run;
        _hookMarked = false;
        _stopping = false;
        _threshold = busyThreshold;
        ClearPending(L);
        RestoreHook();
        _alloc->Managed = 0;
        int err = lua_pcall(L, nargs, 1, 1);
        _alloc->Managed = 1;
        lua_sethook(L, 0, 0, 0);
        Run = null;
        // luaCallFunction's GC step every 50 scripts.
        if (++_gcCount == 50)
        {
            lua_gc(L, LUA_GCSTEP, 50);
            _gcCount = 0;
        }
        return err != 0;
    }

    private int _gcCount;
    private bool _hookMarked;

    /// <summary>After the caller converted the result: the stack is emptied and allocations may fail again.</summary>
    public void EndCall()
    {
        lua_settop(_state, 0);
        _alloc->Managed = 0;
    }

    // KEYS and ARGV of EVAL: two tables kept across scripts and filled again (Redis makes new ones a run; making,
    // setting and collecting them was ~5% of an EVALSHA of three INCRs). A script cannot tell: the run is over
    // before the next begins, and no script can keep a reference (the globals and libraries are read-only).
    // A table a script changed beyond its values (KeptTable.Untouched) is dropped for a new one; arrays past
    // KeptItems are made for their run alone, as before.
    private KeptTable? _keys, _argv;
    private bool _keptInstalled;
    private const int KeptItems = 64;

    private void SetKeysAndArgv(ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> keys, ReadOnlySpan<Protocol.ArgRange> argv)
    {
        var L = _state;
        if (keys.Length > KeptItems || argv.Length > KeptItems || !KeptTable.LayoutKnown(L))
        {
            PushRef(_argsRef);
            PushArray(L, input, keys);
            PushArray(L, input, argv);
            lua_call(L, 2, 0);
            _keptInstalled = false;
            return;
        }
        // Sized to what the scripts pass (the check reads the array part past the items: 64 slots were 1% of an EVALSHA).
        if (_keys is not null && (keys.Length > _keys.Size || argv.Length > _argv!.Size
                                  || (_keptInstalled && !(_keys.Untouched(L) && _argv.Untouched(L)))))
        {
            int keysSize = Grown(_keys.Size, keys.Length), argvSize = Grown(_argv!.Size, argv.Length);
            _keys.Drop(L);
            _argv.Drop(L);
            _keys = new KeptTable(L, keysSize);
            _argv = new KeptTable(L, argvSize);
            _keptInstalled = false;
        }
        if (!_keptInstalled)
        {
            _keys ??= new KeptTable(L, Math.Max(4, keys.Length));
            _argv ??= new KeptTable(L, Math.Max(4, argv.Length));
            PushRef(_argsRef);
            PushRef(_keys.Ref);
            PushRef(_argv.Ref);
            lua_call(L, 2, 0);
            _keptInstalled = true;
        }
        _keys!.Refill(L, input, keys);
        _argv!.Refill(L, input, argv);
    }

    private static int Grown(int size, int needed) => needed <= size ? size : Math.Min(KeptItems, Math.Max(needed, size * 2));

    private static void PushArray(nint L, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> items)
    {
        lua_createtable(L, items.Length, 0);
        for (int i = 0; i < items.Length; i++)
        {
            PushString(L, input.Slice(items[i].Offset, items[i].Length));
            lua_rawseti(L, -2, i + 1);
        }
    }

    /// <summary>
    /// Makes the running script stop at its next instruction, whatever pcall it is in (as Redis's kill hook
    /// turns itself into a line hook): the hook becomes Lua's error() itself, raising from C.
    /// </summary>
    internal void StopScript()
    {
        _stopping = true;
        lua_sethook(_state, _errorHook, LUA_MASKCOUNT | LUA_MASKLINE, 1);
    }

    private bool _stopping;
    private long _threshold;

    private void ClearPending(nint L)
    {
        lua_pushboolean(L, 0);
        lua_rawseti(L, LUA_REGISTRYINDEX, _pendingRef);
        _pendingLine = 0;
    }

    /// <summary>
    /// Raises the error on top of the stack (a table, or a string as luaL_error raises) in the script, from C: a C# function returns, and the
    /// script's next instruction runs the error() hook, in the script's own frame (so the error names its
    /// line even after a tail call). The handler (or pcall's) swaps the hook's message for this table
    /// (<see cref="TakePending"/>) and puts the count hook back.
    /// </summary>
    internal void RaiseLater(nint L)
    {
        lua_rawseti(L, LUA_REGISTRYINDEX, _pendingRef);
        RecordRaiseLine(L);
        if (!_stopping) lua_sethook(L, _errorHook, LUA_MASKCOUNT, 1);
    }

    /// <summary>
    /// Where the raise belongs, as the handler would find it were the C# function raising itself: the first caller
    /// that is neither C nor the prelude. The hook raises at the script's next instruction, maybe a line later.
    /// </summary>
    private void RecordRaiseLine(nint L)
    {
        _pendingLine = 0;
        lua_Debug ar;
        for (int level = 1; lua_getstack(L, level, &ar) != 0; level++)
        {
            fixed (byte* what = "Sl\0"u8) lua_getinfo(L, what, &ar);
            var kind = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(ar.what);
            var source = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(ar.source);
            if (kind.SequenceEqual("C"u8) || source.SequenceEqual("=redis_api"u8)) continue;
            _pendingSource = source.ToArray();
            _pendingLine = ar.currentline;
            return;
        }
    }

    private byte[]? _pendingSource;
    private int _pendingLine;

    /// <summary>The count hook, or none when busy-reply-threshold is 0 (scriptInterrupt is then never called either).</summary>
    private void RestoreHook()
    {
        if (_stopping) return;
        if (_threshold > 0) lua_sethook(_state, (nint)(delegate* unmanaged<nint, nint, void>)&CountHook, LUA_MASKCOUNT, 100000);
        else lua_sethook(_state, 0, 0, 0);
    }

    /// <summary>
    /// An error handler's first step: the error raised by <see cref="RaiseLater"/> becomes its table (pushed);
    /// any other error stays what it is. Runs inside the raise (hooks are off), so it can put the hook back.
    /// </summary>
    /// <returns>The values pushed: the error, then the source and line it was raised at when it was raised from C#.</returns>
    internal int TakePending(nint L)
    {
        lua_pushvalue(L, 1);
        int line = _pendingLine;
        var source = _pendingSource;
        if (!TakePendingOnTop(L) || line <= 0 || source is null) return 1;
        PushString(L, source);
        lua_pushnumber(L, line);
        return 3;
    }

    /// <summary>A C# function asked for a raise that has not happened yet (no Lua instruction ran since).</summary>
    internal bool HasPendingRaise
    {
        get
        {
            lua_rawgeti(_state, LUA_REGISTRYINDEX, _pendingRef);
            bool pending = lua_type(_state, -1) != LUA_TBOOLEAN;
            lua_settop(_state, -2);
            return pending;
        }
    }

    /// <summary><see cref="TakePending"/> for the error on top of the stack (replaced, or left).</summary>
    internal bool TakePendingOnTop(nint L)
    {
        lua_rawgeti(L, LUA_REGISTRYINDEX, _pendingRef);
        if (lua_type(L, -1) == LUA_TBOOLEAN)
        {
            lua_settop(L, -2);
            return false;
        }
        lua_replace(L, -2);
        ClearPending(L);
        RestoreHook();
        return true;
    }

    internal bool AllowAllocations
    {
        set => _alloc->Managed = value ? 1 : 0;
    }

    internal ServerContext? Server;

    [UnmanagedCallersOnly]
    private static void CountHook(nint L, nint ar)
    {
        var e = _current;
        var run = e?.Run;
        if (run is null || e!.Server is null) return;
        // scriptInterrupt: past the threshold the other clients get BUSY; SCRIPT KILL stops the script.
        if (!run.TimedOut && run.ElapsedMs >= e.Server.Config.BusyReplyThreshold)
        {
            e.Server.Log.Warning($"Slow script detected: still in execution after {run.ElapsedMs} milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: {run.Script.Sha}.");
            Scripts.Running.MarkTimedOut(run);
        }
        if (run.Killed && !e._hookMarked)
        {
            e._hookMarked = true;
            e.Server.Log.Notice("Lua script killed by user with SCRIPT KILL.");
            e.StopScript();
        }
    }

    [UnmanagedCallersOnly]
    private static nint Allocate(nint ud, nint ptr, nuint osize, nuint nsize)
    {
        var a = (Allocation*)ud;
        if (nsize == 0)
        {
            if (ptr != 0)
            {
                NativeMemory.Free((void*)ptr);
                a->Used -= (long)osize;
            }
            return 0;
        }
        long grow = (long)nsize - (ptr == 0 ? 0 : (long)osize);
        // Refusing lets Lua raise "not enough memory" inside the script; never while C# is on the stack.
        if (grow > 0 && a->Managed == 0 && a->Used + grow > a->Limit) return 0;
        void* p = NativeMemory.Realloc((void*)ptr, nsize);
        if (p == null) return 0;
        a->Used += grow;
        return (nint)p;
    }

    public long MemoryUsed => _alloc->Used;

    public void Dispose()
    {
        lua_close(_state);
        NativeMemory.Free(_alloc);
    }
}
