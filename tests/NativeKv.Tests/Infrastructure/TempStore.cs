using NativeKv.Server;
using NativeKv.Server.Config;
using NativeKv.Server.Storage;

namespace NativeKv.Tests.Infrastructure;

/// <summary>A <see cref="Server.Storage.Store"/> driven in-process in a folder of its own, deleted with it.</summary>
public sealed class TempStore : IDisposable
{
    public Store Store { get; }
    private readonly string _dir;

    /// <param name="config">The store's settings; <see cref="ServerConfig.Dir"/> is set here.</param>
    public TempStore(string name, ServerConfig config)
    {
        _dir = Path.Combine(Path.GetTempPath(), $"nativekv-{name}-" + Guid.NewGuid().ToString("N"));
        config.Dir = _dir;
        Store = new Store(config, new Log(TextWriter.Null));
    }

    public void Dispose()
    {
        Store.HoldLogFlushes = false;
        Store.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
