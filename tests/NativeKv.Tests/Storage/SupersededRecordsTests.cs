using NativeKv.Server.Storage;

namespace NativeKv.Tests.Storage;

/// <summary>The marks compaction trusts to drop a page record unchecked: exact per 32-byte unit, kept only inside the window from the begin.</summary>
public class SupersededRecordsTests
{
    [Test]
    public async Task A_mark_is_seen_at_its_address_only()
    {
        var marks = new SupersededRecords();
        marks.Mark(4096 + 64);
        await Assert.That(marks.Contains(4096 + 64)).IsTrue();
        // The units around it, and the same unit offset in the next segment, are not marked.
        await Assert.That(marks.Contains(4096 + 32)).IsFalse();
        await Assert.That(marks.Contains(4096 + 96)).IsFalse();
        await Assert.That(marks.Contains(4096 + 64 + (4L << 20))).IsFalse();
        await Assert.That(marks.Contains(0)).IsFalse();
    }

    [Test]
    public async Task Marks_follow_a_random_set_of_record_addresses()
    {
        var marks = new SupersededRecords();
        var rng = new Random(7);
        var marked = new HashSet<long>();
        var all = new List<long>();
        // Records of 56-4000 bytes laid end to end over 600 MB of log (inside the 1 GB window), 8-byte aligned.
        for (long at = 64; at < 600L << 20; at += 56 + rng.Next(0, 500) * 8)
        {
            all.Add(at);
            if (rng.Next(3) == 0) { marks.Mark(at); marked.Add(at); }
        }
        int wrong = 0;
        foreach (long at in all) if (marks.Contains(at) != marked.Contains(at)) wrong++;
        await Assert.That(wrong).IsEqualTo(0);
        await Assert.That(marks.Bytes).IsLessThanOrEqualTo(256L * 16 * 1024);
    }

    [Test]
    public async Task Marks_outside_the_window_are_dropped_and_the_begin_moving_drops_those_below_it()
    {
        var marks = new SupersededRecords();
        long far = SupersededRecords.WindowBytes + 4096;
        marks.Mark(far);
        await Assert.That(marks.Contains(far)).IsFalse();
        marks.Mark(8192);
        marks.BeginMoved(far - 4096);
        await Assert.That(marks.Contains(8192)).IsFalse();
        await Assert.That(marks.Bytes).IsEqualTo(0L);
        // The window now reaches past the old one: the far address is kept.
        marks.Mark(far);
        await Assert.That(marks.Contains(far)).IsTrue();
        // A begin that moves back (a stale caller) changes nothing.
        marks.BeginMoved(0);
        await Assert.That(marks.Contains(far)).IsTrue();
    }
}
