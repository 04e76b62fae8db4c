using System.Text;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// Hash and HashWriter against a model: random sequences of sets, set-if-absent and deletes over a
/// small field space (so fields repeat and the hash grows and shrinks), with thresholds low enough
/// that some runs convert. After every step the payload must answer exactly what the model holds.
/// </summary>
public class HashTests
{
    private sealed class BytesComparer : IEqualityComparer<byte[]>
    {
        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);
        public int GetHashCode(byte[] b) { var h = new HashCode(); h.AddBytes(b); return h.ToHashCode(); }
    }

    [Test]
    [Arguments(1)]
    [Arguments(2)]
    [Arguments(3)]
    [Arguments(4)]
    public async Task Random_operations_match_a_dictionary(int seed)
    {
        var rng = new Random(seed);
        // Seed 4 stays a listpack past 64 fields: an indexed listpack keeps its order through edits.
        var limits = seed == 4 ? new HashLimits(300, 1000) : new HashLimits(MaxListpackEntries: 8 + seed * 8, MaxListpackValue: 40 + seed * 10);
        var model = new Dictionary<byte[], byte[]>(new BytesComparer());
        var order = new List<byte[]>(); // insertion order, as the listpack keeps it
        byte[] payload = Hash.Empty.ToArray();
        byte[] scratch = GC.AllocateUninitializedArray<byte>(16, pinned: true);
        bool converted = false;
        var w = new HashWriter(payload, scratch, limits);
        int batch = 0;
        for (int step = 0; step < 6000; step++)
        {
            // A command edits one writer many times (HSET/HDEL of many fields): dead pairs pile up
            // and close up only when the payload is taken at the end of the batch.
            if (batch == 0) batch = rng.Next(1, 40);
            // Seeds 3 and 4 grow past HashIndex.From (64) fields, so look-ups go through the index.
            var field = RandomBytes(rng, rng.Next(4) == 0 ? 200 : 6, fieldSpace: seed <= 2 ? 60 : 400);
            var value = RandomBytes(rng, rng.Next(10) == 0 ? 300 : 20, fieldSpace: 0);
            int op = rng.Next(10);
            bool result;
            bool longArg = field.Length > limits.MaxListpackValue || value.Length > limits.MaxListpackValue;
            if (op < 5)
            {
                result = w.Set(field, value);
                await Assert.That(result).IsEqualTo(!model.ContainsKey(field));
                if (result) order.Add(field);
                model[field] = value;
                if (longArg) converted = true;
            }
            else if (op < 7)
            {
                bool had = w.TryGet(field, out _);
                await Assert.That(had).IsEqualTo(model.ContainsKey(field));
                if (!had)
                {
                    w.Set(field, value);
                    model[field] = value;
                    order.Add(field);
                    if (longArg) converted = true;
                }
            }
            else
            {
                result = w.Delete(field);
                await Assert.That(result).IsEqualTo(model.Remove(field));
                if (result) order.RemoveAll(f => f.AsSpan().SequenceEqual(field));
            }
            if (model.Count > limits.MaxListpackEntries) converted = true;
            await Assert.That(w.Count).IsEqualTo(model.Count);
            await Assert.That(WriterGet(ref w, field)).IsEqualTo(Hex(model, field));
            if (--batch > 0) continue;
            scratch = w.Buffer;
            payload = w.Payload.ToArray();
            w = new HashWriter(payload, scratch, limits);

            await Assert.That(Hash.Count(payload)).IsEqualTo(model.Count);
            await Assert.That(Hash.EncodingOf(payload)).IsEqualTo(converted ? CollectionEncoding.Hashtable : CollectionEncoding.Listpack);
            byte[]? got = Get(payload, field);
            await Assert.That(got is null ? null : Convert.ToHexString(got)).IsEqualTo(Hex(model, field));
            if (step % 100 == 0) await CheckWhole(payload, model, order, converted);
            if (step % 50 == 0) await Assert.That(LookupsAgree(payload, model)).IsTrue();
        }
        payload = w.Payload.ToArray();
        await CheckWhole(payload, model, order, converted);
    }

    /// <summary>HMGET's look-ups (an index past 64 fields) find each model field and miss others.</summary>
    private static bool LookupsAgree(byte[] payload, Dictionary<byte[], byte[]> model)
    {
        var lookups = new Hash.Lookups(payload, model.Count + 1);
        foreach (var (f, v) in model)
        {
            if (!lookups.TryGet(payload, f, out var got) || !got.SequenceEqual(v)) return false;
        }
        return !lookups.TryGet(payload, "absent"u8, out _);
    }

    private static string? Hex(Dictionary<byte[], byte[]> model, byte[] field) =>
        model.TryGetValue(field, out var v) ? Convert.ToHexString(v) : null;

    private static string? WriterGet(ref HashWriter w, byte[] field) => w.TryGet(field, out var v) ? Convert.ToHexString(v) : null;

    private static byte[]? Get(byte[] payload, byte[] field) => Hash.TryGet(payload, field, out var v) ? v.ToArray() : null;

    /// <summary>
    /// Enumeration (and At over the pair offsets) gives the model's pairs: in insertion order for a
    /// listpack (as Redis keeps it), in any order for a hashtable (a value that changes size moves).
    /// </summary>
    private static async Task CheckWhole(byte[] payload, Dictionary<byte[], byte[]> model, List<byte[]> order, bool hashtable)
    {
        var want = order.Select(f => Convert.ToHexString(f) + "=" + Convert.ToHexString(model[f])).ToList();
        var got = Describe(payload, byOffsets: false).Split(';', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (hashtable)
        {
            want.Sort(StringComparer.Ordinal);
            got.Sort(StringComparer.Ordinal);
        }
        await Assert.That(string.Join(";", got)).IsEqualTo(string.Join(";", want));
        await Assert.That(Describe(payload, byOffsets: true)).IsEqualTo(Describe(payload, byOffsets: false));
    }

    private static string Describe(byte[] payload, bool byOffsets)
    {
        var parts = new List<string>();
        if (byOffsets)
        {
            var offsets = new int[Hash.Count(payload)];
            Hash.Offsets(payload, offsets);
            foreach (int at in offsets)
            {
                Hash.At(payload, at, out var f, out var v);
                parts.Add(Convert.ToHexString(f) + "=" + Convert.ToHexString(v));
            }
        }
        else
        {
            var e = Hash.Enumerate(payload);
            while (e.Next(out var f, out var v)) parts.Add(Convert.ToHexString(f) + "=" + Convert.ToHexString(v));
        }
        return string.Join(";", parts);
    }

    private static byte[] RandomBytes(Random rng, int maxLength, int fieldSpace)
    {
        if (fieldSpace > 0)
        {
            // A small space of fields: "f17", and long fields built from the same number.
            int n = rng.Next(fieldSpace);
            var s = maxLength > 100 ? new string((char)('a' + n % 26), 60 + n) : "f" + n;
            return Encoding.Latin1.GetBytes(s);
        }
        var b = new byte[rng.Next(maxLength + 1)];
        rng.NextBytes(b);
        return b;
    }

    [Test]
    public async Task Empty_fields_and_values_are_kept()
    {
        var w = new HashWriter(default, GC.AllocateUninitializedArray<byte>(8, pinned: true), new HashLimits(128, 64));
        await Assert.That(w.Set([], [])).IsTrue();
        await Assert.That(w.Set([], [])).IsFalse();
        await Assert.That(w.Set("a"u8, [])).IsTrue();
        await Assert.That(w.Count).IsEqualTo(2);
        await Assert.That(Get(w.Payload.ToArray(), [])?.Length).IsEqualTo(0);
        await Assert.That(w.Delete([])).IsTrue();
        await Assert.That(w.Delete([])).IsFalse();
        await Assert.That(w.Count).IsEqualTo(1);
    }
}
