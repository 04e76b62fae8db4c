namespace NativeKv.LoadHarness.Infrastructure;

/// <summary>
/// Builds the argv every child is started with: <c>setpriv --pdeathsig KILL -- taskset -c CPU program args</c>.
/// Both wrappers exec, so the child's pid is the program's own; pdeathsig kills it if the harness dies
/// without running its clean-up (SIGKILL). Every child is started from the main thread, whose exit is
/// what pdeathsig watches.
/// </summary>
static class CommandLine
{
    static readonly bool HaveSetpriv = ExternalCommand.Which("setpriv") is not null
                                       && (ExternalCommand.Capture("setpriv", "--help") ?? "").Contains("--pdeathsig");

    public static List<string> Wrap(string program, IEnumerable<string> args, int? cpu)
    {
        var argv = new List<string>();
        if (HaveSetpriv) argv.AddRange(["setpriv", "--pdeathsig", "KILL", "--"]);
        if (cpu is int c) argv.AddRange(["taskset", "-c", c.ToString()]);
        argv.Add(program);
        argv.AddRange(args);
        return argv;
    }
}
