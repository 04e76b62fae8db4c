namespace NativeKv.Server;

internal static class Help
{
    public const string Text = """
Usage: nativekv [/path/to/nativekv.conf] [options]
       nativekv --version
       nativekv --help
       nativekv --check-aof [--fix [--yes]] <dir>   check (and cut at its damage) the AOF in <dir>

Any redis.conf parameter can be given as an option: --name value [value ...].
A config file, if given, must be the first argument; options override it.

Common options:
  --port <port>                 TCP port (default 6379; 0 picks a free port)
  --bind <addr> [addr ...]      addresses to listen on (default 127.0.0.1 -::1; '-' = optional)
  --io-threads <n>              reactor threads (default: one per CPU in the affinity mask)
  --cpu-list <list>             pin reactor i to the i-th CPU, e.g. 0,2-3 (alias of server-cpulist)
  --server-cpulist <list>       same as --cpu-list
  --maxclients <n>              maximum connected clients (default 10000)
  --timeout <seconds>           close idle clients after this many seconds (0 = never)
  --tcp-keepalive <seconds>     TCP keepalive period (default 300)
  --tcp-backlog <n>             listen backlog (default 511)
  --client-query-buffer-limit <bytes>   max query buffer per client (default 1gb)
  --proto-max-bulk-len <bytes>  max bulk string length (default 512mb)
  --requirepass <password>      require AUTH
  --databases <n>               number of databases (default 16)
  --dir <path>                  data directory (default ./data)
  --logfile <path>              log to a file (default stdout)
  --loglevel <level>            debug, verbose, notice, warning, nothing
  --hz <n>                      housekeeping frequency (default 10)

Examples:
  nativekv --port 7000
  taskset -c 1 nativekv
  nativekv /etc/nativekv.conf --loglevel verbose
""";
}
