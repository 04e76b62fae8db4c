using System.Net;
using System.Runtime.InteropServices;

namespace NativeKv.Interop;

/// <summary>sockaddr_in / sockaddr_in6 built and read by hand (big-endian port, raw bytes).</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
public unsafe struct SockAddrStorage
{
    public ushort Family;

    public static int FromEndPoint(IPAddress address, int port, out SockAddrStorage storage)
    {
        storage = default;
        byte* p = (byte*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref storage);
        p[2] = (byte)(port >> 8);
        p[3] = (byte)port;
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            storage.Family = LibC.AF_INET6;
            address.TryWriteBytes(new Span<byte>(p + 8, 16), out _);
            *(uint*)(p + 24) = (uint)address.ScopeId;
            return 28;
        }
        storage.Family = LibC.AF_INET;
        address.TryWriteBytes(new Span<byte>(p + 4, 4), out _);
        return 16;
    }

    /// <summary>"ip:port" as Redis prints it in CLIENT LIST (IPv6 without brackets).</summary>
    public readonly string Format()
    {
        fixed (SockAddrStorage* self = &this)
        {
            byte* p = (byte*)self;
            int port = (p[2] << 8) | p[3];
            if (Family == LibC.AF_INET6)
            {
                var ip = new IPAddress(new ReadOnlySpan<byte>(p + 8, 16));
                if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
                return $"{ip}:{port}";
            }
            if (Family == LibC.AF_INET)
                return $"{new IPAddress(new ReadOnlySpan<byte>(p + 4, 4))}:{port}";
            return "/unixsocket:0";
        }
    }

    public readonly int Port
    {
        get
        {
            fixed (SockAddrStorage* self = &this)
            {
                byte* p = (byte*)self;
                return (p[2] << 8) | p[3];
            }
        }
    }
}
