import type { Appointment, Patient } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createSeededRandom, type SeededRandom } from '../../src/sim/seeded-random.js';
import type { Store } from '../../src/store/database.js';
import { readResource } from '../../src/store/resource-store.js';
import { writeChanges, type ResourceChange } from '../../src/store/resource-writes.js';
import { searchIndexFor } from '../../src/store/search-parameters/index-rows.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 'a';
const SEEDS = [20261207, 7, 4242];

function appointment(id: string, rng: SeededRandom): Appointment & { id: string } {
  const day = rng.int(10, 20);
  return {
    resourceType: 'Appointment',
    id,
    status: rng.pick(['booked', 'arrived', 'fulfilled', 'cancelled'] as const),
    start: `2026-12-${day}T14:00:00Z`,
    end: `2026-12-${day}T14:30:00Z`,
    serviceType: [{ coding: [{ system: 'urn:x', code: rng.pick(['new', 'follow-up']) }] }],
    participant: [
      { actor: { reference: `Patient/p${rng.int(1, 3)}` }, status: 'accepted' },
      { actor: { reference: `Practitioner/pr${rng.int(1, 2)}` }, status: 'accepted' },
      { actor: { reference: 'Location/l1' }, status: 'accepted' },
    ],
  };
}

function patient(id: string, rng: SeededRandom): Patient & { id: string } {
  return {
    resourceType: 'Patient',
    id,
    name: [{ family: rng.pick(['Smith', 'Núñez', 'Ortiz']), given: [rng.pick(['Ana', 'José'])] }],
    birthDate: rng.pick(['1980-02-03', '1954-10-28']),
  };
}

/** The stored tokens of every resource of the tenant, as sorted `Type/id param=value` lines. */
async function storedTokens(store: Store): Promise<string[]> {
  const rows = await store.db
    .selectFrom('search_tokens')
    .select(['resource_type', 'resource_id', 'param', 'value'])
    .where('tenant_id', '=', TENANT)
    .execute();
  return rows.map((r) => `${r.resource_type}/${r.resource_id} ${r.param}=${r.value}`).sort();
}

/** What the tokens must be: those of each current, live version, as the index builds them. */
async function expectedTokens(store: Store, ids: ReadonlyArray<['Patient' | 'Appointment', string]>) {
  const lines: string[] = [];
  for (const [type, id] of ids) {
    const current = await readResource(store, TENANT, type, id);
    if (!current || current.deleted) continue;
    for (const t of searchIndexFor(current.resource).tokens)
      lines.push(`${type}/${id} ${t.param}=${t.value}`);
  }
  return [...new Set(lines)].sort();
}

describe.each(testStoreFactories)('search tokens follow the current version ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it.each(SEEDS)('hold exactly the current versions’ tokens after random commits (seed %i)', async (seed) => {
    const { store } = testStore();
    const rng = createSeededRandom(seed);
    const ids: Array<['Patient' | 'Appointment', string]> = [
      ...Array.from({ length: 6 }, (_, i) => ['Patient', `p${i + 1}`] as ['Patient', string]),
      ...Array.from({ length: 12 }, (_, i) => ['Appointment', `a${i + 1}`] as ['Appointment', string]),
    ];
    for (let commit = 0; commit < 40; commit++) {
      // Several changes per commit, sometimes two to one resource (the last one wins), deletes and re-creations.
      const changes: ResourceChange[] = Array.from({ length: rng.int(1, 6) }, () => {
        const [type, id] = rng.pick(ids);
        if (rng.chance(0.2)) return { op: 'delete', resourceType: type, id };
        return { op: 'upsert', resource: type === 'Patient' ? patient(id, rng) : appointment(id, rng) };
      });
      await writeChanges(store, TENANT, changes);
      expect(await storedTokens(store)).toEqual(await expectedTokens(store, ids));
    }
  });

  it('leaves the token rows of a new version that indexes as the one before alone', async () => {
    const { store } = testStore();
    const rng = createSeededRandom(1);
    const booked = { ...appointment('a1', rng), status: 'booked' as const };
    // a2's rows come after a1's: a1's rows written anew would not land where they were (SQLite reuses the highest
    // rowids after a delete).
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: booked }]);
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: appointment('a2', rng) }]);
    const rowsBefore = await tokenRowIdentities(store, factory.name);
    expect(rowsBefore.length).toBeGreaterThan(0);

    // Status and time are columns of `resources`, not tokens: the tokens stay as they were.
    await writeChanges(store, TENANT, [
      { op: 'upsert', resource: { ...booked, status: 'arrived', start: '2026-12-21T15:00:00Z' } },
    ]);
    expect((await readResource(store, TENANT, 'Appointment', 'a1'))?.versionId).toBe(2);
    expect(await tokenRowIdentities(store, factory.name)).toEqual(rowsBefore);

    // A new practitioner is a new token: that resource's tokens are written anew.
    const moved = {
      ...booked,
      participant: booked.participant.map((p) =>
        p.actor?.reference?.startsWith('Practitioner/')
          ? { ...p, actor: { reference: 'Practitioner/pr9' } }
          : p,
      ),
    };
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: moved }]);
    expect(await tokenRowIdentities(store, factory.name)).not.toEqual(rowsBefore);
    expect(await storedTokens(store)).toContain('Appointment/a1 practitioner=Practitioner/pr9');
  });
});

/** Where each token row of a1 physically is (SQLite's rowid, PostgreSQL's ctid): a rewritten row moves. */
async function tokenRowIdentities(store: Store, dialect: 'sqlite' | 'postgres'): Promise<string[]> {
  const identity = dialect === 'sqlite' ? sql<string>`cast(rowid as text)` : sql<string>`ctid::text`;
  const rows = await store.db
    .selectFrom('search_tokens')
    .select([identity.as('at'), 'param', 'value'])
    .where('tenant_id', '=', TENANT)
    .where('resource_id', '=', 'a1')
    .execute();
  return rows.map((r) => `${r.at} ${r.param}=${r.value}`).sort();
}
