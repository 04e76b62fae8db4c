namespace NativeKv.Server.Commands;

internal static partial class CommandTable
{
    /// <summary>
    /// Storage.KeyPositions over the generated table: where a command's keys are, for reading ahead the
    /// keys of pipelined commands while one waits on disk. False for unknown commands, commands without
    /// keys, and a wrong argument count (the command will fail its arity check anyway).
    /// </summary>
    public static bool KeyPositions(ReadOnlySpan<byte> name, int argc, out int first, out int last, out int step)
    {
        first = last = step = 0;
        int index = Lookup(name);
        if (index < 0) return false;
        var spec = Commands[index];
        if (spec.FirstKey <= 0 || spec.Step <= 0 || (spec.Arity > 0 && spec.Arity != argc)) return false;
        (first, last, step) = (spec.FirstKey, spec.LastKey, spec.Step);
        return true;
    }
}
