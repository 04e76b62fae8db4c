using NativeKv.Interop;

namespace NativeKv.Server.Storage;

/// <summary>
/// The disk space a checkpoint is going to write, allocated before FASTER's checkpoint starts.
///
/// FASTER keeps a failed log write as a hole for good and its checkpoint state machine then never
/// completes (a BGSAVE on a full disk hung with rdb_bgsave_in_progress:1 and blocked every later one).
/// So a checkpoint starts only once a reserve file as large as what it writes (the log not yet flushed,
/// the hash index, slack for the metadata) has been allocated in the store directory; on ENOSPC it fails
/// at once, as a Redis BGSAVE does, with nothing of FASTER touched. The reserve is deleted just before
/// the checkpoint starts, handing its blocks to it.
/// </summary>
internal static class CheckpointReserve
{
    public const string FileName = "checkpoint.reserve";

    /// <summary>Above the log and the index: the metadata files, sector rounding of the partial page.</summary>
    public const long Slack = 4L << 20;

    /// <summary>
    /// Bytes a fold-over checkpoint writes now: the mutable log (it flushes up to the tail) plus one page
    /// for read-only pages whose flush is still in flight, and the index (64 bytes a bucket).
    /// </summary>
    public static long Needed(Store store)
    {
        var log = store.Kv.Log;
        long unflushed = Math.Max(0, log.TailAddress - log.SafeReadOnlyAddress) + (1L << store.PageBits);
        long index = (store.Kv.IndexSize + store.Kv.OverflowBucketCount) * 64;
        return unflushed + index + Slack;
    }

    /// <summary>Allocates and frees the reserve; throws <see cref="IOException"/> with Redis's text when the disk lacks it.</summary>
    public static void Take(Store store, bool rewrite)
    {
        long bytes = Needed(store);
        string path = Path.Combine(store.Directory, FileName);
        int errno;
        try
        {
            using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
                errno = LibC.PosixFallocate((int)handle.DangerousGetHandle(), 0, bytes);
        }
        catch (IOException e)
        {
            errno = e.HResult > 0 && e.HResult < 4096 ? e.HResult : LibC.ENOSPC; // no inode left for the file
        }
        finally
        {
            try { File.Delete(path); }
            catch (IOException) { }
        }
        // EOPNOTSUPP/EINVAL: a file system that cannot allocate ahead; the checkpoint goes on unguarded.
        if (errno == 0 || errno == 95 || errno == 22) return;
        throw new IOException((rewrite ? "Write error writing append only file on disk: " : "Write error saving DB on disk: ")
                              + Errno.Describe(errno) + $" (the checkpoint needs {bytes >> 20} MB)");
    }
}
