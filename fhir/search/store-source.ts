/**
 * The store as a {@link SearchSource}: each page and count is one keyset-paged query of the store's search
 * (`src/store/search-query.ts`), given the parsed condition and sort; scan conditions are folded here first.
 */
import type { Resource } from '@medplum/fhirtypes';
import { countSearchRows, liveRowsOfType, searchPageRows } from '../../src/store/search-query.js';
import { tooCostly } from './search-errors.js';
import { SCAN_TEXT_MAX_ROWS } from './search-limits.js';
import { replaceScans, scansOf, type Condition } from '../../src/store/search-condition.js';
import { sortDirections, type SearchSource, type SourceQuery, type SourceRow } from './search-sources.js';

/** The store's search source. Scan conditions are resolved once per condition (so per request). */
export function storeSearchSource(): SearchSource {
  const resolved = new WeakMap<Condition, Promise<Condition>>();
  const resolve = (query: SourceQuery): Promise<Condition> => {
    let promise = resolved.get(query.condition);
    if (!promise) {
      promise = resolveScans(query);
      resolved.set(query.condition, promise);
    }
    return promise;
  };

  return {
    async page(query) {
      const { expressions, idDescending } = sortDirections(query.sort);
      const rows = await searchPageRows(query.ctx.store, {
        ...scopeOf(query),
        condition: await resolve(query),
        sort: expressions,
        idDescending,
        position: query.position,
        limit: query.limit,
      });
      return rows.map((row): SourceRow => ({
        resource: row.resource as SourceRow['resource'],
        key: row.key,
      }));
    },

    count: async (query) =>
      countSearchRows(query.ctx.store, { ...scopeOf(query), condition: await resolve(query) }),
  };
}

function scopeOf(query: SourceQuery): { tenantId: string; resourceType: string } {
  return { tenantId: query.ctx.tenant.id, resourceType: query.definition.type };
}

/**
 * Replaces each scan condition by the ids it matches among the tenant's live rows of the type, read in id order
 * and folded here; more than {@link SCAN_TEXT_MAX_ROWS} rows is a 400 (such a type needs store tokens instead).
 */
async function resolveScans(query: SourceQuery): Promise<Condition> {
  const scans = scansOf(query.condition);
  if (scans.length === 0) return query.condition;
  const rows = await liveRowsOfType(
    query.ctx.store,
    query.ctx.tenant.id,
    query.definition.type,
    SCAN_TEXT_MAX_ROWS + 1,
  );
  if (rows.length > SCAN_TEXT_MAX_ROWS)
    throw tooCostly(
      scans[0]?.parameter ?? '',
      `${scans[0]?.parameter ?? 'this parameter'} can search at most ${SCAN_TEXT_MAX_ROWS} ${query.definition.type} resources`,
    );
  const resources = rows.map((row) => JSON.parse(row.resource) as Resource & { id: string });
  return replaceScans(query.condition, (scan) => ({
    op: 'in',
    field: 'id',
    values: resources.filter((r) => scan.test(r)).map((r) => r.id),
  }));
}
