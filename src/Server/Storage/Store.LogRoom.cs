namespace NativeKv.Server.Storage;

/// <summary>
/// Room at the log's tail. FASTER 2.6.5 allocates a new tail page only once the page a whole buffer
/// before it is flushed (AllocatorBase.NeedToWait); until then a synchronous write waits on the flush
/// inside FASTER (ALLOCATE_FAILED: the epoch suspended, a semaphore wait), and so did the reactor that
/// issued it, every client of it with it. Under maxmemory 16mb (4 pages of 4 MB) that flush is issued
/// only one page of writes before it is needed: a paged SADD load under CPU load blocked its reactor 25-29
/// times in 20 s, for up to 87 ms each, just past a page boundary. The flush completes on the I/O threads
/// without the writer (the epoch action that issues it runs on whichever thread leaves the epoch last), so
/// a command that finds no room waits for it like a disk read instead (<see cref="StoreSession.RoomToWrite"/>).
/// </summary>
public sealed partial class Store
{
    /// <summary>
    /// True when the tail can take half a page of records without waiting for a flush. Half a page, not
    /// one record: a paged command writes all its pages in one go (200 buckets of an SADD: 800 KB) and
    /// another reactor writes beside it; the cap keeps a command bigger than that from waiting for room
    /// that never comes (such a command may still wait inside FASTER at a page boundary).
    /// </summary>
    internal bool LogHasRoom()
    {
        // FASTER's own flushed-until address is internal: the read-only part is flushed up to the lowest
        // write still in flight (FASTER issues a range's writes right after moving the safe read-only address).
        var log = Kv.Log;
        long flushed = Math.Min(log.SafeReadOnlyAddress, _device.LowestWriteInFlight);
        int bits = PageBits;
        long limit = (log.BufferSize + (flushed >> bits)) << bits;
        return log.TailAddress + (1L << (bits - 1)) <= limit;
    }

    /// <summary>Tests: holds the log's page flushes (none completes) until released.</summary>
    internal bool HoldLogFlushes { get => _device.HoldWrites; set => _device.HoldWrites = value; }
}
