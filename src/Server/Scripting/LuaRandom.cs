using static NativeKv.Interop.Lua;

namespace NativeKv.Server.Scripting;

/// <summary>
/// <c>math.random</c> and <c>math.randomseed</c> as Redis gives them to scripts and functions
/// (script_lua.c redis_math_random, Lua's math_random over rand.c's redisLrand48): the 48-bit linear
/// congruential generator of lrand48, one sequence for the whole server, from lrand48's own start
/// (a fresh redis-server's first <c>math.random(1000000)</c> is 396465), so a script that seeds gets
/// Redis's numbers. Reactors share it through one CAS a draw.
/// </summary>
internal static unsafe class LuaRandom
{
    private const long Multiplier = 0x5DEECE66D, Increment = 0xB, Mask = (1L << 48) - 1;
    private const long Start = 0x1234ABCD330E; // X2 X1 X0
    private const int Max = int.MaxValue; // REDIS_LRAND48_MAX

    private static long s_state = Start;

    /// <summary>Replaces the two functions in the state's <c>math</c> table (before the prelude makes it read-only).</summary>
    public static void Install(nint L)
    {
        fixed (byte* math = "math\0"u8) lua_getfield(L, LUA_GLOBALSINDEX, math);
        Set(L, "random"u8, &Random);
        Set(L, "randomseed"u8, &RandomSeed);
        lua_settop(L, 0);
    }

    private static void Set(nint L, ReadOnlySpan<byte> name, delegate* unmanaged<nint, int> fn)
    {
        LuaEngine.PushString(L, name);
        lua_pushcclosure(L, fn, 0);
        lua_rawset(L, -3);
    }

    /// <summary>redisLrand48: the state's top 31 bits after one step.</summary>
    internal static int Next()
    {
        long x, next;
        do
        {
            x = Volatile.Read(ref s_state);
            next = unchecked(x * Multiplier + Increment) & Mask;
        }
        while (Interlocked.CompareExchange(ref s_state, next, x) != x);
        return (int)(next >> 17);
    }

    /// <summary>redisSrand48: the seed's 32 bits above lrand48's fixed low word.</summary>
    internal static void Seed(int seed) => Volatile.Write(ref s_state, ((long)(uint)seed << 16) | 0x330E);

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static int Random(nint L) => Guarded(L, seed: false);

    [System.Runtime.InteropServices.UnmanagedCallersOnly]
    private static int RandomSeed(nint L) => Guarded(L, seed: true);

    /// <summary>An error's message is a Lua allocation made while C# is on the stack: it may not fail (see <see cref="LuaEngine.AllowAllocations"/>).</summary>
    private static int Guarded(nint L, bool seed)
    {
        var e = LuaEngine.Current;
        e.AllowAllocations = true;
        try
        {
            if (!seed) return RandomCore(L);
            if (CheckInt(L, 1, out int value)) Seed(value);
            return 0;
        }
        finally { e.AllowAllocations = false; }
    }

    private static int RandomCore(nint L)
    {
        // The draw comes first, as in the C: a call that fails on its arguments still moves the sequence.
        double r = (double)(Next() % Max) / Max;
        switch (lua_gettop(L))
        {
            case 0:
                lua_pushnumber(L, r);
                return 1;
            case 1:
            {
                if (!CheckInt(L, 1, out int u)) return 0;
                if (u < 1) return LuaErrors.ArgError(L, 1, "interval is empty");
                lua_pushnumber(L, Math.Floor(r * u) + 1);
                return 1;
            }
            case 2:
            {
                if (!CheckInt(L, 1, out int l) || !CheckInt(L, 2, out int u)) return 0;
                if (l > u) return LuaErrors.ArgError(L, 2, "interval is empty");
                lua_pushnumber(L, Math.Floor(r * unchecked(u - l + 1)) + l); // int arithmetic, as the C's
                return 1;
            }
            default:
                return LuaErrors.Error(L, "wrong number of arguments");
        }
    }

    /// <summary>luaL_checkint: (int)lua_tointeger, the number's 64-bit truncation cut to 32 bits; false after raising its type error.</summary>
    private static bool CheckInt(nint L, int narg, out int value)
    {
        if (!LuaErrors.ToNumber(L, narg, out double n))
        {
            value = 0;
            LuaErrors.TypeError(L, narg, LUA_TNUMBER, lua_type(L, narg));
            return false;
        }
        value = unchecked((int)CConvert.ToInt64(n));
        return true;
    }
}
