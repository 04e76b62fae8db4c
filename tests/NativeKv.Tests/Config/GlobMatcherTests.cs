using System.Text;
using NativeKv.Server.Commands;

namespace NativeKv.Tests.Config;

/// <summary>
/// GlobMatcher against Redis's stringmatchlen. Every expected result below was observed with KEYS on
/// redis-server (one key, one pattern), including the odd corners of unterminated classes.
/// </summary>
public class GlobMatcherTests
{
    private static bool M(string pattern, string text) =>
        GlobMatcher.Match(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text));

    [Test]
    [Arguments("*", "hello", true)]
    [Arguments("h*o", "hello", true)]
    [Arguments("h*o", "hell", false)]
    [Arguments("h?llo", "hello", true)]
    [Arguments("h?llo", "hllo", false)]
    [Arguments("h[ae]llo", "hallo", true)]
    [Arguments("h[ae]llo", "hillo", false)]
    [Arguments("h[^e]llo", "hallo", true)]
    [Arguments("h[^e]llo", "hello", false)]
    [Arguments("h[a-b]llo", "hbllo", true)]
    [Arguments("h[a-b]llo", "hcllo", false)]
    [Arguments("h[b-a]llo", "hallo", true)]
    [Arguments("h\\*llo", "h*llo", true)]
    [Arguments("h\\*llo", "hello", false)]
    [Arguments("h\\?llo", "h?llo", true)]
    [Arguments("a*b", "ab", true)]
    [Arguments("a*b", "axxxb", true)]
    [Arguments("a*b", "axxxbc", false)]
    [Arguments("*b", "b", true)]
    [Arguments("a*", "a", true)]
    [Arguments("a**", "abc", true)]
    [Arguments("**", "", false)]
    [Arguments("?", "", false)]
    [Arguments("[abc", "a", true)]
    [Arguments("[abc", "b", true)]
    [Arguments("[abc", "[", false)]
    [Arguments("[", "[", false)]
    [Arguments("\\", "\\", true)]
    [Arguments("ab\\", "ab\\", true)]
    [Arguments("ab\\", "ab", false)]
    [Arguments("a[\\]]b", "a]b", true)]
    [Arguments("a[\\-]b", "a-b", true)]
    [Arguments("a[b-]c", "a-c", false)]
    [Arguments("a[b-]c", "abc", false)]
    [Arguments("a[-b]c", "a-c", true)]
    [Arguments("[^", "x", true)]
    [Arguments("[^", "^", true)]
    [Arguments("[^]", "x", true)]
    [Arguments("[]]", "]", false)]
    [Arguments("[]a]", "a", false)]
    [Arguments("[a-", "a", true)]
    [Arguments("[a-", "-", true)]
    [Arguments("*[a-z]", "9", false)]
    [Arguments("*[a-z]", "9a", true)]
    [Arguments("foo*bar", "foobar", true)]
    [Arguments("foo*bar", "foo_bar_bar", true)]
    [Arguments("*foo*", "xxfooyy", true)]
    [Arguments("*foo*", "xxfoyy", false)]
    [Arguments("user:?:*", "user:1:name", true)]
    [Arguments("user:?:*", "user:12:name", false)]
    [Arguments("[0-9][0-9]", "42", true)]
    [Arguments("[0-9][0-9]", "4x", false)]
    [Arguments("h[A-Z]llo", "hello", false)]
    [Arguments("HELLO", "hello", false)]
    [Arguments("", "", true)]
    [Arguments("", "a", false)]
    [Arguments("a", "", false)]
    public async Task Matches_like_stringmatchlen(string pattern, string text, bool expected)
    {
        await Assert.That(M(pattern, text)).IsEqualTo(expected);
    }

    [Test]
    [Arguments("HELLO", "hello", true)]
    [Arguments("h[A-Z]llo", "hello", true)]
    [Arguments("h[E]llo", "hello", true)]
    [Arguments("MAXCLIENT?", "maxclients", true)]
    [Arguments("*MEMORY*", "maxmemory-policy", true)]
    [Arguments("h[^E]llo", "hello", false)]
    public async Task Nocase_folds_ascii(string pattern, string text, bool expected)
    {
        await Assert.That(GlobMatcher.MatchNoCase(Encoding.UTF8.GetBytes(pattern), Encoding.UTF8.GetBytes(text))).IsEqualTo(expected);
    }

    [Test]
    public async Task Many_stars_do_not_go_exponential()
    {
        // Redis's keyspace.tcl regression: "Regression for pattern matching long nested loops".
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await Assert.That(M("a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", new string('a', 50))).IsFalse();
        await Assert.That(M("a*a*a*a*a*a*a*a*a*b", new string('a', 45) + "b")).IsTrue();
        await Assert.That(sw.ElapsedMilliseconds).IsLessThan(1000L);
    }

    [Test]
    public async Task Binary_bytes_match_exactly()
    {
        byte[] text = [0, 0xff, (byte)'x'];
        await Assert.That(GlobMatcher.Match([(byte)'?', 0xff, (byte)'*'], text)).IsTrue();
        await Assert.That(GlobMatcher.Match([0, (byte)'?'], text)).IsFalse();
    }

    [Test]
    public async Task IsLiteral_looks_for_the_same_characters_as_redis()
    {
        await Assert.That(GlobMatcher.IsLiteral("maxclients"u8)).IsTrue();
        await Assert.That(GlobMatcher.IsLiteral("max\\clients"u8)).IsTrue();
        await Assert.That(GlobMatcher.IsLiteral("max*"u8)).IsFalse();
        await Assert.That(GlobMatcher.IsLiteral("max?"u8)).IsFalse();
        await Assert.That(GlobMatcher.IsLiteral("[m]ax"u8)).IsFalse();
    }
}
