using System.Diagnostics;
using System.Runtime.InteropServices;

namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>
/// Every process the harness starts (servers, redis-benchmark, redis-cli) and every scratch folder
/// it creates is registered here, so that they are all gone when the harness ends, however it ends:
/// normal return (<see cref="TearDown"/> in a finally), Ctrl-C, SIGTERM/SIGHUP, or process exit.
/// Servers are additionally started under <c>setpriv --pdeathsig KILL</c>, which covers a harness
/// that is itself killed with SIGKILL.
/// </summary>
static class ChildProcesses
{
    static readonly Lock Gate = new();
    static readonly HashSet<Process> Live = [];
    static readonly List<string> ScratchFolders = [];
    static readonly List<PosixSignalRegistration> Registrations = [];

    static bool _stopping;

    /// <summary>Starts and registers a process; refuses (and kills it at once) once tear-down has begun.</summary>
    public static void Start(Process process)
    {
        lock (Gate)
        {
            if (_stopping) throw new OperationCanceledException("the harness is stopping");
            process.Start();
            Live.Add(process);
        }
    }

    public static void Forget(Process process)
    {
        lock (Gate) Live.Remove(process);
    }

    public static void TrackScratchFolder(string path)
    {
        lock (Gate) ScratchFolders.Add(path);
    }

    /// <summary>Kills a process and its descendants; never throws.</summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException) { } // never started, or already reaped
        catch (System.ComponentModel.Win32Exception) { } // already gone
        Forget(process);
    }

    /// <summary>Kills everything still running and deletes the scratch folders. Idempotent.</summary>
    public static void TearDown()
    {
        Process[] processes;
        string[] folders;
        lock (Gate)
        {
            _stopping = true;
            processes = [.. Live];
            folders = [.. ScratchFolders];
            Live.Clear();
            ScratchFolders.Clear();
        }
        foreach (var p in processes) KillTree(p);
        foreach (var folder in folders)
        {
            try { if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Tears down on Ctrl-C, SIGTERM, SIGHUP and AppDomain exit.</summary>
    public static void InstallExitHandlers()
    {
        Console.CancelKeyPress += (_, e) =>
        {
            Console.Error.WriteLine("\ninterrupted: stopping servers ...");
            TearDown();
            e.Cancel = false; // then terminate as usual
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TearDown();
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT })
            Registrations.Add(PosixSignalRegistration.Create(signal, _ => TearDown()));
    }
}
