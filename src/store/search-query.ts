/**
 * Searches over the store's current resources (DESIGN.md section 3): one query per page over the tenant's live
 * rows of a type, keyset paged (`WHERE (sort key, id) beyond the cursor ORDER BY … LIMIT n`), so a page reads at
 * most `n` rows whatever the size of the result; the total is a separate `count(*)` with the same condition. The
 * facade parses FHIR searches into a {@link Condition} and sort keys; this module turns them into SQL, the same for
 * SQLite and PostgreSQL.
 */
import { VALUES_PER_IN_LIST, chunk } from './batching.js';
import { conditionSql, type ConditionScope } from './condition-sql.js';
import type { Store } from './database.js';
import { deepFreeze } from '../deep-freeze.js';
import type { Condition } from './search-condition.js';
import type { RowColumn } from './search-parameters/search-parameter.js';
import { EMPTY, join, q, raw, statementOf, type SqlText } from './sql-text.js';

/** A sort key: a `resources` column, or the one token of a parameter that sorts a resource (its longest name). */
export type SortExpression =
  { kind: 'column'; column: RowColumn } | { kind: 'token'; param: string; pick: 'longest' | 'lowest' };

/** A row to continue after (or before): its sort key values, one per sort key, and its id. */
export interface KeysetPosition {
  direction: 'after' | 'before';
  key: readonly string[];
  id: string;
}

/** One page of a search: the condition (scans resolved), the order and where to continue. */
export interface SearchPageQuery {
  tenantId: string;
  resourceType: string;
  condition: Condition;
  sort: ReadonlyArray<{ expression: SortExpression; descending: boolean }>;
  /** Direction of the final `id` tie-breaker. */
  idDescending: boolean;
  position: KeysetPosition | undefined;
  limit: number;
}

/**
 * A matched row: its resource, parsed and deeply frozen (shared by every answer read from the same kept page, so a
 * reader must not change it), and its sort key values (as text, for the cursor).
 */
export interface SearchPageRow {
  resource: unknown;
  key: string[];
}

/**
 * The resource of each row read, parsed once per row object: a kept page's rows (issue 16) are the same objects on
 * every hit, so a repeated search parses nothing, and its answer's JSON text is reused (`fhir/frozen-json.ts`). A
 * page read afresh has new rows and is parsed afresh; an entry goes when its row does.
 */
const parsedResources = new WeakMap<object, unknown>();

function parsedResource(row: { resource: string }): unknown {
  let resource = parsedResources.get(row);
  if (resource === undefined) {
    resource = deepFreeze(JSON.parse(row.resource) as unknown);
    parsedResources.set(row, resource);
  }
  return resource;
}

/**
 * What a page's query reads. Pages are kept reads (issue 16): a search repeated while neither table has been
 * written (an agent checks the same week's availability several times in one call) is answered from memory.
 */
const SEARCH_TABLES = ['resources', 'search_tokens'];

/**
 * The rows of one page, nearest the position first (so in reverse order when travelling `before` it).
 *
 * @see DESIGN.md section 3
 */
export async function searchPageRows(store: Store, query: SearchPageQuery): Promise<SearchPageRow[]> {
  const condition = conditionSql(query.condition, scopeOf(query), store.capabilities.codePointCollation);
  const keys = query.sort.map((s) => ({ sql: sortExpressionSql(s.expression), descending: s.descending }));
  const reverse = query.position?.direction === 'before';
  const direction = (descending: boolean) => raw(descending !== reverse ? 'desc' : 'asc');
  const order = [
    ...keys.map((k) => q`${k.sql} ${direction(k.descending)}`),
    q`r.id ${direction(query.idDescending)}`,
  ];
  const keyColumns = keys.map((k, i) => q`${k.sql} as ${raw(`k${i}`)}`);
  const rows = await store.readKept<Record<string, unknown> & { id: string; resource: string }>(
    statementOf(
      q`${condition.with}select r.id, r.resource${keyColumns.length > 0 ? q`, ${join(keyColumns)}` : EMPTY} from resources r where ${liveRows(query)} and ${condition.where}${query.position ? q` and ${keysetSql(keys, query.idDescending, query.position)}` : EMPTY} order by ${join(order)} limit ${rowLimit(query.limit)}`,
      store.dialect,
    ),
    SEARCH_TABLES,
  );
  return rows.map((row) => ({
    resource: parsedResource(row),
    key: keys.map((_, i) => String(row[`k${i}`] ?? '')),
  }));
}

/**
 * How many live rows of the type satisfy `condition`.
 *
 * @see DESIGN.md section 3
 */
export async function countSearchRows(
  store: Store,
  query: Pick<SearchPageQuery, 'tenantId' | 'resourceType' | 'condition'>,
): Promise<number> {
  const condition = conditionSql(query.condition, scopeOf(query), store.capabilities.codePointCollation);
  const [row] = await store.read<{ n: number | string }>(
    statementOf(
      q`${condition.with}select count(*) as n from resources r where ${liveRows(query)} and ${condition.where}`,
      store.dialect,
    ),
  );
  return Number(row?.n ?? 0);
}

/**
 * Ids of the tenant's live rows of `resourceType` that satisfy `condition`, by id.
 *
 * @see DESIGN.md section 3
 */
export async function matchingIds(
  store: Store,
  scope: ConditionScope,
  condition: Condition,
): Promise<string[]> {
  const where = conditionSql(condition, scope, store.capabilities.codePointCollation);
  const rows = await store.read<{ id: string }>(
    statementOf(
      q`${where.with}select r.id from resources r where ${liveRows(scope)} and ${where.where} order by r.id`,
      store.dialect,
    ),
  );
  return rows.map((row) => row.id);
}

/**
 * The JSON of the tenant's first `limit` live rows of `resourceType`, by id (for conditions folded in memory).
 *
 * @see DESIGN.md section 3
 */
export async function liveRowsOfType(
  store: Store,
  tenantId: string,
  resourceType: string,
  limit: number,
): Promise<Array<{ id: string; resource: string }>> {
  return store.db
    .selectFrom('resources')
    .select(['id', 'resource'])
    .where('tenant_id', '=', tenantId)
    .where('resource_type', '=', resourceType)
    .where('deleted', '=', 0)
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * The JSON of the live rows of `resourceType` with these ids (any number), in no particular order.
 *
 * @see DESIGN.md section 3
 */
export async function liveRowsByIds(
  store: Store,
  tenantId: string,
  resourceType: string,
  ids: readonly string[],
): Promise<Array<{ id: string; resource: string }>> {
  const rows: Array<{ id: string; resource: string }> = [];
  for (const part of chunk([...ids], VALUES_PER_IN_LIST)) {
    if (part.length === 0) continue;
    rows.push(
      ...(await store.db
        .selectFrom('resources')
        .select(['id', 'resource'])
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('deleted', '=', 0)
        .where('id', 'in', part)
        .execute()),
    );
  }
  return rows;
}

/** The tenant's live (not deleted) rows of the searched type. */
function liveRows(scope: ConditionScope): SqlText {
  return q`r.tenant_id = ${scope.tenantId} and r.resource_type = ${scope.resourceType} and r.deleted = 0`;
}

/**
 * A row limit written into the statement as a literal: SQLite re-prepares a cached statement whose `LIMIT` is a
 * bound parameter on every execution (sqlite-literal-limits.ts), and one statement per distinct limit costs
 * PostgreSQL nothing either. Refuses anything but a non-negative safe integer.
 */
function rowLimit(limit: number): SqlText {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`not a row limit: ${limit}`);
  return raw(String(limit));
}

function scopeOf(query: Pick<SearchPageQuery, 'tenantId' | 'resourceType'>): ConditionScope {
  return { tenantId: query.tenantId, resourceType: query.resourceType };
}

/** A sort key in SQL, never null (missing values sort as the empty string, as the facade's in-memory sort does). */
function sortExpressionSql(expression: SortExpression): SqlText {
  switch (expression.kind) {
    case 'column':
      return expression.column === 'id' ? raw('r.id') : raw(`coalesce("r"."${expression.column}", '')`);
    case 'token': {
      const tokens = q`from search_tokens t where t.tenant_id = r.tenant_id and t.resource_type = r.resource_type and t.resource_id = r.id and t.param = ${expression.param}`;
      return expression.pick === 'longest'
        ? q`coalesce((select t.value ${tokens} order by length(t.value) desc, t.value limit 1), '')`
        : q`coalesce((select min(t.value) ${tokens}), '')`;
    }
  }
}

/**
 * Rows strictly beyond `position` in the direction of travel: (k1, …, kn, id) compared lexicographically with the
 * cursor's values, each key in its own direction, spelled out as `k1 > v1 or (k1 = v1 and k2 > v2) or …` because
 * row-value comparison cannot mix directions.
 */
function keysetSql(
  keys: ReadonlyArray<{ sql: SqlText; descending: boolean }>,
  idDescending: boolean,
  position: KeysetPosition,
): SqlText {
  const reverse = position.direction === 'before';
  const all = [
    ...keys.map((k, i) => ({ sql: k.sql, descending: k.descending, value: position.key[i] ?? '' })),
    { sql: raw('r.id'), descending: idDescending, value: position.id },
  ];
  const branches = all.map((k, i) => {
    const equal = all.slice(0, i).map((e) => q`${e.sql} = ${e.value}`);
    const op = k.descending !== reverse ? raw('<') : raw('>');
    return q`(${join([...equal, q`${k.sql} ${op} ${k.value}`], ' and ')})`;
  });
  return q`(${join(branches, ' or ')})`;
}
