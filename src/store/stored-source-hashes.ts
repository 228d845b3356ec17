/**
 * What a sync pass needs to skip an unchanged record without mapping it (issue 16 item 5): for upstream ids, the
 * FHIR id the store gave each and the source hash its live resource was last written from — read by the upstream
 * id the pass already has, in one query per page, before any FHIR id is resolved or any record mapped. The hash is
 * the mapping's own copy, which the write path keeps equal to the live resource's (migration 0026,
 * `setMappedSourceHashes`): one covering index answers, where a join read a second one per id.
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
      .selectFrom('upstream_ids')
      .select(['upstream_id', 'fhir_id', 'source_hash'])
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('upstream_id', 'in', anyOf(store.capabilities, part))
      .where('source_hash', 'is not', null)
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
