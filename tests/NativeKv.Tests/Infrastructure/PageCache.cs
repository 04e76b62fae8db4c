using System.Runtime.InteropServices;

namespace NativeKv.Tests.Infrastructure;

/// <summary>Drops a file's clean pages from the OS page cache, so the next read of it really goes to disk.</summary>
public static class PageCache
{
    private const int POSIX_FADV_DONTNEED = 4;

    [DllImport("libc", EntryPoint = "posix_fadvise")]
    private static extern int PosixFadvise(int fd, long offset, long length, int advice);

    public static void Evict(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        int error = PosixFadvise((int)handle.DangerousGetHandle(), 0, 0, POSIX_FADV_DONTNEED);
        if (error != 0) throw new IOException($"posix_fadvise {path}: error {error}");
    }

    /// <summary>Every segment file of the store's log (store/hlog.N) under a server's data directory.</summary>
    public static void EvictStoreLog(string dataDir)
    {
        foreach (var f in Directory.GetFiles(Path.Combine(dataDir, "store"), "hlog.*")) Evict(f);
    }
}
