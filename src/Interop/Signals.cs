using System.Runtime.InteropServices;

namespace NativeKv.Interop;

/// <summary>
/// Signal dispositions. .NET's PosixSignalRegistration keeps a signal the process inherited as
/// ignored (System.Native's InstallSignalHandler returns early on SIG_IGN, so a script's
/// `nativekv &amp;`, which gets SIGINT ignored, could not be stopped with SIGINT); Redis installs its
/// handlers regardless. <see cref="Unignore"/> puts back SIG_DFL before .NET looks.
/// </summary>
public static unsafe class Signals
{
    public const int SIGINT = 2;
    public const int SIGTERM = 15;
    private const nint SIG_DFL = 0;
    private const nint SIG_IGN = 1;

    /// <summary>
    /// SIG_IGN becomes SIG_DFL; any other disposition is left alone. Must run before the first
    /// Console write, Process or PosixSignalRegistration: System.Native reads the disposition
    /// once, when it initializes, and never again. True when the signal was ignored.
    /// </summary>
    public static bool Unignore(int signal)
    {
        SigAction current;
        Errno.Check(LibC.SigAction(signal, null, &current), "sigaction");
        if (current.Handler != SIG_IGN) return false;
        SigAction reset = default;
        reset.Handler = SIG_DFL;
        Errno.Check(LibC.SigAction(signal, &reset, null), "sigaction");
        return true;
    }
}

/// <summary>glibc's struct sigaction (x86-64 and arm64): handler, 1024-bit mask, flags, restorer; 152 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SigAction
{
    public nint Handler;
    public fixed ulong Mask[16];
    public int Flags;
    public nint Restorer;
}
