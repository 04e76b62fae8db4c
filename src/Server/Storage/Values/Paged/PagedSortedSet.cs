using System.Buffers;
using System.Buffers.Binary;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// A sorted set past the listpack thresholds on pages (<see cref="ZSetRoot"/>): a counted B+tree in Ordered
/// mode over (score, member) keys (<see cref="TreeKeys"/>) for ranks and ranges, and a paged hash member ->
/// score for look-ups, under one cid. Pure code over pages in hand, as the tree and the hash, but each change
/// here is several steps (look the member up, then the tree, then the hash), and a step's pages depend on the
/// one before (the old score names the tree key to delete). So every operation takes the caller's
/// <c>fetch</c> (read the needs into the page set): each step loops needs -> fetch, then applies. False from an
/// operation: a read went to disk (fetch said so) and the caller stops; its changes so far are only in the page
/// set and the staged store, which the caller drops (a command's rerun starts over, as a paged list's push loop
/// does). Replay's fetch always completes. Members of any length: a long one's tree entry is a prefix and a reference to
/// chunks holding it (<see cref="ZSetLongMembers"/>); searches go by the full key, readers get full keys.
/// </summary>
public static class PagedSortedSet
{
    [ThreadStatic] private static byte[]? t_key;
    [ThreadStatic] private static byte[]? t_entry;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_value;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_removed;
    [ThreadStatic] private static ArrayBufferWriter<byte>? t_deleted;

    /// <summary>The full key (score, member) in a per-thread buffer: what every descent searches by, whatever the member's length.</summary>
    private static Span<byte> KeyOf(double score, ReadOnlySpan<byte> member)
    {
        int len = TreeKeys.KeyLength(member.Length);
        // A reactor keeps no more than a MB after a long member.
        var buf = t_key is { } b && b.Length >= len && (b.Length <= 1 << 20 || len > 1 << 19) ? b : t_key = new byte[Math.Max(len, 1024)];
        TreeKeys.Write(score, member, buf);
        return buf.AsSpan(0, len);
    }

    /// <summary>
    /// The tree entry of (score, member): the key itself, or for a long member (<see cref="ZSetLongMembers"/>) its prefix
    /// and a reference to the chunks written now (counted in the tree's meta).
    /// </summary>
    private static ReadOnlySpan<byte> EntryOf(ref TreeMeta tree, double score, ReadOnlySpan<byte> member, ReadOnlySpan<byte> key, PageSet pages, IPageStore store, out bool outOfLine)
    {
        outOfLine = ZSetLongMembers.IsLong(tree, member.Length);
        if (!outOfLine) return key;
        var buf = t_entry ??= new byte[1 << 16];
        return buf.AsSpan(0, ZSetLongMembers.WriteEntry(ref tree, score, member, buf, pages, store));
    }

    /// <summary>
    /// Removes the tree's entry for <paramref name="key"/>, reading its pages through <paramref name="fetch"/>, and the
    /// chunks of a long one (deleted blind: none is read). False when stopped.
    /// </summary>
    private static bool TryDeleteKey(ref ZSetRoot root, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        var removed = t_deleted ??= new ArrayBufferWriter<byte>(256);
        removed.ResetWrittenCount();
        // No long entry in the tree (OutOfLine counts them): nothing to copy out.
        if (!CountedTree.TryDelete(ref root.Tree, key, pages, needs, store, fetch, root.Tree.OutOfLine > 0 ? removed : null, out bool found, out bool outOfLine))
            return false;
        if (!found) throw new InvalidDataException($"member of collection {root.Cid} in its hash but not in its tree");
        if (outOfLine) ListChunks.Delete(ref root.Tree, ZSetLongMembers.ReferenceOf(removed.WrittenSpan), pages, store);
        return true;
    }

    private static void Settle(ref int rounds)
    {
        if (++rounds > CountedTree.MaxHeight * 4) throw new InvalidOperationException("a sorted set step's pages never came in hand");
    }

    // ---- reads ----------------------------------------------------------------------------------

    /// <summary>
    /// Names the pages a ZADD of <paramref name="member"/> at <paramref name="score"/> would read first (its
    /// bucket, the tree's path to its place) without waiting: a command of many members names them all before its
    /// first, so a cold set waits on disk once a level, not once a member (each wait runs the command again from
    /// its first member, its writes being only staged).
    /// </summary>
    public static void NeedsAdd(in ZSetRoot root, ReadOnlySpan<byte> member, double score, PageSet pages, List<PageKey> needs)
    {
        if (root.Hash.Count > 0) PagedHash.NeedsLookup(root.Hash, member, pages, needs);
        if (root.Count > 0) CountedTree.NeedsInsert(root.Tree, KeyOf(score, member), pages, needs);
    }

    /// <summary>ZSCORE: whether <paramref name="member"/> is there, and its score. False when stopped.</summary>
    public static bool TryScore(in ZSetRoot root, ReadOnlySpan<byte> member, PageSet pages, List<PageKey> needs, Func<bool> fetch, out bool found, out double score)
    {
        found = false;
        score = 0;
        // The hash's count: in a removal the tree may have let the member go already.
        if (root.Hash.Count == 0) return true;
        for (int rounds = 0; ; Settle(ref rounds))
        {
            PagedHash.NeedsLookup(root.Hash, member, pages, needs);
            if (needs.Count == 0) break;
            if (!fetch()) return false;
        }
        var value = t_value ??= new ArrayBufferWriter<byte>(16);
        value.ResetWrittenCount();
        if (!PagedHash.Lookup(root.Hash, member, pages, value)) return true;
        if (value.WrittenCount != 8) throw new InvalidDataException($"a sorted set score of {value.WrittenCount} bytes in collection {root.Cid}");
        score = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(value.WrittenSpan));
        found = true;
        return true;
    }

    /// <summary>
    /// The rank of the first key at or past <paramref name="key"/> (a score bound of 8 bytes, or score + member):
    /// a range's start or end, ZCOUNT as the difference of two. False when stopped.
    /// </summary>
    public static bool TryRankOf(in ZSetRoot root, ReadOnlySpan<byte> key, PageSet pages, List<PageKey> needs, Func<bool> fetch, out ulong rank, out bool exact)
    {
        rank = 0;
        exact = false;
        if (root.Count == 0) return true;
        for (int rounds = 0; ; Settle(ref rounds))
        {
            CountedTree.NeedsSeek(root.Tree, key, pages, needs);
            if (needs.Count == 0) break;
            if (!fetch()) return false;
        }
        rank = CountedTree.Rank(root.Tree, key, pages, out exact);
        return true;
    }

    /// <summary>ZRANK: the member's rank from the lowest (found false when absent) and its score. False when stopped.</summary>
    public static bool TryRank(in ZSetRoot root, ReadOnlySpan<byte> member, PageSet pages, List<PageKey> needs, Func<bool> fetch, out bool found, out ulong rank, out double score)
    {
        rank = 0;
        if (!TryScore(root, member, pages, needs, fetch, out found, out score)) return false;
        if (!found) return true;
        if (!TryRankOf(root, KeyOf(score, member), pages, needs, fetch, out rank, out bool exact)) return false;
        if (!exact) throw new InvalidDataException($"member of collection {root.Cid} in its hash but not in its tree");
        return true;
    }

    /// <summary>
    /// Yields the keys of ranks [rank, rank + count) (towards rank 0 from <paramref name="rank"/> when
    /// <paramref name="reverse"/>) to <paramref name="sink"/>, leaf by leaf; <paramref name="done"/> counts what went
    /// out, so a caller that stopped can tell its rerun where it was. False when stopped.
    /// </summary>
    public static bool Range(in ZSetRoot root, ulong rank, ulong count, bool reverse, PageSet pages, List<PageKey> needs, Func<bool> fetch, ITreeSink sink, ref ulong done)
    {
        while (done < count)
        {
            ulong at = reverse ? rank - done : rank + done;
            if (at >= root.Count) return true;
            ulong want = Math.Min(count - done, int.MaxValue);
            bool longOnes = root.Tree.OutOfLine > 0;
            for (int rounds = 0; ; Settle(ref rounds))
            {
                CountedTree.NeedsAt(root.Tree, at, pages, needs);
                // The leaf in hand: the chunks of its long members in the range, in one more round.
                if (needs.Count == 0 && longOnes) CountedTree.Visit(root.Tree, at, (int)want, reverse, pages, ListChunks.Namer.For(root.Tree, pages, needs));
                if (needs.Count == 0) break;
                if (!fetch()) return false;
            }
            int got = CountedTree.Visit(root.Tree, at, (int)want, reverse, pages, longOnes ? ListChunks.Resolver.For(root.Tree, pages, sink, keep: TreeKeys.ScoreSize) : sink);
            if (got <= 0) throw new InvalidDataException($"rank {at} of collection {root.Cid} yielded nothing");
            done += (ulong)got;
            if (reverse && at < (ulong)got) return true;
        }
        return true;
    }

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>
    /// Gives <paramref name="member"/> the <paramref name="score"/>: <paramref name="found"/>/<paramref name="old"/>
    /// are what <see cref="TryScore"/> said (so the command decides NX/XX/GT/LT/INCR first). The old key leaves the
    /// tree, the new one goes in, the hash takes the score. False when stopped.
    /// </summary>
    public static bool Set(ref ZSetRoot root, ReadOnlySpan<byte> member, double score, bool found, double old, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        if (double.IsNaN(score)) throw new ArgumentException("NaN is not a sorted set score", nameof(score));
        if (found && BitConverter.DoubleToInt64Bits(old) == BitConverter.DoubleToInt64Bits(score)) return true;
        // -0 and 0 are one tree key: only the hash's exact score changes.
        if (!found || TreeKeys.ScoreBits(old) != TreeKeys.ScoreBits(score))
        {
            if (found && !TryDeleteKey(ref root, KeyOf(old, member), pages, needs, store, fetch)) return false;
            var key = KeyOf(score, member);
            if (!ZSetLongMembers.IsLong(root.Tree, member.Length))
            {
                // A short member's entry is its key: one descent reads the path and inserts.
                if (!CountedTree.TryInsert(ref root.Tree, key, pages, needs, store, fetch, out bool inserted)) return false;
                if (!inserted) throw new InvalidDataException($"a new member of collection {root.Cid} already in its tree");
            }
            else
            {
                for (int rounds = 0; ; Settle(ref rounds))
                {
                    CountedTree.NeedsInsert(root.Tree, key, pages, needs);
                    if (needs.Count == 0) break;
                    if (!fetch()) return false;
                }
                var entry = EntryOf(ref root.Tree, score, member, key, pages, store, out bool outOfLine);
                if (!CountedTree.Insert(ref root.Tree, key, entry, outOfLine, pages, store)) throw new InvalidDataException($"a new member of collection {root.Cid} already in its tree");
            }
        }
        Span<byte> bits = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bits, BitConverter.DoubleToInt64Bits(score));
        for (int rounds = 0; ; Settle(ref rounds))
        {
            PagedHash.NeedsSet(root.Hash, member, 8, pages, needs);
            if (needs.Count == 0) break;
            if (!fetch()) return false;
        }
        var r = PagedHash.Set(ref root.Hash, member, bits, pages, store);
        if ((r == SetResult.Added) == found) throw new InvalidDataException($"collection {root.Cid}'s hash disagrees with its look-up");
        return true;
    }

    /// <summary>ZREM of one member: <paramref name="removed"/> says whether it was there. False when stopped.</summary>
    public static bool Remove(ref ZSetRoot root, ReadOnlySpan<byte> member, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch, out bool removed)
    {
        if (!TryScore(root, member, pages, needs, fetch, out removed, out double score)) return false;
        if (!removed) return true;
        if (!TryDeleteKey(ref root, KeyOf(score, member), pages, needs, store, fetch)) return false;
        return DeleteMember(ref root, member, pages, needs, store, fetch);
    }

    private static bool DeleteMember(ref ZSetRoot root, ReadOnlySpan<byte> member, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        for (int rounds = 0; ; Settle(ref rounds))
        {
            PagedHash.NeedsDelete(root.Hash, member, pages, needs);
            if (needs.Count == 0) break;
            if (!fetch()) return false;
        }
        if (!PagedHash.Delete(ref root.Hash, member, pages, store)) throw new InvalidDataException($"member of collection {root.Cid} in its tree but not in its hash");
        return true;
    }

    /// <summary>
    /// Removes ranks [rank, rank + count) one key at a time (each leaves the tree, its member the hash): pops,
    /// ZREMRANGEBY*. The removed keys (score + member) go to <paramref name="removed"/> when given, their ends to
    /// <paramref name="ends"/>, their exact scores to <paramref name="scores"/>. Each removal re-reads its path, so k removals cost k descents (hot after the first). False when stopped.
    /// </summary>
    public static bool RemoveRange(ref ZSetRoot root, ulong rank, ulong count, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch,
        ArrayBufferWriter<byte>? removed = null, List<int>? ends = null, List<double>? scores = null)
    {
        var into = removed ?? (t_removed ??= new ArrayBufferWriter<byte>(256));
        Span<byte> reference = stackalloc byte[ZSetLongMembers.ReferenceSize];
        for (ulong i = 0; i < count && rank < root.Count; i++)
        {
            bool outOfLine = false;
            for (int rounds = 0; ; Settle(ref rounds))
            {
                CountedTree.NeedsRemoveAt(root.Tree, rank, pages, needs);
                // A long member's chunks too: the hash's delete and a pop's reply want it whole.
                if (needs.Count == 0 && root.Tree.OutOfLine > 0)
                {
                    var e = CountedTree.EntryAt(root.Tree, rank, pages, out outOfLine);
                    if (outOfLine) ListChunks.Needs(root.Tree, ZSetLongMembers.ReferenceOf(e), pages, needs);
                }
                if (needs.Count == 0) break;
                if (!fetch()) return false;
            }
            if (removed is null) into.ResetWrittenCount();
            int start = into.WrittenCount;
            if (outOfLine)
            {
                var e = CountedTree.EntryAt(root.Tree, rank, pages, out _);
                ZSetLongMembers.ReferenceOf(e).CopyTo(reference);
                ZSetLongMembers.AppendKey(root.Tree, e, pages, into);
                CountedTree.RemoveAt(ref root.Tree, rank, pages, store);
                ListChunks.Delete(ref root.Tree, reference, pages, store);
            }
            else CountedTree.RemoveAt(ref root.Tree, rank, pages, store, into);
            ends?.Add(into.WrittenCount);
            // The member is copied out: the hash's steps reuse nothing of the tree's, but the writer may grow.
            var member = TreeKeys.Member(into.WrittenSpan[start..]).ToArray();
            if (scores is not null)
            {
                // The hash's score is the exact one (a tree key holds -0 as 0); its bucket is the delete's.
                if (!TryScore(root, member, pages, needs, fetch, out bool found, out double exact)) return false;
                if (!found) throw new InvalidDataException($"member of collection {root.Cid} in its tree but not in its hash");
                scores.Add(exact);
            }
            if (!DeleteMember(ref root, member, pages, needs, store, fetch)) return false;
        }
        return true;
    }

    // ---- element records ------------------------------------------------------------------------

    public const int FieldSize = 16;

    [ThreadStatic] private static byte[]? t_recordValue;

    /// <summary>A ZAdd record's value: [score f64 LE][member] (the exact double, -0 kept), in a per-thread buffer.</summary>
    public static ReadOnlySpan<byte> AddValue(double score, ReadOnlySpan<byte> member)
    {
        int len = 8 + member.Length;
        var buf = t_recordValue is { } b && b.Length >= len ? b : t_recordValue = new byte[Math.Max(len, 1024)];
        BinaryPrimitives.WriteInt64LittleEndian(buf, BitConverter.DoubleToInt64Bits(score));
        member.CopyTo(buf.AsSpan(8));
        return buf.AsSpan(0, len);
    }

    /// <summary>The record of a change numbered <paramref name="seq"/>; <paramref name="field"/> is its 16-byte buffer.</summary>
    public static ElementRecord Record(ElementOp op, ulong cid, ReadOnlySpan<byte> key, Span<byte> field, ulong seq, ulong arg, ReadOnlySpan<byte> value = default)
        => PagedList.Record(op, cid, key, field, seq, arg, value);

    /// <summary>
    /// Replays one element record: applied when it is this life's (same cid) and past the root's seq, else
    /// skipped (false). <paramref name="fetch"/> reads the needs into the page set (replay's reads never wait).
    /// </summary>
    public static bool ApplyRecord(ref ZSetRoot root, in ElementRecord record, PageSet pages, List<PageKey> needs, IPageStore store, Func<bool> fetch)
    {
        if (record.Cid != root.Cid || !record.IsSortedSet || record.Field.Length != FieldSize) return false;
        ulong seq = PagedList.SeqOf(record), arg = PagedList.ArgOf(record);
        if (seq <= root.Seq) return false;
        bool done;
        switch (record.Op)
        {
            case ElementOp.ZAdd:
                if (record.Value.Length < 8) throw new InvalidDataException("ZAdd record without a score");
                double score = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(record.Value));
                var member = record.Value[8..];
                done = TryScore(root, member, pages, needs, fetch, out bool found, out double old)
                    && Set(ref root, member, score, found, old, pages, needs, store, fetch);
                break;
            case ElementOp.ZRem:
                done = Remove(ref root, record.Value, pages, needs, store, fetch, out _);
                break;
            case ElementOp.ZRemRange:
                ulong count = BinaryPrimitives.ReadUInt64LittleEndian(record.Value);
                done = RemoveRange(ref root, arg, count, pages, needs, store, fetch);
                break;
            default:
                return false;
        }
        if (!done) throw new InvalidOperationException("a sorted set record's replay stopped for a read");
        root.Seq = seq;
        return true;
    }
}
