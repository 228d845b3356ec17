/**
 * Paging of the simulated records system's list calls (DESIGN.md section 2): `{items, page, pageSize, total}`,
 * 1-based pages of 50 by default, capped at 200. Like the systems it imitates, an oversized request is quietly
 * answered with the cap (the envelope says so) rather than rejected, so clients must read `pageSize` back.
 */
import type { SimPage } from './sim-types.js';
import type { SimQuery } from './sim-query-params.js';
import { optionalPositiveInt } from './sim-query-params.js';

/** Page size when the caller names none. */
export const SIM_DEFAULT_PAGE_SIZE = 50;
/** Largest page the sim answers; bigger requests get this many. */
export const SIM_MAX_PAGE_SIZE = 200;

/** Which page a caller asked for, after defaults and the cap. */
export interface SimPageRequest {
  page: number;
  pageSize: number;
}

/** Reads `page` and `pageSize` from the query; malformed values answer 400. */
export function parsePageRequest(query: SimQuery): SimPageRequest {
  const page = optionalPositiveInt(query, 'page') ?? 1;
  const pageSize = Math.min(
    optionalPositiveInt(query, 'pageSize') ?? SIM_DEFAULT_PAGE_SIZE,
    SIM_MAX_PAGE_SIZE,
  );
  return { page, pageSize };
}

/** One page of `items`, which must already be in their stable order. A page past the end is empty. */
export function paginate<T>(items: readonly T[], request: SimPageRequest): SimPage<T> {
  const first = (request.page - 1) * request.pageSize;
  return {
    items: items.slice(first, first + request.pageSize),
    page: request.page,
    pageSize: request.pageSize,
    total: items.length,
  };
}

/** Ascending by id: the order every list uses unless it says otherwise, so pages never overlap or skip. */
export function byId(a: { id: number }, b: { id: number }): number {
  return a.id - b.id;
}
