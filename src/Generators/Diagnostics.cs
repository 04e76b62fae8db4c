using Microsoft.CodeAnalysis;

namespace NativeKv.Generators;

internal static class Diagnostics
{
    private const string Category = "NativeKv.Commands";

    public static readonly DiagnosticDescriptor DuplicateName = new(
        "NKV001",
        "Duplicate command name",
        "Command name '{0}' is declared more than once (names are case-insensitive)",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor BadSignature = new(
        "NKV002",
        "Bad command handler signature",
        "Command handler '{0}' must be 'static void {1}(ref NativeKv.Server.Commands.CommandContext ctx)', non-generic and accessible from the assembly: {2}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor ImpossibleArity = new(
        "NKV003",
        "Impossible command arity or key specification",
        "Command '{0}' has an impossible arity or key specification: {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor MissingParent = new(
        "NKV004",
        "Subcommand without parent",
        "Subcommand '{0}' has no parent: declare a handler for '{1}' or [assembly: RespContainer(\"{1}\")]",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static readonly DiagnosticDescriptor InvalidName = new(
        "NKV005",
        "Invalid command name",
        "Invalid command name '{0}': {1}",
        Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    public static DiagnosticDescriptor ById(string id) => id switch
    {
        "NKV001" => DuplicateName,
        "NKV002" => BadSignature,
        "NKV003" => ImpossibleArity,
        "NKV004" => MissingParent,
        _ => InvalidName,
    };
}
