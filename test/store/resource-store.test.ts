import type { Appointment, Patient, Slot } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { lastJournalSeq, readJournal } from '../../src/store/change-journal.js';
import { contentHash } from '../../src/store/content-hash.js';
import {
  currentHashes,
  currentVersions,
  readResource,
  readResources,
  readVersion,
  resourceHistory,
} from '../../src/store/resource-store.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const T1 = new Date('2026-11-24T19:00:00.000Z');
const T2 = new Date('2026-11-24T19:05:00.000Z');
const T3 = new Date('2026-11-24T19:10:00.000Z');

function patient(id: string, family: string, given = 'Ana'): Patient & { id: string } {
  return { resourceType: 'Patient', id, name: [{ family, given: [given] }], birthDate: '1980-02-03' };
}

function appointment(
  id: string,
  start: string,
  end: string,
  practitioner = 'pr1',
): Appointment & { id: string } {
  return {
    resourceType: 'Appointment',
    id,
    status: 'booked',
    start,
    end,
    participant: [
      { actor: { reference: 'Patient/p1' }, status: 'accepted' },
      { actor: { reference: `Practitioner/${practitioner}` }, status: 'accepted' },
      { actor: { reference: 'Location/l1' }, status: 'accepted' },
    ],
  };
}

describe.each(testStoreFactories)('resource store ($name)', (factory) => {
  const testStore = useTestStore(factory, { clock: () => T1 });

  it('writes version 1 with meta.versionId and meta.lastUpdated, readable by read, vread and history', async () => {
    const { store } = testStore();
    const result = await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    expect(result.written).toEqual([
      { resourceType: 'Patient', id: 'p1', versionId: 1, op: 'upsert', lastUpdated: T1.toISOString() },
    ]);
    expect(result.journal).toEqual([]);

    const current = await readResource(store, 'a', 'Patient', 'p1');
    expect(current).toEqual({
      resourceType: 'Patient',
      id: 'p1',
      versionId: 1,
      lastUpdated: '2026-11-24T19:00:00.000Z',
      deleted: false,
      resource: {
        ...patient('p1', 'Smith'),
        meta: { versionId: '1', lastUpdated: '2026-11-24T19:00:00.000Z' },
      },
    });
    expect(await readVersion(store, 'a', 'Patient', 'p1', 1)).toEqual(current);
    expect(await resourceHistory(store, 'a', 'Patient', 'p1')).toEqual([current]);
    expect(await readResource(store, 'a', 'Patient', 'nope')).toBeUndefined();
    expect(await readVersion(store, 'a', 'Patient', 'p1', 2)).toBeUndefined();
  });

  it('writes a new version when content changes and keeps the old one for vread and history', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }], [], { now: T1 });
    const second = await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smyth') }], [], {
      now: T2,
    });
    expect(second.written.map((w) => w.versionId)).toEqual([2]);

    const current = await readResource(store, 'a', 'Patient', 'p1');
    expect(current?.versionId).toBe(2);
    expect(current?.resource.name?.[0]?.family).toBe('Smyth');
    expect(current?.resource.meta).toEqual({ versionId: '2', lastUpdated: T2.toISOString() });

    const first = await readVersion(store, 'a', 'Patient', 'p1', 1);
    expect(first?.resource.name?.[0]?.family).toBe('Smith');
    expect(first?.lastUpdated).toBe(T1.toISOString());
    expect((await resourceHistory(store, 'a', 'Patient', 'p1')).map((v) => v.versionId)).toEqual([2, 1]);
    expect(
      (await resourceHistory(store, 'a', 'Patient', 'p1', { limit: 1 })).map((v) => v.versionId),
    ).toEqual([2]);
  });

  it('writes nothing, not even a journal row, for an upsert whose content is unchanged', async () => {
    const { store } = testStore();
    const event = { eventType: 'patient.changed', resourceType: 'Patient', resourceId: 'p1' };
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }], [event], {
      now: T1,
    });
    const seqBefore = await lastJournalSeq(store, 'a');

    // Same content, different meta and key order: still unchanged.
    const again: Patient & { id: string } = {
      birthDate: '1980-02-03',
      name: [{ given: ['Ana'], family: 'Smith' }],
      id: 'p1',
      resourceType: 'Patient',
      meta: { versionId: '99', lastUpdated: '2020-01-01T00:00:00Z' },
    };
    const result = await writeChanges(store, 'a', [{ op: 'upsert', resource: again }], [event], { now: T2 });

    expect(result).toEqual({ written: [], journal: [] });
    expect(await lastJournalSeq(store, 'a')).toBe(seqBefore);
    const current = await readResource(store, 'a', 'Patient', 'p1');
    expect(current?.versionId).toBe(1);
    expect(current?.lastUpdated).toBe(T1.toISOString());
    expect(await resourceHistory(store, 'a', 'Patient', 'p1')).toHaveLength(1);
  });

  it('marks a deleted resource deleted with a new version, keeping its row and history', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }], [], { now: T1 });
    const result = await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p1' }], [], {
      now: T2,
    });
    expect(result.written).toEqual([
      { resourceType: 'Patient', id: 'p1', versionId: 2, op: 'delete', lastUpdated: T2.toISOString() },
    ]);

    const current = await readResource(store, 'a', 'Patient', 'p1');
    expect(current?.deleted).toBe(true);
    expect(current?.versionId).toBe(2);
    const history = await resourceHistory(store, 'a', 'Patient', 'p1');
    expect(history.map((v) => [v.versionId, v.deleted])).toEqual([
      [2, true],
      [1, false],
    ]);
    expect((await currentHashes(store, 'a', 'Patient')).get('p1')).toMatchObject({
      versionId: 2,
      deleted: true,
    });
  });

  it('writes nothing when deleting a resource that is missing or already deleted', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p1' }]);
    const result = await writeChanges(
      store,
      'a',
      [
        { op: 'delete', resourceType: 'Patient', id: 'p1' },
        { op: 'delete', resourceType: 'Patient', id: 'never-there' },
      ],
      [{ eventType: 'patient.deleted', resourceType: 'Patient', resourceId: 'p1' }],
    );
    expect(result).toEqual({ written: [], journal: [] });
    expect(await resourceHistory(store, 'a', 'Patient', 'p1')).toHaveLength(2);
    expect(await readResource(store, 'a', 'Patient', 'never-there')).toBeUndefined();
  });

  it('revives a deleted resource with a new version even when its content is unchanged', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p1' }]);
    const result = await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    expect(result.written.map((w) => [w.op, w.versionId])).toEqual([['upsert', 3]]);
    expect((await readResource(store, 'a', 'Patient', 'p1'))?.deleted).toBe(false);
  });

  it('applies several changes to one resource in order within one commit', async () => {
    const { store } = testStore();
    const result = await writeChanges(store, 'a', [
      { op: 'upsert', resource: patient('p1', 'Smith') },
      { op: 'upsert', resource: patient('p1', 'Smith') },
      { op: 'upsert', resource: patient('p1', 'Smyth') },
      { op: 'delete', resourceType: 'Patient', id: 'p1' },
    ]);
    expect(result.written.map((w) => [w.op, w.versionId])).toEqual([
      ['upsert', 1],
      ['upsert', 2],
      ['delete', 3],
    ]);
    const history = await resourceHistory(store, 'a', 'Patient', 'p1');
    expect(history.map((v) => [v.versionId, v.deleted, v.resource.name?.[0]?.family])).toEqual([
      [3, true, 'Smyth'],
      [2, false, 'Smyth'],
      [1, false, 'Smith'],
    ]);
  });

  it('gives events the version this commit wrote and drops events about resources it left unchanged', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p2', 'Jones') }]);
    const result = await writeChanges(
      store,
      'a',
      [
        { op: 'upsert', resource: patient('p1', 'Smith') },
        { op: 'upsert', resource: patient('p2', 'Jones') },
      ],
      [
        {
          eventType: 'patient.created',
          resourceType: 'Patient',
          resourceId: 'p1',
          payload: { review: true },
        },
        { eventType: 'patient.changed', resourceType: 'Patient', resourceId: 'p2' },
        { eventType: 'sync.health-changed', payload: { health: 'fresh' } },
        { eventType: 'slot.freed', resourceType: 'Slot', resourceId: 's1' },
      ],
      { now: T3 },
    );
    expect(result.journal).toEqual([
      {
        tenantId: 'a',
        seq: 1,
        eventType: 'patient.created',
        resourceType: 'Patient',
        resourceId: 'p1',
        versionId: 1,
        occurredAt: T3.toISOString(),
        payload: { review: true },
      },
      {
        tenantId: 'a',
        seq: 2,
        eventType: 'sync.health-changed',
        resourceType: null,
        resourceId: null,
        versionId: null,
        occurredAt: T3.toISOString(),
        payload: { health: 'fresh' },
      },
      {
        tenantId: 'a',
        seq: 3,
        eventType: 'slot.freed',
        resourceType: 'Slot',
        resourceId: 's1',
        versionId: null,
        occurredAt: T3.toISOString(),
        payload: null,
      },
    ]);
    expect(await readJournal(store, 'a')).toEqual(result.journal);
  });

  it('rolls the whole commit back when any part of it fails', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [], [{ eventType: 'first' }]);
    await expect(
      writeChanges(
        store,
        'a',
        [{ op: 'upsert', resource: patient('p1', 'Smith') }],
        // BigInt cannot be serialised: the journal append fails after the resource rows were written.
        [{ eventType: 'broken', payload: { n: 1n } }],
      ),
    ).rejects.toThrow(/BigInt/);
    expect(await readResource(store, 'a', 'Patient', 'p1')).toBeUndefined();
    expect(await resourceHistory(store, 'a', 'Patient', 'p1')).toEqual([]);
    expect(await lastJournalSeq(store, 'a')).toBe(1);
    const next = await writeChanges(store, 'a', [], [{ eventType: 'second' }]);
    expect(next.journal.map((e) => e.seq)).toEqual([2]);
  });

  it('refuses to store a resource without a valid id', async () => {
    const { store } = testStore();
    const noId = { resourceType: 'Patient' } as Patient & { id: string };
    await expect(writeChanges(store, 'a', [{ op: 'upsert', resource: noId }])).rejects.toThrow(TypeError);
    const badId = { resourceType: 'Patient', id: 'has space' } as Patient & { id: string };
    await expect(writeChanges(store, 'a', [{ op: 'upsert', resource: badId }])).rejects.toThrow(TypeError);
  });

  it('keeps the source hash a version came from, and records a new one for unchanged content without a version', async () => {
    const { store } = testStore();
    const a1 = appointment('a1', '2026-11-24T14:00:00Z', '2026-11-24T14:15:00Z');
    await writeChanges(store, 'a', [{ op: 'upsert', resource: a1, sourceHash: 'src-1' }]);
    expect((await currentHashes(store, 'a', 'Appointment')).get('a1')?.sourceHash).toBe('src-1');
    const again = await writeChanges(store, 'a', [{ op: 'upsert', resource: a1, sourceHash: 'src-2' }]);
    expect(again.written).toEqual([]);
    const current = (await currentHashes(store, 'a', 'Appointment')).get('a1');
    expect([current?.versionId, current?.sourceHash]).toEqual([1, 'src-2']);

    // In one commit, the same content under a new source hash and then new content under another: the new version
    // keeps the hash it came from (the hash-only update ran after the version and left it 'src-3').
    const moved = { ...a1, start: '2026-11-24T15:00:00Z', end: '2026-11-24T15:15:00Z' };
    await writeChanges(store, 'a', [
      { op: 'upsert', resource: a1, sourceHash: 'src-3' },
      { op: 'upsert', resource: moved, sourceHash: 'src-4' },
    ]);
    const last = (await currentHashes(store, 'a', 'Appointment')).get('a1');
    expect([last?.versionId, last?.sourceHash]).toEqual([2, 'src-4']);
  });

  it('reads several current versions at once as readResource reads each: deleted ones included, unknown ids and other tenants absent', async () => {
    const { store } = testStore();
    await writeChanges(store, 'a', [
      { op: 'upsert', resource: patient('p1', 'Smith') },
      { op: 'upsert', resource: patient('p2', 'Jones') },
    ]);
    await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p2' }]);
    await writeChanges(store, 'b', [{ op: 'upsert', resource: patient('p3', 'Other') }]);
    const found = await readResources(store, 'a', 'Patient', ['p1', 'p2', 'p3', 'p1', 'nope']);
    expect([...found.keys()].sort()).toEqual(['p1', 'p2']);
    expect(found.get('p1')).toEqual(await readResource(store, 'a', 'Patient', 'p1'));
    expect(found.get('p2')).toEqual(await readResource(store, 'a', 'Patient', 'p2'));
    expect(found.get('p2')?.deleted).toBe(true);
    expect((await readResources(store, 'a', 'Patient', [])).size).toBe(0);
  });

  it('answers currentHashes by ids (deleted included) and by period (live rows starting in [from, to))', async () => {
    const { store } = testStore();
    const a1 = appointment('a1', '2026-11-24T09:00:00-05:00', '2026-11-24T09:30:00-05:00'); // 14:00Z
    const a2 = appointment('a2', '2026-11-25T09:00:00-05:00', '2026-11-25T09:30:00-05:00'); // 25th 14:00Z
    const a3 = appointment('a3', '2026-11-24T23:30:00-05:00', '2026-11-25T00:00:00-05:00'); // 25th 04:30Z
    const a4 = appointment('a4', '2026-11-24T10:00:00-05:00', '2026-11-24T10:30:00-05:00');
    await writeChanges(
      store,
      'a',
      [a1, a2, a3, a4].map((resource) => ({ op: 'upsert' as const, resource })),
    );
    await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Appointment', id: 'a4' }]);

    const all = await currentHashes(store, 'a', 'Appointment');
    expect([...all.keys()].sort()).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(all.get('a1')).toEqual({ hash: contentHash(a1), versionId: 1, deleted: false, sourceHash: null });

    const byIds = await currentHashes(store, 'a', 'Appointment', { ids: ['a1', 'a4', 'zz'] });
    expect([...byIds.keys()].sort()).toEqual(['a1', 'a4']);
    expect(byIds.get('a4')?.deleted).toBe(true);

    const window = await currentHashes(store, 'a', 'Appointment', {
      periodFrom: '2026-11-24T00:00:00.000Z',
      periodTo: '2026-11-25T04:30:00.000Z',
    });
    expect([...window.keys()].sort()).toEqual(['a1']);
    const wider = await currentHashes(store, 'a', 'Appointment', {
      periodFrom: '2026-11-24T14:00:00.000Z',
      periodTo: '2026-11-26T00:00:00.000Z',
    });
    expect([...wider.keys()].sort()).toEqual(['a1', 'a2', 'a3']);
    expect(await currentHashes(store, 'a', 'Appointment', { ids: [] })).toEqual(new Map());

    // currentVersions: the same of exactly these ids, with each row's content (a deleted row's last content).
    const versions = await currentVersions(store, 'a', 'Appointment', ['a1', 'a4', 'zz']);
    expect([...versions.keys()].sort()).toEqual(['a1', 'a4']);
    expect(versions.get('a1')).toMatchObject(byIds.get('a1') ?? {});
    expect(versions.get('a1')?.content()).toMatchObject({ ...a1, meta: { versionId: '1' } });
    expect(versions.get('a4')).toMatchObject({ deleted: true, versionId: 2 });
    expect(versions.get('a4')?.content()).toMatchObject({ id: 'a4', start: a4.start });
    expect(await currentVersions(store, 'a', 'Appointment', [])).toEqual(new Map());
  });

  it('fills the search columns with UTC periods, status and referenced ids', async () => {
    const { store } = testStore();
    const slot: Slot & { id: string } = {
      resourceType: 'Slot',
      id: 's1',
      schedule: { reference: 'Schedule/sch1' },
      status: 'free',
      start: '2026-11-24T09:00:00-05:00',
      end: '2026-11-24T09:15:00-05:00',
    };
    await writeChanges(store, 'a', [
      { op: 'upsert', resource: appointment('a1', '2026-11-24T09:00:00-05:00', '2026-11-24T09:30:00-05:00') },
      { op: 'upsert', resource: slot },
    ]);
    const rows = await store.db
      .selectFrom('resources')
      .select([
        'id',
        'period_start',
        'period_end',
        'status',
        'ref_patient',
        'ref_practitioner',
        'ref_location',
        'ref_schedule',
      ])
      .where('tenant_id', '=', 'a')
      .orderBy('id')
      .execute();
    expect(rows).toEqual([
      {
        id: 'a1',
        period_start: '2026-11-24T14:00:00.000Z',
        period_end: '2026-11-24T14:30:00.000Z',
        status: 'booked',
        ref_patient: 'p1',
        ref_practitioner: 'pr1',
        ref_location: 'l1',
        ref_schedule: null,
      },
      {
        id: 's1',
        period_start: '2026-11-24T14:00:00.000Z',
        period_end: '2026-11-24T14:15:00.000Z',
        status: 'free',
        ref_patient: null,
        ref_practitioner: null,
        ref_location: null,
        ref_schedule: 'sch1',
      },
    ]);
  });

  it('stores folded search tokens and replaces them with every version', async () => {
    const { store } = testStore();
    const tokensOf = async (id: string): Promise<string[]> =>
      (
        await store.db
          .selectFrom('search_tokens')
          .select(['param', 'value'])
          .where('tenant_id', '=', 'a')
          .where('resource_type', '=', 'Patient')
          .where('resource_id', '=', id)
          .execute()
      ).map((t) => `${t.param}=${t.value}`);

    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Núñez', 'José') }]);
    expect(await tokensOf('p1')).toEqual(
      expect.arrayContaining(['name=nunez', 'name=jose', 'name=jose nunez', 'family=nunez', 'given=jose']),
    );

    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Ortiz', 'José') }]);
    const renamed = await tokensOf('p1');
    expect(renamed).toEqual(expect.arrayContaining(['family=ortiz', 'name=jose ortiz']));
    expect(renamed).not.toContain('family=nunez');

    await writeChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p1' }]);
    expect(await tokensOf('p1')).toEqual([]);
  });

  it('commits thousands of resources in one transaction', async () => {
    const { store } = testStore();
    const many = Array.from({ length: 2500 }, (_, i) => ({
      op: 'upsert' as const,
      resource: {
        ...patient(`p${i}`, `Family${i}`, `Given${i}`),
        telecom: [{ system: 'phone' as const, value: `+1 (555) 010-${String(i).padStart(4, '0')}` }],
      },
    }));
    const result = await writeChanges(store, 'a', many);
    expect(result.written).toHaveLength(2500);
    expect((await currentHashes(store, 'a', 'Patient')).size).toBe(2500);
    const tokens = await store.db
      .selectFrom('search_tokens')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', 'a')
      .executeTakeFirstOrThrow();
    expect(Number(tokens.n)).toBeGreaterThan(2500 * 5);
  });

  it('keeps tenants apart: the same id in two tenants are two resources', async () => {
    const { store } = testStore();
    await writeChanges(
      store,
      'a',
      [{ op: 'upsert', resource: patient('p1', 'Smith') }],
      [{ eventType: 'x' }],
    );
    await writeChanges(store, 'a', [{ op: 'upsert', resource: patient('p1', 'Smyth') }]);
    await writeChanges(store, 'b', [{ op: 'upsert', resource: patient('p1', 'Brown') }]);

    expect((await readResource(store, 'b', 'Patient', 'p1'))?.resource.name?.[0]?.family).toBe('Brown');
    expect((await readResource(store, 'b', 'Patient', 'p1'))?.versionId).toBe(1);
    expect((await readResource(store, 'a', 'Patient', 'p1'))?.versionId).toBe(2);
    expect(await resourceHistory(store, 'b', 'Patient', 'p1')).toHaveLength(1);
    expect(await readVersion(store, 'b', 'Patient', 'p1', 2)).toBeUndefined();
    expect([...(await currentHashes(store, 'c', 'Patient')).keys()]).toEqual([]);
    expect(await readJournal(store, 'b')).toEqual([]);
    await writeChanges(store, 'b', [{ op: 'delete', resourceType: 'Patient', id: 'p1' }]);
    expect((await readResource(store, 'a', 'Patient', 'p1'))?.deleted).toBe(false);
    const tokenTenants = await store.db.selectFrom('search_tokens').select('tenant_id').distinct().execute();
    expect(tokenTenants).toEqual([{ tenant_id: 'a' }]);
  });
});
