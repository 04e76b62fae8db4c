using System.Net;
using System.Text;
using NativeKv.Interop;
using NativeKv.Server.Network;

namespace NativeKv.Tests.Network;

/// <summary>The protected-mode decision (Redis 7.2's clientAcceptHandler), address by address.</summary>
public class ProtectedModeTests
{
    private static SockAddrStorage Peer(string ip)
    {
        SockAddrStorage.FromEndPoint(IPAddress.Parse(ip), 50000, out var sa);
        return sa;
    }

    [Test]
    [Arguments("127.0.0.1")]
    [Arguments("127.255.3.4")]
    [Arguments("::1")]
    public async Task Loopback_is_served_even_without_a_password(string ip)
    {
        await Assert.That(ProtectedMode.IsLocal(Peer(ip))).IsTrue();
        await Assert.That(ProtectedMode.Refuses(protectedMode: true, defaultUserHasPassword: false, Peer(ip))).IsFalse();
    }

    [Test]
    [Arguments("10.1.2.3")]
    [Arguments("192.168.0.1")]
    [Arguments("128.0.0.1")]
    [Arguments("126.255.255.255")]
    [Arguments("0.0.0.0")]
    [Arguments("::2")]
    [Arguments("fe80::1")]
    [Arguments("::ffff:127.0.0.1")]
    [Arguments("2001:db8::1")]
    public async Task Other_peers_are_refused_only_with_protected_mode_and_no_password(string ip)
    {
        var peer = Peer(ip);
        await Assert.That(ProtectedMode.IsLocal(peer)).IsFalse();
        await Assert.That(ProtectedMode.Refuses(true, false, peer)).IsTrue();
        await Assert.That(ProtectedMode.Refuses(true, true, peer)).IsFalse();
        await Assert.That(ProtectedMode.Refuses(false, false, peer)).IsFalse();
        await Assert.That(ProtectedMode.Refuses(false, true, peer)).IsFalse();
    }

    [Test]
    public async Task A_unix_socket_is_local()
    {
        var peer = default(SockAddrStorage);
        peer.Family = LibC.AF_UNIX;
        await Assert.That(ProtectedMode.Refuses(true, false, peer)).IsFalse();
    }

    [Test]
    public async Task Denied_text_is_redis_7_2s()
    {
        var text = Encoding.ASCII.GetString(ProtectedMode.Denied);
        await Assert.That(text).StartsWith("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ");
        await Assert.That(text).EndsWith("in order for the server to start accepting connections from the outside.\r\n");
        await Assert.That(ProtectedMode.Denied.Length).IsEqualTo(1066);
        await Assert.That(text.IndexOf('\r')).IsEqualTo(text.Length - 2);
    }
}
