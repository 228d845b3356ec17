import { describe, expect, it } from 'vitest';
import {
  getSyncState,
  listSyncStates,
  upsertSyncState,
  upsertSyncStateInTransaction,
} from '../../src/store/sync-state-store.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const T1 = new Date('2026-11-24T19:00:00.000Z');
const T2 = new Date('2026-11-24T19:00:02.000Z');

describe.each(testStoreFactories)('sync state ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('has no state for a stream before its first write, then round-trips every field', async () => {
    const { store } = testStore();
    expect(await getSyncState(store, 'a', 'appointments-hot')).toBeUndefined();
    const written = await upsertSyncState(
      store,
      'a',
      'appointments-hot',
      {
        cursor: '2026-11-24T13:59',
        lastAttemptAt: T1.toISOString(),
        lastSuccessAt: T1.toISOString(),
        lastError: null,
        consecutiveFailures: 0,
        health: 'fresh',
      },
      { now: T1 },
    );
    const expected = {
      tenantId: 'a',
      stream: 'appointments-hot',
      cursor: '2026-11-24T13:59',
      lastAttemptAt: T1.toISOString(),
      lastSuccessAt: T1.toISOString(),
      lastError: null,
      consecutiveFailures: 0,
      health: 'fresh',
      updatedAt: T1.toISOString(),
    };
    expect(written).toEqual(expected);
    expect(await getSyncState(store, 'a', 'appointments-hot')).toEqual(expected);
  });

  it('starts a new stream lagging with no cursor and changes only the fields a patch names', async () => {
    const { store } = testStore();
    const created = await upsertSyncState(
      store,
      'a',
      'patients',
      { lastAttemptAt: T1.toISOString() },
      { now: T1 },
    );
    expect(created).toMatchObject({
      cursor: null,
      consecutiveFailures: 0,
      health: 'lagging',
      lastSuccessAt: null,
    });

    await upsertSyncState(store, 'a', 'patients', { cursor: 'c1', health: 'fresh' }, { now: T1 });
    const failed = await upsertSyncState(
      store,
      'a',
      'patients',
      { lastError: 'upstream answered 503', consecutiveFailures: 3, health: 'failing' },
      { now: T2 },
    );
    expect(failed).toMatchObject({
      cursor: 'c1',
      lastAttemptAt: T1.toISOString(),
      lastError: 'upstream answered 503',
      consecutiveFailures: 3,
      health: 'failing',
      updatedAt: T2.toISOString(),
    });
    const cleared = await upsertSyncState(store, 'a', 'patients', { lastError: null }, { now: T2 });
    expect(cleared.lastError).toBeNull();
    expect(cleared.cursor).toBe('c1');
  });

  it('lists the streams of one tenant only, by name', async () => {
    const { store } = testStore();
    await upsertSyncState(store, 'a', 'reference', {});
    await upsertSyncState(store, 'a', 'appointments-hot', {});
    await upsertSyncState(store, 'b', 'patients', { cursor: 'b-only' });
    expect((await listSyncStates(store, 'a')).map((s) => s.stream)).toEqual([
      'appointments-hot',
      'reference',
    ]);
    expect((await listSyncStates(store, 'b')).map((s) => [s.stream, s.cursor])).toEqual([
      ['patients', 'b-only'],
    ]);
    expect(await getSyncState(store, 'a', 'patients')).toBeUndefined();
  });

  it('rolls a cursor back with the transaction it was written in', async () => {
    const { store } = testStore();
    await upsertSyncState(store, 'a', 'patients', { cursor: 'old' });
    await expect(
      store.write(async (trx) => {
        await upsertSyncStateInTransaction(trx, 'a', 'patients', { cursor: 'new' }, T2);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect((await getSyncState(store, 'a', 'patients'))?.cursor).toBe('old');
  });
});
