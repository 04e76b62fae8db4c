using System.Buffers.Binary;
using FASTER.core;

namespace NativeKv.Server.Storage;

/// <summary>
/// Start-up replay of AOF entries in log order. A frame (one command's records) is applied whole; the
/// parts of a frame too large for one entry wait until the last part is read, and a frame whose last
/// part never comes (the end of the log cut it: a torn or uncommitted tail, or a crash between its
/// parts) is dropped whole.
/// </summary>
internal sealed class AofReplay(StoreSession session)
{
    private readonly Dictionary<long, List<byte[]>> _open = new();
    private readonly StoreSession _session = session;

    public long Frames, FramesSplit;
    /// <summary>Parts whose first part lies before the replay start: their frame was whole before the checkpoint.</summary>
    public long PartsBeforeStart;

    public void Entry(byte[] entry, int length, long address)
    {
        var span = entry.AsSpan(0, length);
        switch ((AofEntryKind)span[0])
        {
            case AofEntryKind.Frame:
                Frames++;
                ApplyRecords(span[5..], BinaryPrimitives.ReadUInt32LittleEndian(span[1..]));
                return;
            case AofEntryKind.FramePart:
            {
                long first = BinaryPrimitives.ReadInt64LittleEndian(span[1..]);
                bool last = span[9] != 0;
                if (first == 0)
                {
                    _open[address] = [entry];
                    return;
                }
                if (!_open.TryGetValue(first, out var parts))
                {
                    // The checkpoint replay starts from was taken between this frame's parts, after all
                    // its records were in the store (a frame is appended when its command ends): the
                    // checkpoint holds the frame whole.
                    PartsBeforeStart++;
                    return;
                }
                parts.Add(entry);
                if (!last) return;
                _open.Remove(first);
                Frames++;
                FramesSplit++;
                foreach (var part in parts)
                {
                    var p = part.AsSpan();
                    ApplyRecords(p[AppendOnlyFile.FramePartHeader..], BinaryPrimitives.ReadUInt32LittleEndian(p[10..]));
                }
                return;
            }
            default:
                Persistence.Apply(_session, span);
                return;
        }
    }

    private void ApplyRecords(ReadOnlySpan<byte> records, uint count)
    {
        for (uint i = 0; i < count; i++)
        {
            int len = CommandFrame.RecordLength(records);
            Persistence.Apply(_session, records[..len]);
            records = records[len..];
        }
    }

    /// <summary>The frames the log ended inside of (none applied): how many, their parts and records.</summary>
    public (int Frames, int Parts, long Records) Incomplete()
    {
        int parts = 0;
        long records = 0;
        foreach (var list in _open.Values)
        {
            parts += list.Count;
            foreach (var p in list) records += BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(10));
        }
        return (_open.Count, parts, records);
    }
}
