/**
 * Search criteria as a small condition tree over one stored row: its `resources` columns, its `search_tokens`
 * and its JSON text. The same tree compiles to SQL for the store (`condition-sql.ts`) and evaluates in memory
 * over a resource that is not stored (a computed Slot), so every source of results applies identical rules.
 *
 * Comparisons are null-safe: a comparison with a missing value is false, never SQL's unknown, so `not` means
 * what it says in both places.
 */
import type { Resource } from '@medplum/fhirtypes';
import { searchIndexFor, type SearchToken } from './search-parameters/index-rows.js';
import type { RowColumn, SearchColumns } from './search-parameters/search-parameter.js';

export type Comparison = '=' | '<' | '<=' | '>' | '>=';

/** A field a condition reads: a `resources` column, or `value` inside a {@link TokenCondition}. */
export type ConditionField = RowColumn | 'value';

export type Condition =
  | { op: 'true' }
  | { op: 'false' }
  | { op: 'and'; parts: Condition[] }
  | { op: 'or'; parts: Condition[] }
  | { op: 'not'; part: Condition }
  | { op: 'compare'; field: ConditionField; comparison: Comparison; value: string }
  | { op: 'in'; field: ConditionField; values: string[] }
  | { op: 'is-null'; field: ConditionField }
  | { op: 'starts-with'; field: ConditionField; value: string }
  | { op: 'ends-with'; field: ConditionField; value: string }
  | { op: 'contains'; field: ConditionField; value: string }
  | TokenCondition
  /** The stored JSON text contains `text` (case-sensitive). */
  | { op: 'json-contains'; text: string }
  /**
   * A match decided here, not by the store: `test` runs over the resource. Before SQL is built the store search
   * replaces it with the ids it matched among the tenant's rows (`scan` in `store-source.ts`).
   */
  | ScanCondition
  | ReferencedCondition;

/** Some `search_tokens` row of the resource under `param` satisfies `where` (whose field is `value`). */
export interface TokenCondition {
  op: 'token';
  param: string;
  where: Condition;
}

export interface ScanCondition {
  op: 'scan';
  /** The search parameter it serves, for errors. */
  parameter: string;
  test: (resource: Resource) => boolean;
}

/**
 * The row's `field` holds the id of a live `resourceType` row of the same tenant that satisfies `where` (a Slot
 * whose Schedule has some actor). SQL tests it with a subquery; in memory it must first be replaced by the ids it
 * matches (`resolveReferenced` in `referenced-rows.ts`), since a row alone cannot answer it.
 */
export interface ReferencedCondition {
  op: 'referenced';
  field: RowColumn;
  resourceType: string;
  where: Condition;
}

export const TRUE: Condition = { op: 'true' };
export const FALSE: Condition = { op: 'false' };

/** Conjunction, simplified: `true` parts drop out, a `false` part decides. */
export function and(parts: Condition[]): Condition {
  const kept = parts.filter((p) => p.op !== 'true');
  if (kept.some((p) => p.op === 'false')) return FALSE;
  if (kept.length === 0) return TRUE;
  return kept.length === 1 ? (kept[0] as Condition) : { op: 'and', parts: kept };
}

/** Disjunction, simplified: `false` parts drop out, a `true` part decides. */
export function or(parts: Condition[]): Condition {
  const kept = parts.filter((p) => p.op !== 'false');
  if (kept.some((p) => p.op === 'true')) return TRUE;
  if (kept.length === 0) return FALSE;
  return kept.length === 1 ? (kept[0] as Condition) : { op: 'or', parts: kept };
}

export function not(part: Condition): Condition {
  if (part.op === 'true') return FALSE;
  if (part.op === 'false') return TRUE;
  return { op: 'not', part };
}

export const compare = (field: ConditionField, comparison: Comparison, value: string): Condition => ({
  op: 'compare',
  field,
  comparison,
  value,
});

export const token = (param: string, where: Condition): Condition => ({ op: 'token', param, where });

/** A resource as the store would hold it, for evaluating conditions in memory. */
export interface VirtualRow extends SearchColumns {
  id: string;
  last_updated: string | null;
  /** The JSON text, as `JSON.stringify` writes it (the store's own form). */
  json: string;
  tokens: SearchToken[];
  resource: Resource;
}

/** The row the store would write for `resource`: the same columns and tokens, computed by the same functions. */
export function virtualRow(resource: Resource): VirtualRow {
  const lastUpdated = resource.meta?.lastUpdated;
  const index = searchIndexFor(resource);
  return {
    id: resource.id ?? '',
    last_updated: lastUpdated ? new Date(lastUpdated).toISOString() : null,
    ...index.columns,
    json: JSON.stringify(resource),
    tokens: index.tokens,
    resource,
  };
}

/** Whether `row` satisfies `condition`, with the store's semantics. */
export function matchesCondition(row: VirtualRow, condition: Condition): boolean {
  return evaluate(condition, (field) => (field === 'value' ? null : row[field]), row);
}

function evaluate(c: Condition, field: (name: ConditionField) => string | null, row: VirtualRow): boolean {
  switch (c.op) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'and':
      return c.parts.every((p) => evaluate(p, field, row));
    case 'or':
      return c.parts.some((p) => evaluate(p, field, row));
    case 'not':
      return !evaluate(c.part, field, row);
    case 'compare': {
      const v = field(c.field);
      if (v === null) return false;
      switch (c.comparison) {
        case '=':
          return v === c.value;
        case '<':
          return v < c.value;
        case '<=':
          return v <= c.value;
        case '>':
          return v > c.value;
        case '>=':
          return v >= c.value;
      }
      return false;
    }
    case 'in': {
      const v = field(c.field);
      return v !== null && c.values.includes(v);
    }
    case 'is-null':
      return field(c.field) === null;
    case 'starts-with': {
      const v = field(c.field);
      return v !== null && v.startsWith(c.value);
    }
    case 'ends-with': {
      const v = field(c.field);
      return v !== null && v.endsWith(c.value);
    }
    case 'contains': {
      const v = field(c.field);
      return v !== null && c.value !== '' && v.includes(c.value);
    }
    case 'token':
      return row.tokens.some(
        (t) => t.param === c.param && evaluate(c.where, (name) => (name === 'value' ? t.value : null), row),
      );
    case 'json-contains':
      return c.text !== '' && row.json.includes(c.text);
    case 'scan':
      return c.test(row.resource);
    case 'referenced':
      throw new Error(
        'a referenced condition reached an in-memory match: resolve it first (resolveReferenced)',
      );
  }
}

/** Every scan condition inside `condition`. */
export function scansOf(condition: Condition): ScanCondition[] {
  return leavesOf(condition, 'scan');
}

/** `condition` with each scan replaced by what `replace` gives for it. */
export function replaceScans(condition: Condition, replace: (scan: ScanCondition) => Condition): Condition {
  return replaceLeaves(condition, 'scan', replace);
}

/** The ops of conditions that hold no condition over the same row: all but `and`, `or`, `not` and `token`. */
type LeafOp = Exclude<Condition['op'], 'and' | 'or' | 'not' | 'token'>;

/** The member of {@link Condition} whose op is `Op`. */
type ConditionOf<Op extends Condition['op']> = Extract<Condition, { op: Op }>;

function isOp<Op extends Condition['op']>(condition: Condition, op: Op): condition is ConditionOf<Op> {
  return condition.op === op;
}

/**
 * Every leaf condition with op `op` inside `condition`, through `and`, `or`, `not` and `token`. A referenced
 * condition is a leaf: its `where` runs over other rows (a Schedule's), which no scan parameter reads, and is
 * resolved on its own (`resolveReferenced` in `referenced-rows.ts`).
 */
export function leavesOf<Op extends LeafOp>(condition: Condition, op: Op): ConditionOf<Op>[] {
  switch (condition.op) {
    case 'and':
    case 'or':
      return condition.parts.flatMap((p) => leavesOf(p, op));
    case 'not':
      return leavesOf(condition.part, op);
    case 'token':
      return leavesOf(condition.where, op);
    case 'true':
    case 'false':
    case 'compare':
    case 'in':
    case 'is-null':
    case 'starts-with':
    case 'ends-with':
    case 'contains':
    case 'json-contains':
    case 'scan':
    case 'referenced':
      return isOp(condition, op) ? [condition] : [];
  }
}

/**
 * `condition` with each leaf condition with op `op` (as {@link leavesOf} finds them) replaced by what `replace`
 * gives for it, the `and`, `or` and `not` around it simplified again.
 */
export function replaceLeaves<Op extends LeafOp>(
  condition: Condition,
  op: Op,
  replace: (leaf: ConditionOf<Op>) => Condition,
): Condition {
  switch (condition.op) {
    case 'and':
      return and(condition.parts.map((p) => replaceLeaves(p, op, replace)));
    case 'or':
      return or(condition.parts.map((p) => replaceLeaves(p, op, replace)));
    case 'not':
      return not(replaceLeaves(condition.part, op, replace));
    case 'token':
      return token(condition.param, replaceLeaves(condition.where, op, replace));
    case 'true':
    case 'false':
    case 'compare':
    case 'in':
    case 'is-null':
    case 'starts-with':
    case 'ends-with':
    case 'contains':
    case 'json-contains':
    case 'scan':
    case 'referenced':
      return isOp(condition, op) ? replace(condition) : condition;
  }
}
