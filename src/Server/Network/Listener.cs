using System.Net;
using NativeKv.Interop;

namespace NativeKv.Server.Network;

/// <summary>A listening TCP socket on one address.</summary>
public sealed unsafe class Listener : IDisposable
{
    private Listener(int fd, string address, int port)
    {
        Fd = fd;
        Address = address;
        Port = port;
    }

    public int Fd { get; }
    public string Address { get; }
    public int Port { get; }

    /// <summary>Binds and listens; errors name the address ("127.0.0.1:6379: Address already in use").</summary>
    public static Listener Open(string address, int port, int backlog)
    {
        string host = address switch
        {
            "*" => "0.0.0.0",
            "::*" => "::",
            _ => address,
        };
        if (!IPAddress.TryParse(host, out var ip))
            throw new NativeException($"Could not create server TCP listening socket {address}:{port}: Invalid address", 0);
        int family = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? LibC.AF_INET6 : LibC.AF_INET;
        int fd = LibC.Socket(family, LibC.SOCK_STREAM | LibC.SOCK_NONBLOCK | LibC.SOCK_CLOEXEC, 0);
        if (fd < 0) throw Failure(address, port, "socket");
        int one = 1;
        LibC.SetSockOpt(fd, LibC.SOL_SOCKET, LibC.SO_REUSEADDR, &one, sizeof(int));
        if (family == LibC.AF_INET6) LibC.SetSockOpt(fd, LibC.IPPROTO_IPV6, LibC.IPV6_V6ONLY, &one, sizeof(int));
        int len = SockAddrStorage.FromEndPoint(ip, port, out var sa);
        if (LibC.Bind(fd, &sa, len) < 0)
        {
            var ex = Failure(address, port, "bind");
            LibC.Close(fd);
            throw ex;
        }
        if (LibC.Listen(fd, backlog) < 0)
        {
            var ex = Failure(address, port, "listen");
            LibC.Close(fd);
            throw ex;
        }
        // Port 0 asks the kernel for one; report the one it picked.
        SockAddrStorage bound;
        int blen = sizeof(SockAddrStorage);
        LibC.GetSockName(fd, &bound, &blen);
        return new Listener(fd, address, bound.Port);
    }

    private static NativeException Failure(string address, int port, string call)
    {
        int e = Errno.Last;
        return new NativeException($"Could not create server TCP listening socket {address}:{port}: {call}: {Errno.Describe(e)}", e);
    }

    public void Dispose() => LibC.Close(Fd);
}
