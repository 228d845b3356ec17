import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { NEEDS_REVIEW_TAG } from '../../src/booking/patient-registration.js';
import { commitChanges } from '../../src/events/change-writer.js';
import { taggedPatientCount } from '../../src/store/console-queries.js';
import type { Store } from '../../src/store/database.js';
import { MIGRATION_TABLE, migrateToLatest } from '../../src/store/migrate.js';
import { migration0026MappedSourceHashes } from '../../src/store/migrations/0026-mapped-source-hashes.js';
import { staticMigrationProvider } from '../../src/store/migrations/migration-provider.js';
import { fhirIdsFor } from '../../src/store/upstream-ids.js';
import { testStoreFactories } from '../support/test-stores.js';

const ALL_MIGRATIONS = Object.keys(await staticMigrationProvider.getMigrations()).sort();

const TABLES = [
  'audit_counters',
  'audit_events',
  'availability_versions',
  'booking_appointment_claims',
  'booking_claims',
  'booking_sagas',
  'change_journal',
  'idempotency_records',
  'journal_counters',
  'outbox',
  'resource_history',
  'resources',
  'search_tokens',
  'secret_key_checks',
  'subscriptions',
  'sync_state',
  'upstream_ids',
];

/** Dialect-neutral: selecting from a missing table fails on both. */
async function tableExists(store: Store, table: string): Promise<boolean> {
  try {
    await sql`select 1 from ${sql.table(table)} limit 1`.execute(store.db);
    return true;
  } catch {
    return false;
  }
}

describe.each(testStoreFactories)('migrateToLatest ($name)', (factory) => {
  it('creates every store table on a fresh database', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      await expect(tableExists(handle.store, 'resources')).resolves.toBe(false);
      expect(await migrateToLatest(handle.store)).toEqual({ applied: ALL_MIGRATIONS });
      for (const table of TABLES) await expect(tableExists(handle.store, table)).resolves.toBe(true);
    } finally {
      await handle.dispose();
    }
  });

  it('is a no-op when run a second time', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      await migrateToLatest(handle.store);
      await handle.store.write((trx) =>
        trx.insertInto('journal_counters').values({ tenant_id: 'a', last_seq: 7 }).execute(),
      );
      expect(await migrateToLatest(handle.store)).toEqual({ applied: [] });
      const again = await handle.openAnother();
      expect(await migrateToLatest(again)).toEqual({ applied: [] });
      const row = await handle.store.db.selectFrom('journal_counters').selectAll().executeTakeFirst();
      expect(row).toEqual({ tenant_id: 'a', last_seq: 7 });
    } finally {
      await handle.dispose();
    }
  });

  it('applies the migrations once when two stores start on the same database at once', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      const other = await handle.openAnother();
      const reports = await Promise.all([migrateToLatest(handle.store), migrateToLatest(other)]);
      expect(reports.map((r) => r.applied).flat()).toEqual(ALL_MIGRATIONS);
      const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(
        handle.store.db,
      );
      expect(rows.rows.map((r) => r.name)).toEqual(ALL_MIGRATIONS);
    } finally {
      await handle.dispose();
    }
  });

  it('refuses to run against a store migrated by a newer version', async () => {
    const handle = await factory.create();
    try {
      await sql`insert into ${sql.table(MIGRATION_TABLE)} (name, applied_at) values ('9999-future', 'x')`.execute(
        handle.store.db,
      );
      await expect(migrateToLatest(handle.store)).rejects.toThrow(/newer version.*9999-future/);
    } finally {
      await handle.dispose();
    }
  });

  it('applies nothing when a migration fails', async () => {
    const handle = await factory.create({ migrate: false });
    try {
      // A table in the way makes 0001 fail part-way through (after its first statements ran).
      await handle.store.write((trx) =>
        trx.schema.createTable('sync_state').addColumn('x', 'integer').execute(),
      );
      await expect(migrateToLatest(handle.store)).rejects.toThrow(/migration 0001-initial failed/);
      await expect(tableExists(handle.store, 'resources')).resolves.toBe(false);
      await expect(tableExists(handle.store, MIGRATION_TABLE)).resolves.toBe(false);
    } finally {
      await handle.dispose();
    }
  });

  it('0021 indexes the tags of the patients stored before it, so they count as awaiting review', async () => {
    const handle = await factory.create();
    try {
      const { store } = handle;
      const tagged = (id: string) => ({
        resourceType: 'Patient' as const,
        id,
        meta: { tag: [{ ...NEEDS_REVIEW_TAG }, { code: 'vip' }] },
      });
      await commitChanges(store, 'a', [
        { op: 'upsert', resource: tagged('p1') },
        { op: 'upsert', resource: tagged('p2') },
        { op: 'upsert', resource: { resourceType: 'Patient', id: 'p3' } },
      ]);
      await commitChanges(store, 'a', [{ op: 'delete', resourceType: 'Patient', id: 'p2' }]);
      await commitChanges(store, 'b', [{ op: 'upsert', resource: tagged('p1') }]);
      // The store as a build before 0021 left it: the same rows, no tag tokens.
      await store.write(async (trx) => {
        await trx.deleteFrom('search_tokens').where('param', '=', '_tag').execute();
        await sql`delete from ${sql.table(MIGRATION_TABLE)} where name = '0021-patient-tag-tokens'`.execute(
          trx,
        );
      });
      expect(await taggedPatientCount(store.db, 'a', NEEDS_REVIEW_TAG)).toBe(0);

      expect(await migrateToLatest(store)).toEqual({ applied: ['0021-patient-tag-tokens'] });
      const tokens = await store.db
        .selectFrom('search_tokens')
        .select(['tenant_id', 'resource_id', 'value'])
        .where('param', '=', '_tag')
        .orderBy('tenant_id')
        .orderBy('resource_id')
        .orderBy('value')
        .execute();
      const needsReview = `${NEEDS_REVIEW_TAG.system}|${NEEDS_REVIEW_TAG.code}`;
      expect(tokens).toEqual([
        { tenant_id: 'a', resource_id: 'p1', value: needsReview },
        { tenant_id: 'a', resource_id: 'p1', value: 'needs-review' },
        { tenant_id: 'a', resource_id: 'p1', value: 'vip' },
        { tenant_id: 'b', resource_id: 'p1', value: needsReview },
        { tenant_id: 'b', resource_id: 'p1', value: 'needs-review' },
        { tenant_id: 'b', resource_id: 'p1', value: 'vip' },
      ]);
      expect(await taggedPatientCount(store.db, 'a', NEEDS_REVIEW_TAG)).toBe(1);
      expect(await taggedPatientCount(store.db, 'b', NEEDS_REVIEW_TAG)).toBe(1);
    } finally {
      await handle.dispose();
    }
  });
  it('0026 gives each upstream mapping its live resource’s source hash', async () => {
    const handle = await factory.create();
    try {
      const { store } = handle;
      const ids = await fhirIdsFor(store, 'a', 'Patient', ['u1', 'u2', 'u3', 'u4']);
      const patient = (upstreamId: string) => ({
        resourceType: 'Patient' as const,
        id: ids.get(upstreamId) as string,
      });
      await commitChanges(store, 'a', [
        { op: 'upsert', resource: patient('u1'), sourceHash: 'h1' },
        { op: 'upsert', resource: patient('u2'), sourceHash: 'h2' },
        { op: 'upsert', resource: patient('u3') },
      ]);
      await commitChanges(store, 'a', [
        { op: 'delete', resourceType: 'Patient', id: ids.get('u2') as string },
      ]);
      // The store as a build before 0026 left it: no hash on the mappings, the index of 0022.
      await migration0026MappedSourceHashes.down?.(store.db);
      await sql`delete from ${sql.table(MIGRATION_TABLE)} where name = '0026-mapped-source-hashes'`.execute(
        store.db,
      );

      expect(await migrateToLatest(store)).toEqual({ applied: ['0026-mapped-source-hashes'] });
      const mapped = await store.db
        .selectFrom('upstream_ids')
        .select(['upstream_id', 'source_hash'])
        .where('tenant_id', '=', 'a')
        .orderBy('upstream_id')
        .execute();
      // Live with a hash; deleted; written without one; never written.
      expect(mapped).toEqual([
        { upstream_id: 'u1', source_hash: 'h1' },
        { upstream_id: 'u2', source_hash: null },
        { upstream_id: 'u3', source_hash: null },
        { upstream_id: 'u4', source_hash: null },
      ]);
    } finally {
      await handle.dispose();
    }
  });
});
