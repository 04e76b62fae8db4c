using System.Text;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Commands;

/// <summary>
/// SORT's keys beyond its first (Redis declares them with a getkeys_proc and flags it movablekeys): the
/// STORE destination (db.c sortGetKeys), and whether a BY or GET pattern names keys at all. Those keys come
/// from the sorted data, so no lock can be named for them before the command runs: such a SORT takes the
/// whole keyspace (<see cref="Storage.Locks"/> has no other way to keep them still while it reads them).
/// </summary>
internal static class SortKeys
{
    /// <summary>sortGetKeys: the index of the last STORE's key (options skipped by their arity: LIMIT 2, GET 1, BY 1), or -1.</summary>
    public static int StoreKey(CommandSpec spec, ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        if (spec.Name != "sort") return -1; // SORT_RO: sortROGetKeys names only the sorted key
        int found = -1;
        for (int i = 2; i < args.Length; i++)
        {
            var a = input.Slice(args[i].Offset, args[i].Length);
            if (Ascii.EqualsIgnoreCase(a, "LIMIT"u8)) i += 2;
            else if (Ascii.EqualsIgnoreCase(a, "GET"u8) || Ascii.EqualsIgnoreCase(a, "BY"u8)) i += 1;
            else if (Ascii.EqualsIgnoreCase(a, "STORE"u8) && i + 1 < args.Length) found = i + 1;
        }
        return found;
    }

    /// <summary><see cref="StoreKey(CommandSpec, ReadOnlySpan{byte}, ReadOnlySpan{ArgRange})"/> for COMMAND GETKEYS: the command at ctx[<paramref name="at"/>..], <paramref name="argc"/> arguments.</summary>
    public static int StoreKey(ref CommandContext ctx, CommandSpec spec, int at, int argc)
    {
        if (spec.Name != "sort") return -1;
        int found = -1;
        for (int i = 2; i < argc; i++)
        {
            var a = ctx[at + i];
            if (Ascii.EqualsIgnoreCase(a, "LIMIT"u8)) i += 2;
            else if (Ascii.EqualsIgnoreCase(a, "GET"u8) || Ascii.EqualsIgnoreCase(a, "BY"u8)) i += 1;
            else if (Ascii.EqualsIgnoreCase(a, "STORE"u8) && i + 1 < argc) found = i + 1;
        }
        return found;
    }

    /// <summary>
    /// Whether a BY or GET pattern may name other keys (it has a '*', and a GET is not "#"), read as
    /// sortCommandGeneric parses its options.
    /// </summary>
    public static bool PatternsNameKeys(ReadOnlySpan<byte> input, ReadOnlySpan<ArgRange> args)
    {
        for (int j = 2; j < args.Length; j++)
        {
            var a = input.Slice(args[j].Offset, args[j].Length);
            int left = args.Length - j - 1;
            if (Ascii.EqualsIgnoreCase(a, "LIMIT"u8) && left >= 2) j += 2;
            else if (Ascii.EqualsIgnoreCase(a, "STORE"u8) && left >= 1) j++;
            else if ((Ascii.EqualsIgnoreCase(a, "BY"u8) || Ascii.EqualsIgnoreCase(a, "GET"u8)) && left >= 1)
            {
                var p = input.Slice(args[++j].Offset, args[j].Length);
                if (p.IndexOf((byte)'*') >= 0) return true;
            }
        }
        return false;
    }
}
