using System.Runtime.InteropServices;

namespace NativeKv.Interop;

public static unsafe partial class LibC
{
    // --- files (the store's log device) -------------------------------------------------------
    public const int O_RDWR = 0x2;
    public const int O_CREAT = 0x40;
    public const int O_DSYNC = 0x1000;
    public const int O_CLOEXEC = 0x80000;
    public const int RWF_NOWAIT = 0x8;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int EOPNOTSUPP = 95;

    [LibraryImport(Lib, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, void* buf, nint count, long offset);

    /// <summary>pread with per-call flags (Linux 4.6, glibc 2.26); RWF_NOWAIT since Linux 4.14.</summary>
    [LibraryImport(Lib, EntryPoint = "preadv2", SetLastError = true)]
    public static partial nint PReadV2(int fd, IoVec* iov, int count, long offset, int flags);
}

/// <summary>Checked positional file I/O on a raw fd: what the store's log device needs, nothing else.</summary>
public static unsafe class FileIo
{
    /// <summary>Opens (creating, mode 0666 less the umask, as .NET creates files) for reading and writing; O_DSYNC: a completed write is on the device.</summary>
    public static int OpenDataSync(string path)
        => Errno.Check(LibC.Open(path, LibC.O_RDWR | LibC.O_CREAT | LibC.O_CLOEXEC | LibC.O_DSYNC, 0x1B6), $"open {path}");

    /// <summary>
    /// A read that never blocks: bytes read (0 = end of file), or minus errno (EAGAIN: not all in the page
    /// cache; EOPNOTSUPP/ENOSYS/EINVAL: the kernel or the filesystem cannot do RWF_NOWAIT).
    /// </summary>
    public static nint TryReadCached(int fd, byte* buffer, nint count, long offset)
    {
        IoVec iov;
        iov.Base = buffer;
        iov.Length = count;
        while (true)
        {
            nint n = LibC.PReadV2(fd, &iov, 1, offset, LibC.RWF_NOWAIT);
            if (n >= 0) return n;
            int e = Errno.Last;
            if (e != LibC.EINTR) return -e;
        }
    }

    /// <summary>A blocking read: bytes read (0 = end of file), or minus errno.</summary>
    public static nint Read(int fd, byte* buffer, nint count, long offset)
    {
        while (true)
        {
            nint n = LibC.PRead(fd, buffer, count, offset);
            if (n >= 0) return n;
            int e = Errno.Last;
            if (e != LibC.EINTR) return -e;
        }
    }

    /// <summary>Writes all of it: 0, or the errno of the failed pwrite (ENOSPC for one that makes no progress).</summary>
    public static int WriteAll(int fd, byte* buffer, long count, long offset)
    {
        long done = 0;
        while (done < count)
        {
            nint n = LibC.PWrite(fd, buffer + done, (nint)(count - done), offset + done);
            if (n < 0)
            {
                int e = Errno.Last;
                if (e == LibC.EINTR) continue;
                return e;
            }
            if (n == 0) return LibC.ENOSPC;
            done += n;
        }
        return 0;
    }

    /// <summary>0, or the errno of the failed fdatasync.</summary>
    public static int DataSync(int fd) => LibC.FDataSync(fd) == 0 ? 0 : Errno.Last;

    public static void Close(int fd) => LibC.Close(fd);
}
