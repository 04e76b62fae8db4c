using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// SORT's BY and GET patterns (sort.c lookupKeyByPattern): "#" is the element itself; a pattern without
/// '*' finds nothing; "pre*post" names the string key with the element in place of the '*', and
/// "pre*post->field" the field of the hash at that key. A key of another type finds nothing.
///
/// Lookups of a batch of elements go in three steps, each finished for the whole batch before the next, so
/// a batch waits on disk at most once per step (and a rerun issues the same operations in the same order:
/// the key records of every element, then the paged hashes' buckets, then their out-of-line values' chunks).
/// </summary>
internal static partial class SortCommands
{
    /// <summary>Most page reads a lookup step leaves waiting on disk in one attempt (as COPY's PagedCopy.MaxWaiting).</summary>
    private const int MaxWaitingPages = 1024;

    /// <summary>A BY or GET pattern, parsed once.</summary>
    private readonly ref struct SortPattern
    {
        public readonly ReadOnlySpan<byte> Prefix, Postfix, Field;
        /// <summary>"#": the element itself.</summary>
        public readonly bool Self;
        /// <summary>No '*': nothing is ever found.</summary>
        public readonly bool None;

        public SortPattern(ReadOnlySpan<byte> pattern)
        {
            Prefix = Postfix = Field = default;
            Self = pattern.Length == 1 && pattern[0] == (byte)'#';
            int star = pattern.IndexOf((byte)'*');
            None = !Self && star < 0;
            if (Self || None) return;
            Prefix = pattern[..star];
            var rest = pattern[(star + 1)..];
            // strstr(p+1, "->") with something after it: a hash field.
            int arrow = rest.IndexOf("->"u8);
            if (arrow >= 0 && arrow + 2 < rest.Length)
            {
                Field = rest[(arrow + 2)..];
                Postfix = rest[..arrow];
            }
            else Postfix = rest;
        }

        public bool IsHashField => !Field.IsEmpty;
    }

    /// <summary>
    /// What <paramref name="pattern"/> finds for elements [<paramref name="from"/>, +<paramref name="n"/>) of the
    /// scratch, into its Found pairs at [<paramref name="into"/>, +n). False when the command stopped (a read waits on disk).
    /// </summary>
    private static bool LookupAll(ref CommandContext ctx, CommandPages pages, SortScratch s, ReadOnlySpan<byte> patternBytes, int from, int n, int into)
    {
        var pattern = new SortPattern(patternBytes);
        s.Room(n, into + n);
        var found = s.Found;
        if (pattern.Self || pattern.None)
        {
            for (int i = 0; i < n; i++)
            {
                ref var item = ref s.Items[from + i];
                found[2 * (into + i)] = item.Offset;
                found[2 * (into + i) + 1] = pattern.Self ? item.Length : -1;
            }
            return true;
        }
        var store = Db.Store(ref ctx);
        int db = ctx.Client.Database;

        // 1. The key record of every element.
        for (int i = 0; i < n; i++)
        {
            var element = s.Element(s.Items[from + i]);
            int len = pattern.Prefix.Length + element.Length + pattern.Postfix.Length;
            var key = s.KeyRoom(len);
            pattern.Prefix.CopyTo(key);
            element.CopyTo(key[pattern.Prefix.Length..]);
            pattern.Postfix.CopyTo(key[(pattern.Prefix.Length + element.Length)..]);
            var st = store.Read(db, key, out var slot);
            s.Slots[i] = st == OpStatus.Found ? slot : null;
        }
        if (store.AttemptPending) return false;

        // 2. A paged hash's bucket for the field, then the chunks of an out-of-line value.
        if (pattern.IsHashField)
        {
            for (int step = 0; step < 2; step++)
            {
                int waiting = 0;
                bool inHand = true;
                for (int i = 0; i < n; i++)
                {
                    if (s.Slots[i] is not { Type: KeyType.Hash } slot || !PagedRoot.TryRead(slot.Value, out var meta)) continue;
                    PagedHash.NeedsLookup(meta, pattern.Field, pages.Pages, pages.Needs);
                    if (pages.Needs.Count < PagedHash.MaxScanBuckets) continue;
                    int asked = pages.Needs.Count;
                    if (!pages.Fetch())
                    {
                        inHand = false;
                        if ((waiting += asked) >= MaxWaitingPages) return false;
                    }
                }
                if (pages.Needs.Count > 0 && !pages.Fetch()) inHand = false;
                if (!inHand) return false;
            }
        }

        // 3. The values.
        for (int i = 0; i < n; i++)
        {
            int at = 2 * (into + i);
            found[at + 1] = -1;
            if (s.Slots[i] is not { } slot) continue;
            if (!pattern.IsHashField)
            {
                if (slot.Type != KeyType.String) continue;
                found[at] = s.Keep(slot.Value);
                found[at + 1] = slot.Value.Length;
                continue;
            }
            if (slot.Type != KeyType.Hash) continue;
            if (PagedRoot.TryRead(slot.Value, out var meta))
            {
                var value = s.Value;
                value.ResetWrittenCount();
                if (!PagedHash.Lookup(meta, pattern.Field, pages.Pages, value)) continue;
                found[at] = s.Keep(value.WrittenSpan);
                found[at + 1] = value.WrittenCount;
            }
            else if (Hash.TryGet(slot.Value, pattern.Field, out var inline))
            {
                found[at] = s.Keep(inline);
                found[at + 1] = inline.Length;
            }
        }
        return true;
    }
}
