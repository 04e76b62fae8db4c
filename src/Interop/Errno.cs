using System.Runtime.InteropServices;

namespace NativeKv.Interop;

/// <summary>An OS call failed; <see cref="Number"/> is errno, the message is strerror's text.</summary>
public sealed class NativeException(string message, int errno) : Exception(message)
{
    public int Number { get; } = errno;
}

public static class Errno
{
    public static int Last => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>Throws for a negative return value with "{what}: {strerror}".</summary>
    public static int Check(int result, string what)
    {
        if (result < 0)
        {
            int e = Last;
            throw new NativeException($"{what}: {Describe(e)}", e);
        }
        return result;
    }
}
