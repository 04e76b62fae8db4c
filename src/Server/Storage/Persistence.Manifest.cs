using System.Globalization;
using System.Text;

namespace NativeKv.Server.Storage;

/// <summary>The checkpoint manifest.</summary>
public sealed partial class Persistence
{
    /// <summary>
    /// <c>dir/checkpoint.manifest</c>: which checkpoint to recover, the AOF address to replay from (-1:
    /// the AOF is not part of this state), and the db -> namespace map and the FUNCTION libraries (an opaque
    /// blob, base64) at that address.
    /// </summary>
    internal sealed record Manifest(bool Exists, Guid? Token, long AofStart, int[] Namespaces, int NextNamespace, long SavedUnix, int? PageBits, int? HashVersion = null, byte[]? Libraries = null)
    {
        public static Manifest Load(string path, Log log)
        {
            if (!File.Exists(path)) return new Manifest(false, null, -1, [], 0, 0, null, null);
            Guid? token = null;
            long aof = -1, saved = 0;
            int next = 0;
            int? pageBits = null, hash = null;
            int[] map = [];
            byte[]? libraries = null;
            bool header = false;
            foreach (var raw in File.ReadAllLines(path))
            {
                var line = raw.Trim();
                if (line == "nativekv-checkpoint 1") { header = true; continue; }
                int eq = line.IndexOf('=');
                if (eq <= 0) continue;
                var k = line[..eq];
                var v = line[(eq + 1)..];
                switch (k)
                {
                    case "token": token = v.Length == 0 ? null : Guid.Parse(v); break;
                    case "aof": aof = long.Parse(v, CultureInfo.InvariantCulture); break;
                    case "nextns": next = int.Parse(v, CultureInfo.InvariantCulture); break;
                    case "ns": map = v.Length == 0 ? [] : v.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray(); break;
                    case "saved": saved = long.Parse(v, CultureInfo.InvariantCulture); break;
                    case "pagebits": pageBits = int.Parse(v, CultureInfo.InvariantCulture); break;
                    case "hash": hash = int.Parse(v, CultureInfo.InvariantCulture); break;
                    case "functions": libraries = Convert.FromBase64String(v); break;
                }
            }
            if (!header) throw new PersistenceException($"{path} is not a NativeKv checkpoint manifest");
            if (pageBits is < 12 or > 30) throw new PersistenceException($"{path}: pagebits={pageBits} is out of range");
            KeyComparer.ForVersion(hash); // refuses a hash this build does not know, before anything is opened
            return new Manifest(true, token, aof, map, next, saved, pageBits, hash, libraries);
        }

        public void Save(string path)
        {
            var sb = new StringBuilder();
            sb.Append("nativekv-checkpoint 1\n");
            sb.Append("token=").Append(Token?.ToString() ?? "").Append('\n');
            sb.Append("aof=").Append(AofStart.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("nextns=").Append(NextNamespace.ToString(CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("ns=").Append(string.Join(',', Namespaces.Select(n => n.ToString(CultureInfo.InvariantCulture)))).Append('\n');
            sb.Append("saved=").Append(SavedUnix.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (PageBits is { } bits) sb.Append("pagebits=").Append(bits.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (HashVersion is { } hash) sb.Append("hash=").Append(hash.ToString(CultureInfo.InvariantCulture)).Append('\n');
            if (Libraries is { } libraries) sb.Append("functions=").Append(Convert.ToBase64String(libraries)).Append('\n');
            var tmp = path + ".tmp";
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                fs.Write(Encoding.UTF8.GetBytes(sb.ToString()));
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
            FsyncDirectory(Path.GetDirectoryName(path)!);
        }

        private static void FsyncDirectory(string dir)
        {
            try
            {
                using var h = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
                RandomAccess.FlushToDisk(h);
            }
            catch (Exception) { /* best effort: not every platform opens directories */ }
        }
    }
}
