using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// A Lua array kept in the registry and filled again for each script (EVAL's KEYS and ARGV). Whether the last
/// script left it as it was filled is read from the table itself (lobject.h's Table of Lua 5.1.5): no
/// metatable, no hash part, nothing in the array part past the count. The API cannot tell as cheaply: next(t, n)
/// sees every later key only while key n is in the array part, and a rehash can move it out, so it would take a
/// walk over every key. The layout is checked once on tables of known shape (<see cref="LayoutKnown"/>); where it
/// does not hold, nothing is kept.
/// </summary>
internal sealed unsafe class KeptTable
{
    public readonly int Ref;
    /// <summary>Its array part: items past it would go to a hash part (and the table would no longer look untouched).</summary>
    public readonly int Size;
    private int _count;

    public KeptTable(nint L, int size)
    {
        Size = size;
        lua_createtable(L, size, 0);
        Ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }

    // struct Table on x86-64: next, tt, marked, flags, lsizenode, metatable, array, node, lastfree, gclist, sizearray.
    private const int MetatableOffset = 16, ArrayOffset = 24, NodeOffset = 32, SizeArrayOffset = 56;
    // TValue: Value (8 bytes), int tt.
    private const int TValueSize = 16, TypeOffset = 8;
    /// <summary>The node of every table without a hash part (ltable.c's dummynode, one for the library).</summary>
    private static nint _dummyNode;
    private static int _layout; // 0: not checked yet; 1: as above; -1: another layout

    /// <summary>Items 1..n, and nil past them up to the last run's count.</summary>
    public void Refill(nint L, ReadOnlySpan<byte> input, ReadOnlySpan<Protocol.ArgRange> items)
    {
        lua_rawgeti(L, LUA_REGISTRYINDEX, Ref);
        for (int i = 0; i < items.Length; i++)
        {
            LuaEngine.PushString(L, input.Slice(items[i].Offset, items[i].Length));
            lua_rawseti(L, -2, i + 1);
        }
        for (int i = items.Length; i < _count; i++)
        {
            lua_pushnil(L);
            lua_rawseti(L, -2, i + 1);
        }
        _count = items.Length;
        lua_settop(L, -2);
    }

    /// <summary>Whether the table is as <see cref="Refill"/> left it, its values aside.</summary>
    public bool Untouched(nint L)
    {
        lua_rawgeti(L, LUA_REGISTRYINDEX, Ref);
        byte* t = (byte*)lua_topointer(L, -1);
        lua_settop(L, -2);
        return Shaped(t, _count);
    }

    private static bool Shaped(byte* t, int count)
    {
        if (*(nint*)(t + MetatableOffset) != 0 || *(nint*)(t + NodeOffset) != _dummyNode) return false;
        int size = *(int*)(t + SizeArrayOffset);
        if (size < count) return false;
        byte* array = *(byte**)(t + ArrayOffset);
        for (int i = count; i < size; i++)
            if (*(int*)(array + i * TValueSize + TypeOffset) != LUA_TNIL) return false;
        return true;
    }

    public void Drop(nint L) => luaL_unref(L, LUA_REGISTRYINDEX, Ref);

    /// <summary>Whether the linked Lua has the layout above (checked once: every state shares the library).</summary>
    public static bool LayoutKnown(nint L)
    {
        if (_layout == 0) _layout = CheckLayout(L) ? 1 : -1;
        return _layout > 0;
    }

    private static bool CheckLayout(nint L)
    {
        int top = lua_gettop(L);
        try
        {
            // Two empty tables: one dummy node, no array, no metatable.
            lua_createtable(L, 0, 0);
            lua_createtable(L, 0, 0);
            byte* a = (byte*)lua_topointer(L, -2), b = (byte*)lua_topointer(L, -1);
            nint dummy = *(nint*)(a + NodeOffset);
            if (dummy == 0 || dummy != *(nint*)(b + NodeOffset)) return false;
            if (*(int*)(a + SizeArrayOffset) != 0 || *(nint*)(a + MetatableOffset) != 0) return false;
            _dummyNode = dummy; // used only once the whole check has passed
            // An array of 4 with 1..3 set: their numbers in the array part, the 4th nil.
            lua_createtable(L, 4, 0);
            for (int i = 1; i <= 3; i++)
            {
                lua_pushnumber(L, i);
                lua_rawseti(L, -2, i);
            }
            byte* c = (byte*)lua_topointer(L, -1);
            if (*(int*)(c + SizeArrayOffset) != 4 || *(nint*)(c + NodeOffset) != dummy) return false;
            byte* array = *(byte**)(c + ArrayOffset);
            for (int i = 0; i < 3; i++)
                if (*(int*)(array + i * TValueSize + TypeOffset) != LUA_TNUMBER || *(double*)(array + i * TValueSize) != i + 1) return false;
            if (*(int*)(array + 3 * TValueSize + TypeOffset) != LUA_TNIL || !Shaped(c, 3)) return false;
            // A string key gives it a hash part; a metatable shows where it is expected.
            LuaEngine.PushString(L, "k"u8);
            lua_pushnumber(L, 1);
            lua_rawset(L, -3);
            if (*(nint*)(c + NodeOffset) == dummy) return false;
            lua_pushvalue(L, -2);
            lua_setmetatable(L, -2);
            return *(nint*)(c + MetatableOffset) == (nint)b;
        }
        finally { lua_settop(L, top); }
    }
}
