/**
 * The store as a {@link SearchSource}: one kysely query per page over the tenant's live rows of the type, keyset
 * paged (`WHERE (sort key, id) beyond the cursor ORDER BY … LIMIT n`), so a page reads at most `n` rows whatever
 * the size of the result; the total is a separate `count(*)` with the same conditions. The SQL is the same for
 * SQLite and PostgreSQL.
 */
import type { Resource } from '@medplum/fhirtypes';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { SortExpression } from '../resources/resource-definition.js';
import { conditionSql, type ConditionScope } from './condition-sql.js';
import type { PagePosition } from './search-cursor.js';
import { tooCostly } from './search-errors.js';
import { SCAN_TEXT_MAX_ROWS } from './search-limits.js';
import { replaceScans, scansOf, type Condition } from './search-condition.js';
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
      const condition = conditionSql(await resolve(query), scopeOf(query));
      const { expressions, idDescending } = sortDirections(query.sort);
      const keys = expressions.map((e) => ({
        sql: sortExpressionSql(e.expression),
        descending: e.descending,
      }));
      const reverse = query.position?.direction === 'before';
      const direction = (descending: boolean) => sql.raw(descending !== reverse ? 'desc' : 'asc');
      const order = [
        ...keys.map((k) => sql`${k.sql} ${direction(k.descending)}`),
        sql`r.id ${direction(idDescending)}`,
      ];
      const keyColumns = keys.map((k, i) => sql`${k.sql} as ${sql.raw(`k${i}`)}`);
      const result = await sql<
        Record<string, unknown> & { id: string; resource: string }
      >`${condition.with}select r.id, r.resource${keyColumns.length > 0 ? sql`, ${sql.join(keyColumns)}` : sql``} from resources r where ${liveRows(query)} and ${condition.where}${query.position ? sql` and ${keysetSql(keys, idDescending, query.position)}` : sql``} order by ${sql.join(order)} limit ${query.limit}`.execute(
        query.ctx.store.db,
      );
      return result.rows.map((row): SourceRow => ({
        resource: JSON.parse(row.resource) as SourceRow['resource'],
        key: keys.map((_, i) => String(row[`k${i}`] ?? '')),
      }));
    },

    async count(query) {
      const condition = conditionSql(await resolve(query), scopeOf(query));
      const result = await sql<{
        n: number | string;
      }>`${condition.with}select count(*) as n from resources r where ${liveRows(query)} and ${condition.where}`.execute(
        query.ctx.store.db,
      );
      return Number(result.rows[0]?.n ?? 0);
    },
  };
}

/** The tenant's live (not deleted) rows of the searched type. */
function liveRows(query: SourceQuery): RawBuilder<SqlBool> {
  return sql<SqlBool>`r.tenant_id = ${query.ctx.tenant.id} and r.resource_type = ${query.definition.type} and r.deleted = 0`;
}

function scopeOf(query: SourceQuery): ConditionScope {
  return { tenantId: query.ctx.tenant.id, resourceType: query.definition.type };
}

/** A sort key in SQL, never null (missing values sort as the empty string, as `sortKeyOf` does in memory). */
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
  position: PagePosition,
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

/**
 * Replaces each scan condition by the ids it matches among the tenant's live rows of the type, read in id order
 * and folded here; more than {@link SCAN_TEXT_MAX_ROWS} rows is a 400 (such a type needs store tokens instead).
 */
async function resolveScans(query: SourceQuery): Promise<Condition> {
  const scans = scansOf(query.condition);
  if (scans.length === 0) return query.condition;
  const rows = await query.ctx.store.db
    .selectFrom('resources')
    .select(['id', 'resource'])
    .where('tenant_id', '=', query.ctx.tenant.id)
    .where('resource_type', '=', query.definition.type)
    .where('deleted', '=', 0)
    .orderBy('id')
    .limit(SCAN_TEXT_MAX_ROWS + 1)
    .execute();
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
