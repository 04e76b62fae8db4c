using System.Buffers.Binary;
using System.Globalization;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>What a raw scan of an AOF's segment files found (start-up's damage check, <c>--check-aof</c>).</summary>
public sealed class AofScanReport
{
    public long StartAddress;
    /// <summary>End of the last valid entry before the damage (all of them when there is none).</summary>
    public long GoodUntil;
    /// <summary>Address of the first unreadable entry; -1 when every entry reads back.</summary>
    public long DamageAddress = -1;
    public string DamageReason = "";
    /// <summary>Segment file holding the damage and the offset in it.</summary>
    public string DamageFile = "";
    public long DamageOffset;
    /// <summary>Entries (records, commit records not counted) and their bytes before the damage.</summary>
    public long RecordsBefore, BytesBefore;
    /// <summary>Valid checksummed records found past the damage, the commit records among them, and their bytes.</summary>
    public long RecordsAfter, CommitsAfter, BytesAfter;
    /// <summary>Where the last valid entry past the damage ends (-1: none).</summary>
    public long LastValidEnd = -1;
    /// <summary>Command frames before the damage, those split into parts, and split frames whose last part never came.</summary>
    public long Frames, FramesSplit, IncompleteFrames;
    /// <summary>Address of the first part of the earliest incomplete frame (-1: none).</summary>
    public long IncompleteFrameAt = -1;

    public bool Damaged => DamageAddress >= 0;
    /// <summary>Damage with valid entries behind it: not a torn tail, so never dropped silently.</summary>
    public bool DamageInTheMiddle => Damaged && RecordsAfter + CommitsAfter > 0;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{DamageFile} is damaged at offset {DamageOffset} (address {DamageAddress}: {DamageReason}); " +
        $"{RecordsBefore} records ({BytesBefore} bytes) before it, {RecordsAfter} valid records ({BytesAfter} bytes with commit records) after it");
}

/// <summary>
/// Reads an AOF's segment files without FasterLog (which stops at the first bad entry): entries are
/// [checksum u64][length i32][payload, 4-aligned] inside a page, a zero length pads to the page end, a
/// negative length is a commit record. Past the first bad entry the scan looks at every 4-aligned
/// address for an entry whose checksum holds, to tell a torn tail (nothing valid after) from damage in
/// the middle (valid entries after it), which Redis's aof-load-truncated does not cover either.
/// </summary>
public static unsafe class AofScan
{
    public const int HeaderSize = 12;
    /// <summary>The first page's reserved header (FasterLog's first valid address).</summary>
    public const int FirstValidAddress = 64;

    public static string SegmentPath(string devicePath, long segment) => devicePath + "." + segment.ToString(CultureInfo.InvariantCulture);

    /// <summary>Scans from <paramref name="from"/> to the end of the last segment file.</summary>
    public static AofScanReport Scan(string devicePath, int pageBits, int segmentBits, long from)
    {
        long pageSize = 1L << pageBits;
        var report = new AofScanReport { StartAddress = from, GoodUntil = from };
        var segments = ListSegments(devicePath);
        if (segments.Count == 0) return report;
        long end = (segments[^1] << segmentBits) + new FileInfo(SegmentPath(devicePath, segments[^1])).Length;
        if (from < FirstValidAddress) from = FirstValidAddress;
        var page = new byte[pageSize];
        var open = new SortedSet<long>();
        for (long pageStart = from & ~(pageSize - 1); pageStart < end; pageStart += pageSize)
        {
            long segment = pageStart >> segmentBits;
            ReadPage(SegmentPath(devicePath, segment), pageStart & ((1L << segmentBits) - 1), page);
            long pos = Math.Max(from, pageStart) - pageStart;
            long pageEnd = Math.Min(pageSize, end - pageStart);
            while (pos + HeaderSize <= pageEnd)
            {
                long address = pageStart + pos;
                int len = BinaryPrimitives.ReadInt32LittleEndian(page.AsSpan((int)pos + 8));
                if (!report.Damaged)
                {
                    if (len == 0)
                    {
                        if (page.AsSpan((int)pos, (int)(pageEnd - pos)).IndexOfAnyExcept((byte)0) < 0) break; // padding or the end
                        Damage(report, devicePath, segmentBits, address, "unreadable bytes after a zero length");
                        pos += 4;
                        continue;
                    }
                    long size = EntrySize(len);
                    if (size < 0 || pos + size > pageSize)
                    {
                        Damage(report, devicePath, segmentBits, address, $"invalid entry length {len}");
                        pos += 4;
                        continue;
                    }
                    if (pos + size > pageEnd)
                    {
                        Damage(report, devicePath, segmentBits, address, "the file ends inside the entry");
                        break;
                    }
                    if (!ChecksumHolds(page, pos, len))
                    {
                        Damage(report, devicePath, segmentBits, address, "bad checksum");
                        pos += 4;
                        continue;
                    }
                    if (len > 0)
                    {
                        report.RecordsBefore++;
                        CountFrame(report, open, page.AsSpan((int)pos + HeaderSize, len), address);
                    }
                    report.BytesBefore += size;
                    report.GoodUntil = address + size;
                    pos += size;
                }
                else
                {
                    long size = len == 0 ? -1 : EntrySize(len);
                    if (size > 0 && pos + size <= pageEnd && ChecksumHolds(page, pos, len))
                    {
                        if (len > 0) report.RecordsAfter++;
                        else report.CommitsAfter++;
                        report.BytesAfter += size;
                        report.LastValidEnd = address + size;
                        pos += size;
                    }
                    else
                    {
                        pos += 4;
                    }
                }
            }
        }
        report.IncompleteFrames = open.Count;
        if (open.Count > 0) report.IncompleteFrameAt = open.Min;
        return report;
    }

    /// <summary>Frames as recovery sees them: a split one is whole once its last part is read.</summary>
    private static void CountFrame(AofScanReport report, SortedSet<long> open, ReadOnlySpan<byte> payload, long address)
    {
        var kind = (AofEntryKind)payload[0];
        if (kind == AofEntryKind.Frame)
        {
            report.Frames++;
            return;
        }
        if (kind != AofEntryKind.FramePart || payload.Length < AppendOnlyFile.FramePartHeader) return;
        long first = BinaryPrimitives.ReadInt64LittleEndian(payload[1..]);
        if (first == 0)
        {
            open.Add(address);
        }
        else if (payload[9] != 0 && open.Remove(first))
        {
            report.Frames++;
            report.FramesSplit++;
        }
    }

    /// <summary>Header + payload rounded to 4; -1 for a length no entry has.</summary>
    private static long EntrySize(int len) => len == int.MinValue ? -1 : HeaderSize + ((Math.Abs((long)len) + 3) & ~3L);

    private static bool ChecksumHolds(byte[] page, long pos, int len) => EntryIntact(page, pos, Math.Abs(len));

    /// <summary>
    /// The entry at <paramref name="pos"/> (a <paramref name="body"/>-byte payload, in <paramref name="bytes"/>) is as
    /// written: FasterLog's checksum covers the length and the payload, and the 0-3 bytes that align it to 4 come
    /// from a zeroed page, so a byte flipped there is damage too (the checksum alone let one server in 8 start).
    /// </summary>
    internal static bool EntryIntact(byte[] bytes, long pos, int body)
    {
        int padding = ((body + 3) & ~3) - body;
        if (padding > 0 && bytes.AsSpan((int)pos + HeaderSize + body, padding).IndexOfAnyExcept((byte)0) >= 0) return false;
        fixed (byte* p = &bytes[pos])
            return Utility.XorBytes(p + 8, body + 4) == *(ulong*)p;
    }

    private static void Damage(AofScanReport report, string devicePath, int segmentBits, long address, string why)
    {
        report.DamageAddress = address;
        report.DamageReason = why;
        report.DamageFile = Path.GetFileName(SegmentPath(devicePath, address >> segmentBits));
        report.DamageOffset = address & ((1L << segmentBits) - 1);
    }

    /// <summary>Reads one page (zeros past the end of the file or for a missing file).</summary>
    private static void ReadPage(string path, long offset, byte[] page)
    {
        Array.Clear(page);
        if (!File.Exists(path)) return;
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        int read = 0;
        while (read < page.Length)
        {
            int n = RandomAccess.Read(handle, page.AsSpan(read), offset + read);
            if (n <= 0) break;
            read += n;
        }
    }

    // ------------------------------------------------------------ --check-aof --fix

    /// <summary>The newest readable FasterLog commit metadata in <paramref name="aofDirectory"/> (null: none).</summary>
    public static (long Number, FasterLogRecoveryInfo Info)? LatestCommit(string aofDirectory)
    {
        using var manager = CommitManager(aofDirectory);
        foreach (long number in manager.ListCommits())
        {
            try
            {
                var info = new FasterLogRecoveryInfo();
                info.Initialize(new BinaryReader(new MemoryStream(manager.GetCommitMetadata(number))));
                return (number, info);
            }
            catch (Exception e) when (e is FasterException or IOException or EndOfStreamException) { }
        }
        return null;
    }

    /// <summary>
    /// Cuts the AOF at the damage: zeros from there, later segments deleted, and the commit metadata set
    /// to cover every entry before it (<see cref="AofScanReport.GoodUntil"/>). The commit record of the
    /// entries just before the damage often lies after it (one commit covers a loop turn's writes), and
    /// redis-check-aof --fix keeps everything before the damage too.
    /// </summary>
    public static void TruncateAt(string aofDirectory, string devicePath, int segmentBits, AofScanReport report)
    {
        AppendOnlyFile.WipeAfter(devicePath, report.DamageAddress, segmentBits);
        var latest = LatestCommit(aofDirectory);
        using var manager = CommitManager(aofDirectory);
        foreach (long number in manager.ListCommits().ToArray()) manager.RemoveCommit(number);
        var info = latest?.Info ?? new FasterLogRecoveryInfo { BeginAddress = report.StartAddress, CommitNum = 1 };
        info.UntilAddress = report.GoodUntil;
        if (info.BeginAddress > info.UntilAddress) info.BeginAddress = info.UntilAddress;
        manager.Commit(info.BeginAddress, info.UntilAddress, info.ToByteArray(), latest?.Number ?? 1, forceWriteMetadata: true);
    }

    private static DeviceLogCommitCheckpointManager CommitManager(string aofDirectory)
        => new(new LocalStorageNamedDeviceFactory(), new DefaultCheckpointNamingScheme(aofDirectory), removeOutdated: false);

    /// <summary>Segment numbers present, ascending.</summary>
    public static List<long> ListSegments(string devicePath)
    {
        var ids = new List<long>();
        var dir = Path.GetDirectoryName(devicePath)!;
        var name = Path.GetFileName(devicePath);
        if (!Directory.Exists(dir)) return ids;
        foreach (var f in Directory.GetFiles(dir, name + ".*"))
            if (long.TryParse(Path.GetFileName(f).AsSpan(name.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long id)) ids.Add(id);
        ids.Sort();
        return ids;
    }
}
