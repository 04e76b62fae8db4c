using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// Short elements pushed at a paged list's ends that its tree has not taken yet, kept in the root (the key's record):
/// a push of one, or a pop of one, is then the root's read and write alone. Through the edge leaf it was 4 store
/// operations, 2.87 us of server CPU an LPUSH at P16 against Redis's 0.92 (README, issue 13). The list is
/// left side + tree + right side. A side holds entries <c>[u8 length][bytes]</c>, outermost first: the left side's
/// first entry is the list's head, the right side's first its tail. A push that finds its side full moves the side
/// into the tree (<see cref="PagedList.TryPush"/>); every change by position moves both first (<see cref="PagedList.TrySettle"/>).
/// </summary>
public struct ListEdges
{
    /// <summary>Bytes a side holds: 60 of redis-benchmark's 3-byte elements, so a leaf's read and write come once in 60 pushes.</summary>
    public const int SideBytes = 240;

    /// <summary>Longer elements go to the tree (a side is for many short ones; a long one would flush it every push).</summary>
    public const int MaxElement = 64;

    /// <summary>Encoded: [left used u8][right used u8][left count u8][right count u8][left side][right side].</summary>
    public const int Size = 4 + 2 * SideBytes;

    [InlineArray(2 * SideBytes)]
    private struct Bytes
    {
        private byte _first;
    }

    private Bytes _bytes;
    private byte _leftUsed, _rightUsed, _leftCount, _rightCount;

    public readonly int Count(bool head) => head ? _leftCount : _rightCount;

    public readonly ulong Total => (ulong)(_leftCount + _rightCount);

    public readonly bool IsEmpty => (_leftCount | _rightCount) == 0;

    private readonly int Used(bool head) => head ? _leftUsed : _rightUsed;

    [UnscopedRef]
    private Span<byte> Side(bool head) => ((Span<byte>)_bytes).Slice(head ? 0 : SideBytes, SideBytes);

    [UnscopedRef]
    private readonly ReadOnlySpan<byte> ReadSide(bool head) => ((ReadOnlySpan<byte>)_bytes).Slice(head ? 0 : SideBytes, SideBytes);

    /// <summary>Whether <paramref name="element"/> would go into the side now (short, and the side has room).</summary>
    public readonly bool Fits(bool head, int length) => length <= MaxElement && Used(head) + 1 + length <= SideBytes;

    /// <summary>Puts <paramref name="element"/> at the outer end of a side; false (nothing changed) when it does not fit.</summary>
    public bool TryAdd(bool head, ReadOnlySpan<byte> element)
    {
        if (!Fits(head, element.Length)) return false;
        var side = Side(head);
        int used = Used(head), size = 1 + element.Length;
        side[..used].CopyTo(side[size..]);
        side[0] = (byte)element.Length;
        element.CopyTo(side[1..]);
        if (head) { _leftUsed += (byte)size; _leftCount++; }
        else { _rightUsed += (byte)size; _rightCount++; }
        return true;
    }

    /// <summary>Puts <paramref name="element"/> at the inner end of a side (next to the tree); false when it does not fit.</summary>
    public bool TryAddInner(bool head, ReadOnlySpan<byte> element)
    {
        if (!Fits(head, element.Length)) return false;
        var side = Side(head);
        int used = Used(head), size = 1 + element.Length;
        side[used] = (byte)element.Length;
        element.CopyTo(side[(used + 1)..]);
        if (head) { _leftUsed += (byte)size; _leftCount++; }
        else { _rightUsed += (byte)size; _rightCount++; }
        return true;
    }

    /// <summary>The <paramref name="k"/>-th element of a side from its outer end.</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> At(bool head, int k)
    {
        if ((uint)k >= (uint)Count(head)) throw new ArgumentOutOfRangeException(nameof(k));
        var side = ReadSide(head);
        int pos = 0;
        for (int i = 0; i < k; i++) pos += 1 + side[pos];
        return side.Slice(pos + 1, side[pos]);
    }

    /// <summary>Removes the outermost element of a side (a pop at that end).</summary>
    public void RemoveOuter(bool head)
    {
        var side = Side(head);
        int used = Used(head), size = 1 + side[0];
        side[size..used].CopyTo(side);
        side[(used - size)..used].Clear();
        Shrink(head, size);
    }

    /// <summary>Removes the innermost element of a side (the one next to the tree).</summary>
    public void RemoveInner(bool head)
    {
        int n = Count(head);
        var side = Side(head);
        int pos = 0;
        for (int i = 0; i < n - 1; i++) pos += 1 + side[pos];
        int size = 1 + side[pos];
        side.Slice(pos, size).Clear();
        Shrink(head, size);
    }

    private void Shrink(bool head, int size)
    {
        if (head) { _leftUsed -= (byte)size; _leftCount--; }
        else { _rightUsed -= (byte)size; _rightCount--; }
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
        dest[0] = _leftUsed;
        dest[1] = _rightUsed;
        dest[2] = _leftCount;
        dest[3] = _rightCount;
        ((ReadOnlySpan<byte>)_bytes).CopyTo(dest.Slice(4, 2 * SideBytes));
    }

    /// <summary>
    /// The sides written by <see cref="Write"/>; false when the sizes cannot be (past a side, more entries than bytes).
    /// The entries are not walked here (every read of the root would): a length past its side fails a bounds check.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out ListEdges edges)
    {
        edges = default;
        if (src.Length < Size || src[0] > SideBytes || src[1] > SideBytes || src[2] > src[0] || src[3] > src[1]) return false;
        if ((src[2] == 0) != (src[0] == 0) || (src[3] == 0) != (src[1] == 0)) return false;
        edges._leftUsed = src[0];
        edges._rightUsed = src[1];
        edges._leftCount = src[2];
        edges._rightCount = src[3];
        src.Slice(4, src[0]).CopyTo(edges.Side(true));
        src.Slice(4 + SideBytes, src[1]).CopyTo(edges.Side(false));
        return true;
    }

    /// <summary>
    /// The offsets of a side's entries, outermost first, into <paramref name="offsets"/> (at least <see cref="Count"/> long).
    /// </summary>
    public readonly void Offsets(bool head, Span<int> offsets)
    {
        var side = ReadSide(head);
        for (int i = 0, pos = 0; i < Count(head); i++)
        {
            offsets[i] = pos;
            pos += 1 + side[pos];
        }
    }

    /// <summary>The entry at byte <paramref name="offset"/> of a side (from <see cref="Offsets"/>).</summary>
    [UnscopedRef]
    public readonly ReadOnlySpan<byte> EntryAt(bool head, int offset)
    {
        var side = ReadSide(head);
        return side.Slice(offset + 1, side[offset]);
    }

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
        int usedAt = head ? 0 : 1, used = encoded[usedAt];
        if (used > SideBytes || encoded[usedAt + 2] > used) return false;
        var r = new Listpack.Reader(elements, 0);
        int total = used;
        while (r.Next(out var e))
        {
            if (e.Length > MaxElement || (total += 1 + e.Length) > SideBytes) return false;
            added++;
        }
        if (encoded[usedAt + 2] + added > byte.MaxValue) return false;
        var side = encoded.Slice(4 + (head ? 0 : SideBytes), SideBytes);
        r = new Listpack.Reader(elements, 0);
        while (r.Next(out var e))
        {
            int size = 1 + e.Length;
            side[..used].CopyTo(side[size..]);
            side[0] = (byte)e.Length;
            e.CopyTo(side[1..]);
            used += size;
            weight += List.RedisEntryBytes(e);
        }
        encoded[usedAt] = (byte)used;
        encoded[usedAt + 2] += (byte)added;
        return true;
    }

    /// <summary>
    /// <see cref="RemoveOuter"/> of <paramref name="take"/> elements of a side as <see cref="Write"/> encodes it, in place: their
    /// entries (<c>[u8 length][bytes]</c>, outermost first: the pop's order) are copied to <paramref name="popped"/> and their
    /// listpack weight goes to <paramref name="weight"/>. False, nothing changed, when the side holds fewer.
    /// </summary>
    public static bool TryPopEncoded(Span<byte> encoded, bool head, int take, Span<byte> popped, out int poppedBytes, out long weight)
    {
        poppedBytes = 0;
        weight = 0;
        int usedAt = head ? 0 : 1, used = encoded[usedAt], count = encoded[usedAt + 2];
        if (take <= 0 || count < take || used > SideBytes) return false;
        var side = encoded.Slice(4 + (head ? 0 : SideBytes), SideBytes);
        int cut = 0;
        for (int i = 0; i < take; i++)
        {
            int length = side[cut];
            if (cut + 1 + length > used) throw new InvalidDataException("a paged list's edge side runs past its used bytes");
            weight += List.RedisEntryBytes(side.Slice(cut + 1, length));
            cut += 1 + length;
        }
        side[..cut].CopyTo(popped);
        side[cut..used].CopyTo(side);
        side[(used - cut)..used].Clear();
        encoded[usedAt] = (byte)(used - cut);
        encoded[usedAt + 2] = (byte)(count - take);
        poppedBytes = cut;
        return true;
    }

    /// <summary>Keeps a side's <paramref name="keep"/> outermost entries, the first <paramref name="used"/> bytes.</summary>
    public void Truncate(bool head, int keep, int used)
    {
        Side(head)[used..Used(head)].Clear();
        if (head) { _leftUsed = (byte)used; _leftCount = (byte)keep; }
        else { _rightUsed = (byte)used; _rightCount = (byte)keep; }
    }
}
