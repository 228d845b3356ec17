/**
 * Where search results come from. The store is one {@link SearchSource}; a type may have more (computed free
 * Slots, DESIGN.md section 4), and a search merges them: every source returns its matches in the same sort order
 * from the same keyset position, the pages are merged by sort key, and totals add up. A source that is not the
 * store can apply exactly the store's rules with {@link pageInMemory} (criteria evaluated over the row the store
 * would write for each resource).
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirRequestContext } from '../access.js';
import type { ResourceDefinition, SortExpression, SortedBy } from '../resources/resource-definition.js';
import type { PagePosition } from './search-cursor.js';
import type { ParsedSearch } from './search-parser.js';
import {
  matchesCondition,
  virtualRow,
  type Condition,
  type VirtualRow,
} from '../../src/store/search-condition.js';

/** What a source is asked for. */
export interface SourceQuery {
  ctx: FhirRequestContext;
  definition: ResourceDefinition;
  /** The parsed request, for hints such as the `start` window of a Slot search. */
  search: ParsedSearch;
  /** Every criterion as one condition; test a resource with `matchesCondition(virtualRow(r), condition)`. */
  condition: Condition;
  /** The zone dates without a zone were read in. */
  zone: string;
  sort: readonly SortedBy[];
  /** Continue after or before this row; undefined for the first page. */
  position: PagePosition | undefined;
  /** At most this many rows. */
  limit: number;
}

/** One result row: the resource and its sort key (see {@link sortKeyOf}). */
export interface SourceRow {
  resource: Resource & { id: string };
  key: string[];
}

/** A provider of search results for one resource type. */
export interface SearchSource {
  /**
   * Matching resources in sort order strictly after `position` (or strictly before it, nearest first, when the
   * position's direction is `before`), at most `limit`.
   */
  page(query: SourceQuery): Promise<SourceRow[]>;
  /** How many resources match the condition in total. */
  count(query: SourceQuery): Promise<number>;
  /** The resource with this id when this source has it (a read of a computed Slot); undefined otherwise. */
  read?(ctx: FhirRequestContext, id: string): Promise<Resource | undefined>;
}

/** The sort's signature, stored in cursors so a cursor is only used with the sort it was made for. */
export function sortSignature(sort: readonly SortedBy[]): string {
  return sort.map((s) => `${s.descending ? '-' : ''}${s.sort.name}`).join(',');
}

/** Each sort expression with its direction, and the id last (in the direction of the last sort). */
export function sortDirections(sort: readonly SortedBy[]): {
  expressions: Array<{ expression: SortExpression; descending: boolean }>;
  idDescending: boolean;
} {
  const expressions = sort.flatMap((s) =>
    s.sort.expressions.map((expression) => ({ expression, descending: s.descending })),
  );
  return { expressions, idDescending: sort[sort.length - 1]?.descending ?? false };
}

/** The sort key of a row, as the store computes it in SQL: missing values sort as the empty string. */
export function sortKeyOf(row: VirtualRow, sort: readonly SortedBy[]): string[] {
  return keyOf(row, sortDirections(sort).expressions);
}

function keyOf(row: VirtualRow, expressions: ReturnType<typeof sortDirections>['expressions']): string[] {
  return expressions.map(({ expression }) => {
    switch (expression.kind) {
      case 'column':
        return row[expression.column] ?? '';
      case 'token': {
        const values = row.tokens.filter((t) => t.param === expression.param).map((t) => t.value);
        values.sort((a, b) =>
          expression.pick === 'longest'
            ? [...b].length - [...a].length || compareText(a, b)
            : compareText(a, b),
        );
        return values[0] ?? '';
      }
    }
  });
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders rows by sort key then id; `reverse` for travelling backwards from a `before` position. */
export function rowComparator(
  sort: readonly SortedBy[],
  reverse = false,
): (a: SourceRow, b: SourceRow) => number {
  const { expressions, idDescending } = sortDirections(sort);
  return (a, b) => {
    for (let i = 0; i < expressions.length; i++) {
      const c = compareText(a.key[i] ?? '', b.key[i] ?? '');
      if (c !== 0) return (expressions[i]?.descending ? -c : c) * (reverse ? -1 : 1);
    }
    const c = compareText(a.resource.id, b.resource.id);
    return (idDescending ? -c : c) * (reverse ? -1 : 1);
  };
}

/** Whether `row` lies strictly beyond `position` in the direction of travel. */
function beyond(row: SourceRow, position: PagePosition, sort: readonly SortedBy[]): boolean {
  const reverse = position.direction === 'before';
  const pivot: SourceRow = {
    resource: { resourceType: 'Basic', id: position.id } as SourceRow['resource'],
    key: position.key,
  };
  return rowComparator(sort, reverse)(row, pivot) > 0;
}

/**
 * A page from resources held in memory, with the store's semantics: criteria evaluated on the row the store
 * would write (`rowOf`, by default computed afresh; a source that keeps its resources may keep their rows), the
 * same sort keys and keyset position. For sources that compute their resources. A condition
 * naming other rows (Slot `practitioner`, `location`) must be resolved first: `resolveReferenced` in
 * `referenced-rows.ts`.
 */
export function pageInMemory(
  resources: readonly Resource[],
  query: SourceQuery,
  rowOf: (resource: Resource) => VirtualRow = virtualRow,
): SourceRow[] {
  return pageOfMatches(matchInMemory(resources, query, rowOf), query);
}

/** How many of `resources` match, with the store's semantics. */
export function countInMemory(
  resources: readonly Resource[],
  query: SourceQuery,
  rowOf: (resource: Resource) => VirtualRow = virtualRow,
): number {
  return matchInMemory(resources, query, rowOf).length;
}

/**
 * The rows of `resources` that match `query.condition`, with their sort keys, unordered: what {@link pageOfMatches}
 * pages and whose length is the total. For a source that answers a page and a total from the same resources.
 */
export function matchInMemory(
  resources: readonly Resource[],
  query: SourceQuery,
  rowOf: (resource: Resource) => VirtualRow = virtualRow,
): SourceRow[] {
  // The sort's expressions once per page, not once per resource.
  const { expressions } = sortDirections(query.sort);
  const rows: SourceRow[] = [];
  for (const resource of resources) {
    if (resource.resourceType !== query.definition.type || resource.id === undefined) continue;
    const row = rowOf(resource);
    if (matchesCondition(row, query.condition))
      rows.push({ resource: resource as SourceRow['resource'], key: keyOf(row, expressions) });
  }
  return rows;
}

/** The page of `matches` ({@link matchInMemory} of the same query) the query's position and limit ask for. */
export function pageOfMatches(matches: readonly SourceRow[], query: SourceQuery): SourceRow[] {
  const position = query.position;
  const candidates =
    position === undefined ? [...matches] : matches.filter((row) => beyond(row, position, query.sort));
  return firstInOrder(candidates, query.limit, rowComparator(query.sort, position?.direction === 'before'));
}

/**
 * The first `limit` of `rows` in `compare`'s order (a total order), in that order: a page of tens of thousands of
 * computed slots keeps the best `limit` as it goes instead of sorting them all. May reorder `rows`.
 */
export function firstInOrder<T>(rows: T[], limit: number, compare: (a: T, b: T) => number): T[] {
  if (limit <= 0) return [];
  if (rows.length <= 4 * limit) return rows.sort(compare).slice(0, limit);
  const first: T[] = [];
  for (const row of rows) {
    if (first.length === limit && compare(row, first[limit - 1] as T) >= 0) continue;
    let low = 0;
    let high = first.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (compare(first[middle] as T, row) <= 0) low = middle + 1;
      else high = middle;
    }
    first.splice(low, 0, row);
    if (first.length > limit) first.pop();
  }
  return first;
}

/** Merges the sources' pages into one, in the direction of travel, without repeating an id. */
export function mergePages(pages: readonly SourceRow[][], query: SourceQuery): SourceRow[] {
  const seen = new Set<string>();
  return pages
    .flat()
    .sort(rowComparator(query.sort, query.position?.direction === 'before'))
    .filter((row) => !seen.has(row.resource.id) && seen.add(row.resource.id))
    .slice(0, query.limit);
}
