/**
 * `_include` and `_revinclude` (https://hl7.org/fhir/R4/search.html#include): the resources a page's matches
 * refer to, and the resources referring to them. Only allow-listed paths (no `:iterate`, no `*`), only types
 * the client may read (`AccessControl.canRead`), and at most {@link MAX_INCLUDED_PER_PAGE} per page, so one page
 * never fans out without bound; anything left out is said in a warning.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { parseReference } from '../../src/store/reference-key.js';
import { liveRowsByIds } from '../../src/store/search-query.js';
import type { AccessControl, FhirRequestContext } from '../access.js';
import { searchParamOf } from '../resources/resource-definition.js';
import { resourceDefinitionOf } from '../resources/supported-resources.js';
import { criteriaCondition } from './criteria-builder.js';
import { MAX_INCLUDED_PER_PAGE } from './search-limits.js';
import { searchPage, type SearchSources } from './search-page.js';
import { parseSearch, type ParsedSearch } from './search-parser.js';

export interface IncludeArgs {
  ctx: FhirRequestContext;
  access: AccessControl;
  search: ParsedSearch;
  matches: ReadonlyArray<Resource & { id: string }>;
  sources: SearchSources;
  zone: string;
}

export interface IncludeResult {
  included: Array<Resource & { id: string }>;
  warnings: OperationOutcomeIssue[];
}

const keyOf = (type: string, id: string) => `${type}/${id}`;

export async function resolveIncludes(args: IncludeArgs): Promise<IncludeResult> {
  const { ctx, access, search, matches } = args;
  const result: IncludeResult = { included: [], warnings: [] };
  if (matches.length === 0 || (search.includes.length === 0 && search.revIncludes.length === 0))
    return result;

  const seen = new Set(matches.map((m) => keyOf(m.resourceType, m.id)));
  const denied = new Set<string>();
  let truncated = false;

  // _include: the references of every match, in page order.
  const wanted: Array<{ type: string; id: string }> = [];
  const wantedKeys = new Set<string>();
  for (const { include, targetType } of search.includes) {
    for (const match of matches) {
      for (const reference of include.references(match)) {
        const target = parseReference(reference);
        if (!target || !include.targetTypes.includes(target.type as never)) continue;
        if (targetType !== undefined && target.type !== targetType) continue;
        if (!resourceDefinitionOf(target.type)) continue;
        if (!access.canRead(ctx, target.type)) {
          denied.add(target.type);
          continue;
        }
        const key = keyOf(target.type, target.id);
        if (seen.has(key) || wantedKeys.has(key)) continue;
        wantedKeys.add(key);
        wanted.push(target);
      }
    }
  }
  if (wanted.length > MAX_INCLUDED_PER_PAGE) {
    truncated = true;
    wanted.length = MAX_INCLUDED_PER_PAGE;
  }
  for (const resource of await readLive(ctx, wanted)) {
    seen.add(keyOf(resource.resourceType, resource.id));
    result.included.push(resource);
  }

  // _revinclude: resources of the source type whose reference parameter points at a match.
  for (const revInclude of search.revIncludes) {
    const remaining = MAX_INCLUDED_PER_PAGE - result.included.length;
    const definition = resourceDefinitionOf(revInclude.sourceType);
    const param = definition && searchParamOf(definition, revInclude.param);
    if (!definition || !param) continue;
    if (!access.canRead(ctx, revInclude.sourceType)) {
      denied.add(revInclude.sourceType);
      continue;
    }
    if (remaining <= 0) {
      truncated = true;
      break;
    }
    // The same search a client would make: `Slot?schedule=Schedule/a,Schedule/b…`.
    const revSearch = parseSearch(definition, [], { strict: false });
    revSearch.criteria.push({
      key: revInclude.param,
      param,
      modifier: undefined,
      values: matches.map((m) => ({
        kind: 'reference' as const,
        reference: { type: m.resourceType, id: m.id },
      })),
    });
    const condition = criteriaCondition(revSearch.criteria, args.zone);
    const rows = await searchPage(args.sources.of(definition.type), {
      ctx,
      definition,
      search: revSearch,
      condition,
      zone: args.zone,
      sort: definition.defaultSort,
      position: undefined,
      limit: remaining + 1,
    });
    if (rows.length > remaining) truncated = true;
    for (const row of rows.slice(0, remaining)) {
      const key = keyOf(row.resource.resourceType, row.resource.id);
      if (seen.has(key)) continue;
      seen.add(key);
      result.included.push(row.resource);
    }
  }

  if (truncated) {
    result.warnings.push({
      severity: 'warning',
      code: 'too-costly',
      diagnostics: `included resources are limited to ${MAX_INCLUDED_PER_PAGE} per page and some were left out; ask for a smaller _count`,
      expression: [search.revIncludes.length > 0 ? '_revinclude' : '_include'],
    });
  }
  for (const type of denied) {
    result.warnings.push({
      severity: 'warning',
      code: 'suppressed',
      diagnostics: `${type} resources were not included: this client may not read them`,
      expression: [search.includes.length > 0 ? '_include' : '_revinclude'],
    });
  }
  return result;
}

/** The live (not deleted) resources with these keys, in the order asked. */
async function readLive(
  ctx: FhirRequestContext,
  targets: ReadonlyArray<{ type: string; id: string }>,
): Promise<Array<Resource & { id: string }>> {
  const byType = new Map<string, string[]>();
  for (const t of targets) byType.set(t.type, [...(byType.get(t.type) ?? []), t.id]);
  const found = new Map<string, Resource & { id: string }>();
  for (const [type, ids] of byType) {
    for (const row of await liveRowsByIds(ctx.store, ctx.tenant.id, type, ids))
      found.set(keyOf(type, row.id), JSON.parse(row.resource) as Resource & { id: string });
  }
  return targets.flatMap((t) => found.get(keyOf(t.type, t.id)) ?? []);
}
