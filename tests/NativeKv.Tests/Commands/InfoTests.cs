using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Commands;

/// <summary>INFO sections and field names as redis-server 7.2 prints them.</summary>
public class InfoTests
{
    private static Dictionary<string, string> Fields(string info)
    {
        var d = new Dictionary<string, string>();
        foreach (var line in info.Split("\r\n"))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            int colon = line.IndexOf(':');
            d[line[..colon]] = line[(colon + 1)..];
        }
        return d;
    }

    private static string[] Headers(string info) =>
        info.Split("\r\n").Where(l => l.StartsWith("# ")).Select(l => l[2..]).ToArray();

    [Test]
    public async Task Default_sections_in_redis_order()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var r = c.Call("INFO");
        await Assert.That(r.Type).IsEqualTo('$');
        var text = r.Text!;
        await Assert.That(text).StartsWith("# Server\r\nredis_version:7.2.4\r\n");
        await Assert.That(text).EndsWith("\r\n");
        await Assert.That(Headers(text)).IsEquivalentTo(
            new[] { "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace" },
            TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(text).Contains("\r\n\r\n# Clients\r\n");
        var f = Fields(text);
        await Assert.That(f["redis_mode"]).IsEqualTo("standalone");
        await Assert.That(f["multiplexing_api"] is "epoll" or "io_uring").IsTrue();
        await Assert.That(f["process_id"]).IsEqualTo(server.Pid.ToString());
        await Assert.That(f["tcp_port"]).IsEqualTo(server.Port.ToString());
        await Assert.That(f["arch_bits"]).IsEqualTo("64");
        await Assert.That(f["run_id"].Length).IsEqualTo(40);
        await Assert.That(f["hz"]).IsEqualTo("10");
        await Assert.That(f["os"]).StartsWith("Linux ");
        await Assert.That(f["listener0"]).IsEqualTo($"name=tcp,bind=127.0.0.1,port={server.Port}");
        foreach (var name in new[] { "redis_git_sha1", "redis_build_id", "server_time_usec", "uptime_in_seconds", "uptime_in_days",
                     "configured_hz", "lru_clock", "executable", "config_file", "io_threads_active",
                     "connected_clients", "maxclients", "blocked_clients", "used_memory", "used_memory_human", "used_memory_rss",
                     "used_memory_peak", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio", "loading", "rdb_last_save_time",
                     "aof_enabled", "total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec",
                     "total_net_input_bytes", "total_net_output_bytes", "rejected_connections", "expired_keys", "evicted_keys",
                     "keyspace_hits", "keyspace_misses", "total_error_replies", "role", "connected_slaves", "master_replid",
                     "used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children", "cluster_enabled" })
        {
            await Assert.That(f.ContainsKey(name)).IsTrue().Because(name);
        }
        await Assert.That(f["connected_clients"]).IsEqualTo("1");
        await Assert.That(f["maxclients"]).IsEqualTo("10000");
        await Assert.That(f["role"]).IsEqualTo("master");
        await Assert.That(f["loading"]).IsEqualTo("0");
        await Assert.That(f["cluster_enabled"]).IsEqualTo("0");
        await Assert.That(long.Parse(f["used_memory"])).IsGreaterThan(0);
        await Assert.That(long.Parse(f["used_memory_rss"])).IsGreaterThan(0);
        await Assert.That(f["used_cpu_user"]).Matches(@"^\d+\.\d{6}$");
    }

    [Test]
    public async Task Section_selection_all_everything_and_case()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(Headers(c.Call("INFO", "SERVER").Text!)).IsEquivalentTo(new[] { "Server" });
        await Assert.That(Headers(c.Call("INFO", "cpu", "clients").Text!)).IsEquivalentTo(
            new[] { "Clients", "CPU" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(c.Call("INFO", "nosuchsection").Text).IsEqualTo("");
        var all = Headers(c.Call("INFO", "all").Text!);
        await Assert.That(all).IsEquivalentTo(
            new[] { "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats",
                    "Errorstats", "Latencystats", "Cluster", "Keyspace" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(Headers(c.Call("INFO", "everything").Text!)).IsEquivalentTo(all, TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(Headers(c.Call("INFO", "default").Text!)).DoesNotContain("Commandstats");
        c.Call("HELLO", "3");
        var r3 = c.Call("INFO", "server");
        await Assert.That(r3.Type).IsEqualTo('=');
        await Assert.That(r3.Text!).StartsWith("txt:# Server\r\n");
    }

    [Test]
    public async Task Commandstats_and_errorstats_count()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        c.Call("PING");
        c.Call("PING");
        c.Call("CLIENT", "ID");
        c.Call("CLIENT", "SETNAME", "bad name");      // failed call
        c.Call("NOSUCHCOMMAND", "x");                  // unknown: ERR, no command stats
        c.Call("ECHO");                                // arity: rejected call
        c.Call("HELLO", "4");                          // NOPROTO
        var stats = Fields(c.Call("INFO", "commandstats").Text!);
        await Assert.That(stats["cmdstat_ping"]).Matches(@"^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$");
        await Assert.That(stats["cmdstat_client|id"]).StartsWith("calls=1,");
        await Assert.That(stats["cmdstat_client|setname"]).EndsWith(",rejected_calls=0,failed_calls=1");
        await Assert.That(stats["cmdstat_echo"]).StartsWith("calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0");
        var errors = Fields(c.Call("INFO", "errorstats").Text!);
        await Assert.That(errors["errorstat_ERR"]).IsEqualTo("count=3");
        await Assert.That(errors["errorstat_NOPROTO"]).IsEqualTo("count=1");
        var s = Fields(c.Call("INFO", "stats").Text!);
        await Assert.That(s["total_error_replies"]).IsEqualTo("4");
        await Assert.That(long.Parse(s["total_commands_processed"])).IsGreaterThanOrEqualTo(6);
        await Assert.That(long.Parse(s["total_net_input_bytes"])).IsGreaterThan(0);
        await Assert.That(long.Parse(s["total_net_output_bytes"])).IsGreaterThan(0);
        await Assert.That(long.Parse(s["total_connections_received"])).IsEqualTo(1);
        await Assert.That(s["keyspace_hits"]).IsEqualTo("0");
    }

    [Test]
    public async Task Instantaneous_ops_per_sec_follows_load()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        var batch = new MemoryStream();
        for (int i = 0; i < 1000; i++) batch.Write(RespClient.Encode("PING"));
        var bytes = batch.ToArray();
        var until = DateTime.UtcNow.AddSeconds(2);
        while (DateTime.UtcNow < until)
        {
            c.SendRaw(bytes);
            for (int i = 0; i < 1000; i++) c.Read();
        }
        var f = Fields(c.Call("INFO", "stats").Text!);
        await Assert.That(long.Parse(f["instantaneous_ops_per_sec"])).IsGreaterThan(100);
        await Task.Delay(2500);
        f = Fields(c.Call("INFO", "stats").Text!);
        await Assert.That(long.Parse(f["instantaneous_ops_per_sec"])).IsLessThan(50);
    }

    [Test]
    public async Task Clients_section_counts_connections()
    {
        await using var server = await ServerProcess.StartAsync();
        using var a = new RespClient(server.Port);
        using var b = new RespClient(server.Port);
        b.Call("PING");
        var f = Fields(a.Call("INFO", "clients").Text!);
        await Assert.That(f["connected_clients"]).IsEqualTo("2");
        await Assert.That(f.Keys.ToArray()).IsEquivalentTo(new[] { "connected_clients", "cluster_connections", "maxclients",
            "client_recent_max_input_buffer", "client_recent_max_output_buffer", "blocked_clients", "tracking_clients",
            "clients_in_timeout_table", "total_blocking_keys", "total_blocking_keys_on_nokey" }, TUnit.Assertions.Enums.CollectionOrdering.Matching);
    }
}
