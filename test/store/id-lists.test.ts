import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { VALUES_PER_IN_LIST, anyOf, selectInChunks } from '../../src/store/batching.js';
import { currentHashes, currentVersions, readResources } from '../../src/store/resource-store.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { idsInScope } from '../../src/store/scope-ids.js';
import { storedSourceHashes } from '../../src/store/stored-source-hashes.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

function patient(id: string): Patient & { id: string } {
  return { resourceType: 'Patient', id, name: [{ family: `F${id}` }] };
}

/** More distinct ids than one in-list takes (two slices on SQLite), the stored ones among them listed twice. */
function idsAround(stored: readonly string[]): string[] {
  const absent = Array.from({ length: VALUES_PER_IN_LIST + 50 }, (_, i) => `absent-${i}`);
  return [...stored, ...absent, ...stored];
}

describe.each(testStoreFactories)('lookups by id lists ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it('binds the ids as one array parameter on PostgreSQL, one statement for any length; an in-list on SQLite', () => {
    const { store } = testStore();
    const compiled = (length: number) => {
      const ids = Array.from({ length }, (_, i) => `id-${i}`);
      return store.db
        .selectFrom('resources')
        .select('id')
        .where('id', 'in', anyOf(store.capabilities, ids))
        .compile();
    };
    const [short, long] = [compiled(3), compiled(1000)];
    if (store.dialect === 'postgres') {
      expect([short.parameters.length, long.parameters.length]).toEqual([1, 1]);
      expect(long.sql).toBe(short.sql);
    } else {
      expect([short.parameters.length, long.parameters.length]).toEqual([3, 1000]);
    }
  });

  it('finds exactly the stored ids among more than one in-list of ids, duplicates and absent ones', async () => {
    const { store } = testStore();
    const stored = ['p1', 'p2', 'p3'];
    await writeChanges(
      store,
      'a',
      stored.map((id) => ({ op: 'upsert' as const, resource: patient(id), sourceHash: `src-${id}` })),
    );
    await writeChanges(store, 'b', [{ op: 'upsert', resource: patient('p4') }]);
    const ids = [...idsAround(stored), 'p4'];

    const rows = await selectInChunks(ids, (part) =>
      store.db
        .selectFrom('resources')
        .select('id')
        .where('tenant_id', '=', 'a')
        .where('id', 'in', anyOf(store.capabilities, part))
        .execute(),
    );
    expect(rows.map((r) => r.id).sort()).toEqual(stored);
    expect([...(await currentHashes(store, 'a', 'Patient', { ids })).keys()].sort()).toEqual(stored);
    expect([...(await readResources(store, 'a', 'Patient', ids)).keys()].sort()).toEqual(stored);
    expect([...(await currentVersions(store, 'a', 'Patient', ids)).keys()].sort()).toEqual(stored);
    expect((await idsInScope(store, 'a', 'Patient', { ids })).sort()).toEqual(stored);
  });

  it('answers the skip lookup for more upstream ids than one in-list, duplicates and unmapped ones', async () => {
    const { store } = testStore();
    // Upstream ids are the records system's own strings: what an array literal must quote comes through as it is.
    const upstream = ['101', 'a,b', 'q"uote', 'back\\slash', '{brace}', 'NULL', ' spaced '];
    const fhirIds = await fhirIdsFor(store, 'a', 'Patient', upstream);
    await writeChanges(
      store,
      'a',
      upstream.map((u) => ({
        op: 'upsert' as const,
        resource: patient(fhirIds.get(u) as string),
        sourceHash: `src-${u}`,
      })),
    );
    const found = await storedSourceHashes(store, 'a', 'Patient', idsAround(upstream));
    expect([...found.keys()].sort()).toEqual([...upstream].sort());
    for (const u of upstream)
      expect(found.get(u)).toEqual({ fhirId: fhirIds.get(u), sourceHash: `src-${u}` });
  });
});
