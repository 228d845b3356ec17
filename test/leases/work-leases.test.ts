/**
 * The work-lease coordinator (issue 11) with several instances on one store: every tenant's lease held by exactly
 * one instance, tenants spread over the live instances, handed over when an instance joins, taken over when one
 * stops or goes silent. Rounds are driven by hand (`rebalance()`), so nothing here waits on a timer.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { claimOwners } from '../../src/booking/claim-owners.js';
import { createStoreLeases, type WorkLeases } from '../../src/leases/work-leases.js';
import { rendezvousOwner } from '../../src/leases/rendezvous.js';
import { createLogger } from '../../src/logger.js';
import { acquireLease } from '../../src/store/lease-rows.js';
import type { Store } from '../../src/store/database.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANTS = Array.from({ length: 12 }, (_, i) => `tenant-${i}`);

function instance(store: Store, id: string, ttlMs = 60_000): WorkLeases {
  // The renewal interval is never reached in these tests: every round is run by hand.
  return createStoreLeases({
    store,
    tenantIds: TENANTS,
    logger: createLogger('silent'),
    instanceId: id,
    ttlMs,
    renewIntervalMs: 3_600_000,
  });
}

const heldBy = (leases: WorkLeases) => TENANTS.filter((t) => leases.holds(t));

describe('rendezvous hashing', () => {
  it('gives every key one owner among the instances, the same whatever their order, and spreads keys', () => {
    const instances = ['a', 'b', 'c'];
    const owners = TENANTS.map((t) => rendezvousOwner(instances, t));
    expect(TENANTS.map((t) => rendezvousOwner([...instances].reverse(), t))).toEqual(owners);
    expect(new Set(owners)).toEqual(new Set(instances));
    // Removing an instance moves only its own keys.
    const without = TENANTS.map((t) => rendezvousOwner(['a', 'c'], t));
    TENANTS.forEach((_, i) => {
      if (owners[i] !== 'b') expect(without[i]).toBe(owners[i]);
    });
  });
});

describe.each(testStoreFactories)('work leases over several instances ($name)', (factory) => {
  const db = useTestStore(factory);

  it('holds each tenant on exactly one instance, spread over the live ones, and hands tenants over as instances join and leave', async () => {
    const { store } = db();
    const a = instance(store, 'instance-a');
    const b = instance(store, 'instance-b');
    const c = instance(store, 'instance-c');
    try {
      await a.start();
      expect(heldBy(a)).toEqual(TENANTS);

      // B and C join: A hands over what now belongs to them, and they take it on their next round.
      await b.start();
      await c.start();
      await a.rebalance();
      await b.rebalance();
      await c.rebalance();
      const owners = TENANTS.map((t) => rendezvousOwner(['instance-a', 'instance-b', 'instance-c'], t));
      expect(heldBy(a)).toEqual(TENANTS.filter((_, i) => owners[i] === 'instance-a'));
      expect(heldBy(b)).toEqual(TENANTS.filter((_, i) => owners[i] === 'instance-b'));
      expect(heldBy(c)).toEqual(TENANTS.filter((_, i) => owners[i] === 'instance-c'));
      for (const leases of [a, b, c]) expect(heldBy(leases).length).toBeGreaterThan(0);

      const holders = await a.holders();
      expect(TENANTS.map((t) => holders[t]?.holder)).toEqual(owners);

      // C stops cleanly: its leases are free at once and its tenants move to A and B on their next round.
      await c.stop();
      await a.rebalance();
      await b.rebalance();
      expect([...heldBy(a), ...heldBy(b)].sort()).toEqual([...TENANTS].sort());
      expect(heldBy(a).filter((t) => heldBy(b).includes(t))).toEqual([]);
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });

  it('takes over the tenants of an instance that went silent once its leases expired', async () => {
    const { store } = db();
    // A dead instance: it took every lease a while ago and then stopped renewing (as after kill -9).
    for (const t of TENANTS)
      await acquireLease(store, `tenant:${t}`, 'dead-instance', Date.now() - 10_000, 1_000);
    const b = instance(store, 'instance-b', 1_000);
    try {
      await b.start();
      expect(heldBy(b)).toEqual(TENANTS);
      const holders = await b.holders();
      expect(new Set(TENANTS.map((t) => holders[t]?.holder))).toEqual(new Set(['instance-b']));
      expect(holders[TENANTS[0]!]?.epoch).toBe(2);
    } finally {
      await b.stop();
    }
  });

  it('leaves a live lease of another instance alone even when the tenant belongs to it by hashing', async () => {
    const { store } = db();
    for (const t of TENANTS) await acquireLease(store, `tenant:${t}`, 'other-instance', Date.now(), 60_000);
    const b = instance(store, 'instance-b');
    try {
      await b.start();
      expect(heldBy(b)).toEqual([]);
    } finally {
      await b.stop();
    }
  });
});

describe.each(testStoreFactories)('the processes behind claims ($name)', (factory) => {
  const db = useTestStore(factory);

  it('tells a process that died from its restart under the same configured instance id, on every instance', async () => {
    const { store } = db();
    const killed = instance(store, 'front-desk-1');
    const other = instance(store, 'front-desk-2');
    let restarted: WorkLeases | undefined;
    try {
      await killed.start();
      await other.start();
      const otherOwners = claimOwners(other);
      expect(await otherOwners.isAlive(claimOwners(killed).self)).toBe(true);
      // `killed` is never stopped (SIGKILL): the same configured id comes back as another process at once.
      await new Promise((resolve) => setTimeout(resolve, 2));
      restarted = instance(store, 'front-desk-1');
      await restarted.start();
      const restartedOwners = claimOwners(restarted);
      expect(restartedOwners.self).not.toBe(claimOwners(killed).self);
      expect(await otherOwners.isAlive(claimOwners(killed).self)).toBe(false);
      expect(await restartedOwners.isAlive(claimOwners(killed).self)).toBe(false);
      expect(await otherOwners.isAlive(restartedOwners.self)).toBe(true);
      expect(await restartedOwners.isAlive(otherOwners.self)).toBe(true);
      // Claims of an older Switchboard name a random nonce, not the start: judged by their instance, as before.
      expect(await restartedOwners.isAlive(`front-desk-2/${randomUUID()}`)).toBe(true);
      expect(await otherOwners.isAlive(`front-desk-3/${randomUUID()}`)).toBe(false);
      expect(await restartedOwners.isAlive(`front-desk-1/${randomUUID()}`)).toBe(false);
    } finally {
      await restarted?.stop();
      await other.stop();
    }
  });
});
