using System.Buffers;
using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A paged list's elements longer than a tree entry takes (<see cref="CountedTree.MaxElementLength"/>, 1017 bytes at
/// 4 KB pages): the bytes go into write-once chunk records <c>(cid, 'C', n)</c> of up to <see cref="ChunkSize"/>, numbered
/// by the tree's page allocator, and the leaf holds a reference with its tag's out-of-line bit set:
/// <code>[first chunk u64 LE][element length u32 LE]</code>
/// The tree moves a reference as any entry (splits, merges, pushes and pops at the edges); the list's code reads its
/// chunks only where the element's bytes are wanted (LINDEX, LRANGE, a pop's reply), deletes them when the element
/// goes, and writes new ones when it comes back (an LSET, a move to another list). Chunks are never rewritten in place.
/// </summary>
public static class ListChunks
{
    /// <summary>Bytes of a reference entry.</summary>
    public const int ReferenceSize = 12;

    /// <summary>A chunk's bytes: as a paged hash's value chunks (a 64 KB record is one read, and 16 of them a MB).</summary>
    public const int ChunkSize = PagedHash.ValueChunkSize;

    /// <summary>Whether an element goes out of line in this tree.</summary>
    public static bool IsLong(in TreeMeta meta, int length) => length > CountedTree.MaxElementLength(meta);

    /// <summary>The bytes its leaf entry holds: the element's, or a reference's.</summary>
    public static int EntryLength(in TreeMeta meta, int length) => IsLong(meta, length) ? ReferenceSize : length;

    public static int ChunksOf(long length) => (int)((length + ChunkSize - 1) / ChunkSize);

    public static PageKey ChunkKey(in TreeMeta meta, ulong no) => new(meta.Cid, PageKind.Chunk, no);

    /// <summary>The element's length from its reference.</summary>
    public static int LengthOf(ReadOnlySpan<byte> reference) => (int)BinaryPrimitives.ReadUInt32LittleEndian(Check(reference)[8..]);

    internal static ulong FirstOf(ReadOnlySpan<byte> reference) => BinaryPrimitives.ReadUInt64LittleEndian(Check(reference));

    private static ReadOnlySpan<byte> Check(ReadOnlySpan<byte> reference)
        => reference.Length == ReferenceSize ? reference : throw new InvalidDataException($"an out-of-line list element's reference of {reference.Length} bytes");

    /// <summary>
    /// Writes <paramref name="element"/>'s chunks under new numbers from the tree's allocator and its reference into
    /// <paramref name="reference"/> (<see cref="ReferenceSize"/> bytes); the tree counts one more out-of-line entry.
    /// The chunks are in hand from now on: a read later in the same command (LINSERT's pivot scan over a list the
    /// command just made paged, whose pages the store is never asked for) finds them.
    /// </summary>
    public static void Write(ref TreeMeta meta, ReadOnlySpan<byte> element, Span<byte> reference, PageSet pages, IPageStore store)
    {
        ulong first = meta.NextPage;
        int n = ChunksOf(element.Length);
        meta.NextPage += (ulong)n;
        for (int i = 0; i < n; i++)
        {
            int at = i * ChunkSize;
            var key = ChunkKey(meta, first + (ulong)i);
            pages.Put(key, element.Slice(at, Math.Min(ChunkSize, element.Length - at)));
            store.Write(key, pages.Get(key));
        }
        BinaryPrimitives.WriteUInt64LittleEndian(reference, first);
        BinaryPrimitives.WriteUInt32LittleEndian(reference[8..], (uint)element.Length);
        meta.OutOfLine++;
    }

    /// <summary>Deletes the chunks of a reference whose entry left the tree.</summary>
    public static void Delete(ref TreeMeta meta, ReadOnlySpan<byte> reference, PageSet pages, IPageStore store)
    {
        ulong first = FirstOf(reference);
        for (int i = 0, n = ChunksOf(LengthOf(reference)); i < n; i++)
        {
            var key = ChunkKey(meta, first + (ulong)i);
            store.Delete(key);
            if (pages.State(key) != PageState.NotInHand) pages.PutMissing(key);
        }
        if (meta.OutOfLine == 0) throw new InvalidDataException($"collection {meta.Cid} drops an out-of-line element it does not count");
        meta.OutOfLine--;
    }

    /// <summary>Names the chunks of a reference that are not in hand; true when all are.</summary>
    public static bool Needs(in TreeMeta meta, ReadOnlySpan<byte> reference, PageSet pages, List<PageKey> needs)
    {
        ulong first = FirstOf(reference);
        bool inHand = true;
        for (int i = 0, n = ChunksOf(LengthOf(reference)); i < n; i++)
        {
            var key = ChunkKey(meta, first + (ulong)i);
            var state = pages.State(key);
            if (state == PageState.Present) continue;
            if (state == PageState.Missing) throw new InvalidDataException($"chunk {first + (ulong)i} of collection {meta.Cid} is missing");
            inHand = false;
            if (pages.MarkNeeded(key)) needs.Add(key);
        }
        return inHand;
    }

    /// <summary>The element a reference names, from its chunks (in hand: <see cref="Needs"/>), appended to <paramref name="dest"/>.</summary>
    public static void Gather(in TreeMeta meta, ReadOnlySpan<byte> reference, PageSet pages, IBufferWriter<byte> dest)
    {
        ulong first = FirstOf(reference);
        int length = LengthOf(reference);
        for (int i = 0, n = ChunksOf(length); i < n; i++)
        {
            var chunk = pages.Get(ChunkKey(meta, first + (ulong)i));
            if (chunk.Length != Math.Min(ChunkSize, length - i * ChunkSize))
                throw new InvalidDataException($"chunk {first + (ulong)i} of collection {meta.Cid} holds {chunk.Length} bytes of a {length}-byte element");
            dest.Write(chunk);
        }
    }

    /// <summary>
    /// A range read's first pass over leaves in hand: names the chunks of every out-of-line entry it is given that are not in
    /// hand. The reference is the entry's last <see cref="ReferenceSize"/> bytes: the whole entry of a list, a sorted set's
    /// after its score and prefix (<see cref="ZSetLongMembers"/>).
    /// </summary>
    public sealed class Namer : ITreeSink
    {
        [ThreadStatic] private static Namer? t_namer;
        private TreeMeta _tree;
        private PageSet _pages = null!;
        private List<PageKey> _needs = null!;

        public static Namer For(in TreeMeta tree, PageSet pages, List<PageKey> needs)
        {
            var n = t_namer ??= new Namer();
            n._tree = tree;
            n._pages = pages;
            n._needs = needs;
            return n;
        }

        public void Element(ReadOnlySpan<byte> element) { }

        public void OutOfLine(ReadOnlySpan<byte> entry) => Needs(_tree, entry[^ReferenceSize..], _pages, _needs);
    }

    /// <summary>
    /// Hands its sink the elements kept out of line gathered from their chunks (in hand: <see cref="Namer"/>), the others as
    /// they are. An out-of-line entry's first <paramref name="keep"/> bytes come before its gathered bytes: 0 for a list,
    /// the score for a sorted set's long key (so its sink gets <c>[score][member]</c> whole).
    /// </summary>
    public sealed class Resolver : ITreeSink
    {
        [ThreadStatic] private static Resolver? t_resolver;
        private ArrayBufferWriter<byte> _element = new(ChunkSize);
        private TreeMeta _tree;
        private PageSet _pages = null!;
        private ITreeSink _sink = null!;
        private int _keep;

        public static Resolver For(in TreeMeta tree, PageSet pages, ITreeSink sink, int keep = 0)
        {
            var r = t_resolver ??= new Resolver();
            r._tree = tree;
            r._pages = pages;
            r._sink = sink;
            r._keep = keep;
            return r;
        }

        public void Element(ReadOnlySpan<byte> element) => _sink.Element(element);

        public void OutOfLine(ReadOnlySpan<byte> entry)
        {
            _element.ResetWrittenCount();
            _element.Write(entry[.._keep]);
            Gather(_tree, entry[^ReferenceSize..], _pages, _element);
            _sink.Element(_element.WrittenSpan);
            // A reactor keeps no more than a MB after an element of many.
            if (_element.Capacity > 16 * ChunkSize) _element = new(ChunkSize);
        }
    }
}
