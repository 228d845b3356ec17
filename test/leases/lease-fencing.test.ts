/**
 * Work leases and their fencing tokens in the store (issue 11): one holder at a time, a takeover only once the
 * lease expired, a new epoch on every takeover, and a write fenced by a lease that passed on commits nothing —
 * checked through the one change-writer path and the saga store, on both dialects.
 */
import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { updateSaga } from '../../src/booking/saga/saga-store.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { lastJournalSeq } from '../../src/store/change-journal.js';
import {
  acquireLease,
  LeaseLostError,
  listLeases,
  releaseLease,
  renewLease,
} from '../../src/store/lease-rows.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const patient = (id: string): Patient & { id: string } => ({
  resourceType: 'Patient',
  id,
  name: [{ family: `Family-${id}` }],
});

describe.each(testStoreFactories)('work leases with fencing ($name)', (factory) => {
  const db = useTestStore(factory);

  it('gives a lease to one holder at a time and to another only after it expired, with a new epoch', async () => {
    const { store } = db();
    const t0 = Date.now();
    const a = await acquireLease(store, 'tenant:t1', 'instance-a', t0, 1_000);
    expect(a).toEqual({ name: 'tenant:t1', holder: 'instance-a', epoch: 1 });
    expect(await acquireLease(store, 'tenant:t1', 'instance-b', t0 + 999, 1_000)).toBeUndefined();
    expect(await renewLease(store, a!, t0 + 500, 1_000)).toBe(true);
    // Renewed until t0 + 1500: still A's at t0 + 1400.
    expect(await acquireLease(store, 'tenant:t1', 'instance-b', t0 + 1_400, 1_000)).toBeUndefined();
    const b = await acquireLease(store, 'tenant:t1', 'instance-b', t0 + 1_500, 1_000);
    expect(b).toEqual({ name: 'tenant:t1', holder: 'instance-b', epoch: 2 });
    // A cannot renew what passed on, even though its renewal would come "in time" by its own clock.
    expect(await renewLease(store, a!, t0 + 1_600, 1_000)).toBe(false);
    expect((await listLeases(store, 'tenant:')).map((l) => [l.holder, l.epoch])).toEqual([['instance-b', 2]]);
  });

  it('re-takes its own expired lease under a new epoch, and a released lease is free at once', async () => {
    const { store } = db();
    const t0 = Date.now();
    const first = await acquireLease(store, 'tenant:t1', 'instance-a', t0, 1_000);
    const again = await acquireLease(store, 'tenant:t1', 'instance-a', t0 + 1_000, 1_000);
    expect(again?.epoch).toBe((first?.epoch ?? 0) + 1);
    await releaseLease(store, again!, t0 + 1_100);
    expect(await acquireLease(store, 'tenant:t1', 'instance-b', t0 + 1_100, 1_000)).toMatchObject({
      holder: 'instance-b',
      epoch: 3,
    });
  });

  it('refuses, in the same transaction, a change-writer commit fenced by a lease that passed to another instance', async () => {
    const { store } = db();
    const now = Date.now();
    // A's lease expired a moment ago and B took it over: A's pass, begun earlier, now tries to commit.
    const a = await acquireLease(store, 'tenant:t1', 'instance-a', now - 5_000, 1_000);
    const b = await acquireLease(store, 'tenant:t1', 'instance-b', now, 60_000);
    expect(b?.epoch).toBe(2);
    const before = await lastJournalSeq(store, 't1');
    await expect(
      store.fenced(a, () =>
        commitChanges(store, 't1', [{ op: 'upsert', resource: patient('p1') }], [], { now: new Date() }),
      ),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await lastJournalSeq(store, 't1')).toBe(before);
    expect(await store.db.selectFrom('resources').select('id').execute()).toEqual([]);

    // The holder's own fenced commit goes through.
    const result = await store.fenced(b, () =>
      commitChanges(store, 't1', [{ op: 'upsert', resource: patient('p1') }], [], { now: new Date() }),
    );
    expect(result.written).toHaveLength(1);
    expect(await store.db.selectFrom('resources').select('id').execute()).toEqual([{ id: 'p1' }]);
  });

  it('refuses a fenced commit once its lease expired, even with nobody having taken it over', async () => {
    const { store } = db();
    const a = await acquireLease(store, 'tenant:t1', 'instance-a', Date.now() - 2_000, 1_000);
    await expect(
      store.fenced(a, () => commitChanges(store, 't1', [{ op: 'upsert', resource: patient('p1') }])),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(await store.db.selectFrom('resources').select('id').execute()).toEqual([]);
  });

  it('refuses a saga step fenced by a lost lease (a recovery step begun before the takeover)', async () => {
    const { store } = db();
    const now = new Date();
    await store.write((trx) =>
      trx
        .insertInto('booking_sagas')
        .values({
          tenant_id: 't1',
          id: 's1',
          kind: 'book',
          state: 'writing',
          client_id: null,
          request: '{}',
          marker: 'switchboard:s1',
          practitioner_id: 'pr1',
          start_at: now.toISOString(),
          end_at: now.toISOString(),
          appointment_id: null,
          upstream_id: null,
          error_code: null,
          error_detail: null,
          created_at: now.toISOString(),
          updated_at: now.toISOString(),
          expires_at: now.toISOString(),
          owner_instance: 'instance-a',
        })
        .execute(),
    );
    const a = await acquireLease(store, 'tenant:t1', 'instance-a', Date.now() - 5_000, 1_000);
    await acquireLease(store, 'tenant:t1', 'instance-b', Date.now(), 60_000);
    await expect(
      store.fenced(a, () => updateSaga(store, 't1', 's1', { state: 'released' }, new Date())),
    ).rejects.toBeInstanceOf(LeaseLostError);
    const row = await store.db.selectFrom('booking_sagas').select('state').executeTakeFirstOrThrow();
    expect(row.state).toBe('writing');
  });

  it('does not fence writes outside store.fenced, nor after it returned', async () => {
    const { store } = db();
    const a = await acquireLease(store, 'tenant:t1', 'instance-a', Date.now() - 5_000, 1_000);
    await store.fenced(a, () => Promise.resolve());
    const result = await commitChanges(store, 't1', [{ op: 'upsert', resource: patient('p1') }]);
    expect(result.written).toHaveLength(1);
  });
});
