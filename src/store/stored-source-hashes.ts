/**
 * What a sync pass needs to skip an unchanged record without mapping it (issue 16 item 5): for upstream ids, the
 * FHIR id the store gave each and the source hash its live resource was last written from — read by the upstream
 * id the pass already has, in one query per page, before any FHIR id is resolved or any record mapped.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { anyOf, selectInChunks } from './batching.js';
import type { Store } from './database.js';

/** A live (not deleted) resource mapped from an upstream record, and the source hash it was written from. */
export interface StoredSource {
  fhirId: string;
  sourceHash: string;
}

/**
 * The upstream ids of `upstreamIds` whose resource is stored, not deleted, and carries a source hash. An id absent
 * from the result has no mapping, no resource, a deleted one, or one a local write replaced (no source hash).
 */
export async function storedSourceHashes(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  upstreamIds: readonly string[],
): Promise<Map<string, StoredSource>> {
  const rows = await selectInChunks(upstreamIds, (part) =>
    store.db
      .selectFrom('upstream_ids as u')
      .innerJoin('resources as r', (join) =>
        join
          .onRef('r.tenant_id', '=', 'u.tenant_id')
          .onRef('r.resource_type', '=', 'u.resource_type')
          .onRef('r.id', '=', 'u.fhir_id'),
      )
      .select(['u.upstream_id', 'u.fhir_id', 'r.source_hash'])
      .where('u.tenant_id', '=', tenantId)
      .where('u.resource_type', '=', resourceType)
      .where('u.upstream_id', 'in', anyOf(store.capabilities, part))
      .where('r.deleted', '=', 0)
      .where('r.source_hash', 'is not', null)
      .execute(),
  );
  const result = new Map<string, StoredSource>();
  for (const row of rows) {
    if (row.source_hash !== null) {
      result.set(row.upstream_id, { fhirId: row.fhir_id, sourceHash: row.source_hash });
    }
  }
  return result;
}
