import type { Patient } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../src/sim/seeded-random.js';
import type { Store } from '../../src/store/database.js';
import { writeChanges, type ResourceChange } from '../../src/store/resource-writes.js';
import { storedSourceHashes } from '../../src/store/stored-source-hashes.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'a';
const SEEDS = [20261207, 31, 977];
const UPSTREAM = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];

/** Each mapping's hash beside what it must be: its resource's source hash while live, else null. */
async function mappingsAndResources(store: Store) {
  const rows = await store.db
    .selectFrom('upstream_ids as u')
    .leftJoin('resources as r', (join) =>
      join
        .onRef('r.tenant_id', '=', 'u.tenant_id')
        .onRef('r.resource_type', '=', 'u.resource_type')
        .onRef('r.id', '=', 'u.fhir_id'),
    )
    .select(['u.upstream_id', 'u.source_hash as mapped', 'r.source_hash as stored', 'r.deleted'])
    .where('u.tenant_id', '=', TENANT)
    .orderBy('u.upstream_id')
    .execute();
  return {
    mapped: rows.map((r) => `${r.upstream_id}=${r.mapped ?? 'null'}`),
    expected: rows.map((r) => `${r.upstream_id}=${r.deleted === 0 ? (r.stored ?? 'null') : 'null'}`),
  };
}

describe.each(testStoreFactories)('mapped source hashes ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it.each(SEEDS)('follow the live resource through random commits (seed %i)', async (seed) => {
    const { store } = testStore();
    const rng = createSeededRandom(seed);
    const ids = await fhirIdsFor(store, TENANT, 'Patient', UPSTREAM);
    const patient = (upstreamId: string): Patient & { id: string } => ({
      resourceType: 'Patient',
      id: ids.get(upstreamId) as string,
      name: [{ family: rng.pick(['Smith', 'Ortiz']) }],
    });
    for (let commit = 0; commit < 40; commit++) {
      const changes: ResourceChange[] = Array.from({ length: rng.int(1, 4) }, () => {
        const upstreamId = rng.pick(UPSTREAM);
        const roll = rng.next();
        // A synced version (with its source hash, sometimes the same content under a new one), a local write (no
        // source hash), or a delete.
        if (roll < 0.6)
          return { op: 'upsert', resource: patient(upstreamId), sourceHash: `h${rng.int(1, 3)}` };
        if (roll < 0.8) return { op: 'upsert', resource: patient(upstreamId) };
        return { op: 'delete', resourceType: 'Patient', id: ids.get(upstreamId) as string };
      });
      await writeChanges(store, TENANT, changes);
      const { mapped, expected } = await mappingsAndResources(store);
      expect(mapped).toEqual(expected);
      // The skip lookup answers exactly the live resources written with a source hash.
      const found = await storedSourceHashes(store, TENANT, 'Patient', UPSTREAM);
      expect([...found].map(([u, s]) => `${u}=${s.sourceHash}`).sort()).toEqual(
        expected.filter((line) => !line.endsWith('=null')),
      );
    }
  });
});
