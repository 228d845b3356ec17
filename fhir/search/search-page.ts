/**
 * Running one search over every source of its type: pages merged by sort key, totals summed.
 */
import { mergePages, type SearchSource, type SourceQuery, type SourceRow } from './search-sources.js';

/** The search sources of each resource type. */
export interface SearchSources {
  /** The store first, then any further sources of `type`. */
  of(type: string): readonly SearchSource[];
}

/** `query.limit` rows from all sources together, in the direction of travel. */
export async function searchPage(sources: readonly SearchSource[], query: SourceQuery): Promise<SourceRow[]> {
  if (sources.length === 1) return (sources[0] as SearchSource).page(query);
  // Together: on PostgreSQL each source's reads are round trips of their own (on SQLite they run one at a time
  // anyway), and the merge depends only on each page's rows, in the sources' order.
  const pages = await Promise.all(sources.map((source) => source.page(query)));
  return mergePages(pages, query);
}

/** The number of matches over all sources. */
export async function searchTotal(sources: readonly SearchSource[], query: SourceQuery): Promise<number> {
  let total = 0;
  for (const source of sources) total += await source.count(query);
  return total;
}
