/**
 * Resolving {@link ReferencedCondition}s for sources that match in memory: each becomes the list of ids of the
 * referenced rows it matches, found by the same SQL the store search embeds as a subquery, so a computed Slot and
 * a stored one answer `practitioner=` identically.
 */
import { sql } from 'kysely';
import type { FhirRequestContext } from '../access.js';
import { conditionSql } from './condition-sql.js';
import { leavesOf, replaceLeaves, type Condition, type ReferencedCondition } from './search-condition.js';

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
  const where = conditionSql(await resolveReferenced(ctx, referenced.where), scope);
  const result = await sql<{
    id: string;
  }>`${where.with}select r.id from resources r where r.tenant_id = ${scope.tenantId} and r.resource_type = ${scope.resourceType} and r.deleted = 0 and ${where.where} order by r.id`.execute(
    ctx.store.db,
  );
  return result.rows.map((row) => row.id);
}
