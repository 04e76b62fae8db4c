using NativeKv.Tests.Infrastructure;

namespace NativeKv.Tests.Integration;

/// <summary>
/// struct and cmsgpack inside scripts on the real process: random values and formats packed and unpacked by
/// the script itself, compared in Lua (the transcripts pin the bytes against redis-server).
/// </summary>
public class LuaModuleTests
{
    private const string MsgpackRoundTrips = """
        math.randomseed(tonumber(ARGV[1]))
        local function value(depth)
          local k = math.random(depth > 3 and 5 or 7)
          if k == 1 then return math.random(-70000, 70000)
          elseif k == 2 then return (math.random() - 0.5) * 10 ^ math.random(-30, 300)
          elseif k == 3 then
            local t = {} for i = 1, math.random(0, 40) do t[i] = string.char(math.random(0, 255)) end
            return table.concat(t)
          elseif k == 4 then return math.random(2) == 1
          elseif k == 5 then return 2 ^ math.random(0, 62) * (math.random(2) == 1 and 1 or -1)
          elseif k == 6 then
            local t = {} for i = 1, math.random(0, 20) do t[i] = value(depth + 1) end
            return t
          else
            local t = {} for i = 1, math.random(0, 20) do t['k' .. math.random(1000)] = value(depth + 1) end
            return t
          end
        end
        local function same(a, b)
          if type(a) ~= type(b) then return false end
          if type(a) ~= 'table' then return a == b end
          for k, v in pairs(a) do if not same(v, b[k]) then return false end end
          for k in pairs(b) do if a[k] == nil then return false end end
          return true
        end
        local bad, n = 0, 0
        for i = 1, 300 do
          local a, b, c = value(0), value(0), value(0)
          local s = cmsgpack.pack(a, b, c)
          local x, y, z = cmsgpack.unpack(s)
          if not (same(a, x) and same(b, y) and same(c, z)) then bad = bad + 1 end
          local off, one = cmsgpack.unpack_one(s)
          local off2, two = cmsgpack.unpack_one(s, off)
          local off3, three = cmsgpack.unpack_limit(s, 1, off2)
          if not (same(a, one) and same(b, two) and same(c, three) and off3 == -1) then bad = bad + 1 end
          n = n + 1
        end
        return {n, bad}
        """;

    private const string StructRoundTrips = """
        math.randomseed(tonumber(ARGV[1]))
        local ints = { {'b', -128, 127}, {'B', 0, 255}, {'h', -32768, 32767}, {'H', 0, 65535}, {'i', -2^31, 2^31 - 1},
          {'I', 0, 2^32 - 1}, {'l', -2^52, 2^52}, {'L', 0, 2^52}, {'i3', -2^23, 2^23 - 1}, {'I7', 0, 2^52} }
        local bad, n = 0, 0
        for i = 1, 300 do
          local fmt, vals = ({'<', '>', '!', '!4', ''})[math.random(5)], {}
          for j = 1, math.random(1, 12) do
            local k = math.random(6)
            if k <= 3 then
              local t = ints[math.random(#ints)]
              fmt = fmt .. t[1] .. ' '
              vals[#vals + 1] = math.floor(t[2] + math.random() * (t[3] - t[2]))
            elseif k == 4 then fmt = fmt .. 'd' vals[#vals + 1] = (math.random() - 0.5) * 1e10
            elseif k == 5 then fmt = fmt .. 'f' vals[#vals + 1] = math.random(-1000, 1000) / 4
            else fmt = fmt .. 's' vals[#vals + 1] = string.rep(string.char(math.random(1, 255)), math.random(0, 9)) end
          end
          local s = struct.pack(fmt, unpack(vals))
          local out = {struct.unpack(fmt, s)}
          local ok = #out == #vals + 1 and out[#out] == #s + 1
          for j = 1, #vals do if out[j] ~= vals[j] then ok = false end end
          if not fmt:find('s') and struct.size(fmt) ~= #s then ok = false end
          if not ok then bad = bad + 1 end
          n = n + 1
        end
        return {n, bad}
        """;

    [Test]
    [Timeout(120_000)]
    public async Task Random_values_survive_cmsgpack_and_struct_round_trips(CancellationToken ct)
    {
        await using var server = await ServerProcess.StartAsync();
        using var c = new RespClient(server.Port, TimeSpan.FromSeconds(60));
        foreach (var seed in new[] { "1", "2", "3" })
        {
            foreach (var script in new[] { MsgpackRoundTrips, StructRoundTrips })
            {
                var r = c.Call("EVAL", script, "0", seed);
                await Assert.That(r.IsError).IsFalse();
                await Assert.That(r.Items![0].Integer).IsEqualTo(300L);
                await Assert.That(r.Items![1].Integer).IsEqualTo(0L);
            }
        }
        await Assert.That(c.Call("PING").Text).IsEqualTo("PONG");
    }
}
