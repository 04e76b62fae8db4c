using System.Text;
using NativeKv.Server.Storage.Locks;

namespace NativeKv.Tests.Storage;

/// <summary>The key-lock table on its own: modes, FIFO parking, sorted acquisition, wake-ups, cancellation.</summary>
public class KeyLockTableTests
{
    /// <summary>Counts its grants; a test thread can wait for the next one.</summary>
    private sealed class Waiter : ILockWaiter
    {
        public int Grants;
        public readonly SemaphoreSlim Signal = new(0);
        public Action? OnGrant;
        public void Granted()
        {
            Interlocked.Increment(ref Grants);
            OnGrant?.Invoke();
            Signal.Release();
        }
    }

    private static (LockSet set, Waiter waiter) NewSet(int slot = 0)
    {
        var w = new Waiter();
        return (new LockSet(w, slot), w);
    }

    private static byte[] K(string s) => Encoding.UTF8.GetBytes(s);

    private static LockSet Keys(LockSet set, bool exclusive, params string[] keys)
    {
        set.Begin();
        foreach (var k in keys) set.AddKey(0, K(k), exclusive);
        return set;
    }

    [Test]
    public async Task Shared_holders_do_not_exclude_each_other()
    {
        var table = new KeyLockTable();
        var (a, wa) = NewSet();
        var (b, wb) = NewSet(1);
        await Assert.That(table.Acquire(Keys(a, false, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(b, false, "k"))).IsTrue();
        table.Release(a);
        table.Release(b);
        await Assert.That(wa.Grants + wb.Grants).IsEqualTo(0);
    }

    [Test]
    public async Task Shared_and_exclusive_exclude_each_other_both_ways()
    {
        var table = new KeyLockTable();
        var (s, _) = NewSet();
        var (x, wx) = NewSet(1);
        await Assert.That(table.Acquire(Keys(s, false, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(x, true, "k"))).IsFalse();
        await Assert.That(x.IsParked).IsTrue();
        table.Release(s);
        await Assert.That(wx.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(x)).IsTrue();

        var (s2, ws2) = NewSet(2);
        await Assert.That(table.Acquire(Keys(s2, false, "k"))).IsFalse();
        table.Release(x);
        await Assert.That(ws2.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(s2)).IsTrue();
        table.Release(s2);
    }

    [Test]
    public async Task One_owner_thread_plain_fast_paths_keep_modes_and_the_queue()
    {
        // One reactor: no CAS on the fast paths (SingleThreaded); parking and grants work the same.
        var table = new KeyLockTable { SingleThreaded = true };
        var (s1, _) = NewSet();
        var (s2, _) = NewSet();
        var (x, wx) = NewSet();
        await Assert.That(table.Acquire(Keys(s1, false, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(s2, false, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(x, true, "k"))).IsFalse();
        table.Release(s1);
        await Assert.That(wx.Grants).IsEqualTo(0);
        var (late, wl) = NewSet();
        await Assert.That(table.Acquire(Keys(late, false, "k"))).IsFalse(); // behind x
        table.Release(s2);
        await Assert.That(wx.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(x)).IsTrue();
        table.Release(x);
        await Assert.That(wl.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(late)).IsTrue();
        table.Release(late);
        await Assert.That(table.WordOf(KeyLockTable.StripeOf(HashOf("k"), 0))).IsEqualTo(0);
    }

    [Test]
    public async Task Exclusive_excludes_exclusive_and_a_waiter_is_woken_exactly_once()
    {
        var table = new KeyLockTable();
        var (a, _) = NewSet();
        var (b, wb) = NewSet();
        await Assert.That(table.Acquire(Keys(a, true, "k", "other"))).IsTrue();
        await Assert.That(table.Acquire(Keys(b, true, "k"))).IsFalse();
        await Assert.That(wb.Grants).IsEqualTo(0);
        table.Release(a);
        await Assert.That(wb.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(b)).IsTrue();
        table.Release(b);
        await Assert.That(wb.Grants).IsEqualTo(1);
    }

    [Test]
    public async Task Waiters_are_granted_in_arrival_order_and_new_shared_ones_do_not_overtake()
    {
        var table = new KeyLockTable();
        var order = new List<string>();
        var (holder, _) = NewSet();
        await Assert.That(table.Acquire(Keys(holder, true, "k"))).IsTrue();
        var sets = new List<(string name, LockSet set, Waiter w)>();
        foreach (var (name, x) in new[] { ("s1", false), ("x2", true), ("s3", false), ("s4", false), ("x5", true) })
        {
            var (set, w) = NewSet();
            w.OnGrant = () => { lock (order) order.Add(name); };
            await Assert.That(table.Acquire(Keys(set, x, "k"))).IsFalse();
            sets.Add((name, set, w));
        }
        // A shared acquirer arriving now queues behind x2, though s1 could share with it.
        var (late, lateW) = NewSet();
        lateW.OnGrant = () => { lock (order) order.Add("late"); };
        table.Release(holder);
        await Assert.That(table.Acquire(Keys(late, false, "k"))).IsFalse();

        await Assert.That(string.Join(",", order)).IsEqualTo("s1");
        Continue(table, sets[0].set);
        await Assert.That(string.Join(",", order)).IsEqualTo("s1,x2");
        Continue(table, sets[1].set);
        await Assert.That(string.Join(",", order)).IsEqualTo("s1,x2,s3,s4");
        Continue(table, sets[2].set);
        Continue(table, sets[3].set);
        await Assert.That(string.Join(",", order)).IsEqualTo("s1,x2,s3,s4,x5");
        Continue(table, sets[4].set);
        await Assert.That(string.Join(",", order)).IsEqualTo("s1,x2,s3,s4,x5,late");
        Continue(table, late);
        foreach (var (_, _, w) in sets) await Assert.That(w.Grants).IsEqualTo(1);
    }

    /// <summary>A granted set finishes acquiring and releases (its command ran).</summary>
    private static void Continue(KeyLockTable table, LockSet set)
    {
        if (!table.Acquire(set)) throw new InvalidOperationException("parked again");
        table.Release(set);
    }

    [Test]
    public async Task A_key_named_twice_or_two_keys_on_one_stripe_take_the_stripe_once_and_exclusive_wins()
    {
        var table = new KeyLockTable();
        var (a, _) = NewSet();
        a.Begin();
        a.AddStripe(7, exclusive: false);
        a.AddStripe(3, exclusive: false);
        a.AddStripe(7, exclusive: true);
        a.AddStripe(3, exclusive: false);
        await Assert.That(table.Acquire(a)).IsTrue();
        await Assert.That(table.WordOf(7)).IsEqualTo(int.MinValue); // the exclusive bit alone
        await Assert.That(table.WordOf(3)).IsEqualTo(1);           // one shared holder, not two
        table.Release(a);
        await Assert.That(table.WordOf(7)).IsEqualTo(0);
        await Assert.That(table.WordOf(3)).IsEqualTo(0);
    }

    [Test]
    public async Task Databases_are_part_of_a_keys_identity()
    {
        var table = new KeyLockTable();
        var (a, _) = NewSet();
        var (b, _) = NewSet();
        a.Begin();
        a.AddKey(0, K("k"), exclusive: true);
        b.Begin();
        b.AddKey(1, K("k"), exclusive: true);
        await Assert.That(KeyLockTable.StripeOf(12345, 0)).IsNotEqualTo(KeyLockTable.StripeOf(12345, 1));
        await Assert.That(table.Acquire(a)).IsTrue();
        await Assert.That(table.Acquire(b)).IsTrue();
        table.Release(a);
        table.Release(b);
    }

    [Test]
    public async Task Cancel_leaves_the_queue_and_a_closed_holder_releases()
    {
        var table = new KeyLockTable();
        var (holder, _) = NewSet();
        var (x, wx) = NewSet();
        var (s, ws) = NewSet();
        await Assert.That(table.Acquire(Keys(holder, false, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(x, true, "k"))).IsFalse();
        await Assert.That(table.Acquire(Keys(s, false, "k"))).IsFalse(); // behind x (FIFO)
        // x's client closes while parked: s, which only waited behind it, is admitted at once.
        table.Cancel(x);
        await Assert.That(ws.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(s)).IsTrue();
        // The holder's client closes while holding: the locks go back.
        table.Cancel(holder);
        table.Cancel(s);
        await Assert.That(wx.Grants).IsEqualTo(0);
        await Assert.That(table.WordOf(KeyLockTable.StripeOf(HashOf("k"), 0))).IsEqualTo(0);

        // Granted but closed before its reactor got to it: the grant is given back too.
        var (h2, _) = NewSet();
        var (w2set, w2) = NewSet();
        await Assert.That(table.Acquire(Keys(h2, true, "k"))).IsTrue();
        await Assert.That(table.Acquire(Keys(w2set, true, "k"))).IsFalse();
        table.Release(h2);
        await Assert.That(w2.Grants).IsEqualTo(1);
        table.Cancel(w2set);
        var (h3, _) = NewSet();
        await Assert.That(table.Acquire(Keys(h3, true, "k"))).IsTrue();
        table.Release(h3);
    }

    private static unsafe long HashOf(string key)
    {
        var b = K(key);
        fixed (byte* p = b) return NativeKv.Server.Storage.KeyComparer.Hash(p, b.Length);
    }

    [Test]
    public async Task The_keyspace_gate_waits_for_every_keyed_holder_and_holds_them_off()
    {
        var table = new KeyLockTable();
        var (r0, _) = NewSet(0);
        var (r1, _) = NewSet(1);
        await Assert.That(table.Acquire(Keys(r0, false, "a"))).IsTrue();
        await Assert.That(table.Acquire(Keys(r1, true, "b"))).IsTrue();
        var (flush, wf) = NewSet(0);
        flush.Begin();
        flush.AddKeyspace();
        await Assert.That(table.Acquire(flush)).IsFalse();
        // A keyed command arriving now waits behind the keyspace command (no starvation of FLUSHDB).
        var (late, wl) = NewSet(1);
        await Assert.That(table.Acquire(Keys(late, false, "c"))).IsFalse();
        table.Release(r0);
        await Assert.That(wf.Grants).IsEqualTo(0);
        table.Release(r1);
        await Assert.That(wf.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(flush)).IsTrue();
        await Assert.That(wl.Grants).IsEqualTo(0);
        table.Release(flush);
        await Assert.That(wl.Grants).IsEqualTo(1);
        await Assert.That(table.Acquire(late)).IsTrue();
        table.Release(late);
    }

    [Test]
    public async Task Overlapping_key_sets_from_many_threads_never_deadlock_and_never_share_an_exclusive_key()
    {
        // 6 threads, 2,000 commands each over 12 keys in 2 databases (heavy overlap), random modes and
        // 1-5 keys in random order. Each holder checks that nobody else holds an exclusive key it holds.
        var table = new KeyLockTable();
        const int Threads = 6, Commands = 2000, KeyCount = 12;
        var holders = new int[2 * KeyCount];     // +1 per shared holder, +1000 per exclusive holder
        long violations = 0, parks = 0, deadlocks = 0;
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
          try
          {
            var rng = new Random(1000 + t);
            var waiter = new Waiter();
            var set = new LockSet(waiter, t);
            var mine = new List<(int key, bool x)>();
            for (int c = 0; c < Commands; c++)
            {
                set.Begin();
                mine.Clear();
                int n = rng.Next(1, 6);
                for (int i = 0; i < n; i++)
                {
                    int db = rng.Next(2), k = rng.Next(KeyCount);
                    bool x = rng.Next(3) == 0;
                    set.AddKey(db, K("key" + k), x);
                    mine.Add((db * KeyCount + k, x));
                }
                if (rng.Next(200) == 0) { set.Begin(); set.AddKeyspace(); mine.Clear(); }
                while (!table.Acquire(set))
                {
                    Interlocked.Increment(ref parks);
                    if (!waiter.Signal.Wait(TimeSpan.FromSeconds(10))) throw new TimeoutException("deadlock: a parked set was never granted");
                }
                // Exclusive wins per key (as the table merges them).
                var merged = mine.GroupBy(m => m.key).Select(g => (key: g.Key, x: g.Any(m => m.x))).ToList();
                foreach (var (key, x) in merged) Interlocked.Add(ref holders[key], x ? 1000 : 1);
                foreach (var (key, x) in merged)
                {
                    int h = Volatile.Read(ref holders[key]);
                    if (x ? h != 1000 : h >= 1000) Interlocked.Increment(ref violations);
                }
                if (rng.Next(4) == 0) Thread.Yield();
                foreach (var (key, x) in merged) Interlocked.Add(ref holders[key], x ? -1000 : -1);
                table.Release(set);
            }
          }
          catch (TimeoutException)
          {
              Interlocked.Increment(ref deadlocks);
          }
        })).ToList();
        foreach (var th in threads) th.Start();
        foreach (var th in threads) await Assert.That(th.Join(TimeSpan.FromSeconds(120))).IsTrue();
        await Assert.That(Interlocked.Read(ref deadlocks)).IsEqualTo(0L);
        await Assert.That(Interlocked.Read(ref violations)).IsEqualTo(0L);
        await Assert.That(Interlocked.Read(ref parks)).IsGreaterThan(0L);
        for (int s = 0; s < KeyLockTable.Stripes; s += 997) await Assert.That(table.WordOf(s)).IsEqualTo(0);
    }
}
