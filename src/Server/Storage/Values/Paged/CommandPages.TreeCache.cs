namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// The inner pages of one sorted set's tree kept across commands on this reactor. Every ZADD into a 100k-member set
/// read the root and an inner page from the store (a FASTER read and a 4 KB copy out of the log each, ~0.8 us) that
/// the command before had just written. A kept page is good while the set's root says the same seq it was kept at:
/// every change of a sorted set's pages logs an element record and moves the root's seq (<see cref="ZSetRoot.Seq"/>),
/// the root is read under the key's lock before any page, and a new set is a new cid. So another reactor's write, a
/// command that kept nothing (it never called <see cref="TrustTree"/>), a replayed record: the seq differs and the
/// pages are dropped. A command that stops keeps nothing (only a committed one calls <see cref="RememberTree"/>).
/// </summary>
public sealed partial class CommandPages
{
    /// <summary>At most this many pages kept (4 KB each: inner pages only, ~65 for a 1M-member set).</summary>
    private const int KeptMax = 64;

    private readonly Dictionary<ulong, byte[]> _kept = new();
    private readonly Dictionary<ulong, int> _keptLength = new();
    private ulong _keptCid, _keptSeq;
    /// <summary>Tree pages of the trusted set this command wrote from its page set (<see cref="WritePages"/>).</summary>
    private readonly HashSet<ulong> _writtenTree = new();
    private bool _trusted;

    /// <summary>
    /// The running command works on the sorted set of <paramref name="cid"/> whose root it read at <paramref name="seq"/>:
    /// its tree reads may be answered from the kept pages when they were kept at that seq (else they are dropped).
    /// </summary>
    public void TrustTree(ulong cid, ulong seq)
    {
        if (_keptCid != cid || _keptSeq != seq) DropKept();
        _keptCid = cid;
        _keptSeq = seq;
        _trusted = true;
    }

    private void DropKept()
    {
        _kept.Clear();
        _keptLength.Clear();
    }

    /// <summary>A tree read answered from the kept pages (into the page set); false when not kept.</summary>
    private bool TryKept(in PageKey key, PageSet into)
    {
        if (!_trusted || key.Kind != PageKind.Tree || key.Cid != _keptCid || !_kept.TryGetValue(key.PageNo, out var bytes)) return false;
        into.Put(key, bytes.AsSpan(0, _keptLength[key.PageNo]));
        return true;
    }

    /// <summary>
    /// The command committed and left the root at <paramref name="seq"/>: its inner pages in hand are kept at that seq (those
    /// it freed dropped). Pages kept before and not in hand are unchanged by it, so they stay good too.
    /// </summary>
    public void RememberTree(ulong cid, ulong seq)
    {
        if (!_trusted || cid != _keptCid) return;
        for (int i = 0; i < Pages.Count; i++)
        {
            if (!Pages.TryAt(i, out var key, out bool present, out bool dirty, out var page) || key.Kind != PageKind.Tree || key.Cid != cid) continue;
            // Kept only as the store holds it: read and not edited, or edited and written from here (never an edit left unwritten).
            if (!present || TreePage.IsLeaf(page) || (dirty && !_writtenTree.Contains(key.PageNo)))
            {
                // A page that became a leaf (a root after merges) or was freed is not kept.
                _kept.Remove(key.PageNo);
                _keptLength.Remove(key.PageNo);
                continue;
            }
            bool known = _kept.TryGetValue(key.PageNo, out var bytes);
            // Read and not edited, and kept already: the same bytes (a ZRANGE copied its path back every time: 4.3 -> 5.6 us).
            if (known && !dirty) continue;
            if (!known && _kept.Count >= KeptMax) continue;
            if (bytes is null || bytes.Length < page.Length) bytes = new byte[Math.Max(page.Length, 1 << CountedTree.DefaultPageShift)];
            page.CopyTo(bytes);
            _kept[key.PageNo] = bytes;
            _keptLength[key.PageNo] = page.Length;
        }
        _keptSeq = seq;
    }
}
