/**
 * Builds the search index of one resource version from the search spec (DESIGN.md section 3): the search columns of
 * its `resources` row and its `search_tokens` rows. The write path stores them beside each version; the facade
 * builds the same values for resources it computes (free Slots) so one condition matches both.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { ResourceSearchSpec, SearchColumns } from './search-parameter.js';
import { searchSpecOf } from './search-specs.js';

/** One search value of one resource: `param` is the `search_tokens` parameter it serves. */
export interface SearchToken {
  param: string;
  value: string;
}

/** The index of one resource version. */
export interface SearchIndex {
  columns: SearchColumns;
  tokens: SearchToken[];
}

const NO_COLUMNS: SearchColumns = Object.freeze({
  period_start: null,
  period_end: null,
  status: null,
  ref_patient: null,
  ref_practitioner: null,
  ref_location: null,
  ref_schedule: null,
});

/**
 * The search columns and tokens of `resource`; a type without a spec has neither.
 *
 * @see DESIGN.md section 3
 */
export function searchIndexFor(resource: Resource): SearchIndex {
  const spec = searchSpecOf(resource.resourceType);
  if (!spec) return { columns: { ...NO_COLUMNS }, tokens: [] };
  return { columns: { ...NO_COLUMNS, ...spec.columns(resource) }, tokens: tokensOf(spec, resource) };
}

/**
 * The search tokens of `resource`, once each, in the spec's parameter order: the values every token parameter's
 * extractor gives, under the parameter's token name, then the spec's further indexed tokens.
 *
 * @see DESIGN.md section 3
 */
export function searchTokensFor(resource: Resource): SearchToken[] {
  const spec = searchSpecOf(resource.resourceType);
  return spec ? tokensOf(spec, resource) : [];
}

/**
 * The search columns of `resource` (all null for a type without a spec).
 *
 * @see DESIGN.md section 3
 */
export function searchColumnsFor(resource: Resource): SearchColumns {
  return searchIndexFor(resource).columns;
}

function tokensOf(spec: ResourceSearchSpec, resource: Resource): SearchToken[] {
  const seen = new Set<string>();
  const tokens: SearchToken[] = [];
  const add = (param: string, values: ReadonlyArray<string | undefined>) => {
    for (const value of values) {
      if (value === undefined || value === '') continue;
      const key = `${param}\u0000${value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      tokens.push({ param, value });
    }
  };
  for (const parameter of spec.parameters) {
    if (!parameter.tokens) continue;
    const target = parameter.target;
    add('param' in target ? target.param : parameter.name, parameter.tokens(resource));
  }
  for (const indexed of spec.indexedTokens) add(indexed.name, indexed.tokens(resource));
  return tokens;
}
