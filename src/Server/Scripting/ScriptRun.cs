using System.Diagnostics;

namespace NativeKv.Server.Scripting;

/// <summary>
/// One script being run (script.c scriptRunCtx): its reactor's thread writes it; another reactor's SCRIPT
/// KILL reads <see cref="WriteDirty"/> and sets <see cref="Killed"/>, which the count hook sees. A reactor
/// keeps one and starts it again for each script (<see cref="Begin"/>): no allocation per EVAL.
/// </summary>
public sealed class ScriptRun
{
    /// <summary>Counts the runs of this object: a SCRIPT KILL that read it during one run kills only that run.</summary>
    private int _run;
    private int _killedRun = -1;

    /// <summary>Starts a run (before <see cref="RunningScripts.Enter"/> publishes it to the other reactors).</summary>
    public void Begin(ScriptEntry script, FunctionInfo? function, bool readOnly, Network.Client client)
    {
        _run++;
        Script = script;
        Function = function;
        Command = null;
        ReadOnly = readOnly;
        AllowOom = false;
        WriteDirty = false;
        TimedOut = false;
        StartTimestamp = Stopwatch.GetTimestamp();
        Resp = 2;
        Abort = AbortReason.None;
        TouchedUndeclared = false;
        LockError = null;
        Client = client;
        Declared.Clear();
    }

    /// <summary>After the run: nothing of it is kept alive (its client, the FCALL's arguments).</summary>
    public void End()
    {
        Client = null!;
        Command = null;
        Function = null;
    }

    public ScriptEntry Script = null!;
    /// <summary>The function an FCALL runs (null: an EVAL); FUNCTION KILL and STATS see only these.</summary>
    public FunctionInfo? Function;
    /// <summary>The FCALL's arguments, for FUNCTION STATS.</summary>
    public byte[][]? Command;
    public bool ReadOnly;
    public bool AllowOom;
    /// <summary>SCRIPT_WRITE_DIRTY: a write command ran; SCRIPT KILL answers UNKILLABLE from then on.</summary>
    public volatile bool WriteDirty;
    /// <summary>SCRIPT_KILLED: set by SCRIPT KILL from any reactor (<see cref="Kill"/>).</summary>
    public bool Killed => Volatile.Read(ref _killedRun) == Volatile.Read(ref _run);

    /// <summary>SCRIPT KILL from any reactor: the run going on now (if the object moved on to the next run meanwhile, none).</summary>
    public void Kill(int run) => Volatile.Write(ref _killedRun, run);

    /// <summary>Which run this is (read before <see cref="Kill"/>).</summary>
    public int RunNumber => Volatile.Read(ref _run);
    /// <summary>Past busy-reply-threshold: other clients get BUSY.</summary>
    public volatile bool TimedOut;
    public long StartTimestamp;
    /// <summary>The RESP version redis.call replies are converted from (redis.setresp).</summary>
    public int Resp = 2;
    /// <summary>The run stopped itself (waits on disk, or needs a lock it may not wait for): the result is not the script's.</summary>
    public AbortReason Abort;
    /// <summary>A redis.call touched a key outside KEYS.</summary>
    public bool TouchedUndeclared;

    public string? LockError;
    public Network.Client Client = null!;
    /// <summary>The stripes of KEYS (in the database the script started in), to learn whether it touches others.</summary>
    public readonly List<(int Db, int Stripe)> Declared = new();

    public bool IsDeclared(int db, int stripe)
    {
        foreach (var d in Declared)
            if (d.Stripe == stripe && d.Db == db) return true;
        return false;
    }

    public long ElapsedMs => (long)Stopwatch.GetElapsedTime(StartTimestamp).TotalMilliseconds;
}

public enum AbortReason : byte
{
    None,
    /// <summary>A store operation went to disk: the executor runs the script again once it is in.</summary>
    Pending,
    /// <summary>An undeclared key whose lock another client holds.</summary>
    LockBusy,
}

/// <summary>
/// The scripts running now, one slot per reactor (a reactor runs one at a time): BUSY for the other
/// reactors' clients once one has run past busy-reply-threshold, and SCRIPT KILL from any of them.
/// </summary>
public sealed class RunningScripts
{
    private readonly ScriptRun?[] _slots = new ScriptRun?[256];
    private volatile int _busy;

    /// <summary>Some script has run past busy-reply-threshold (one volatile read per command).</summary>
    public bool Busy => _busy != 0;

    public void Enter(int reactor, ScriptRun run) => Volatile.Write(ref _slots[reactor & 255], run);

    public void Exit(int reactor, ScriptRun run)
    {
        Volatile.Write(ref _slots[reactor & 255], null);
        if (run.TimedOut)
        {
            run.TimedOut = false;
            Interlocked.Decrement(ref _busy);
        }
    }

    /// <summary>The hook saw the script past the threshold (scriptInterrupt's timedout).</summary>
    public void MarkTimedOut(ScriptRun run)
    {
        if (run.TimedOut) return;
        run.TimedOut = true;
        Interlocked.Increment(ref _busy);
    }

    /// <summary>Whether a script runs on <paramref name="reactor"/>.</summary>
    public bool RunsOn(int reactor) => Volatile.Read(ref _slots[reactor & 255]) is not null;

    /// <summary>scriptKill: null when killed (OK), else the error to reply. SCRIPT KILL stops EVALs, FUNCTION KILL functions.</summary>
    public string? Kill(bool eval)
    {
        bool any = false, mine = false;
        for (int i = 0; i < _slots.Length; i++)
        {
            var run = Volatile.Read(ref _slots[i]);
            if (run is null) continue;
            any = true;
            if (run.WriteDirty)
                return "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";
            if ((run.Function is null) == eval) mine = true;
        }
        if (!any) return "NOTBUSY No scripts in execution right now.";
        if (!mine) return eval ? BusyFunction : BusyEval;
        for (int i = 0; i < _slots.Length; i++)
        {
            var run = Volatile.Read(ref _slots[i]);
            if (run is null) continue;
            int number = run.RunNumber;
            if (Volatile.Read(ref _slots[i]) == run && (run.Function is null) == eval) run.Kill(number);
        }
        return null;
    }

    public const string BusyEval = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
    public const string BusyFunction = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

    /// <summary>The BUSY reply while a script runs past the threshold: which KILL stops it (shared.slowevalerr / slowscripterr).</summary>
    public string BusyError
    {
        get
        {
            for (int i = 0; i < _slots.Length; i++)
                if (Volatile.Read(ref _slots[i]) is { TimedOut: true } run) return run.Function is null ? BusyEval : BusyFunction;
            return BusyEval;
        }
    }

    /// <summary>A function running now (FUNCTION STATS), if any.</summary>
    public ScriptRun? RunningFunction()
    {
        for (int i = 0; i < _slots.Length; i++)
            if (Volatile.Read(ref _slots[i]) is { Function: not null } run) return run;
        return null;
    }
}

/// <summary>The server's script cache and running scripts (one server per process, as Redis's lctx).</summary>
public static class Scripts
{
    public static readonly ScriptCache Cache = new();
    public static readonly RunningScripts Running = new();
}
