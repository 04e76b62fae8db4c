using System.Text;
using NativeKv.Server.Storage;

namespace NativeKv.Tests.Infrastructure;

/// <summary>Writes for the tests that drive a <see cref="Store"/> in-process, without a server.</summary>
public static class StoreWrites
{
    /// <summary>SET <paramref name="key"/> <paramref name="value"/> in database 0 through the session, as a command would.</summary>
    public static unsafe OpStatus Set(StoreSession s, string key, string value)
    {
        var v = Encoding.ASCII.GetBytes(value);
        fixed (byte* p = v)
        {
            var input = new StoreInput { Op = StoreOp.Set, Type = KeyType.String, Data = p, DataLength = v.Length };
            return s.Rmw(0, Encoding.ASCII.GetBytes(key), ref input, out _);
        }
    }
}
