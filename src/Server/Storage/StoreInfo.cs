using System.Text;
using NativeKv.Server.Commands;

namespace NativeKv.Server.Storage;

/// <summary>Plugs the store's numbers into INFO (keyspace section, stats counters).</summary>
public static class StoreInfo
{
    public static void Register()
    {
        InfoSections.Keyspace = Keyspace;
        InfoSections.Storage = Counters;
    }

    private static void Keyspace(ServerContext server, StringBuilder sb)
    {
        var store = server.Store;
        if (store is null) return;
        long avgTtl = store.Maintenance.AverageTtl;
        for (int db = 0; db < store.Databases; db++)
        {
            long keys = store.KeyCount(db);
            if (keys == 0) continue;
            long expires = store.ExpiresCount(db);
            sb.Append("db").Append(db).Append(":keys=").Append(keys).Append(",expires=").Append(expires)
              .Append(",avg_ttl=").Append(expires > 0 ? avgTtl : 0).Append("\r\n");
        }
    }

    private static StorageCounters Counters(ServerContext server)
    {
        var store = server.Store;
        if (store is null) return default;
        var s = store.TotalStats();
        return new StorageCounters(s.KeyspaceHits, s.KeyspaceMisses, s.ExpiredKeys, 0);
    }
}
