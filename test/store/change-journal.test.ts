import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  insertJournalEntries,
  lastJournalSeq,
  readJournal,
  type JournalRowInput,
} from '../../src/store/change-journal.js';
import type { JournalEntry } from '../../src/store/change-journal.js';
import type { Store } from '../../src/store/database.js';
import { currentHashes } from '../../src/store/resource-store.js';
import { writeChanges as commitChanges } from '../../src/store/resource-writes.js';

/** The journal rows alone, in a write transaction of their own (the store's part of recording events). */
function appendJournal(
  store: Store,
  tenantId: string,
  events: readonly JournalRowInput[],
  options: { now?: Date } = {},
): Promise<JournalEntry[]> {
  return store.write((trx) => insertJournalEntries(trx, tenantId, events, options.now ?? store.now()));
}
const appendJournalInTransaction = insertJournalEntries;
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

function patient(id: string): Patient & { id: string } {
  return { resourceType: 'Patient', id, name: [{ family: `Family-${id}` }] };
}

/** Commit `i` writes one patient and 1 to 3 events about it. */
function commitNumbered(store: Store, tenantId: string, i: number): Promise<{ journal: JournalEntry[] }> {
  const id = `p${i}`;
  const events = Array.from({ length: (i % 3) + 1 }, (_, k) => ({
    eventType: `patient.event-${k}`,
    resourceType: 'Patient',
    resourceId: id,
    payload: { commit: i, k },
  }));
  return commitChanges(store, tenantId, [{ op: 'upsert', resource: patient(id) }], events);
}

function expectGapFree(entries: readonly JournalEntry[], count: number): void {
  expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
}

describe.each(testStoreFactories)('change journal ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('numbers events 1, 2, 3… without gaps or duplicates under 20 concurrent commits', async () => {
    const { store } = testStore();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => commitNumbered(store, 'a', i)));
    const expectedCount = results.reduce((n, r) => n + r.journal.length, 0);
    expect(expectedCount).toBe(Array.from({ length: 20 }, (_, i) => (i % 3) + 1).reduce((a, b) => a + b, 0));

    const journal = await readJournal(store, 'a', { limit: 1000 });
    expectGapFree(journal, expectedCount);
    expect(await lastJournalSeq(store, 'a')).toBe(expectedCount);
    // One commit's events are consecutive and in the order given.
    for (const { journal: own } of results) {
      const seqs = own.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, k) => (seqs[0] ?? 0) + k));
      expect(own.map((e) => (e.payload as { k: number }).k)).toEqual(own.map((_, k) => k));
    }
  });

  it('numbers each tenant independently when their commits interleave', async () => {
    const { store } = testStore();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => commitNumbered(store, i % 2 === 0 ? 'even' : 'odd', i)),
    );
    const even = await readJournal(store, 'even', { limit: 1000 });
    const odd = await readJournal(store, 'odd', { limit: 1000 });
    expectGapFree(even, even.length);
    expectGapFree(odd, odd.length);
    expect(even.every((e) => e.tenantId === 'even' && Number(e.resourceId?.slice(1)) % 2 === 0)).toBe(true);
    expect(odd.every((e) => e.tenantId === 'odd' && Number(e.resourceId?.slice(1)) % 2 === 1)).toBe(true);
    expect(await lastJournalSeq(store, 'nobody')).toBe(0);
  });

  it('loses nothing and never reports busy when two stores write to one database concurrently', async () => {
    const handle = testStore();
    const other = await handle.openAnother();
    const stores = [handle.store, other];
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => commitNumbered(stores[i % 2] as Store, 'a', i)),
    );
    const expectedCount = results.reduce((n, r) => n + r.journal.length, 0);
    for (const store of stores) {
      expectGapFree(await readJournal(store, 'a', { limit: 1000 }), expectedCount);
      expect((await currentHashes(store, 'a', 'Patient')).size).toBe(40);
    }
  });

  it('gives sequence numbers back when the transaction that took them rolls back', async () => {
    const { store } = testStore();
    await appendJournal(store, 'a', [{ eventType: 'one' }]);
    await expect(
      store.write(async (trx) => {
        await appendJournalInTransaction(
          trx,
          'a',
          [{ eventType: 'lost' }, { eventType: 'lost' }],
          store.now(),
        );
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await appendJournal(store, 'a', [{ eventType: 'two' }]);
    const journal = await readJournal(store, 'a');
    expect(journal.map((e) => [e.seq, e.eventType])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
  });

  it('reads the journal in pages after a sequence number, payloads round-tripped', async () => {
    const { store } = testStore();
    const when = new Date('2026-11-24T19:00:00.000Z');
    await appendJournal(
      store,
      'a',
      Array.from({ length: 5 }, (_, i) => ({ eventType: 'tick', payload: { i, nested: { ok: true } } })),
      { now: when },
    );
    const page = await readJournal(store, 'a', { afterSeq: 2, limit: 2 });
    expect(page).toEqual([
      {
        tenantId: 'a',
        seq: 3,
        eventType: 'tick',
        resourceType: null,
        resourceId: null,
        versionId: null,
        occurredAt: '2026-11-24T19:00:00.000Z',
        payload: { i: 2, nested: { ok: true } },
      },
      expect.objectContaining({ seq: 4, payload: { i: 3, nested: { ok: true } } }),
    ]);
    expect(await readJournal(store, 'a', { afterSeq: 5 })).toEqual([]);
    expect(await readJournal(store, 'b')).toEqual([]);
  });
});
