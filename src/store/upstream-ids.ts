/**
 * Upstream (records system) ids ↔ FHIR ids (DESIGN.md section 3). FHIR ids are random UUIDs minted on first
 * sight, so they stay stable and never reveal the records system's numbering.
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from '@medplum/fhirtypes';
import { sql } from 'kysely';
import { chunk, rowsPerInsert, selectInChunks } from './batching.js';
import type { Store, StoreTransaction } from './database.js';

/**
 * The FHIR id of every upstream id given (duplicates allowed), minting and storing ids for those never seen, all
 * in one write. Concurrent callers agree: a mapping created by another writer first is the one returned.
 *
 * @see DESIGN.md section 3
 */
export async function fhirIdsFor(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  upstreamIds: readonly string[],
  preferred?: (unmapped: readonly string[]) => Promise<ReadonlyMap<string, string>>,
): Promise<Map<string, string>> {
  const wanted = [...new Set(upstreamIds)];
  if (wanted.length === 0) return new Map();
  // Most calls find every mapping already there; a read avoids taking the write lock for them.
  const known = await selectMappings(store.db, tenantId, resourceType, wanted);
  if (known.size === wanted.length) return known;
  const wishes = preferred ? await preferred(wanted.filter((id) => !known.has(id))) : undefined;
  return store.write((trx) =>
    fhirIdsForInTransaction(trx, tenantId, resourceType, wanted, store.now(), wishes),
  );
}

/**
 * {@link fhirIdsFor} inside a write transaction the caller already holds.
 *
 * @see DESIGN.md section 3
 */
export async function fhirIdsForInTransaction(
  trx: StoreTransaction,
  tenantId: string,
  resourceType: ResourceType,
  upstreamIds: readonly string[],
  now: Date,
  preferred?: ReadonlyMap<string, string>,
): Promise<Map<string, string>> {
  const wanted = [...new Set(upstreamIds)];
  const known = await selectMappings(trx, tenantId, resourceType, wanted);
  // Sorted, so concurrent writers (two sync streams seeing the same new patient) take the unique-index locks in
  // the same order: on PostgreSQL one waits for the other instead of both deadlocking.
  const missing = wanted.filter((upstreamId) => !known.has(upstreamId)).sort();
  if (missing.length === 0) return known;
  await insertMappings(trx, tenantId, resourceType, missing, now, (id) => preferred?.get(id) ?? randomUUID());
  for (const [upstreamId, fhirId] of await selectMappings(trx, tenantId, resourceType, missing)) {
    known.set(upstreamId, fhirId);
  }
  // A preferred FHIR id already taken by another record (never expected): minted as on first sight instead.
  const unmapped = missing.filter((upstreamId) => !known.has(upstreamId));
  if (unmapped.length === 0) return known;
  await insertMappings(trx, tenantId, resourceType, unmapped, now, () => randomUUID());
  for (const [upstreamId, fhirId] of await selectMappings(trx, tenantId, resourceType, unmapped)) {
    known.set(upstreamId, fhirId);
  }
  return known;
}

async function insertMappings(
  trx: StoreTransaction,
  tenantId: string,
  resourceType: ResourceType,
  upstreamIds: readonly string[],
  now: Date,
  fhirIdOf: (upstreamId: string) => string,
): Promise<void> {
  const createdAt = now.toISOString();
  const rows = upstreamIds.map((upstreamId) => ({
    tenant_id: tenantId,
    resource_type: resourceType,
    upstream_id: upstreamId,
    fhir_id: fhirIdOf(upstreamId),
    created_at: createdAt,
  }));
  for (const part of chunk(rows, rowsPerInsert(5))) {
    // A concurrent writer (PostgreSQL) may have mapped the same id meanwhile: keep its mapping, then re-read.
    await trx
      .insertInto('upstream_ids')
      .values(part)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/**
 * The upstream id behind a FHIR id, or undefined when the FHIR id was not minted from one.
 *
 * @see DESIGN.md section 3
 */
export async function upstreamIdFor(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  fhirId: string,
): Promise<string | undefined> {
  const row = await store.db
    .selectFrom('upstream_ids')
    .select('upstream_id')
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', resourceType)
    .where('fhir_id', '=', fhirId)
    .executeTakeFirst();
  return row?.upstream_id;
}

/**
 * The upstream ids behind several FHIR ids; FHIR ids without a mapping are absent from the result.
 *
 * @see DESIGN.md section 3
 */
export async function upstreamIdsFor(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  fhirIds: readonly string[],
): Promise<Map<string, string>> {
  const rows = await selectInChunks(fhirIds, (part) =>
    store.db
      .selectFrom('upstream_ids')
      .select(['fhir_id', 'upstream_id'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('fhir_id', 'in', part)
      .execute(),
  );
  return new Map(rows.map((row) => [row.fhir_id, row.upstream_id]));
}

async function selectMappings(
  db: StoreTransaction,
  tenantId: string,
  resourceType: ResourceType,
  upstreamIds: readonly string[],
): Promise<Map<string, string>> {
  const rows = await selectInChunks(upstreamIds, (part) =>
    db
      .selectFrom('upstream_ids')
      .select(['upstream_id', 'fhir_id'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('upstream_id', 'in', part)
      .execute(),
  );
  return new Map(rows.map((row) => [row.upstream_id, row.fhir_id]));
}

/** A resource's live source hash as a commit leaves it, for {@link setMappedSourceHashes}. */
export interface MappedSourceHash {
  resourceType: string;
  id: string;
  /** Null when the resource is deleted or its current version was written without one. */
  sourceHash: string | null;
}

/**
 * Records on the upstream id mapping of each of `resources` (those that have one) its live source hash, inside the
 * transaction that wrote the resources (`resource-writes.ts`), so a mapping's hash is always its resource's: what
 * the sync pass's skip lookup reads (`stored-source-hashes.ts`). One statement per type and chunk; mappings that
 * already hold the hash are not rewritten.
 *
 * @see DESIGN.md section 3
 */
export async function setMappedSourceHashes(
  trx: StoreTransaction,
  tenantId: string,
  resources: readonly MappedSourceHash[],
): Promise<void> {
  const byType = new Map<string, MappedSourceHash[]>();
  for (const resource of resources) {
    const list = byType.get(resource.resourceType) ?? [];
    list.push(resource);
    byType.set(resource.resourceType, list);
  }
  for (const [resourceType, list] of byType) {
    for (const part of chunk(list, rowsPerInsert(2) - 2)) {
      const values = sql.join(part.map((r) => sql`(${r.id}, ${r.sourceHash})`));
      await sql`with v (fhir_id, source_hash) as (values ${values})
        update upstream_ids set source_hash = v.source_hash from v
        where upstream_ids.tenant_id = ${tenantId} and upstream_ids.resource_type = ${resourceType}
          and upstream_ids.fhir_id = v.fhir_id and upstream_ids.source_hash is distinct from v.source_hash`.execute(
        trx,
      );
    }
  }
}
