using NativeKv.Server.Storage.Values;

namespace NativeKv.Tests.Storage.Values;

/// <summary>The inline entry codec reads back exactly what it wrote, lengths across the varint's steps included.</summary>
public class ListpackTests
{
    [Test]
    public async Task Entries_read_back_in_order()
    {
        var rng = new Random(5);
        int[] lengths = [0, 1, 127, 128, 129, 16383, 16384, 70000, 3, 0];
        var entries = lengths.Select(n => { var b = new byte[n]; rng.NextBytes(b); return b; }).ToArray();
        int size = Listpack.HeaderSize + entries.Sum(e => Listpack.EntrySize(e.Length));
        var payload = new byte[size];
        Listpack.WriteHeader(payload, CollectionEncoding.Listpack, entries.Length);
        int offset = Listpack.HeaderSize;
        foreach (var e in entries) offset += Listpack.WriteEntry(payload.AsSpan(offset), e);
        await Assert.That(offset).IsEqualTo(size);

        await Assert.That(Listpack.EncodingOf(payload)).IsEqualTo(CollectionEncoding.Listpack);
        await Assert.That(Listpack.CountOf(payload)).IsEqualTo(entries.Length);
        var read = new List<byte[]>();
        var reader = new Listpack.Reader(payload);
        while (reader.Next(out var entry)) read.Add(entry.ToArray());
        await Assert.That(read.Count).IsEqualTo(entries.Length);
        for (int i = 0; i < entries.Length; i++) await Assert.That(read[i].SequenceEqual(entries[i])).IsTrue();
    }
}
