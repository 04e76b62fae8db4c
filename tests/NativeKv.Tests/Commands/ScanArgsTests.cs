using System.Text;
using NativeKv.Server.Commands;

namespace NativeKv.Tests.Commands;

/// <summary>SCAN/HSCAN/SSCAN cursors parse as Redis 7.2's parseScanCursorOrReply (strtoul, no leading space).</summary>
public class ScanArgsTests
{
    [Test]
    [Arguments("0", true, 0UL)]
    [Arguments("", true, 0UL)]
    [Arguments("17", true, 17UL)]
    [Arguments("+5", true, 5UL)]
    [Arguments("007", true, 7UL)]
    [Arguments("-1", true, ulong.MaxValue)]
    [Arguments("-18446744073709551615", true, 1UL)]
    [Arguments("18446744073709551615", true, ulong.MaxValue)]
    [Arguments("18446744073709551616", false, 0UL)]
    [Arguments(" 1", false, 0UL)]
    [Arguments("1 ", false, 0UL)]
    [Arguments("-", false, 0UL)]
    [Arguments("+", false, 0UL)]
    [Arguments("1x", false, 0UL)]
    [Arguments("x", false, 0UL)]
    public async Task Cursor_parses_as_strtoul_does(string text, bool ok, ulong expected)
    {
        bool parsed = ScanArgs.TryParseCursor(Encoding.ASCII.GetBytes(text), out ulong cursor);
        await Assert.That(parsed).IsEqualTo(ok);
        if (ok) await Assert.That(cursor).IsEqualTo(expected);
    }
}
