/**
 * `GET [base]/[type]?…` and `POST [base]/[type]/_search` (https://hl7.org/fhir/R4/http.html#search): a
 * searchset Bundle of one page of matches from every search source of the type, keyset-paged (`self`, `first`,
 * `next`, `previous` links with opaque cursors), with `total`, `_include`/`_revinclude`d resources, `_summary`
 * and `_elements` applied, and an OperationOutcome entry for anything ignored or clamped.
 */
import type { BundleLink, Resource } from '@medplum/fhirtypes';
import type { FhirRequestContext } from '../access.js';
import type { ResourceDefinition } from '../resources/resource-definition.js';
import { resourceDefinitionOf } from '../resources/supported-resources.js';
import { bundleLinks, linkUrl, searchsetBundle } from '../search/bundle-builder.js';
import { criteriaCondition } from '../search/criteria-builder.js';
import { selectElements } from '../search/element-filter.js';
import { resolveIncludes } from '../search/includes.js';
import { practiceZone } from '../search/practice-zone.js';
import { decodeCursor, encodeCursor, type PagePosition } from '../search/search-cursor.js';
import { searchPage, searchTotal } from '../search/search-page.js';
import { parseSearch } from '../search/search-parser.js';
import { sortSignature, type SourceQuery, type SourceRow } from '../search/search-sources.js';
import { unknownTypeCodeWarnings } from '../search/unknown-type-codes.js';
import { audited, type InteractionDeps, type InteractionResult } from './interaction-deps.js';

export interface SearchRequest {
  /** The parameters in request order (query string, then form body). */
  params: ReadonlyArray<readonly [string, string]>;
  /** `Prefer: handling=strict`. */
  strict: boolean;
}

export function search(
  ctx: FhirRequestContext,
  deps: InteractionDeps,
  definition: ResourceDefinition,
  request: SearchRequest,
): Promise<InteractionResult> {
  return audited(ctx, deps, 'search', definition.type, async () => {
    const parsed = parseSearch(definition, request.params, { strict: request.strict });
    const codeWarnings = await unknownTypeCodeWarnings(ctx, definition.type, request.params, request.strict);
    const zone = parsed.needsZone ? await practiceZone(ctx) : 'UTC';
    const signature = sortSignature(parsed.sort);
    const position = parsed.cursor === undefined ? undefined : decodeCursor(parsed.cursor, signature);
    const sources = deps.sources.of(definition.type);
    const query: SourceQuery = {
      ctx,
      definition,
      search: parsed,
      condition: criteriaCondition(parsed.criteria, zone),
      zone,
      sort: parsed.sort,
      position,
      // One more than a page: whether it comes back says whether there is more.
      limit: parsed.count + 1,
    };
    const countOnly = parsed.summary === 'count' || parsed.count === 0;
    const rows = countOnly ? [] : await searchPage(sources, query);
    const more = rows.length > parsed.count;
    // A first page that holds every match is its own total: counting again would run the search twice for nothing.
    const wholeResult = !countOnly && position === undefined && !more;
    const total =
      parsed.total === 'none' && !countOnly
        ? undefined
        : wholeResult
          ? rows.length
          : await searchTotal(sources, query);

    const page = rows.slice(0, parsed.count);
    const backwards = position?.direction === 'before';
    if (backwards) page.reverse();
    const matches = page.map((row) => row.resource);

    const base = deps.baseUrl(ctx);
    const link = (cursor: string | undefined) =>
      linkUrl(
        base,
        definition.type,
        cursor === undefined ? parsed.linkParams : [...parsed.linkParams, ['_cursor', cursor]],
      );
    const cursorAt = (p: PagePosition) => encodeCursor(p, signature);
    const first = page[0];
    const last = page[page.length - 1];
    const hasNext = !countOnly && (backwards ? position !== undefined : more);
    const hasPrevious = !countOnly && position !== undefined && (backwards ? more : true);
    // An empty page after a cursor (everything beyond it was deleted meanwhile) has no row to continue from:
    // its other links lead back to the first page.
    const continueFrom = (direction: 'after' | 'before', row: SourceRow | undefined) =>
      link(row ? cursorAt({ direction, key: row.key, id: row.resource.id }) : undefined);
    const links: BundleLink[] = bundleLinks([
      ['self', link(parsed.cursor)],
      ['first', countOnly ? undefined : link(undefined)],
      ['previous', hasPrevious ? continueFrom('before', first) : undefined],
      ['next', hasNext ? continueFrom('after', last) : undefined],
    ]);

    const includes = countOnly
      ? { included: [], warnings: [] }
      : await resolveIncludes({
          ctx,
          access: deps.access,
          search: parsed,
          matches,
          sources: deps.sources,
          zone,
        });
    const selection = { summary: parsed.summary, elements: parsed.elements };
    const bundle = searchsetBundle({
      base,
      matches: matches.map((r) => selectElements(r, definition, selection)),
      included: includes.included.map((r) =>
        selectElements(r, resourceDefinitionOf(r.resourceType), {
          summary: parsed.summary,
          elements: undefined,
        }),
      ),
      warnings: [...parsed.warnings, ...codeWarnings, ...includes.warnings],
      total,
      links,
    });
    return {
      status: 200,
      body: bundle,
      resourceIds: [...matches, ...includes.included].map((r: Resource) => r.id ?? ''),
      parameters: parsed.parameterNames,
    };
  });
}
