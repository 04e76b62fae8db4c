using System.Buffers.Binary;
using NativeKv.Server.Scripting;

namespace NativeKv.Tests.Scripting;

/// <summary>
/// The codecs under struct and cmsgpack without Lua: Msgpack's writer against a plain model of the MessagePack
/// spec with lua_cmsgpack's choices, its reader back to the model's values, and struct's integer bytes,
/// alignment and number parsing against BinaryPrimitives and arithmetic.
/// </summary>
public class LuaCodecTests
{
    // ------------------------------------------------------------------ msgpack model

    private abstract record V;
    private sealed record Num(double Value) : V;
    private sealed record Str(byte[] Bytes) : V;
    private sealed record Bool(bool Value) : V;
    private sealed record Nil : V;
    private sealed record Arr(List<V> Items) : V;
    private sealed record Map(List<(V Key, V Value)> Pairs) : V;

    private static V RandomValue(Random r, int depth)
    {
        switch (r.Next(depth > 3 ? 6 : 8))
        {
            case 0: return new Num(r.NextInt64(-200, 200));
            case 1:
            {
                long x = r.NextInt64(long.MinValue, long.MaxValue) >> r.Next(64);
                return new Num(x);
            }
            case 2: return new Num(r.Next(3) == 0 ? (float)(r.NextDouble() * 1000 - 500) : (r.NextDouble() - 0.5) * Math.Pow(10, r.Next(-20, 300)));
            case 3:
            {
                int[] lens = [0, 1, 31, 32, 255, 256, 65535, 65536];
                var b = new byte[r.Next(4) == 0 ? lens[r.Next(lens.Length)] : r.Next(40)];
                r.NextBytes(b);
                return new Str(b);
            }
            case 4: return new Bool(r.Next(2) == 0);
            case 5: return new Nil();
            case 6: return new Arr(Enumerable.Range(0, r.Next(4) == 0 ? r.Next(14, 20) : r.Next(5)).Select(_ => RandomValue(r, depth + 1)).ToList());
            default: return new Map(Enumerable.Range(0, r.Next(4) == 0 ? r.Next(14, 20) : r.Next(5)).Select(_ => (RandomValue(r, depth + 1), RandomValue(r, depth + 1))).ToList());
        }
    }

    /// <summary>The spec's smallest form for integers, a float when exact, str for every string (what lua_cmsgpack writes).</summary>
    private static void Model(List<byte> o, V v)
    {
        void Be(ulong x, int n) { for (int i = n - 1; i >= 0; i--) o.Add((byte)(x >> (8 * i))); }
        switch (v)
        {
            case Num { Value: var d } when !double.IsInfinity(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && Math.Floor(d) == d:
            {
                long n = (long)d;
                if (n >= 0 && n < 128) o.Add((byte)n);
                else if (n < 0 && n >= -32) o.Add((byte)(n & 0xff));
                else if (n > 0) { var (tag, size) = n <= byte.MaxValue ? (0xcc, 1) : n <= ushort.MaxValue ? (0xcd, 2) : n <= uint.MaxValue ? (0xce, 4) : (0xcf, 8); o.Add((byte)tag); Be((ulong)n, size); }
                else { var (tag, size) = n >= sbyte.MinValue ? (0xd0, 1) : n >= short.MinValue ? (0xd1, 2) : n >= int.MinValue ? (0xd2, 4) : (0xd3, 8); o.Add((byte)tag); Be((ulong)n, size); }
                break;
            }
            case Num { Value: var d }:
                if ((double)(float)d == d) { o.Add(0xca); Be((uint)BitConverter.SingleToInt32Bits((float)d), 4); }
                else { o.Add(0xcb); Be((ulong)BitConverter.DoubleToInt64Bits(d), 8); }
                break;
            case Str { Bytes: var b }:
                if (b.Length < 32) o.Add((byte)(0xa0 + b.Length));
                else if (b.Length < 256) { o.Add(0xd9); Be((ulong)b.Length, 1); }
                else if (b.Length < 65536) { o.Add(0xda); Be((ulong)b.Length, 2); }
                else { o.Add(0xdb); Be((ulong)b.Length, 4); }
                o.AddRange(b);
                break;
            case Bool { Value: var t }: o.Add(t ? (byte)0xc3 : (byte)0xc2); break;
            case Nil: o.Add(0xc0); break;
            case Arr { Items: var items }:
                if (items.Count < 16) o.Add((byte)(0x90 + items.Count)); else { o.Add(0xdc); Be((ulong)items.Count, 2); }
                foreach (var i in items) Model(o, i);
                break;
            case Map { Pairs: var pairs }:
                if (pairs.Count < 16) o.Add((byte)(0x80 + pairs.Count)); else { o.Add(0xde); Be((ulong)pairs.Count, 2); }
                foreach (var (k, x) in pairs) { Model(o, k); Model(o, x); }
                break;
        }
    }

    private static void Write(LuaOutput o, V v)
    {
        switch (v)
        {
            case Num { Value: var d }:
                long i = CConvert.ToInt64(d);
                if (!double.IsInfinity(d) && i == d) Msgpack.WriteInt(o, i); else Msgpack.WriteDouble(o, d);
                break;
            case Str { Bytes: var b }: Msgpack.WriteString(o, b); break;
            case Bool { Value: var t }: o.Put(t ? (byte)0xc3 : (byte)0xc2); break;
            case Nil: o.Put(0xc0); break;
            case Arr { Items: var items }:
                Msgpack.WriteArrayHeader(o, (ulong)items.Count);
                foreach (var x in items) Write(o, x);
                break;
            case Map { Pairs: var pairs }:
                Msgpack.WriteMapHeader(o, (ulong)pairs.Count);
                foreach (var (k, x) in pairs) { Write(o, k); Write(o, x); }
                break;
        }
    }

    private static Msgpack.Status Read(byte[] data, ref int pos, out V? v)
    {
        v = null;
        var st = Msgpack.Read(data, ref pos, out var item);
        if (st != Msgpack.Status.Ok) return st;
        switch (item.Kind)
        {
            case Msgpack.Kind.Number: v = new Num(item.Number); return st;
            case Msgpack.Kind.Nil: v = new Nil(); return st;
            case Msgpack.Kind.True: v = new Bool(true); return st;
            case Msgpack.Kind.False: v = new Bool(false); return st;
            case Msgpack.Kind.String: v = new Str(data.AsSpan(item.Start, item.Length).ToArray()); return st;
            case Msgpack.Kind.Array:
            {
                var items = new List<V>();
                for (uint i = 0; i < item.Count; i++)
                {
                    if ((st = Read(data, ref pos, out var x)) != Msgpack.Status.Ok) return st;
                    items.Add(x!);
                }
                v = new Arr(items);
                return st;
            }
            default:
            {
                var pairs = new List<(V, V)>();
                for (uint i = 0; i < item.Count; i++)
                {
                    if ((st = Read(data, ref pos, out var k)) != Msgpack.Status.Ok) return st;
                    if ((st = Read(data, ref pos, out var x)) != Msgpack.Status.Ok) return st;
                    pairs.Add((k!, x!));
                }
                v = new Map(pairs);
                return st;
            }
        }
    }

    private static bool Same(V a, V b) => (a, b) switch
    {
        (Num x, Num y) => BitConverter.DoubleToInt64Bits(x.Value) == BitConverter.DoubleToInt64Bits(y.Value) || x.Value == y.Value,
        (Str x, Str y) => x.Bytes.AsSpan().SequenceEqual(y.Bytes),
        (Bool x, Bool y) => x.Value == y.Value,
        (Nil, Nil) => true,
        (Arr x, Arr y) => x.Items.Count == y.Items.Count && x.Items.Zip(y.Items).All(p => Same(p.First, p.Second)),
        (Map x, Map y) => x.Pairs.Count == y.Pairs.Count && x.Pairs.Zip(y.Pairs).All(p => Same(p.First.Key, p.Second.Key) && Same(p.First.Value, p.Second.Value)),
        _ => false,
    };

    [Test]
    public async Task Msgpack_writes_the_model_bytes_and_reads_them_back()
    {
        var r = new Random(2026);
        for (int n = 0; n < 3000; n++)
        {
            var v = RandomValue(r, 0);
            var expected = new List<byte>();
            Model(expected, v);
            var o = LuaOutput.Start();
            Write(o, v);
            var got = o.Written.ToArray();
            await Assert.That(Convert.ToHexString(got)).IsEqualTo(Convert.ToHexString(expected.ToArray()));
            int pos = 0;
            await Assert.That(Read(got, ref pos, out var back)).IsEqualTo(Msgpack.Status.Ok);
            await Assert.That(pos).IsEqualTo(got.Length);
            await Assert.That(Same(v, back!)).IsTrue();
            // Every strict prefix is "missing bytes", never a value or a bad format.
            if (got.Length < 200)
                for (int cut = 0; cut < got.Length; cut++)
                {
                    int p = 0;
                    await Assert.That(Read(got[..cut], ref p, out _)).IsEqualTo(Msgpack.Status.Eof);
                }
        }
    }

    [Test]
    public async Task Msgpack_numbers_read_as_lua_cmsgpack_pushes_them()
    {
        (byte[] Bytes, double Value)[] cases =
        [
            ([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -1), // uint 64 through lua_pushinteger
            ([0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0], -9223372036854775808.0),
            ([0xce, 0xff, 0xff, 0xff, 0xff], 4294967295), ([0xd2, 0x80, 0, 0, 0], int.MinValue),
            ([0xd1, 0xff, 0x01], -255), ([0xd0, 0x80], -128), ([0xe0], -32), ([0x7f], 127),
            ([0xca, 0x3d, 0xcc, 0xcc, 0xcd], 0.1f),
        ];
        foreach (var (bytes, value) in cases)
        {
            int pos = 0;
            await Assert.That(Msgpack.Read(bytes, ref pos, out var item)).IsEqualTo(Msgpack.Status.Ok);
            await Assert.That(item.Number).IsEqualTo(value);
        }
        foreach (byte bad in new byte[] { 0xc1, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 })
        {
            int pos = 0;
            await Assert.That(Msgpack.Read([bad, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], ref pos, out _)).IsEqualTo(Msgpack.Status.BadFormat);
        }
    }

    // ------------------------------------------------------------------ struct

    [Test]
    public async Task Struct_integers_round_trip_as_BinaryPrimitives_writes_them()
    {
        var r = new Random(7);
        var buf = new byte[8];
        var model = new byte[8];
        for (int n = 0; n < 20000; n++)
        {
            int size = r.Next(1, 9);
            bool little = r.Next(2) == 0;
            // Within 2^53, so that the double holds it exactly.
            long v = r.NextInt64(long.MinValue, long.MaxValue) >> (11 + r.Next(53));
            LuaStruct.PutInteger(buf.AsSpan(0, size), v, little);
            if (little) BinaryPrimitives.WriteInt64LittleEndian(model, v); else BinaryPrimitives.WriteInt64BigEndian(model, v);
            var expected = little ? model[..size] : model[(8 - size)..];
            await Assert.That(Convert.ToHexString(buf, 0, size)).IsEqualTo(Convert.ToHexString(expected));
            // Signed: the low size bytes sign-extended; unsigned: the low size bytes.
            long low = size == 8 ? v : v & ((1L << (size * 8)) - 1);
            long signedModel = size == 8 ? v : (low << (64 - size * 8)) >> (64 - size * 8);
            await Assert.That(LuaStruct.GetInteger(buf.AsSpan(0, size), little, signed: true)).IsEqualTo((double)signedModel);
            await Assert.That(LuaStruct.GetInteger(buf.AsSpan(0, size), little, signed: false)).IsEqualTo((double)(ulong)low);
        }
    }

    [Test]
    public async Task Struct_alignment_pads_to_the_smaller_of_size_and_alignment()
    {
        var r = new Random(3);
        for (int n = 0; n < 20000; n++)
        {
            ulong len = (ulong)r.Next(0, 1000);
            int align = 1 << r.Next(0, 5);
            ulong size = (ulong)(1 << r.Next(0, 4));
            int pad = LuaStruct.GetToAlign(len, align, 'i', size);
            ulong unit = Math.Min(size, (ulong)align);
            await Assert.That((len + (ulong)pad) % unit).IsEqualTo(0UL);
            await Assert.That((ulong)pad).IsLessThan(unit);
            await Assert.That(LuaStruct.GetToAlign(len, align, 'c', size)).IsEqualTo(0);
        }
    }

    [Test]
    public async Task Struct_numbers_in_formats_stop_at_int_MaxValue()
    {
        foreach (var (text, expected, rest) in new[] { ("12x", 12, "x"), ("x", 4, "x"), ("2147483647", int.MaxValue, ""), ("2147483648", -1, "8"), ("99999999999", -1, "99") })
        {
            var bytes = System.Text.Encoding.ASCII.GetBytes(text + "\0");
            int got;
            string left;
            unsafe
            {
                fixed (byte* p = bytes)
                {
                    byte* f = p;
                    got = LuaStruct.GetNum(ref f, 4);
                    left = System.Text.Encoding.ASCII.GetString(f, (int)(p + text.Length - f));
                }
            }
            await Assert.That(got).IsEqualTo(expected);
            if (expected >= 0) await Assert.That(left).IsEqualTo(rest);
        }
    }

    [Test]
    public async Task C_conversions_give_x86_integer_indefinite_out_of_range()
    {
        await Assert.That(CConvert.ToInt64(double.NaN)).IsEqualTo(long.MinValue);
        await Assert.That(CConvert.ToInt64(9223372036854775808.0)).IsEqualTo(long.MinValue);
        await Assert.That(CConvert.ToInt64(-1.9)).IsEqualTo(-1L);
        await Assert.That(CConvert.ToInt32(2147483648.0)).IsEqualTo(int.MinValue);
        await Assert.That(CConvert.ToInt32(-2147483648.9)).IsEqualTo(int.MinValue);
        await Assert.That(CConvert.ToUInt64(double.NaN)).IsEqualTo(0x8000000000000000UL);
        await Assert.That(CConvert.ToUInt64(double.PositiveInfinity)).IsEqualTo(0UL);
        await Assert.That(CConvert.ToUInt64(18446744073709551616.0)).IsEqualTo(0UL);
        await Assert.That(CConvert.ToUInt64(9223372036854779904.0)).IsEqualTo(9223372036854779904UL);
    }
}
