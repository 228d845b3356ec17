/**
 * The ids of the live resources of a sync scope (DESIGN.md section 5; issue 16 item 5): what a pass compares with
 * the ids it saw once it has read every page, to find what the records system no longer lists. Ids only, in window
 * order, so a pass over 100,000 appointments holds strings, not resources.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { VALUES_PER_IN_LIST, anyOf, chunk } from './batching.js';
import type { Store } from './database.js';
import type { CurrentHashFilter } from './resource-store.js';

/** The resources of `scope` that are not deleted, ordered by period start and id. */
export async function idsInScope(
  store: Store,
  tenantId: string,
  resourceType: ResourceType,
  scope: CurrentHashFilter,
): Promise<string[]> {
  const idChunks = scope.ids === undefined ? [undefined] : chunk([...new Set(scope.ids)], VALUES_PER_IN_LIST);
  const found: string[] = [];
  for (const ids of idChunks) {
    if (ids?.length === 0) continue;
    let query = store.db
      .selectFrom('resources')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('resource_type', '=', resourceType)
      .where('deleted', '=', 0);
    if (ids !== undefined) query = query.where('id', 'in', anyOf(store.capabilities, ids));
    if (scope.periodFrom !== undefined) query = query.where('period_start', '>=', scope.periodFrom);
    if (scope.periodTo !== undefined) query = query.where('period_start', '<', scope.periodTo);
    for (const row of await query.orderBy('period_start').orderBy('id').execute()) found.push(row.id);
  }
  return found;
}
