/**
 * Compiles a {@link Condition} to SQL over `resources r` (and `search_tokens t` inside token conditions). The
 * SQL is the same for SQLite and PostgreSQL: only `substr`, `length`, `replace`, `cast(… as integer)` and plain
 * comparisons, every value a bound parameter. Timestamps are ISO-8601 UTC text, so text comparison is time order.
 *
 * Matching text with `substr`/`replace` rather than `LIKE` keeps both dialects exact: SQLite's `LIKE` ignores
 * ASCII case, PostgreSQL's does not.
 *
 * Each token condition becomes a `MATERIALIZED` common table expression (SQLite ≥ 3.35, PostgreSQL ≥ 12) that
 * the row condition tests ids against. Materialized, the token lookup runs once whatever the planner believes:
 * right after a sync, before PostgreSQL has analyzed the tables, an inlined `IN (subquery)` was planned as a
 * nested loop re-reading the tokens for every resource (0.6 s instead of 2 ms for a name search over 500 patients).
 */
import { EMPTY, identifier, join, q, raw, type SqlText } from './sql-text.js';
import type { Condition, ConditionField } from './search-condition.js';

/** The tenant and type a condition is evaluated in (token subqueries are scoped by them). */
export interface ConditionScope {
  tenantId: string;
  resourceType: string;
}

/** A condition in SQL: the common table expressions it needs and the boolean expression over `r`. */
export interface ConditionSql {
  /** `with …` (or nothing): put it in front of the `select` the condition is used in. */
  with: SqlText;
  where: SqlText;
}

/** SQL for `condition`, a boolean expression over `r`. Scan conditions must have been resolved first. */
export function conditionSql(
  condition: Condition,
  scope: ConditionScope,
  textOrder: string | undefined,
): ConditionSql {
  const ctes: SqlText[] = [];
  const where = compile(condition, scope, 'r', ctes, textOrder);
  return { with: ctes.length === 0 ? EMPTY : q`with ${join(ctes)} `, where };
}

/**
 * The alias a condition reads: `r` the searched row, `s` a referenced row (inside a `referenced` subquery), `t` a
 * token row (inside a token condition).
 */
type RowAlias = 'r' | 's' | 't';

/** `r.column`, `s.column` or `t.value`: field names come from a closed list, never from a request. */
function fieldRef(field: ConditionField, row: RowAlias): SqlText {
  return field === 'value' ? raw('t.value') : raw(`"${row}"."${field}"`);
}

function compile(
  c: Condition,
  scope: ConditionScope,
  row: RowAlias,
  ctes: SqlText[],
  textOrder: string | undefined,
): SqlText {
  switch (c.op) {
    case 'true':
      return q`1 = 1`;
    case 'false':
      return q`1 = 0`;
    case 'and':
      return q`(${join(
        c.parts.map((p) => compile(p, scope, row, ctes, textOrder)),
        ' and ',
      )})`;
    case 'or':
      return q`(${join(
        c.parts.map((p) => compile(p, scope, row, ctes, textOrder)),
        ' or ',
      )})`;
    case 'not':
      return q`(not ${compile(c.part, scope, row, ctes, textOrder)})`;
    case 'compare': {
      const f = fieldRef(c.field, row);
      return q`(${f} is not null and ${f} ${raw(c.comparison)} ${c.value})`;
    }
    case 'in': {
      if (c.values.length === 0) return q`1 = 0`;
      const f = fieldRef(c.field, row);
      return q`(${f} is not null and ${f} in (${join(c.values)}))`;
    }
    case 'is-null':
      return q`(${fieldRef(c.field, row)} is null)`;
    case 'starts-with': {
      const f = fieldRef(c.field, row);
      const exact = q`substr(${f}, 1, cast(${codePoints(c.value)} as integer)) = ${c.value}`;
      // The range lets an index on the field find the candidates (a name prefix is a range, not a scan); the
      // `substr` test stays the definition of a match.
      const ordered = (value: string) =>
        textOrder ? q`${value} collate ${identifier(textOrder)}` : q`${value}`;
      const column = textOrder ? q`${f} collate ${identifier(textOrder)}` : f;
      const upper = prefixUpperBound(c.value);
      return q`(${f} is not null and ${column} >= ${ordered(c.value)}${upper === undefined ? EMPTY : q` and ${column} < ${ordered(upper)}`} and ${exact})`;
    }
    case 'ends-with': {
      const f = fieldRef(c.field, row);
      const n = codePoints(c.value);
      return q`(${f} is not null and length(${f}) >= cast(${n} as integer) and substr(${f}, length(${f}) - cast(${n} as integer) + 1) = ${c.value})`;
    }
    case 'contains': {
      if (c.value === '') return q`1 = 0`;
      const f = fieldRef(c.field, row);
      return q`(${f} is not null and replace(${f}, ${c.value}, '') <> ${f})`;
    }
    case 'token': {
      const name = raw(`m${ctes.length}`);
      ctes.push(
        q`${name} as materialized (select t.resource_id from search_tokens t where t.tenant_id = ${scope.tenantId} and t.resource_type = ${scope.resourceType} and t.param = ${c.param} and ${compile(c.where, scope, 't', ctes, textOrder)})`,
      );
      return q`${raw(row === 's' ? '"s"."id"' : '"r"."id"')} in (select resource_id from ${name})`;
    }
    case 'referenced': {
      const f = fieldRef(c.field, row);
      // A nested `s` shadows this one only inside its own subquery, where `f` is not used.
      const where = compile(
        c.where,
        { tenantId: scope.tenantId, resourceType: c.resourceType },
        's',
        ctes,
        textOrder,
      );
      return q`(${f} is not null and ${f} in (select s.id from resources s where s.tenant_id = ${scope.tenantId} and s.resource_type = ${c.resourceType} and s.deleted = 0 and ${where}))`;
    }
    case 'json-contains':
      if (c.text === '') return q`1 = 0`;
      return q`(replace(r.resource, ${c.text}, '') <> r.resource)`;
    case 'scan':
      throw new Error('a scan condition reached SQL: resolve scans before compiling');
  }
}

/**
 * The least string above every string that starts with `prefix`, in code point order: the prefix with its last
 * code point incremented (skipping the surrogate range), or undefined when there is none.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = (points.pop() as string).codePointAt(0) as number;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Length in characters as SQL counts them (code points), not UTF-16 units. */
function codePoints(text: string): number {
  return [...text].length;
}
