/**
 * `_history` (https://hl7.org/fhir/R4/http.html#history): its parameters, paging links and Bundle, over the
 * store's keyset-paged version history (`src/store/history-query.ts`).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { historyRowCount, historyRows, type HistoryFilter } from '../../src/store/history-query.js';
import type { FhirRequestContext } from '../access.js';
import { bundleLinks, historyBundle, linkUrl, type HistoryVersion } from './bundle-builder.js';
import { instantRange, parseDateSearchValue } from './date-search.js';
import { decodeCursor, encodeCursor, type PagePosition } from './search-cursor.js';
import { invalidParameter, unsupportedParameter } from './search-errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './search-limits.js';

export interface HistoryQuery {
  ctx: FhirRequestContext;
  resourceType: string;
  /** One resource's history; undefined for the whole type. */
  id?: string;
  /** Only versions written at or after this ISO UTC instant (`_since`). */
  since?: string;
  position?: PagePosition;
  limit: number;
}

/** The cursor key of a version: last updated, id and version, as text. */
export function historyKey(version: HistoryVersion): { key: string[]; id: string } {
  return { key: [version.lastUpdated, String(version.versionId)], id: version.id };
}

/** Versions newest first (nearest first, i.e. oldest first, when travelling `before` a position). */
export async function historyPage(query: HistoryQuery): Promise<HistoryVersion[]> {
  const rows = await historyRows(query.ctx.store, filterOf(query), query.position, query.limit);
  return rows.map((row) => ({
    resourceType: row.resource_type,
    id: row.id,
    versionId: row.version_id,
    lastUpdated: row.last_updated,
    deleted: row.deleted === 1,
    resource: JSON.parse(row.resource) as Resource,
  }));
}

/** How many versions the query covers, regardless of paging. */
export function historyCount(query: HistoryQuery): Promise<number> {
  return historyRowCount(query.ctx.store, filterOf(query));
}

function filterOf(query: HistoryQuery): HistoryFilter {
  return {
    tenantId: query.ctx.tenant.id,
    resourceType: query.resourceType,
    ...(query.id !== undefined ? { id: query.id } : {}),
    ...(query.since !== undefined ? { since: query.since } : {}),
  };
}

/** The parameters of a history request. */
export interface HistoryParams {
  count: number;
  since: string | undefined;
  cursor: string | undefined;
  linkParams: Array<[string, string]>;
  parameterNames: string[];
}

/**
 * Reads `_count`, `_since` (an instant; a date or a time without a zone is read in `zone`) and the paging cursor;
 * other parameters are ignored, or a 400 under `Prefer: handling=strict`.
 */
export function parseHistoryParams(
  params: ReadonlyArray<readonly [string, string]>,
  options: { strict: boolean; zone: () => string },
): HistoryParams {
  const parsed: HistoryParams = {
    count: DEFAULT_PAGE_SIZE,
    since: undefined,
    cursor: undefined,
    linkParams: [],
    parameterNames: [],
  };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (name === '_format' || name === '_pretty') {
      parsed.linkParams.push([name, value]);
      continue;
    }
    if (seen.has(name) && ['_count', '_since', '_cursor'].includes(name))
      throw invalidParameter(name, `${name} may be given only once`);
    seen.add(name);
    switch (name) {
      case '_count': {
        if (!/^\d{1,9}$/.test(value) || value === '0')
          throw invalidParameter(name, '_count must be a positive integer');
        const requested = Number(value);
        // Clamped silently: a history Bundle has no place for a warning entry (every entry is a version).
        parsed.count = Math.min(requested, MAX_PAGE_SIZE);
        parsed.linkParams.push([name, String(parsed.count)]);
        break;
      }
      case '_since': {
        const date = /^\d/.test(value) ? parseDateSearchValue(value) : undefined;
        if (!date) throw invalidParameter(name, '_since must be an instant such as 2026-11-24T10:00:00Z');
        parsed.since = instantRange(date, date.zoned ? 'UTC' : options.zone()).start;
        parsed.linkParams.push([name, value]);
        break;
      }
      case '_cursor':
        parsed.cursor = value;
        break;
      default: {
        const why = `${name} is not supported on _history`;
        if (options.strict) throw unsupportedParameter(name, why);
        continue;
      }
    }
    if (!parsed.parameterNames.includes(name)) parsed.parameterNames.push(name);
  }
  return parsed;
}

/** Cursors of history pages belong to this fixed order. */
const HISTORY_ORDER = '-_lastUpdated,-_id,-version';

/**
 * One page of history as a Bundle with `self`, `first`, `previous` and `next` links, and the ids it returned.
 * `path` is the request path below the tenant base (`Patient/_history`, `Patient/123/_history`).
 */
export async function historyResult(
  query: Omit<HistoryQuery, 'position' | 'limit' | 'since'>,
  params: HistoryParams,
  base: string,
  path: string,
): Promise<{ bundle: Bundle; resourceIds: string[] }> {
  const position = params.cursor === undefined ? undefined : decodeCursor(params.cursor, HISTORY_ORDER);
  const full: HistoryQuery = { ...query, since: params.since, position, limit: params.count + 1 };
  const total = await historyCount(full);
  const rows = await historyPage(full);
  const more = rows.length > params.count;
  const page = rows.slice(0, params.count);
  const backwards = position?.direction === 'before';
  if (backwards) page.reverse();
  const link = (cursor: string | undefined) =>
    linkUrl(
      base,
      path,
      cursor === undefined ? params.linkParams : [...params.linkParams, ['_cursor', cursor]],
    );
  const continueFrom = (direction: 'after' | 'before', version: HistoryVersion | undefined) =>
    link(version ? encodeCursor({ direction, ...historyKey(version) }, HISTORY_ORDER) : undefined);
  const bundle = historyBundle({
    base,
    versions: page,
    total,
    links: bundleLinks([
      ['self', link(params.cursor)],
      ['first', link(undefined)],
      [
        'previous',
        position !== undefined && (backwards ? more : true) ? continueFrom('before', page[0]) : undefined,
      ],
      [
        'next',
        (backwards ? position !== undefined : more)
          ? continueFrom('after', page[page.length - 1])
          : undefined,
      ],
    ]),
  });
  return { bundle, resourceIds: [...new Set(page.map((v) => v.id))] };
}
