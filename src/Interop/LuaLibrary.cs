using System.Reflection;
using System.Runtime.InteropServices;

namespace NativeKv.Interop;

/// <summary>
/// Where the JIT build finds Lua: Debian's shared libraries (liblua5.1.so.0, liblua5.1-cjson.so.0,
/// liblua5.1-bitop.so.0). The AOT binary links the static ones (DirectPInvoke) and never asks.
/// </summary>
public static partial class LuaLibrary
{
    private const int RTLD_NOW = 2, RTLD_GLOBAL = 0x100;

    // liblua5.1-cjson.so.0 and -bitop.so.0 do not name liblua as a dependency: they need its symbols global.
    [LibraryImport("libc", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int flags);

    private static int _registered;
    private static nint _lua;

    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) != 0) return;
        // Only asked when the libraries are not linked in (the JIT build): the AOT binary never loads these.
        NativeLibrary.SetDllImportResolver(typeof(Lua).Assembly, Resolve);
    }

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name is Lua.Lib or Lua.CjsonLib or Lua.BitLib && _lua == 0)
            _lua = DlOpen("liblua5.1.so.0", RTLD_NOW | RTLD_GLOBAL); // global: cjson and bit resolve against it
        if (name == Lua.Lib) return _lua;
        string? file = name switch
        {
            Lua.CjsonLib => "liblua5.1-cjson.so.0",
            Lua.BitLib => "liblua5.1-bitop.so.0",
            _ => null,
        };
        if (file is null) return 0; // libc and the others: the default search
        return NativeLibrary.TryLoad(file, out var handle) ? handle : 0;
    }
}
