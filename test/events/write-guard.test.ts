import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { commitChanges } from '../../src/events/change-writer.js';
import { lastJournalSeq, readJournal } from '../../src/store/change-journal.js';
import { readResource } from '../../src/store/resource-store.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const T1 = new Date('2026-11-24T19:00:00.000Z');
const T2 = new Date('2026-11-24T19:05:00.000Z');

const patient = (id: string, family: string): Patient & { id: string } => ({
  resourceType: 'Patient',
  id,
  name: [{ family, given: ['Ana'] }],
  birthDate: '1980-02-03',
});

describe.each(testStoreFactories)('the write guard of sync passes ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('skips, with its events, a change to a resource written since the guard’s sequence, and writes the rest', async () => {
    const { store } = testStore();
    await commitChanges(
      store,
      't1',
      [
        { op: 'upsert', resource: patient('p1', 'Old') },
        { op: 'upsert', resource: patient('p2', 'Old') },
      ],
      [{ eventType: 'patient.created', resourceType: 'Patient', resourceId: 'p1' }],
      { now: T1 },
    );
    const readBefore = await lastJournalSeq(store, 't1');
    // A local write after the reader noted the sequence.
    await commitChanges(
      store,
      't1',
      [{ op: 'upsert', resource: patient('p1', 'Local') }],
      [{ eventType: 'patient.changed', resourceType: 'Patient', resourceId: 'p1' }],
      { now: T2 },
    );
    const result = await commitChanges(
      store,
      't1',
      [
        { op: 'upsert', resource: patient('p1', 'Stale') },
        { op: 'upsert', resource: patient('p2', 'Upstream') },
      ],
      [
        { eventType: 'patient.changed', resourceType: 'Patient', resourceId: 'p1' },
        { eventType: 'patient.changed', resourceType: 'Patient', resourceId: 'p2' },
      ],
      { now: T2, guard: { unchangedSinceSeq: readBefore } },
    );
    expect(result.skipped).toEqual([{ resourceType: 'Patient', id: 'p1' }]);
    expect(result.written.map((w) => w.id)).toEqual(['p2']);
    expect((await readResource(store, 't1', 'Patient', 'p1'))?.resource.name?.[0]?.family).toBe('Local');
    expect((await readResource(store, 't1', 'Patient', 'p2'))?.resource.name?.[0]?.family).toBe('Upstream');
    const journal = await readJournal(store, 't1', { limit: 100 });
    expect(journal.map((e) => [e.eventType, e.resourceId])).toEqual([
      ['patient.created', 'p1'],
      ['patient.changed', 'p1'],
      ['patient.changed', 'p2'],
    ]);
  });
});
