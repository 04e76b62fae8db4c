using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>LINDEX, LRANGE, LPOS over a paged list. False when the command stopped (it waits on disk and runs again).</summary>
internal static class PagedListReads
{
    /// <summary>LINDEX: the path to the rank's leaf (one page a level, the counts walked), then the element.</summary>
    public static bool Index(ref CommandContext ctx, in ListRoot root, ulong index)
    {
        var pages = PagedAccess.Pages(ref ctx);
        while (true)
        {
            PagedList.NeedsAt(root, index, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return false;
        }
        var value = PagedAccess.Value;
        PagedList.GetAt(root, index, pages.Pages, value);
        ctx.Reply.Bulk(value.WrittenSpan);
        return true;
    }

    /// <summary>
    /// LRANGE's elements [from, from + n) (the header written by the caller on the first attempt), streamed a round of
    /// leaves at a time: a round that goes to disk stops the attempt, and the rerun resumes there (the walk keeps
    /// the elements replied), the finished rounds' reply kept and their slots given back, as HGETALL's walk.
    /// </summary>
    public static bool Range(ref CommandContext ctx, BucketWalk walk, in ListRoot root, ulong from, ulong n)
    {
        var store = Db.Store(ref ctx);
        var pages = PagedAccess.Pages(ref ctx);
        var r = ctx.Reply;
        ulong done = walk.BeginRanks(store, r.Mark);
        if (done == ulong.MaxValue) return true;
        var sink = ListScan.Replier.For(r);
        while (done < n)
        {
            int mark = store.OperationCursor;
            ulong round = Math.Min(n - done, ListScan.Chunk);
            if (!ListScan.FetchRange(pages, root, from + done, round, reverse: false)) return false;
            ListScan.Visit(root, from + done, round, false, pages.Pages, sink);
            done += round;
            walk.RankRoundDone(done, mark, r.Mark);
            pages.Pages.Clear();
        }
        walk.Stop();
        return true;
    }

    /// <summary>
    /// Runs <paramref name="m"/> over the list from its head (or tail), a chunk of leaves at a time, until it has what it
    /// wants or MAXLEN elements were compared (LPOS, LREM, LINSERT's pivot). False when stopped.
    /// </summary>
    public static bool Scan(CommandPages pages, in ListRoot root, PosMatcher m)
    {
        ulong span = m.MaxLen == 0 ? root.Count : Math.Min((ulong)m.MaxLen, root.Count);
        for (ulong done = 0; done < span && !m.Full;)
        {
            ulong chunk = Math.Min(span - done, ListScan.Chunk);
            ulong at = m.FromTail ? root.Count - 1 - done : done;
            if (!ListScan.FetchRange(pages, root, at, chunk, m.FromTail)) return false;
            ListScan.Visit(root, at, chunk, m.FromTail, pages.Pages, m);
            done += chunk;
        }
        return true;
    }

    /// <summary>
    /// Compares every element it is given with one value, by position from the scan's start (LPOS, LREM, LINSERT):
    /// the positions matched from the <see cref="Rank"/>-th match on, up to <see cref="Want"/> (0 = all).
    /// </summary>
    public sealed class PosMatcher : ITreeSink
    {
        [ThreadStatic] private static PosMatcher? t_matcher;
        private byte[] _element = new byte[64];
        private int _length;
        public long Rank = 1, Want, MaxLen;
        public bool FromTail;
        public ulong Count;
        public long Seen;
        public readonly List<ulong> Found = new();
        private ulong _total;

        public static PosMatcher For(ReadOnlySpan<byte> element, long rank, long want, long maxLen, bool fromTail, ulong total)
        {
            var m = t_matcher ??= new PosMatcher();
            if (m._element.Length < element.Length) m._element = new byte[element.Length];
            element.CopyTo(m._element);
            m._length = element.Length;
            m.Rank = rank;
            m.Want = want;
            m.MaxLen = maxLen;
            m.FromTail = fromTail;
            m._total = total;
            m.Count = 0;
            m.Seen = 0;
            m.Found.Clear();
            return m;
        }

        public bool Full => Want != 0 && Found.Count >= Want;

        public void Element(ReadOnlySpan<byte> element)
        {
            ulong k = Count++;
            if (Full || !element.SequenceEqual(_element.AsSpan(0, _length))) return;
            if (++Seen < Rank) return;
            Found.Add(FromTail ? _total - 1 - k : k);
        }
    }
}
