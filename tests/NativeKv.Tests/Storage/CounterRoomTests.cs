using System.Buffers.Binary;
using System.Text;
using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Storage;

/// <summary>
/// A counter that gains digits is updated in place (its record keeps room for the longest int64),
/// and every reader (GET, STRLEN, GETRANGE, APPEND, SETRANGE, the AOF, a checkpoint) sees only the
/// real value.
/// </summary>
public class CounterRoomTests
{
    private static long LogSpan(RespClient c)
    {
        var info = c.Call("INFO", "memory").Text!;
        foreach (var line in info.Split("\r\n"))
        {
            if (line.StartsWith("store_log_span:", StringComparison.Ordinal)) return long.Parse(line["store_log_span:".Length..]);
        }
        throw new InvalidOperationException("INFO memory has no store_log_span:\n" + info);
    }

    [Test]
    public async Task Crossing_9_to_10_digits_does_not_copy_the_record_each_time()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        await Assert.That(c.Call("SET", "counter", "999999999").ToString()).IsEqualTo("OK");
        long before = LogSpan(c);
        // 500 INCRs from 9 to 10 digits, each undone by a DECR: a copy per growth is 500 records
        // (48 bytes each here: 24,000 bytes of log); in place it is at most the first one.
        for (int i = 0; i < 500; i++)
        {
            await Assert.That(c.Call("INCR", "counter").Integer).IsEqualTo(1_000_000_000);
            await Assert.That(c.Call("DECR", "counter").Integer).IsEqualTo(999_999_999);
        }
        long grown = LogSpan(c) - before;
        await Assert.That(grown).IsLessThan(256);
        await Assert.That(c.Call("GET", "counter").Text).IsEqualTo("999999999");
        await Assert.That(c.Call("STRLEN", "counter").Integer).IsEqualTo(9);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task A_counter_gaining_every_digit_is_copied_at_most_twice()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        long before = LogSpan(c);
        // 1, 10, 100, ... 10^18, -10^18, long.MinValue: 20 growths (a copy each before), then shrinking ones.
        long v = 1;
        await Assert.That(c.Call("INCR", "n").Integer).IsEqualTo(1);
        for (int d = 1; d <= 18; d++)
        {
            long step = v * 9;
            v += step;
            await Assert.That(c.Call("INCRBY", "n", step.ToString()).Integer).IsEqualTo(v);
        }
        await Assert.That(c.Call("DECRBY", "n", (2 * v).ToString()).Integer).IsEqualTo(-v);
        await Assert.That(c.Call("INCRBY", "n", "-8223372036854775808").Integer).IsEqualTo(long.MinValue);
        await Assert.That(c.Call("GET", "n").Text).IsEqualTo(long.MinValue.ToString());
        // Two records: created ("1" with the 2 bytes of alignment FASTER leaves), then copied into a counter's room.
        long grown = LogSpan(c) - before;
        await Assert.That(grown).IsLessThan(4 * 64);
        for (long x = long.MinValue, i = 0; i < 19; i++)
        {
            long next = x / 10;
            await Assert.That(c.Call("INCRBY", "n", (next - x).ToString()).Integer).IsEqualTo(next);
            await Assert.That(c.Call("GET", "n").Text).IsEqualTo(next.ToString());
            x = next;
        }
        await Assert.That(LogSpan(c) - before).IsEqualTo(grown);
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task A_counter_with_room_reads_as_its_value()
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port);
        string[][] steps =
        [
            ["SET", "c", "99"], ["INCR", "c"], ["DECRBY", "c", "90"],      // room of 20, value "10"
            ["GET", "c"], ["STRLEN", "c"], ["GETRANGE", "c", "0", "-1"], ["GETRANGE", "c", "-1", "-1"],
            ["TYPE", "c"], ["EXISTS", "c"], ["SCAN", "0", "TYPE", "string"],
            ["SETRANGE", "c", "3", "x"], ["GET", "c"], ["STRLEN", "c"],     // grows past the value, not into the room
            ["SET", "d", "99"], ["INCR", "d"], ["DECR", "d"], ["SETRANGE", "d", "1", "7"], ["GET", "d"],
            ["SET", "e", "99"], ["INCR", "e"], ["DECR", "e"], ["APPEND", "e", "abc"], ["GET", "e"], ["INCR", "e"],
            ["SET", "f", "99"], ["INCR", "f"], ["DECR", "f"], ["INCRBYFLOAT", "f", "0.5"], ["GET", "f"], ["STRLEN", "f"],
            ["INCRBYFLOAT", "f", "-0.5"], ["INCR", "f"], ["GET", "f"],
            ["SET", "g", "99"], ["INCR", "g"], ["EXPIRE", "g", "1000"], ["INCR", "g"], ["GET", "g"], ["PERSIST", "g"],
            ["GETEX", "g"], ["GETDEL", "g"], ["EXISTS", "g"],
            ["SET", "h", "99"], ["INCR", "h"], ["SET", "h", "a much longer value than the room"], ["GET", "h"],
            ["INCRBY", "h", "1"], ["SET", "h", "7"], ["INCR", "h"], ["GET", "h"],
            ["SET", "i", "99"], ["INCR", "i"], ["SET", "i", "5", "GET"], ["GET", "i"],
            ["SET", "j", "-99"], ["DECR", "j"], ["INCRBY", "j", "9223372036854775807"], ["INCR", "j"],
            ["INCRBY", "j", "9223372036854775000"], ["GET", "j"],
        ];
        string[] expected =
        [
            "OK", "100", "10",
            "10", "2", "10", "0",
            "string", "1", "[0, [c]]",
            "4", "10\0x", "4",
            "OK", "100", "99", "2", "97",
            "OK", "100", "99", "5", "99abc", "ERR value is not an integer or out of range",
            "OK", "100", "99", "99.5", "99.5", "4",
            "99", "100", "100",
            "OK", "100", "1", "101", "101", "1",
            "101", "101", "0",
            "OK", "100", "OK", "a much longer value than the room",
            "ERR value is not an integer or out of range", "OK", "8", "8",
            "OK", "100", "100", "5",
            "OK", "-100", "9223372036854775707", "9223372036854775708",
            "ERR increment or decrement would overflow", "9223372036854775708",
        ];
        for (int i = 0; i < steps.Length; i++)
        {
            var reply = c.Call(steps[i]);
            await Assert.That($"{string.Join(' ', steps[i])} => {reply}").IsEqualTo($"{string.Join(' ', steps[i])} => {expected[i]}");
        }
        await server.DisposeAsync();
        server.DeleteData();
    }

    [Test]
    public async Task The_aof_logs_the_real_value_and_restarts_read_it_back()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nativekv-counter-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                c.Call("SET", "aofcounter", "999999999");
                await Assert.That(c.Call("INCR", "aofcounter").Integer).IsEqualTo(1_000_000_000); // copied into a room
                await Assert.That(c.Call("INCRBY", "aofcounter", "-999999000").Integer).IsEqualTo(1000); // in place, padded
                await Assert.That(c.Call("INCRBYFLOAT", "aoffloat", "10.5").Text).IsEqualTo("10.5");
                await Assert.That(c.Call("INCRBYFLOAT", "aoffloat", "90").Text).IsEqualTo("100.5");
                await Assert.That(c.Call("INCRBYFLOAT", "aoffloat", "-99").Text).IsEqualTo("1.5");
                KillHard(server); // no checkpoint: the restart replays the AOF
            }
            // The last image of each key is its exact value: [length][type 1][expiry 0][text].
            var aof = ReadAof(Path.Combine(dir, "appendonlydir"));
            await Assert.That(ContainsImage(aof, "aofcounter", "1000")).IsTrue();
            await Assert.That(ContainsImage(aof, "aoffloat", "1.5")).IsTrue();
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("GET", "aofcounter").Text).IsEqualTo("1000");
                await Assert.That(c.Call("STRLEN", "aofcounter").Integer).IsEqualTo(4);
                await Assert.That(c.Call("GET", "aoffloat").Text).IsEqualTo("1.5");
                await Assert.That(c.Call("INCRBY", "aofcounter", "999999000").Integer).IsEqualTo(1_000_000_000);
                await Assert.That(c.Call("DECRBY", "aofcounter", "999999999").Integer).IsEqualTo(1);
                await Assert.That(c.Call("SAVE").ToString()).IsEqualTo("OK"); // the padded record goes into the checkpoint
                await Assert.That(c.Call("INCR", "aofcounter").Integer).IsEqualTo(2);
                c.Send("SHUTDOWN");
                await server.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            await using (var server = await ServerProcess.StartInAsync(dir, "--appendonly", "yes", "--save", ""))
            {
                using var c = new RespClient(server.Port);
                await Assert.That(c.Call("GET", "aofcounter").Text).IsEqualTo("2");
                await Assert.That(c.Call("STRLEN", "aofcounter").Integer).IsEqualTo(1);
                await Assert.That(c.Call("APPEND", "aofcounter", "0").Integer).IsEqualTo(2);
                await Assert.That(c.Call("INCR", "aofcounter").Integer).IsEqualTo(21);
                await Assert.That(c.Call("GET", "aoffloat").Text).IsEqualTo("1.5");
                await Assert.That(c.Call("DBSIZE").Integer).IsEqualTo(2);
            }
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static void KillHard(ServerProcess server)
    {
        server.Process.Kill();
        server.Process.WaitForExit(10_000);
    }

    private static byte[] ReadAof(string dir)
    {
        using var all = new MemoryStream();
        foreach (var f in Directory.GetFiles(dir, "appendonly.aof.*").Order(StringComparer.Ordinal))
        {
            using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            s.CopyTo(all);
        }
        return all.ToArray();
    }

    /// <summary>The key (db 0's namespace prefix aside) followed by the value image of exactly <paramref name="text"/>.</summary>
    private static bool ContainsImage(byte[] aof, string key, string text)
    {
        var value = new byte[4 + 9 + text.Length];
        BinaryPrimitives.WriteInt32LittleEndian(value, 9 + text.Length);
        value[4] = 1; // string, no flag: the room is not logged
        Encoding.ASCII.GetBytes(text).CopyTo(value, 13);
        var pattern = Encoding.ASCII.GetBytes(key).Concat(value).ToArray();
        return aof.AsSpan().IndexOf(pattern) >= 0;
    }
}
