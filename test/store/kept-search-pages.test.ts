/**
 * Search pages are kept reads (`searchPageRows`, issue 16): a repeated search is answered from memory while neither
 * `resources` nor `search_tokens` has been written, and sees at once this store's own writes and, once announced
 * (PostgreSQL: migration 0025's trigger on `search_tokens`; SQLite: `PRAGMA data_version`), other processes' writes
 * of either table.
 */
import type { Patient } from '@medplum/fhirtypes';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../../src/store/database.js';
import { writeChanges } from '../../src/store/resource-writes.js';
import { searchPageRows } from '../../src/store/search-query.js';
import { testStoreFactories, useTestStore } from '../support/test-stores.js';

const TENANT = 't1';

function patient(id: string, family: string): Patient & { id: string } {
  return { resourceType: 'Patient', id, name: [{ family, given: ['Ana'] }], birthDate: '1980-02-03' };
}

/** Ids of the tenant's Patients with a `family` token `value`, one page. */
async function withFamily(store: Store, value: string): Promise<string[]> {
  return (await pageResources(store, value)).map((resource) => (resource as Patient).id ?? '');
}

/** The resources of the page {@link withFamily} reads. */
async function pageResources(store: Store, value: string): Promise<unknown[]> {
  const rows = await searchPageRows(store, {
    tenantId: TENANT,
    resourceType: 'Patient',
    condition: {
      op: 'token',
      param: 'family',
      where: { op: 'compare', field: 'value', comparison: '=', value },
    },
    sort: [],
    idDescending: false,
    position: undefined,
    limit: 20,
  });
  return rows.map((row) => row.resource);
}

/** The `family` token value the store derived for p1 (normalisation is the store's business, not this test's). */
async function familyToken(store: Store): Promise<string> {
  const row = await store.db
    .selectFrom('search_tokens')
    .select('value')
    .where('resource_id', '=', 'p1')
    .where('param', '=', 'family')
    .executeTakeFirstOrThrow();
  return row.value;
}

const clients: pg.Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.end()));
});

describe.each(testStoreFactories)('kept search pages ($name)', (factory) => {
  const testStore = useTestStore(factory);

  it("sees this store's own writes at once", async () => {
    const { store } = testStore();
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    const smith = await familyToken(store);
    expect(await withFamily(store, smith)).toEqual(['p1']);
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: patient('p2', 'Smith') }]);
    expect(await withFamily(store, smith)).toEqual(['p1', 'p2']);
    await writeChanges(store, TENANT, [{ op: 'delete', resourceType: 'Patient', id: 'p1' }]);
    expect(await withFamily(store, smith)).toEqual(['p2']);
  });

  it("hands out a kept page's resources parsed once, frozen, and new ones after a write", async () => {
    const { store } = testStore();
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    const smith = await familyToken(store);
    // Kept (PostgreSQL once its listening connection is up): the very same objects, not a parse of the same text.
    let first: unknown[] = [];
    await vi.waitFor(async () => {
      first = await pageResources(store, smith);
      expect((await pageResources(store, smith))[0]).toBe(first[0]);
    });
    expect(first).toEqual([patient('p1', 'Smith')].map((p) => expect.objectContaining(p)));
    expect(Object.isFrozen(first[0])).toBe(true);
    expect(Object.isFrozen((first[0] as Patient).name?.[0])).toBe(true);
    await writeChanges(store, TENANT, [
      { op: 'upsert', resource: { ...patient('p1', 'Smith'), birthDate: '1980-02-04' } },
    ]);
    const after = await pageResources(store, smith);
    expect(after[0]).not.toBe(first[0]);
    expect(after).toEqual([expect.objectContaining({ id: 'p1', birthDate: '1980-02-04' })]);
  });

  it("sees another process's write of search tokens alone", async () => {
    const handle = testStore();
    const { store } = handle;
    await writeChanges(store, TENANT, [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
    const smith = await familyToken(store);
    // Long enough for PostgreSQL's listening connection to be up, so the page below is really kept.
    await vi.waitFor(async () => expect(await withFamily(store, smith)).toEqual(['p1']));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await withFamily(store, smith)).toEqual(['p1']);

    // A reindex by another process touches only search_tokens.
    const other = await handle.openAnother();
    try {
      await other.db
        .deleteFrom('search_tokens')
        .where('resource_id', '=', 'p1')
        .where('param', '=', 'family')
        .execute();
    } finally {
      await other.close();
    }
    await vi.waitFor(async () => expect(await withFamily(store, smith)).toEqual([]), { timeout: 5_000 });
  });

  it.runIf(factory.name === 'postgres')(
    'answers a repeated search from memory while neither table is written',
    async () => {
      const handle = testStore();
      const { store } = handle;
      await writeChanges(store, TENANT, [{ op: 'upsert', resource: patient('p1', 'Smith') }]);
      const smith = await familyToken(store);
      const client = new pg.Client({ connectionString: handle.url });
      clients.push(client);
      await client.connect();
      await client.query(`set search_path to "${handle.schema}"`);
      /** Deletes p1's family tokens without firing triggers: only a read that went to the table sees it. */
      const unannounced = async () => {
        await client.query('begin');
        await client.query('set local session_replication_role = replica');
        await client.query(`delete from search_tokens where resource_id = 'p1' and param = 'family'`);
        await client.query('commit');
      };
      // Kept once listening: wait until a page read before the unannounced delete still answers after it. A read
      // that went to the table sees the delete; the tokens are then put back announced (the empty page that read
      // may have kept is forgotten once the notification arrives), and it tries again.
      await vi.waitFor(
        async () => {
          expect(await withFamily(store, smith)).toEqual(['p1']);
          await unannounced();
          if ((await withFamily(store, smith)).length === 0) {
            await client.query(
              `insert into search_tokens (tenant_id, resource_type, resource_id, param, value)
               values ($1, 'Patient', 'p1', 'family', $2)`,
              [TENANT, smith],
            );
            throw new Error('not kept yet');
          }
        },
        { timeout: 10_000, interval: 50 },
      );
      expect(await withFamily(store, smith)).toEqual(['p1']);
      // An announced write of either table makes the next read go to the database.
      await client.query(`update resources set deleted = deleted where id = 'p1'`);
      await vi.waitFor(async () => expect(await withFamily(store, smith)).toEqual([]), { timeout: 5_000 });
    },
  );
});
