/**
 * Resolving {@link ReferencedCondition}s for sources that match in memory: each becomes the list of ids of the
 * referenced rows it matches, found by the same SQL the store search embeds as a subquery, so a computed Slot and
 * a stored one answer `practitioner=` identically.
 */
import { matchingIds } from '../../src/store/search-query.js';
import type { FhirRequestContext } from '../access.js';
import {
  leavesOf,
  replaceLeaves,
  type Condition,
  type ReferencedCondition,
} from '../../src/store/search-condition.js';

/** `condition` with every referenced condition replaced by `field in (ids of the referenced rows it matches)`. */
export async function resolveReferenced(ctx: FhirRequestContext, condition: Condition): Promise<Condition> {
  const found = new Map<ReferencedCondition, string[]>();
  for (const referenced of leavesOf(condition, 'referenced'))
    found.set(referenced, await referencedIds(ctx, referenced));
  return replaceLeaves(condition, 'referenced', (r) => ({
    op: 'in',
    field: r.field,
    values: found.get(r) ?? [],
  }));
}

/** Ids of the tenant's live rows of the referenced type that satisfy its `where`. */
async function referencedIds(ctx: FhirRequestContext, referenced: ReferencedCondition): Promise<string[]> {
  const scope = { tenantId: ctx.tenant.id, resourceType: referenced.resourceType };
  return matchingIds(ctx.store, scope, await resolveReferenced(ctx, referenced.where));
}
