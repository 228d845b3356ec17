/**
 * Version history from `resource_history` (DESIGN.md section 3): newest first, keyset paged on (last updated, id,
 * version) like searches, so a version written while a client pages does not shift the pages it has not read yet.
 */
import { sql, type SqlBool } from 'kysely';
import type { Store } from './database.js';
import type { ResourceHistoryTable } from './schema.js';
import type { KeysetPosition } from './search-query.js';

/** Which versions: one resource's, or a whole type's, optionally only those written since an instant. */
export interface HistoryFilter {
  tenantId: string;
  resourceType: string;
  /** One resource's history; undefined for the whole type. */
  id?: string;
  /** Only versions written at or after this ISO UTC instant (`_since`). */
  since?: string;
}

/** One stored version. */
export type HistoryRow = Omit<ResourceHistoryTable, 'tenant_id'>;

/**
 * Versions newest first (nearest first, i.e. oldest first, when travelling `before` the position); a position's
 * key is `[last updated, version]`.
 *
 * @see DESIGN.md section 3
 */
export async function historyRows(
  store: Store,
  filter: HistoryFilter,
  position: KeysetPosition | undefined,
  limit: number,
): Promise<HistoryRow[]> {
  const reverse = position?.direction === 'before';
  const order = reverse ? 'asc' : 'desc';
  let select = store.db
    .selectFrom('resource_history as h')
    .select(['h.resource_type', 'h.id', 'h.version_id', 'h.last_updated', 'h.deleted', 'h.resource'])
    .where('h.tenant_id', '=', filter.tenantId)
    .where('h.resource_type', '=', filter.resourceType);
  if (filter.id !== undefined) select = select.where('h.id', '=', filter.id);
  if (filter.since !== undefined) select = select.where('h.last_updated', '>=', filter.since);
  if (position) {
    const [lastUpdated = '', version = '0'] = position.key;
    const id = position.id;
    const v = Number(version);
    // Newest first: "after" a row means older than it.
    const op = sql.raw(reverse ? '>' : '<');
    select = select.where(
      sql<SqlBool>`(h.last_updated ${op} ${lastUpdated} or (h.last_updated = ${lastUpdated} and h.id ${op} ${id}) or (h.last_updated = ${lastUpdated} and h.id = ${id} and h.version_id ${op} ${v}))`,
    );
  }
  return select
    .orderBy('h.last_updated', order)
    .orderBy('h.id', order)
    .orderBy('h.version_id', order)
    .limit(limit)
    .execute();
}

/**
 * How many versions `filter` covers.
 *
 * @see DESIGN.md section 3
 */
export async function historyRowCount(store: Store, filter: HistoryFilter): Promise<number> {
  let select = store.db
    .selectFrom('resource_history as h')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('h.tenant_id', '=', filter.tenantId)
    .where('h.resource_type', '=', filter.resourceType);
  if (filter.id !== undefined) select = select.where('h.id', '=', filter.id);
  if (filter.since !== undefined) select = select.where('h.last_updated', '>=', filter.since);
  const row = await select.executeTakeFirstOrThrow();
  return Number(row.n);
}
