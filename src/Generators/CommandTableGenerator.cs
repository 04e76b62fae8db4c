using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NativeKv.Generators;

/// <summary>
/// Turns every <c>[RespCommand]</c> handler and every <c>[assembly: RespContainer]</c> into the
/// generated <c>CommandTable</c> (static command metadata, name lookup and dispatch).
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class CommandTableGenerator : IIncrementalGenerator
{
    public const string CommandAttributeName = "NativeKv.Server.Commands.RespCommandAttribute";
    public const string ContainerAttributeName = "NativeKv.Server.Commands.RespContainerAttribute";
    public const string ContextTypeName = "NativeKv.Server.Commands.CommandContext";

    /// <summary>Tracking names of the pipeline steps (used by the caching tests).</summary>
    public const string HandlersStep = "Handlers";
    public const string ContainersStep = "Containers";
    public const string CollectedStep = "Collected";
    public const string OutputStep = "Output";

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<HandlerMethodModel> handlers = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                CommandAttributeName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => ExtractHandler(ctx, ct))
            .WithTrackingName(HandlersStep);

        // Assembly-level attributes: ForAttributeWithMetadataName hands us the compilation unit
        // whose attribute lists carry them, so only edited files are re-examined.
        IncrementalValuesProvider<EquatableArray<ContainerModel>> containers = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                ContainerAttributeName,
                static (node, _) => node is CompilationUnitSyntax,
                static (ctx, ct) => ExtractContainers(ctx, ct))
            .WithTrackingName(ContainersStep);

        IncrementalValueProvider<(ImmutableArray<HandlerMethodModel> Left, ImmutableArray<EquatableArray<ContainerModel>> Right)> collected =
            handlers.Collect().Combine(containers.Collect()).WithTrackingName(CollectedStep);

        IncrementalValueProvider<GeneratorOutput> output = collected
            .Select(static (pair, ct) => TableBuilder.Build(pair.Left, pair.Right.SelectMany(static c => c).ToImmutableArray(), ct))
            .WithTrackingName(OutputStep);

        context.RegisterSourceOutput(output, static (spc, result) =>
        {
            foreach (DiagnosticInfo d in result.Diagnostics)
            {
                spc.ReportDiagnostic(Diagnostic.Create(
                    Diagnostics.ById(d.Id),
                    d.Location?.ToLocation() ?? Location.None,
                    d.Args.Cast<object>().ToArray()));
            }
            spc.AddSource("CommandTable.g.cs", result.Source);
        });
    }

    private static HandlerMethodModel ExtractHandler(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
    {
        var method = (IMethodSymbol)ctx.TargetSymbol;
        var syntax = (MethodDeclarationSyntax)ctx.TargetNode;

        string typeName = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);
        string methodName = SyntaxFacts.GetKeywordKind(method.Name) != SyntaxKind.None ? "@" + method.Name : method.Name;
        string display = method.ContainingType.ToDisplayString() + "." + method.Name;

        var commands = new List<CommandAttributeModel>(ctx.Attributes.Length);
        foreach (AttributeData attribute in ctx.Attributes)
        {
            ct.ThrowIfCancellationRequested();
            commands.Add(ExtractCommand(attribute, ct));
        }

        return new HandlerMethodModel(
            typeName + "." + methodName,
            display,
            ValidateSignature(method),
            LocationInfo.From(syntax.Identifier.GetLocation()),
            new EquatableArray<CommandAttributeModel>(commands.ToArray()));
    }

    private static string? ValidateSignature(IMethodSymbol method)
    {
        var problems = new List<string>();
        if (!method.IsStatic)
        {
            problems.Add("it is not static");
        }
        if (!method.ReturnsVoid)
        {
            problems.Add("it does not return void");
        }
        if (method.IsGenericMethod)
        {
            problems.Add("it is generic");
        }
        if (method.Parameters.Length != 1)
        {
            problems.Add($"it has {method.Parameters.Length} parameters instead of one");
        }
        else
        {
            IParameterSymbol p = method.Parameters[0];
            if (p.RefKind != RefKind.Ref)
            {
                problems.Add("its parameter is not passed by 'ref'");
            }
            if (p.Type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) != "global::" + ContextTypeName)
            {
                problems.Add($"its parameter type is '{p.Type.ToDisplayString()}' instead of '{ContextTypeName}'");
            }
        }
        if (!IsAccessibleFromAssembly(method.DeclaredAccessibility))
        {
            problems.Add("it is not accessible from the assembly (make it internal or public)");
        }
        for (INamedTypeSymbol? type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (type.IsGenericType)
            {
                problems.Add($"its containing type '{type.ToDisplayString()}' is generic");
            }
            if (!IsAccessibleFromAssembly(type.DeclaredAccessibility))
            {
                problems.Add($"its containing type '{type.ToDisplayString()}' is not accessible from the assembly");
            }
            if (type.IsFileLocal)
            {
                problems.Add($"its containing type '{type.ToDisplayString()}' is file-local");
            }
        }
        return problems.Count == 0 ? null : string.Join("; ", problems);
    }

    private static bool IsAccessibleFromAssembly(Accessibility accessibility) =>
        accessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal;

    private static CommandAttributeModel ExtractCommand(AttributeData attribute, CancellationToken ct)
    {
        string? name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
        int arity = 0, firstKey = 0, lastKey = 0, step = 0, group = 0, numKeysIndex = 0, keyLock = 0;
        uint flags = 0;
        string summary = "", since = "1.0.0", complexity = "";
        foreach (KeyValuePair<string, TypedConstant> arg in attribute.NamedArguments)
        {
            object? value = arg.Value.Value;
            switch (arg.Key)
            {
                case "Arity": arity = ToInt(value); break;
                case "Flags": flags = ToUInt(value); break;
                case "FirstKey": firstKey = ToInt(value); break;
                case "LastKey": lastKey = ToInt(value); break;
                case "Step": step = ToInt(value); break;
                case "NumKeysIndex": numKeysIndex = ToInt(value); break;
                case "Lock": keyLock = ToInt(value); break;
                case "Group": group = ToInt(value); break;
                case "Summary": summary = value as string ?? ""; break;
                case "Since": since = value as string ?? ""; break;
                case "Complexity": complexity = value as string ?? ""; break;
            }
        }

        ITypeSymbol? flagsType = PropertyType(attribute.AttributeClass, "Flags");
        ITypeSymbol? groupType = PropertyType(attribute.AttributeClass, "Group");
        (EquatableArray<string> flagNames, uint unnamed) = SplitFlags(flagsType, flags);

        return new CommandAttributeModel(
            name, arity, flags, flagNames, unnamed, firstKey, lastKey, step, numKeysIndex, keyLock, group, EnumMemberName(groupType, group),
            summary, since, complexity,
            LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct)));
    }

    private static EquatableArray<ContainerModel> ExtractContainers(GeneratorAttributeSyntaxContext ctx, CancellationToken ct)
    {
        var result = new List<ContainerModel>(ctx.Attributes.Length);
        foreach (AttributeData attribute in ctx.Attributes)
        {
            ct.ThrowIfCancellationRequested();
            string? name = attribute.ConstructorArguments.Length == 1 ? attribute.ConstructorArguments[0].Value as string : null;
            int group = 0;
            string summary = "", since = "1.0.0", complexity = "Depends on subcommand.";
            foreach (KeyValuePair<string, TypedConstant> arg in attribute.NamedArguments)
            {
                object? value = arg.Value.Value;
                switch (arg.Key)
                {
                    case "Group": group = ToInt(value); break;
                    case "Summary": summary = value as string ?? ""; break;
                    case "Since": since = value as string ?? ""; break;
                    case "Complexity": complexity = value as string ?? ""; break;
                }
            }
            ITypeSymbol? groupType = PropertyType(attribute.AttributeClass, "Group");
            result.Add(new ContainerModel(
                name, group, EnumMemberName(groupType, group), summary, since, complexity,
                LocationInfo.From(attribute.ApplicationSyntaxReference?.GetSyntax(ct))));
        }
        return new EquatableArray<ContainerModel>(result.ToArray());
    }

    private static ITypeSymbol? PropertyType(INamedTypeSymbol? type, string name) =>
        type?.GetMembers(name).OfType<IPropertySymbol>().FirstOrDefault()?.Type;

    private static IEnumerable<IFieldSymbol> EnumConstants(ITypeSymbol? enumType) =>
        enumType is INamedTypeSymbol { TypeKind: TypeKind.Enum } e
            ? e.GetMembers().OfType<IFieldSymbol>().Where(static f => f.HasConstantValue)
            : Enumerable.Empty<IFieldSymbol>();

    private static string? EnumMemberName(ITypeSymbol? enumType, int value) =>
        EnumConstants(enumType).FirstOrDefault(f => ToInt(f.ConstantValue) == value)?.Name;

    private static (EquatableArray<string> Names, uint Unnamed) SplitFlags(ITypeSymbol? enumType, uint flags)
    {
        var names = new List<string>();
        uint covered = 0;
        foreach (IFieldSymbol field in EnumConstants(enumType).OrderBy(f => ToUInt(f.ConstantValue)))
        {
            uint bit = ToUInt(field.ConstantValue);
            if (bit != 0 && (bit & (bit - 1)) == 0 && (flags & bit) == bit)
            {
                names.Add(field.Name);
                covered |= bit;
            }
        }
        return (new EquatableArray<string>(names.ToArray()), flags & ~covered);
    }

    private static int ToInt(object? value) => value switch
    {
        int i => i,
        uint u => unchecked((int)u),
        long l => unchecked((int)l),
        ulong ul => unchecked((int)ul),
        short s => s,
        ushort us => us,
        byte b => b,
        sbyte sb => sb,
        _ => 0,
    };

    private static uint ToUInt(object? value) => unchecked((uint)ToInt(value));
}
