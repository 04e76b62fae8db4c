using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using FASTER.core;
using NativeKv.Server.Storage;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Storage;

/// <summary>
/// The store's log device: segment files, page-cache reads on the caller, blocking reads and writes on its
/// threads, reads past the end of a file, recovery, FASTER's own device on the same files, and Dispose.
/// </summary>
public class FileDeviceTests
{
    private const long SegmentSize = 1L << 20;

    private static string NewDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-filedev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static byte[] Data(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>Writes and waits; onCaller: the callback ran on this thread, inside WriteAsync.</summary>
    private static unsafe (uint error, uint bytes, bool onCaller) Write(IDevice device, byte[] data, ulong address)
    {
        int caller = Environment.CurrentManagedThreadId;
        var done = new TaskCompletionSource<(uint, uint, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var buffer = NativeMemory.AlignedAlloc((nuint)data.Length, 4096);
        try
        {
            data.CopyTo(new Span<byte>(buffer, data.Length));
            device.WriteAsync((IntPtr)buffer, address, (uint)data.Length,
                (error, bytes, _) => done.SetResult((error, bytes, Environment.CurrentManagedThreadId == caller)), null);
            return done.Task.Wait(TimeSpan.FromSeconds(30)) ? done.Task.Result : throw new TimeoutException("write never completed");
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    /// <summary>Reads into a buffer first filled with 0xEE (stale bytes); the data, what the callback said, and whether it ran on this thread.</summary>
    private static unsafe (byte[] data, uint error, uint bytes, bool onCaller) Read(IDevice device, ulong address, int length)
    {
        int caller = Environment.CurrentManagedThreadId;
        var buffer = NativeMemory.AlignedAlloc((nuint)length, 4096);
        try
        {
            new Span<byte>(buffer, length).Fill(0xEE);
            var done = new TaskCompletionSource<(uint, uint, bool)>(TaskCreationOptions.RunContinuationsAsynchronously);
            device.ReadAsync(address, (IntPtr)buffer, (uint)length,
                (error, bytes, _) => done.SetResult((error, bytes, Environment.CurrentManagedThreadId == caller)), null);
            var (e, n, t) = done.Task.Wait(TimeSpan.FromSeconds(30)) ? done.Task.Result : throw new TimeoutException("read never completed");
            return (new Span<byte>(buffer, length).ToArray(), e, n, t);
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static string[] OpenFilesUnder(string dir)
    {
        var open = new List<string>();
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith(dir)) open.Add(target);
            }
            catch (IOException) { } // closed meanwhile by another test
        }
        return open.ToArray();
    }

    private static FileDevice NewDevice(string dir, bool recover = false)
    {
        var device = new FileDevice(Path.Combine(dir, "hlog"), recover);
        device.Initialize(SegmentSize, new LightEpoch());
        return device;
    }

    [Test]
    public async Task Writes_land_in_segment_files_and_read_back_inline_and_from_the_read_threads()
    {
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            (ulong address, byte[] data)[] pages = [(0UL, Data(64 * 1024, 1)), (SegmentSize + 8192UL, Data((int)FileDevice.InlineReadLimit, 2)), (2 * (ulong)SegmentSize + SegmentSize / 2, Data(4096, 3))];
            foreach (var (address, data) in pages)
            {
                var (error, bytes, onCaller) = Write(device, data, address);
                await Assert.That(error).IsEqualTo(0u);
                await Assert.That(bytes).IsEqualTo((uint)data.Length);
                // Never on the caller: a page flush is megabytes behind O_DSYNC.
                await Assert.That(onCaller).IsFalse();
            }
            foreach (var i in new[] { 0, 1, 2 }) await Assert.That(File.Exists(Path.Combine(dir, $"hlog.{i}"))).IsTrue();
            await Assert.That(new FileInfo(Path.Combine(dir, "hlog.1")).Length).IsEqualTo(8192L + FileDevice.InlineReadLimit);

            // Just written, so in the page cache: each read completes on this thread, inside ReadAsync.
            foreach (var (address, data) in pages)
            {
                var (read, error, bytes, onCaller) = Read(device, address, data.Length);
                await Assert.That(error).IsEqualTo(0u);
                await Assert.That(bytes).IsEqualTo((uint)data.Length);
                await Assert.That(onCaller).IsTrue();
                await Assert.That(read.SequenceEqual(data)).IsTrue();
            }
            await Assert.That(device.InlineReads).IsEqualTo(3L);
            await Assert.That(device.BackgroundReads).IsEqualTo(0L);

            device.ForceBackgroundReads = true;
            foreach (var (address, data) in pages)
            {
                var (read, error, bytes, onCaller) = Read(device, address + 512, data.Length - 512);
                await Assert.That(error).IsEqualTo(0u);
                await Assert.That(bytes).IsEqualTo((uint)data.Length - 512);
                await Assert.That(onCaller).IsFalse();
                await Assert.That(read.SequenceEqual(data.Skip(512))).IsTrue();
            }
            await Assert.That(device.BackgroundReads).IsEqualTo(3L);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task A_read_the_page_cache_misses_goes_to_a_read_thread()
    {
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            var data = Data(256 * 1024, 9);
            Write(device, data, 0);
            PageCache.Evict(Path.Combine(dir, "hlog.0"));
            // RWF_NOWAIT finds nothing cached (EAGAIN): the read goes on from a read thread.
            var (read, error, bytes, onCaller) = Read(device, 128 * 1024, 4096);
            await Assert.That((error, bytes)).IsEqualTo((0u, 4096u));
            await Assert.That(read.SequenceEqual(data.Skip(128 * 1024).Take(4096))).IsTrue();
            await Assert.That(onCaller).IsFalse();
            await Assert.That((device.InlineReads, device.BackgroundReads)).IsEqualTo((0L, 1L));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task A_read_past_the_end_of_the_file_reads_zeros_and_reports_the_length_asked(bool background)
    {
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            device.ForceBackgroundReads = background;
            var data = Data(4096, 4);
            Write(device, data, 0);
            // Half in the file, half past its end: the buffer's stale 0xEE must not survive.
            var (read, error, bytes, _) = Read(device, 0, 8192);
            await Assert.That(error).IsEqualTo(0u);
            await Assert.That(bytes).IsEqualTo(8192u);
            await Assert.That(read.AsSpan(0, 4096).SequenceEqual(data)).IsTrue();
            await Assert.That(read.Skip(4096).All(b => b == 0)).IsTrue();
            // Wholly past the end, and in a segment never written (its file is created empty, as FASTER's device does).
            (read, error, bytes, _) = Read(device, 65536, 4096);
            await Assert.That((error, bytes)).IsEqualTo((0u, 4096u));
            await Assert.That(read.All(b => b == 0)).IsTrue();
            (read, error, bytes, _) = Read(device, 3 * (ulong)SegmentSize, 4096);
            await Assert.That((error, bytes)).IsEqualTo((0u, 4096u));
            await Assert.That(read.All(b => b == 0)).IsTrue();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    [Arguments(false)]
    [Arguments(true)]
    public async Task Many_reads_from_many_threads_at_once_all_return_their_own_bytes(bool background)
    {
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            var data = Data((int)SegmentSize, 5);
            Write(device, data, 0);
            Write(device, data, (ulong)SegmentSize);
            device.ForceBackgroundReads = background;
            const int Reads = 64, Threads = 4, Length = 4096;
            var failures = new ConcurrentQueue<string>();
            var workers = Enumerable.Range(0, Threads).Select(t => Task.Run(() => ReadMany(t))).ToArray();
            await Assert.That(Task.WaitAll(workers, TimeSpan.FromSeconds(60))).IsTrue();
            await Assert.That(failures).IsEmpty();
            await Assert.That(device.InlineReads + device.BackgroundReads).IsEqualTo((long)Reads * Threads);
            if (background) await Assert.That(device.InlineReads).IsEqualTo(0L);

            unsafe void ReadMany(int t)
            {
                // All 64 in flight before the first is waited for, as a command's reads are.
                var buffers = new byte*[Reads];
                var offsets = new long[Reads];
                var countdown = new CountdownEvent(Reads);
                var errors = new uint[Reads];
                var random = new Random(t);
                for (int i = 0; i < Reads; i++)
                {
                    buffers[i] = (byte*)NativeMemory.AlignedAlloc(Length, 512);
                    // Within one segment, as FASTER's reads are.
                    offsets[i] = random.Next(2) * SegmentSize + random.Next(0, (int)(SegmentSize - Length) / 512) * 512L;
                    int slot = i;
                    device.ReadAsync((ulong)offsets[i], (IntPtr)buffers[i], Length, (e, _, _) => { errors[slot] = e; countdown.Signal(); }, null);
                }
                if (!countdown.Wait(TimeSpan.FromSeconds(30))) failures.Enqueue($"thread {t}: reads never completed");
                for (int i = 0; i < Reads; i++)
                {
                    int at = (int)(offsets[i] % SegmentSize);
                    if (errors[i] != 0 || !new Span<byte>(buffers[i], Length).SequenceEqual(data.AsSpan(at, Length)))
                        failures.Enqueue($"thread {t} read {i} at {offsets[i]}: error {errors[i]} or wrong bytes");
                    NativeMemory.AlignedFree(buffers[i]);
                }
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task A_read_issued_from_a_read_callback_nests_inline_only_so_deep()
    {
        // FASTER's hash-chain walk re-issues a read from inside the callback of the one before.
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            var data = Data(64 * 1024, 6);
            Write(device, data, 0);
            const int Chain = 20;
            int caller = Environment.CurrentManagedThreadId, onCaller = 0, done = 0;
            var finished = new ManualResetEventSlim();
            IntPtr buffer;
            unsafe { buffer = (IntPtr)NativeMemory.AlignedAlloc(4096, 512); }
            try
            {
                void Next(uint error, uint bytes, object context)
                {
                    if (Environment.CurrentManagedThreadId == caller) onCaller++;
                    if (++done == Chain) finished.Set();
                    else device.ReadAsync((ulong)(done * 512), buffer, 4096, Next, null);
                }
                device.ReadAsync(0, buffer, 4096, Next, null);
                await Assert.That(finished.Wait(TimeSpan.FromSeconds(30))).IsTrue();
            }
            finally
            {
                unsafe { NativeMemory.AlignedFree((void*)buffer); }
            }
            await Assert.That(done).IsEqualTo(Chain);
            // Eight deep on the caller's stack, then a read thread takes the rest of the walk.
            await Assert.That(onCaller).IsEqualTo(8);
            await Assert.That(device.BackgroundReads).IsGreaterThanOrEqualTo(1L);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task RemoveSegment_and_TruncateUntilAddress_delete_the_files()
    {
        var dir = NewDir();
        try
        {
            using var device = NewDevice(dir);
            for (int i = 0; i < 4; i++) Write(device, Data(4096, i), (ulong)(i * SegmentSize));
            device.RemoveSegment(0);
            await Assert.That(File.Exists(Path.Combine(dir, "hlog.0"))).IsFalse();
            device.TruncateUntilAddress(3 * SegmentSize + 100);
            await Assert.That(string.Join(",", Directory.GetFiles(dir).Select(Path.GetFileName))).IsEqualTo("hlog.3");
            await Assert.That(device.StartSegment).IsEqualTo(3);
            var (read, error, _, _) = Read(device, 3 * (ulong)SegmentSize, 4096);
            await Assert.That(error).IsEqualTo(0u);
            await Assert.That(read.SequenceEqual(Data(4096, 3))).IsTrue();
            await Assert.That(device.GetFileSize(3)).IsEqualTo(SegmentSize);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task A_reopened_device_finds_its_segments_and_reads_them()
    {
        var dir = NewDir();
        try
        {
            using (var device = NewDevice(dir))
                for (int i = 2; i < 6; i++) Write(device, Data(8192, i), (ulong)(i * SegmentSize) + 4096);
            File.WriteAllBytes(Path.Combine(dir, "hlog.x"), new byte[1]); // not a segment: ignored
            using var reopened = NewDevice(dir, recover: true);
            await Assert.That((reopened.StartSegment, reopened.EndSegment)).IsEqualTo((2, 5));
            for (int i = 2; i < 6; i++)
            {
                var (read, error, _, _) = Read(reopened, (ulong)(i * SegmentSize) + 4096, 8192);
                await Assert.That(error).IsEqualTo(0u);
                await Assert.That(read.SequenceEqual(Data(8192, i))).IsTrue();
            }
            using var fresh = NewDevice(dir, recover: false);
            await Assert.That((fresh.StartSegment, fresh.EndSegment)).IsEqualTo((0, -1));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task Files_written_by_FASTERs_device_read_back_through_this_one_and_the_other_way_round()
    {
        var dir = NewDir();
        try
        {
            var name = Path.Combine(dir, "hlog");
            var first = Data(65536, 7);
            var second = Data(65536, 8);
            using (var faster = Devices.CreateLogDevice(name, preallocateFile: false, deleteOnClose: false, recoverDevice: false, disableFileBuffering: false))
            {
                faster.Initialize(SegmentSize, new LightEpoch());
                await Assert.That(Write(faster, first, (ulong)SegmentSize + 4096).error).IsEqualTo(0u);
            }
            using (var ours = NewDevice(dir, recover: true))
            {
                await Assert.That((ours.StartSegment, ours.EndSegment)).IsEqualTo((1, 1));
                var (read, error, _, _) = Read(ours, (ulong)SegmentSize + 4096, first.Length);
                await Assert.That(error).IsEqualTo(0u);
                await Assert.That(read.SequenceEqual(first)).IsTrue();
                await Assert.That(Write(ours, second, 2 * (ulong)SegmentSize).error).IsEqualTo(0u);
            }
            using (var faster = Devices.CreateLogDevice(name, preallocateFile: false, deleteOnClose: false, recoverDevice: true, disableFileBuffering: false))
            {
                faster.Initialize(SegmentSize, new LightEpoch());
                await Assert.That((faster.StartSegment, faster.EndSegment)).IsEqualTo((1, 2));
                var (read, error, bytes, _) = Read(faster, 2 * (ulong)SegmentSize, second.Length);
                await Assert.That((error, bytes)).IsEqualTo((0u, (uint)second.Length));
                await Assert.That(read.SequenceEqual(second)).IsTrue();
                (read, error, _, _) = Read(faster, (ulong)SegmentSize + 4096, first.Length);
                await Assert.That(read.SequenceEqual(first)).IsTrue();
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task Dispose_with_IO_in_flight_completes_every_callback_and_leaves_no_thread()
    {
        var dir = NewDir();
        try
        {
            var device = NewDevice(dir);
            device.ForceBackgroundReads = true;
            const int Writes = 16, Reads = 64, Length = 256 * 1024;
            int completed = 0, succeeded = 0;
            var buffers = new List<IntPtr>();
            unsafe
            {
                for (int i = 0; i < Writes + Reads; i++) buffers.Add((IntPtr)NativeMemory.AlignedAlloc(Length, 4096));
            }
            try
            {
                DeviceIOCompletionCallback done = (error, _, _) =>
                {
                    if (error == 0) Interlocked.Increment(ref succeeded);
                    Interlocked.Increment(ref completed);
                };
                for (int i = 0; i < Writes; i++) device.WriteAsync(buffers[i], (ulong)(i % 4) * (ulong)SegmentSize, Length, done, null);
                for (int i = 0; i < Reads; i++) device.ReadAsync((ulong)(i % 4) * (ulong)SegmentSize, buffers[Writes + i], Length, done, null);
                await Assert.That(device.LiveThreads).IsEqualTo(FileDevice.ReadThreads + FileDevice.WriteThreads);
                device.Dispose();
                // What was queued ran before the threads stopped.
                await Assert.That(completed).IsEqualTo(Writes + Reads);
                await Assert.That(succeeded).IsEqualTo(Writes + Reads);
                await Assert.That(device.LiveThreads).IsEqualTo(0);
                // After Dispose an operation fails at once instead of waiting for a thread that is gone.
                uint late = 0;
                device.ReadAsync(0, buffers[0], 4096, (error, _, _) => late = error, null);
                await Assert.That(late).IsNotEqualTo(0u);
                device.Dispose();
            }
            finally
            {
                unsafe { foreach (var b in buffers) NativeMemory.AlignedFree((void*)b); }
            }
            // Every fd closed: the files can go and nothing of this device holds them.
            await Assert.That(OpenFilesUnder(dir)).IsEmpty();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
