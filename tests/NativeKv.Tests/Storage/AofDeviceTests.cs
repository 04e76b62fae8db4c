using System.Runtime.InteropServices;
using NativeKv.Server.Storage;

namespace NativeKv.Tests.Storage;

/// <summary>The AOF's device: segment files, inline small writes, pooled large ones, recovery of the segment range.</summary>
public class AofDeviceTests
{
    private static string NewDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-aofdev-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static unsafe (uint error, uint bytes, int thread) Write(AofDevice device, byte[] data, ulong address)
    {
        var done = new TaskCompletionSource<(uint, uint, int)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var buffer = NativeMemory.AlignedAlloc((nuint)data.Length, 4096);
        try
        {
            data.CopyTo(new Span<byte>(buffer, data.Length));
            device.WriteAsync((IntPtr)buffer, address, (uint)data.Length,
                (error, bytes, _) => done.SetResult((error, bytes, Environment.CurrentManagedThreadId)), null);
            return done.Task.Wait(TimeSpan.FromSeconds(30)) ? done.Task.Result : throw new TimeoutException("write never completed");
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    private static unsafe byte[] Read(AofDevice device, ulong address, int length)
    {
        var buffer = NativeMemory.AlignedAlloc((nuint)length, 4096);
        try
        {
            new Span<byte>(buffer, length).Fill(0xEE);
            uint error = 99;
            device.ReadAsync(address, (IntPtr)buffer, (uint)length, (e, _, _) => error = e, null);
            if (error != 0) throw new IOException($"read failed with {error}");
            return new Span<byte>(buffer, length).ToArray();
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    [Test]
    public async Task A_commit_sized_write_completes_on_the_calling_thread_and_reads_back()
    {
        var dir = NewDir();
        try
        {
            using var device = new AofDevice(Path.Combine(dir, "appendonly.aof"), recover: false);
            device.Initialize(1L << 20);
            var data = new byte[4096];
            new Random(7).NextBytes(data);
            // Second segment, 8 KB in: the file is appendonly.aof.1 at offset 8192.
            var (error, bytes, thread) = Write(device, data, (1UL << 20) + 8192);
            await Assert.That(error).IsEqualTo(0u);
            await Assert.That(bytes).IsEqualTo(4096u);
            await Assert.That(thread).IsEqualTo(Environment.CurrentManagedThreadId);
            await Assert.That(File.Exists(Path.Combine(dir, "appendonly.aof.1"))).IsTrue();
            await Assert.That(Read(device, (1UL << 20) + 8192, 4096).SequenceEqual(data)).IsTrue();
            // Beyond what was written the segment reads as zeros.
            await Assert.That(Read(device, (1UL << 20) + 65536, 4096).All(b => b == 0)).IsTrue();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task A_page_sized_write_goes_to_the_pool_and_is_complete_when_its_callback_runs()
    {
        var dir = NewDir();
        try
        {
            using var device = new AofDevice(Path.Combine(dir, "appendonly.aof"), recover: false);
            device.Initialize(1L << 24);
            var data = new byte[AofDevice.InlineWriteLimit * 4];
            new Random(11).NextBytes(data);
            var (error, bytes, thread) = Write(device, data, 0);
            await Assert.That(error).IsEqualTo(0u);
            await Assert.That(bytes).IsEqualTo((uint)data.Length);
            await Assert.That(thread).IsNotEqualTo(Environment.CurrentManagedThreadId);
            await Assert.That(File.ReadAllBytes(Path.Combine(dir, "appendonly.aof.0")).SequenceEqual(data)).IsTrue();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Test]
    public async Task Recovery_takes_the_contiguous_segments_ending_at_the_newest_and_removal_deletes_the_file()
    {
        var dir = NewDir();
        try
        {
            var name = Path.Combine(dir, "appendonly.aof");
            foreach (var id in new[] { 1, 3, 4, 5 }) File.WriteAllBytes($"{name}.{id}", [1]);
            File.WriteAllBytes(name + ".manifest", [1]); // not a segment
            using var device = new AofDevice(name, recover: true);
            device.Initialize(1L << 20);
            await Assert.That(device.StartSegment).IsEqualTo(3);
            await Assert.That(device.EndSegment).IsEqualTo(5);
            device.RemoveSegment(3);
            await Assert.That(File.Exists(name + ".3")).IsFalse();
            await Assert.That(File.Exists(name + ".4")).IsTrue();
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
