import { describe, expect, it } from 'vitest';
import { claimDueDeliveries, enqueueDeliveries } from '../../src/store/outbox-store.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const T0 = new Date('2026-11-24T19:00:00.000Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

describe.each(testStoreFactories)('delivery outbox ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('enqueues each subscription and sequence once', async () => {
    const { store } = testStore();
    await enqueueDeliveries(store, 'a', [{ subscriptionId: 's1', seq: 1 }], { now: T0 });
    await enqueueDeliveries(
      store,
      'a',
      [
        { subscriptionId: 's1', seq: 1 },
        { subscriptionId: 's2', seq: 1 },
      ],
      {
        now: at(5),
      },
    );
    const rows = await store.db.selectFrom('outbox').selectAll().orderBy('subscription_id').execute();
    expect(rows.map((r) => [r.subscription_id, r.seq, r.created_at])).toEqual([
      ['s1', 1, T0.toISOString()],
      ['s2', 1, at(5).toISOString()],
    ]);
  });

  it('claims only due, pending deliveries, counting an attempt and leasing them', async () => {
    const { store } = testStore();
    await enqueueDeliveries(
      store,
      'a',
      [
        { subscriptionId: 's1', seq: 2 },
        { subscriptionId: 's1', seq: 1 },
        { subscriptionId: 's1', seq: 3, nextAttemptAt: at(60).toISOString() },
      ],
      { now: T0 },
    );
    await store.write((trx) =>
      trx.updateTable('outbox').set({ delivered_at: T0.toISOString() }).where('seq', '=', 2).execute(),
    );

    const claimed = await claimDueDeliveries(store, 'a', { limit: 10, leaseMs: 30_000, now: at(1) });
    expect(claimed.map((d) => [d.seq, d.attempts, d.nextAttemptAt])).toEqual([[1, 1, at(31).toISOString()]]);
    expect(await claimDueDeliveries(store, 'a', { limit: 10, leaseMs: 30_000, now: at(2) })).toEqual([]);

    const afterLease = await claimDueDeliveries(store, 'a', { limit: 10, leaseMs: 30_000, now: at(61) });
    expect(afterLease.map((d) => [d.seq, d.attempts])).toEqual([
      [1, 2],
      [3, 1],
    ]);
    expect(await claimDueDeliveries(store, 'b', { limit: 10, leaseMs: 30_000, now: at(1000) })).toEqual([]);
  });

  it('never hands one delivery to two concurrent claimers', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    await enqueueDeliveries(
      handle.store,
      'a',
      Array.from({ length: 30 }, (_, i) => ({ subscriptionId: 's1', seq: i + 1 })),
      { now: T0 },
    );
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        claimDueDeliveries(i % 2 ? other : handle.store, 'a', { limit: 10, leaseMs: 60_000, now: at(1) }),
      ),
    );
    const seqs = batches.flat().map((d) => d.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});
