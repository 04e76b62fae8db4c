using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Short elements pushed at a paged list's ends that its tree has not taken yet, kept in the root (the key's record):
/// a push of one, or a pop of one, is then the root's read and write alone. Through the edge leaf it was 4 store
/// operations, 2.87 us of server CPU an LPUSH at P16 against Redis's 0.92 (README, issue 13). The list is
/// left side + tree + right side. A side holds entries <c>[bytes][u8 length]</c>, innermost first, so its outer end
/// (the list's head for the left side, its tail for the right) is the end of its used bytes: a push or pop there
/// moves no other entry, whatever the side holds. A push that finds its side full moves the side into the tree
/// (<see cref="PagedList.TryPush"/>); every change by position moves both first (<see cref="PagedList.TrySettle"/>).
/// The struct holds its sides as <see cref="Write"/> encodes them (root format 4), so the root's in-record edits
/// (<see cref="TryPushEncoded"/>, <see cref="TryPopEncoded"/>) and the parsed root are the same bytes.
/// </summary>
public struct ListEdges
{
    /// <summary>
    /// Bytes a side holds: 56 of RPOP's 16-byte elements, so the edge leaf's read and write on a refill come once in 56
    /// pops (at 240 bytes, once in 14: 15% of RPOP's CPU at P16), 256 of LPUSH's 3-byte ones.
    /// </summary>
    public const int SideBytes = 1024;

    /// <summary>Longer elements go to the tree (a side is for many short ones; a long one would flush it every push).</summary>
    public const int MaxElement = 64;

    /// <summary>Encoded: [left used u16][right used u16][left count u16][right count u16][left side][right side].</summary>
    public const int Size = HeaderSize + 2 * SideBytes;

    private const int HeaderSize = 8;

    /// <summary>Format 3's sides (root of 574 bytes): [left used u8][right used u8][left count u8][right count u8], 240 bytes a side of <c>[u8 length][bytes]</c> outermost first.</summary>
    public const int Format3Size = 4 + 2 * Format3SideBytes;

    private const int Format3SideBytes = 240;

    [InlineArray(2 * SideBytes)]
    private struct Bytes
    {
        private byte _first;
    }

    private Bytes _bytes;
    private ushort _leftUsed, _rightUsed, _leftCount, _rightCount;

    public readonly int Count(bool head) => head ? _leftCount : _rightCount;

    public readonly ulong Total => (ulong)(_leftCount + _rightCount);

    public readonly bool IsEmpty => (_leftCount | _rightCount) == 0;

    private readonly int Used(bool head) => head ? _leftUsed : _rightUsed;

    /// <summary>The bytes a side's entries take (<c>1 + length</c> each).</summary>
    public readonly int UsedBytes(bool head) => Used(head);

    [UnscopedRef]
    private Span<byte> Side(bool head) => ((Span<byte>)_bytes).Slice(head ? 0 : SideBytes, SideBytes);

    [UnscopedRef]
    private readonly ReadOnlySpan<byte> ReadSide(bool head) => ((ReadOnlySpan<byte>)_bytes).Slice(head ? 0 : SideBytes, SideBytes);

    private void SetSide(bool head, int used, int count)
    {
        if (head) { _leftUsed = (ushort)used; _leftCount = (ushort)count; }
        else { _rightUsed = (ushort)used; _rightCount = (ushort)count; }
    }

    /// <summary>Whether <paramref name="element"/> would go into the side now (short, and the side has room).</summary>
    public readonly bool Fits(bool head, int length) => length <= MaxElement && Used(head) + 1 + length <= SideBytes;

    /// <summary>Puts <paramref name="element"/> at the outer end of a side; false (nothing changed) when it does not fit.</summary>
    public bool TryAdd(bool head, ReadOnlySpan<byte> element)
    {
        if (!Fits(head, element.Length)) return false;
        var side = Side(head);
        int used = Used(head);
        element.CopyTo(side[used..]);
        side[used + element.Length] = (byte)element.Length;
        SetSide(head, used + 1 + element.Length, Count(head) + 1);
        return true;
    }

    /// <summary>Puts <paramref name="element"/> at the inner end of a side (next to the tree); false when it does not fit.</summary>
    public bool TryAddInner(bool head, ReadOnlySpan<byte> element)
    {
        if (!Fits(head, element.Length)) return false;
        var side = Side(head);
        int used = Used(head), size = 1 + element.Length;
        side[..used].CopyTo(side[size..]);
        element.CopyTo(side);
        side[element.Length] = (byte)element.Length;
        SetSide(head, used + size, Count(head) + 1);
        return true;
    }

    /// <summary>
    /// Puts <paramref name="count"/> entries encoded as a side holds them (innermost first) at the inner end of a side, in
    /// one move (a refilling pop's: one <see cref="TryAddInner"/> each moved the side every time). The caller checked the room.
    /// </summary>
    public void AddInnerEntries(bool head, ReadOnlySpan<byte> entries, int count)
    {
        if (count == 0) return;
        int used = Used(head);
        if (used + entries.Length > SideBytes || Count(head) + count > SideBytes) throw new InvalidOperationException("edge side entries past the side's room");
        var side = Side(head);
        side[..used].CopyTo(side[entries.Length..]);
        entries.CopyTo(side);
        SetSide(head, used + entries.Length, Count(head) + count);
    }

    /// <summary>The <paramref name="k"/>-th element of a side from its outer end.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> At(bool head, int k)
    {
        if ((uint)k >= (uint)Count(head)) throw new ArgumentOutOfRangeException(nameof(k));
        var side = ReadSide(head);
        int end = Used(head);
        for (int i = 0; i < k; i++) end -= 1 + side[end - 1];
        return EntryEndingAt(side, end);
    }

    private static ReadOnlySpan<byte> EntryEndingAt(ReadOnlySpan<byte> side, int end)
    {
        int length = side[end - 1];
        return side.Slice(end - 1 - length, length);
    }

    /// <summary>Removes the outermost element of a side (a pop at that end).</summary>
    public void RemoveOuter(bool head)
    {
        var side = Side(head);
        int used = Used(head), size = 1 + side[used - 1];
        side[(used - size)..used].Clear();
        SetSide(head, used - size, Count(head) - 1);
    }

    /// <summary>Removes the innermost element of a side (the one next to the tree).</summary>
    public void RemoveInner(bool head) => KeepOuter(head, Count(head) - 1);

    /// <summary>Keeps a side's <paramref name="keep"/> outermost entries (the inner ones went into the tree).</summary>
    public void KeepOuter(bool head, int keep)
    {
        var side = Side(head);
        int used = Used(head), start = used;
        for (int i = 0; i < keep; i++) start -= 1 + side[start - 1];
        side[start..used].CopyTo(side);
        side[(used - start)..used].Clear();
        SetSide(head, used - start, keep);
    }

    /// <summary>
    /// The element at list rank <paramref name="rank"/> when a side holds it (<paramref name="treeCount"/> elements
    /// between the sides); false for a rank in the tree, whose rank there is then <paramref name="treeRank"/>.
    /// </summary>
    [UnscopedRef]
    public readonly bool TryAtRank(ulong rank, ulong treeCount, out ReadOnlySpan<byte> element, out ulong treeRank)
    {
        element = default;
        treeRank = 0;
        if (rank < _leftCount)
        {
            element = At(true, (int)rank);
            return true;
        }
        rank -= _leftCount;
        if (rank < treeCount)
        {
            treeRank = rank;
            return false;
        }
        // The right side is tail first: its innermost element (k = count - 1) comes right after the tree.
        element = At(false, _rightCount - 1 - (int)(rank - treeCount));
        return true;
    }

    public readonly void Write(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(dest, _leftUsed);
        BinaryPrimitives.WriteUInt16LittleEndian(dest[2..], _rightUsed);
        BinaryPrimitives.WriteUInt16LittleEndian(dest[4..], _leftCount);
        BinaryPrimitives.WriteUInt16LittleEndian(dest[6..], _rightCount);
        ((ReadOnlySpan<byte>)_bytes).CopyTo(dest.Slice(HeaderSize, 2 * SideBytes));
    }

    /// <summary>
    /// The sides written by <see cref="Write"/>; false when the sizes cannot be (past a side, more entries than bytes).
    /// The entries are not walked here (every read of the root would): a length past its side fails a bounds check.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out ListEdges edges)
    {
        edges = default;
        if (src.Length < Size || !TrySizes(src, out int leftUsed, out int rightUsed, out int leftCount, out int rightCount)) return false;
        edges.SetSide(true, leftUsed, leftCount);
        edges.SetSide(false, rightUsed, rightCount);
        src.Slice(HeaderSize, leftUsed).CopyTo(edges.Side(true));
        src.Slice(HeaderSize + SideBytes, rightUsed).CopyTo(edges.Side(false));
        return true;
    }

    private static bool TrySizes(ReadOnlySpan<byte> src, out int leftUsed, out int rightUsed, out int leftCount, out int rightCount)
    {
        leftUsed = BinaryPrimitives.ReadUInt16LittleEndian(src);
        rightUsed = BinaryPrimitives.ReadUInt16LittleEndian(src[2..]);
        leftCount = BinaryPrimitives.ReadUInt16LittleEndian(src[4..]);
        rightCount = BinaryPrimitives.ReadUInt16LittleEndian(src[6..]);
        if (leftUsed > SideBytes || rightUsed > SideBytes || leftCount > leftUsed || rightCount > rightUsed) return false;
        return (leftCount == 0) == (leftUsed == 0) && (rightCount == 0) == (rightUsed == 0);
    }

    /// <summary>
    /// The sides of a format 3 root (<see cref="Format3Size"/> bytes: entries <c>[u8 length][bytes]</c>, outermost first), in
    /// this layout; false when their sizes or entries do not add up.
    /// </summary>
    public static bool TryReadFormat3(ReadOnlySpan<byte> src, out ListEdges edges)
    {
        edges = default;
        if (src.Length < Format3Size || src[0] > Format3SideBytes || src[1] > Format3SideBytes || src[2] > src[0] || src[3] > src[1]) return false;
        if ((src[2] == 0) != (src[0] == 0) || (src[3] == 0) != (src[1] == 0)) return false;
        Span<int> offsets = stackalloc int[Format3SideBytes];
        for (int s = 0; s < 2; s++)
        {
            bool head = s == 0;
            var side = src.Slice(4 + (head ? 0 : Format3SideBytes), src[s]);
            int count = src[2 + s], pos = 0;
            for (int i = 0; i < count; i++)
            {
                if (pos >= side.Length || pos + 1 + side[pos] > side.Length) return false;
                offsets[i] = pos;
                pos += 1 + side[pos];
            }
            if (pos != side.Length) return false;
            // Innermost first, each at the outer end.
            for (int i = count - 1; i >= 0; i--)
                if (!edges.TryAdd(head, side.Slice(offsets[i] + 1, side[offsets[i]]))) return false;
        }
        return true;
    }

    /// <summary>
    /// The offsets of a side's entries, outermost first, into <paramref name="offsets"/> (at least <see cref="Count"/> long):
    /// each is where its entry ends, for <see cref="EntryAt"/>.
    /// </summary>
    public readonly void Offsets(bool head, Span<int> offsets)
    {
        var side = ReadSide(head);
        for (int i = 0, end = Used(head); i < Count(head); i++)
        {
            offsets[i] = end;
            end -= 1 + side[end - 1];
        }
    }

    /// <summary>The entry at offset <paramref name="offset"/> of a side (from <see cref="Offsets"/>).</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> EntryAt(bool head, int offset) => EntryEndingAt(ReadSide(head), offset);

    /// <summary>
    /// <see cref="TryAdd"/> of every element in <paramref name="elements"/> (listpack entries, in push order) on the sides as
    /// <see cref="Write"/> encodes them, in place (the root's record, inside the store's RMW: no parse, no copy of the root).
    /// All or nothing: false, <paramref name="encoded"/> unchanged, when one would not fit. Their listpack weight goes to
    /// <paramref name="weight"/>.
    /// </summary>
    public static bool TryPushEncoded(Span<byte> encoded, bool head, ReadOnlySpan<byte> elements, out int added, out long weight)
    {
        added = 0;
        weight = 0;
        if (encoded.Length < Size) return false;
        int usedAt = head ? 0 : 2, used = BinaryPrimitives.ReadUInt16LittleEndian(encoded[usedAt..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(encoded[(usedAt + 4)..]);
        if (used > SideBytes || count > used) return false;
        var r = new Listpack.Reader(elements, 0);
        int total = used;
        while (r.Next(out var e))
        {
            if (e.Length > MaxElement || (total += 1 + e.Length) > SideBytes) return false;
            added++;
        }
        var side = encoded.Slice(HeaderSize + (head ? 0 : SideBytes), SideBytes);
        r = new Listpack.Reader(elements, 0);
        while (r.Next(out var e))
        {
            e.CopyTo(side[used..]);
            side[used + e.Length] = (byte)e.Length;
            used += 1 + e.Length;
            weight += List.RedisEntryBytes(e);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(encoded[usedAt..], (ushort)used);
        BinaryPrimitives.WriteUInt16LittleEndian(encoded[(usedAt + 4)..], (ushort)(count + added));
        return true;
    }

    /// <summary>
    /// <see cref="RemoveOuter"/> of <paramref name="take"/> elements of a side as <see cref="Write"/> encodes it, in place: their
    /// entries are copied to <paramref name="popped"/> as <c>[u8 length][bytes]</c> in the pop's order (outermost first), and
    /// their listpack weight goes to <paramref name="weight"/>. False, nothing changed, when the side holds fewer.
    /// </summary>
    public static bool TryPopEncoded(Span<byte> encoded, bool head, int take, Span<byte> popped, out int poppedBytes, out long weight)
    {
        poppedBytes = 0;
        weight = 0;
        int usedAt = head ? 0 : 2, used = BinaryPrimitives.ReadUInt16LittleEndian(encoded[usedAt..]);
        int count = BinaryPrimitives.ReadUInt16LittleEndian(encoded[(usedAt + 4)..]);
        if (take <= 0 || count < take || used > SideBytes) return false;
        var side = encoded.Slice(HeaderSize + (head ? 0 : SideBytes), SideBytes);
        int end = used, o = 0;
        for (int i = 0; i < take; i++)
        {
            int length = side[end - 1];
            if (length + 1 > end) throw new InvalidDataException("a paged list's edge side runs past its used bytes");
            var e = side.Slice(end - 1 - length, length);
            popped[o] = (byte)length;
            e.CopyTo(popped[(o + 1)..]);
            o += 1 + length;
            weight += List.RedisEntryBytes(e);
            end -= 1 + length;
        }
        side[end..used].Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(encoded[usedAt..], (ushort)end);
        BinaryPrimitives.WriteUInt16LittleEndian(encoded[(usedAt + 4)..], (ushort)(count - take));
        poppedBytes = o;
        return true;
    }

    /// <summary>The count of an encoded side (<see cref="Write"/>'s), without a parse.</summary>
    public static int EncodedCount(ReadOnlySpan<byte> encoded, bool head) => BinaryPrimitives.ReadUInt16LittleEndian(encoded[(head ? 4 : 6)..]);
}
