/**
 * How a sync pass takes in one set's records (issue 16, sync-diff): in apply pages of a fixed size whatever the
 * records system's own paging, each with its skip lookup (the stored source hashes of its upstream ids) sent one
 * page ahead, so the database answers it while the pass reads and applies the page before.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { UpstreamRecord } from '../src/connectors/connector.js';

/** A set's records: all of them, or pages as the records system hands them out. */
export type RecordPages<R extends Resource = Resource> =
  readonly UpstreamRecord<R>[] | AsyncIterable<readonly UpstreamRecord<R>[]>;

/**
 * The records in pages of `size` (the last one shorter): a longer page from the records system is split, shorter
 * ones (the sim lists 200 at a time) are put together, so a pass makes its per-page queries once per `size` records,
 * however the records system pages. A record a page lists again (it moved to a page not read yet) starts a new page,
 * so the two listings are applied one after the other, as when each page was applied alone; a record listed twice
 * within one page still counts once, as the differ counts it.
 */
export async function* applyPages<R extends Resource>(
  records: RecordPages<R>,
  size: number,
): AsyncGenerator<readonly UpstreamRecord<R>[]> {
  const pages: Iterable<readonly UpstreamRecord<R>[]> | AsyncIterable<readonly UpstreamRecord<R>[]> = isArray(
    records,
  )
    ? [records]
    : records;
  let pending: UpstreamRecord<R>[] = [];
  // The records in `pending`: which page of the records system listed each.
  const listedOn = new Map<string, number>();
  let pageNumber = 0;
  for await (const page of pages) {
    pageNumber++;
    for (const record of page) {
      const earlier = listedOn.get(record.upstreamId);
      if (earlier !== undefined && earlier !== pageNumber) {
        yield pending;
        pending = [];
        listedOn.clear();
      }
      pending.push(record);
      listedOn.set(record.upstreamId, pageNumber);
      if (pending.length === size) {
        yield pending;
        pending = [];
        listedOn.clear();
      }
    }
  }
  if (pending.length > 0) yield pending;
}

function isArray<R extends Resource>(records: RecordPages<R>): records is readonly UpstreamRecord<R>[] {
  return Array.isArray(records);
}

/** A page and what its lookup found. */
export interface LookedUpPage<R extends Resource, L> {
  page: readonly UpstreamRecord<R>[];
  found: L;
}

/**
 * `pages` with `lookup` of each, the next page read and its lookup sent before the current one is handed on: the
 * database (PostgreSQL: a server process of its own) answers it while the pass applies the current page, where
 * one after the other the pass waited for every lookup. A lookup sent before a commit of the pass (`commits()` has
 * moved since) is sent again, so each page is compared with everything the pass committed before it, as when each
 * lookup followed the page before. Holds two pages at the most.
 */
export async function* withLookupsAhead<R extends Resource, L>(
  pages: AsyncIterable<readonly UpstreamRecord<R>[]>,
  lookup: (page: readonly UpstreamRecord<R>[]) => Promise<L>,
  commits: () => number,
): AsyncGenerator<LookedUpPage<R, L>> {
  const iterator = pages[Symbol.asyncIterator]();
  const next = async () => {
    const read = await iterator.next();
    if (read.done) return undefined;
    const sentAfter = commits();
    const found = lookup(read.value);
    // Awaited when its page is applied; a pass that fails first must not leave it rejected unhandled.
    found.catch(() => undefined);
    return { page: read.value, found, sentAfter };
  };
  try {
    let current = await next();
    while (current !== undefined) {
      const following = await next();
      const found = current.sentAfter === commits() ? await current.found : await lookup(current.page);
      yield { page: current.page, found };
      current = following;
    }
  } finally {
    // A pass that stops early (it failed) ends the records system's listing too, as `for await` over it would.
    await iterator.return?.();
  }
}
