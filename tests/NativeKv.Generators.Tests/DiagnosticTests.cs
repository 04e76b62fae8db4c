using Microsoft.CodeAnalysis;

namespace NativeKv.Generators.Tests;

public class DiagnosticTests
{
    private static string Handler(string attribute, string signature = "internal static void M(ref CommandContext ctx) { }") =>
        $$"""
        using NativeKv.Server.Commands;
        namespace Bad;
        internal static class BadCommands
        {
            {{attribute}}
            {{signature}}
        }
        """;

    private static string[] Ids(Harness.Result r) => r.GeneratorDiagnostics.Select(d => d.Id).ToArray();

    private static async Task AssertOnly(Harness.Result r, string id, int count = 1)
    {
        await Assert.That(string.Join(",", Ids(r))).IsEqualTo(string.Join(",", Enumerable.Repeat(id, count)));
        foreach (Diagnostic d in r.GeneratorDiagnostics)
        {
            await Assert.That(d.Severity).IsEqualTo(DiagnosticSeverity.Error);
            await Assert.That(d.Location).IsNotEqualTo(Location.None);
            await Assert.That(d.Location.GetLineSpan().Path).StartsWith("User");
        }
    }

    [Test]
    public async Task GoodInput_HasNoDiagnostics()
    {
        Harness.Result r = Harness.Run(Samples.Good);
        await Assert.That(Ids(r).Length).IsEqualTo(0);
    }

    [Test]
    public async Task NKV001_DuplicateName_CaseInsensitive()
    {
        Harness.Result r = Harness.Run(Samples.Containers, Samples.Handlers, Handler("[RespCommand(\"get\", Arity = 2)]"));
        await AssertOnly(r, "NKV001");
        await Assert.That(r.GeneratorDiagnostics[0].GetMessage()).Contains("'get'");
    }

    [Test]
    public async Task NKV001_DuplicateAliasOnSameMethod()
    {
        await AssertOnly(Harness.Run(Handler("[RespCommand(\"PING\", Arity = -1)][RespCommand(\"Ping\", Arity = -1)]")), "NKV001");
    }

    [Test]
    public async Task NKV001_DuplicateSubcommand_And_ContainerVsHandler()
    {
        await AssertOnly(Harness.Run(Samples.Containers, Samples.Handlers, Handler("[RespCommand(\"client|LIST\", Arity = -2)]")), "NKV001");
        await AssertOnly(Harness.Run(Samples.Containers, Samples.Handlers, Handler("[RespCommand(\"CLIENT\", Arity = -2)]")), "NKV001");
        await AssertOnly(Harness.Run(Samples.Containers, Samples.Handlers, "[assembly: NativeKv.Server.Commands.RespContainer(\"config\")]"), "NKV001");
    }

    [Test]
    [Arguments("static void M(ref CommandContext ctx) { }")]                            // private (no modifier)
    [Arguments("private static void M(ref CommandContext ctx) { }")]
    [Arguments("internal void M(ref CommandContext ctx) { }")]                          // not static (in a non-static class below)
    [Arguments("internal static int M(ref CommandContext ctx) => 0;")]                  // not void
    [Arguments("internal static void M(CommandContext ctx) { }")]                       // not ref
    [Arguments("internal static void M(in CommandContext ctx) { }")]                    // in, not ref
    [Arguments("internal static void M(ref CommandContext ctx, int x) { }")]            // two parameters
    [Arguments("internal static void M() { }")]                                         // no parameter
    [Arguments("internal static void M(ref int ctx) { }")]                              // wrong type
    [Arguments("internal static void M<T>(ref CommandContext ctx) { }")]                // generic
    public async Task NKV002_BadSignature(string signature)
    {
        string source = $$"""
            using NativeKv.Server.Commands;
            namespace Bad;
            internal class BadCommands
            {
                [RespCommand("PING", Arity = -1)]
                {{signature}}
            }
            """;
        Harness.Result r = Harness.Run(source);
        await AssertOnly(r, "NKV002");
        await Assert.That(r.GeneratorDiagnostics[0].GetMessage()).Contains("BadCommands.M");
    }

    [Test]
    public async Task NKV002_InaccessibleOrGenericContainingType()
    {
        await AssertOnly(Harness.Run(
            """
            using NativeKv.Server.Commands;
            internal static class Outer
            {
                private static class Inner
                {
                    [RespCommand("PING", Arity = -1)] internal static void M(ref CommandContext ctx) { }
                }
            }
            """), "NKV002");
        await AssertOnly(Harness.Run(
            """
            using NativeKv.Server.Commands;
            internal static class Generic<T>
            {
                [RespCommand("PING", Arity = -1)] internal static void M(ref CommandContext ctx) { }
            }
            """), "NKV002");
        await AssertOnly(Harness.Run(
            """
            using NativeKv.Server.Commands;
            file static class Local
            {
                [RespCommand("PING", Arity = -1)] internal static void M(ref CommandContext ctx) { }
            }
            """), "NKV002");
    }

    [Test]
    public async Task NKV002_AcceptsPublicInternalAndProtectedInternal()
    {
        Harness.Result r = Harness.Run(
            """
            using NativeKv.Server.Commands;
            public class Cmds
            {
                [RespCommand("A", Arity = -1)] public static void A(ref CommandContext ctx) { }
                [RespCommand("B", Arity = -1)] internal static void B(ref CommandContext ctx) { }
                [RespCommand("C", Arity = -1)] protected internal static void C(ref CommandContext ctx) { }
            }
            """);
        await Assert.That(Ids(r).Length).IsEqualTo(0);
        await Assert.That(r.CompileDiagnostics.Length).IsEqualTo(0);
    }

    [Test]
    [Arguments("[RespCommand(\"PING\")]")]                                                            // Arity 0 (unset)
    [Arguments("[RespCommand(\"PING\", Arity = 0)]")]
    [Arguments("[RespCommand(\"CLIENT|X\", Arity = 1)]")]                                             // subcommand |arity| < 2
    [Arguments("[RespCommand(\"CLIENT|X\", Arity = -1)]")]
    [Arguments("[RespCommand(\"GET\", Arity = 2, FirstKey = 1, LastKey = 2, Step = 1)]")]             // LastKey >= fixed arity
    [Arguments("[RespCommand(\"GET\", Arity = 2, FirstKey = 2, LastKey = -1, Step = 1)]")]            // FirstKey >= fixed arity
    [Arguments("[RespCommand(\"GET\", Arity = -2, FirstKey = 1, LastKey = 1, Step = 0)]")]            // Step 0 with keys
    [Arguments("[RespCommand(\"GET\", Arity = -3, FirstKey = 2, LastKey = 1, Step = 1)]")]            // LastKey < FirstKey
    [Arguments("[RespCommand(\"GET\", Arity = -3, FirstKey = -1, LastKey = 1, Step = 1)]")]           // negative FirstKey
    [Arguments("[RespCommand(\"GET\", Arity = -3, FirstKey = 0, LastKey = 1, Step = 1)]")]            // keys without FirstKey
    [Arguments("[RespCommand(\"SINTERCARD\", Arity = -3, NumKeysIndex = -1)]")]                       // negative NumKeysIndex
    [Arguments("[RespCommand(\"SINTERCARD\", Arity = 2, NumKeysIndex = 2)]")]                         // NumKeysIndex >= fixed arity
    public async Task NKV003_ImpossibleArity(string attribute)
    {
        Harness.Result r = Harness.Run("[assembly: NativeKv.Server.Commands.RespContainer(\"CLIENT\")]", Handler(attribute));
        await AssertOnly(r, "NKV003");
    }

    [Test]
    [Arguments("[RespCommand(\"MSET\", Arity = -3, FirstKey = 1, LastKey = -1, Step = 2)]")]
    [Arguments("[RespCommand(\"GET\", Arity = 2, FirstKey = 1, LastKey = 1, Step = 1)]")]
    [Arguments("[RespCommand(\"BLPOP\", Arity = -3, FirstKey = 1, LastKey = -2, Step = 1)]")]
    [Arguments("[RespCommand(\"PING\", Arity = -1)]")]
    [Arguments("[RespCommand(\"CLIENT|X\", Arity = 2)]")]
    [Arguments("[RespCommand(\"CLIENT|Y\", Arity = -2)]")]
    [Arguments("[RespCommand(\"GETSET\", Arity = 3, FirstKey = 1, LastKey = 1, Step = 1)]")]
    [Arguments("[RespCommand(\"SINTERCARD\", Arity = -3, NumKeysIndex = 1)]")]
    [Arguments("[RespCommand(\"ZUNIONSTORE\", Arity = -4, FirstKey = 1, LastKey = 1, Step = 1, NumKeysIndex = 2)]")]
    public async Task NKV003_NotReportedForValidSpecs(string attribute)
    {
        Harness.Result r = Harness.Run("[assembly: NativeKv.Server.Commands.RespContainer(\"CLIENT\")]", Handler(attribute));
        await Assert.That(Ids(r).Length).IsEqualTo(0);
        await Assert.That(r.CompileDiagnostics.Length).IsEqualTo(0);
    }

    [Test]
    public async Task NKV004_SubcommandWithoutParent()
    {
        Harness.Result r = Harness.Run(Handler("[RespCommand(\"MEMORY|USAGE\", Arity = -3)]"));
        await AssertOnly(r, "NKV004");
        await Assert.That(r.GeneratorDiagnostics[0].GetMessage()).Contains("'memory'");
        // Generated code still compiles (the orphan is left out).
        await Assert.That(r.CompileDiagnostics.Length).IsEqualTo(0);
    }

    [Test]
    public async Task NKV004_NotReportedWhenParentIsHandlerOrContainer()
    {
        await Assert.That(Ids(Harness.Run(Handler("[RespCommand(\"MEMORY|USAGE\", Arity = -3)]"), "[assembly: NativeKv.Server.Commands.RespContainer(\"memory\")]")).Length).IsEqualTo(0);
        await Assert.That(Ids(Harness.Run(
            Handler("[RespCommand(\"MEMORY|USAGE\", Arity = -3)]"),
            "using NativeKv.Server.Commands; static class X { [RespCommand(\"Memory\", Arity = -1)] internal static void M(ref CommandContext c) { } }")).Length).IsEqualTo(0);
    }

    [Test]
    [Arguments("")]
    [Arguments("GET SET")]
    [Arguments(" GET")]
    [Arguments("A|B|C")]
    [Arguments("|LIST")]
    [Arguments("CLIENT|")]
    [Arguments("GÉT")]
    [Arguments("GET\\t")]
    public async Task NKV005_InvalidName(string name)
    {
        Harness.Result r = Harness.Run("[assembly: NativeKv.Server.Commands.RespContainer(\"CLIENT\")]", Handler($"[RespCommand(\"{name}\", Arity = -2)]"));
        await AssertOnly(r, "NKV005");
    }

    [Test]
    public async Task NKV005_InvalidContainerName()
    {
        await AssertOnly(Harness.Run("[assembly: NativeKv.Server.Commands.RespContainer(\"A|B\")]"), "NKV005");
        await AssertOnly(Harness.Run("[assembly: NativeKv.Server.Commands.RespContainer(\"\")]"), "NKV005");
    }

    [Test]
    public async Task Diagnostic_PointsAtTheOffendingAttribute()
    {
        Harness.Result r = Harness.Run(Handler("[RespCommand(\"PING\", Arity = 0)]"));
        FileLinePositionSpan span = r.GeneratorDiagnostics.Single().Location.GetLineSpan();
        await Assert.That(span.StartLinePosition.Line).IsEqualTo(4);
        await Assert.That(span.Path).IsEqualTo("User0.cs");
    }
}
