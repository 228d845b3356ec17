/**
 * Splitting bulk statements so none exceeds the bind parameter limit both dialects accept (DESIGN.md section 3).
 */
import { sql, type RawBuilder } from 'kysely';
import { MAX_BIND_PARAMETERS, type StoreCapabilities } from './dialect-capabilities.js';

/** `items` in consecutive slices of at most `size`. @see DESIGN.md section 3 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`chunk size must be a positive integer: ${size}`);
  const parts: T[][] = [];
  for (let start = 0; start < items.length; start += size) parts.push(items.slice(start, start + size));
  return parts;
}

/** How many rows of `columns` bound values one multi-row insert may carry. @see DESIGN.md section 3 */
export function rowsPerInsert(columns: number): number {
  return Math.max(1, Math.floor(MAX_BIND_PARAMETERS / columns));
}

/** How many values one `in (…)` list may carry beside a few other parameters. */
export const VALUES_PER_IN_LIST = MAX_BIND_PARAMETERS - 100;

/**
 * The rows of a lookup by an `in (…)` list of `values`: `select` runs once per slice of the distinct values that
 * fits one list ({@link VALUES_PER_IN_LIST}), in order, and the rows of every slice are gathered. No values, no
 * query. @see DESIGN.md section 3
 */
export async function selectInChunks<V, R>(
  values: Iterable<V>,
  select: (part: V[]) => Promise<readonly R[]>,
): Promise<R[]> {
  const rows: R[] = [];
  for (const part of chunk([...new Set(values)], VALUES_PER_IN_LIST)) {
    for (const row of await select(part)) rows.push(row);
  }
  return rows;
}

/**
 * The right side of `column in …` for a lookup by a list of text `values` (ids): where the dialect binds text arrays
 * (PostgreSQL) one array parameter, `in (select unnest($n::text[]))`, else (SQLite) the `(?, ?, …)` list. On PostgreSQL an in-list is a bind parameter
 * per value, which the client compiles, serialises and the server parses and plans value by value, and each
 * length is a prepared statement of its own (`database.ts`); the array is one parameter and one statement for any
 * length, and the planner reads it as a set to probe the index with rather than a list to filter a scan by
 * (issue 16, sync-diff: a pass looks up 1,000 upstream ids a page). Use with {@link selectInChunks}, which keeps
 * the values distinct and each list within the bind limit SQLite needs.
 */
export function anyOf(
  capabilities: Pick<StoreCapabilities, 'textArrayParameters'>,
  values: readonly string[],
): RawBuilder<string> | readonly string[] {
  return capabilities.textArrayParameters ? sql<string>`(select unnest(${values}::text[]))` : values;
}
