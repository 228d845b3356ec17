/**
 * Searches over the store's current resources (DESIGN.md section 3): one query per page over the tenant's live
 * rows of a type, keyset paged (`WHERE (sort key, id) beyond the cursor ORDER BY … LIMIT n`), so a page reads at
 * most `n` rows whatever the size of the result; the total is a separate `count(*)` with the same condition. The
 * facade parses FHIR searches into a {@link Condition} and sort keys; this module turns them into SQL, the same for
 * SQLite and PostgreSQL.
 */
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { VALUES_PER_IN_LIST, chunk } from './batching.js';
import { conditionSql, type ConditionScope } from './condition-sql.js';
import type { Store } from './database.js';
import { literalLimit } from './sqlite-literal-limits.js';
import type { Condition } from './search-condition.js';
import type { RowColumn } from './search-parameters/search-parameter.js';

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

/** A matched row: its JSON and its sort key values (as text, for the cursor). */
export interface SearchPageRow {
  resource: string;
  key: string[];
}

/**
 * The rows of one page, nearest the position first (so in reverse order when travelling `before` it).
 *
 * @see DESIGN.md section 3
 */
export async function searchPageRows(store: Store, query: SearchPageQuery): Promise<SearchPageRow[]> {
  const condition = conditionSql(query.condition, scopeOf(query), store.capabilities.codePointCollation);
  const keys = query.sort.map((s) => ({ sql: sortExpressionSql(s.expression), descending: s.descending }));
  const reverse = query.position?.direction === 'before';
  const direction = (descending: boolean) => sql.raw(descending !== reverse ? 'desc' : 'asc');
  const order = [
    ...keys.map((k) => sql`${k.sql} ${direction(k.descending)}`),
    sql`r.id ${direction(query.idDescending)}`,
  ];
  const keyColumns = keys.map((k, i) => sql`${k.sql} as ${sql.raw(`k${i}`)}`);
  const result = await sql<
    Record<string, unknown> & { id: string; resource: string }
  >`${condition.with}select r.id, r.resource${keyColumns.length > 0 ? sql`, ${sql.join(keyColumns)}` : sql``} from resources r where ${liveRows(query)} and ${condition.where}${query.position ? sql` and ${keysetSql(keys, query.idDescending, query.position)}` : sql``} order by ${sql.join(order)} limit ${literalLimit(query.limit)}`.execute(
    store.db,
  );
  return result.rows.map((row) => ({
    resource: row.resource,
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
  const result = await sql<{
    n: number | string;
  }>`${condition.with}select count(*) as n from resources r where ${liveRows(query)} and ${condition.where}`.execute(
    store.db,
  );
  return Number(result.rows[0]?.n ?? 0);
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
  const result = await sql<{
    id: string;
  }>`${where.with}select r.id from resources r where ${liveRows(scope)} and ${where.where} order by r.id`.execute(
    store.db,
  );
  return result.rows.map((row) => row.id);
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
function liveRows(scope: ConditionScope): RawBuilder<SqlBool> {
  return sql<SqlBool>`r.tenant_id = ${scope.tenantId} and r.resource_type = ${scope.resourceType} and r.deleted = 0`;
}

function scopeOf(query: Pick<SearchPageQuery, 'tenantId' | 'resourceType'>): ConditionScope {
  return { tenantId: query.tenantId, resourceType: query.resourceType };
}

/** A sort key in SQL, never null (missing values sort as the empty string, as the facade's in-memory sort does). */
function sortExpressionSql(expression: SortExpression): RawBuilder<string> {
  switch (expression.kind) {
    case 'column':
      return expression.column === 'id'
        ? sql<string>`r.id`
        : sql<string>`coalesce(${sql.ref(`r.${expression.column}`)}, '')`;
    case 'token': {
      const tokens = sql`from search_tokens t where t.tenant_id = r.tenant_id and t.resource_type = r.resource_type and t.resource_id = r.id and t.param = ${expression.param}`;
      return expression.pick === 'longest'
        ? sql<string>`coalesce((select t.value ${tokens} order by length(t.value) desc, t.value limit 1), '')`
        : sql<string>`coalesce((select min(t.value) ${tokens}), '')`;
    }
  }
}

/**
 * Rows strictly beyond `position` in the direction of travel: (k1, …, kn, id) compared lexicographically with the
 * cursor's values, each key in its own direction, spelled out as `k1 > v1 or (k1 = v1 and k2 > v2) or …` because
 * row-value comparison cannot mix directions.
 */
function keysetSql(
  keys: ReadonlyArray<{ sql: RawBuilder<string>; descending: boolean }>,
  idDescending: boolean,
  position: KeysetPosition,
): RawBuilder<SqlBool> {
  const reverse = position.direction === 'before';
  const all = [
    ...keys.map((k, i) => ({ sql: k.sql, descending: k.descending, value: position.key[i] ?? '' })),
    { sql: sql<string>`r.id`, descending: idDescending, value: position.id },
  ];
  const branches = all.map((k, i) => {
    const equal = all.slice(0, i).map((e) => sql`${e.sql} = ${e.value}`);
    const op = k.descending !== reverse ? sql.raw('<') : sql.raw('>');
    return sql`(${sql.join([...equal, sql`${k.sql} ${op} ${k.value}`], sql` and `)})`;
  });
  return sql<SqlBool>`(${sql.join(branches, sql` or `)})`;
}
