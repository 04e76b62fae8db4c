namespace NativeKv.Tests.Commands;

/// <summary>A sorted set as Redis orders it: score, then the member's bytes (ordinal), shorter first on a common prefix.</summary>
internal sealed class ZSetModel
{
    public readonly Dictionary<string, double> Scores = new();

    public List<(string Member, double Score)> Sorted()
    {
        var l = Scores.Select(p => (p.Key, p.Value)).ToList();
        l.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : string.CompareOrdinal(a.Key, b.Key));
        return l;
    }
}
