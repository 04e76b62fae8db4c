using NativeKv.Interop;

namespace NativeKv.Server.Network;

/// <summary>
/// protected-mode, decided as Redis 7.2's clientAcceptHandler: with protected-mode yes and no
/// password for the default user (requirepass empty; there are no other ACL users), only local
/// peers are served (connSocketIsLocal: the peer address starts "127." or is "::1"; a Unix
/// socket is local). bind does not matter since 7.0 (6.2 skipped the check when bind was set).
/// CONFIG SET protected-mode applies to the next connection: MODIFIABLE_CONFIG in Redis too.
/// </summary>
public static unsafe class ProtectedMode
{
    /// <summary>Redis's text, byte for byte (networking.c), sent before the connection is closed.</summary>
    public static ReadOnlySpan<byte> Denied =>
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"u8;

    /// <summary>True when a connection from <paramref name="peer"/> must get <see cref="Denied"/> and be closed.</summary>
    public static bool Refuses(bool protectedMode, bool defaultUserHasPassword, in SockAddrStorage peer) =>
        protectedMode && !defaultUserHasPassword && !IsLocal(peer);

    /// <summary>
    /// 127.0.0.0/8, ::1 or a Unix socket. An IPv4-mapped ::ffff:127.x is not: Redis compares the
    /// text "::ffff:127..."; our IPv6 listeners are V6ONLY, so none arrives anyway.
    /// </summary>
    public static bool IsLocal(in SockAddrStorage peer)
    {
        fixed (SockAddrStorage* self = &peer)
        {
            byte* p = (byte*)self;
            switch (peer.Family)
            {
                case LibC.AF_UNIX:
                    return true;
                case LibC.AF_INET:
                    return p[4] == 127; // sin_addr at offset 4, network order
                case LibC.AF_INET6:
                    var addr = new ReadOnlySpan<byte>(p + 8, 16); // sin6_addr at offset 8
                    return addr[..15].IndexOfAnyExcept((byte)0) < 0 && addr[15] == 1;
                default:
                    return false;
            }
        }
    }
}
