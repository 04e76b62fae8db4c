using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace NativeKv.Generators;

/// <summary>A source location reduced to plain values (no SyntaxTree), safe to cache.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public Location ToLocation() => Location.Create(FilePath, Span, LineSpan);

    public static LocationInfo? From(Location? location)
    {
        if (location is null || location.SourceTree is null)
        {
            return null;
        }
        return new LocationInfo(location.SourceTree.FilePath, location.SourceSpan, location.GetLineSpan().Span);
    }

    public static LocationInfo? From(SyntaxNode? node) => node is null ? null : From(node.GetLocation());
}

/// <summary>A diagnostic to report, reduced to plain values.</summary>
internal sealed record DiagnosticInfo(string Id, LocationInfo? Location, EquatableArray<string> Args);

/// <summary>The values of one [RespCommand] attribute.</summary>
internal sealed record CommandAttributeModel(
    string? Name,
    int Arity,
    uint Flags,
    EquatableArray<string> FlagNames,
    uint UnnamedFlagBits,
    int FirstKey,
    int LastKey,
    int Step,
    int NumKeysIndex,
    int Lock,
    int Group,
    string? GroupName,
    string Summary,
    string Since,
    string Complexity,
    LocationInfo? Location);

/// <summary>One method carrying one or more [RespCommand] attributes.</summary>
internal sealed record HandlerMethodModel(
    string InvokeTarget,
    string DisplayName,
    string? SignatureError,
    LocationInfo? Location,
    EquatableArray<CommandAttributeModel> Commands);

/// <summary>The values of one [assembly: RespContainer] attribute.</summary>
internal sealed record ContainerModel(
    string? Name,
    int Group,
    string? GroupName,
    string Summary,
    string Since,
    string Complexity,
    LocationInfo? Location);

/// <summary>The final output of the pipeline: generated text plus diagnostics.</summary>
internal sealed record GeneratorOutput(string Source, EquatableArray<DiagnosticInfo> Diagnostics);
