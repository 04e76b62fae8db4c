namespace NativeKv.Interop;

/// <summary>sched_getaffinity / sched_setaffinity over a 1024-CPU mask.</summary>
public static unsafe class CpuAffinity
{
    private const int MaskBytes = 128;

    /// <summary>CPUs the calling thread (and so, at start-up, the process) may run on.</summary>
    public static int[] GetAllowedCpus()
    {
        byte* mask = stackalloc byte[MaskBytes];
        new Span<byte>(mask, MaskBytes).Clear();
        Errno.Check(LibC.SchedGetAffinity(0, MaskBytes, mask), "sched_getaffinity");
        var cpus = new List<int>();
        for (int i = 0; i < MaskBytes * 8; i++)
        {
            if ((mask[i >> 3] & (1 << (i & 7))) != 0) cpus.Add(i);
        }
        return cpus.ToArray();
    }

    /// <summary>Pins the calling thread to one CPU.</summary>
    public static void PinCurrentThread(int cpu)
    {
        if (cpu < 0 || cpu >= MaskBytes * 8) throw new ArgumentOutOfRangeException(nameof(cpu));
        byte* mask = stackalloc byte[MaskBytes];
        new Span<byte>(mask, MaskBytes).Clear();
        mask[cpu >> 3] = (byte)(1 << (cpu & 7));
        Errno.Check(LibC.SchedSetAffinity(0, MaskBytes, mask), $"sched_setaffinity(cpu {cpu})");
    }
}
