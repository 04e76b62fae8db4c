using System.Runtime.InteropServices;
using NativeKv.Interop;
using NativeKv.Server;
using NativeKv.Server.Config;

return NativeKvMain.Run(args);

internal static class NativeKvMain
{
    public static int Run(string[] args)
    {
        // Before anything touches Console: a server started as `nativekv &` by a script inherits
        // SIGINT ignored, and .NET would keep it so. Redis shuts down on SIGINT whatever it inherited.
        Signals.Unignore(Signals.SIGINT);
        Signals.Unignore(Signals.SIGTERM);
        // The JIT build finds Lua through a resolver, needed before any method calling Lua is compiled.
        LuaLibrary.Register();
        if (args.Length == 1 && (args[0] is "--version" or "-v"))
        {
            Console.WriteLine($"NativeKv server v={ServerContext.NativeKvVersion} redis_version={ServerContext.Version} bits=64 io=epoll");
            return 0;
        }
        if (args.Length == 1 && (args[0] is "--help" or "-h"))
        {
            Console.WriteLine(Help.Text);
            return 0;
        }

        if (args.Length >= 1 && args[0] == "--check-aof") return CheckAof.Run(args.AsSpan(1), Console.In, Console.Out);

        var config = new ServerConfig();
        var error = ConfigLoader.Load(args, config);
        if (error is not null)
        {
            Console.Error.WriteLine(error);
            return 1;
        }

        var log = Log.ForFile(config.LogFile);
        log.Level = Log.ParseLevel(config.LogLevel);
        log.Notice($"NativeKv {ServerContext.NativeKvVersion} (Redis {ServerContext.Version} compatible), pid={Environment.ProcessId}");

        using var host = new ServerHost(config, log);
        try
        {
            host.Start();
        }
        catch (NativeException e)
        {
            log.Warning(e.Message);
            return 1;
        }
        catch (NativeKv.Server.Storage.PersistenceException e)
        {
            log.Warning(e.Message);
            return 1;
        }

        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; log.Warning("Received SIGTERM scheduling shutdown..."); host.Context.RequestShutdown(save: true); });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; log.Warning("Received SIGINT scheduling shutdown..."); host.Context.RequestShutdown(save: true); });

        host.Context.WaitForShutdown();
        host.Stop();
        log.Notice("NativeKv is now ready to exit, bye bye...");
        return host.Context.ExitCode;
    }
}
