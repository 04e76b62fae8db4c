using NativeKv.Server.Config;

namespace NativeKv.Tests.Config;

/// <summary>Config file text, command-line options and CONFIG REWRITE, as redis-server reads and writes them.</summary>
public class ConfigLoaderTests
{
    private static string? Load(ServerConfig c, params string[] args) => ConfigLoader.Load(args, c, new StringReader(""));

    [Test]
    public async Task SplitArgs_follows_sdssplitargs()
    {
        await Assert.That(ConfigLoader.SplitArgs("save 900 1")!).IsEquivalentTo(new[] { "save", "900", "1" });
        await Assert.That(ConfigLoader.SplitArgs("  a\t b  ")!).IsEquivalentTo(new[] { "a", "b" });
        await Assert.That(ConfigLoader.SplitArgs("save \"\"")!).IsEquivalentTo(new[] { "save", "" });
        await Assert.That(ConfigLoader.SplitArgs("a \"b c\" 'd e'")!).IsEquivalentTo(new[] { "a", "b c", "d e" });
        await Assert.That(ConfigLoader.SplitArgs("\"\\x41\\n\\t\\\"\"")!).IsEquivalentTo(new[] { "A\n\t\"" });
        await Assert.That(ConfigLoader.SplitArgs("'it\\'s'")!).IsEquivalentTo(new[] { "it's" });
        await Assert.That(ConfigLoader.SplitArgs("'a\\nb'")!).IsEquivalentTo(new[] { "a\\nb" });
        await Assert.That(ConfigLoader.SplitArgs("")!.Count).IsEqualTo(0);
        await Assert.That(ConfigLoader.SplitArgs("\"unterminated")).IsNull();
        await Assert.That(ConfigLoader.SplitArgs("'unterminated")).IsNull();
        await Assert.That(ConfigLoader.SplitArgs("\"a\"b")).IsNull(); // closing quote must be followed by a space
    }

    [Test]
    public async Task File_text_with_comments_quotes_and_aliases()
    {
        var c = new ServerConfig();
        var text = """
            # a comment
               # indented comment

            port 7000
            MAXCLIENTS 50
            requirepass "pa ss"
            hash-max-ziplist-entries 100
            bind 127.0.0.1 ::1
            save 900 1
            save 300 10
            list-max-ziplist-entries 512
            lua-replicate-commands yes
            appendfsync always
            """;
        await Assert.That(ConfigLoader.Apply(text, c)).IsNull();
        await Assert.That(c.Port).IsEqualTo(7000);
        await Assert.That(c.MaxClients).IsEqualTo(50);
        await Assert.That(c.RequirePass).IsEqualTo("pa ss");
        await Assert.That(c.Registry.GetValue("hash-max-listpack-entries")).IsEqualTo("100");
        await Assert.That(c.Bind).IsEquivalentTo(new[] { "127.0.0.1", "::1" });
        // The first save line in a file replaces the defaults, the next ones add to it.
        await Assert.That(c.SaveRules).IsEqualTo("900 1 300 10");
        await Assert.That(c.AppendFsync).IsEqualTo("always");
    }

    [Test]
    public async Task Windows_line_endings_are_accepted()
    {
        var c = new ServerConfig();
        await Assert.That(ConfigLoader.Apply("port 7001\r\nmaxclients 7\r\n", c)).IsNull();
        await Assert.That(c.Port).IsEqualTo(7001);
        await Assert.That(c.MaxClients).IsEqualTo(7);
    }

    [Test]
    public async Task Unknown_directive_names_its_line()
    {
        var c = new ServerConfig();
        var error = ConfigLoader.Apply("# comment\nport 7000\n\nfoo bar\n", c);
        await Assert.That(error).IsNotNull();
        await Assert.That(error!).Contains("*** FATAL CONFIG FILE ERROR");
        await Assert.That(error).Contains("Reading the configuration file, at line 4");
        await Assert.That(error).Contains(">>> 'foo bar'");
        await Assert.That(error).EndsWith("Bad directive or wrong number of arguments");
    }

    [Test]
    public async Task File_errors_carry_the_parameter_reason()
    {
        await Assert.That(ConfigLoader.Apply("maxclients abc", new ServerConfig())!).EndsWith("argument couldn't be parsed into an integer");
        await Assert.That(ConfigLoader.Apply("maxclients 1 2", new ServerConfig())!).EndsWith("wrong number of arguments");
        await Assert.That(ConfigLoader.Apply("loglevel", new ServerConfig())!).EndsWith("wrong number of arguments");
        await Assert.That(ConfigLoader.Apply("save \"900 1", new ServerConfig())!).EndsWith("Unbalanced quotes in configuration line");
        await Assert.That(ConfigLoader.Apply("save 1 2 3", new ServerConfig())!).EndsWith("Invalid save parameters");
        await Assert.That(ConfigLoader.Apply("appendonly maybe", new ServerConfig())!).EndsWith("argument must be 'yes' or 'no'");
        // Immutable parameters are fine at start-up.
        await Assert.That(ConfigLoader.Apply("daemonize no\ndatabases 4\nio-backend epoll", new ServerConfig())).IsNull();
    }

    [Test]
    public async Task Command_line_options_become_lines()
    {
        var c = new ServerConfig();
        await Assert.That(Load(c, "--port", "7000", "--bind", "127.0.0.1", "::1", "--maxmemory", "1gb")).IsNull();
        await Assert.That(c.Port).IsEqualTo(7000);
        await Assert.That(c.Bind).IsEquivalentTo(new[] { "127.0.0.1", "::1" });
        await Assert.That(c.Maxmemory).IsEqualTo(1L << 30);
        await Assert.That(c.ConfigFile).IsNull();
    }

    [Test]
    public async Task Command_line_save_forms()
    {
        var c = new ServerConfig();
        await Assert.That(Load(c, "--save", "")).IsNull();
        await Assert.That(c.SaveRules).IsEqualTo("");

        c = new ServerConfig();
        await Assert.That(Load(c, "--save")).IsNull(); // a bare --save at the end means save ""
        await Assert.That(c.SaveRules).IsEqualTo("");

        c = new ServerConfig();
        await Assert.That(Load(c, "--save", "--port", "7002")).IsNull();
        await Assert.That(c.SaveRules).IsEqualTo("");
        await Assert.That(c.Port).IsEqualTo(7002);

        c = new ServerConfig();
        await Assert.That(Load(c, "--save", "900 1 300 10")).IsNull(); // one argument holding several
        await Assert.That(c.SaveRules).IsEqualTo("900 1 300 10");

        c = new ServerConfig();
        await Assert.That(Load(c, "--save", "60", "1000")).IsNull();
        await Assert.That(c.SaveRules).IsEqualTo("60 1000");
    }

    [Test]
    public async Task Command_line_values_are_quoted_and_names_may_carry_values()
    {
        var c = new ServerConfig();
        await Assert.That(Load(c, "--requirepass", "a \"b\" c", "--port 7003")).IsNull();
        await Assert.That(c.RequirePass).IsEqualTo("a \"b\" c");
        await Assert.That(c.Port).IsEqualTo(7003);

        // An option still waiting for its value takes the next argument even if it starts with "--".
        c = new ServerConfig();
        await Assert.That(Load(c, "--requirepass", "--secret")).IsNull();
        await Assert.That(c.RequirePass).IsEqualTo("--secret");
    }

    [Test]
    public async Task Command_line_errors_use_the_generated_line()
    {
        var error = Load(new ServerConfig(), "--port", "0", "--maxclients", "abc");
        await Assert.That(error!).Contains("at line 3");
        await Assert.That(error!).Contains(">>> 'maxclients \"abc\"'");
        await Assert.That(error!).EndsWith("argument couldn't be parsed into an integer");
        await Assert.That(Load(new ServerConfig(), "--nosuchoption", "1")!).EndsWith("Bad directive or wrong number of arguments");
    }

    [Test]
    public async Task Config_file_then_options_override_it()
    {
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        try
        {
            var file = Path.Combine(dir, "nativekv.conf");
            File.WriteAllText(file, "port 7000\nmaxclients 100\nsave 900 1\n");
            var c = new ServerConfig();
            await Assert.That(Load(c, file, "--port", "7004")).IsNull();
            await Assert.That(c.Port).IsEqualTo(7004);
            await Assert.That(c.MaxClients).IsEqualTo(100);
            await Assert.That(c.SaveRules).IsEqualTo("900 1");
            await Assert.That(c.ConfigFile).IsEqualTo(Path.GetFullPath(file));

            await Assert.That(Load(new ServerConfig(), Path.Combine(dir, "missing.conf")))
                .IsEqualTo($"Fatal error, can't open config file '{Path.Combine(dir, "missing.conf")}': No such file or directory");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Include_reads_other_files()
    {
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "conf.d"));
            File.WriteAllText(Path.Combine(dir, "conf.d", "a.conf"), "maxclients 11\n");
            File.WriteAllText(Path.Combine(dir, "conf.d", "b.conf"), "timeout 5\n");
            File.WriteAllText(Path.Combine(dir, "extra.conf"), "port 7005\n");
            var c = new ServerConfig();
            var text = $"include {Path.Combine(dir, "extra.conf")}\ninclude {Path.Combine(dir, "conf.d", "*.conf")}\ninclude {Path.Combine(dir, "none", "*.conf")}\n";
            await Assert.That(ConfigLoader.Apply(text, c)).IsNull();
            await Assert.That(c.Port).IsEqualTo(7005);
            await Assert.That(c.MaxClients).IsEqualTo(11);
            await Assert.That(c.Timeout).IsEqualTo(5);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Rewrite_keeps_comments_replaces_in_place_and_appends_the_rest()
    {
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        try
        {
            var file = Path.Combine(dir, "nativekv.conf");
            File.WriteAllText(file, "# my config\nport 7000\nsave 900 1\nsave 300 10\nmaxmemory 100mb\nslave-read-only yes\n\n\n# end\n");
            var c = new ServerConfig();
            await Assert.That(Load(c, file, "--dir", dir)).IsNull();
            c.Registry.TryGet("maxmemory", out var p);
            await Assert.That(p.Set("0")).IsNull();
            c.Registry.TryGet("hash-max-ziplist-entries", out p);
            await Assert.That(p.Set("100")).IsNull();
            c.Registry.TryGet("replica-read-only", out p);
            await Assert.That(p.Set("no")).IsNull();
            c.Registry.TryGet("save", out p);
            await Assert.That(p.Set("60 5")).IsNull();
            c.Registry.TryGet("client-output-buffer-limit", out p);
            await Assert.That(p.Set("pubsub 1mb 1mb 0")).IsNull();
            c.Registry.TryGet("notify-keyspace-events", out p);
            await Assert.That(p.Set("Ex")).IsNull();

            await Assert.That(ConfigLoader.Rewrite(file, c.Registry)).IsNull();
            var lines = File.ReadAllLines(file);
            await Assert.That(lines[0]).IsEqualTo("# my config");
            await Assert.That(lines[1]).IsEqualTo("port 7000");
            await Assert.That(lines[2]).IsEqualTo("save 60 5");         // reused the first save line
            await Assert.That(lines[3]).IsEqualTo("");                   // the unused second save line is blanked
            await Assert.That(lines[4]).IsEqualTo("maxmemory 0");        // default now, but it was in the file
            await Assert.That(lines[5]).IsEqualTo("replica-read-only no"); // alias line rewritten under the real name
            await Assert.That(lines).Contains("# end");
            await Assert.That(lines).Contains("# Generated by CONFIG REWRITE");
            await Assert.That(lines).Contains("hash-max-listpack-entries 100");
            await Assert.That(lines).Contains("client-output-buffer-limit pubsub 1mb 1mb 0");
            await Assert.That(lines).DoesNotContain("client-output-buffer-limit normal 0 0 0");
            await Assert.That(lines).Contains("notify-keyspace-events \"xE\"");
            await Assert.That(lines).Contains($"dir {ConfigValues.Repr(Path.GetFullPath(dir))}");
            await Assert.That(lines).DoesNotContain("save 300 10");
            // Runs of blank lines collapse into one.
            await Assert.That(lines.Zip(lines.Skip(1)).Any(pair => pair.First.Length == 0 && pair.Second.Length == 0)).IsFalse();

            // The rewritten file loads back to the same values, and so does a rewrite of that.
            var again = new ServerConfig();
            await Assert.That(Load(again, file)).IsNull();
            foreach (var param in c.Registry.All)
                await Assert.That(again.Registry.GetValue(param.Name)).IsEqualTo(param.Get());
            await Assert.That(ConfigLoader.Rewrite(file, again.Registry)).IsNull();
            var third = new ServerConfig();
            await Assert.That(Load(third, file)).IsNull();
            foreach (var param in c.Registry.All)
                await Assert.That(third.Registry.GetValue(param.Name)).IsEqualTo(param.Get());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public async Task Rewrite_comments_out_unknown_lines()
    {
        var dir = Directory.CreateTempSubdirectory("nativekv-cfg-").FullName;
        try
        {
            var file = Path.Combine(dir, "nativekv.conf");
            File.WriteAllText(file, "port 7000\nsome-removed-option 1\n");
            var c = new ServerConfig();
            await Assert.That(ConfigLoader.Apply("port 7000", c)).IsNull();
            await Assert.That(ConfigLoader.Rewrite(file, c.Registry)).IsNull();
            await Assert.That(File.ReadAllLines(file)).Contains("# ??? some-removed-option 1");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
