/**
 * Keeping `search_tokens` in step with the current versions a commit writes (DESIGN.md section 3): tokens follow
 * the current version only. Most new versions index exactly as the one before (a synced appointment whose status
 * or time changed keeps its patient, practitioner, location and types), so a commit reads the written resources'
 * stored tokens and rewrites only the resources whose tokens differ, where deleting and re-inserting every token
 * cost a 1 % sync pass over 100,000 appointments 10,000 deletes and 10,000 inserts into three indexes for nothing.
 */
import { VALUES_PER_IN_LIST, chunk, rowsPerInsert } from './batching.js';
import type { StoreTransaction } from './database.js';
import type { SearchTokensTable } from './schema.js';

/** The tokens one commit gives one resource: all of them (none for a deleted version). */
export interface ResourceTokens {
  resourceType: string;
  id: string;
  tokens: ReadonlyArray<{ param: string; value: string }>;
}

/**
 * Makes the stored tokens of each of `resources` exactly its `tokens`: a resource whose stored tokens are already
 * those is left alone; the others lose their old tokens and get the new ones. Each resource appears once.
 */
export async function replaceSearchTokens(
  trx: StoreTransaction,
  tenantId: string,
  resources: readonly ResourceTokens[],
): Promise<void> {
  const stored = await storedTokens(trx, tenantId, resources);
  const changed = resources.filter((r) => !sameTokens(stored.get(keyOf(r.resourceType, r.id)), r.tokens));
  // Only the changed resources that have stored tokens have any to delete.
  for (const [resourceType, ids] of idsByType(
    changed.filter((r) => stored.has(keyOf(r.resourceType, r.id))),
  )) {
    for (const part of chunk(ids, VALUES_PER_IN_LIST)) {
      await trx
        .deleteFrom('search_tokens')
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('resource_id', 'in', part)
        .execute();
    }
  }
  const rows: SearchTokensTable[] = changed.flatMap(({ resourceType, id, tokens }) =>
    tokens.map(({ param, value }) => ({
      tenant_id: tenantId,
      resource_type: resourceType,
      resource_id: id,
      param,
      value,
    })),
  );
  for (const part of chunk(rows, rowsPerInsert(5)))
    await trx.insertInto('search_tokens').values(part).execute();
}

/** The stored tokens of `resources` as {@link tokenKey}s, by resource; a resource without tokens is absent. */
async function storedTokens(
  trx: StoreTransaction,
  tenantId: string,
  resources: readonly ResourceTokens[],
): Promise<Map<string, Set<string>>> {
  const stored = new Map<string, Set<string>>();
  for (const [resourceType, ids] of idsByType(resources)) {
    for (const part of chunk(ids, VALUES_PER_IN_LIST)) {
      const rows = await trx
        .selectFrom('search_tokens')
        .select(['resource_id', 'param', 'value'])
        .where('tenant_id', '=', tenantId)
        .where('resource_type', '=', resourceType)
        .where('resource_id', 'in', part)
        .execute();
      for (const row of rows) {
        const key = keyOf(resourceType, row.resource_id);
        let tokens = stored.get(key);
        if (!tokens) stored.set(key, (tokens = new Set()));
        tokens.add(tokenKey(row.param, row.value));
      }
    }
  }
  return stored;
}

/** The ids of `resources`, by resource type. */
function idsByType(resources: readonly ResourceTokens[]): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  for (const { resourceType, id } of resources) {
    const ids = byType.get(resourceType) ?? [];
    ids.push(id);
    byType.set(resourceType, ids);
  }
  return byType;
}

function sameTokens(
  stored: ReadonlySet<string> | undefined,
  tokens: ReadonlyArray<{ param: string; value: string }>,
): boolean {
  const wanted = new Set(tokens.map((t) => tokenKey(t.param, t.value)));
  if ((stored?.size ?? 0) !== wanted.size) return false;
  for (const token of wanted) if (!stored?.has(token)) return false;
  return true;
}

/** One key per (param, value), unambiguous whatever either holds: the param's length comes first. */
const tokenKey = (param: string, value: string) => `${param.length}:${param}${value}`;
const keyOf = (resourceType: string, id: string) => `${resourceType}/${id}`;
