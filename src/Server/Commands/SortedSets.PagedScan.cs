using System.Buffers.Binary;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// ZSCAN on a paged set: a scan of its member -> score hash, with HSCAN's cursor (a bucket index) and so
/// its guarantee (a member present for the whole iteration is returned at least once). It read the whole set
/// into one reply with cursor 0, as for a listpack: 5M members would have been one reply of ~150 MB.
/// </summary>
internal static partial class SortedSetCommands
{
    private sealed class ScoreScanSink : IEntrySink
    {
        [ThreadStatic] private static ScoreScanSink? t_sink;

        private Protocol.RespWriter _reply = null!;
        private byte[] _pattern = new byte[64];
        private int _patternLength;
        public bool CountOnly;
        public long Counted;

        public static ScoreScanSink For(Protocol.RespWriter reply, scoped ReadOnlySpan<byte> pattern)
        {
            var s = t_sink ??= new ScoreScanSink();
            s._reply = reply;
            s.CountOnly = false;
            s.Counted = 0;
            if (s._pattern.Length < pattern.Length) s._pattern = new byte[pattern.Length];
            pattern.CopyTo(s._pattern);
            s._patternLength = pattern.Length;
            return s;
        }

        public void Entry(ReadOnlySpan<byte> member, ReadOnlySpan<byte> value)
        {
            if (_patternLength > 0 && !GlobMatcher.Match(_pattern.AsSpan(0, _patternLength), member)) return;
            if (CountOnly)
            {
                Counted++;
                return;
            }
            _reply.Bulk(member);
            // A bulk string in RESP3 too, as Redis's scan of a skiplist's scores (sds text).
            double score = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(value));
            Span<byte> text = stackalloc byte[32];
            _reply.Bulk(text[..Protocol.RespWriter.FormatDouble(score, text)]);
        }
    }

    /// <summary>One ZSCAN step over a paged set's hash: matches counted first (the reply's header), then written.</summary>
    private static void PagedScan(ref CommandContext ctx, in ZSetRoot root, ulong cursor, long count, scoped ReadOnlySpan<byte> pattern)
    {
        var pages = PagedAccess.Pages(ref ctx);
        int n = (int)Math.Min(count, int.MaxValue);
        while (true)
        {
            PagedHash.NeedsScan(root.Hash, cursor, n, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return;
        }
        var sink = ScoreScanSink.For(ctx.Reply, pattern);
        sink.CountOnly = true;
        ulong next = PagedHash.Scan(root.Hash, cursor, n, pages.Pages, sink);
        ctx.Reply.ArrayHeader(2);
        ctx.Reply.Bulk((long)next);
        ctx.Reply.ArrayHeader(sink.Counted * 2);
        sink.CountOnly = false;
        PagedHash.Scan(root.Hash, cursor, n, pages.Pages, sink);
    }
}
