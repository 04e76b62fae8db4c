using System.Buffers;
using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A list past list-max-listpack-size on a counted B+tree by position (<see cref="CountedTree"/>), its root
/// (<see cref="ListRoot"/>) in the key's record. Pure code over pages in hand, as the tree: each change is a
/// <c>Needs*</c> call and an apply; the callers loop needs -> fetch until nothing is missing. Every apply keeps
/// the root's Redis listpack weight (when known) and returns nothing about the AOF: the commands log one
/// <see cref="ElementRecord"/> per change (<see cref="Record"/>), numbered by the root's seq, and replay applies
/// them with <see cref="ApplyRecord"/>.
/// </summary>
public static class PagedList
{
    /// <summary>The longest element a paged list holds (a quarter page less the entry's framing: 1017 bytes at 4 KB pages).</summary>
    public static int MaxElementLength(in ListRoot root) => CountedTree.MaxElementLength(root.Tree);

    /// <summary>The longest element a new paged list would hold: a list with a longer one stays inline.</summary>
    public static readonly int NewMaxElementLength = CountedTree.MaxElementLength(TreeMeta.Create(1, TreeMode.Position));

    public static void NeedsAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs) => CountedTree.NeedsAt(root.Tree, index, pages, needs);

    public static void GetAt(in ListRoot root, ulong index, PageSet pages, IBufferWriter<byte> dest) => CountedTree.GetAt(root.Tree, index, pages, dest);

    public static void NeedsPush(in ListRoot root, bool head, PageSet pages, List<PageKey> needs)
        => CountedTree.NeedsInsertAt(root.Tree, head ? 0 : root.Count, pages, needs);

    public static void Push(ref ListRoot root, bool head, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
        => InsertAt(ref root, head ? 0 : root.Count, element, pages, store);

    public static void NeedsInsertAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs) => CountedTree.NeedsInsertAt(root.Tree, index, pages, needs);

    public static void InsertAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        CountedTree.InsertAt(ref root.Tree, index, element, pages, store);
        if (root.RedisBytes >= 0) root.RedisBytes += List.RedisEntryBytes(element);
    }

    public static void NeedsPop(in ListRoot root, bool head, PageSet pages, List<PageKey> needs)
    {
        if (root.Count > 0) CountedTree.NeedsRemoveAt(root.Tree, head ? 0 : root.Count - 1, pages, needs);
    }

    public static void NeedsRemoveAt(in ListRoot root, ulong index, PageSet pages, List<PageKey> needs) => CountedTree.NeedsRemoveAt(root.Tree, index, pages, needs);

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_removed;

    /// <summary>Removes the element at <paramref name="index"/>; its bytes go to <paramref name="removed"/> when given.</summary>
    public static void RemoveAt(ref ListRoot root, ulong index, PageSet pages, IPageStore store, ArrayBufferWriter<byte>? removed = null)
    {
        var into = removed ?? (t_removed ??= new ArrayBufferWriter<byte>(256));
        int before = into.WrittenCount;
        CountedTree.RemoveAt(ref root.Tree, index, pages, store, into);
        if (root.RedisBytes >= 0) root.RedisBytes -= List.RedisEntryBytes(into.WrittenSpan[before..]);
        if (removed is null) into.ResetWrittenCount();
        if (root.Count == 0) root.RedisBytes = ListRoot.RedisEmptyBytes;
    }

    /// <summary>LPOP/RPOP of one element (its bytes to <paramref name="removed"/> when given).</summary>
    public static void Pop(ref ListRoot root, bool head, PageSet pages, IPageStore store, ArrayBufferWriter<byte>? removed = null)
        => RemoveAt(ref root, head ? 0 : root.Count - 1, pages, store, removed);

    /// <summary>Pages <see cref="SetAt"/> needs (the path, and the siblings a shrinking leaf may take).</summary>
    public static void NeedsSetAt(in ListRoot root, ulong index, int newLength, PageSet pages, List<PageKey> needs)
        => CountedTree.NeedsSetAt(root.Tree, index, newLength, pages, needs);

    public static void SetAt(ref ListRoot root, ulong index, ReadOnlySpan<byte> element, PageSet pages, IPageStore store)
    {
        if (root.RedisBytes >= 0)
        {
            var old = t_removed ??= new ArrayBufferWriter<byte>(256);
            old.ResetWrittenCount();
            CountedTree.GetAt(root.Tree, index, pages, old);
            root.RedisBytes += List.RedisEntryBytes(element) - List.RedisEntryBytes(old.WrittenSpan);
        }
        CountedTree.SetAt(ref root.Tree, index, element, pages, store);
    }

    public static void NeedsRemoveRange(in ListRoot root, ulong rank, ulong count, PageSet pages, List<PageKey> needs)
        => CountedTree.NeedsRemoveRange(root.Tree, rank, count, pages, needs);

    /// <summary>One step of removing [rank, rank + count) (see <see cref="CountedTree.RemoveRange"/>): how many went. The Redis weight becomes unknown.</summary>
    public static ulong RemoveRange(ref ListRoot root, ulong rank, ulong count, PageSet pages, IPageStore store)
    {
        ulong n = CountedTree.RemoveRange(ref root.Tree, rank, count, pages, store);
        root.RedisBytes = root.Count == 0 ? ListRoot.RedisEmptyBytes : -1;
        return n;
    }

    // ---- element records ------------------------------------------------------------------------

    public const int FieldSize = 16;

    /// <summary>The record of a change numbered <paramref name="seq"/>; <paramref name="field"/> is its 16-byte buffer.</summary>
    public static ElementRecord Record(ElementOp op, ulong cid, ReadOnlySpan<byte> key, Span<byte> field, ulong seq, ulong arg, ReadOnlySpan<byte> value = default)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(field, seq);
        BinaryPrimitives.WriteUInt64LittleEndian(field[8..], arg);
        return new ElementRecord(op, cid, key, field[..FieldSize], value);
    }

    public static ulong SeqOf(in ElementRecord record) => BinaryPrimitives.ReadUInt64LittleEndian(record.Field);

    public static ulong ArgOf(in ElementRecord record) => BinaryPrimitives.ReadUInt64LittleEndian(record.Field[8..]);

    /// <summary>
    /// Replays one element record: applied when it is this life's (same cid) and past the root's seq, else
    /// skipped (false). <paramref name="fetch"/> reads the needs into the page set (replay's reads never wait).
    /// </summary>
    public static bool ApplyRecord(ref ListRoot root, in ElementRecord record, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        if (record.Cid != root.Cid || !record.IsList || record.Field.Length != FieldSize) return false;
        ulong seq = SeqOf(record), arg = ArgOf(record);
        if (seq <= root.Seq) return false;
        var op = record.Op;
        switch (op)
        {
            case ElementOp.LPush:
            case ElementOp.RPush:
                Ensure(root, op, 0, 0, 0, pages, needs, fetch);
                Push(ref root, op == ElementOp.LPush, record.Value, pages, store);
                break;
            case ElementOp.LPop:
            case ElementOp.RPop:
                for (ulong i = 0; i < arg && root.Count > 0; i++)
                {
                    Ensure(root, op, 0, 0, 0, pages, needs, fetch);
                    Pop(ref root, op == ElementOp.LPop, pages, store);
                }
                break;
            case ElementOp.LSet:
            case ElementOp.LRemAt:
                if (arg >= root.Count) throw new InvalidDataException($"{op} record at {arg} of a {root.Count}-element list");
                Ensure(root, op, arg, record.Value.Length, 0, pages, needs, fetch);
                if (op == ElementOp.LSet) SetAt(ref root, arg, record.Value, pages, store);
                else RemoveAt(ref root, arg, pages, store);
                break;
            case ElementOp.LInsert:
                if (arg > root.Count) throw new InvalidDataException($"LINSERT record at {arg} of a {root.Count}-element list");
                Ensure(root, op, arg, 0, 0, pages, needs, fetch);
                InsertAt(ref root, arg, record.Value, pages, store);
                break;
            case ElementOp.LRemRange:
                ulong left = BinaryPrimitives.ReadUInt64LittleEndian(record.Value);
                while (left > 0 && arg < root.Count)
                {
                    Ensure(root, op, arg, 0, left, pages, needs, fetch);
                    left -= RemoveRange(ref root, arg, left, pages, store);
                }
                break;
            default:
                return false;
        }
        root.Seq = seq;
        return true;
    }

    /// <summary>Reads what the record's next step needs, round after round (replay's reads complete before they return).</summary>
    private static void Ensure(in ListRoot root, ElementOp op, ulong arg, int length, ulong left, PageSet pages, List<PageKey> needs, Func<bool> fetch)
    {
        for (int round = 0; ; round++)
        {
            switch (op)
            {
                case ElementOp.LPush: NeedsPush(root, true, pages, needs); break;
                case ElementOp.RPush: NeedsPush(root, false, pages, needs); break;
                case ElementOp.LPop: NeedsPop(root, true, pages, needs); break;
                case ElementOp.RPop: NeedsPop(root, false, pages, needs); break;
                case ElementOp.LSet: NeedsSetAt(root, arg, length, pages, needs); break;
                case ElementOp.LInsert: NeedsInsertAt(root, arg, pages, needs); break;
                case ElementOp.LRemAt: NeedsRemoveAt(root, arg, pages, needs); break;
                case ElementOp.LRemRange: NeedsRemoveRange(root, arg, left, pages, needs); break;
            }
            if (needs.Count == 0) return;
            if (round > CountedTree.MaxHeight * 4) throw new InvalidOperationException("a list record's pages never came in hand");
            fetch();
        }
    }
}
