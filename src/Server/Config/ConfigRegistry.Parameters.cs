namespace NativeKv.Server.Config;

public sealed partial class ConfigRegistry
{
    private void RegisterAll()
    {
        var c = Config;
        Add(new ConfigParameter("port", () => c.Port.ToString(), v => ConfigValues.ParseInt(v, 0, 65535, out var x) is { } e ? e : Do(() => c.Port = x), immutable: true));
        Add(new ConfigParameter("bind", () => string.Join(' ', c.Bind), v => Do(() => c.Bind = v.Split(' ', StringSplitOptions.RemoveEmptyEntries)), immutable: true));
        Add(new ConfigParameter("tcp-backlog", () => c.TcpBacklog.ToString(), v => ConfigValues.ParseInt(v, 0, int.MaxValue, out var x) is { } e ? e : Do(() => c.TcpBacklog = x), immutable: true));
        Add(new ConfigParameter("tcp-keepalive", () => c.TcpKeepAlive.ToString(), v => ConfigValues.ParseInt(v, 0, int.MaxValue, out var x) is { } e ? e : Do(() => c.TcpKeepAlive = x)));
        Add(new ConfigParameter("timeout", () => c.Timeout.ToString(), v => ConfigValues.ParseInt(v, 0, int.MaxValue, out var x) is { } e ? e : Do(() => c.Timeout = x)));
        Add(new ConfigParameter("protected-mode", () => ConfigValues.YesNo(c.ProtectedMode), v => ConfigValues.ParseBool(v, out var x) is { } e ? e : Do(() => c.ProtectedMode = x)));
        Add(new ConfigParameter("maxclients", () => c.MaxClients.ToString(), v => ConfigValues.ParseInt(v, 1, int.MaxValue, out var x) is { } e ? e : Do(() => c.MaxClients = x)));
        Add(new ConfigParameter("client-query-buffer-limit", () => c.ClientQueryBufferLimit.ToString(), v => ConfigValues.ParseMemory(v, 1024 * 1024, long.MaxValue, out var x) is { } e ? e : Do(() => c.ClientQueryBufferLimit = x)));
        Add(new ConfigParameter("proto-max-bulk-len", () => c.ProtoMaxBulkLen.ToString(), v => ConfigValues.ParseMemory(v, 1024 * 1024, long.MaxValue, out var x) is { } e ? e : Do(() => c.ProtoMaxBulkLen = x)));
        Add(new ConfigParameter("io-threads", () => c.IoThreads.ToString(), v => ConfigValues.ParseInt(v, 0, 128, out var x) is { } e ? e : Do(() => c.IoThreads = x), immutable: true));
        Add(new ConfigParameter("server-cpulist", () => c.CpuListText, v => ConfigValues.ParseCpuList(v, out var x) is { } e ? e : Do(() => { c.CpuList = x; c.CpuListText = v; }), immutable: true, "cpu-list"));
        Add(new ConfigParameter("databases", () => c.Databases.ToString(), v => ConfigValues.ParseInt(v, 1, int.MaxValue, out var x) is { } e ? e : Do(() => c.Databases = x), immutable: true));
        Add(new ConfigParameter("requirepass", () => c.RequirePass, v => Do(() => c.RequirePass = v)));
        Add(new ConfigParameter("dir", () => Path.GetFullPath(c.Dir), v => Do(() => c.Dir = v)));
        Add(new ConfigParameter("logfile", () => c.LogFile, v => Do(() => c.LogFile = v), immutable: true));
        Add(new ConfigParameter("loglevel", () => c.LogLevel, v => ConfigValues.ParseEnum(v, ["debug", "verbose", "notice", "warning", "nothing"], out var x) is { } e ? e : Do(() => c.LogLevel = x)));
        Add(new ConfigParameter("hz", () => c.Hz.ToString(), v => ConfigValues.ParseInt(v, 0, int.MaxValue, out var x) is { } e ? e : Do(() => c.Hz = Math.Clamp(x, 1, 500))));
        Add(new ConfigParameter("daemonize", () => ConfigValues.YesNo(c.Daemonize), v => ConfigValues.ParseBool(v, out var x) is { } e ? e : Do(() => c.Daemonize = x), immutable: true));
        Add(new ConfigParameter("pidfile", () => c.PidFile, v => Do(() => c.PidFile = v), immutable: true));
    }

    private static string? Do(Action apply)
    {
        apply();
        return null;
    }
}
