/**
 * Migration 0026 (issue 16, sync-diff): each upstream id's mapping carries the source hash of its live resource
 * (`upstream_ids.source_hash`: null when the resource is missing, deleted, or was last written without one), kept
 * by the write path in the transaction that writes the resource (`resource-writes.ts`). The skip lookup of a sync
 * pass then reads one covering index per upstream id where it joined two: on PostgreSQL about 6 → 3 ms per page of
 * 1,000. Existing mappings are filled from their resources. Frozen once released.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- frozen migrations must not depend on today's schema types */
import { sql, type Kysely, type Migration } from 'kysely';

async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('upstream_ids').addColumn('source_hash', 'text').execute();
  await sql`update upstream_ids set source_hash = (
      select r.source_hash from resources r
      where r.tenant_id = upstream_ids.tenant_id and r.resource_type = upstream_ids.resource_type
        and r.id = upstream_ids.fhir_id and r.deleted = 0
    )`.execute(db);
  // Replaces 0022's index of the lookup: the same columns and the hash, so the lookup reads the index alone.
  await db.schema.dropIndex('upstream_ids_fhir_id_idx').ifExists().execute();
  await db.schema
    .createIndex('upstream_ids_source_hash_idx')
    .on('upstream_ids')
    .columns(['tenant_id', 'resource_type', 'upstream_id', 'fhir_id', 'source_hash'])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('upstream_ids_source_hash_idx').ifExists().execute();
  await db.schema
    .createIndex('upstream_ids_fhir_id_idx')
    .on('upstream_ids')
    .columns(['tenant_id', 'resource_type', 'upstream_id', 'fhir_id'])
    .execute();
  await db.schema.alterTable('upstream_ids').dropColumn('source_hash').execute();
}

/** Migration 0026: the live resource's source hash on each upstream id's mapping. */
export const migration0026MappedSourceHashes: Migration = { up, down };
