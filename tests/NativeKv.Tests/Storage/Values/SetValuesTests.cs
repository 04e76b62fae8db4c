using System.Text;
using NativeKv.Server.Storage.Values;

namespace NativeKv.Tests.Storage.Values;

/// <summary>
/// Values/Set.cs against a model: random operation sequences checked after every step against a
/// HashSet (membership, count), an order list (a listpack keeps insertion order, an intset ascending)
/// and Redis 7.2's encoding rules written out independently here (t_set.c's setTypeCreate,
/// setTypeMaybeConvert, setTypeAddAux, maybeConvertIntset).
/// </summary>
public class SetValuesTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    private static List<string> Members(ReadOnlySpan<byte> payload)
    {
        var list = new List<string>();
        Span<byte> scratch = stackalloc byte[24];
        var e = new Set.Enumerator(payload, scratch);
        while (e.Next(out var m)) list.Add(Encoding.UTF8.GetString(m));
        return list;
    }

    private static bool IsInt(string s) => long.TryParse(s, out long v) && v.ToString() == s;

    /// <summary>Redis's rules, step by step, with the members in the order Redis iterates them.</summary>
    private sealed class Model(SetLimits limits)
    {
        public CollectionEncoding Encoding;
        public readonly List<string> Order = new();
        public readonly HashSet<string> Members = new();

        public void Create(string first, long hint)
        {
            Order.Clear();
            Members.Clear();
            if (IsInt(first) && hint <= limits.IntsetEntries) Encoding = CollectionEncoding.IntSet;
            else Encoding = hint <= limits.ListpackEntries ? CollectionEncoding.Listpack : CollectionEncoding.Hashtable;
        }

        public void MaybeConvert(long hint)
        {
            if ((Encoding == CollectionEncoding.Listpack && hint > limits.ListpackEntries) ||
                (Encoding == CollectionEncoding.IntSet && hint > limits.IntsetEntries)) Encoding = CollectionEncoding.Hashtable;
        }

        public bool Add(string m)
        {
            if (Members.Contains(m)) return false;
            if (Encoding == CollectionEncoding.IntSet)
            {
                if (IsInt(m))
                {
                    Members.Add(m);
                    Order.Add(m);
                    Order.Sort((a, b) => long.Parse(a).CompareTo(long.Parse(b)));
                    if (Members.Count > limits.IntsetEntries) Encoding = CollectionEncoding.Hashtable;
                    return true;
                }
                int maxLen = Order.Count == 0 ? 0 : Math.Max(Order[0].Length, Order[^1].Length);
                Encoding = Members.Count < limits.ListpackEntries && m.Length <= limits.ListpackValue && maxLen <= limits.ListpackValue
                    ? CollectionEncoding.Listpack : CollectionEncoding.Hashtable;
            }
            else if (Encoding == CollectionEncoding.Listpack && (Members.Count >= limits.ListpackEntries || m.Length > limits.ListpackValue))
            {
                Encoding = CollectionEncoding.Hashtable;
            }
            Members.Add(m);
            Order.Add(m);
            return true;
        }

        public bool Remove(string m)
        {
            if (!Members.Remove(m)) return false;
            Order.Remove(m);
            return true;
        }
    }

    private static string RandomMember(Random rng) => rng.Next(IntegerHeavy ? 40 : 10) switch
    {
        < 5 => rng.Next(-40, 40).ToString(),
        5 => (rng.NextInt64(long.MinValue, long.MaxValue)).ToString(),
        6 => "0" + rng.Next(10), // not canonical: a string
        7 => new string('x', rng.Next(0, 12)),
        < 10 => "m" + rng.Next(60),
        _ => rng.Next(-200, 200).ToString(),
    };

    [ThreadStatic] private static bool IntegerHeavy;

    [Test]
    public async Task Random_operations_match_the_model_across_conversions()
    {
        for (int seed = 0; seed < 24; seed++)
        {
            var rng = new Random(seed);
            IntegerHeavy = seed % 2 == 1; // intsets that grow to the limits before a string comes
            var limits = new SetLimits(rng.Next(1, 40), rng.Next(1, 40), rng.Next(1, 10));
            var model = new Model(limits);
            var buf = new SetBuffer(16);
            bool exists = false;
            for (int step = 0; step < 300; step++)
            {
                int op = rng.Next(10);
                if (!exists || op < 4)
                {
                    // SADD with 1-5 members: the size hint is the argument count.
                    var args = Enumerable.Range(0, rng.Next(1, 6)).Select(_ => RandomMember(rng)).ToArray();
                    if (!exists)
                    {
                        Set.Create(buf, B(args[0]), args.Length, limits);
                        model.Create(args[0], args.Length);
                        exists = true;
                    }
                    else
                    {
                        Set.MaybeConvert(buf, args.Length, limits);
                        model.MaybeConvert(args.Length);
                    }
                    foreach (var a in args)
                        await Assert.That(Set.Add(buf, B(a), limits)).IsEqualTo(model.Add(a));
                }
                else if (op < 7)
                {
                    var m = rng.Next(3) == 0 || model.Order.Count == 0 ? RandomMember(rng) : model.Order[rng.Next(model.Order.Count)];
                    await Assert.That(Set.Remove(buf, B(m))).IsEqualTo(model.Remove(m));
                }
                else if (op < 8 && model.Order.Count > 0)
                {
                    // SPOP k: ascending ordinals removed in one pass.
                    int k = rng.Next(1, model.Order.Count + 1);
                    var ordinals = Enumerable.Range(0, model.Order.Count).OrderBy(_ => rng.Next()).Take(k).Order().ToArray();
                    var gone = ordinals.Select(i => model.Order[i]).ToList();
                    Set.RemoveAt(buf, ordinals);
                    foreach (var g in gone) model.Remove(g);
                }
                else
                {
                    var m = RandomMember(rng);
                    await Assert.That(Set.IsMember(buf.Payload, B(m))).IsEqualTo(model.Members.Contains(m));
                }
                if (model.Members.Count == 0) exists = false; // the key is deleted with its last member
                if (!exists) continue;
                await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(model.Encoding);
                await Assert.That(Set.Count(buf.Payload)).IsEqualTo(model.Members.Count);
                await Assert.That(string.Join(",", Members(buf.Payload))).IsEqualTo(string.Join(",", model.Order));
                foreach (var m in model.Order) await Assert.That(Set.IsMember(buf.Payload, B(m))).IsTrue();
            }
        }
    }

    [Test]
    public async Task Large_sets_through_the_index_match_the_model()
    {
        // Past SetBuffer.IndexFrom members lookups go through the transient index: adds, removes in between.
        var limits = new SetLimits(512, 128, 64);
        var buf = new SetBuffer();
        var model = new Model(limits);
        Set.Create(buf, B("a"), 1, limits);
        model.Create("a", 1);
        var rng = new Random(9);
        for (int i = 0; i < 3000; i++)
        {
            string m = "k" + rng.Next(1500);
            if (rng.Next(4) == 0) await Assert.That(Set.Remove(buf, B(m))).IsEqualTo(model.Remove(m));
            else await Assert.That(Set.Add(buf, B(m), limits)).IsEqualTo(model.Add(m));
        }
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        await Assert.That(string.Join(",", Members(buf.Payload))).IsEqualTo(string.Join(",", model.Order));
        for (int i = 0; i < 1500; i++)
            await Assert.That(buf.FindEntry(B("k" + i)) >= 0).IsEqualTo(model.Members.Contains("k" + i));
    }

    [Test]
    public async Task Intset_widens_and_keeps_ascending_order()
    {
        var limits = new SetLimits(512, 128, 64);
        var buf = new SetBuffer(8);
        Set.Create(buf, B("5"), 1, limits);
        foreach (var m in new[] { "5", "-3", "70000", "-9223372036854775808", "9223372036854775807", "0" })
            Set.Add(buf, B(m), limits);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.IntSet);
        await Assert.That(IntSet.WidthOf(buf.Payload)).IsEqualTo(8);
        await Assert.That(string.Join(",", Members(buf.Payload))).IsEqualTo("-9223372036854775808,-3,0,5,70000,9223372036854775807");
        // 2 bytes a member while they fit a short, then 4.
        var small = new SetBuffer(8);
        Set.Create(small, B("1"), 1, limits);
        Set.Add(small, B("1"), limits);
        Set.Add(small, B("-32768"), limits);
        await Assert.That(IntSet.WidthOf(small.Payload)).IsEqualTo(2);
        Set.Add(small, B("32768"), limits);
        await Assert.That(IntSet.WidthOf(small.Payload)).IsEqualTo(4);
        await Assert.That(small.Length).IsEqualTo(IntSet.HeaderSize + 3 * 4);
        // Not canonical: never an intset member.
        await Assert.That(Set.IsMember(small.Payload, B("01"))).IsFalse();
        await Assert.That(Set.IsMember(small.Payload, B("+1"))).IsFalse();
        await Assert.That(Set.IsMember(small.Payload, B("1"))).IsTrue();
    }

    [Test]
    public async Task Conversions_follow_redis_7_2()
    {
        // intset + string -> listpack (ascending members first) while it fits one...
        var limits = new SetLimits(512, 128, 64);
        var buf = new SetBuffer();
        Set.Create(buf, B("3"), 2, limits);
        Set.Add(buf, B("3"), limits);
        Set.Add(buf, B("1"), limits);
        Set.Add(buf, B("x"), limits);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Listpack);
        await Assert.That(string.Join(",", Members(buf.Payload))).IsEqualTo("1,3,x");
        // ... else -> hashtable: an intset member longer than set-max-listpack-value (sdigits10).
        var tight = new SetLimits(512, 128, 3);
        Set.Create(buf, B("1000"), 1, tight);
        Set.Add(buf, B("1000"), tight);
        Set.Add(buf, B("x"), tight);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        // ... and only while it has fewer members than set-max-listpack-entries (then one more comes).
        var three = new SetLimits(512, 3, 64);
        Set.Create(buf, B("1"), 1, three);
        foreach (var m in new[] { "1", "2", "x" }) Set.Add(buf, B(m), three);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Listpack);
        Set.Create(buf, B("1"), 1, three);
        foreach (var m in new[] { "1", "2", "3", "x" }) Set.Add(buf, B(m), three);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        // A listpack takes members up to set-max-listpack-entries, a member up to set-max-listpack-value bytes.
        Set.Create(buf, B("a"), 1, three);
        foreach (var m in new[] { "a", "b", "c" }) Set.Add(buf, B(m), three);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Listpack);
        Set.Add(buf, B("d"), three);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        Set.Create(buf, B("a"), 1, limits);
        Set.Add(buf, B(new string('v', 64)), limits);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Listpack);
        // An intset past set-max-intset-entries becomes a hashtable, not a listpack.
        var few = new SetLimits(2, 128, 64);
        Set.Create(buf, B("1"), 1, few);
        foreach (var m in new[] { "1", "2", "3" }) Set.Add(buf, B(m), few);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        // A size hint past the listpack limit creates a hashtable at once (SADD of many members).
        Set.Create(buf, B("a"), 129, limits);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        // A long member turns a listpack into a hashtable; removing it does not turn it back.
        Set.Create(buf, B("a"), 1, limits);
        Set.Add(buf, B("a"), limits);
        Set.Add(buf, B(new string('v', 65)), limits);
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        Set.Remove(buf, B(new string('v', 65)));
        await Assert.That(Set.EncodingOf(buf.Payload)).IsEqualTo(CollectionEncoding.Hashtable);
        await Assert.That(Set.EncodingName(buf.Payload)).IsEqualTo("hashtable");
        // SINTERSTORE's result of integers only becomes an intset.
        Set.CreateEmpty(buf, CollectionEncoding.Listpack);
        foreach (var m in new[] { "9", "-2", "4" }) Set.Add(buf, B(m), limits);
        Set.MaybeConvertToIntset(buf, limits);
        await Assert.That(Set.EncodingName(buf.Payload)).IsEqualTo("intset");
        await Assert.That(string.Join(",", Members(buf.Payload))).IsEqualTo("-2,4,9");
        Set.CreateEmpty(buf, CollectionEncoding.Listpack);
        foreach (var m in new[] { "9", "04" }) Set.Add(buf, B(m), limits);
        Set.MaybeConvertToIntset(buf, limits);
        await Assert.That(Set.EncodingName(buf.Payload)).IsEqualTo("listpack");
    }

    [Test]
    public async Task Steady_state_edits_allocate_nothing()
    {
        // What SADD/SREM/SISMEMBER/SPOP do to a small set, once the buffers have their size.
        var limits = new SetLimits(512, 128, 64);
        var buf = new SetBuffer();
        var copy = new SetBuffer();
        var members = Enumerable.Range(0, 40).Select(i => B("member:" + i)).ToArray();
        var ints = Enumerable.Range(0, 40).Select(i => B(i.ToString())).ToArray();
        var both = new[] { members, ints };
        Span<byte> scratch = stackalloc byte[24];
        long before = 0;
        for (int round = 0; round < 2; round++)
        {
            if (round == 1) before = GC.GetAllocatedBytesForCurrentThread();
            foreach (var set in both)
            {
                Set.Create(buf, set[0], 1, limits);
                foreach (var m in set) Set.Add(buf, m, limits);
                foreach (var m in set) Set.IsMember(buf.Payload, m);
                copy.Load(buf.Payload);
                Set.RemoveAt(copy, [3, 7]);
                var e = new Set.Enumerator(buf.Payload, scratch);
                while (e.Next(out _)) { }
                foreach (var m in set) Set.Remove(buf, m);
            }
        }
        await Assert.That(GC.GetAllocatedBytesForCurrentThread() - before).IsEqualTo(0L);
    }
}
