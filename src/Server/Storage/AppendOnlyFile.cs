using System.Buffers.Binary;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>What one AOF entry records (its first byte).</summary>
public enum AofEntryKind : byte
{
    /// <summary>A record's new image: [key SpanByte (namespace + user key)][value SpanByte (type, expiry, payload)].</summary>
    Write = 1,
    /// <summary>A record was deleted: [key SpanByte].</summary>
    Delete = 2,
    /// <summary>The db -> namespace map changed (FLUSHDB, FLUSHALL, SWAPDB): [nextNs int32][count int32][ns int32 ...].</summary>
    Namespaces = 3,
    /// <summary>
    /// The records of one command that wrote more than one: [count u32][records...], each record the bytes
    /// of the Write or Delete entry it would be alone. Recovery applies all of them or none.
    /// </summary>
    Frame = 4,
    /// <summary>
    /// A part of a frame too large for one entry: [frame u64][last u8][count u32][records...]. The frame
    /// is the address of its first part (0 in the first part itself); recovery applies the parts once the
    /// last one is there, and drops them when the log ends first.
    /// </summary>
    FramePart = 5,
    /// <summary>
    /// One element change of a paged collection: [record length i32][ElementRecord] (HSET/HDEL/SADD/SREM
    /// of one field, an after-image). Its pages are not logged: replay rebuilds them from these.
    /// </summary>
    Element = 6,
    /// <summary>The whole FUNCTION library set after a change: [blob] (opaque here; the last one replayed wins).</summary>
    Libraries = 7,
}

/// <summary>The entry's first byte (FasterLog's typed-header enqueue copies the SpanBytes after it).</summary>
internal struct AofHeader
{
    public AofEntryKind Kind;
}

/// <summary>How the bytes after the last commit looked at start-up.</summary>
public enum AofTailState
{
    /// <summary>Nothing (zeros) after the last commit.</summary>
    Clean,
    /// <summary>Complete, checksummed entries that were never committed (a crash between write and commit): dropped.</summary>
    Uncommitted,
    /// <summary>A partial entry, a bad checksum or a cut file: the tail is damaged.</summary>
    Torn,
}

/// <summary>
/// The append-only file: a FASTER <see cref="FasterLog"/> under <c>dir/appendonlydir</c> (segment files
/// <c>appendonly.aof.N</c>), entries checksummed (<see cref="LogChecksumType.PerEntry"/>) and committed in
/// fast-commit mode (a commit is one synchronous write of the log tail; the commit record lives in the log).
/// Entries are store-level after-images appended by the store functions under FASTER's record lock, so
/// the log order of two writes to one key is the order they were applied, whatever reactor made them.
/// </summary>
public sealed unsafe class AppendOnlyFile : IDisposable
{
    public const int SectorSize = 512;

    private readonly AofDevice _device;
    private readonly Log _log;

    private AppendOnlyFile(string directory, string fileName, int pageBits, Log log)
    {
        Directory = directory;
        DevicePath = Path.Combine(directory, fileName);
        PageBits = pageBits;
        SegmentBits = SegmentBitsFor(pageBits);
        _log = log;
        _device = new AofDevice(DevicePath, recover: true);
        var settings = new FasterLogSettings
        {
            LogDevice = _device,
            PageSizeBits = pageBits,
            MemorySizeBits = pageBits + 2, // four pages (32 MB): a write burst fills them while earlier ones flush
            SegmentSizeBits = SegmentBits,
            LogChecksum = LogChecksumType.PerEntry,
            FastCommitMode = true,
            // Fast commit keeps commit records in the log; the metadata file is only rewritten when the
            // begin address moves (forced by FasterLog) or every 1000th commit, not for every group commit.
            LogCommitManager = new DeviceLogCommitCheckpointManager(new LocalStorageNamedDeviceFactory(),
                new DefaultCheckpointNamingScheme(directory), removeOutdated: true, fastCommitThrottleFreq: 1000),
            TryRecoverLatest = true,
        };
        FasterLog = new FasterLog(settings);
        _openedAt = FasterLog.TailAddress;
    }

    private readonly long _openedAt;

    /// <summary>
    /// Memory of the AOF's pages (mem_aof_buffer): FasterLog allocates each as the tail first reaches
    /// it and keeps at most four.
    /// </summary>
    public long MemoryBytes
    {
        get
        {
            long page = 1L << PageBits;
            long touched = (FasterLog.TailAddress - (_openedAt & ~(page - 1)) + page - 1) / page;
            return Math.Clamp(touched, 1, 4) * page;
        }
    }

    public string Directory { get; }
    /// <summary>Base path of the segment files (<c>.../appendonly.aof</c>; segments append <c>.N</c>).</summary>
    public string DevicePath { get; }
    public int PageBits { get; }
    public int SegmentBits { get; }
    public FasterLog FasterLog { get; }

    public long BeginAddress => FasterLog.BeginAddress;
    public long TailAddress => FasterLog.TailAddress;
    public long CommittedUntilAddress => FasterLog.CommittedUntilAddress;
    /// <summary>
    /// Group commit (appendfsync always), in this log's addresses: the highest address a reactor asked
    /// to be durable, and the highest commit tail issued (its commit record ends there).
    /// </summary>
    public long CommitRequested, CommitIssuedTail;

    /// <summary>errno of the failing write or sync of the AOF's files; 0 when they work.</summary>
    public int WriteErrno => _device.WriteErrno;

    /// <summary>Runs when writes start failing (the errno) or work again (0); see <see cref="AofDevice"/>.</summary>
    public Action<int>? WriteStateChanged { set => _device.WriteStateChanged = value; }

    /// <summary>The latency monitor's AOF events (<see cref="AofDevice.LatencySample"/>).</summary>
    public Action<string, long>? LatencySample { set => _device.LatencySample = value; }

    /// <summary>Whether each write is followed by fdatasync (appendfsync always) or <see cref="Sync"/> does it.</summary>
    public bool SyncEachWrite
    {
        get => _device.SyncEachWrite;
        set => _device.SyncEachWrite = value;
    }

    /// <summary>fdatasync of the AOF's files (appendfsync everysec: once a second).</summary>
    public void Sync() => _device.Sync();

    /// <summary>Retries writes that failed; true when none is left.</summary>
    public bool RetryFailedWrites() => _device.RetryFailed();

    /// <summary>
    /// Everything below is written: synced too under appendfsync always (AofDevice completes a write
    /// only after fdatasync), in the page cache under everysec and no.
    /// </summary>
    public long FlushedUntilAddress => FasterLog.FlushedUntilAddress;
    /// <summary>Largest entry the log takes (an entry never spans a page).</summary>
    public long MaxEntryLength => (1L << PageBits) - 256;

    /// <summary>
    /// Opens (recovering to the last commit) the AOF in <paramref name="directory"/>; checks the bytes after
    /// the last commit and, when they are not clean, reports them in <paramref name="tail"/> and wipes them
    /// (only when <paramref name="dropDamagedTail"/> allows it for a torn tail).
    /// </summary>
    /// Damage with valid entries after it is not a tail: it comes back in <paramref name="damage"/>, nothing wiped.
    public static AppendOnlyFile Open(string directory, string fileName, int pageBits, Log log, bool dropDamagedTail,
        out AofTailState tail, out string tailDetail, out AofScanReport? damage)
    {
        System.IO.Directory.CreateDirectory(directory);
        var aof = new AppendOnlyFile(directory, fileName, pageBits, log);
        tail = aof.CheckTail(out tailDetail, out long wipeFrom);
        damage = null;
        if (tail == AofTailState.Torn)
        {
            var scan = aof.ScanFiles();
            if (scan.DamageInTheMiddle)
            {
                damage = scan;
                return aof;
            }
        }
        if (tail == AofTailState.Clean || (tail == AofTailState.Torn && !dropDamagedTail)) return aof;
        // Wipe everything after the last commit, then open again so the tail page is read back clean.
        aof.Dispose();
        WipeAfter(Path.Combine(directory, fileName), wipeFrom, aof.SegmentBits);
        return new AppendOnlyFile(directory, fileName, pageBits, log);
    }

    /// <summary>Raw scan of the segment files from the begin address (see <see cref="AofScan"/>).</summary>
    public AofScanReport ScanFiles() => AofScan.Scan(DevicePath, PageBits, SegmentBits, FasterLog.BeginAddress);

    /// <summary>Segment size for a page size: at least 256 MB, never less than a page.</summary>
    public static int SegmentBitsFor(int pageBits) => Math.Max(pageBits, 28);

    /// <summary>Deletes every file of the AOF in <paramref name="directory"/> (a fresh log follows).</summary>
    public static void DeleteFiles(string directory, string fileName)
    {
        if (!System.IO.Directory.Exists(directory)) return;
        foreach (var f in System.IO.Directory.GetFiles(directory, fileName + ".*")) File.Delete(f);
        var commits = Path.Combine(directory, "log-commits");
        if (System.IO.Directory.Exists(commits)) System.IO.Directory.Delete(commits, recursive: true);
    }

    // ------------------------------------------------------------ appending (any thread)

    public long AppendWrite(ref SpanByte key, ref SpanByte value)
    {
        FasterLog.Enqueue(new AofHeader { Kind = AofEntryKind.Write }, ref key, ref value, out long address);
        return address;
    }

    public long AppendDelete(ref SpanByte key)
    {
        FasterLog.Enqueue(new AofHeader { Kind = AofEntryKind.Delete }, ref key, out long address);
        return address;
    }

    /// <summary>An element record alone (outside a command's frame: recovery's own writes never get here).</summary>
    public void AppendElement(in Values.Paged.ElementRecord record)
    {
        int size = 5 + record.EncodedSize;
        Span<byte> small = stackalloc byte[512];
        var entry = size <= small.Length ? small[..size] : new byte[size];
        CommandFrame.WriteElement(entry, record);
        FasterLog.Enqueue(entry);
    }

    /// <summary>Header bytes of a frame part: kind, frame, last, count.</summary>
    public const int FramePartHeader = 1 + 8 + 1 + 4;

    /// <summary>
    /// Appends a command's records: one record as its plain entry, more as one Frame entry, or, past
    /// <see cref="MaxEntryLength"/>, as FramePart entries split at record boundaries (a record always fits
    /// one: a value is at most a store page, and AOF pages are at least as large).
    /// </summary>
    internal void AppendFrame(CommandFrame frame)
    {
        var records = frame.Records;
        if (frame.Count == 1)
        {
            FasterLog.Enqueue(records);
            return;
        }
        if (5 + records.Length <= MaxEntryLength)
        {
            var entry = FrameBuffer(5 + records.Length);
            entry[0] = (byte)AofEntryKind.Frame;
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(1), (uint)frame.Count);
            records.CopyTo(entry.AsSpan(5));
            FasterLog.Enqueue(entry.AsSpan(0, 5 + records.Length));
            return;
        }
        long first = 0;
        int offset = 0;
        while (offset < records.Length)
        {
            int end = offset, count = 0;
            while (end < records.Length)
            {
                int next = CommandFrame.RecordLength(records[end..]);
                if (count > 0 && FramePartHeader + end - offset + next > MaxEntryLength) break;
                end += next;
                count++;
            }
            int size = FramePartHeader + end - offset;
            var part = FrameBuffer(size);
            part[0] = (byte)AofEntryKind.FramePart;
            BinaryPrimitives.WriteInt64LittleEndian(part.AsSpan(1), first);
            part[9] = end == records.Length ? (byte)1 : (byte)0;
            BinaryPrimitives.WriteUInt32LittleEndian(part.AsSpan(10), (uint)count);
            records[offset..end].CopyTo(part.AsSpan(FramePartHeader));
            long address = FasterLog.Enqueue(part.AsSpan(0, size));
            if (first == 0) first = address;
            offset = end;
        }
    }

    [ThreadStatic] private static byte[]? t_frameBuffer;

    /// <summary>A per-thread buffer to build a frame entry in (frames are built on reactors, one at a time).</summary>
    private static byte[] FrameBuffer(int size)
    {
        var b = t_frameBuffer;
        if (b is null || b.Length < size || (b.Length > 1 << 20 && size < 64 * 1024))
            t_frameBuffer = b = new byte[Math.Max(size, 4096)];
        return b;
    }

    public long AppendLibraries(byte[] blob)
    {
        var buf = new byte[1 + blob.Length];
        buf[0] = (byte)AofEntryKind.Libraries;
        blob.CopyTo(buf, 1);
        return FasterLog.Enqueue(buf);
    }

    public long AppendNamespaces(int[] map, int nextNs)
    {
        var buf = new byte[1 + 8 + 4 * map.Length];
        buf[0] = (byte)AofEntryKind.Namespaces;
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(1), nextNs);
        BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(5), map.Length);
        for (int i = 0; i < map.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(9 + 4 * i), map[i]);
        return FasterLog.Enqueue(buf);
    }

    /// <summary>Commits everything appended so far and waits until it is on disk (synced, whatever the policy).</summary>
    public void CommitAndWait() => CommitAndWait(Timeout.InfiniteTimeSpan);

    /// <summary>As <see cref="CommitAndWait()"/>; false when the commit was not on disk within <paramref name="timeout"/>.</summary>
    public bool CommitAndWait(TimeSpan timeout)
    {
        long tail = FasterLog.TailAddress;
        if (FasterLog.CommittedUntilAddress < tail)
        {
            FasterLog.Commit(spinWait: false);
            var wait = FasterLog.WaitForCommitAsync(tail).AsTask();
            if (!wait.Wait(timeout)) return false;
        }
        if (!SyncEachWrite) Sync();
        return true;
    }

    /// <summary>
    /// Starts a commit of everything appended so far without waiting; <paramref name="committed"/> runs
    /// (on FASTER's commit thread) once it is durable.
    /// </summary>
    /// <returns>False when there was nothing new to commit (no callback then).</returns>
    public bool CommitAsyncWithCallback(Action committed, out long commitTail)
        => FasterLog.CommitStrongly(out commitTail, out _, spinWait: false, cookie: null, proposedCommitNum: -1, callback: committed);

    /// <summary>Drops the log before <paramref name="address"/> (takes effect with the next commit).</summary>
    public void TruncateUntil(long address)
    {
        if (address > FasterLog.BeginAddress) FasterLog.TruncateUntil(address);
    }

    /// <summary>Bytes of log between begin and tail (aof_current_size).</summary>
    public long Size => Math.Max(0, FasterLog.TailAddress - FasterLog.BeginAddress);

    // ------------------------------------------------------------ reading back

    /// <summary>
    /// Calls <paramref name="apply"/> for each committed entry from <paramref name="from"/>. Returns the number
    /// of entries; <paramref name="damagedAt"/> is the address of an unreadable entry (-1 when none).
    /// </summary>
    public long Replay(long from, Action<byte[], int, long> apply, out long damagedAt, out string? damage)
    {
        damagedAt = -1;
        damage = null;
        long count = 0;
        long until = FasterLog.CommittedUntilAddress;
        from = Math.Max(from, FasterLog.BeginAddress);
        if (from >= until) return 0;
        using var iter = FasterLog.Scan(from, until);
        long current = from;
        try
        {
            while (iter.UnsafeGetNext(out byte* p, out int length, out current, out _))
            {
                byte[] entry;
                try
                {
                    // FasterLog's checksum leaves out the 0-3 bytes aligning the entry; they come from a zeroed page.
                    if (new ReadOnlySpan<byte>(p + length, ((length + 3) & ~3) - length).IndexOfAnyExcept((byte)0) >= 0)
                    {
                        damagedAt = current;
                        damage = $"nonzero bytes after the entry at address {current}";
                        return count;
                    }
                    entry = new ReadOnlySpan<byte>(p, length).ToArray();
                }
                finally { iter.UnsafeRelease(); }
                apply(entry, length, current);
                count++;
            }
        }
        catch (FasterException e)
        {
            damagedAt = iter.NextAddress;
            damage = e.Message;
        }
        return count;
    }

    // ------------------------------------------------------------ torn tail detection

    private string SegmentPath(long segment) => DevicePath + "." + segment.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Looks at the raw bytes after the last commit: FasterLog writes whole sectors, entries are
    /// [checksum u64][length i32][payload, 4-aligned] within a page, a zero length pads to the page end.
    /// </summary>
    private AofTailState CheckTail(out string detail, out long wipeFrom)
    {
        long committed = FasterLog.CommittedUntilAddress;
        wipeFrom = committed;
        detail = "";
        long segMask = (1L << SegmentBits) - 1;
        long segment = committed >> SegmentBits;
        long offset = committed & segMask;
        var path = SegmentPath(segment);
        var state = AofTailState.Clean;
        int uncommitted = 0;
        if (!File.Exists(path))
        {
            if (offset > SectorSize && committed > FasterLog.BeginAddress)
            {
                detail = $"segment {Path.GetFileName(path)} holding committed data is missing";
                return AofTailState.Torn;
            }
            return AofTailState.Clean;
        }
        long length = new FileInfo(path).Length;
        if (length < offset && committed > FasterLog.BeginAddress)
        {
            detail = $"{Path.GetFileName(path)} is {length} bytes but its committed entries reach byte {offset}";
            return AofTailState.Torn;
        }
        if (length % SectorSize != 0)
        {
            state = AofTailState.Torn;
            detail = $"{Path.GetFileName(path)} length {length} is not a whole number of sectors (cut)";
        }
        if (length > offset)
        {
            if (committed <= FasterLog.BeginAddress && offset < 64) offset = 64; // the first page's reserved header
            var bytes = new byte[length - offset];
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
            {
                fs.Position = offset;
                fs.ReadExactly(bytes);
            }
            var s = ScanRaw(bytes, committed, ref uncommitted, out string? why);
            if (s == AofTailState.Torn)
            {
                state = AofTailState.Torn;
                detail = why!;
            }
            else if (s == AofTailState.Uncommitted && state == AofTailState.Clean)
            {
                state = AofTailState.Uncommitted;
            }
        }
        // Segments past the committed one hold only uncommitted bytes.
        for (long next = segment + 1; File.Exists(SegmentPath(next)); next++)
        {
            if (state == AofTailState.Clean) state = AofTailState.Uncommitted;
        }
        if (state == AofTailState.Uncommitted) detail = $"{uncommitted} uncommitted entries after the last commit";
        if (_tailFrames > 0) detail += $" ({_tailFrames} of them command frames, each dropped whole)";
        if (_cutFrame is not null) detail += _cutFrame;
        return state;
    }

    private int _tailFrames;
    private string? _cutFrame;

    /// <summary>Notes an entry of the tail that is (part of) a command frame, for the log line.</summary>
    private void NoteFrame(byte[] bytes, long pos, bool cut)
    {
        if (pos + 13 > bytes.Length) return;
        var kind = (AofEntryKind)bytes[pos + 12];
        if (kind is not (AofEntryKind.Frame or AofEntryKind.FramePart)) return;
        if (!cut) _tailFrames++;
        else _cutFrame = kind == AofEntryKind.Frame && pos + 17 <= bytes.Length
            ? $"; the cut entry is a command frame of {BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan((int)pos + 13))} records: dropped whole"
            : "; the cut entry is part of a command frame: the frame is dropped whole";
    }

    private AofTailState ScanRaw(byte[] bytes, long startAddress, ref int entries, out string? why)
    {
        why = null;
        long pageSize = 1L << PageBits;
        long pageMask = pageSize - 1;
        long pos = 0;
        bool any = false;
        while (pos < bytes.Length)
        {
            long address = startAddress + pos;
            long pageLeft = pageSize - (address & pageMask);
            if (pageLeft < 12)
            {
                if (!AllZero(bytes, pos, Math.Min(pageLeft, bytes.Length - pos))) { why = $"garbage at the end of a page at address {address}"; return AofTailState.Torn; }
                pos += pageLeft;
                continue;
            }
            if (pos + 12 > bytes.Length)
            {
                if (AllZero(bytes, pos, bytes.Length - pos)) break;
                // The (sector-aligned) file ends inside an uncommitted entry's header: an interrupted flush.
                entries++;
                return AofTailState.Uncommitted;
            }
            int len = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)pos + 8));
            if (len == 0)
            {
                // Page padding: the rest of the page must be empty.
                long end = Math.Min(bytes.Length, pos + pageLeft);
                if (!AllZero(bytes, pos, end - pos)) { why = $"unreadable bytes at address {address}"; return AofTailState.Torn; }
                pos = end;
                continue;
            }
            int body = len < 0 ? -len : len;
            long size = 12 + ((body + 3) & ~3);
            if (len == int.MinValue || size > pageLeft)
            {
                why = $"invalid entry length {len} at address {address}";
                return AofTailState.Torn;
            }
            if (pos + size > bytes.Length)
            {
                // The file ends (on a sector boundary: a cut file was caught by the length check) inside an
                // uncommitted entry: a flush the crash interrupted. Nothing acknowledged as durable is lost.
                entries++;
                NoteFrame(bytes, pos, cut: true);
                return AofTailState.Uncommitted;
            }
            if (!AofScan.EntryIntact(bytes, pos, body))
            {
                why = $"bad checksum of the entry at address {address}";
                NoteFrame(bytes, pos, cut: true);
                if (_cutFrame is not null) why += _cutFrame;
                _cutFrame = null;
                return AofTailState.Torn;
            }
            if (len > 0) NoteFrame(bytes, pos, cut: false);
            any = true;
            entries++;
            pos += size;
        }
        return any ? AofTailState.Uncommitted : AofTailState.Clean;
    }

    private static bool AllZero(byte[] bytes, long from, long count) => bytes.AsSpan((int)from, (int)count).IndexOfAnyExcept((byte)0) < 0;

    /// <summary>Zeroes the segment holding <paramref name="address"/> from there on, and deletes later segments.</summary>
    internal static void WipeAfter(string devicePath, long address, int segmentBits)
    {
        long segment = address >> segmentBits;
        long offset = address & ((1L << segmentBits) - 1);
        var path = devicePath + "." + segment.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (File.Exists(path))
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            long keep = (offset + SectorSize - 1) / SectorSize * SectorSize;
            if (fs.Length > offset)
            {
                fs.Position = offset;
                long zeros = Math.Min(fs.Length, keep) - offset;
                if (zeros > 0) fs.Write(new byte[zeros]);
                fs.SetLength(Math.Max(keep, offset));
            }
            fs.Flush(flushToDisk: true);
        }
        for (long next = segment + 1; ; next++)
        {
            var p = devicePath + "." + next.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!File.Exists(p)) break;
            File.Delete(p);
        }
    }

    public void Dispose()
    {
        FasterLog.Dispose();
        _device.Dispose();
    }
}
