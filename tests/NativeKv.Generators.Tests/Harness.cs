using System.Collections.Immutable;
using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NativeKv.Generators.Tests;

/// <summary>Builds in-memory compilations, runs the generator and loads the result.</summary>
internal static class Harness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    private static readonly Lazy<string> RepoRoot = new(() =>
    {
        for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "src", "Server", "Commands", "CommandAttributes.cs")))
            {
                return d.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root from " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "System.dll" or "netstandard.dll" or "mscorlib.dll" or "Microsoft.Win32.Primitives.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToImmutableArray());

    private static string ServerFile(string name) =>
        File.ReadAllText(Path.Combine(RepoRoot.Value, "src", "Server", "Commands", name));

    /// <summary>The server-side types the generator depends on: the real attribute and spec files plus stubs.</summary>
    public static IEnumerable<SyntaxTree> InfrastructureTrees()
    {
        yield return Parse("global using System;", "GlobalUsings.cs");
        yield return Parse(ServerFile("CommandAttributes.cs"), "CommandAttributes.cs");
        yield return Parse(ServerFile("CommandSpec.cs"), "CommandSpec.cs");
        yield return Parse(
            """
            namespace NativeKv.Server.Commands;
            public ref struct CommandContext
            {
                public string? Called;
            }
            """, "CommandContext.cs");
        yield return Parse(
            """
            namespace NativeKv.Server.Commands;
            public static class Probe
            {
                public static int Lookup(byte[] name) => CommandTable.Lookup(name);
                public static int Sub(int parent, byte[] name) => CommandTable.LookupSubcommand(parent, name);
                public static string? Invoke(int index)
                {
                    var ctx = new CommandContext();
                    CommandTable.Invoke(index, ref ctx);
                    return ctx.Called;
                }
                public static int Count() => CommandTable.Count;
                public static string[] Names() => System.Array.ConvertAll(CommandTable.Commands, c => c.Name);
                public static string Locking(int i)
                {
                    CommandSpec c = CommandTable.Commands[i];
                    return $"numkeys={c.NumKeysIndex} lock={c.Lock}";
                }
                public static string Describe(int i)
                {
                    CommandSpec c = CommandTable.Commands[i];
                    return $"{c.Index} {c.Name} arity={c.Arity} flags={c.Flags} keys={c.FirstKey},{c.LastKey},{c.Step} group={c.Group} "
                        + $"acl=[{string.Join(" ", c.AclCategories)}] parent={c.Parent} subs=[{string.Join(",", c.Subcommands)}] handler={c.HasHandler} "
                        + $"summary={c.Summary} since={c.Since} complexity={c.Complexity}";
                }
            }
            """, "Probe.cs");
    }

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    public static CSharpCompilation CreateCompilation(params string[] sources)
    {
        IEnumerable<SyntaxTree> user = sources.Select((s, i) => Parse(s, $"User{i}.cs"));
        return CSharpCompilation.Create(
            "GenTest" + Guid.NewGuid().ToString("N"),
            InfrastructureTrees().Concat(user),
            References.Value,
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                nullableContextOptions: NullableContextOptions.Enable,
                allowUnsafe: true,
                generalDiagnosticOption: ReportDiagnostic.Error)); // warnings as errors
    }

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new CommandTableGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public sealed record Result(
        Compilation Output,
        ImmutableArray<Diagnostic> GeneratorDiagnostics,
        ImmutableArray<Diagnostic> CompileDiagnostics,
        string GeneratedSource);

    public static Result Run(params string[] sources)
    {
        CSharpCompilation input = CreateCompilation(sources);
        GeneratorDriver driver = CreateDriver().RunGeneratorsAndUpdateCompilation(input, out Compilation output, out ImmutableArray<Diagnostic> genDiags);
        GeneratorDriverRunResult run = driver.GetRunResult();
        string generated = run.Results[0].GeneratedSources.Single(s => s.HintName == "CommandTable.g.cs").SourceText.ToString();
        ImmutableArray<Diagnostic> compile = output.GetDiagnostics().Where(d => d.Severity >= DiagnosticSeverity.Warning).ToImmutableArray();
        return new Result(output, genDiags, compile, generated);
    }

    /// <summary>A loaded generated assembly, accessed through the Probe class compiled into it.</summary>
    public sealed class Loaded
    {
        private readonly Type _probe;

        public Loaded(Compilation compilation)
        {
            using var ms = new MemoryStream();
            var emit = compilation.Emit(ms);
            if (!emit.Success)
            {
                throw new InvalidOperationException("Emit failed:\n" + string.Join("\n", emit.Diagnostics));
            }
            ms.Position = 0;
            var alc = new AssemblyLoadContext(compilation.AssemblyName, isCollectible: true);
            Assembly asm = alc.LoadFromStream(ms);
            _probe = asm.GetType("NativeKv.Server.Commands.Probe", throwOnError: true)!;
        }

        private object? Call(string name, params object?[] args)
        {
            try
            {
                return _probe.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.Invoke(null, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                throw e.InnerException;
            }
        }

        public int Lookup(byte[] name) => (int)Call(nameof(Lookup), name)!;
        public int Lookup(string name) => Lookup(System.Text.Encoding.Latin1.GetBytes(name));
        public int Sub(int parent, string name) => (int)Call(nameof(Sub), parent, System.Text.Encoding.Latin1.GetBytes(name))!;
        public string? Invoke(int index) => (string?)Call(nameof(Invoke), index);
        public int Count => (int)Call(nameof(Count))!;
        public string[] Names => (string[])Call(nameof(Names))!;
        public string Describe(int i) => (string)Call(nameof(Describe), i)!;
        public string Locking(int i) => (string)Call(nameof(Locking), i)!;
        public int IndexOf(string name) => Array.IndexOf(Names, name);
    }

    /// <summary>Runs the generator, asserts a clean build, and loads the result.</summary>
    public static Loaded Load(params string[] sources)
    {
        Result r = Run(sources);
        if (r.GeneratorDiagnostics.Length != 0 || r.CompileDiagnostics.Length != 0)
        {
            throw new InvalidOperationException(
                "Unexpected diagnostics:\n" + string.Join("\n", r.GeneratorDiagnostics.Concat(r.CompileDiagnostics)) + "\n" + r.GeneratedSource);
        }
        return new Loaded(r.Output);
    }
}
