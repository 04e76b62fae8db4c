using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;

namespace NativeKv.Generators;

/// <summary>Validates the extracted models and builds the CommandTable source. Pure: no symbols.</summary>
internal static class TableBuilder
{
    private const string Ns = "global::NativeKv.Server.Commands.";

    /// <summary>Redis's ACL category table order (src/acl.c ACLCommandCategories).</summary>
    private static readonly string[] AclOrder =
    {
        "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
        "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
        "connection", "transaction", "scripting",
    };

    /// <summary>One entry of the final table.</summary>
    private sealed class Entry
    {
        public string FullName = "";      // "get", "client|list"
        public string ParentName = "";    // "" for top-level, "client" for "client|list"
        public string LocalName = "";     // "get", "list"
        public int Arity;
        public uint Flags;
        public string[] FlagNames = Array.Empty<string>();
        public uint UnnamedFlagBits;
        public int FirstKey, LastKey, Step;
        public int NumKeysIndex, Lock;
        public int Group;
        public string? GroupName;
        public string Summary = "", Since = "", Complexity = "";
        public string? InvokeTarget;      // null for containers
        public LocationInfo? Location;
        public int Order;                 // declaration order, for deterministic duplicate reporting
        public int Index = -1;
        public int Parent = -1;
        public List<Entry> Subs = new();
    }

    public static GeneratorOutput Build(
        ImmutableArray<HandlerMethodModel> handlers, ImmutableArray<ContainerModel> containers, CancellationToken ct)
    {
        var diagnostics = new List<DiagnosticInfo>();
        var candidates = new List<Entry>();
        int order = 0;

        // Deterministic order independent of how the driver happened to hand us the inputs.
        IEnumerable<HandlerMethodModel> sortedHandlers = handlers
            .OrderBy(h => h.Location?.FilePath ?? "", StringComparer.Ordinal)
            .ThenBy(h => h.Location?.Span.Start ?? 0)
            .ThenBy(h => h.InvokeTarget, StringComparer.Ordinal);

        foreach (HandlerMethodModel handler in sortedHandlers)
        {
            ct.ThrowIfCancellationRequested();
            if (handler.SignatureError is not null)
            {
                diagnostics.Add(Diag("NKV002", handler.Location, handler.DisplayName, ShortName(handler.DisplayName), handler.SignatureError));
                continue;
            }
            foreach (CommandAttributeModel c in handler.Commands)
            {
                if (c.Name is null)
                {
                    continue; // the compiler already reports the broken attribute
                }
                string? nameError = ValidateName(c.Name, allowSubcommand: true);
                if (nameError is not null)
                {
                    diagnostics.Add(Diag("NKV005", c.Location, c.Name, nameError));
                    continue;
                }
                string full = c.Name.ToLowerInvariant();
                int bar = full.IndexOf('|');
                bool isSub = bar >= 0;
                string? arityError = ValidateArity(c, isSub);
                if (arityError is not null)
                {
                    diagnostics.Add(Diag("NKV003", c.Location, c.Name, arityError));
                    continue;
                }
                candidates.Add(new Entry
                {
                    FullName = full,
                    ParentName = isSub ? full.Substring(0, bar) : "",
                    LocalName = isSub ? full.Substring(bar + 1) : full,
                    Arity = c.Arity,
                    Flags = c.Flags,
                    FlagNames = c.FlagNames.ToArray(),
                    UnnamedFlagBits = c.UnnamedFlagBits,
                    FirstKey = c.FirstKey,
                    LastKey = c.LastKey,
                    Step = c.Step,
                    NumKeysIndex = c.NumKeysIndex,
                    Lock = c.Lock,
                    Group = c.Group,
                    GroupName = c.GroupName,
                    Summary = c.Summary,
                    Since = c.Since,
                    Complexity = c.Complexity,
                    InvokeTarget = handler.InvokeTarget,
                    Location = c.Location,
                    Order = order++,
                });
            }
        }

        IEnumerable<ContainerModel> sortedContainers = containers
            .OrderBy(c => c.Location?.FilePath ?? "", StringComparer.Ordinal)
            .ThenBy(c => c.Location?.Span.Start ?? 0);
        foreach (ContainerModel c in sortedContainers)
        {
            if (c.Name is null)
            {
                continue;
            }
            string? nameError = ValidateName(c.Name, allowSubcommand: false);
            if (nameError is not null)
            {
                diagnostics.Add(Diag("NKV005", c.Location, c.Name, nameError));
                continue;
            }
            string full = c.Name.ToLowerInvariant();
            candidates.Add(new Entry
            {
                FullName = full,
                LocalName = full,
                Arity = -2,
                Group = c.Group,
                GroupName = c.GroupName,
                Summary = c.Summary,
                Since = c.Since,
                Complexity = c.Complexity,
                InvokeTarget = null,
                Location = c.Location,
                Order = order++,
            });
        }

        // Duplicates (names are already lower-case, so ordinal comparison is case-insensitive).
        var byName = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var unique = new List<Entry>();
        foreach (Entry e in candidates.OrderBy(e => e.Order))
        {
            if (byName.ContainsKey(e.FullName))
            {
                diagnostics.Add(Diag("NKV001", e.Location, e.FullName));
                continue;
            }
            byName.Add(e.FullName, e);
            unique.Add(e);
        }

        var topLevel = unique.Where(e => e.ParentName.Length == 0).OrderBy(e => e.FullName, StringComparer.Ordinal).ToList();
        var subs = new List<Entry>();
        foreach (Entry e in unique.Where(e => e.ParentName.Length != 0).OrderBy(e => e.FullName, StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(e.ParentName, out Entry? parent) || parent.ParentName.Length != 0)
            {
                diagnostics.Add(Diag("NKV004", e.Location, e.FullName, e.ParentName));
                continue;
            }
            subs.Add(e);
        }

        var all = new List<Entry>(topLevel.Count + subs.Count);
        all.AddRange(topLevel);
        all.AddRange(subs);
        for (int i = 0; i < all.Count; i++)
        {
            all[i].Index = i;
        }
        foreach (Entry s in subs)
        {
            Entry parent = byName[s.ParentName];
            s.Parent = parent.Index;
            parent.Subs.Add(s);
        }

        diagnostics.Sort((a, b) =>
        {
            int c = string.CompareOrdinal(a.Location?.FilePath ?? "", b.Location?.FilePath ?? "");
            if (c != 0) return c;
            c = (a.Location?.Span.Start ?? 0).CompareTo(b.Location?.Span.Start ?? 0);
            return c != 0 ? c : string.CompareOrdinal(a.Id, b.Id);
        });

        return new GeneratorOutput(Emit(all, topLevel), new EquatableArray<DiagnosticInfo>(diagnostics.ToArray()));
    }

    private static string ShortName(string display)
    {
        int dot = display.LastIndexOf('.');
        return dot >= 0 ? display.Substring(dot + 1) : display;
    }

    private static DiagnosticInfo Diag(string id, LocationInfo? location, params string[] args) =>
        new(id, location, new EquatableArray<string>(args));

    internal static string? ValidateName(string name, bool allowSubcommand)
    {
        if (name.Length == 0)
        {
            return "the name is empty";
        }
        foreach (char ch in name)
        {
            if (ch > 0x7E)
            {
                return "the name contains a non-ASCII character";
            }
            if (ch == ' ' || char.IsWhiteSpace(ch))
            {
                return "the name contains whitespace";
            }
            if (ch < 0x20)
            {
                return "the name contains a control character";
            }
        }
        int bars = name.Count(ch => ch == '|');
        if (bars > 1)
        {
            return "the name contains more than one '|'";
        }
        if (bars == 1)
        {
            if (!allowSubcommand)
            {
                return "a container name cannot contain '|'";
            }
            int bar = name.IndexOf('|');
            if (bar == 0 || bar == name.Length - 1)
            {
                return "both the parent and the subcommand name must be non-empty";
            }
        }
        return null;
    }

    internal static string? ValidateArity(CommandAttributeModel c, bool isSubcommand)
    {
        int arity = c.Arity;
        int abs = arity < 0 ? -arity : arity;
        if (arity == 0)
        {
            return "Arity must not be 0 (N = exactly N arguments including the name, -N = at least N)";
        }
        if (abs < 1)
        {
            return "|Arity| must be at least 1";
        }
        if (isSubcommand && abs < 2)
        {
            return "a subcommand's |Arity| must be at least 2 (the container name and the subcommand name)";
        }
        if (c.FirstKey < 0)
        {
            return "FirstKey must not be negative";
        }
        if (c.Step < 0)
        {
            return "Step must not be negative";
        }
        if (c.NumKeysIndex < 0)
        {
            return "NumKeysIndex must not be negative";
        }
        if (arity > 0 && c.NumKeysIndex > 0 && c.NumKeysIndex >= arity)
        {
            return $"NumKeysIndex {c.NumKeysIndex} is beyond the {arity} arguments of a fixed arity";
        }
        if (c.FirstKey == 0 && (c.LastKey != 0 || c.Step != 0))
        {
            return "LastKey and Step must be 0 when FirstKey is 0 (no keys)";
        }
        if (c.FirstKey > 0)
        {
            if (c.Step == 0)
            {
                return "Step must be positive when FirstKey is set";
            }
            if (c.LastKey >= 0 && c.LastKey < c.FirstKey)
            {
                return "LastKey is before FirstKey";
            }
            if (arity > 0 && c.FirstKey >= arity)
            {
                return $"FirstKey {c.FirstKey} is beyond the {arity} arguments of a fixed arity";
            }
            if (arity > 0 && c.LastKey > 0 && c.LastKey >= arity)
            {
                return $"LastKey {c.LastKey} is beyond the {arity} arguments of a fixed arity";
            }
            if (arity > 0 && c.LastKey < 0 && arity + c.LastKey < c.FirstKey)
            {
                return $"LastKey {c.LastKey} is before FirstKey for a fixed arity of {arity}";
            }
        }
        return null;
    }

    internal static string[] AclCategories(IReadOnlyCollection<string> flagNames, string? groupName)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        bool has(string f) => flagNames.Contains(f);
        if (has("Write")) set.Add("write");
        if (has("ReadOnly")) set.Add("read");
        if (has("Admin")) { set.Add("admin"); set.Add("dangerous"); }
        if (has("PubSub")) set.Add("pubsub");
        if (has("Fast")) set.Add("fast"); else set.Add("slow");
        if (has("Blocking")) set.Add("blocking");
        string? groupCategory = groupName switch
        {
            "String" => "string",
            "List" => "list",
            "Set" => "set",
            "SortedSet" => "sortedset",
            "Hash" => "hash",
            "Generic" => "keyspace",
            "Connection" => "connection",
            "Transactions" => "transaction",
            "Scripting" => "scripting",
            "HyperLogLog" => "hyperloglog",
            "Geo" => "geo",
            "Stream" => "stream",
            "Bitmap" => "bitmap",
            "PubSub" => "pubsub",
            _ => null,
        };
        if (groupCategory is not null) set.Add(groupCategory);
        return AclOrder.Where(set.Contains).Select(c => "@" + c).ToArray();
    }

    // ------------------------------------------------------------------ emission

    private static string Emit(List<Entry> all, List<Entry> topLevel)
    {
        var sb = new StringBuilder();
        sb.Append("// <auto-generated/>\n");
        sb.Append("#nullable enable\n\n");
        sb.Append("namespace NativeKv.Server.Commands;\n\n");
        sb.Append("[global::System.CodeDom.Compiler.GeneratedCode(\"NativeKv.Generators\", \"1.0.0\")]\n");
        sb.Append("internal static partial class CommandTable\n{\n");

        // Commands
        sb.Append("    /// <summary>All commands: top-level sorted by name, then subcommands sorted by full name.</summary>\n");
        sb.Append("    public static readonly ").Append(Ns).Append("CommandSpec[] Commands = new ").Append(Ns).Append("CommandSpec[]\n    {\n");
        foreach (Entry e in all)
        {
            sb.Append("        new ").Append(Ns).Append("CommandSpec(")
              .Append(e.Index).Append(", ")
              .Append(Literal(e.FullName)).Append(", ")
              .Append(e.Arity).Append(", ")
              .Append(FlagsExpression(e)).Append(", ")
              .Append(e.FirstKey).Append(", ")
              .Append(e.LastKey).Append(", ")
              .Append(e.Step).Append(", ")
              .Append(GroupExpression(e)).Append(", ")
              .Append(Literal(e.Summary)).Append(", ")
              .Append(Literal(e.Since)).Append(", ")
              .Append(Literal(e.Complexity)).Append(", ")
              .Append(StringArray(AclCategories(e.FlagNames, e.GroupName))).Append(", ")
              .Append(e.Parent).Append(", ")
              .Append(IntArray(e.Subs.Select(s => s.Index))).Append(", ")
              .Append(e.InvokeTarget is not null ? "true" : "false").Append(", ")
              .Append(e.NumKeysIndex).Append(", ")
              .Append("(").Append(Ns).Append("KeyLock)").Append(e.Lock)
              .Append("),\n");
        }
        sb.Append("    };\n\n");

        sb.Append("    /// <summary>Number of entries in <see cref=\"Commands\"/>.</summary>\n");
        sb.Append("    public const int Count = ").Append(all.Count).Append(";\n\n");

        // Lookup
        sb.Append("    /// <summary>Top-level lookup, ASCII case-insensitive. Returns an index into Commands or -1.</summary>\n");
        sb.Append("    public static int Lookup(global::System.ReadOnlySpan<byte> name)\n    {\n");
        EmitLengthSwitch(sb, "        ", topLevel.Select(e => (e.LocalName, e.Index)).ToList());
        sb.Append("        return -1;\n    }\n\n");

        // LookupSubcommand
        var parents = all.Where(e => e.Subs.Count > 0).ToList();
        sb.Append("    /// <summary>Subcommand lookup under the container at index <paramref name=\"parent\"/>, ASCII case-insensitive. -1 if none.</summary>\n");
        sb.Append("    public static int LookupSubcommand(int parent, global::System.ReadOnlySpan<byte> name)\n    {\n");
        if (parents.Count > 0)
        {
            sb.Append("        switch (parent)\n        {\n");
            foreach (Entry p in parents)
            {
                sb.Append("            case ").Append(p.Index).Append(": // ").Append(p.FullName).Append('\n');
                sb.Append("                return LookupSub").Append(p.Index).Append("(name);\n");
            }
            sb.Append("        }\n");
        }
        sb.Append("        return -1;\n    }\n\n");
        foreach (Entry p in parents)
        {
            sb.Append("    private static int LookupSub").Append(p.Index).Append("(global::System.ReadOnlySpan<byte> name)\n    {\n");
            EmitLengthSwitch(sb, "        ", p.Subs.Select(e => (e.LocalName, e.Index)).ToList());
            sb.Append("        return -1;\n    }\n\n");
        }

        // Invoke
        sb.Append("    /// <summary>Calls the handler of Commands[index]. Must not be called for a container without a handler.</summary>\n");
        sb.Append("    public static void Invoke(int index, ref ").Append(Ns).Append("CommandContext ctx)\n    {\n");
        var invocable = all.Where(e => e.InvokeTarget is not null).ToList();
        if (invocable.Count > 0)
        {
            sb.Append("        switch (index)\n        {\n");
            foreach (Entry e in invocable)
            {
                sb.Append("            case ").Append(e.Index).Append(": ").Append(e.InvokeTarget).Append("(ref ctx); return; // ").Append(e.FullName).Append('\n');
            }
            sb.Append("        }\n");
        }
        sb.Append("        ThrowNoHandler(index);\n    }\n\n");
        sb.Append("    [global::System.Diagnostics.CodeAnalysis.DoesNotReturn]\n");
        sb.Append("    private static void ThrowNoHandler(int index) =>\n");
        sb.Append("        throw new global::System.ArgumentOutOfRangeException(nameof(index), index, \"The command has no handler of its own.\");\n\n");

        // Readers
        EmitReader(sb, "R64", "ulong");
        EmitReader(sb, "R32", "uint");
        EmitReader(sb, "R16", "ushort");
        sb.Length -= 1; // drop the blank line after the last reader
        sb.Append("}\n");
        return sb.ToString();
    }

    private static void EmitReader(StringBuilder sb, string name, string type)
    {
        sb.Append("    [global::System.Runtime.CompilerServices.MethodImpl(global::System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]\n");
        sb.Append("    private static ").Append(type).Append(' ').Append(name).Append("(ref byte p, int offset)\n    {\n");
        sb.Append("        ").Append(type).Append(" v = global::System.Runtime.CompilerServices.Unsafe.ReadUnaligned<").Append(type)
          .Append(">(ref global::System.Runtime.CompilerServices.Unsafe.Add(ref p, offset));\n");
        sb.Append("        return global::System.BitConverter.IsLittleEndian ? v : global::System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);\n");
        sb.Append("    }\n\n");
    }

    /// <summary>The loads (offset, width in bytes) used to compare a name of the given length.</summary>
    internal static List<(int Offset, int Width)> Loads(int length)
    {
        var loads = new List<(int, int)>();
        if (length >= 8)
        {
            int o = 0;
            for (; o + 8 <= length; o += 8)
            {
                loads.Add((o, 8));
            }
            if (o < length)
            {
                loads.Add((length - 8, 8)); // overlapping final load
            }
        }
        else if (length >= 4)
        {
            loads.Add((0, 4));
            if (length > 4) loads.Add((length - 4, 4));
        }
        else if (length >= 2)
        {
            loads.Add((0, 2));
            if (length > 2) loads.Add((length - 2, 2));
        }
        else if (length == 1)
        {
            loads.Add((0, 1));
        }
        return loads;
    }

    private static bool IsLetter(char c) => c is >= 'a' and <= 'z';

    private static void EmitLengthSwitch(StringBuilder sb, string indent, List<(string Name, int Index)> candidates)
    {
        if (candidates.Count == 0)
        {
            return;
        }
        sb.Append(indent).Append("ref byte p = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(name);\n");
        sb.Append(indent).Append("switch (name.Length)\n").Append(indent).Append("{\n");
        foreach (IGrouping<int, (string Name, int Index)> bucket in candidates.GroupBy(c => c.Name.Length).OrderBy(g => g.Key))
        {
            int length = bucket.Key;
            List<(int Offset, int Width)> loads = Loads(length);
            sb.Append(indent).Append("    case ").Append(length).Append(":\n");
            sb.Append(indent).Append("    {\n");
            for (int i = 0; i < loads.Count; i++)
            {
                (int offset, int width) = loads[i];
                string type = width == 8 ? "ulong" : "uint";
                string read = width switch
                {
                    8 => $"R64(ref p, {offset})",
                    4 => $"R32(ref p, {offset})",
                    2 => $"R16(ref p, {offset})",
                    _ => $"p",
                };
                sb.Append(indent).Append("        ").Append(type).Append(" w").Append(i).Append(" = ").Append(read).Append(";\n");
            }
            foreach ((string name, int index) in bucket.OrderBy(c => c.Name, StringComparer.Ordinal))
            {
                sb.Append(indent).Append("        if (");
                for (int i = 0; i < loads.Count; i++)
                {
                    (int offset, int width) = loads[i];
                    ulong expected = 0, mask = 0;
                    for (int b = 0; b < width; b++)
                    {
                        char ch = name[offset + b];
                        expected |= (ulong)(byte)ch << (8 * b);
                        if (IsLetter(ch))
                        {
                            mask |= 0x20UL << (8 * b);
                        }
                    }
                    string suffix = width == 8 ? "UL" : "u";
                    if (i > 0) sb.Append(" && ");
                    if (mask != 0)
                    {
                        sb.Append("(w").Append(i).Append(" | 0x").Append(mask.ToString("X")).Append(suffix).Append(')');
                    }
                    else
                    {
                        sb.Append('w').Append(i);
                    }
                    sb.Append(" == 0x").Append(expected.ToString("X")).Append(suffix);
                }
                sb.Append(") return ").Append(index).Append("; // ").Append(name).Append('\n');
            }
            sb.Append(indent).Append("        break;\n");
            sb.Append(indent).Append("    }\n");
        }
        sb.Append(indent).Append("}\n");
    }

    private static string FlagsExpression(Entry e)
    {
        var parts = e.FlagNames.Select(n => Ns + "CommandFlags." + n).ToList();
        if (e.UnnamedFlagBits != 0 || parts.Count == 0)
        {
            parts.Add("(" + Ns + "CommandFlags)" + e.UnnamedFlagBits + "u");
        }
        return string.Join(" | ", parts);
    }

    private static string GroupExpression(Entry e) =>
        e.GroupName is not null ? Ns + "CommandGroup." + e.GroupName : "(" + Ns + "CommandGroup)" + e.Group;

    private static string Literal(string s) =>
        Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(s, quote: true);

    private static string StringArray(string[] items) =>
        items.Length == 0 ? "global::System.Array.Empty<string>()" : "new string[] { " + string.Join(", ", items.Select(Literal)) + " }";

    private static string IntArray(IEnumerable<int> items)
    {
        int[] a = items.ToArray();
        return a.Length == 0 ? "global::System.Array.Empty<int>()" : "new int[] { " + string.Join(", ", a) + " }";
    }
}
