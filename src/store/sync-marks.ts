/**
 * Generations of sync passes and the marks of what each pass saw (DESIGN.md section 5; issue 16 item 5). A pass
 * that streams the records system page by page cannot hold the whole window to see what vanished from it; instead
 * it takes the next generation of its name, stamps every resource it saw with it, page by page, and at the end
 * asks which resources of the window it covered carry an older stamp or none: those the records system no longer
 * lists. A pass that fails midway never asks, so it deletes nothing; the next pass takes a new generation.
 */
import type { ResourceType } from '@medplum/fhirtypes';
import { VALUES_PER_IN_LIST, chunk, rowsPerInsert } from './batching.js';
import type { Store, StoreTransaction } from './database.js';
import type { CurrentHashFilter } from './resource-store.js';

/** Takes the next generation of a pass of a tenant (1 for its first pass). */
export async function nextSyncGeneration(store: Store, tenantId: string, pass: string): Promise<number> {
  const row = await store.write((trx) =>
    trx
      .insertInto('sync_generations')
      .values({ tenant_id: tenantId, pass, generation: 1 })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'pass'])
          .doUpdateSet((eb) => ({ generation: eb('sync_generations.generation', '+', 1) })),
      )
      .returning('generation')
      .executeTakeFirstOrThrow(),
  );
  return Number(row.generation);
}

const MARK_COLUMNS = 5;

/** Stamps `ids` as seen by `generation` of the pass, inside the caller's write transaction. */
export async function markSeen(
  trx: StoreTransaction,
  tenantId: string,
  pass: string,
  generation: number,
  resourceType: ResourceType,
  ids: readonly string[],
): Promise<void> {
  for (const part of chunk([...new Set(ids)], rowsPerInsert(MARK_COLUMNS))) {
    await trx
      .insertInto('sync_marks')
      .values(part.map((id) => ({ tenant_id: tenantId, pass, resource_type: resourceType, id, generation })))
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'pass', 'resource_type', 'id'])
          .doUpdateSet({ generation: (eb) => eb.ref('excluded.generation') }),
      )
      .execute();
  }
}

/**
 * The resources (not deleted) of `scope` that `generation` of the pass did not stamp: what the records system no
 * longer listed, once the pass has read every page of the scope.
 */
export async function unmarkedInScope(
  store: Store,
  tenantId: string,
  pass: string,
  generation: number,
  resourceType: ResourceType,
  scope: CurrentHashFilter,
): Promise<string[]> {
  const idChunks = scope.ids === undefined ? [undefined] : chunk([...new Set(scope.ids)], VALUES_PER_IN_LIST);
  const found: string[] = [];
  for (const ids of idChunks) {
    if (ids?.length === 0) continue;
    let query = store.db
      .selectFrom('resources as r')
      .leftJoin('sync_marks as m', (join) =>
        join
          .onRef('m.tenant_id', '=', 'r.tenant_id')
          .on('m.pass', '=', pass)
          .onRef('m.resource_type', '=', 'r.resource_type')
          .onRef('m.id', '=', 'r.id'),
      )
      .select('r.id')
      .where('r.tenant_id', '=', tenantId)
      .where('r.resource_type', '=', resourceType)
      .where('r.deleted', '=', 0)
      .where((eb) => eb.or([eb('m.generation', 'is', null), eb('m.generation', '<>', generation)]));
    if (ids !== undefined) query = query.where('r.id', 'in', ids);
    if (scope.periodFrom !== undefined) query = query.where('r.period_start', '>=', scope.periodFrom);
    if (scope.periodTo !== undefined) query = query.where('r.period_start', '<', scope.periodTo);
    for (const row of await query.orderBy('r.period_start').orderBy('r.id').execute()) found.push(row.id);
  }
  return found;
}
